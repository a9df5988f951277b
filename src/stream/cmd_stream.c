/* cmd_stream.c — `sluice stream`: command line of the micro-batch job (stream.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "bus/bus.h"
#include "common/cli.h"
#include "spec/spec.h"
#include "stream/checkpoint.h"
#include "stream/stream.h"

static volatile sig_atomic_t stream_stop;

static void on_signal(int sig)
{
    (void)sig;
    stream_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sluice stream --app FILE [options]\n"
            "\n"
            "Reads the app's topic from the job's checkpoint, routes each event to the tables of\n"
            "the app spec, and writes them as Parquet under <data dir>/warehouse/<table>/dt=.../,\n"
            "exactly once. Events that cannot be parsed or typed go to the _rejected table.\n"
            "\n"
            "Options:\n"
            "  --app FILE             app spec (YAML) with the tables (required)\n"
            "  --data-dir DIR         data directory (default ./sluice-data)\n"
            "  --once                 process everything in the log now, then exit\n"
            "  --trigger DURATION     one micro-batch per interval (default 1s)\n"
            "  --max-batch N          events per batch; a full batch starts at once (default 100000)\n"
            "  --max-batch-bytes SIZE record bytes per batch (default 256MiB)\n"
            "  --compression C        snappy (default), zstd, gzip or uncompressed\n"
            "  --row-group-size N     Parquet rows per row group (default 122880)\n"
            "  --threads N            threads that encode a batch's files in parallel (default:\n"
            "                         one per core, at most 4)\n"
            "  --job NAME             checkpoint name under <data dir>/stream/ (default stream);\n"
            "                         with Kafka also the consumer group sluice-NAME\n"
            BUS_HELP_OPTIONS
            "  --quiet                no per-batch log lines\n"
            "  --help                 this text\n"
            "\n"
            "Every option can also be set as SLUICE_<OPTION> (SLUICE_DATA_DIR, SLUICE_TRIGGER...).\n"
            "SIGINT/SIGTERM finish the current batch, then exit 0.\n");
}

int cmd_stream(int argc, char **argv)
{
    static const struct option opts[] = {
        {"app", required_argument, NULL, 'a'},
        {"data-dir", required_argument, NULL, 'd'},
        {"once", no_argument, NULL, 'o'},
        {"trigger", required_argument, NULL, 't'},
        {"max-batch", required_argument, NULL, 'm'},
        {"max-batch-bytes", required_argument, NULL, 'B'},
        {"compression", required_argument, NULL, 'c'},
        {"row-group-size", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 'T'},
        {"job", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"bus", required_argument, NULL, 'U'},
        {"kafka-opt", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    argv = cli_env_args(&argc, argv, opts);
    stream_opts o;
    stream_opts_init(&o);
    o.log = stderr;
    const char *app_path = NULL, *data_flag = NULL;
    uint64_t v;
    bus_spec bus;
    bus_spec_init(&bus);
    const char *bus_url = NULL;
    sl_err err = {0};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'a': app_path = optarg; break;
        case 'd': data_flag = optarg; break;
        case 'o': o.once = true; break;
        case 'q': o.quiet = true; break;
        case 'U': bus_url = optarg; break;   /* parsed after the loop: nothing to free here */
        case 'K':
            /* kept by reference (argv outlives the run); allocates nothing */
            if (bus_spec_add_opt(&bus, optarg, &err) < 0)
                return cli_usage_error("stream", "%s", err.msg);
            break;
        case 'j':
            if (!stream_job_name_valid(optarg))
                return cli_usage_error("stream", "invalid --job '%s' (want [A-Za-z0-9._-]{1,100})",
                                       optarg);
            o.job = optarg;
            break;
        case 't':
            if (cli_parse_duration_ms(optarg, 1000, &v) < 0 || v == 0 || v > 86400000)
                return cli_usage_error("stream", "invalid --trigger '%s' (e.g. 1s, 500ms)", optarg);
            o.trigger_ms = v;
            break;
        case 'm':
            if (cli_parse_u64(optarg, 1, 10000000, &v) < 0)
                return cli_usage_error("stream", "invalid --max-batch '%s' (1..10000000)", optarg);
            o.max_batch = v;
            break;
        case 'B':
            if (cli_parse_size(optarg, &v) < 0 || v < 1024 || v > (8ULL << 30))
                return cli_usage_error("stream", "invalid --max-batch-bytes '%s' (1KiB..8GiB)",
                                       optarg);
            o.max_batch_bytes = v;
            break;
        case 'c':
            if (strcmp(optarg, "snappy") && strcmp(optarg, "zstd") && strcmp(optarg, "gzip") &&
                strcmp(optarg, "uncompressed"))
                return cli_usage_error("stream",
                                       "invalid --compression '%s' (snappy, zstd, gzip, uncompressed)",
                                       optarg);
            o.compression = optarg;
            break;
        case 'r':
            if (cli_parse_u64(optarg, 1024, 100000000, &v) < 0)
                return cli_usage_error("stream", "invalid --row-group-size '%s' (>= 1024)", optarg);
            o.row_group_size = v;
            break;
        case 'T':
            if (cli_parse_u64(optarg, 1, 16, &v) < 0)
                return cli_usage_error("stream", "invalid --threads '%s' (1..16)", optarg);
            o.lanes = (int)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return cli_usage_error("stream", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("stream", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("stream", "unexpected argument '%s'", argv[optind]);
    if (!app_path)
        return cli_usage_error("stream", "--app FILE is required");
    o.data_dir = cli_data_dir(data_flag);
    o.progress = o.once && isatty(STDERR_FILENO);

    if (bus_url && bus_spec_parse(&bus, bus_url, &err) < 0) {
        bus_spec_free(&bus);
        return cli_value_error("stream", bus_url, "%s", err.msg);
    }
    if (bus.kind == BUS_KAFKA) {
        o.bus = &bus;
    } else if (bus.nopts) {
        bus_spec_free(&bus);
        return cli_usage_error("stream", "--kafka-opt needs --bus kafka://HOST:PORT/TOPIC");
    }
    spec_app *app = NULL;
    int rc = spec_load(app_path, &app, &err);
    if (rc < 0) {
        bus_spec_free(&bus);
        fprintf(stderr, "sluice stream: %s\n", err.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stream_stop;

    stream_stats st;
    rc = stream_run(app, &o, &st, &err);
    spec_free(app);
    bus_spec_free(&bus);
    if (rc < 0) {
        fprintf(stderr, "sluice stream: %s\n", err.msg);
        return 1;
    }
    if (o.once && !o.quiet)
        fprintf(stderr,
                "stream: done: %llu events in %llu batches; %llu rows, %llu rejected, "
                "%llu files\n",
                (unsigned long long)st.events, (unsigned long long)st.batches,
                (unsigned long long)st.rows, (unsigned long long)st.rejected,
                (unsigned long long)st.files);
    return 0;
}
