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
    "  --app FILE            app spec (YAML), e.g. apps/game.yaml (required)\n"
    "  --data-dir DIR        data directory (default ./sluice-data)\n"
    "  --fsync MODE          always | never | interval[=MS] (default interval=1000)\n"
    COLL_HELP_OPTIONS
    "  --admin-token TOK     token for /metrics from non-loopback peers (Bearer TOK);\n"
    "                        required when --listen is beyond loopback\n"
    "  --help                this text\n"
    "\n"
    "Collector paths (no app route may use them): GET /healthz, GET /metrics (Prometheus),\n"
    "POST /events (JSON object, array or NDJSON with an event_type each), /_sluice/*.\n"
    "SIGTERM or SIGINT drains: new connections are refused, idle ones closed, requests\n"
    "under way finished and answered for up to 10 s; then the process exits 0.\n"
    "Every option can also be set as SLUICE_<OPTION>, e.g. SLUICE_FSYNC=always.\n";

/* the write keys and admin token (auth.h), set once per run; a global keeps it reachable
 * for LeakSanitizer until exit (a function-local static store can be optimised away) */
coll_auth *coll_serve_auth;

static const struct option serve_opts[] = {
    {"app", required_argument, NULL, 'a'},
    {"data-dir", required_argument, NULL, 'd'},
    {"fsync", required_argument, NULL, 'f'},
    COLL_OPTIONS,
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
    const char *app_path = NULL, *data_flag = NULL;
    const char *fsync_s = "interval=1000";
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
    coll_opts o;
    coll_opts_init(&o, &cfg, auth, &serve_bus);
    int c;
    while ((c = getopt_long(argc, argv, ":h", serve_opts, NULL)) != -1) {
        int applied = coll_opt_apply(&o, c, optarg, &err);
        if (applied < 0)
            return cli_usage_error(cmd, "%s", err.msg);
        if (applied)
            continue;
        switch (c) {
        case 'a': app_path = optarg; break;
        case 'd': data_flag = optarg; break;
        case 'f': fsync_s = optarg; break;
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
    if (coll_opts_check(&o, &err) < 0)
        return cli_usage_error(cmd, "%s", err.msg);
    const char *host = cfg.host;
    if (cfg.limits.max_event_bytes > lopts.max_record_bytes)
        lopts.max_record_bytes = (uint32_t)cfg.limits.max_event_bytes;

    spec_app *app = NULL;
    int rc = spec_load(app_path, &app, &err);
    if (rc < 0) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    const char *data_dir = cli_data_dir(data_flag);
    log_topic *topic = NULL;
    bus_producer *kafka = NULL;
    int status = 1;
    if (coll_opts_open_access_log(&o, &err) < 0) {
        fprintf(stderr, "sluice serve: %s\n", err.msg);
        goto out;
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
    coll_opts_close_access_log(&o);
    spec_free(app);
    return status;
}
