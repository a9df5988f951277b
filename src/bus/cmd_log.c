/* cmd_log.c — `sluice produce` and `sluice tail`: the log from the command line, in the
 * manner of kcat (-P / -C).
 *
 *   produce  reads newline-delimited JSON objects from stdin and appends them to a topic,
 *            in batches (one append per buffer of input, up to 4 MiB). A line that is not
 *            a JSON object stops the run: every good line before it is appended and synced,
 *            the bad one is reported as "stdin:LINE: ...", exit status 1.
 *   tail     prints records one per line from an offset, then either stops at the end
 *            (--exit) or follows the topic (woken by inotify through log_wait()).
 * Both also work on Kafka with --bus kafka://HOST:PORT/TOPIC (bus.h): produce sends one
 * message per line and waits for every delivery report (exit 1 if any failed); tail reads
 * every partition without a consumer group (like kcat -C), partitions interleaved.
 */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/log.h"
#include "cmd.h"
#include "common/cli.h"
#include "common/json.h"

#define PRODUCE_BATCH_BYTES (4u * 1024 * 1024)

/* cli_env_args() returns an argv that lives until exit; keeping it in a static makes it
 * reachable, so LeakSanitizer does not report it. */
static char **volatile env_argv;
/* --bus of either command; a global, so its strings stay reachable after an early return */
static bus_spec log_bus;

/* Common --bus / --kafka-opt / --kafka-key handling: 0 when done, 2 after a usage error. */
static int parse_bus_opt(const char *cmd, int c, const char *arg)
{
    sl_err err;
    switch (c) {
    case 'B':
        return bus_spec_parse(&log_bus, arg, &err) < 0 ? cli_usage_error(cmd, "%s", err.msg) : 0;
    case 'k':
        return bus_spec_add_opt(&log_bus, arg, &err) < 0 ? cli_usage_error(cmd, "%s", err.msg) : 0;
    default:
        if (!*arg)
            return cli_usage_error(cmd, "--kafka-key: expected a field name");
        log_bus.key_field = arg;
        return 0;
    }
}

/* --topic with --bus kafka overrides the URL's topic. 0, or 2 after a usage error. */
static int bus_topic_override(const char *cmd, const char *topic)
{
    if (log_bus.kind != BUS_KAFKA || !topic)
        return 0;
    if (!bus_kafka_topic_valid(topic))
        return cli_value_error(cmd, topic, "bad Kafka topic name '%s'", topic);
    char *t = strdup(topic);
    if (!t)
        return cli_usage_error(cmd, "out of memory");
    free(log_bus.topic);
    log_bus.topic = t;
    return 0;
}

/* --kafka-opt / --kafka-key on the embedded log would be ignored: refused. 0, or 2. */
static int bus_kind_check(const char *cmd)
{
    sl_err err;
    if (bus_spec_check(&log_bus, &err) < 0)
        return cli_usage_error(cmd, "%s", err.msg);
    return 0;
}

/* ---- produce ---- */

static void produce_usage(void)
{
    printf("Usage: sluice produce --topic TOPIC [options] < events.ndjson\n"
           "       sluice produce --bus kafka://HOST:PORT/TOPIC [options] < events.ndjson\n"
           "\n"
           "Appends newline-delimited JSON from stdin to a topic of the embedded log, one\n"
           "record per line. Every line must be a JSON object; empty lines are skipped. A bad\n"
           "line stops the run with its line number (exit 1); the lines before it are kept.\n"
           "\n"
           "Options:\n"
           "  --topic NAME             topic to append to (created if missing); required on the\n"
           "                           embedded log; with --bus kafka it overrides the URL's topic\n"
           "  --data-dir DIR           data directory (default ./sluice-data, SLUICE_DATA_DIR)\n"
           "  --fsync MODE             always | never | interval[=MS] (default interval=1000):\n"
           "                           always: each batch is on disk before it counts;\n"
           "                           the records are synced at exit in every mode\n"
           "  --max-record-bytes N     longest accepted line (default 1MiB, at most 64MiB)\n"
           "  --segment-bytes N        roll to a new segment file past this size (default 64MiB)\n"
           "  --retention-bytes N      delete the oldest segments past this total (default: keep)\n"
           "  --retention-age DUR      delete segments whose newest record is older (e.g. 7d)\n"
           "  --bus URL                log (default) or kafka://HOST:PORT[,HOST:PORT]/TOPIC:\n"
           "                           one Kafka message per line, acks=all; --topic then\n"
           "                           overrides the URL's topic; exit 1 if any failed\n"
           "  --kafka-opt K=V          librdkafka property, repeatable\n"
           "  --kafka-key FIELD        field whose value keys each message (default event_id)\n"
           "  --help                   this text\n"
           "\n"
           "Every option can also be set as SLUICE_<OPTION>, e.g. SLUICE_FSYNC=always.\n"
           "Prints \"appended N records (offsets A..B)\" to stderr.\n");
}

/* Shared option parsing for the writer settings. Returns 0, or 2 after a usage error. */
static int parse_log_opt(const char *cmd, int opt, const char *arg, log_opts *o)
{
    uint64_t v;
    sl_err err;
    switch (opt) {
    case 'f':
        if (log_parse_fsync(arg, o, &err))
            return cli_usage_error(cmd, "%s", err.msg);
        return 0;
    case 'm':
        if (cli_parse_size(arg, &v) || v < 1 || v > LOG_RECORD_MAX_HARD)
            return cli_usage_error(cmd, "bad --max-record-bytes '%s': want 1 to 64MiB", arg);
        o->max_record_bytes = (uint32_t)v;
        return 0;
    case 's':
        if (cli_parse_size(arg, &v) || v < 256)
            return cli_usage_error(cmd, "bad --segment-bytes '%s': want a size of 256 or more",
                                   arg);
        o->segment_bytes = v;
        return 0;
    case 'r':
        if (cli_parse_size(arg, &v))
            return cli_usage_error(cmd, "bad --retention-bytes '%s': want a size like 10GiB",
                                   arg);
        o->retention_bytes = v;
        return 0;
    case 'a':
        if (cli_parse_duration_ms(arg, 1000, &v))
            return cli_usage_error(cmd, "bad --retention-age '%s': want a duration like 7d",
                                   arg);
        o->retention_ms = v;
        return 0;
    }
    return 2;
}

typedef struct producer {
    log_topic *t;
    bus_producer *kp;   /* --bus kafka: instead of t */
    log_entry *ents;
    size_t     n, cap;
    uint64_t   appended, first, last;
} producer;

/* Kafka delivery reports (poll thread): counts failures, prints the first reason. */
static atomic_ulong kafka_failed;
static void on_kafka_delivery(void *ud, void *opaque, int status, const char *why)
{
    (void)ud;
    (void)opaque;
    if (status < 0 && atomic_fetch_add(&kafka_failed, 1) == 0)
        fprintf(stderr, "sluice produce: kafka delivery failed: %s\n", why ? why : "?");
}

static int producer_flush(producer *pr, sl_err *err)
{
    if (!pr->n)
        return 0;
    if (pr->kp) {
        /* a full queue waits for delivery reports to make room (the queue is bounded) */
        for (size_t i = 0; i < pr->n; i++) {
            int rc;
            while ((rc = bus_producer_send(pr->kp, pr->ents[i].data, pr->ents[i].len, NULL,
                                           err)) == -ENOBUFS) {
                struct timespec ts = {0, 2 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            if (rc < 0)
                return rc;
            pr->appended++;
        }
        pr->n = 0;
        return 0;
    }
    uint64_t first;
    int rc = log_append(pr->t, pr->ents, pr->n, &first, err);
    if (rc)
        return rc;
    if (!pr->appended)
        pr->first = first;
    pr->appended += pr->n;
    pr->last = first + pr->n - 1;
    pr->n = 0;
    return 0;
}

static int producer_add(producer *pr, const char *p, size_t len, sl_err *err)
{
    if (pr->n == pr->cap) {
        size_t nc = pr->cap ? pr->cap * 2 : 1024;
        log_entry *ne = realloc(pr->ents, nc * sizeof *ne);
        if (!ne)
            return sl_err_set(err, -ENOMEM, true, "out of memory");
        pr->ents = ne;
        pr->cap = nc;
    }
    pr->ents[pr->n++] = (log_entry){p, (uint32_t)len, 0};
    return 0;
}

/* Checks one line (without its '\n'). 0 = append it, 1 = skip it, -1 = refused (message
 * printed). */
static int produce_check_line(const char *p, size_t *len, uint64_t lineno, uint32_t max)
{
    size_t n = *len;
    if (n && p[n - 1] == '\r')
        n--;
    *len = n;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    if (i == n)
        return 1;
    if (n > max) {
        fprintf(stderr,
                "stdin:%" PRIu64 ": line of %zu bytes is longer than the maximum record size "
                "of %" PRIu32 " bytes (--max-record-bytes)\n",
                lineno, n, max);
        return -1;
    }
    json_type type;
    json_error je;
    if (json_validate_whole(p, n, JSON_DEFAULT_MAX_DEPTH, &type, &je)) {
        fprintf(stderr, "stdin:%" PRIu64 ": not a JSON object: %s at column %zu\n", lineno,
                je.what ? je.what : "invalid JSON", je.pos + 1);
        return -1;
    }
    if (type != JSON_OBJECT) {
        static const char *names[] = {"nothing", "null",   "false", "true",
                                      "a number", "a string", "an array", "an object"};
        fprintf(stderr, "stdin:%" PRIu64 ": not a JSON object: got %s\n", lineno,
                (unsigned)type < sizeof names / sizeof *names ? names[type] : "something else");
        return -1;
    }
    return 0;
}

int cmd_produce(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"data-dir", required_argument, NULL, 'd'},
        {"fsync", required_argument, NULL, 'f'},
        {"max-record-bytes", required_argument, NULL, 'm'},
        {"segment-bytes", required_argument, NULL, 's'},
        {"retention-bytes", required_argument, NULL, 'r'},
        {"retention-age", required_argument, NULL, 'a'},
        {"bus", required_argument, NULL, 'B'},
        {"kafka-opt", required_argument, NULL, 'k'},
        {"kafka-key", required_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bus_spec_init(&log_bus);
    argv = env_argv = cli_env_args(&argc, argv, opts);
    const char *topic = NULL, *data_flag = NULL;
    log_opts o;
    log_opts_init(&o);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': topic = optarg; break;
        case 'd': data_flag = optarg; break;
        case 'h': produce_usage(); return 0;
        case ':': return cli_usage_error("produce", "option '%s' needs a value", argv[optind - 1]);
        case '?': return cli_usage_error("produce", "unknown option '%s'", argv[optind - 1]);
        case 'B': case 'k': case 'y':
            if (parse_bus_opt("produce", c, optarg))
                return 2;
            break;
        default: {
            int rc = parse_log_opt("produce", c, optarg, &o);
            if (rc)
                return rc;
        }
        }
    }
    if (optind < argc)
        return cli_usage_error("produce", "unexpected argument '%s'", argv[optind]);
    if (bus_topic_override("produce", topic) || bus_kind_check("produce"))
        return 2;
    if (!topic && log_bus.kind == BUS_LOG)
        return cli_usage_error("produce", "--topic is required");
    if (log_bus.kind == BUS_LOG && !log_topic_name_valid(topic))
        return cli_value_error("produce", topic,
                               "bad topic name '%s': use 1 to 200 of A-Z a-z 0-9 . _ -", topic);

    sl_err err;
    sl_err_clear(&err);
    producer pr = {0};
    int status = 1;
    /* The buffer holds a whole batch plus the longest possible line (and its "\r\n"). */
    size_t cap = PRODUCE_BATCH_BYTES + (size_t)o.max_record_bytes + 2;
    char *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "sluice produce: out of memory\n");
        return 1;
    }
    if (log_bus.kind == BUS_KAFKA) {
        if (bus_producer_new(&log_bus, &pr.kp, &err)) {
            fprintf(stderr, "sluice produce: %s\n", err.msg);
            free(buf);
            return 1;
        }
        bus_producer_set_delivery(pr.kp, on_kafka_delivery, NULL);
    } else if (log_topic_open(cli_data_dir(data_flag), topic, LOG_OPEN_WRITE, &o, &pr.t, &err)) {
        fprintf(stderr, "sluice produce: %s\n", err.msg);
        free(buf);
        return 1;
    }
    size_t len = 0;     /* bytes in buf */
    size_t start = 0;   /* first byte of the current (incomplete) line */
    uint64_t lineno = 0;
    bool eof = false, bad = false;
    while (!eof && !bad) {
        ssize_t r = read(STDIN_FILENO, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "sluice produce: read stdin: %s\n", strerror(errno));
            bad = true;
            break;
        }
        if (r == 0)
            eof = true;
        size_t scan_from = len;
        len += (size_t)r;
        for (;;) {
            char *nl = memchr(buf + scan_from, '\n', len - scan_from);
            size_t end;
            if (nl) {
                end = (size_t)(nl - buf);
            } else if (eof && start < len) {
                end = len; /* last line without a newline */
            } else {
                break;
            }
            size_t llen = end - start;
            int ck = produce_check_line(buf + start, &llen, ++lineno, o.max_record_bytes);
            if (ck < 0) {
                bad = true;
                break;
            }
            if (ck == 0 && producer_add(&pr, buf + start, llen, &err)) {
                fprintf(stderr, "sluice produce: %s\n", err.msg);
                bad = true;
                break;
            }
            start = scan_from = end + (nl ? 1 : 0);
            if (!nl)
                break;
        }
        /* Append what is complete (the entries point into buf), then move the partial
         * line to the front. */
        if (producer_flush(&pr, &err)) {
            fprintf(stderr, "sluice produce: %s\n", err.msg);
            bad = true;
            break;
        }
        if (bad)
            break;
        size_t partial = len - start;
        if (partial > (size_t)o.max_record_bytes + 1) {
            fprintf(stderr,
                    "stdin:%" PRIu64 ": line is longer than the maximum record size of %" PRIu32
                    " bytes (--max-record-bytes)\n",
                    lineno + 1, o.max_record_bytes);
            bad = true;
            break;
        }
        memmove(buf, buf + start, partial);
        len = partial;
        start = 0;
    }
    if (!bad && producer_flush(&pr, &err)) {
        fprintf(stderr, "sluice produce: %s\n", err.msg);
        bad = true;
    }
    if (pr.kp) {
        /* every message reported before we count it (message.timeout.ms bounds the wait) */
        if (bus_producer_flush(pr.kp, 600000, &err)) {
            fprintf(stderr, "sluice produce: %s\n", err.msg);
            bad = true;
        }
        bus_producer_destroy(pr.kp);
        unsigned long failed = atomic_load(&kafka_failed);
        fprintf(stderr, "produced %" PRIu64 " records to kafka://%s/%s, %lu failed\n",
                pr.appended - failed, log_bus.brokers, log_bus.topic, failed);
        free(pr.ents);
        free(buf);
        bus_spec_free(&log_bus);
        return bad || failed ? 1 : 0;
    }
    /* Close syncs in every mode: what was appended is on disk before we report it. */
    log_topic_close(pr.t);
    if (pr.appended)
        fprintf(stderr, "appended %" PRIu64 " record%s (offsets %" PRIu64 "..%" PRIu64 ")\n",
                pr.appended, pr.appended == 1 ? "" : "s", pr.first, pr.last);
    else
        fprintf(stderr, "appended 0 records\n");
    status = bad ? 1 : 0;
    free(pr.ents);
    free(buf);
    return status;
}

/* ---- tail ---- */

static void tail_usage(void)
{
    printf("Usage: sluice tail --topic TOPIC [--from beginning|end|OFFSET] [--exit] [--count N]\n"
           "       sluice tail --bus kafka://HOST:PORT/TOPIC [options]\n"
           "\n"
           "Prints the records of a topic of the embedded log (or of Kafka), one per line, and\n"
           "follows new records as they are appended (from any process) until interrupted.\n"
           "\n"
           "Options:\n"
           "  --topic NAME        topic to read; required with the embedded log, with --bus\n"
           "                      kafka it overrides the URL's topic\n"
           "  --data-dir DIR      data directory (default ./sluice-data, SLUICE_DATA_DIR)\n"
           "  --from WHERE        beginning (default), end, or an offset; an offset removed\n"
           "                      by retention starts at the oldest record kept\n"
           "  --exit              stop at the end and print\n"
           "                      \"%% Reached end of topic TOPIC at offset N\" to stderr\n"
           "  --count N           stop after N records\n"
           "  --bus URL           log (default) or kafka://HOST:PORT[,HOST:PORT]/TOPIC: reads\n"
           "                      every partition without a consumer group (like kcat -C);\n"
           "                      --from OFFSET applies to each partition\n"
           "  --kafka-opt K=V     librdkafka property, repeatable\n"
           "  --help              this text\n");
}

/* tail on Kafka: from_kind 0 beginning, 1 end, 2 offset (in every partition). */
static int tail_kafka(int from_kind, uint64_t from_off, bool exit_at_end, uint64_t count)
{
    sl_err err;
    sl_err_clear(&err);
    bus_consumer_opts co = {0};
    co.start = from_kind == 0 ? -2 : from_kind == 1 ? -1 : (int64_t)from_off;
    co.report_eof = exit_at_end;
    bus_consumer *kc = NULL;
    int status = 0;
    if (bus_consumer_new(&log_bus, &co, &kc, &err)) {
        fprintf(stderr, "sluice tail: %s\n", err.msg);
        bus_spec_free(&log_bus);
        return 1;
    }
    uint64_t printed = 0;
    for (;;) {
        bus_msg m;
        int rc = bus_consumer_poll(kc, exit_at_end ? 200 : 1000, &m, &err);
        if (rc == 2) {
            fflush(stdout);
            fprintf(stderr, "%% Reached end of topic %s (every partition)\n", log_bus.topic);
            break;
        }
        if (rc < 0) {
            fprintf(stderr, "sluice tail: %s\n", err.msg);
            if (!err.retriable) {
                status = 1;
                break;
            }
            continue;
        }
        if (rc == 0) {
            if (fflush(stdout))
                break;
            continue;
        }
        fwrite(m.data, 1, m.len, stdout);
        putchar('\n');
        bus_msg_release(&m);
        if (count && ++printed >= count)
            break;
    }
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "sluice tail: write stdout: %s\n", strerror(errno));
        status = 1;
    }
    bus_consumer_destroy(kc);
    bus_spec_free(&log_bus);
    return status;
}

int cmd_tail(int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"data-dir", required_argument, NULL, 'd'},
        {"from", required_argument, NULL, 'o'},
        {"exit", no_argument, NULL, 'e'},
        {"count", required_argument, NULL, 'c'},
        {"bus", required_argument, NULL, 'B'},
        {"kafka-opt", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bus_spec_init(&log_bus);
    argv = env_argv = cli_env_args(&argc, argv, opts);
    const char *topic = NULL, *data_flag = NULL, *from_s = "beginning";
    bool exit_at_end = false;
    uint64_t count = 0; /* 0 = no limit */
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': topic = optarg; break;
        case 'd': data_flag = optarg; break;
        case 'o': from_s = optarg; break;
        case 'e': exit_at_end = true; break;
        case 'c':
            if (cli_parse_u64(optarg, 1, UINT64_MAX, &count))
                return cli_usage_error("tail", "bad --count '%s': want a number of 1 or more",
                                       optarg);
            break;
        case 'B': case 'k':
            if (parse_bus_opt("tail", c, optarg))
                return 2;
            break;
        case 'h': tail_usage(); return 0;
        case ':': return cli_usage_error("tail", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("tail", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("tail", "unexpected argument '%s'", argv[optind]);
    if (bus_topic_override("tail", topic) || bus_kind_check("tail"))
        return 2;
    if (!topic && log_bus.kind == BUS_LOG)
        return cli_usage_error("tail", "--topic is required");
    uint64_t from_off = 0;
    int from_kind; /* 0 beginning, 1 end, 2 offset */
    if (!strcmp(from_s, "beginning"))
        from_kind = 0;
    else if (!strcmp(from_s, "end"))
        from_kind = 1;
    else if (!cli_parse_u64(from_s, 0, UINT64_MAX - 1, &from_off))
        from_kind = 2;
    else
        return cli_value_error("tail", from_s, "bad --from '%s': want beginning, end or an offset",
                               from_s);
    if (log_bus.kind == BUS_KAFKA)
        return tail_kafka(from_kind, from_off, exit_at_end, count);
    if (!log_topic_name_valid(topic))
        return cli_value_error("tail", topic,
                               "bad topic name '%s': use 1 to 200 of A-Z a-z 0-9 . _ -", topic);

    sl_err err;
    sl_err_clear(&err);
    log_topic *t;
    if (log_topic_open(cli_data_dir(data_flag), topic, LOG_OPEN_READ, NULL, &t, &err)) {
        fprintf(stderr, "sluice tail: %s\n", err.msg);
        return 1;
    }
    uint64_t next = from_kind == 0   ? log_start_offset(t)
                    : from_kind == 1 ? log_high_watermark(t)
                                     : from_off;
    log_batch b = {0};
    uint64_t printed = 0;
    int status = 0;
    for (;;) {
        if (log_read(t, next, 4096, 1024 * 1024, &b, &err)) {
            fprintf(stderr, "sluice tail: %s\n", err.msg);
            status = 1;
            break;
        }
        if (b.n == 0) {
            if (exit_at_end) {
                if (next < log_start_offset(t))
                    next = log_start_offset(t);
                fflush(stdout);
                fprintf(stderr, "%% Reached end of topic %s at offset %" PRIu64 "\n", topic,
                        next);
                break;
            }
            if (fflush(stdout))
                break;
            log_wait(t, next, -1);
            continue;
        }
        bool done = false;
        for (size_t i = 0; i < b.n; i++) {
            fwrite(b.recs[i].data, 1, b.recs[i].len, stdout);
            putchar('\n');
            next = b.recs[i].offset + 1;
            if (count && ++printed >= count) {
                done = true;
                break;
            }
        }
        if (!exit_at_end && fflush(stdout))
            break;
        if (done)
            break;
    }
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "sluice tail: write stdout: %s\n", strerror(errno));
        status = 1;
    }
    log_batch_free(&b);
    log_topic_close(t);
    return status;
}
