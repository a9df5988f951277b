/* cmd_up.c — `sluice up`: the whole pipeline in one process.
 *
 *   main thread     the collector (coll_server_run), which owns the topic's one writer
 *                   handle and takes SIGINT/SIGTERM with sigwait()
 *   stream thread   stream_run() in continuous mode, reading the topic through its own
 *                   reader handle, exactly as `sluice stream` in another process would
 *   admin thread    the dashboard and its JSON API (admin/admin.h), observing only
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts, so every thread
 * inherits the mask and the collector's sigwait() is the one place they arrive. A part
 * that fails on its own thread (the stream) raises SIGTERM to bring the whole process
 * down the same orderly way.
 *
 * Clean shutdown, in this order:
 *   1. the collector stops accepting, answers everything in flight, returns;
 *   2. the topic's writer handle is closed, which flushes (and syncs) the log;
 *   3. the stream is told to stop after its current batch and joined;
 *   4. one last `--once` pass of the same stream job commits what the log holds beyond
 *      the checkpoint (the "last micro-batch"), so a clean stop leaves lag 0;
 *   5. the admin server stops.
 * Starting again resumes: the log appends after its last record, the stream continues
 * from its checkpoint, and a batch cut short by a crash is replayed under the same names.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/batches.h"
#include "bus/bus.h"
#include "bus/log.h"
#include "cmd.h"
#include "collector/auth.h"
#include "collector/opts.h"
#include "collector/server.h"
#include "common/cli.h"
#include "spec/spec.h"
#include "stream/stream.h"

static const char *const up_help =
    "Usage: sluice up --app FILE [options]\n"
    "\n"
    "Runs the whole pipeline in one process: the HTTP collector for the app spec, the\n"
    "embedded log, the stream that turns the log into Parquet tables, and a live dashboard\n"
    "with a SQL console on the admin address. Ctrl-C (or SIGTERM) stops cleanly: requests\n"
    "in flight are answered, the log is flushed and the last micro-batch is committed.\n"
    "Starting again resumes where it stopped.\n"
    "\n"
    "Options:\n"
    "  --app FILE            app spec (YAML), e.g. apps/game.yaml (required)\n"
    "  --admin ADDR:PORT     dashboard address (default 127.0.0.1:8089; 'off': none)\n"
    "  --data-dir DIR        data directory (default ./sluice-data)\n"
    "  --fsync MODE          always | never | interval[=MS] (default interval=1000)\n"
    "  --trigger DURATION    one micro-batch per interval (default 1s)\n"
    "  --stream-threads N    threads that encode the stream's files (default: one per\n"
    "                        core, at most 4)\n"
    "  --sql-timeout DUR     statement timeout of the dashboard's SQL console (default 10s)\n"
    "  --sql-max-rows N      rows the console shows at most (default 1000)\n"
    COLL_HELP_OPTIONS
    "  --admin-token TOK     token for the dashboard, its SQL API and the collector's\n"
    "                        /metrics from other hosts (Bearer TOK, or Basic with TOK as\n"
    "                        password); required when --admin or --listen is beyond loopback\n"
    "  --quiet               no per-batch stream lines on stderr\n"
    "  --help                this text\n"
    "\n"
    "With --bus kafka the collector produces to Kafka and the stream consumes it (the\n"
    "dashboard's live log panels then stay empty; tables and the console work).\n"
    "Every option can also be set as SLUICE_<OPTION>, e.g. SLUICE_DATA_DIR=/srv/sluice.\n"
    "Query the tables meanwhile with: sluice sql --data-dir DIR\n";

/* write keys and admin token (collector/auth.h), set once per run; a global keeps it
 * reachable for LeakSanitizer until exit */
coll_auth *up_auth;
/* --bus and friends (bus.h); a global, so its strings stay reachable after an early return */
static bus_spec up_bus;

static const struct option up_opts[] = {
    {"app", required_argument, NULL, 'a'},
    {"admin", required_argument, NULL, 'A'},
    {"data-dir", required_argument, NULL, 'd'},
    {"fsync", required_argument, NULL, 'f'},
    {"trigger", required_argument, NULL, 't'},
    {"stream-threads", required_argument, NULL, 'S'},
    {"sql-timeout", required_argument, NULL, 'Q'},
    {"sql-max-rows", required_argument, NULL, 'R'},
    {"quiet", no_argument, NULL, 'q'},
    COLL_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ---------------------------------------------------------------- the stream's log */

/* The stream writes its batch lines to a FILE made with fopencookie(): each complete line
 * goes to the dashboard's batch ring and, unless --quiet, to stderr. Written by one
 * thread at a time (the stream thread, then the final pass on the main thread). */
typedef struct stream_tee {
    admin_batches *batches;
    bool           quiet;
    char           line[2048];
    size_t         len;
} stream_tee;

static void tee_line(stream_tee *t)
{
    admin_batches_feed(t->batches, t->line, t->len);
    if (!t->quiet) {
        fwrite(t->line, 1, t->len, stderr);
        fputc('\n', stderr);
    }
    t->len = 0;
}

static ssize_t tee_write(void *cookie, const char *buf, size_t size)
{
    stream_tee *t = cookie;
    for (size_t i = 0; i < size; i++) {
        if (buf[i] == '\n') {
            tee_line(t);
            continue;
        }
        if (t->len == sizeof t->line)  /* an over-long line is passed on in pieces */
            tee_line(t);
        t->line[t->len++] = buf[i];
    }
    return (ssize_t)size;
}

static int tee_close(void *cookie)
{
    stream_tee *t = cookie;
    if (t->len)
        tee_line(t);
    return 0;
}

/* ---------------------------------------------------------------- the stream thread */

typedef struct stream_job {
    const spec_app *app;
    stream_opts     opts;
    stream_stats    stats;
    sl_err          err;
    int             rc;
    volatile sig_atomic_t stop;
} stream_job;

/* A full disk (or quota) is a state that ends, not a failure: the collector keeps
 * answering (503 while its own appends fail), so the stream waits and resumes from its
 * checkpoint instead of taking the whole process down. The stream marks such errors
 * retriable (its writer classifies DuckDB's disk-full messages). */
static bool stream_error_transient(const sl_err *e)
{
    return e->retriable;
}

static void *stream_main(void *arg)
{
    stream_job *j = arg;
    uint64_t backoff_ms = 500;
    for (;;) {
        stream_stats st;
        memset(&st, 0, sizeof st);
        sl_err_clear(&j->err);
        j->rc = stream_run(j->app, &j->opts, &st, &j->err);
        j->stats.events += st.events;
        j->stats.batches += st.batches;
        j->stats.rows += st.rows;
        j->stats.rejected += st.rejected;
        if (j->rc >= 0 || j->stop || !stream_error_transient(&j->err))
            break;
        fprintf(stderr, "sluice up: stream: %s; retrying in %llu ms\n", j->err.msg,
                (unsigned long long)backoff_ms);
        for (uint64_t waited = 0; waited < backoff_ms && !j->stop; waited += 100)
            usleep(100 * 1000);
        if (j->stop) {
            j->rc = 0;  /* stopping anyway: the final pass retries once more */
            break;
        }
        backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
    }
    if (j->rc < 0) {
        fprintf(stderr, "sluice up: stream: %s\n", j->err.msg);
        fprintf(stderr, "sluice up: stopping (the stream failed)\n");
        kill(getpid(), SIGTERM);  /* the collector's sigwait() takes it: orderly stop */
    }
    return NULL;
}

static void fsync_desc(const log_opts *o, char *out, size_t cap)
{
    if (o->fsync_mode == LOG_FSYNC_ALWAYS)
        snprintf(out, cap, "always");
    else if (o->fsync_mode == LOG_FSYNC_NEVER)
        snprintf(out, cap, "never");
    else
        snprintf(out, cap, "interval=%ums", o->fsync_interval_ms);
}

static const char *bracket(const char *host, bool open)
{
    return strchr(host, ':') ? (open ? "[" : "]") : "";
}

int cmd_up(int argc, char **argv)
{
    const char *cmd = "up";
    coll_config ccfg;
    coll_config_init(&ccfg);
    admin_config acfg;
    admin_config_init(&acfg);
    log_opts lopts;
    log_opts_init(&lopts);
    stream_job job;
    memset(&job, 0, sizeof job);
    stream_opts_init(&job.opts);
    bus_spec_init(&up_bus);
    const char *app_path = NULL, *data_flag = NULL;
    const char *fsync_s = "interval=1000";
    char ahost[256] = "127.0.0.1";
    bool admin_on = true, quiet = false;
    uint64_t v;
    sl_err err;
    sl_err_clear(&err);
    coll_auth *auth = up_auth = coll_auth_create();
    if (!auth) {
        fprintf(stderr, "sluice up: out of memory\n");
        return 1;
    }

    argv = cli_env_args(&argc, argv, up_opts);
    optind = 1;
    opterr = 0;
    coll_opts o;
    coll_opts_init(&o, &ccfg, auth, &up_bus);
    const char *chost = o.host;
    int c;
    while ((c = getopt_long(argc, argv, ":h", up_opts, NULL)) != -1) {
        int applied = coll_opt_apply(&o, c, optarg, &err);
        if (applied < 0)
            return cli_usage_error(cmd, "%s", err.msg);
        if (applied)
            continue;
        switch (c) {
        case 'a': app_path = optarg; break;
        case 'A':
            if (!strcmp(optarg, "off")) {
                admin_on = false;
            } else if (cli_parse_addr(optarg, ahost, sizeof ahost, &acfg.port) < 0) {
                return cli_usage_error(cmd, "--admin: expected HOST:PORT or off, got '%s'",
                                       optarg);
            } else {
                admin_on = true;
            }
            break;
        case 'd': data_flag = optarg; break;
        case 'f': fsync_s = optarg; break;
        case 't':
            if (cli_parse_duration_ms(optarg, 1000, &v) < 0 || v == 0 || v > 86400000)
                return cli_usage_error(cmd, "--trigger: expected a duration like 1s or 500ms, "
                                            "got '%s'", optarg);
            job.opts.trigger_ms = v;
            break;
        case 'S':
            if (cli_parse_u64(optarg, 1, 16, &v) < 0)
                return cli_usage_error(cmd, "--stream-threads: expected 1..16, got '%s'",
                                       optarg);
            job.opts.lanes = (int)v;
            break;
        case 'Q':
            if (cli_parse_duration_ms(optarg, 1000, &v) < 0 || v == 0)
                return cli_usage_error(cmd, "--sql-timeout: expected a duration like 10s, "
                                            "got '%s'", optarg);
            acfg.sql_timeout_ms = v;
            break;
        case 'R':
            if (cli_parse_u64(optarg, 1, 1000000, &v) < 0)
                return cli_usage_error(cmd, "--sql-max-rows: expected 1..1000000, got '%s'",
                                       optarg);
            acfg.sql_max_rows = v;
            break;
        case 'q': quiet = true; break;
        case 'h': fputs(up_help, stdout); return 0;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!app_path)
        return cli_usage_error(cmd, "--app FILE is required (e.g. --app apps/game.yaml)");
    if (log_parse_fsync(fsync_s, &lopts, &err) < 0)
        return cli_usage_error(cmd, "--fsync: %s", err.msg);
    if (admin_on && ccfg.port == acfg.port && !strcmp(chost, ahost))
        return cli_usage_error(cmd, "--admin must differ from --listen (%s:%u)", chost,
                               ccfg.port);
    if (!coll_auth_has_token(auth) && admin_on && !coll_auth_host_is_loopback(ahost))
        return cli_usage_error(cmd, "--admin %s is beyond loopback: the dashboard and its SQL "
                                    "API then need --admin-token (or SLUICE_ADMIN_TOKEN)", ahost);
    if (coll_opts_check(&o, &err) < 0)
        return cli_usage_error(cmd, "%s", err.msg);
    acfg.host = ahost;
    acfg.auth = auth;

    spec_app *app = NULL;
    int rc = spec_load(app_path, &app, &err);
    if (rc < 0) {
        fprintf(stderr, "sluice up: %s\n", err.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    const char *data_dir = cli_data_dir(data_flag);
    const char *topic_name = app->topic ? app->topic : "events";
    int status = 1;
    FILE *slog = NULL;
    log_topic *topic = NULL;
    bus_producer *kafka = NULL;
    const bool on_kafka = up_bus.kind == BUS_KAFKA;
    admin_batches *batches = NULL;
    admin_server *admin = NULL;
    bool stream_started = false;
    pthread_t stream_tid;
    stream_tee tee = {.quiet = quiet};
    sigset_t sigs, oldsigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* before any thread exists: every thread inherits the mask (see the top) */
    pthread_sigmask(SIG_BLOCK, &sigs, &oldsigs);
    signal(SIGPIPE, SIG_IGN);

    if (coll_opts_open_access_log(&o, &err) < 0) {
        fprintf(stderr, "sluice up: %s\n", err.msg);
        goto out;
    }
    if (on_kafka) {
        /* Kafka stores the events; the stream consumes them as a group member */
        if (bus_producer_new(&up_bus, &kafka, &err) < 0) {
            fprintf(stderr, "sluice up: %s\n", err.msg);
            goto out;
        }
        ccfg.kafka = kafka;
        job.opts.bus = &up_bus;
    } else if (log_topic_open(data_dir, topic_name, LOG_OPEN_WRITE, &lopts, &topic, &err) < 0) {
        /* the collector's process owns the topic: this is its one writer handle */
        fprintf(stderr, "sluice up: %s\n", err.msg);
        goto out;
    }
    if (!(batches = admin_batches_create())) {
        fprintf(stderr, "sluice up: out of memory\n");
        goto out;
    }
    tee.batches = batches;
    cookie_io_functions_t io = {.write = tee_write, .close = tee_close};
    if (!(slog = fopencookie(&tee, "w", io))) {
        fprintf(stderr, "sluice up: cannot set up the stream log: %s\n", strerror(errno));
        goto out;
    }
    setvbuf(slog, NULL, _IOLBF, 0);

    if (admin_on) {
        acfg.data_dir = data_dir;
        acfg.app = app;
        acfg.stream_job = job.opts.job ? job.opts.job : "stream";
        acfg.collector_host = chost;
        acfg.collector_port = ccfg.port;
        acfg.batches = batches;
        if (admin_start(&acfg, &admin, &err) < 0) {
            fprintf(stderr, "sluice up: %s\n", err.msg);
            goto out;
        }
    }

    job.app = app;
    job.opts.data_dir = data_dir;
    job.opts.log = slog;
    job.opts.quiet = false;  /* the batch lines feed the dashboard; --quiet hides them */
    job.opts.stop = &job.stop;
    int e = pthread_create(&stream_tid, NULL, stream_main, &job);
    if (e != 0) {
        fprintf(stderr, "sluice up: cannot start the stream thread: %s\n", strerror(e));
        goto out;
    }
    stream_started = true;

    char fs[48], banner[2048];
    fsync_desc(&lopts, fs, sizeof fs);
    int bl = snprintf(banner, sizeof banner,
                      "sluice up: app %s (%s): %zu routes, %zu tables\n"
                      "  collector  http://%s%s%s:%u  (app routes, POST /events, /metrics)\n",
                      app->name ? app->name : "?", app_path, app->nroutes, app->ntables,
                      bracket(chost, true), chost, bracket(chost, false), ccfg.port);
    if (admin_on)
        bl += snprintf(banner + bl, sizeof banner - (size_t)bl,
                       "  dashboard  http://%s%s%s:%u/\n", bracket(ahost, true), ahost,
                       bracket(ahost, false), acfg.port);
    if (on_kafka)
        bl += snprintf(banner + bl, sizeof banner - (size_t)bl,
                       "  bus        kafka://%s/%s (key %s), consumer group sluice-%s\n",
                       up_bus.brokers, up_bus.topic, up_bus.key_field,
                       job.opts.job ? job.opts.job : "stream");
    snprintf(banner + bl, sizeof banner - (size_t)bl,
             "  data       %s  (%s%s%s%s%swarehouse/, catalog/, stream/%s%s)\n"
             "  stream     one micro-batch every %llu ms\n"
             "  query      sluice sql --data-dir %s\n"
             "Ctrl-C stops: requests in flight are answered, the last batch is committed.",
             data_dir, on_kafka ? "" : "log/", on_kafka ? "" : topic_name,
             on_kafka ? "" : ", fsync ", on_kafka ? "" : fs, on_kafka ? "" : "; ",
             job.opts.job ? job.opts.job : "stream",
             on_kafka ? "-p<P>.checkpoint" : ".checkpoint",
             (unsigned long long)job.opts.trigger_ms, data_dir);
    ccfg.banner = banner;

    rc = coll_server_run(&ccfg, app, topic, &err);
    if (rc < 0)
        fprintf(stderr, "sluice up: %s\n", err.msg);
    /* 2. flush the bus: everything acknowledged is now in the log, or delivered to Kafka */
    log_topic_close(topic);
    topic = NULL;
    bus_producer_destroy(kafka);
    kafka = NULL;
    /* 3. stop the continuous stream after its current batch */
    job.stop = 1;
    pthread_join(stream_tid, NULL);
    stream_started = false;
    /* 4. the last micro-batch: what the log holds beyond the checkpoint */
    if (job.rc == 0) {
        stream_opts last = job.opts;
        last.once = true;
        last.stop = NULL;
        stream_stats st2;
        sl_err e2;
        sl_err_clear(&e2);
        if (stream_run(app, &last, &st2, &e2) < 0) {
            fprintf(stderr, "sluice up: stream (last batch): %s\n", e2.msg);
            job.rc = -1;
        } else {
            job.stats.events += st2.events;
            job.stats.batches += st2.batches;
            job.stats.rows += st2.rows;
            job.stats.rejected += st2.rejected;
        }
    }
    if (rc == 0 && job.rc == 0) {
        fprintf(stderr,
                "sluice up: stopped cleanly; this run committed %llu events in %llu batches "
                "(%llu rows, %llu rejected)\n",
                (unsigned long long)job.stats.events, (unsigned long long)job.stats.batches,
                (unsigned long long)job.stats.rows, (unsigned long long)job.stats.rejected);
        status = 0;
    }
out:
    if (stream_started) {  /* only on a failure before the collector ran */
        job.stop = 1;
        pthread_join(stream_tid, NULL);
    }
    admin_stop(admin);
    if (slog)
        fclose(slog);
    admin_batches_destroy(batches);
    log_topic_close(topic);
    bus_producer_destroy(kafka);
    coll_opts_close_access_log(&o);
    spec_free(app);
    pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);
    return status;
}
