/* bench/log_append — throughput of the embedded log, and of its reference in the same run.
 *
 *   build/bench/log_append [DIR]     (DIR on a real disk, default /var/tmp; not tmpfs)
 *   SLUICE_BENCH_SECONDS=N           seconds per measurement (default 1.5)
 *
 * 300-byte records. For each fsync mode (never, interval=1000, always) and 1 / 64
 * appender threads, each thread appends single records as fast as it can (in always mode
 * every append waits for its fdatasync, shared by group commit). Then batched appends
 * (100 records per call, 1 thread), read throughput, and the reference: a plain loop of
 * write() + fdatasync() per record on the same disk. Prints the ratio always/64 vs that.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "bus/log.h"

#define REC 300
#define TMPFS_MAGIC_ 0x01021994

static double secs_per_run = 1.5;
static char payload[REC];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run {
    log_topic *t;
    atomic_bool stop;
    atomic_ullong count;
    int batch;
    atomic_int errors;
} run;

static void *appender(void *arg)
{
    run *r = arg;
    log_entry e[100];
    for (int i = 0; i < r->batch; i++)
        e[i] = (log_entry){payload, REC, 0};
    unsigned long long n = 0;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        uint64_t off;
        sl_err err;
        if (log_append(r->t, e, (size_t)r->batch, &off, &err)) {
            fprintf(stderr, "append: %s\n", err.msg);
            atomic_fetch_add(&r->errors, 1);
            break;
        }
        n += (unsigned long long)r->batch;
    }
    atomic_fetch_add(&r->count, n);
    return NULL;
}

/* records/s for `threads` appenders of `batch` records per call */
static double measure(const char *dir, const char *topic, log_fsync_mode mode, int threads,
                      int batch)
{
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = mode;
    run r = {.batch = batch};
    sl_err err;
    if (log_topic_open(dir, topic, LOG_OPEN_WRITE, &o, &r.t, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    pthread_t th[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, appender, &r);
    while (now_s() - t0 < secs_per_run)
        usleep(10000);
    atomic_store(&r.stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - t0;
    log_topic_close(r.t);
    if (atomic_load(&r.errors))
        exit(1);
    return (double)atomic_load(&r.count) / el;
}

static double measure_read(const char *dir, const char *topic, unsigned long long *n_out)
{
    log_topic *t;
    sl_err err;
    if (log_topic_open(dir, topic, LOG_OPEN_READ, NULL, &t, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    log_batch b = {0};
    uint64_t next = 0;
    unsigned long long n = 0, bytes = 0;
    double t0 = now_s();
    for (;;) {
        if (log_read(t, next, 4096, 1 << 20, &b, &err)) {
            fprintf(stderr, "read: %s\n", err.msg);
            exit(1);
        }
        if (!b.n)
            break;
        for (size_t i = 0; i < b.n; i++)
            bytes += b.recs[i].len;
        n += b.n;
        next = b.recs[b.n - 1].offset + 1;
    }
    double el = now_s() - t0;
    log_batch_free(&b);
    log_topic_close(t);
    *n_out = n;
    (void)bytes;
    return (double)n / el;
}

/* The reference: one write + one fdatasync per record. */
static double measure_plain(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/plain.dat", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    unsigned long long n = 0;
    double t0 = now_s();
    while (now_s() - t0 < secs_per_run) {
        if (write(fd, payload, REC) != REC || fdatasync(fd)) {
            perror("plain write/fdatasync");
            exit(1);
        }
        n++;
    }
    double el = now_s() - t0;
    close(fd);
    unlink(path);
    return (double)n / el;
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/var/tmp";
    const char *s = getenv("SLUICE_BENCH_SECONDS");
    if (s && atof(s) > 0)
        secs_per_run = atof(s);
    for (int i = 0; i < REC; i++)
        payload[i] = (char)('a' + i % 26);
    payload[0] = '{';
    payload[REC - 1] = '}';
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sluice-bench-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    struct statfs sf;
    if (!statfs(dir, &sf) && sf.f_type == TMPFS_MAGIC_)
        fprintf(stderr, "warning: %s is tmpfs: fdatasync is free there, the figures mean "
                        "little\n", dir);
    printf("sluice log_append: %d-byte records, %.1f s per measurement, in %s\n", REC,
           secs_per_run, dir);
    printf("%-34s %14s\n", "case", "records/s");
    struct {
        const char *name, *topic;
        log_fsync_mode mode;
        int threads, batch;
    } cases[] = {
        {"never,       1 appender",            "n1",   LOG_FSYNC_NEVER,    1,  1},
        {"never,      64 appenders",           "n64",  LOG_FSYNC_NEVER,    64, 1},
        {"never,       1 appender, batch 100", "nb",   LOG_FSYNC_NEVER,    1,  100},
        {"interval=1s, 1 appender",            "i1",   LOG_FSYNC_INTERVAL, 1,  1},
        {"interval=1s,64 appenders",           "i64",  LOG_FSYNC_INTERVAL, 64, 1},
        {"interval=1s, 1 appender, batch 100", "ib",   LOG_FSYNC_INTERVAL, 1,  100},
        {"always,      1 appender",            "a1",   LOG_FSYNC_ALWAYS,   1,  1},
        {"always,     64 appenders",           "a64",  LOG_FSYNC_ALWAYS,   64, 1},
    };
    double always64 = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double r = measure(dir, cases[i].topic, cases[i].mode, cases[i].threads,
                           cases[i].batch);
        printf("%-34s %14.0f\n", cases[i].name, r);
        fflush(stdout);
        if (!strcmp(cases[i].topic, "a64"))
            always64 = r;
    }
    unsigned long long nread;
    double rd = measure_read(dir, "nb", &nread);
    printf("%-34s %14.0f   (%llu records, %.0f MB/s of payload)\n", "read (log_read)", rd, nread,
           rd * REC / 1e6);
    double plain = measure_plain(dir);
    printf("%-34s %14.0f\n", "reference: write+fdatasync/record", plain);
    printf("ratio always/64 appenders vs reference: %.1fx (target >= 20x)\n",
           plain > 0 ? always64 / plain : 0);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
