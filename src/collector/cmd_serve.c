/* cmd_serve.c — `sluice serve`: the HTTP collector for an app spec (see server.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "bus/log.h"
#include "cmd.h"
#include "collector/auth.h"
#include "collector/opts.h"
#include "collector/server.h"
#include "common/cli.h"
#include "spec/spec.h"

static const char *const serve_help =
    "Usage: sluice serve --app FILE [options]\n"
    "\n"
    "Runs the HTTP collector for an app spec: each route of the spec turns a request into\n"
    "a JSON event stored in the log; the answer comes only after the event is stored.\n"
    "\n"
    "Options:\n"
    "  --app FILE          app spec (YAML), e.g. apps/game.yaml (required)\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:5000; [::1]:5000 for IPv6)\n"
    "  --threads N         event loops, one per thread (default: one per CPU)\n"
    "  --data-dir DIR      data directory (default ./sluice-data)\n"
    "  --fsync MODE        always | never | interval[=MS] (default interval=1000)\n"
    "  --max-body SIZE     largest request body (default 1MiB; larger: 413)\n"
    "  --max-events N      events per POST /events request (default 10000; more: 413)\n"
    "  --max-event-size SIZE  largest single event (default 1MiB; larger: 413)\n"
    "  --max-headers N     request headers (default 64; more: 431)\n"
    "  --max-header-size SIZE  total header bytes (default 16KiB; more: 431)\n"
    "  --timeout DURATION  a whole request must arrive within this, from the accept or\n"
    "                      the previous answer, else 408 (default 10s)\n"
    "  --access-log FILE   one line per request to FILE, or - for stdout\n"
    "  --write-key KEY     require a write key on ingestion (repeatable): Authorization:\n"
    "                      Basic base64(KEY:) or Bearer KEY; else 401\n"
    "  --write-keys-file F write keys, one a line ('#' comments); prefer it or\n"
    "                      SLUICE_WRITE_KEY to --write-key (argv is visible in ps)\n"
    "  --admin-token TOK   token for /metrics from non-loopback peers (Bearer TOK);\n"
    "                      required when --listen is beyond loopback\n"
    BUS_HELP_OPTIONS
    "  --kafka-key FIELD   event field whose value keys each Kafka message (default\n"
    "                      event_id; e.g. user_id keeps a user's events in order)\n"
    "  --help              this text\n"
    "\n"
    "Collector paths (no app route may use them): GET /healthz, GET /metrics (Prometheus),\n"
    "POST /events (JSON object, array or NDJSON with an event_type each), /_sluice/*.\n"
    "Every option can also be set as SLUICE_<OPTION>, e.g. SLUICE_FSYNC=always.\n";

/* the write keys and admin token (auth.h), set once per run; a global keeps it reachable
 * for LeakSanitizer until exit (a function-local static store can be optimised away) */
coll_auth *coll_serve_auth;

static const struct option serve_opts[] = {
    {"app", required_argument, NULL, 'a'},
    {"listen", required_argument, NULL, 'l'},
    {"threads", required_argument, NULL, 't'},
    {"data-dir", required_argument, NULL, 'd'},
    {"fsync", required_argument, NULL, 'f'},
    {"max-body", required_argument, NULL, 'b'},
    {"max-events", required_argument, NULL, 'E'},
    {"max-event-size", required_argument, NULL, 'S'},
    {"max-headers", required_argument, NULL, 'H'},
    {"max-header-size", required_argument, NULL, 'Z'},
    {"timeout", required_argument, NULL, 'T'},
    {"access-log", required_argument, NULL, 'L'},
    {"write-key", required_argument, NULL, 'K'},
    {"write-keys-file", required_argument, NULL, 'F'},
    {"admin-token", required_argument, NULL, 'O'},
    {"bus", required_argument, NULL, 'B'},
    {"kafka-opt", required_argument, NULL, 'k'},
    {"kafka-key", required_argument, NULL, 'y'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --bus and friends (bus.h); a global, so its strings stay reachable after an early return */
static bus_spec serve_bus;

int cmd_serve(int argc, char **argv)
{
    const char *cmd = "serve";
    coll_config cfg;
    coll_config_init(&cfg);
    log_opts lopts;
    log_opts_init(&lopts);
    const char *app_path = NULL, *data_flag = NULL, *access_path = NULL;
    const char *fsync_s = "interval=1000";
    char host[256] = "127.0.0.1";
    sl_err err;
    sl_err_clear(&err);
    /* access control (auth.h); lives until exit */
    coll_auth *auth = coll_serve_auth = coll_auth_create();
    if (!auth) {
        fprintf(stderr, "sluice serve: out of memory\n");
        return 1;
    }

    bus_spec_init(&serve_bus);
    argv = cli_env_args(&argc, argv, serve_opts);
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":h", serve_opts, NULL)) != -1) {
        switch (c) {
        case 'a': app_path = optarg; break;
        case 'l':
            if (cli_parse_addr(optarg, host, sizeof host, &cfg.port) < 0)
                return cli_usage_error(cmd, "--listen: expected HOST:PORT, got '%s'", optarg);
            break;
        case 't':
            if (cli_parse_u64(optarg, 1, 256, &v) < 0)
                return cli_usage_error(cmd, "--threads: expected 1..256, got '%s'", optarg);
            cfg.threads = (unsigned)v;
            break;
        case 'd': data_flag = optarg; break;
        case 'f': fsync_s = optarg; break;
        case 'b':
            if (cli_parse_size(optarg, &v) < 0 || v == 0 || v > ((uint64_t)1 << 30))
                return cli_usage_error(cmd, "--max-body: expected a size up to 1GiB, got '%s'", optarg);
            cfg.max_body = v;
            break;
        case 'E':
            if (cli_parse_u64(optarg, 1, 1000000, &v) < 0)
                return cli_usage_error(cmd, "--max-events: expected 1..1000000, got '%s'", optarg);
            cfg.limits.max_events = (size_t)v;
            break;
        case 'S':
            if (cli_parse_size(optarg, &v) < 0 || v < 64 || v > ((uint64_t)64 << 20))
                return cli_usage_error(cmd, "--max-event-size: expected 64..64MiB, got '%s'", optarg);
            cfg.limits.max_event_bytes = (size_t)v;
            break;
        case 'H':
            if (cli_parse_u64(optarg, 1, 100, &v) < 0)
                return cli_usage_error(cmd, "--max-headers: expected 1..100, got '%s'", optarg);
            cfg.max_headers = (unsigned)v;
            break;
        case 'Z':
            if (cli_parse_size(optarg, &v) < 0 || v < 256 || v > ((uint64_t)256 << 10))
                return cli_usage_error(cmd, "--max-header-size: expected 256..256KiB, got '%s'", optarg);
            cfg.max_header_bytes = v;
            break;
        case 'T':
            if (cli_parse_duration_ms(optarg, 1000, &v) < 0 || v == 0)
                return cli_usage_error(cmd, "--timeout: expected a duration like 10s, got '%s'", optarg);
            cfg.timeout_ms = v;
            break;
        case 'L': access_path = optarg; break;
        case 'K': case 'F': case 'O': case 'B': case 'k': case 'y':
            if (coll_opt_apply(c, optarg, auth, &serve_bus, &err) < 0)
                return cli_usage_error(cmd, "%s", err.msg);
            break;
        case 'h': fputs(serve_help, stdout); return 0;
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
    if (!coll_auth_host_is_loopback(host) && !coll_auth_has_token(auth))
        return cli_usage_error(cmd, "--listen %s is beyond loopback: /metrics then needs "
                                    "--admin-token (or SLUICE_ADMIN_TOKEN)", host);
    cfg.host = host;
    cfg.auth = auth;
    if (cfg.limits.max_event_bytes > lopts.max_record_bytes)
        lopts.max_record_bytes = (uint32_t)cfg.limits.max_event_bytes;

    spec_app *app = NULL;
    int rc = spec_load(app_path, &app, &err);
    if (rc < 0) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    const char *data_dir = cli_data_dir(data_flag);
    FILE *alog = NULL;
    log_topic *topic = NULL;
    bus_producer *kafka = NULL;
    int status = 1;
    if (access_path) {
        if (!strcmp(access_path, "-")) {
            alog = stdout;
        } else if (!(alog = fopen(access_path, "a"))) {
            fprintf(stderr, "sluice serve: cannot open access log %s: %s\n", access_path,
                    strerror(errno));
            goto out;
        }
        setvbuf(alog, NULL, _IOLBF, 0);
        cfg.access_log = alog;
    }
    if (serve_bus.kind == BUS_KAFKA) {
        if (bus_producer_new(&serve_bus, &kafka, &err) < 0) {
            fprintf(stderr, "sluice serve: %s\n", err.msg);
            goto out;
        }
        cfg.kafka = kafka;
    } else if (log_topic_open(data_dir, app->topic ? app->topic : "events", LOG_OPEN_WRITE,
                              &lopts, &topic, &err) < 0) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        goto out;
    }
    char fsync_desc[48];
    if (lopts.fsync_mode == LOG_FSYNC_ALWAYS)
        snprintf(fsync_desc, sizeof fsync_desc, "always");
    else if (lopts.fsync_mode == LOG_FSYNC_NEVER)
        snprintf(fsync_desc, sizeof fsync_desc, "never");
    else
        snprintf(fsync_desc, sizeof fsync_desc, "interval=%ums", lopts.fsync_interval_ms);

    /* printed by the server once every socket is bound, so it never lies */
    char banner[1024];
    snprintf(banner, sizeof banner,
             "sluice serve: listening on http://%s%s%s:%u (app %s from %s, %zu routes), "
             "data dir %s, topic %s, fsync %s, %u threads",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", cfg.port,
             app->name ? app->name : "?", app_path, app->nroutes, data_dir,
             app->topic ? app->topic : "events", fsync_desc, cfg.threads);
    if (kafka)
        snprintf(banner, sizeof banner,
                 "sluice serve: listening on http://%s%s%s:%u (app %s from %s, %zu routes), "
                 "bus kafka://%s/%s (key %s), %u threads",
                 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", cfg.port,
                 app->name ? app->name : "?", app_path, app->nroutes, serve_bus.brokers,
                 serve_bus.topic, serve_bus.key_field, cfg.threads);
    cfg.banner = banner;
    rc = coll_server_run(&cfg, app, topic, &err);
    if (rc < 0) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        goto out;
    }
    status = 0;
out:
    bus_producer_destroy(kafka);  /* waits up to 10 s for reports still due */
    log_topic_close(topic);
    if (alog && alog != stdout)
        fclose(alog);
    spec_free(app);
    return status;
}
