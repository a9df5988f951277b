/* Unit tests of the embedded log: record format, append/read, roll, retention, consumer
 * offsets, size limits, group commit, nowait + durable callback, one writer per topic,
 * readers in other processes, torn tail and mid-log corruption. (The SIGKILL crash loop
 * is in test_log_crash.c.) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "bus/crc32c.h"
#include "bus/log.h"
#include "test.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static log_topic *open_w(const char *dir, const char *topic, const log_opts *o)
{
    log_topic *t = NULL;
    sl_err err;
    int rc = log_topic_open(dir, topic, LOG_OPEN_WRITE, o, &t, &err);
    if (rc)
        fprintf(stderr, "  open: %s\n", err.msg);
    CHECK(rc == 0);
    return t;
}

static int append_str(log_topic *t, const char *s, uint64_t *off)
{
    log_entry e = {s, (uint32_t)strlen(s), 0};
    sl_err err;
    uint64_t o;
    int rc = log_append(t, &e, 1, off ? off : &o, &err);
    if (rc)
        fprintf(stderr, "  append: %s\n", err.msg);
    return rc;
}

/* Reads every record from `from` to the end into a callback-free count, checking that
 * record i has payload "rec-<i>". Returns the number read, or -1 on error. */
/* Record r is the one fill() wrote at offset off ("rec-<off>"). */
static bool rec_ok(const log_record *r, uint64_t off)
{
    char want[64];
    int n = snprintf(want, sizeof want, "rec-%" PRIu64, off);
    return r->offset == off && r->len == (uint32_t)n && !memcmp(r->data, want, (size_t)n);
}

/* A writer with small segments (so that rolls happen), no fsync: o is filled. */
static log_topic *open_rolling(const char *dir, log_opts *o, uint64_t segment_bytes)
{
    log_opts_init(o);
    o->fsync_mode = LOG_FSYNC_NEVER;
    o->segment_bytes = segment_bytes;
    return open_w(dir, "events", o);
}

static long read_all_check(log_topic *t, uint64_t from)
{
    log_batch b = {0};
    sl_err err;
    long n = 0;
    uint64_t next = from;
    for (;;) {
        if (log_read(t, next, 7, 300, &b, &err)) {
            fprintf(stderr, "  read: %s\n", err.msg);
            n = -1;
            break;
        }
        if (b.n == 0)
            break;
        for (size_t i = 0; i < b.n; i++) {
            if (!rec_ok(&b.recs[i], next)) {
                fprintf(stderr, "  record %" PRIu64 " wrong (expected offset %" PRIu64 ")\n",
                        b.recs[i].offset, next);
                n = -1;
                goto out;
            }
            next++;
            n++;
        }
    }
out:
    log_batch_free(&b);
    return n;
}

static void fill(log_topic *t, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        char s[64];
        snprintf(s, sizeof s, "rec-%" PRIu64, i);
        uint64_t off;
        CHECK(append_str(t, s, &off) == 0);
        CHECK_EQ_U64(off, i);
    }
}

static int count_files(const char *dir, const char *ext)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/log/events/*.%s 2>/dev/null | wc -l", dir, ext);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

static void test_crc32c(void)
{
    CHECK(crc32c_update(0, "123456789", 9) == 0xE3069283u);
    CHECK(crc32c_sw(0, "123456789", 9) == 0xE3069283u);
    unsigned char buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)((i * 2654435761u) >> 13);
    /* every length up to 999 at 8 alignments: the byte tails, the 8-byte loop and the
     * 3-way rounds of 192 bytes (one, several, with every remainder) */
    for (size_t n = 0; n + 8 < sizeof buf; n++)
        for (size_t a = 0; a < 8; a++)
            CHECK(crc32c_update(0xA5A5A5A5u, buf + a, n) == crc32c_sw(0xA5A5A5A5u, buf + a, n));
    for (size_t n = 0; n < sizeof buf; n += 37) {
        CHECK(crc32c_update(0, buf + 1, n) == crc32c_sw(0, buf + 1, n));
        /* incremental == one shot */
        CHECK(crc32c_update(crc32c_update(0, buf, n / 2), buf + n / 2, n - n / 2) ==
              crc32c_update(0, buf, n));
    }
}

static void test_format(void)
{
    unsigned char rec[64];
    size_t n = log_record_encode(rec, 0x0102030405060708ull, 1700000000123, "hello", 5);
    CHECK_EQ_U64(n, LOG_RECORD_HEADER_BYTES + 5);
    CHECK(!memcmp(rec, "SLG\x01", 4));
    CHECK(rec[8] == 5 && rec[9] == 0 && rec[10] == 0 && rec[11] == 0);   /* len LE */
    CHECK(rec[12] == 0x08 && rec[19] == 0x01);                             /* offset LE */
    CHECK(!memcmp(rec + 28, "hello", 5));
    uint32_t crc = crc32c_update(0, rec + 8, 20 + 5);
    CHECK(rec[4] == (crc & 0xFF) && rec[7] == (crc >> 24));

    log_record r;
    size_t sz;
    const char *why;
    CHECK(log_record_decode(rec, n, &r, &sz, &why) == LOG_DECODE_OK);
    CHECK_EQ_U64(sz, n);
    CHECK_EQ_U64(r.offset, 0x0102030405060708ull);
    CHECK(r.ts_ms == 1700000000123);
    CHECK(r.len == 5 && !memcmp(r.data, "hello", 5));
    /* every prefix is SHORT, never OK or BAD */
    for (size_t k = 0; k < n; k++)
        CHECK(log_record_decode(rec, k, &r, &sz, &why) == LOG_DECODE_SHORT);
    /* any flipped bit is BAD, or SHORT when the length grew (a torn tail looks like that) */
    for (size_t k = 0; k < n; k++) {
        rec[k] ^= 0x10;
        int d = log_record_decode(rec, n, &r, &sz, &why);
        CHECK(d == LOG_DECODE_BAD || (d == LOG_DECODE_SHORT && k >= 8 && k < 12));
        rec[k] ^= 0x10;
    }
    /* a huge length field is BAD right away */
    unsigned char big[LOG_RECORD_HEADER_BYTES];
    memcpy(big, rec, sizeof big);
    big[11] = 0x7F;
    CHECK(log_record_decode(big, sizeof big, &r, &sz, &why) == LOG_DECODE_BAD);
    CHECK(why && strstr(why, "length"));
}

static void test_parse_and_names(void)
{
    log_opts o;
    log_opts_init(&o);
    sl_err err;
    CHECK(o.fsync_mode == LOG_FSYNC_INTERVAL && o.fsync_interval_ms == 1000);
    CHECK(log_parse_fsync("always", &o, &err) == 0 && o.fsync_mode == LOG_FSYNC_ALWAYS);
    CHECK(log_parse_fsync("interval=250", &o, &err) == 0 && o.fsync_interval_ms == 250);
    CHECK(log_parse_fsync("interval=2s", &o, &err) == 0 && o.fsync_interval_ms == 2000);
    CHECK(log_parse_fsync("never", &o, &err) == 0 && o.fsync_mode == LOG_FSYNC_NEVER);
    CHECK(log_parse_fsync("sometimes", &o, &err) == -EINVAL && strstr(err.msg, "sometimes"));
    CHECK(log_parse_fsync("interval=0", &o, &err) == -EINVAL);
    CHECK(log_topic_name_valid("events") && log_topic_name_valid("a.b-c_D9"));
    CHECK(!log_topic_name_valid("") && !log_topic_name_valid("..") && !log_topic_name_valid("a/b"));
    log_topic *t;
    CHECK(log_topic_open(test_tmpdir(), "../x", LOG_OPEN_WRITE, NULL, &t, &err) == -EINVAL);
}

static void test_append_read(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_NEVER;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(log_high_watermark(t), 0);
    /* a batch returns its first offset */
    log_entry e[3] = {{"rec-0", 5, 0}, {"rec-1", 5, 1234}, {"rec-2", 5, 0}};
    uint64_t first = 99;
    sl_err err;
    CHECK(log_append(t, e, 3, &first, &err) == 0);
    CHECK_EQ_U64(first, 0);
    fill(t, 3, 50);
    CHECK_EQ_U64(log_high_watermark(t), 50);
    CHECK_EQ_U64(log_durable_end(t), 50);
    CHECK(read_all_check(t, 0) == 50);
    CHECK(read_all_check(t, 17) == 33);
    log_batch b = {0};
    CHECK(log_read(t, 1, 1, 1 << 20, &b, &err) == 0);
    CHECK(b.n == 1 && b.recs[0].ts_ms == 1234);
    CHECK(log_read(t, 50, 10, 1 << 20, &b, &err) == 0 && b.n == 0);
    log_batch_free(&b);
    log_topic_close(t);
    /* reopen: same records, offsets continue */
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(log_high_watermark(t), 50);
    fill(t, 50, 60);
    CHECK(read_all_check(t, 0) == 60);
    /* a reader handle sees the same */
    log_topic *r;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK_EQ_U64(log_high_watermark(r), 60);
    CHECK(read_all_check(r, 0) == 60);
    uint64_t off;
    CHECK(log_append(r, e, 1, &off, &err) == -EBADF);
    log_topic_close(r);
    log_topic_close(t);
    CHECK(log_topic_open(dir, "nope", LOG_OPEN_READ, NULL, &r, &err) == -ENOENT);
    CHECK(strstr(err.msg, "nope") != NULL);
}

static void test_roll_and_index(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_topic *t = open_rolling(dir, &o, 8192);
    if (!t)
        return;
    /* ~40-byte records, 3000 of them: ~15 segments, several index entries each */
    fill(t, 0, 3000);
    int segs = count_files(dir, "log");
    CHECK(segs >= 10);
    CHECK_EQ_U64(count_files(dir, "idx"), (uint64_t)segs);
    CHECK(read_all_check(t, 0) == 3000);
    /* random seeks go through the index */
    sl_err err;
    log_batch b = {0};
    for (uint64_t from = 0; from < 3000; from += 211) {
        CHECK(log_read(t, from, 1, 1 << 20, &b, &err) == 0);
        CHECK(b.n == 1 && b.recs[0].offset == from);
    }
    log_batch_free(&b);
    log_topic_close(t);
    /* a damaged index is only a hint */
    char path[512];
    snprintf(path, sizeof path, "%s/log/events/%020d.idx", dir, 0);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        unsigned char junk[64];
        memset(junk, 0x5A, sizeof junk);
        CHECK(fwrite(junk, 1, sizeof junk, f) == sizeof junk);
        fclose(f);
    }
    log_topic *r;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK(read_all_check(r, 5) == 2995);
    CHECK_EQ_U64(log_high_watermark(r), 3000);
    log_topic_close(r);
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(log_high_watermark(t), 3000);
    fill(t, 3000, 3100);
    CHECK(read_all_check(t, 0) == 3100);
    log_topic_close(t);
}

static void test_retention_size(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_NEVER;
    o.segment_bytes = 4096;
    o.retention_bytes = 16384;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    fill(t, 0, 2000);
    uint64_t start = log_start_offset(t);
    CHECK(start > 0);
    /* what is kept: at most retention + one segment (the active one is never deleted) */
    int segs = count_files(dir, "log");
    CHECK(segs >= 2 && segs <= 16384 / 4096 + 2);
    CHECK(read_all_check(t, start) == (long)(2000 - start));
    /* reading from a deleted offset starts at the oldest kept */
    log_batch b = {0};
    sl_err err;
    CHECK(log_read(t, 0, 1, 4096, &b, &err) == 0);
    CHECK(b.n == 1 && b.recs[0].offset == start);
    log_batch_free(&b);
    log_topic_close(t);
    /* a reader in "another process" agrees */
    log_topic *r;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK_EQ_U64(log_start_offset(r), start);
    CHECK(log_apply_retention(r, &err) == -EBADF);
    log_topic_close(r);
}

/* Records read from a sealed segment (mapped, not copied) stay valid while their batch
 * holds them: across reads into other batches, across the move to the next segment, and
 * after retention deleted their segment; the active segment is read as before. */
static void test_read_sealed_segments(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_topic *t = open_rolling(dir, &o, 4096);
    if (!t)
        return;
    fill(t, 0, 1000);
    CHECK(count_files(dir, "log") >= 5);
    /* three batches in turn, as the stream uses them; every record checked while read */
    log_batch b[3] = {{0}};
    sl_err err;
    uint64_t next = 0;
    size_t bad = 0;
    for (int k = 0; next < 1000; k = (k + 1) % 3) {
        CHECK(log_read(t, next, 37, 1 << 20, &b[k], &err) == 0);
        if (b[k].n == 0)
            break;
        for (size_t i = 0; i < b[k].n; i++)
            bad += !rec_ok(&b[k].recs[i], next + i);
        next += b[k].n;
    }
    CHECK_EQ_U64(next, 1000);
    CHECK(bad == 0);
    /* hold a batch from the first segment, then let retention delete that segment */
    log_batch held = {0};
    CHECK(log_read(t, 0, 10, 1 << 20, &held, &err) == 0);
    CHECK(held.n == 10);
    log_topic_close(t);
    o.retention_bytes = 8192;
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    fill(t, 1000, 1200);   /* rolls, and retention removes the oldest segments */
    CHECK(log_start_offset(t) > 10);
    for (size_t i = 0; i < held.n; i++)
        CHECK(rec_ok(&held.recs[i], i));
    /* a batch read from a mapped segment, then from the active one (pread) */
    uint64_t start = log_start_offset(t);
    CHECK(log_read(t, start, 5, 1 << 20, &held, &err) == 0 && held.n == 5);
    CHECK(log_read(t, 1195, 5, 1 << 20, &held, &err) == 0 && held.n == 5);
    CHECK(held.n == 5 && rec_ok(&held.recs[4], 1199));
    log_batch_free(&held);
    for (int k = 0; k < 3; k++)
        log_batch_free(&b[k]);
    log_topic_close(t);
}

static void test_retention_age(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_NEVER;
    o.segment_bytes = 4096;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    /* 500 records stamped two hours ago, then 500 stamped now */
    int64_t old = (int64_t)time(NULL) * 1000 - 2 * 3600 * 1000;
    sl_err err;
    for (uint64_t i = 0; i < 1000; i++) {
        char s[32];
        snprintf(s, sizeof s, "rec-%" PRIu64, i);
        log_entry e = {s, (uint32_t)strlen(s), i < 500 ? old : 0};
        uint64_t off;
        CHECK(log_append(t, &e, 1, &off, &err) == 0);
    }
    log_topic_close(t);
    o.retention_ms = 3600 * 1000; /* one hour: reopen computes segment ages from disk */
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(log_start_offset(t), 0);
    CHECK(log_apply_retention(t, &err) == 0);
    uint64_t start = log_start_offset(t);
    /* every segment made only of old records is gone, the one holding offset 500 stays */
    CHECK(start > 0 && start <= 500);
    CHECK(read_all_check(t, start) == (long)(1000 - start));
    log_batch b = {0};
    CHECK(log_read(t, start, 1, 4096, &b, &err) == 0 && b.n == 1);
    CHECK(b.n == 1 && b.recs[0].offset == start);
    log_batch_free(&b);
    uint64_t before = start;
    CHECK(log_apply_retention(t, &err) == 0);
    CHECK_EQ_U64(log_start_offset(t), before);
    log_topic_close(t);
}

static void test_consumer_offsets(void)
{
    const char *dir = test_tmpdir();
    log_topic *t = open_w(dir, "events", NULL);
    if (!t)
        return;
    sl_err err;
    uint64_t off = 7;
    CHECK(log_committed_offset(t, "stream", &off, &err) == -ENOENT);
    CHECK(log_commit_offset(t, "stream", 42, &err) == 0);
    CHECK(log_committed_offset(t, "stream", &off, &err) == 0 && off == 42);
    CHECK(log_commit_offset(t, "stream", 43, &err) == 0);
    CHECK(log_commit_offset(t, "other", 1, &err) == 0);
    CHECK(log_committed_offset(t, "stream", &off, &err) == 0 && off == 43);
    CHECK(log_commit_offset(t, "../etc", 1, &err) == -EINVAL);
    log_topic_close(t);
    /* another handle (reader) sees it; no temporary files are left behind */
    log_topic *r;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK(log_committed_offset(r, "stream", &off, &err) == 0 && off == 43);
    log_topic_close(r);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s/log/events/groups | wc -l) -eq 2", dir);
    CHECK(system(cmd) == 0);
    /* a damaged file is an error naming it */
    char path[512];
    snprintf(path, sizeof path, "%s/log/events/groups/stream.offset", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("forty\n", f);
        fclose(f);
    }
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK(log_committed_offset(r, "stream", &off, &err) == -EBADMSG);
    CHECK(strstr(err.msg, "stream.offset") != NULL);
    log_topic_close(r);
}

static void test_size_limits(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.max_record_bytes = 100;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    char big[101];
    memset(big, 'x', sizeof big);
    sl_err err;
    uint64_t off;
    log_entry ok = {big, 100, 0}, too = {big, 101, 0};
    CHECK(log_append(t, &ok, 1, &off, &err) == 0);
    CHECK(log_append(t, &too, 1, &off, &err) == -EMSGSIZE);
    CHECK(strstr(err.msg, "101") && strstr(err.msg, "maximum of 100"));
    /* all or nothing: one bad record refuses the whole batch */
    log_entry mixed[3] = {ok, too, ok};
    CHECK(log_append(t, mixed, 3, &off, &err) == -EMSGSIZE);
    CHECK_EQ_U64(log_high_watermark(t), 1);
    log_topic_close(t);
    log_opts_init(&o);
    o.max_record_bytes = LOG_RECORD_MAX_HARD + 1;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_WRITE, &o, &t, &err) == -EINVAL);
}

/* ---- concurrent durable appends (group commit, interval mode) ---- */

/* `threads` threads each append `per_thread` records "t<id>-<i>-" padded with `pad` 'x'
 * bytes, one log_append() each; an append that fails, or returns before its record is
 * durable, counts in *fail. */
#define AP_MAX_THREADS 64
typedef struct {
    log_topic  *t;
    long        id;
    int         per_thread, pad;
    atomic_int *fail;
} appender_arg;

static void *appender(void *arg)
{
    const appender_arg *a = arg;
    for (int i = 0; i < a->per_thread; i++) {
        char s[256];
        int n = snprintf(s, sizeof s, "t%ld-%d-", a->id, i);
        memset(s + n, 'x', (size_t)a->pad);
        log_entry e = {s, (uint32_t)(n + a->pad), 0};
        uint64_t off;
        sl_err err;
        if (log_append(a->t, &e, 1, &off, &err) || log_durable_end(a->t) <= off)
            atomic_fetch_add(a->fail, 1);
    }
    return NULL;
}

static void run_appenders(log_topic *t, int threads, int per_thread, int pad, atomic_int *fail)
{
    pthread_t th[AP_MAX_THREADS];
    appender_arg args[AP_MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        args[i] = (appender_arg){t, i, per_thread, pad, fail};
        CHECK(pthread_create(&th[i], NULL, appender, &args[i]) == 0);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
}

/* Reads t from offset 0: offsets dense, every appender record there exactly once, each
 * thread's in the order it appended them. */
static void check_appended(log_topic *t, int threads, int per_thread)
{
    int seen[AP_MAX_THREADS] = {0};
    log_batch b = {0};
    sl_err err;
    uint64_t next = 0;
    int rc;
    while ((rc = log_read(t, next, 100, 1 << 20, &b, &err)) == 0 && b.n) {
        for (size_t i = 0; i < b.n; i++) {
            long id;
            int k;
            CHECK_EQ_U64(b.recs[i].offset, next);
            char s[64];
            snprintf(s, sizeof s, "%.*s", (int)(b.recs[i].len < 40 ? b.recs[i].len : 40),
                     b.recs[i].data);
            CHECK(sscanf(s, "t%ld-%d-", &id, &k) == 2);
            if (id >= 0 && id < threads) {
                CHECK(k == seen[id]);
                seen[id]++;
            }
            next = b.recs[i].offset + 1;
        }
    }
    CHECK(rc == 0);
    log_batch_free(&b);
    for (int i = 0; i < threads; i++)
        CHECK(seen[i] == per_thread);
}

#define GC_THREADS 16
#define GC_PER_THREAD 40

static void test_group_commit(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_ALWAYS;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    atomic_int fail = 0;
    run_appenders(t, GC_THREADS, GC_PER_THREAD, 0, &fail);
    CHECK(atomic_load(&fail) == 0);
    CHECK_EQ_U64(log_high_watermark(t), GC_THREADS * GC_PER_THREAD);
    CHECK_EQ_U64(log_durable_end(t), GC_THREADS * GC_PER_THREAD);
    /* Group commit shares syncs: the counted syncs covered every record (no roll here),
     * and on average at least two records each (one sync per record would be 640). */
    uint64_t syncs, synced;
    log_sync_stats(t, &syncs, &synced);
    fprintf(stderr, "  group commit: %" PRIu64 " records in %" PRIu64 " syncs\n", synced,
            syncs);
    CHECK_EQ_U64(synced, GC_THREADS * GC_PER_THREAD);
    CHECK(syncs >= 1 && syncs * 2 <= synced);
    check_appended(t, GC_THREADS, GC_PER_THREAD);
    log_topic_close(t);
}

/* ALWAYS mode write combining: 64 threads append single records and batches of 2..5,
 * mixed with a few log_append_nowait callers, into 16 KiB segments (so that groups roll
 * between batches). Every record must be there exactly once, every batch contiguous at
 * the offset its append returned, and the syncs shared. SLUICE_LOG_WC_APPENDS sets the
 * appends per thread (default 30). */
#define WC_THREADS 64
#define WC_NOWAIT_THREADS 4
#define WC_MAX_APPENDS 1000
static log_topic *wc_topic;
static atomic_int wc_fail;
static int wc_appends;
static uint64_t wc_first[WC_THREADS][WC_MAX_APPENDS];

static int wc_batch_len(long id, int i) { return (int)((id + i) % 5) + 1; }

static void *wc_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    bool nowait = id < WC_NOWAIT_THREADS;
    for (int i = 0; i < wc_appends; i++) {
        int n = wc_batch_len(id, i);
        char s[5][80];
        log_entry e[5];
        for (int j = 0; j < n; j++) {
            int len = snprintf(s[j], sizeof s[j], "w%ld-%d-%d/%d-%.*s", id, i, j, n,
                               (int)(id % 40), "........................................");
            e[j] = (log_entry){s[j], (uint32_t)len, 0};
        }
        uint64_t off = UINT64_MAX;
        sl_err err;
        int rc = nowait ? log_append_nowait(wc_topic, e, (size_t)n, &off, &err)
                        : log_append(wc_topic, e, (size_t)n, &off, &err);
        if (!rc && nowait)
            rc = log_wait_durable(wc_topic, off + (uint64_t)n, &err);
        if (rc || log_durable_end(wc_topic) < off + (uint64_t)n) {
            fprintf(stderr, "  thread %ld append %d: rc %d %s\n", id, i, rc, rc ? err.msg : "");
            atomic_fetch_add(&wc_fail, 1);
        }
        wc_first[id][i] = off;
    }
    return NULL;
}

static void test_write_combining(void)
{
    const char *env = getenv("SLUICE_LOG_WC_APPENDS");
    wc_appends = env ? atoi(env) : 30;
    if (wc_appends < 1 || wc_appends > WC_MAX_APPENDS)
        wc_appends = 30;
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_ALWAYS;
    o.segment_bytes = 16 * 1024;
    wc_topic = open_w(dir, "events", &o);
    if (!wc_topic)
        return;
    pthread_t th[WC_THREADS];
    for (long i = 0; i < WC_THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, wc_worker, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < WC_THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&wc_fail) == 0);
    uint64_t total = 0;
    for (long id = 0; id < WC_THREADS; id++)
        for (int i = 0; i < wc_appends; i++)
            total += (uint64_t)wc_batch_len(id, i);
    CHECK_EQ_U64(log_high_watermark(wc_topic), total);
    CHECK_EQ_U64(log_durable_end(wc_topic), total);
    uint64_t syncs, synced;
    log_sync_stats(wc_topic, &syncs, &synced);
    fprintf(stderr, "  write combining: %" PRIu64 " records, %" PRIu64 " counted syncs, "
                    "%d segments\n",
            total, syncs, count_files(dir, "log"));
    /* one sync per append would be WC_THREADS * wc_appends */
    CHECK(syncs * 2 <= (uint64_t)WC_THREADS * (uint64_t)wc_appends);
    CHECK(count_files(dir, "log") > 2);
    /* every record exactly once, at the offset its append returned + its index */
    static unsigned char seen[WC_THREADS][WC_MAX_APPENDS][5];
    memset(seen, 0, sizeof seen);
    log_batch b = {0};
    sl_err err;
    uint64_t next = 0, nread = 0, unexpected = 0;
    int rc;
    while ((rc = log_read(wc_topic, next, 500, 1 << 20, &b, &err)) == 0 && b.n) {
        for (size_t k = 0; k < b.n; k++) {
            long id;
            int i, j, n;
            char s[96];
            snprintf(s, sizeof s, "%.*s", (int)b.recs[k].len, b.recs[k].data);
            CHECK(b.recs[k].offset == next);
            if (sscanf(s, "w%ld-%d-%d/%d", &id, &i, &j, &n) != 4 || id < 0 ||
                id >= WC_THREADS || i < 0 || i >= wc_appends || j < 0 || j >= 5 ||
                n != wc_batch_len(id, i)) {
                unexpected++;
                fprintf(stderr, "  offset %" PRIu64 ": %s\n", b.recs[k].offset, s);
            } else {
                CHECK_EQ_U64(b.recs[k].offset, wc_first[id][i] + (uint64_t)j);
                CHECK(seen[id][i][j] == 0);
                seen[id][i][j]++;
            }
            next = b.recs[k].offset + 1;
            nread++;
        }
    }
    CHECK(rc == 0);
    log_batch_free(&b);
    CHECK_EQ_U64(unexpected, 0);
    CHECK_EQ_U64(nread, total);
    log_topic_close(wc_topic);
}

/* A failed combined write: in a child with RLIMIT_FSIZE, 64 ALWAYS-mode threads append
 * until the file size limit makes pwrite fail (EFBIG). Every append either succeeded (its
 * records are readable at the offsets it returned) or failed with EFBIG and left nothing
 * behind: the log holds exactly the successful batches, back to back, and the segment
 * ends right after the last of them (the failed group's bytes were cut). */
#define WF_APPENDS 200
static _Atomic uint64_t wf_ok_bytes;
static atomic_int wf_efbig, wf_other;
static int wf_res[WC_THREADS][WF_APPENDS]; /* 0 not tried, 1 ok, -1 failed */

static void *wf_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (int i = 0; i < WF_APPENDS; i++) {
        int n = wc_batch_len(id, i);
        char s[5][80];
        log_entry e[5];
        uint64_t bytes = 0;
        for (int j = 0; j < n; j++) {
            int len = snprintf(s[j], sizeof s[j], "w%ld-%d-%d/%d-%.*s", id, i, j, n,
                               (int)(id % 40), "........................................");
            e[j] = (log_entry){s[j], (uint32_t)len, 0};
            bytes += LOG_RECORD_HEADER_BYTES + (uint64_t)len;
        }
        uint64_t off;
        sl_err err;
        int rc = log_append(wc_topic, e, (size_t)n, &off, &err);
        if (rc) {
            wf_res[id][i] = -1;
            if (rc == -EFBIG && err.code == -EFBIG && strstr(err.msg, "write"))
                atomic_fetch_add(&wf_efbig, 1);
            else {
                fprintf(stderr, "  thread %ld: rc %d: %s\n", id, rc, err.msg);
                atomic_fetch_add(&wf_other, 1);
            }
            return NULL;
        }
        wc_first[id][i] = off;
        wf_res[id][i] = 1;
        atomic_fetch_add(&wf_ok_bytes, bytes);
    }
    return NULL;
}

static int wf_child(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 64 * 1024, .rlim_max = 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &rl))
        return 2;
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_ALWAYS;
    wc_topic = open_w(dir, "events", &o);
    if (!wc_topic)
        return 3;
    pthread_t th[WC_THREADS];
    for (long i = 0; i < WC_THREADS; i++)
        if (pthread_create(&th[i], NULL, wf_worker, (void *)(intptr_t)i))
            return 4;
    for (int i = 0; i < WC_THREADS; i++)
        pthread_join(th[i], NULL);
    int bad = 0;
    if (atomic_load(&wf_other) || atomic_load(&wf_efbig) == 0) {
        fprintf(stderr, "  %d EFBIG failures, %d other\n", atomic_load(&wf_efbig),
                atomic_load(&wf_other));
        bad++;
    }
    uint64_t okrecs = 0;
    for (long id = 0; id < WC_THREADS; id++)
        for (int i = 0; i < WF_APPENDS; i++)
            if (wf_res[id][i] == 1)
                okrecs += (uint64_t)wc_batch_len(id, i);
    if (log_high_watermark(wc_topic) != okrecs || log_durable_end(wc_topic) != okrecs) {
        fprintf(stderr, "  high watermark %" PRIu64 ", %" PRIu64 " records acknowledged\n",
                log_high_watermark(wc_topic), okrecs);
        bad++;
    }
    log_batch b = {0};
    sl_err err;
    uint64_t next = 0;
    while (log_read(wc_topic, next, 500, 1 << 20, &b, &err) == 0 && b.n) {
        for (size_t k = 0; k < b.n; k++) {
            long id;
            int i, j, n;
            char s[96];
            snprintf(s, sizeof s, "%.*s", (int)b.recs[k].len, b.recs[k].data);
            if (sscanf(s, "w%ld-%d-%d/%d", &id, &i, &j, &n) != 4 || id < 0 ||
                id >= WC_THREADS || i < 0 || i >= WF_APPENDS || wf_res[id][i] != 1 ||
                b.recs[k].offset != wc_first[id][i] + (uint64_t)j) {
                fprintf(stderr, "  offset %" PRIu64 ": unexpected record %s\n",
                        b.recs[k].offset, s);
                bad++;
            }
            next = b.recs[k].offset + 1;
        }
    }
    log_batch_free(&b);
    if (next != okrecs)
        bad++;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/log/events/%020d.log", dir, 0);
    struct stat st;
    if (stat(path, &st) || (uint64_t)st.st_size != atomic_load(&wf_ok_bytes)) {
        fprintf(stderr, "  segment has %lld bytes, acknowledged batches %" PRIu64 "\n",
                (long long)st.st_size, atomic_load(&wf_ok_bytes));
        bad++;
    }
    log_topic_close(wc_topic);
    return bad ? 1 : 0;
}

static void test_write_combining_failure(void)
{
    const char *dir = test_tmpdir();
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(wf_child(dir));
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_U64(WEXITSTATUS(status), 0);
}

/* INTERVAL mode with tiny segments and a 1 ms interval: background syncs, early writeback
 * (every quarter segment) and rolls all race with 8 appending threads; every record must
 * be there once, in each thread's order, and the durable callback must only grow. */
#define IV_THREADS 8
#define IV_PER_THREAD 400
static atomic_int iv_fail;
static _Atomic uint64_t iv_cb_end;

static void iv_on_durable(void *ud, uint64_t end, int status)
{
    (void)ud;
    uint64_t prev = atomic_exchange(&iv_cb_end, end);
    if (status != 0 || end < prev)
        atomic_fetch_add(&iv_fail, 1);
}

static void test_interval_concurrent(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_INTERVAL;
    o.fsync_interval_ms = 1;
    o.segment_bytes = 4096;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    atomic_store(&iv_fail, 0);
    atomic_store(&iv_cb_end, 0);
    log_set_durable_callback(t, iv_on_durable, NULL);
    /* ~110-byte records: a 4 KiB segment holds ~30 */
    run_appenders(t, IV_THREADS, IV_PER_THREAD, 100, &iv_fail);
    CHECK(atomic_load(&iv_fail) == 0);
    CHECK_EQ_U64(log_high_watermark(t), IV_THREADS * IV_PER_THREAD);
    CHECK_EQ_U64(atomic_load(&iv_cb_end), IV_THREADS * IV_PER_THREAD);
    CHECK(count_files(dir, "log") > 50); /* it did roll, many times */
    log_topic_close(t);
    /* reopen (recovery of the active segment) and read everything back */
    if (!(t = open_w(dir, "events", &o)))
        return;
    CHECK_EQ_U64(log_high_watermark(t), IV_THREADS * IV_PER_THREAD);
    check_appended(t, IV_THREADS, IV_PER_THREAD);
    log_topic_close(t);
}

/* ---- nowait + durable callback ---- */

static _Atomic uint64_t cb_end;
static atomic_int cb_calls, cb_bad, cb_on_main;
static pthread_t cb_main;

static void on_durable(void *ud, uint64_t end, int status)
{
    (void)ud;
    if (status != 0)
        atomic_fetch_add(&cb_bad, 1);
    uint64_t prev = atomic_exchange(&cb_end, end);
    if (end < prev)
        atomic_fetch_add(&cb_bad, 1); /* values must only grow */
    atomic_fetch_add(&cb_calls, 1);
    if (pthread_equal(pthread_self(), cb_main))
        atomic_fetch_add(&cb_on_main, 1);
}

static void test_nowait_callback(void)
{
    /* ALWAYS: the append returns at once; the sync thread calls back when durable */
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_ALWAYS;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    atomic_store(&cb_end, 0);
    atomic_store(&cb_calls, 0);
    atomic_store(&cb_bad, 0);
    cb_main = pthread_self();
    log_set_durable_callback(t, on_durable, NULL);
    sl_err err;
    for (int i = 0; i < 200; i++) {
        log_entry e = {"{\"x\":1}", 7, 0};
        uint64_t off;
        CHECK(log_append_nowait(t, &e, 1, &off, &err) == 0);
        CHECK_EQ_U64(off, (uint64_t)i);
        CHECK(log_durable_end(t) <= off + 1);
    }
    uint64_t deadline = mono_ms() + 10000;
    while (atomic_load(&cb_end) < 200 && mono_ms() < deadline) {
        /* poll the condition; the callback comes from the log's own thread */
        usleep(1000);
    }
    CHECK_EQ_U64(atomic_load(&cb_end), 200);
    CHECK_EQ_U64(log_durable_end(t), 200);
    CHECK(atomic_load(&cb_calls) >= 1 && atomic_load(&cb_calls) <= 200);
    CHECK(atomic_load(&cb_bad) == 0);
    CHECK(atomic_load(&cb_on_main) == 0);
    CHECK(log_wait_durable(t, 201, &err) == -EINVAL); /* not written: would never come */
    log_topic_close(t);

    /* NEVER and INTERVAL: written is durable; the callback runs inside the append */
    for (int mode = 0; mode < 2; mode++) {
        dir = test_tmpdir();
        log_opts_init(&o);
        o.fsync_mode = mode ? LOG_FSYNC_INTERVAL : LOG_FSYNC_NEVER;
        t = open_w(dir, "events", &o);
        if (!t)
            return;
        atomic_store(&cb_end, 0);
        atomic_store(&cb_on_main, 0);
        log_set_durable_callback(t, on_durable, NULL);
        log_entry e = {"{}", 2, 0};
        uint64_t off;
        CHECK(log_append_nowait(t, &e, 1, &off, &err) == 0);
        CHECK_EQ_U64(atomic_load(&cb_end), 1);
        CHECK(atomic_load(&cb_on_main) == 1);
        CHECK_EQ_U64(log_durable_end(t), 1);
        log_topic_close(t);
    }
}

/* ---- one writer; readers elsewhere ---- */

static void test_second_writer(void)
{
    const char *dir = test_tmpdir();
    log_topic *t = open_w(dir, "events", NULL);
    if (!t)
        return;
    sl_err err;
    log_topic *t2 = NULL;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_WRITE, NULL, &t2, &err) == -EBUSY);
    CHECK(t2 == NULL);
    char want[128];
    snprintf(want, sizeof want, "topic events is already open for writing by pid %ld",
             (long)getpid());
    CHECK_STR(err.msg, want);
    /* and from another process */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        log_topic *c;
        sl_err e2;
        int rc = log_topic_open(dir, "events", LOG_OPEN_WRITE, NULL, &c, &e2);
        _exit(rc == -EBUSY && strstr(e2.msg, want + 0) ? 0 : 1);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    log_topic_close(t);
    /* released at close */
    CHECK(log_topic_open(dir, "events", LOG_OPEN_WRITE, NULL, &t2, &err) == 0);
    log_topic_close(t2);
}

static void test_reader_other_process(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.segment_bytes = 1024; /* the reader must also follow rolls */
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* child: a reader waiting for 100 records, each woken by inotify */
        log_topic *r;
        sl_err err;
        if (log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err))
            _exit(2);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        uint64_t next = 0;
        log_batch b = {0};
        while (next < 100) {
            if (log_wait(r, next, 10000) != 1)
                _exit(4);
            if (log_read(r, next, 1000, 1 << 20, &b, &err))
                _exit(5);
            for (size_t i = 0; i < b.n; i++) {
                char want[32];
                snprintf(want, sizeof want, "rec-%" PRIu64, next);
                if (b.recs[i].offset != next || b.recs[i].len != strlen(want) ||
                    memcmp(b.recs[i].data, want, b.recs[i].len))
                    _exit(6);
                next++;
            }
        }
        _exit(0);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    uint64_t t0 = mono_ms();
    fill(t, 0, 100);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fprintf(stderr, "  reader child exit %d\n", WEXITSTATUS(st));
    CHECK(mono_ms() - t0 < 10000);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    /* log_wait times out when nothing comes */
    log_topic *r;
    sl_err err;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK(log_wait(r, 99, 0) == 1);
    uint64_t w0 = mono_ms();
    CHECK(log_wait(r, 100, 50) == 0);
    CHECK(mono_ms() - w0 >= 45);
    CHECK(log_wait(t, 100, 50) == 0);
    log_topic_close(r);
    log_topic_close(t);
}

/* ---- recovery ---- */

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, p, n) == (ssize_t)n);
        close(fd);
    }
}

static void test_torn_tail(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_NEVER;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    fill(t, 0, 10);
    log_topic_close(t);
    char path[512];
    snprintf(path, sizeof path, "%s/log/events/%020d.log", dir, 0);
    uint64_t good = file_size(path);

    /* 1: the first 40 bytes of what would be record 10 (a write cut by a crash) */
    unsigned char rec[64];
    size_t n = log_record_encode(rec, 10, 1, "rec-10-and-more-bytes", 21);
    append_bytes(path, rec, n - 9);
    /* a reader treats the torn tail as the end, before any writer cuts it */
    log_topic *r;
    sl_err err;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    CHECK(read_all_check(r, 0) == 10);
    CHECK_EQ_U64(log_high_watermark(r), 10);
    log_topic_close(r);
    t = open_w(dir, "events", &o); /* reports the cut on stderr */
    if (!t)
        return;
    CHECK_EQ_U64(file_size(path), good);
    CHECK_EQ_U64(log_high_watermark(t), 10);
    fill(t, 10, 12);
    log_topic_close(t);

    /* 2: a whole record with a bad CRC and garbage after it */
    good = file_size(path);
    n = log_record_encode(rec, 12, 1, "rec-12", 6);
    rec[30] ^= 1;
    append_bytes(path, rec, n);
    append_bytes(path, "\0\0\0garbage", 10);
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(file_size(path), good);
    CHECK(read_all_check(t, 0) == 12);
    log_topic_close(t);

    /* 3: zeroes (a file extended but never written, after a power loss) */
    unsigned char zero[4096] = {0};
    append_bytes(path, zero, sizeof zero);
    t = open_w(dir, "events", &o);
    if (!t)
        return;
    CHECK_EQ_U64(file_size(path), good);
    CHECK_EQ_U64(log_high_watermark(t), 12);
    log_topic_close(t);
}

static void test_flipped_byte(void)
{
    const char *dir = test_tmpdir();
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_NEVER;
    log_topic *t = open_w(dir, "events", &o);
    if (!t)
        return;
    fill(t, 0, 10); /* "rec-N": 5 payload bytes, 33-byte records */
    log_topic_close(t);
    char path[512];
    snprintf(path, sizeof path, "%s/log/events/%020d.log", dir, 0);
    uint64_t size = file_size(path);
    uint64_t rec3 = 3 * (LOG_RECORD_HEADER_BYTES + 5);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    unsigned char c;
    CHECK(pread(fd, &c, 1, (off_t)rec3 + 30) == 1);
    c ^= 0x01;
    CHECK(pwrite(fd, &c, 1, (off_t)rec3 + 30) == 1);

    /* the writer refuses to open and names the segment and the byte */
    sl_err err;
    log_topic *w = NULL;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_WRITE, &o, &w, &err) == -EBADMSG);
    char want[600];
    snprintf(want, sizeof want, "%s at byte %" PRIu64, path, rec3);
    CHECK(strstr(err.msg, want) != NULL);
    if (!strstr(err.msg, want))
        fprintf(stderr, "  message: %s\n", err.msg);
    CHECK_EQ_U64(file_size(path), size); /* nothing cut */

    /* a reader returns the records before it, then the same error: never skips */
    log_topic *r;
    CHECK(log_topic_open(dir, "events", LOG_OPEN_READ, NULL, &r, &err) == 0);
    log_batch b = {0};
    CHECK(log_read(r, 0, 100, 1 << 20, &b, &err) == 0);
    CHECK(b.n == 3);
    CHECK(log_read(r, 3, 100, 1 << 20, &b, &err) == -EBADMSG);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK(log_read(r, 5, 100, 1 << 20, &b, &err) == -EBADMSG); /* seeking past it too */
    log_batch_free(&b);
    log_topic_close(r);

    /* the same byte flipped back: all is well again */
    c ^= 0x01;
    CHECK(pwrite(fd, &c, 1, (off_t)rec3 + 30) == 1);
    close(fd);
    t = open_w(dir, "events", &o);
    if (t) {
        CHECK(read_all_check(t, 0) == 10);
        log_topic_close(t);
    }
}

int main(void)
{
    RUN(test_crc32c);
    RUN(test_format);
    RUN(test_parse_and_names);
    RUN(test_append_read);
    RUN(test_roll_and_index);
    RUN(test_retention_size);
    RUN(test_read_sealed_segments);
    RUN(test_retention_age);
    RUN(test_consumer_offsets);
    RUN(test_size_limits);
    RUN(test_group_commit);
    RUN(test_write_combining);
    RUN(test_write_combining_failure);
    RUN(test_interval_concurrent);
    RUN(test_nowait_callback);
    RUN(test_second_writer);
    RUN(test_reader_other_process);
    RUN(test_torn_tail);
    RUN(test_flipped_byte);
    return test_summary();
}
