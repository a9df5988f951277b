/* cmd_bench.c — `sluice bench`: load generator driven by a scenario file.
 *
 * Reads the scenario (scenario.h), pre-formats one request per scenario line, builds the
 * plan (every slot of every line, shuffled or in file order), runs the engine
 * (client.h), prints the report (report.h) and, with --verify, waits until the events
 * the server accepted are rows in the warehouse (verify.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "common/buf.h"
#include "common/cli.h"
#include "loadgen/client.h"
#include "loadgen/report.h"
#include "loadgen/scenario.h"
#include "loadgen/verify.h"

#define CMD "bench"

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: sluice bench --scenario FILE [options]\n"
        "\n"
        "Sends the requests of a scenario file to an HTTP server as fast as it answers\n"
        "(closed loop) or at a fixed rate (open loop), and reports answers by status,\n"
        "requests per second, latency percentiles and errors by kind.\n"
        "\n"
        "Options:\n"
        "  -s, --scenario FILE     scenario: lines 'COUNT METHOD /path [Header: v | ...] [< body]'\n"
        "  -u, --url URL           server, http://host[:port] (default http://127.0.0.1:5000)\n"
        "  -c, --connections N     concurrent connections (default 64)\n"
        "  -t, --threads N         worker threads, one event loop each (default: CPU cores)\n"
        "      --keepalive         reuse connections (default)\n"
        "      --no-keepalive      one connection per request (like ab without -k)\n"
        "  -r, --rate N            open loop: N requests/s in all, latency from intended send\n"
        "                          time (default: closed loop, as fast as answers come)\n"
        "  -d, --duration TIME     repeat the scenario's mix for TIME (30s, 2m) instead of\n"
        "                          sending each request once\n"
        "      --order ORDER       shuffled (default) or sequential (file order)\n"
        "      --seed N            shuffle seed (default 1)\n"
        "      --timeout TIME      per request, connect included (default 5s)\n"
        "      --sched POLICY      batch: worker wake-ups never preempt a running thread\n"
        "                          (the server, on shared cores); normal: they may, for\n"
        "                          tighter latency on busy cores (default: batch in a\n"
        "                          closed loop, normal with --rate)\n"
        "      --json              print the summary as one JSON object\n"
        "      --verify            after sending, wait until every 2xx-acknowledged event is\n"
        "                          a row of the table, report first request -> last row time\n"
        "      --data-dir DIR      data directory read by --verify (default $SLUICE_DATA_DIR\n"
        "                          or " SLUICE_DEFAULT_DATA_DIR ")\n"
        "      --verify-table T    table counted by --verify (default events)\n"
        "      --verify-timeout T  give up waiting for rows after T (default 60s)\n"
        "      --no-progress       no progress line on a terminal\n"
        "  -h, --help              this help\n"
        "\n"
        "Every option can also be set as SLUICE_<OPTION> in the environment.\n"
        "Exit status: 0 run done (failed requests are counted, not fatal), 1 setup or\n"
        "--verify failure, 2 usage or scenario error (a scenario or body file that is\n"
        "missing, unreadable or wrong). Scenario format: docs/bench.md.\n");
}

enum {
    OPT_KEEPALIVE = 256, OPT_NO_KEEPALIVE, OPT_ORDER, OPT_SEED, OPT_TIMEOUT, OPT_JSON,
    OPT_VERIFY, OPT_DATA_DIR, OPT_VERIFY_TABLE, OPT_VERIFY_TIMEOUT, OPT_NO_PROGRESS,
    OPT_SCHED,
};

static const struct option long_opts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"url", required_argument, NULL, 'u'},
    {"connections", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"keepalive", no_argument, NULL, OPT_KEEPALIVE},
    {"no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE},
    {"rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 'd'},
    {"order", required_argument, NULL, OPT_ORDER},
    {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"sched", required_argument, NULL, OPT_SCHED},
    {"json", no_argument, NULL, OPT_JSON},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"verify-table", required_argument, NULL, OPT_VERIFY_TABLE},
    {"verify-timeout", required_argument, NULL, OPT_VERIFY_TIMEOUT},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct bench_url {
    char host[256];      /* for getaddrinfo, without brackets */
    char port[8];
    char host_hdr[300];  /* Host header value, as written in the URL */
} bench_url;

/* Accepts http://host[:port][/]. Returns 0 or -EINVAL with a message in why. */
static int parse_url(const char *url, bench_url *u, const char **why)
{
    const char *p = url;
    if (strncmp(p, "http://", 7)) {
        *why = strncmp(p, "https://", 8) ? "must start with http://" : "https is not supported";
        return -EINVAL;
    }
    p += 7;
    const char *end = p + strcspn(p, "/?#");
    if (*end && strcmp(end, "/")) {
        *why = "must not have a path (the scenario gives the paths)";
        return -EINVAL;
    }
    size_t auth_len = (size_t)(end - p);
    if (!auth_len || auth_len >= sizeof u->host_hdr) {
        *why = "has no host (or a host that is too long)";
        return -EINVAL;
    }
    memcpy(u->host_hdr, p, auth_len);
    u->host_hdr[auth_len] = '\0';
    const char *hs, *he, *port = NULL;
    if (*p == '[') {
        hs = p + 1;
        he = memchr(hs, ']', auth_len);
        if (!he) {
            *why = "has an unterminated [IPv6 address]";
            return -EINVAL;
        }
        if (he + 1 < end) {
            if (he[1] != ':') {
                *why = "has junk after the ]";
                return -EINVAL;
            }
            port = he + 2;
        }
    } else {
        hs = p;
        he = memchr(p, ':', auth_len);
        if (he)
            port = he + 1;
        else
            he = end;
    }
    if (he == hs || (size_t)(he - hs) >= sizeof u->host) {
        *why = "has no host";
        return -EINVAL;
    }
    memcpy(u->host, hs, (size_t)(he - hs));
    u->host[he - hs] = '\0';
    if (port) {
        size_t pl = (size_t)(end - port);
        unsigned long v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (port[i] < '0' || port[i] > '9')
                pl = 0;
            else
                v = v * 10 + (unsigned long)(port[i] - '0');
            if (v > 65535)
                pl = 0;
        }
        if (!pl || !v) {
            *why = "has a bad port (1..65535)";
            return -EINVAL;
        }
        snprintf(u->port, sizeof u->port, "%lu", v);
    } else {
        strcpy(u->port, "80");
    }
    return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void progress(void *arg, uint64_t answered, uint64_t errors, double elapsed)
{
    uint64_t total = *(const uint64_t *)arg;
    if (total)
        fprintf(stderr, "\r  %.0f s: %" PRIu64 " / %" PRIu64 " answered, %" PRIu64
                        " failed, %.0f req/s   ",
                elapsed, answered, total, errors, elapsed > 0 ? (double)answered / elapsed : 0);
    else
        fprintf(stderr, "\r  %.0f s: %" PRIu64 " answered, %" PRIu64 " failed, %.0f req/s   ",
                elapsed, answered, errors, elapsed > 0 ? (double)answered / elapsed : 0);
    fflush(stderr);
}

/* xorshift64*: a fast, seedable generator for the shuffle (not for anything secret). */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}


int cmd_bench(int argc, char **argv)
{
    char **args = cli_env_args(&argc, argv, long_opts);
    const char *scen_path = NULL, *url = "http://127.0.0.1:5000", *order = "shuffled";
    const char *data_dir_flag = NULL, *verify_table = "events", *sched = NULL;
    uint64_t conns = 64, threads = 0, seed = 1, timeout_ms = 5000, duration_ms = 0;
    uint64_t verify_timeout_ms = 60000;
    double rate = 0;
    bool keepalive = true, json = false, verify = false, show_progress = true;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, args, ":s:u:c:t:r:d:h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 's': scen_path = optarg; break;
        case 'u': url = optarg; break;
        case 'c':
            if (cli_parse_u64(optarg, 1, LG_MAX_CONNS, &conns))
                return cli_usage_error(CMD, "--connections must be 1..%u, not '%s'",
                                       LG_MAX_CONNS, optarg);
            break;
        case 't':
            if (cli_parse_u64(optarg, 1, LG_MAX_THREADS, &threads))
                return cli_usage_error(CMD, "--threads must be 1..%u, not '%s'", LG_MAX_THREADS,
                                       optarg);
            break;
        case 'r': {
            char *end;
            errno = 0;
            rate = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(rate > 0) || rate > LG_MAX_RATE)
                return cli_usage_error(CMD, "--rate must be a number of requests/s, more than 0 "
                                       "and at most %.0f, not '%s'", LG_MAX_RATE, optarg);
            break;
        }
        case 'd':
            if (cli_parse_duration_ms(optarg, 1000, &duration_ms) || !duration_ms)
                return cli_usage_error(CMD, "--duration must be a time > 0 (30s, 2m), not '%s'",
                                       optarg);
            break;
        case OPT_KEEPALIVE: keepalive = true; break;
        case OPT_NO_KEEPALIVE: keepalive = false; break;
        case OPT_ORDER:
            if (strcmp(optarg, "shuffled") && strcmp(optarg, "sequential"))
                return cli_usage_error(CMD, "--order is shuffled or sequential, not '%s'", optarg);
            order = optarg;
            break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &seed))
                return cli_usage_error(CMD, "--seed must be a whole number, not '%s'", optarg);
            break;
        case OPT_TIMEOUT:
            if (cli_parse_duration_ms(optarg, 1000, &timeout_ms) || !timeout_ms)
                return cli_usage_error(CMD, "--timeout must be a time > 0 (5s, 500ms), not '%s'",
                                       optarg);
            break;
        case OPT_SCHED:
            if (strcmp(optarg, "batch") && strcmp(optarg, "normal"))
                return cli_usage_error(CMD, "--sched is batch or normal, not '%s'", optarg);
            sched = optarg;
            break;
        case OPT_JSON: json = true; break;
        case OPT_VERIFY: verify = true; break;
        case OPT_DATA_DIR: data_dir_flag = optarg; break;
        case OPT_VERIFY_TABLE: verify_table = optarg; break;
        case OPT_VERIFY_TIMEOUT:
            if (cli_parse_duration_ms(optarg, 1000, &verify_timeout_ms) || !verify_timeout_ms)
                return cli_usage_error(CMD, "--verify-timeout must be a time > 0, not '%s'",
                                       optarg);
            break;
        case OPT_NO_PROGRESS: show_progress = false; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", args[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", args[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", args[optind]);
    if (!scen_path)
        return cli_usage_error(CMD, "--scenario FILE is required");
    if (verify && duration_ms)
        return cli_usage_error(CMD, "--verify needs a fixed-count run (no --duration)");
    bench_url u;
    const char *why;
    if (parse_url(url, &u, &why))
        return cli_usage_error(CMD, "--url '%s' %s", url, why);

    int rc = 1;
    sl_err err;
    sl_err_clear(&err);
    scenario *sc = NULL;
    sl_buf *bufs = NULL;
    lg_request *reqs = NULL;
    uint32_t *plan_order = NULL;
    struct addrinfo *ai = NULL;
    lg_stats st;
    bool have_stats = false;
    lg_verifier ver;
    memset(&ver, 0, sizeof ver);

    if (scen_read_file(scen_path, &sc, &err) != 0) {
        /* a scenario that cannot be read is a scenario error, as one that cannot be parsed */
        fprintf(stderr, "sluice bench: %s\n", err.msg);
        rc = err.code == -ENOMEM ? 1 : 2;
        goto done;
    }
    char *dir_copy = strdup(scen_path);
    if (!dir_copy) {
        fprintf(stderr, "sluice bench: out of memory\n");
        goto done;
    }
    int brc = scen_load_bodies(sc, dirname(dir_copy), &err);
    free(dir_copy);
    if (brc) {
        fprintf(stderr, "sluice bench: %s\n", err.msg);
        rc = 2;
        goto done;
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int gai = getaddrinfo(u.host, u.port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "sluice bench: cannot resolve %s: %s\n", u.host, gai_strerror(gai));
        goto done;
    }

    /* one pre-formatted request per scenario line */
    bufs = calloc(sc->n, sizeof *bufs);
    reqs = calloc(sc->n, sizeof *reqs);
    plan_order = malloc(sc->total * sizeof *plan_order);
    if (!bufs || !reqs || !plan_order) {
        fprintf(stderr, "sluice bench: out of memory for %" PRIu64 " requests\n", sc->total);
        goto done;
    }
    for (size_t i = 0; i < sc->n; i++) {
        sl_buf_init(&bufs[i], 2 * LG_SCEN_MAX_BODY);
        if (scen_format_request(&sc->v[i], u.host_hdr, keepalive, &bufs[i]) != 0) {
            fprintf(stderr, "sluice bench: %s:%d: request too large\n", sc->file, sc->v[i].line);
            goto done;
        }
        reqs[i].data = bufs[i].p;
        reqs[i].len = bufs[i].len;
        reqs[i].head = !strcmp(sc->v[i].method, "HEAD");
    }
    uint64_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        for (uint64_t j = 0; j < sc->v[i].count; j++)
            plan_order[k++] = (uint32_t)i;
    if (!strcmp(order, "shuffled")) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x5eed;
        if (!s)
            s = 1;
        for (uint64_t i = sc->total - 1; i > 0; i--) {
            uint64_t j = next_rand(&s) % (i + 1);
            uint32_t t = plan_order[i];
            plan_order[i] = plan_order[j];
            plan_order[j] = t;
        }
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (!threads)
        threads = ncpu > 0 ? (uint64_t)ncpu : 1;
    if (threads > conns)
        threads = conns;
    /* A closed loop measures how fast the server answers: our wake-ups should not take
     * its core away. An open loop must send on time, and a preempting wake-up does that. */
    if (!sched)
        sched = rate > 0 ? "normal" : "batch";

    lg_report_info info = {
        .scenario = scen_path, .url = url, .conns = (unsigned)conns, .threads = (unsigned)threads,
        .keepalive = keepalive, .rate = rate, .duration_ms = duration_ms, .order = order,
        .seed = seed, .sched = sched, .verify = verify, .verify_table = verify_table,
    };
    if (verify) {
        const char *data_dir = cli_data_dir(data_dir_flag);
        if (lg_verifier_open(&ver, data_dir, verify_table, &err) != 0 ||
            lg_verifier_count(&ver, &info.rows_before, &err) != 0) {
            fprintf(stderr, "sluice bench: --verify: %s\n", err.msg);
            rc = err.code == -EINVAL ? 2 : 1;
            goto done;
        }
    }

    lg_config cfg = {
        .addrlen = ai->ai_addrlen, .conns = (unsigned)conns, .threads = (unsigned)threads,
        .keepalive = keepalive, .rate = rate, .duration_ms = duration_ms, .timeout_ms = timeout_ms,
        .sched_batch = !strcmp(sched, "batch"),
    };
    memcpy(&cfg.addr, ai->ai_addr, ai->ai_addrlen);
    uint64_t total_for_progress = duration_ms ? 0 : sc->total;
    bool tty = show_progress && isatty(STDERR_FILENO);
    if (tty) {
        cfg.progress = progress;
        cfg.progress_arg = &total_for_progress;
    }
    lg_plan plan = {.reqs = reqs, .order = plan_order, .n = sc->total};

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rrc = lg_run(&cfg, &plan, &stop_flag, &st, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    have_stats = true;
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (rrc) {
        fprintf(stderr, "sluice bench: %s\n", err.msg);
        goto done;
    }

    rc = 0;
    if (verify) {
        info.rows_expected = info.rows_before + lg_stats_2xx(&st);
        uint64_t seen_ns = 0;
        if (stop_flag) {
            info.verify_error = "interrupted";
        } else if (lg_verifier_wait(&ver, info.rows_expected,
                                    lg_now_ns() + verify_timeout_ms * 1000000ull, 5,
                                    &info.rows_seen, &seen_ns, &err) == 0) {
            info.verify_ok = true;
            info.end_to_end_s = st.first_send_ns && seen_ns > st.first_send_ns
                                    ? (double)(seen_ns - st.first_send_ns) / 1e9 : 0;
        } else {
            info.verify_error = err.msg;
        }
        if (!info.verify_ok)
            rc = 1;
    }
    if (json)
        lg_report_json(stdout, &info, &st);
    else
        lg_report_text(stdout, &info, &st);
    if (fflush(stdout) != 0) {
        perror("sluice bench: stdout");
        rc = 1;
    }
    if (st.connect_no_fd) {
        struct rlimit rl;
        char now[32] = "?";
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            snprintf(now, sizeof now, "%llu", (unsigned long long)rl.rlim_cur);
        fprintf(stderr, "sluice bench: %" PRIu64 " connects failed for want of a file descriptor "
                        "(too many open files): raise the limit of open files (ulimit -n, now %s) "
                        "above --connections (%" PRIu64 "), or use fewer connections\n",
                st.connect_no_fd, now, conns);
    }
    if (stop_flag && !rc)
        rc = 1;   /* interrupted: the report is partial */

done:
    if (have_stats)
        lg_stats_free(&st);
    lg_verifier_close(&ver);
    if (ai)
        freeaddrinfo(ai);
    if (bufs)
        for (size_t i = 0; sc && i < sc->n; i++)
            sl_buf_free(&bufs[i]);
    free(bufs);
    free(reqs);
    free(plan_order);
    scen_free(sc);
    return rc;
}
