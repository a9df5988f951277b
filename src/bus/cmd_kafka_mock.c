/* cmd_kafka_mock.c — `sluice kafka-mock`: librdkafka's mock cluster as a process, for tests
 * and trials without a real Kafka.
 *
 * The mock brokers speak the Kafka protocol over TCP on loopback (librdkafka 2.0.2 binds
 * them to 127.0.0.1 on ephemeral ports), keep topics in memory (a few MiB per partition:
 * keep volumes small), and support produce, fetch, consumer groups and idempotence.
 *
 * Control channel: one command per line on stdin, each answered with one line on stdout,
 * "ok" or "error: ..." (stdin a pipe, a fifo or a file; a terminal only while the mock is
 * the foreground job: `sluice kafka-mock > bootstrap.txt &` leaves the terminal alone):
 *   down BROKER              the broker stops answering (-1: all); no leader change
 *   up BROKER                it answers again
 *   rtt BROKER MS            delay its answers by MS milliseconds (0: none)
 *   errors API COUNT ERROR   the next COUNT requests of API (Produce, Fetch, Metadata,
 *                            OffsetCommit, JoinGroup, ... or a number) fail with ERROR
 *                            (a Kafka error name such as NOT_LEADER_FOR_PARTITION)
 *   leader TOPIC PART BROKER move a partition's leader
 *   topic NAME PARTS [REPL]  create a topic
 * End of stdin leaves the cluster running; SIGINT/SIGTERM stop it.
 */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cmd.h"
#include "common/cli.h"

static const char *const mock_help =
    "Usage: sluice kafka-mock [options]\n"
    "\n"
    "Starts librdkafka's mock Kafka cluster on loopback, creates a topic, prints the\n"
    "bootstrap servers (one line, e.g. 127.0.0.1:40001,127.0.0.1:40003) on stdout and runs\n"
    "until SIGINT/SIGTERM. For tests and trials: data is kept in memory only.\n"
    "\n"
    "Options:\n"
    "  --brokers N         brokers (default 3, at most 16)\n"
    "  --partitions N      partitions of the topic (default 4)\n"
    "  --replication N     replication factor (default: min(3, brokers))\n"
    "  --topic NAME        topic to create (default events)\n"
    "  --listen ADDR       only 127.0.0.1 (librdkafka 2.0.2's mock binds loopback)\n"
    "  --help              this text\n"
    "\n"
    "Fault injection: commands on stdin, one per line, answered \"ok\" or \"error: ...\"\n"
    "on stdout (a terminal is read only while the mock runs in the foreground, so\n"
    "`sluice kafka-mock > bootstrap.txt &` is not stopped by its shell):\n"
    "  down B | up B | rtt B MS | errors API COUNT ERROR | leader TOPIC PART B |\n"
    "  topic NAME PARTS [REPL]      (B: broker id 1..N, -1 for all)\n"
    "  e.g. 'errors Produce 5 NOT_LEADER_FOR_PARTITION', 'rtt 1 500', 'down 2'.\n";

static const struct {
    const char *name;
    int16_t     key;
} api_keys[] = {
    {"Produce", 0},       {"Fetch", 1},          {"ListOffsets", 2},  {"Metadata", 3},
    {"OffsetCommit", 8},  {"OffsetFetch", 9},    {"FindCoordinator", 10},
    {"JoinGroup", 11},    {"Heartbeat", 12},     {"LeaveGroup", 13},  {"SyncGroup", 14},
    {"InitProducerId", 22},
};

static int api_key_of(const char *s)
{
    for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
        if (!strcasecmp(s, api_keys[i].name))
            return api_keys[i].key;
    uint64_t v;
    if (cli_parse_u64(s, 0, 100, &v) == 0)
        return (int)v;
    return -1;
}

static int err_code_of(const char *s, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && !strcasecmp(descs[i].name, s)) {
            *out = descs[i].code;
            return 0;
        }
    return -1;
}

typedef struct mock_ctl {
    rd_kafka_mock_cluster_t *mc;
    int nbrokers;
} mock_ctl;

static void reply(const char *fmt, const char *a)
{
    if (a)
        printf(fmt, a);
    else
        fputs(fmt, stdout);
    fflush(stdout);
}

static int parse_broker(const mock_ctl *mc, const char *s, int32_t *out)
{
    if (s && !strcmp(s, "-1")) {
        *out = -1;
        return 0;
    }
    uint64_t v;
    if (!s || cli_parse_u64(s, 1, (uint64_t)mc->nbrokers, &v) < 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

/* One control command (line without its newline). Runs on the control thread; the mock
 * cluster's functions are thread-safe (they post to the cluster's own thread). */
static void control(mock_ctl *mc, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t\r", &save);
    char *a1 = strtok_r(NULL, " \t\r", &save);
    char *a2 = strtok_r(NULL, " \t\r", &save);
    char *a3 = strtok_r(NULL, " \t\r", &save);
    int32_t b;
    uint64_t v;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!cmd)
        return;
    if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
        if (parse_broker(mc, a1, &b) < 0)
            return reply("error: %s wants a broker id (1..N or -1)\n", cmd);
        e = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc->mc, b)
                          : rd_kafka_mock_broker_set_up(mc->mc, b);
    } else if (!strcmp(cmd, "rtt")) {
        if (parse_broker(mc, a1, &b) < 0 || !a2 || cli_parse_u64(a2, 0, 600000, &v) < 0)
            return reply("error: rtt wants BROKER MS\n", NULL);
        e = rd_kafka_mock_broker_set_rtt(mc->mc, b, (int)v);
    } else if (!strcmp(cmd, "errors")) {
        int key = a1 ? api_key_of(a1) : -1;
        rd_kafka_resp_err_t code;
        if (key < 0 || !a2 || cli_parse_u64(a2, 1, 100000, &v) < 0 || !a3 ||
            err_code_of(a3, &code) < 0)
            return reply("error: errors wants API COUNT ERROR, e.g. errors Produce 5 "
                         "NOT_LEADER_FOR_PARTITION\n",
                         NULL);
        rd_kafka_resp_err_t *codes = malloc(v * sizeof *codes);
        if (!codes)
            return reply("error: out of memory\n", NULL);
        for (uint64_t i = 0; i < v; i++)
            codes[i] = code;
        rd_kafka_mock_push_request_errors_array(mc->mc, (int16_t)key, (size_t)v, codes);
        free(codes);
    } else if (!strcmp(cmd, "leader")) {
        uint64_t part;
        if (!a1 || !a2 || cli_parse_u64(a2, 0, 100000, &part) < 0 || parse_broker(mc, a3, &b) < 0)
            return reply("error: leader wants TOPIC PARTITION BROKER\n", NULL);
        e = rd_kafka_mock_partition_set_leader(mc->mc, a1, (int32_t)part, b);
    } else if (!strcmp(cmd, "topic")) {
        uint64_t repl = 1;
        if (!a1 || !bus_kafka_topic_valid(a1) || !a2 || cli_parse_u64(a2, 1, 1000, &v) < 0 ||
            (a3 && cli_parse_u64(a3, 1, (uint64_t)mc->nbrokers, &repl) < 0))
            return reply("error: topic wants NAME PARTITIONS [REPLICATION]\n", NULL);
        e = rd_kafka_mock_topic_create(mc->mc, a1, (int)v, (int)repl);
    } else {
        return reply("error: unknown command '%s' (down, up, rtt, errors, leader, topic)\n", cmd);
    }
    if (e)
        return reply("error: %s\n", rd_kafka_err2str(e));
    reply("ok\n", NULL);
}

/* True when this process may read its controlling terminal now: it is in the terminal's
 * foreground process group. A background job (`sluice kafka-mock > bootstrap.txt &` in an
 * interactive shell) that read it would be stopped by SIGTTIN ("Stopped (tty input)"),
 * and with it the whole cluster. */
static bool tty_foreground(void)
{
    pid_t fg = tcgetpgrp(STDIN_FILENO);
    return fg >= 0 && fg == getpgrp();
}

static void *control_main(void *arg)
{
    mock_ctl *mc = arg;
    char line[1024];
    bool tty = isatty(STDIN_FILENO);
    for (;;) {
        /* a terminal is read only while the mock is the foreground job; in the background
         * it is left to the shell (checked again every 200 ms: `fg` brings commands back) */
        if (tty && !tty_foreground()) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\n")] = '\0';
            control(mc, line);
            continue;
        }
        /* sent to the background while waiting in fgets: with SIGTTIN ignored the read
         * fails with EIO instead of stopping the process; wait for the foreground */
        if (tty && ferror(stdin) && errno == EIO) {
            clearerr(stdin);
            continue;
        }
        return NULL;   /* end of input: the cluster keeps running */
    }
}

int cmd_kafka_mock(int argc, char **argv)
{
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"partitions", required_argument, NULL, 'p'},
        {"replication", required_argument, NULL, 'r'},
        {"topic", required_argument, NULL, 't'},
        {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "kafka-mock";
    argv = cli_env_args(&argc, argv, opts);
    uint64_t nbrokers = 3, nparts = 4, repl = 0;
    const char *topic = "events";
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (cli_parse_u64(optarg, 1, 16, &nbrokers) < 0)
                return cli_usage_error(cmd, "--brokers: expected 1..16, got '%s'", optarg);
            break;
        case 'p':
            if (cli_parse_u64(optarg, 1, 1000, &nparts) < 0)
                return cli_usage_error(cmd, "--partitions: expected 1..1000, got '%s'", optarg);
            break;
        case 'r':
            if (cli_parse_u64(optarg, 1, 16, &repl) < 0)
                return cli_usage_error(cmd, "--replication: expected 1..16, got '%s'", optarg);
            break;
        case 't':
            if (!bus_kafka_topic_valid(optarg))
                return cli_usage_error(cmd, "--topic: '%s' is not a Kafka topic name", optarg);
            topic = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "127.0.0.1") && strcmp(optarg, "localhost"))
                return cli_usage_error(cmd, "--listen: librdkafka's mock cluster only binds "
                                            "127.0.0.1, got '%s'", optarg);
            break;
        case 'h': fputs(mock_help, stdout); return 0;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (repl == 0)
        repl = nbrokers < 3 ? nbrokers : 3;
    if (repl > nbrokers)
        return cli_usage_error(cmd, "--replication %llu is more than --brokers %llu",
                               (unsigned long long)repl, (unsigned long long)nbrokers);

    /* A background mock must never be stopped by its terminal: the control thread does
     * not read a terminal it does not own (control_main), a read racing a move to the
     * background fails (EIO) instead of stopping us, and so does writing to a terminal
     * with `stty tostop`. */
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    /* SIGINT/SIGTERM are taken by sigwait below; blocked before any thread starts so that
     * librdkafka's threads inherit the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    char es[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf || rd_kafka_conf_set(conf, "log_level", "3", es, sizeof es)) {
        fprintf(stderr, "sluice kafka-mock: config: %s\n", conf ? es : "out of memory");
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (!rk) {
        fprintf(stderr, "sluice kafka-mock: %s\n", es);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    int status = 1;
    rd_kafka_mock_cluster_t *mcl = rd_kafka_mock_cluster_new(rk, (int)nbrokers);
    if (!mcl) {
        fprintf(stderr, "sluice kafka-mock: cannot start the mock cluster\n");
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mcl, topic, (int)nparts, (int)repl);
    if (e) {
        fprintf(stderr, "sluice kafka-mock: create topic %s: %s\n", topic, rd_kafka_err2str(e));
        goto out;
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcl));
    fflush(stdout);
    fprintf(stderr,
            "sluice kafka-mock: %llu brokers, topic %s with %llu partitions (replication %llu); "
            "commands on stdin, SIGTERM stops\n",
            (unsigned long long)nbrokers, topic, (unsigned long long)nparts,
            (unsigned long long)repl);
    mock_ctl mc = {mcl, (int)nbrokers};
    pthread_t tid;
    int pe = pthread_create(&tid, NULL, control_main, &mc);
    if (pe) {
        fprintf(stderr, "sluice kafka-mock: pthread_create: %s\n", strerror(pe));
        goto out;
    }
    /* the control thread may sit in fgets() forever: detached, it ends with the process */
    pthread_detach(tid);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "sluice kafka-mock: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    /* not destroyed: the detached control thread may be using the cluster; the process
     * exits right after, and the kernel closes the brokers' sockets. */
    (void)mcl;
    fflush(stdout);
    _exit(status);
}
