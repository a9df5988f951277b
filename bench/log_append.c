/* bench/log_append — throughput of the embedded log, and of its reference in the same run.
 *
 *   build/bench/log_append [DIR]     (DIR on a real disk, default /var/tmp; not tmpfs)
 *   SLUICE_BENCH_SECONDS=N           seconds per measurement (default 1.5)
 *   SLUICE_BENCH_RUNS=N              runs per case, the median is printed (default 3)
 *   SLUICE_BENCH_CASES=n1,a64,...    only these cases (names in the first column)
 *
 * 300-byte records. For each fsync mode (never, interval=1000, always) and 1 / 64
 * appender threads, each thread appends single records as fast as it can (in always mode
 * every append waits for its fdatasync, shared by group commit); plus batched appends
 * (100 records per call, 1 thread) and read throughput.
 *
 * The reference for `always` is a plain loop of write() + fdatasync() per record on the
 * same disk. It is measured right before each run of an `always` case (so both see the
 * same disk and the same load from other processes) and printed on the same line, with
 * the ratio of the medians, and with the median number of records that one group-commit
 * fdatasync covered (log_sync_stats): that figure depends much less on the disk and on
 * other load than the rates do.
 *
 * Every run writes a fresh topic and deletes it afterwards: dirty pages of a deleted file
 * are dropped, so one case's gigabytes are not still being written back during the next
 * case's syncs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "bus/log.h"

#define REC 300
#define TMPFS_MAGIC_ 0x01021994
#define MAX_RUNS 15

static double secs_per_run = 1.5;
static int runs = 3;
static char payload[REC];
static char base_dir[4096];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rm_rf(const char *path)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
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

/* records/s for `threads` appenders of `batch` records per call, into a fresh data dir
 * <base>/<topic>; keep != 0 leaves it for the read measurement. */
static double measure(const char *topic, log_fsync_mode mode, int threads, int batch,
                      int keep, double *per_sync)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", base_dir, topic);
    rm_rf(dir);
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
        if (pthread_create(&th[i], NULL, appender, &r)) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    while (now_s() - t0 < secs_per_run)
        usleep(10000);
    atomic_store(&r.stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - t0;
    uint64_t syncs, synced;
    log_sync_stats(r.t, &syncs, &synced);
    *per_sync = syncs ? (double)synced / (double)syncs : 0;
    log_topic_close(r.t);
    if (atomic_load(&r.errors))
        exit(1);
    if (!keep)
        rm_rf(dir);
    return (double)atomic_load(&r.count) / el;
}

static double measure_read(const char *topic, unsigned long long *n_out)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", base_dir, topic);
    log_topic *t;
    sl_err err;
    if (log_topic_open(dir, topic, LOG_OPEN_READ, NULL, &t, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    log_batch b = {0};
    uint64_t next = 0;
    unsigned long long n = 0;
    double t0 = now_s();
    for (;;) {
        if (log_read(t, next, 4096, 1 << 20, &b, &err)) {
            fprintf(stderr, "read: %s\n", err.msg);
            exit(1);
        }
        if (!b.n)
            break;
        n += b.n;
        next = b.recs[b.n - 1].offset + 1;
    }
    double el = now_s() - t0;
    log_batch_free(&b);
    log_topic_close(t);
    *n_out = n;
    return (double)n / el;
}

/* The reference: one write + one fdatasync per record, appending to a fresh file. */
static double measure_plain(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/plain.dat", base_dir);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int wanted(const char *filter, const char *name)
{
    if (!filter || !*filter)
        return 1;
    size_t n = strlen(name);
    for (const char *p = filter; (p = strstr(p, name)); p += n)
        if ((p == filter || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/var/tmp";
    const char *s = getenv("SLUICE_BENCH_SECONDS");
    if (s && atof(s) > 0)
        secs_per_run = atof(s);
    s = getenv("SLUICE_BENCH_RUNS");
    if (s && atoi(s) > 0)
        runs = atoi(s) > MAX_RUNS ? MAX_RUNS : atoi(s);
    const char *filter = getenv("SLUICE_BENCH_CASES");
    for (int i = 0; i < REC; i++)
        payload[i] = (char)('a' + i % 26);
    payload[0] = '{';
    payload[REC - 1] = '}';
    snprintf(base_dir, sizeof base_dir, "%s/sluice-bench-XXXXXX", base);
    if (!mkdtemp(base_dir)) {
        perror(base_dir);
        return 1;
    }
    struct statfs sf;
    if (!statfs(base_dir, &sf) && sf.f_type == TMPFS_MAGIC_)
        fprintf(stderr, "warning: %s is tmpfs: fdatasync is free there, the figures mean "
                        "little\n", base_dir);
    printf("sluice log_append: %d-byte records, %.1f s per run, median of %d runs, in %s\n",
           REC, secs_per_run, runs, base_dir);
    printf("%-5s %-34s %12s   %s\n", "case", "", "records/s", "(min..max)");
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
    int have_nb = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!wanted(filter, cases[i].topic))
            continue;
        bool always = cases[i].mode == LOG_FSYNC_ALWAYS;
        bool keep = !strcmp(cases[i].topic, "nb");
        double v[MAX_RUNS], ref[MAX_RUNS], per_sync[MAX_RUNS];
        for (int k = 0; k < runs; k++) {
            if (always)
                ref[k] = measure_plain();
            v[k] = measure(cases[i].topic, cases[i].mode, cases[i].threads, cases[i].batch,
                           keep && k == runs - 1, &per_sync[k]);
        }
        double lo = v[0], hi = v[0];
        for (int k = 1; k < runs; k++) {
            lo = v[k] < lo ? v[k] : lo;
            hi = v[k] > hi ? v[k] : hi;
        }
        double med = median(v, runs);
        printf("%-5s %-34s %12.0f   (%.0f..%.0f)", cases[i].topic, cases[i].name, med, lo, hi);
        if (always) {
            double r = median(ref, runs);
            printf("   %.1f records/fdatasync; reference write+fdatasync/record %.0f/s, "
                   "ratio %.1fx",
                   median(per_sync, runs), r, r > 0 ? med / r : 0);
            if (cases[i].threads == 64)
                printf(" (target >= 20x)");
        }
        printf("\n");
        fflush(stdout);
        if (keep)
            have_nb = 1;
    }
    if (have_nb) {
        unsigned long long nread;
        double rd = measure_read("nb", &nread);
        printf("%-5s %-34s %12.0f   (%llu records, %.0f MB/s of payload)\n", "read",
               "log_read, 4096 records per call", rd, nread, rd * REC / 1e6);
    }
    rm_rf(base_dir);
    return 0;
}
