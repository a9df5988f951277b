/* log.c — the embedded durable log (see log.h for the API and the durability modes).
 *
 * ON DISK
 *   <data dir>/log/<topic>/
 *     .writer.lock                 flock()ed by the one writer; holds its pid as text
 *     <base offset>.log            segment: records base, base+1, ... back to back
 *     <base offset>.idx            sparse index of that segment (a hint, never trusted)
 *     groups/<group>.offset        committed consumer offset, "<decimal>\n"
 *   <base offset> is the offset of the segment's first record, zero-padded to 20 digits,
 *   so that names sort like offsets.
 *
 * RECORD FORMAT (every integer little-endian; no padding between records)
 *   byte  0..3   magic and version: 'S' 'L' 'G' 0x01
 *   byte  4..7   CRC32C (Castagnoli) of bytes 8 .. 28+len-1 (length, offset, timestamp,
 *                payload), initial value 0, as computed by crc32c_update(0, ...)
 *   byte  8..11  len: payload length in bytes, u32, at most LOG_RECORD_MAX_HARD (64 MiB)
 *   byte 12..19  offset, u64
 *   byte 20..27  timestamp, i64, milliseconds since the Unix epoch (UTC)
 *   byte 28..    payload, len bytes (sluice stores one JSON object; the log does not care)
 *
 * VALIDITY RULE. A record starting at byte P of segment <B>.log is valid iff
 *   (1) the 28 header bytes and the len payload bytes lie inside the file,
 *   (2) bytes 0..3 are the magic and version above,
 *   (3) len <= LOG_RECORD_MAX_HARD,
 *   (4) the stored CRC32C equals the CRC32C of bytes 8 .. 28+len-1, and
 *   (5) its offset is B when P == 0, else the offset of the valid record before it + 1.
 * The log of a segment is the longest run of valid records from byte 0. Nothing else.
 *
 * RECOVERY (when a writer opens the topic; only the last, active segment is scanned —
 * older segments were complete and synced when the writer rolled past them, and readers
 * check every record they read anyway):
 *   - scan valid records from byte 0; let P be the end of the last valid one;
 *   - if the file is longer than P, search the rest for any valid-looking record (magic,
 *     length, CRC all right) with an offset at or after the expected one;
 *       found:     the damage is in the middle: fail with the segment path and byte P,
 *                  cut nothing (a human decides);
 *       not found: a torn or garbage tail (a write cut by a crash or power loss): cut the
 *                  file to P, sync, report it on stderr.
 * Readers apply the same rule: an invalid record with a valid record or a newer segment
 * after it is an error naming the segment and byte; an invalid record at the very end is
 * treated as the end of the log (it is a tail the next writer will cut). Bad records are
 * never skipped.
 *
 * SPARSE INDEX. <B>.idx is an array of 16-byte entries {u64 offset, u64 byte position},
 * one for the first record of the segment and then one at least every LOG_INDEX_EVERY
 * bytes. It is written without sync; readers check that the record at the position has
 * the offset the entry claims and fall back to scanning from byte 0 otherwise. The writer
 * rebuilds the active segment's index on open.
 *
 * THREADS AND LOCKS (writer side)
 *   qmu    the ALWAYS-mode writer queue (q_*); held only to link, unlink and count.
 *   wlock  serialises appends, rolls and retention; owns seg_fd/idx_fd/seg_size/next.
 *   mu     sync state: written_end, synced_end, durable_end, syncing, failed; seg_fd is
 *          swapped under wlock+mu so that a sync leader holding mu sees a consistent pair.
 *   seglock the segment list (base offsets, sizes).
 *   rlock  the read cursor (log_read, log_high_watermark/log_wait of a reader).
 *   Order: wlock -> mu, wlock -> seglock, rlock -> seglock; qmu is never held with
 *   another. Nothing is held while calling fdatasync except by the roll (which holds
 *   wlock: appends wait for it, by design). A write-combining leader holds no lock during
 *   its sync, but the queue stays its own until the sync is over.
 * The sync thread (INTERVAL and ALWAYS modes) is owned by the topic and joined by close.
 *
 * WRITE COMBINING (ALWAYS, log_append). Callers queue their batches; the one at the head
 * writes the whole queue with one pwrite and one sync and hands each member its result;
 * members sleep once (details above append_combined). log_append_nowait and the other
 * modes write under wlock directly.
 *
 * GROUP COMMIT (ALWAYS). A sync covers everything written when it starts. A thread in
 * log_wait_durable leads a sync itself when none runs; otherwise it queues on the waiter
 * list (its own futex word on its stack) and is woken only by the sync that covers it —
 * a broadcast would wake all 64 appenders after every sync on a 2-core machine, and the
 * wake-ups cost more CPU than the fdatasync. After a sync that woke K waiters, the next
 * one is held back until K more records are written or the last sync's duration passes
 * (at most 2 ms): the woken threads are about to append again, and a sync that starts
 * at once covers only the first of them (measured: 30 records per fdatasync with 64
 * appenders without the hold, 50-55 with it). A lone appender is never held: it is the
 * one the hold waits for.
 *
 * EARLY WRITEBACK (INTERVAL). Every quarter segment or 4 MiB the sync thread starts the
 * kernel's writeback of what was written (sync_file_range WRITE, without waiting), so
 * that the interval's fdatasync, and above all the one at a roll, which holds wlock,
 * find little left to write.
 */
#include "bus/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus/crc32c.h"
#include "common/buf.h"
#include "common/cli.h"

#define LOG_MAGIC0 'S'
#define LOG_MAGIC1 'L'
#define LOG_MAGIC2 'G'
#define LOG_VERSION 1
#define LOG_INDEX_EVERY 4096u
#define LOG_IDX_ENTRY 16u
#define LOG_SCAN_CHUNK (1u << 20)
#define LOG_BATCH_MAX_BYTES (256ull * 1024 * 1024)
/* INTERVAL mode starts the kernel's writeback of the active segment every this many bytes
 * (or every quarter segment if that is less), with sync_file_range from the sync thread,
 * so that the interval's fdatasync and the one at a segment roll (which holds the append
 * lock) find little left to write. Measured with bench/log_append (64 MiB segments): the
 * roll's fdatasync went from ~40 ms to 1-4 ms, and appends stall for that long. */
#define LOG_WRITEBACK_EVERY (4u << 20)

/* ---- little-endian helpers ---- */

static inline void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static inline uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- record codec ---- */

size_t log_record_encode(void *out, uint64_t offset, int64_t ts_ms, const void *data,
                         uint32_t len)
{
    unsigned char *p = out;
    p[0] = LOG_MAGIC0;
    p[1] = LOG_MAGIC1;
    p[2] = LOG_MAGIC2;
    p[3] = LOG_VERSION;
    put32(p + 8, len);
    put64(p + 12, offset);
    put64(p + 20, (uint64_t)ts_ms);
    if (len)
        memcpy(p + LOG_RECORD_HEADER_BYTES, data, len);
    put32(p + 4, crc32c_update(0, p + 8, 20 + (size_t)len));
    return LOG_RECORD_HEADER_BYTES + (size_t)len;
}

int log_record_decode(const void *buf, size_t len, log_record *out, size_t *rec_bytes,
                      const char **why)
{
    const unsigned char *p = buf;
    *rec_bytes = 0;
    *why = NULL;
    /* Check the magic on whatever prefix we have, so garbage is BAD, not SHORT. */
    static const unsigned char magic[4] = {LOG_MAGIC0, LOG_MAGIC1, LOG_MAGIC2, LOG_VERSION};
    size_t m = len < 4 ? len : 4;
    if (memcmp(p, magic, m)) {
        *why = m >= 4 && !memcmp(p, magic, 3) ? "unknown record version" : "bad magic";
        return LOG_DECODE_BAD;
    }
    if (len < LOG_RECORD_HEADER_BYTES)
        return LOG_DECODE_SHORT;
    uint32_t plen = get32(p + 8);
    if (plen > LOG_RECORD_MAX_HARD) {
        *why = "length field too large";
        return LOG_DECODE_BAD;
    }
    size_t total = LOG_RECORD_HEADER_BYTES + (size_t)plen;
    *rec_bytes = total;
    if (len < total)
        return LOG_DECODE_SHORT;
    if (crc32c_update(0, p + 8, 20 + (size_t)plen) != get32(p + 4)) {
        *why = "CRC32C mismatch";
        return LOG_DECODE_BAD;
    }
    out->offset = get64(p + 12);
    out->ts_ms = (int64_t)get64(p + 20);
    out->data = (const char *)p + LOG_RECORD_HEADER_BYTES;
    out->len = plen;
    return LOG_DECODE_OK;
}

/* ---- options and names ---- */

void log_opts_init(log_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fsync_mode = LOG_FSYNC_INTERVAL;
    o->fsync_interval_ms = 1000;
    o->segment_bytes = 64ull * 1024 * 1024;
    o->max_record_bytes = 1024 * 1024;
}

int log_parse_fsync(const char *s, log_opts *o, sl_err *err)
{
    if (!strcmp(s, "always")) {
        o->fsync_mode = LOG_FSYNC_ALWAYS;
        return 0;
    }
    if (!strcmp(s, "never")) {
        o->fsync_mode = LOG_FSYNC_NEVER;
        return 0;
    }
    if (!strcmp(s, "interval")) {
        o->fsync_mode = LOG_FSYNC_INTERVAL;
        return 0;
    }
    if (!strncmp(s, "interval=", 9)) {
        uint64_t ms;
        if (cli_parse_duration_ms(s + 9, 1, &ms) || ms < 1 || ms > 3600000)
            return sl_err_set(err, -EINVAL, false,
                              "bad --fsync interval '%s': want interval=MS with MS from 1 "
                              "to 3600000 (or a duration like 250ms, 2s)",
                              s + 9);
        o->fsync_mode = LOG_FSYNC_INTERVAL;
        o->fsync_interval_ms = (uint32_t)ms;
        return 0;
    }
    return sl_err_set(err, -EINVAL, false,
                      "bad --fsync value '%s': want always, never, interval or interval=MS",
                      s);
}

int log_topic_name_valid(const char *topic)
{
    size_t n = strlen(topic);
    if (n < 1 || n > 200 || !strcmp(topic, ".") || !strcmp(topic, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- the topic ---- */

typedef struct seg_info {
    uint64_t base;
    uint64_t bytes;   /* writer: exact for closed segments; reader: unused */
    int64_t  max_ts;  /* newest record's timestamp; INT64_MIN = not known yet */
} seg_info;

typedef struct scanner {
    int      fd;
    char    *buf;
    size_t   cap;
    uint64_t bpos;
    size_t   blen;
} scanner;

struct log_topic {
    char    *dir;
    char    *name;
    int      mode;
    log_opts o;
    int      lock_fd;

    /* writer state, under wlock */
    pthread_mutex_t wlock;
    int      seg_fd, idx_fd;
    uint64_t seg_base, seg_size, idx_last_pos, idx_size;
    bool     idx_broken;
    int64_t  seg_max_ts;
    uint64_t next;        /* next offset to assign */
    sl_buf   enc, idxbuf;

    /* sync state, under mu */
    pthread_mutex_t mu;
    pthread_cond_t  cv_data;     /* a write happened (in-process log_wait) */
    pthread_cond_t  cv_durable;  /* a sync finished */
    pthread_cond_t  cv_sync;     /* work for the sync thread */
    _Atomic uint64_t written_end, durable_end;
    uint64_t synced_end, notified_end;
    bool     syncing, stop, fail_pending;
    /* ALWAYS mode: threads blocked in log_wait_durable, oldest first; each is woken alone
     * by the sync that covers it (no broadcast: 64 appenders on 2 cores spend more time
     * in needless wake-ups than in fdatasync). */
    struct dwaiter *waiters_head, *waiters_tail;
    /* INTERVAL mode: early writeback. wb_written is the active segment's written size as
     * published by the appender, wb_started how far writeback was started on it. */
    uint64_t wb_written, wb_started, wb_every;
    bool     wb_due;
    /* ALWAYS mode, group commit: after a sync woke `returning` log_append callers, the
     * next sync is held back until that many appends arrived or hold_until_us passes (the
     * last sync's duration, at most 2 ms), so that it covers the woken threads' next records instead
     * of the first few of them. */
    uint32_t returning;
    uint64_t hold_until_us, last_sync_us;
    uint64_t stat_syncs, stat_synced_records; /* for log_sync_stats */
    /* ALWAYS mode, log_append's writer queue (see WRITE COMBINING), under qmu: the head
     * is the leader; q_expect/q_hold_us: size of the last group and how long a new leader
     * may wait for that many batches; q_seq: futex word of a holding leader. */
    pthread_mutex_t qmu;
    struct wbatch *q_head, *q_tail;
    uint32_t q_len, q_expect;
    uint64_t q_hold_us;
    bool     q_holding, qmu_ready;
    _Atomic uint32_t q_seq;
    int      failed;             /* sticky: after a failed sync or truncate */
    log_durable_fn cb;
    void    *cb_ud;
    pthread_t sync_thread;
    bool     has_thread;
    bool     mu_ready, wlock_ready, seglock_ready, rlock_ready;

    /* segment list, under seglock */
    pthread_mutex_t seglock;
    seg_info *segs;
    size_t   nsegs, segcap;

    /* read cursor and reader high watermark, under rlock */
    pthread_mutex_t rlock;
    bool     cur_valid;
    int      cur_fd;
    uint64_t cur_base, cur_pos, cur_next;
    struct seg_map *cur_map;   /* the cursor's segment mapped, when it is sealed */
    int      hw_fd;
    uint64_t hw_base, hw_pos, hw_next;
    scanner  hw_scan;
    int      ino_fd;
};

const char *log_topic_dir(log_topic *t) { return t->dir; }
const char *log_topic_name(log_topic *t) { return t->name; }

static void seg_path(const log_topic *t, uint64_t base, const char *ext, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRIu64 ".%s", t->dir, base, ext);
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t pos)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(fd, c, n, (off_t)pos);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        c += w;
        n -= (size_t)w;
        pos += (uint64_t)w;
    }
    return 0;
}

static ssize_t pread_full(int fd, void *p, size_t n, uint64_t pos)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)p + got, n - got, (off_t)(pos + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* ---- scanning a segment file ---- */

static void scanner_init(scanner *s, int fd)
{
    s->fd = fd;
    s->buf = NULL;
    s->cap = 0;
    s->bpos = 0;
    s->blen = 0;
}

static void scanner_free(scanner *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
    s->blen = 0;
}

/* Makes up to `need` bytes at pos available in *p; returns how many (less at EOF) or <0. */
static ssize_t scan_at(scanner *s, uint64_t pos, size_t need, const unsigned char **p)
{
    if (pos >= s->bpos && pos + need <= s->bpos + s->blen) {
        *p = (unsigned char *)s->buf + (pos - s->bpos);
        return (ssize_t)(s->bpos + s->blen - pos);
    }
    size_t want = need > LOG_SCAN_CHUNK ? need : LOG_SCAN_CHUNK;
    if (want > s->cap) {
        char *nb = realloc(s->buf, want);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->cap = want;
    }
    ssize_t got = pread_full(s->fd, s->buf, want, pos);
    if (got < 0) {
        s->blen = 0;
        return got;
    }
    s->bpos = pos;
    s->blen = (size_t)got;
    *p = (unsigned char *)s->buf;
    return got;
}

/* Decodes the record at pos: LOG_DECODE_* or <-1 for an I/O error (-(errno)-1... see rc). */
static int scan_record(scanner *s, uint64_t pos, log_record *r, size_t *sz, const char **why,
                       int *ioerr)
{
    const unsigned char *p;
    *ioerr = 0;
    ssize_t n = scan_at(s, pos, LOG_RECORD_HEADER_BYTES, &p);
    if (n < 0) {
        *ioerr = (int)n;
        return LOG_DECODE_BAD;
    }
    int rc = log_record_decode(p, (size_t)n, r, sz, why);
    if (rc == LOG_DECODE_SHORT && *sz > (size_t)n) {
        n = scan_at(s, pos, *sz, &p);
        if (n < 0) {
            *ioerr = (int)n;
            return LOG_DECODE_BAD;
        }
        rc = log_record_decode(p, (size_t)n, r, sz, why);
    }
    return rc;
}

/* Looks for a valid record with offset >= min_offset anywhere in [from, size). Returns 1
 * and its position/offset, 0 if none, <0 on I/O error. */
static int find_later_valid(scanner *s, uint64_t from, uint64_t size, uint64_t min_offset,
                            uint64_t *at, uint64_t *off)
{
    static const unsigned char magic[4] = {LOG_MAGIC0, LOG_MAGIC1, LOG_MAGIC2, LOG_VERSION};
    uint64_t q = from;
    while (q + LOG_RECORD_HEADER_BYTES <= size) {
        const unsigned char *p;
        ssize_t n = scan_at(s, q, LOG_SCAN_CHUNK, &p);
        if (n < 0)
            return (int)n;
        if (n < LOG_RECORD_HEADER_BYTES)
            return 0;
        const unsigned char *hit = memmem(p, (size_t)n, magic, 4);
        if (!hit) {
            q += (uint64_t)n - 3;
            continue;
        }
        uint64_t h = q + (uint64_t)(hit - p);
        log_record r;
        size_t sz;
        const char *why;
        int ioerr;
        int rc = scan_record(s, h, &r, &sz, &why, &ioerr);
        if (ioerr)
            return ioerr;
        if (rc == LOG_DECODE_OK && r.offset >= min_offset) {
            *at = h;
            *off = r.offset;
            return 1;
        }
        q = h + 1;
    }
    return 0;
}

/* ---- segment list ---- */

static int segs_push(log_topic *t, uint64_t base, uint64_t bytes, int64_t max_ts)
{
    if (t->nsegs == t->segcap) {
        size_t nc = t->segcap ? t->segcap * 2 : 16;
        seg_info *ns = realloc(t->segs, nc * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        t->segs = ns;
        t->segcap = nc;
    }
    t->segs[t->nsegs++] = (seg_info){base, bytes, max_ts};
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const seg_info *)a)->base, y = ((const seg_info *)b)->base;
    return x < y ? -1 : x > y;
}

static bool parse_seg_name(const char *name, uint64_t *base)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".log"))
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *base = v;
    return true;
}

/* Re-reads the list of segments from the folder. Caller holds seglock. */
static int segs_reload(log_topic *t, sl_err *err)
{
    DIR *d = opendir(t->dir);
    if (!d)
        return sl_err_errno(err, errno, "log: open folder %s", t->dir);
    t->nsegs = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        uint64_t base;
        if (!parse_seg_name(de->d_name, &base))
            continue;
        if ((rc = segs_push(t, base, 0, INT64_MIN))) {
            sl_err_set(err, rc, true, "log: out of memory listing %s", t->dir);
            break;
        }
    }
    closedir(d);
    if (!rc && t->nsegs > 1)
        qsort(t->segs, t->nsegs, sizeof *t->segs, cmp_seg);
    return rc;
}

/* ---- opening ---- */

static int mkdir_p(const char *path, bool *created)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (char *c = tmp + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    if (mkdir(tmp, 0755)) {
        if (errno != EEXIST)
            return -errno;
    } else if (created) {
        *created = true;
    }
    return 0;
}

static int open_lock(log_topic *t, sl_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.writer.lock", t->dir);
    t->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (t->lock_fd < 0)
        return sl_err_errno(err, errno, "log: open %s", path);
    if (flock(t->lock_fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        if (e != EWOULDBLOCK)
            return sl_err_errno(err, e, "log: lock %s", path);
        char pid[32] = "";
        ssize_t n = pread(t->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return sl_err_set(err, -EBUSY, true,
                          "topic %s is already open for writing by pid %s", t->name,
                          pid[0] ? pid : "(unknown)");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(t->lock_fd, 0) || pwrite_all(t->lock_fd, pid, (size_t)n, 0))
        return sl_err_errno(err, errno ? errno : EIO, "log: write pid to %s", path);
    return 0;
}

/* Adds index entries for records starting at rec_pos (relative to the segment) into
 * idxbuf when due. Caller holds wlock. */
static int idx_note(log_topic *t, uint64_t offset, uint64_t rec_pos)
{
    if (t->idx_broken)
        return 0;
    if (rec_pos != 0 && rec_pos - t->idx_last_pos < LOG_INDEX_EVERY && t->idx_size > 0)
        return 0;
    unsigned char e[LOG_IDX_ENTRY];
    put64(e, offset);
    put64(e + 8, rec_pos);
    int rc = sl_buf_add(&t->idxbuf, e, sizeof e);
    if (rc)
        return rc;
    t->idx_last_pos = rec_pos;
    t->idx_size += LOG_IDX_ENTRY; /* counted now, written by idx_flush */
    return 0;
}

static void idx_flush(log_topic *t)
{
    if (!t->idxbuf.len || t->idx_broken) {
        sl_buf_reset(&t->idxbuf);
        return;
    }
    uint64_t at = t->idx_size - t->idxbuf.len;
    int rc = pwrite_all(t->idx_fd, t->idxbuf.p, t->idxbuf.len, at);
    if (rc) {
        /* The index is only a hint: readers fall back to scanning. Say it once. */
        fprintf(stderr, "sluice: log %s: writing the index of segment %020" PRIu64
                        " failed (%s); reads of it will scan\n",
                t->name, t->seg_base, strerror(-rc));
        t->idx_broken = true;
    }
    sl_buf_reset(&t->idxbuf);
}

/* Scans the active segment, cuts a torn tail or fails on mid-log damage, rebuilds its
 * index. Caller is log_topic_open (no other thread yet). */
static int recover_active(log_topic *t, sl_err *err)
{
    char path[PATH_MAX];
    seg_path(t, t->seg_base, "log", path, sizeof path);
    struct stat st;
    if (fstat(t->seg_fd, &st))
        return sl_err_errno(err, errno, "log: stat %s", path);
    uint64_t size = (uint64_t)st.st_size;
    scanner s;
    scanner_init(&s, t->seg_fd);
    uint64_t pos = 0, expected = t->seg_base;
    int64_t max_ts = INT64_MIN;
    const char *why = NULL;
    int rc = 0;
    t->idx_size = 0;
    t->idx_last_pos = 0;
    while (pos < size) {
        log_record r;
        size_t sz;
        int ioerr;
        int d = scan_record(&s, pos, &r, &sz, &why, &ioerr);
        if (ioerr) {
            rc = sl_err_errno(err, -ioerr, "log: read %s", path);
            goto out;
        }
        if (d == LOG_DECODE_SHORT) {
            why = "record cut short by the end of the file";
            break;
        }
        if (d == LOG_DECODE_BAD)
            break;
        if (r.offset != expected) {
            why = "offset out of sequence";
            break;
        }
        if ((rc = idx_note(t, r.offset, pos))) {
            rc = sl_err_set(err, rc, true, "log: out of memory indexing %s", path);
            goto out;
        }
        if (r.ts_ms > max_ts)
            max_ts = r.ts_ms;
        pos += sz;
        expected++;
    }
    if (pos < size) {
        uint64_t at, off;
        int f = find_later_valid(&s, pos + 1, size, expected, &at, &off);
        if (f < 0) {
            rc = sl_err_errno(err, -f, "log: read %s", path);
            goto out;
        }
        if (f > 0) {
            rc = sl_err_set(err, -EBADMSG, false,
                            "log: corrupt record in the middle of segment %s at byte %" PRIu64
                            " (%s; expected offset %" PRIu64 "), but a valid record (offset %" PRIu64
                            ") follows at byte %" PRIu64
                            "; refusing to cut it: restore the file or truncate it by hand",
                            path, pos, why ? why : "invalid record", expected, off, at);
            goto out;
        }
        if (ftruncate(t->seg_fd, (off_t)pos)) {
            rc = sl_err_errno(err, errno, "log: cut torn tail of %s", path);
            goto out;
        }
        if (fdatasync(t->seg_fd)) {
            rc = sl_err_errno(err, errno, "log: fdatasync %s", path);
            goto out;
        }
        fprintf(stderr,
                "sluice: log %s: cut a torn tail of %" PRIu64 " bytes at byte %" PRIu64
                " of segment %s (%s); the log ends at offset %" PRIu64 "\n",
                t->name, size - pos, pos, path, why ? why : "invalid record", expected);
    }
    t->seg_size = pos;
    t->next = expected;
    t->seg_max_ts = max_ts;
    /* Rewrite the index from scratch: it is derived data. */
    if (ftruncate(t->idx_fd, 0)) {
        fprintf(stderr, "sluice: log %s: cannot reset index: %s\n", t->name, strerror(errno));
        t->idx_broken = true;
    }
    idx_flush(t);
out:
    scanner_free(&s);
    return rc;
}

static int open_segment_files(log_topic *t, uint64_t base, bool create, sl_err *err)
{
    char path[PATH_MAX];
    seg_path(t, base, "log", path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
    if (fd < 0)
        return sl_err_errno(err, errno, "log: open %s", path);
    seg_path(t, base, "idx", path, sizeof path);
    int ifd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (create ? O_TRUNC : 0), 0644);
    if (ifd < 0) {
        int e = errno;
        close(fd);
        return sl_err_errno(err, e, "log: open %s", path);
    }
    t->seg_fd = fd;
    t->idx_fd = ifd;
    t->seg_base = base;
    t->seg_size = 0;
    t->idx_size = 0;
    t->idx_last_pos = 0;
    t->idx_broken = false;
    t->seg_max_ts = INT64_MIN;
    return 0;
}

static void *sync_main(void *arg);

int log_topic_open(const char *data_dir, const char *topic, int mode, const log_opts *o,
                   log_topic **out, sl_err *err)
{
    *out = NULL;
    if (!log_topic_name_valid(topic))
        return sl_err_set(err, -EINVAL, false,
                          "bad topic name '%s': use 1 to 200 of A-Z a-z 0-9 . _ -", topic);
    log_topic *t = calloc(1, sizeof *t);
    if (!t)
        return sl_err_set(err, -ENOMEM, true, "log: out of memory");
    t->lock_fd = t->seg_fd = t->idx_fd = t->cur_fd = t->hw_fd = t->ino_fd = -1;
    t->mode = mode;
    sl_buf_init(&t->enc, LOG_BATCH_MAX_BYTES + 64);
    sl_buf_init(&t->idxbuf, 0);
    scanner_init(&t->hw_scan, -1);
    log_opts_init(&t->o);
    if (o) {
        t->o.fsync_mode = o->fsync_mode;
        if (o->fsync_interval_ms)
            t->o.fsync_interval_ms = o->fsync_interval_ms;
        if (o->segment_bytes)
            t->o.segment_bytes = o->segment_bytes;
        t->o.retention_bytes = o->retention_bytes;
        t->o.retention_ms = o->retention_ms;
        if (o->max_record_bytes)
            t->o.max_record_bytes = o->max_record_bytes;
    }
    t->wb_every = t->o.segment_bytes / 4 < LOG_WRITEBACK_EVERY ? t->o.segment_bytes / 4
                                                               : LOG_WRITEBACK_EVERY;
    int rc;
    if (t->o.max_record_bytes > LOG_RECORD_MAX_HARD) {
        rc = sl_err_set(err, -EINVAL, false, "max record size %u is above the limit of %u bytes",
                        t->o.max_record_bytes, LOG_RECORD_MAX_HARD);
        goto fail;
    }
    if (t->o.segment_bytes < 256) {
        rc = sl_err_set(err, -EINVAL, false, "segment size %" PRIu64 " is below 256 bytes",
                        t->o.segment_bytes);
        goto fail;
    }
    size_t dl = strlen(data_dir) + strlen(topic) + 8;
    t->dir = malloc(dl);
    t->name = strdup(topic);
    if (!t->dir || !t->name) {
        rc = sl_err_set(err, -ENOMEM, true, "log: out of memory");
        goto fail;
    }
    snprintf(t->dir, dl, "%s/log/%s", data_dir, topic);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv_data, &ca);
    pthread_cond_init(&t->cv_durable, &ca);
    pthread_cond_init(&t->cv_sync, &ca);
    pthread_condattr_destroy(&ca);
    t->mu_ready = true;
    pthread_mutex_init(&t->wlock, NULL);
    t->wlock_ready = true;
    pthread_mutex_init(&t->qmu, NULL);
    t->qmu_ready = true;
    pthread_mutex_init(&t->seglock, NULL);
    t->seglock_ready = true;
    pthread_mutex_init(&t->rlock, NULL);
    t->rlock_ready = true;

    if (mode != LOG_OPEN_WRITE) {
        struct stat st;
        if (stat(t->dir, &st) || !S_ISDIR(st.st_mode)) {
            rc = sl_err_set(err, -ENOENT, false, "topic %s does not exist (no folder %s)",
                            topic, t->dir);
            goto fail;
        }
        if ((rc = segs_reload(t, err)))
            goto fail;
        *out = t;
        return 0;
    }

    bool created = false;
    if ((rc = mkdir_p(t->dir, &created))) {
        rc = sl_err_errno(err, -rc, "log: create folder %s", t->dir);
        goto fail;
    }
    if (created && t->o.fsync_mode != LOG_FSYNC_NEVER) {
        /* Make the new topic folder itself durable: sync its parent (and the log/ folder,
         * which may be new too). */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s/log", data_dir);
        if ((rc = fsync_dir(parent)) || (rc = fsync_dir(data_dir))) {
            rc = sl_err_errno(err, -rc, "log: fsync folder of %s", t->dir);
            goto fail;
        }
    }
    if ((rc = open_lock(t, err)))
        goto fail;
    if ((rc = segs_reload(t, err)))
        goto fail;
    if (t->nsegs == 0) {
        if ((rc = open_segment_files(t, 0, true, err)))
            goto fail;
        if (t->o.fsync_mode != LOG_FSYNC_NEVER && (rc = fsync_dir(t->dir))) {
            rc = sl_err_errno(err, -rc, "log: fsync folder %s", t->dir);
            goto fail;
        }
        if ((rc = segs_push(t, 0, 0, INT64_MIN))) {
            rc = sl_err_set(err, rc, true, "log: out of memory");
            goto fail;
        }
        t->next = 0;
    } else {
        for (size_t i = 0; i + 1 < t->nsegs; i++) {
            char path[PATH_MAX];
            struct stat st;
            seg_path(t, t->segs[i].base, "log", path, sizeof path);
            if (stat(path, &st)) {
                rc = sl_err_errno(err, errno, "log: stat %s", path);
                goto fail;
            }
            t->segs[i].bytes = (uint64_t)st.st_size;
        }
        if ((rc = open_segment_files(t, t->segs[t->nsegs - 1].base, false, err)))
            goto fail;
        if ((rc = recover_active(t, err)))
            goto fail;
        if (t->nsegs > 1) {
            /* The segment before must end right where the active one starts; we cannot
             * check that cheaply without a scan, readers do it. */
        }
    }
    atomic_store(&t->written_end, t->next);
    atomic_store(&t->durable_end, t->next);
    t->synced_end = t->notified_end = t->next;
    if (t->o.fsync_mode != LOG_FSYNC_NEVER) {
        if ((rc = pthread_create(&t->sync_thread, NULL, sync_main, t))) {
            rc = sl_err_errno(err, rc, "log: start sync thread");
            goto fail;
        }
        t->has_thread = true;
    }
    *out = t;
    return 0;
fail:
    log_topic_close(t);
    return rc;
}

/* ---- syncing ---- */

/* A thread blocked in log_wait_durable (ALWAYS mode), on its own stack. Linked and
 * unlinked under mu; once unlinked, only its waker touches it, and only to set `done`
 * and wake it. The wait is a bare futex on `done`: a wake that arrives after the waiter
 * returned hits a dead address, which is harmless (futex waits tolerate spurious wakes). */
typedef struct dwaiter {
    struct dwaiter *next;
    uint64_t        end;
    _Atomic uint32_t done;
} dwaiter;

static void futex_wait_u32(_Atomic uint32_t *addr, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_u32(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Unlinks the waiters that durable_end now covers (all of them after a failure) and
 * returns them as a list for wake_waiters(). Caller holds mu. */
static dwaiter *take_covered_locked(log_topic *t, uint32_t *count)
{
    uint64_t durable = atomic_load(&t->durable_end);
    uint32_t n = 0;
    dwaiter *done = NULL, **dtail = &done, **pp = &t->waiters_head;
    t->waiters_tail = NULL;
    while (*pp) {
        dwaiter *w = *pp;
        if (t->failed || t->stop || w->end <= durable) {
            *pp = w->next;
            w->next = NULL;
            *dtail = w;
            dtail = &w->next;
            n++;
        } else {
            t->waiters_tail = w;
            pp = &w->next;
        }
    }
    if (count)
        *count = n;
    return done;
}

/* May a sync start now? (ALWAYS mode holds it back for returning appenders, see
 * `returning`.) Caller holds mu. */
static bool sync_may_start_locked(log_topic *t)
{
    if (t->syncing)
        return false;
    if (t->o.fsync_mode != LOG_FSYNC_ALWAYS || t->returning == 0 || t->stop || t->failed)
        return true;
    return mono_us() >= t->hold_until_us;
}

/* Wakes a list from take_covered_locked(). Call without mu, so that the woken threads do
 * not pile up on it. */
static void wake_waiters(dwaiter *w)
{
    while (w) {
        dwaiter *next = w->next; /* read before `done`: w may vanish right after */
        atomic_store(&w->done, 1);
        futex_wake_u32(&w->done);
        w = next;
    }
}

/* Leads one fdatasync for everything written so far. Caller holds mu and saw
 * !t->syncing; mu is released during the sync and held again on return. */
static void lead_sync_locked(log_topic *t)
{
    t->syncing = true;
    uint64_t target = atomic_load(&t->written_end);
    int fd = t->seg_fd;
    pthread_mutex_unlock(&t->mu);
    int rc = 0;
    uint64_t t0 = mono_us();
    while (fdatasync(fd)) {
        if (errno != EINTR) {
            rc = -errno;
            break;
        }
    }
    pthread_mutex_lock(&t->mu);
    if (!rc && target > t->synced_end) {
        t->stat_syncs++;
        t->stat_synced_records += target - t->synced_end;
    }
    t->syncing = false;
    if (rc) {
        /* After a failed fdatasync the kernel may have dropped the dirty pages: nothing
         * written since the last good sync can be trusted, so the topic stops taking
         * appends (like PostgreSQL after fsyncgate). */
        if (!t->failed) {
            fprintf(stderr, "sluice: log %s: fdatasync failed: %s; the topic refuses "
                            "appends until it is reopened\n",
                    t->name, strerror(-rc));
            t->failed = rc;
            t->fail_pending = true;
        }
    } else {
        if (target > t->synced_end)
            t->synced_end = target;
        if (t->o.fsync_mode == LOG_FSYNC_ALWAYS && target > atomic_load(&t->durable_end))
            atomic_store(&t->durable_end, target);
    }
    uint32_t nwoken = 0;
    dwaiter *wake = take_covered_locked(t, &nwoken);
    uint64_t t1 = mono_us();
    t->last_sync_us = t1 - t0;
    t->returning = nwoken;
    uint64_t hold = t->last_sync_us;
    t->hold_until_us = t1 + (hold > 2000 ? 2000 : hold);
    pthread_cond_broadcast(&t->cv_durable);
    pthread_cond_signal(&t->cv_sync);
    if (wake) {
        pthread_mutex_unlock(&t->mu);
        wake_waiters(wake);
        pthread_mutex_lock(&t->mu);
    }
}

/* Starts writeback of the active segment's bytes written since the last start (INTERVAL
 * mode). Caller holds mu and saw !t->syncing; mu is released meanwhile. `syncing` is set
 * so that a roll does not swap seg_fd underneath. Errors are left to the next fdatasync,
 * which reports them. */
static void start_writeback_locked(log_topic *t)
{
    t->wb_due = false;
    if (t->wb_written <= t->wb_started)
        return;
    t->syncing = true;
    int fd = t->seg_fd;
    uint64_t from = t->wb_started, to = t->wb_written;
    pthread_mutex_unlock(&t->mu);
    (void)sync_file_range(fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
    pthread_mutex_lock(&t->mu);
    t->syncing = false;
    if (t->seg_fd == fd && to > t->wb_started)
        t->wb_started = to;
    pthread_cond_broadcast(&t->cv_durable);
}

static void *sync_main(void *arg)
{
    log_topic *t = arg;
    uint64_t next_due = mono_ms() + t->o.fsync_interval_ms;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        uint64_t durable = atomic_load(&t->durable_end);
        uint64_t written = atomic_load(&t->written_end);
        if (t->cb && t->fail_pending) {
            t->fail_pending = false;
            log_durable_fn cb = t->cb;
            void *ud = t->cb_ud;
            int st = t->failed;
            pthread_mutex_unlock(&t->mu);
            cb(ud, durable, st);
            pthread_mutex_lock(&t->mu);
            continue;
        }
        if (t->cb && t->o.fsync_mode == LOG_FSYNC_ALWAYS && durable > t->notified_end) {
            t->notified_end = durable;
            log_durable_fn cb = t->cb;
            void *ud = t->cb_ud;
            pthread_mutex_unlock(&t->mu);
            cb(ud, durable, 0);
            pthread_mutex_lock(&t->mu);
            continue;
        }
        bool dirty = written > t->synced_end && !t->failed;
        if (t->wb_due && !t->syncing && !t->failed && !t->stop) {
            start_writeback_locked(t);
            continue;
        }
        if (dirty && sync_may_start_locked(t) &&
            (t->o.fsync_mode == LOG_FSYNC_ALWAYS || t->stop || mono_ms() >= next_due)) {
            lead_sync_locked(t);
            if (t->o.fsync_mode == LOG_FSYNC_INTERVAL)
                next_due = mono_ms() + t->o.fsync_interval_ms;
            continue;
        }
        if (t->stop && !t->syncing)
            break;
        if (t->o.fsync_mode == LOG_FSYNC_INTERVAL && !t->stop) {
            uint64_t now = mono_ms();
            if (now >= next_due) {
                next_due = now + t->o.fsync_interval_ms;
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t wait = next_due - now;
            ts.tv_sec += (time_t)(wait / 1000);
            ts.tv_nsec += (long)(wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&t->cv_sync, &t->mu, &ts);
        } else if (t->o.fsync_mode == LOG_FSYNC_ALWAYS && t->returning && !t->syncing &&
                   !t->stop) {
            /* Holding a sync back for returning appenders: until the last one arrives
             * (append_locked signals) or the hold ends. */
            uint64_t ns = t->hold_until_us * 1000;
            struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000),
                                  .tv_nsec = (long)(ns % 1000000000)};
            if (pthread_cond_timedwait(&t->cv_sync, &t->mu, &ts) == ETIMEDOUT)
                t->returning = 0;
        } else {
            pthread_cond_wait(&t->cv_sync, &t->mu);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

uint64_t log_durable_end(log_topic *t) { return atomic_load(&t->durable_end); }

void log_sync_stats(log_topic *t, uint64_t *syncs, uint64_t *records)
{
    pthread_mutex_lock(&t->mu);
    *syncs = t->stat_syncs;
    *records = t->stat_synced_records;
    pthread_mutex_unlock(&t->mu);
}

int log_wait_durable(log_topic *t, uint64_t end, sl_err *err)
{
    if (t->mode != LOG_OPEN_WRITE)
        return sl_err_set(err, -EBADF, false, "topic %s is open for reading only", t->name);
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    for (;;) {
        if (atomic_load(&t->durable_end) >= end)
            break;
        if (t->failed) {
            rc = sl_err_errno(err, -t->failed, "topic %s: sync failed", t->name);
            break;
        }
        if (end > atomic_load(&t->written_end)) {
            rc = sl_err_set(err, -EINVAL, false,
                            "topic %s: waiting for offset %" PRIu64 " which is not written",
                            t->name, end);
            break;
        }
        if (sync_may_start_locked(t)) {
            lead_sync_locked(t);
            continue;
        }
        /* A sync is running and may not cover us, or is held back for other appenders:
         * queue up; the sync that covers us (led by the sync thread, which syncs as long
         * as anything is unsynced) wakes us. */
        dwaiter w = {.next = NULL, .end = end};
        atomic_init(&w.done, 0);
        if (t->waiters_tail)
            t->waiters_tail->next = &w;
        else
            t->waiters_head = &w;
        t->waiters_tail = &w;
        pthread_mutex_unlock(&t->mu);
        while (!atomic_load(&w.done))
            futex_wait_u32(&w.done, 0);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void log_set_durable_callback(log_topic *t, log_durable_fn fn, void *ud)
{
    pthread_mutex_lock(&t->mu);
    t->cb = fn;
    t->cb_ud = ud;
    t->notified_end = atomic_load(&t->durable_end);
    pthread_mutex_unlock(&t->mu);
}

/* ---- appending ---- */

/* Closes the active segment and starts a new one at t->next. Caller holds wlock. */
static int roll_locked(log_topic *t, sl_err *err)
{
    char path[PATH_MAX];
    if (t->o.fsync_mode != LOG_FSYNC_NEVER) {
        /* Records in a closed segment are never synced again: do it now. */
        if (fdatasync(t->seg_fd)) {
            int e = errno;
            seg_path(t, t->seg_base, "log", path, sizeof path);
            pthread_mutex_lock(&t->mu);
            dwaiter *wake = NULL;
            if (!t->failed) {
                t->failed = -e;
                t->fail_pending = true;
                wake = take_covered_locked(t, NULL);
                pthread_cond_broadcast(&t->cv_durable);
                pthread_cond_signal(&t->cv_sync);
            }
            pthread_mutex_unlock(&t->mu);
            wake_waiters(wake);
            return sl_err_errno(err, e, "log: fdatasync %s", path);
        }
    }
    int old_fd = t->seg_fd, old_idx = t->idx_fd;
    uint64_t old_size = t->seg_size;
    int64_t old_ts = t->seg_max_ts;
    pthread_mutex_lock(&t->seglock);
    int rc = segs_push(t, t->next, 0, INT64_MIN);
    pthread_mutex_unlock(&t->seglock);
    if (rc)
        return sl_err_set(err, rc, true, "log: out of memory");
    /* open_segment_files overwrites seg_fd: do it under mu so a sync leader never sees a
     * half-switched pair, and only when no sync is running on the old fd. */
    pthread_mutex_lock(&t->mu);
    while (t->syncing)
        pthread_cond_wait(&t->cv_durable, &t->mu);
    rc = open_segment_files(t, t->next, true, err);
    dwaiter *wake = NULL;
    if (!rc) {
        t->wb_written = t->wb_started = 0;
        t->wb_due = false;
    }
    if (!rc && t->o.fsync_mode != LOG_FSYNC_NEVER) {
        t->synced_end = atomic_load(&t->written_end);
        if (t->o.fsync_mode == LOG_FSYNC_ALWAYS)
            atomic_store(&t->durable_end, t->synced_end);
        wake = take_covered_locked(t, NULL);
        pthread_cond_broadcast(&t->cv_durable);
        pthread_cond_signal(&t->cv_sync);
    }
    pthread_mutex_unlock(&t->mu);
    wake_waiters(wake);
    pthread_mutex_lock(&t->seglock);
    if (rc) {
        t->nsegs--;
        pthread_mutex_unlock(&t->seglock);
        return rc;
    }
    t->segs[t->nsegs - 2].bytes = old_size;
    t->segs[t->nsegs - 2].max_ts = old_ts;
    pthread_mutex_unlock(&t->seglock);
    close(old_fd);
    close(old_idx);
    if (t->o.fsync_mode != LOG_FSYNC_NEVER && (rc = fsync_dir(t->dir)))
        return sl_err_errno(err, -rc, "log: fsync folder %s after creating segment %020" PRIu64,
                            t->dir, t->seg_base);
    return 0;
}

static int apply_retention_locked(log_topic *t, sl_err *err);

/* One caller's batch on its way into the log, on the caller's stack. In the ALWAYS-mode
 * writer queue (see WRITE COMBINING) it is linked under qmu; the leader that takes it into
 * its group fills first, rc and err and then sets `state` (WB_DONE, or WB_LEAD to hand the
 * queue over). After WB_DONE the owner may return at once, so the leader reads `next`
 * before it stores `state`. */
enum { WB_QUEUED = 0, WB_DONE = 1, WB_LEAD = 2 };
typedef struct wbatch {
    struct wbatch   *next;
    const log_entry *e;
    size_t           n;
    uint64_t         bytes;   /* encoded size of the whole batch */
    uint64_t         first;   /* result: offset of its first record */
    int              rc;      /* result */
    sl_err          *err;     /* the caller's, may be NULL */
    _Atomic uint32_t state;
} wbatch;

/* Per-record and per-batch size checks, done by the caller before its batch is combined
 * with others (a refused batch never affects another one). */
static int check_batch(log_topic *t, const log_entry *e, size_t n, uint64_t *bytes, sl_err *err)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].len > t->o.max_record_bytes)
            return sl_err_set(err, -EMSGSIZE, false,
                              "record %zu of the batch has %" PRIu32
                              " bytes, more than the maximum of %" PRIu32
                              " bytes (--max-record-bytes)",
                              i, e[i].len, t->o.max_record_bytes);
        total += LOG_RECORD_HEADER_BYTES + (uint64_t)e[i].len;
    }
    if (total > LOG_BATCH_MAX_BYTES)
        return sl_err_set(err, -EMSGSIZE, false,
                          "batch of %" PRIu64 " bytes is larger than the limit of %llu bytes",
                          total, LOG_BATCH_MAX_BYTES);
    *bytes = total;
    return 0;
}

/* Fails `count` batches of a chain starting at b with the error in src. Never reads the
 * `next` of the last one (the queue's tail: an enqueuer may be writing it). */
static void fail_chain(wbatch *b, size_t count, const sl_err *src)
{
    for (size_t i = 0; i < count; i++) {
        if (i)
            b = b->next;
        b->rc = src->code;
        if (b->err)
            *b->err = *src;
    }
}

/* Publishes records written up to t->next (nb batches) to readers, the sync side and, in
 * NEVER/INTERVAL mode, the durable callback. `waits`: the appenders go on to
 * log_wait_durable (ALWAYS log_append), where one of them leads the sync or queues behind
 * one: no need to wake the sync thread for them (that hop costs a context switch per sync
 * on a busy machine). Caller holds wlock. */
static void publish_locked(log_topic *t, size_t nb, bool waits)
{
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->written_end, t->next);
    if (t->o.fsync_mode != LOG_FSYNC_ALWAYS) {
        atomic_store(&t->durable_end, t->next);
    } else {
        t->returning = t->returning > nb ? t->returning - (uint32_t)nb : 0;
        if (!t->returning && !waits)
            pthread_cond_signal(&t->cv_sync);
    }
    t->wb_written = t->seg_size;
    if (t->o.fsync_mode == LOG_FSYNC_INTERVAL && !t->wb_due &&
        t->seg_size - t->wb_started >= t->wb_every) {
        t->wb_due = true;
        pthread_cond_signal(&t->cv_sync);
    }
    pthread_cond_broadcast(&t->cv_data);
    log_durable_fn cb = t->o.fsync_mode != LOG_FSYNC_ALWAYS ? t->cb : NULL;
    void *ud = t->cb_ud;
    pthread_mutex_unlock(&t->mu);
    /* NEVER / INTERVAL: written is durable, tell the collector right here (under wlock so
     * that the values it sees only grow). */
    if (cb)
        cb(ud, t->next, 0);
}

/* Writes the encoded bytes in t->enc (whole batches, holding nrec records) at the end of
 * the active segment with one pwrite. All or nothing: a failed write is cut away with
 * ftruncate (a reader may have glimpsed it meanwhile; the same offsets are written again
 * by the next append). If even the cut fails the file state is unknown and the topic
 * stops taking appends. Caller holds wlock. */
static int flush_enc_locked(log_topic *t, uint64_t nrec, int64_t max_ts, sl_err *err)
{
    int rc = pwrite_all(t->seg_fd, t->enc.p, t->enc.len, t->seg_size);
    if (rc) {
        t->idx_size -= t->idxbuf.len;
        sl_buf_reset(&t->idxbuf);
        sl_buf_reset(&t->enc);
        char path[PATH_MAX];
        seg_path(t, t->seg_base, "log", path, sizeof path);
        if (ftruncate(t->seg_fd, (off_t)t->seg_size)) {
            int e2 = errno;
            pthread_mutex_lock(&t->mu);
            t->failed = -e2;
            t->fail_pending = true;
            dwaiter *wake = take_covered_locked(t, NULL);
            pthread_cond_signal(&t->cv_sync);
            pthread_mutex_unlock(&t->mu);
            wake_waiters(wake);
            fprintf(stderr, "sluice: log %s: cannot cut a partial write from %s: %s\n",
                    t->name, path, strerror(e2));
        }
        return sl_err_errno(err, -rc, "log: write %s", path);
    }
    idx_flush(t);
    t->next += nrec;
    t->seg_size += t->enc.len;
    t->seg_max_ts = max_ts;
    sl_buf_reset(&t->enc);
    return 0;
}

/* Writes a group of `count` batches chained from g, in chain order, with contiguous
 * offsets: one pwrite for all of them, except that the segment rolls between two batches
 * when the next one would pass segment_bytes (a batch is never split across segments;
 * the batches before the roll are written first, and the roll syncs them). Each batch
 * gets its own result in first, rc and err. A failed write fails every batch of that pwrite
 * (cut away, see flush_enc_locked) and every batch after it in the group. Caller holds
 * wlock. Returns the number of batches written. */
static size_t write_group_locked(log_topic *t, wbatch *g, size_t count, bool waits)
{
    sl_err ferr;
    size_t ndone = 0;      /* batches written and published */
    size_t pcount = 0;     /* batches encoded in t->enc, not yet written */
    uint64_t precs = 0;    /* their records */
    wbatch *pfirst = g, *b = g;
    int64_t max_ts = t->seg_max_ts, now = 0;
    int rc;
    sl_buf_reset(&t->enc);
    for (size_t i = 0; i < count; i++) {
        if (i)
            b = b->next;
        if (t->failed) {
            sl_err_errno(&ferr, -t->failed, "topic %s refuses appends after a failed write "
                                            "or sync; reopen it", t->name);
            goto fail;
        }
        uint64_t end = t->seg_size + t->enc.len;
        if (end > 0 && end + b->bytes > t->o.segment_bytes) {
            if (pcount) {
                if (flush_enc_locked(t, precs, max_ts, &ferr))
                    goto fail;
                publish_locked(t, pcount, waits);
                ndone += pcount;
                pcount = 0;
                precs = 0;
            }
            if (roll_locked(t, &ferr))
                goto fail;
            sl_err rerr;
            if (apply_retention_locked(t, &rerr))
                fprintf(stderr, "sluice: log %s: retention: %s\n", t->name, rerr.msg);
            max_ts = t->seg_max_ts;
        }
        if (!pcount)
            pfirst = b;
        if ((rc = sl_buf_reserve(&t->enc, (size_t)b->bytes))) {
            sl_err_set(&ferr, rc, true, "log: out of memory for a batch of %" PRIu64 " bytes",
                       b->bytes);
            goto fail;
        }
        uint64_t off = t->next + precs;
        for (size_t j = 0; j < b->n; j++) {
            const log_entry *e = &b->e[j];
            int64_t ts = e->ts_ms;
            if (!ts)
                ts = now ? now : (now = now_ms());
            if (ts > max_ts)
                max_ts = ts;
            if ((rc = idx_note(t, off + j, t->seg_size + t->enc.len))) {
                sl_err_set(&ferr, rc, true, "log: out of memory");
                goto fail;
            }
            t->enc.len += log_record_encode(t->enc.p + t->enc.len, off + j, ts, e->data, e->len);
        }
        b->first = off;
        b->rc = 0;
        precs += b->n;
        pcount++;
    }
    if (pcount) {
        if (flush_enc_locked(t, precs, max_ts, &ferr)) {
            fail_chain(pfirst, pcount, &ferr);
            return ndone;
        }
        publish_locked(t, pcount, waits);
        ndone += pcount;
    }
    return ndone;

fail:
    /* Batch b and every later one fail; so do the encoded but unwritten ones before it
     * (pcount of them from pfirst; b is never counted among them), whose bytes and index
     * entries are dropped here (flush_enc_locked already did if their write failed). */
    t->idx_size -= t->idxbuf.len;
    sl_buf_reset(&t->idxbuf);
    sl_buf_reset(&t->enc);
    if (pcount)
        fail_chain(pfirst, pcount, &ferr);
    fail_chain(b, count - ndone - pcount, &ferr);
    return ndone;
}

/* ---- write combining (ALWAYS mode, log_append) ----
 *
 * WRITE COMBINING. A log_append caller in ALWAYS mode queues its batch (a wbatch on its
 * stack) on the writer queue. The caller at the head is the leader: it takes the queued
 * batches as a group (up to 4 MiB, or its own batch if larger), writes them with one
 * pwrite under wlock, waits for one fdatasync covering them (log_wait_durable: it leads
 * the sync or joins the running one), gives each member its own first offset and status,
 * wakes them, and hands the queue to the next head. A follower sleeps once: until its
 * batch is done or it becomes the leader. The queue stays with the leader during its
 * sync, so the batches arriving meanwhile form the next group (LevelDB's writer queue).
 * Before it takes its group, a new leader waits until as many batches are queued as the
 * last group had (its members are about to append again) or for the last sync's
 * duration (at most 2 ms), whichever comes first: without that, the first member to come
 * back would lead a group of one and the groups would alternate between 1 and 63.
 * A lone appender is never held: the last group was itself.
 * log_append_nowait and the NEVER/INTERVAL modes do not queue: they write under wlock
 * directly (the collector must not wait behind a leader's sync). */
#define LOG_GROUP_BYTES (4u << 20)
#define LOG_GROUP_HOLD_MAX_US 2000u

static void futex_wait_u32_us(_Atomic uint32_t *addr, uint32_t val, uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000),
                          .tv_nsec = (long)(us % 1000000) * 1000};
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static int append_combined(log_topic *t, const log_entry *e, size_t n, uint64_t bytes,
                           uint64_t *first_offset, sl_err *err)
{
    wbatch w = {.next = NULL, .e = e, .n = n, .bytes = bytes, .err = err};
    atomic_init(&w.state, WB_QUEUED);
    pthread_mutex_lock(&t->qmu);
    if (t->q_tail)
        t->q_tail->next = &w;
    else
        t->q_head = &w;
    t->q_tail = &w;
    t->q_len++;
    bool lead = t->q_head == &w;
    bool wake_holder = t->q_holding && t->q_len >= t->q_expect;
    pthread_mutex_unlock(&t->qmu);
    if (wake_holder) {
        atomic_fetch_add(&t->q_seq, 1);
        futex_wake_u32(&t->q_seq);
    }
    if (!lead) {
        uint32_t s;
        while ((s = atomic_load(&w.state)) == WB_QUEUED)
            futex_wait_u32(&w.state, WB_QUEUED);
        if (s == WB_DONE) {
            *first_offset = w.first;
            return w.rc;
        }
    }

    /* Leader. Hold for the last group's members (see above). */
    pthread_mutex_lock(&t->qmu);
    if (t->q_len < t->q_expect && t->q_hold_us) {
        uint64_t until = mono_us() + t->q_hold_us;
        while (t->q_len < t->q_expect) {
            uint64_t nowus = mono_us();
            if (nowus >= until)
                break;
            t->q_holding = true;
            uint32_t seq = atomic_load(&t->q_seq);
            pthread_mutex_unlock(&t->qmu);
            futex_wait_u32_us(&t->q_seq, seq, until - nowus);
            pthread_mutex_lock(&t->qmu);
            t->q_holding = false;
        }
    }
    /* Take the group: from the head (us) while it fits in LOG_GROUP_BYTES. */
    size_t count = 1;
    uint64_t gbytes = w.bytes;
    wbatch *last = &w;
    while (last->next && gbytes + last->next->bytes <= LOG_GROUP_BYTES) {
        last = last->next;
        gbytes += last->bytes;
        count++;
    }
    pthread_mutex_unlock(&t->qmu);

    pthread_mutex_lock(&t->wlock);
    size_t ndone = write_group_locked(t, &w, count, true);
    pthread_mutex_unlock(&t->wlock);

    /* One sync for the batches written (they are the first ndone of the group). */
    uint64_t t0 = mono_us();
    if (ndone) {
        wbatch *b = &w;
        for (size_t i = 1; i < ndone; i++)
            b = b->next;
        sl_err serr;
        if (log_wait_durable(t, b->first + b->n, &serr))
            fail_chain(&w, ndone, &serr);
    }
    uint64_t took = mono_us() - t0;

    /* Hand the queue over, then wake the members (reading each `next` before its state:
     * a member may return and its stack frame vanish as soon as it sees WB_DONE). */
    pthread_mutex_lock(&t->qmu);
    wbatch *head = last->next;
    t->q_head = head;
    if (!head)
        t->q_tail = NULL;
    t->q_len -= count;
    t->q_expect = (uint32_t)count;
    t->q_hold_us = took > LOG_GROUP_HOLD_MAX_US ? LOG_GROUP_HOLD_MAX_US : took;
    pthread_mutex_unlock(&t->qmu);
    if (head) {
        atomic_store(&head->state, WB_LEAD);
        futex_wake_u32(&head->state);
    }
    *first_offset = w.first;
    int rc = w.rc;
    wbatch *b = w.next;
    for (size_t i = 1; i < count; i++) {
        wbatch *next = i + 1 < count ? b->next : NULL;
        atomic_store(&b->state, WB_DONE);
        futex_wake_u32(&b->state);
        b = next;
    }
    return rc;
}

static int append_common(log_topic *t, const log_entry *e, size_t n, uint64_t *first_offset,
                         bool waits, sl_err *err)
{
    if (t->mode != LOG_OPEN_WRITE)
        return sl_err_set(err, -EBADF, false, "topic %s is open for reading only", t->name);
    if (n == 0) {
        *first_offset = atomic_load(&t->written_end);
        return 0;
    }
    uint64_t bytes = 0;
    int rc = check_batch(t, e, n, &bytes, err);
    if (rc)
        return rc;
    if (waits)
        return append_combined(t, e, n, bytes, first_offset, err);
    wbatch w = {.next = NULL, .e = e, .n = n, .bytes = bytes, .err = err};
    pthread_mutex_lock(&t->wlock);
    write_group_locked(t, &w, 1, false);
    pthread_mutex_unlock(&t->wlock);
    *first_offset = w.first;
    return w.rc;
}

int log_append_nowait(log_topic *t, const log_entry *e, size_t n, uint64_t *first_offset,
                      sl_err *err)
{
    return append_common(t, e, n, first_offset, false, err);
}

int log_append(log_topic *t, const log_entry *e, size_t n, uint64_t *first_offset,
               sl_err *err)
{
    bool waits = t->o.fsync_mode == LOG_FSYNC_ALWAYS;
    return append_common(t, e, n, first_offset, waits, err);
}

/* ---- retention ---- */

/* Newest timestamp in a closed segment: scan from its last index entry to the end. */
static int seg_newest_ts(log_topic *t, uint64_t base, int64_t *out)
{
    char path[PATH_MAX];
    seg_path(t, base, "idx", path, sizeof path);
    uint64_t pos = 0, expected = base;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (!fstat(fd, &st) && st.st_size >= LOG_IDX_ENTRY) {
            unsigned char ent[LOG_IDX_ENTRY];
            uint64_t at = ((uint64_t)st.st_size / LOG_IDX_ENTRY - 1) * LOG_IDX_ENTRY;
            if (pread_full(fd, ent, sizeof ent, at) == (ssize_t)sizeof ent) {
                expected = get64(ent);
                pos = get64(ent + 8);
            }
        }
        close(fd);
    }
    seg_path(t, base, "log", path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    scanner s;
    scanner_init(&s, fd);
    int64_t max_ts = INT64_MIN;
    for (int attempt = 0; attempt < 2; attempt++) {
        log_record r;
        size_t sz;
        const char *why;
        int ioerr, d;
        bool first = true;
        while ((d = scan_record(&s, pos, &r, &sz, &why, &ioerr)) == LOG_DECODE_OK &&
               r.offset == expected) {
            if (r.ts_ms > max_ts)
                max_ts = r.ts_ms;
            pos += sz;
            expected++;
            first = false;
        }
        if (!first || pos == 0)
            break;
        /* the index entry was wrong: scan the whole segment */
        pos = 0;
        expected = base;
    }
    scanner_free(&s);
    close(fd);
    *out = max_ts;
    return 0;
}

static int delete_oldest_locked(log_topic *t, sl_err *err)
{
    char path[PATH_MAX];
    seg_info s0 = t->segs[0];
    seg_path(t, s0.base, "log", path, sizeof path);
    if (unlink(path) && errno != ENOENT)
        return sl_err_errno(err, errno, "log: delete %s", path);
    seg_path(t, s0.base, "idx", path, sizeof path);
    if (unlink(path) && errno != ENOENT)
        fprintf(stderr, "sluice: log %s: delete %s: %s\n", t->name, path, strerror(errno));
    pthread_mutex_lock(&t->seglock);
    memmove(t->segs, t->segs + 1, (t->nsegs - 1) * sizeof *t->segs);
    t->nsegs--;
    pthread_mutex_unlock(&t->seglock);
    return 0;
}

/* Caller holds wlock. Only the writer changes the segment list, so reading it without
 * seglock here is safe; changes take seglock for the readers' sake. */
static int apply_retention_locked(log_topic *t, sl_err *err)
{
    int rc;
    if (t->o.retention_bytes) {
        uint64_t total = t->seg_size;
        for (size_t i = 0; i + 1 < t->nsegs; i++)
            total += t->segs[i].bytes;
        while (t->nsegs > 1 && total > t->o.retention_bytes) {
            uint64_t b = t->segs[0].bytes;
            if ((rc = delete_oldest_locked(t, err)))
                return rc;
            total -= b;
        }
    }
    if (t->o.retention_ms) {
        int64_t cutoff = now_ms() - (int64_t)t->o.retention_ms;
        while (t->nsegs > 1) {
            if (t->segs[0].max_ts == INT64_MIN) {
                int64_t ts;
                if ((rc = seg_newest_ts(t, t->segs[0].base, &ts)))
                    return sl_err_errno(err, -rc, "log: read segment %020" PRIu64,
                                        t->segs[0].base);
                t->segs[0].max_ts = ts;
            }
            if (t->segs[0].max_ts >= cutoff)
                break;
            if ((rc = delete_oldest_locked(t, err)))
                return rc;
        }
    }
    return 0;
}

int log_apply_retention(log_topic *t, sl_err *err)
{
    if (t->mode != LOG_OPEN_WRITE)
        return sl_err_set(err, -EBADF, false,
                          "topic %s: retention is applied by the writer only", t->name);
    pthread_mutex_lock(&t->wlock);
    int rc = apply_retention_locked(t, err);
    pthread_mutex_unlock(&t->wlock);
    return rc;
}

/* ---- reading ---- */

/* A sealed segment (one with a newer segment after it: never written or cut again, only
 * removed whole by retention, which a mapping survives) mapped read-only. Reads from it
 * decode the records where they are, without copying them into the batch's buffer (the
 * copy was a twentieth of the stream's CPU, plus the page faults of fresh buffers); the
 * batch holds a reference until its next read. The active segment is read with pread:
 * its tail can be cut (a failed append, the recovery of a torn record), and a mapping
 * over a cut would fault. */
typedef struct seg_map {
    atomic_int refs;
    char      *addr;
    size_t     len;
} seg_map;

static void map_put(seg_map *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        munmap(m->addr, m->len);
        free(m);
    }
}

static seg_map *map_segment(int fd)
{
    struct stat st;
    if (fstat(fd, &st) || st.st_size <= 0)
        return NULL;
    void *a = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED)
        return NULL;   /* pread instead */
    seg_map *m = malloc(sizeof *m);
    if (!m) {
        munmap(a, (size_t)st.st_size);
        return NULL;
    }
    atomic_init(&m->refs, 1);
    m->addr = a;
    m->len = (size_t)st.st_size;
    return m;
}

typedef struct batch_priv {
    char       *buf;
    size_t      cap;
    log_record *recs;
    size_t      rcap;
    seg_map    *map;   /* the mapping recs point into, or NULL (they point into buf) */
} batch_priv;

void log_batch_free(log_batch *b)
{
    if (!b)
        return;
    batch_priv *bp = b->priv;
    if (bp) {
        map_put(bp->map);
        free(bp->buf);
        free(bp->recs);
        free(bp);
    }
    b->priv = NULL;
    b->recs = NULL;
    b->n = 0;
}

/* Copies the segment list (writer: authoritative; reader: re-listed from the folder). */
static int segs_snapshot(log_topic *t, seg_info **out, size_t *n, sl_err *err)
{
    pthread_mutex_lock(&t->seglock);
    int rc = 0;
    if (t->mode != LOG_OPEN_WRITE)
        rc = segs_reload(t, err);
    if (!rc) {
        *n = t->nsegs;
        *out = malloc((t->nsegs ? t->nsegs : 1) * sizeof **out);
        if (!*out)
            rc = sl_err_set(err, -ENOMEM, true, "log: out of memory");
        else if (t->nsegs)
            memcpy(*out, t->segs, t->nsegs * sizeof **out);
    }
    pthread_mutex_unlock(&t->seglock);
    return rc;
}

uint64_t log_start_offset(log_topic *t)
{
    seg_info *s;
    size_t n;
    uint64_t start = 0;
    if (!segs_snapshot(t, &s, &n, NULL)) {
        if (n)
            start = s[0].base;
        free(s);
    }
    return start;
}

static void cursor_drop(log_topic *t)
{
    if (t->cur_fd >= 0)
        close(t->cur_fd);
    t->cur_fd = -1;
    t->cur_valid = false;
    map_put(t->cur_map);
    t->cur_map = NULL;
}

/* Finds where offset `from` lives: the segment, and the byte position of a record at or
 * before it (index entry, checked). Caller holds rlock. *from may move up to the start. */
static int cursor_seek(log_topic *t, uint64_t *from, sl_err *err)
{
    cursor_drop(t);
    for (int attempt = 0; attempt < 5; attempt++) {
        seg_info *segs;
        size_t n;
        int rc = segs_snapshot(t, &segs, &n, err);
        if (rc)
            return rc;
        if (n == 0) {
            free(segs);
            return sl_err_set(err, -ENOENT, false, "topic %s has no segments in %s", t->name,
                              t->dir);
        }
        if (*from < segs[0].base)
            *from = segs[0].base;
        size_t i = n - 1;
        while (i > 0 && segs[i].base > *from)
            i--;
        uint64_t base = segs[i].base;
        bool sealed = i + 1 < n;
        free(segs);
        char path[PATH_MAX];
        seg_path(t, base, "log", path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue; /* retention removed it meanwhile: list again */
            return sl_err_errno(err, errno, "log: open %s", path);
        }
        uint64_t pos = 0, next = base;
        seg_path(t, base, "idx", path, sizeof path);
        int ifd = open(path, O_RDONLY | O_CLOEXEC);
        if (ifd >= 0) {
            struct stat st;
            if (!fstat(ifd, &st)) {
                /* binary search: last entry with offset <= from */
                uint64_t lo = 0, hi = (uint64_t)st.st_size / LOG_IDX_ENTRY;
                uint64_t best_off = base, best_pos = 0;
                while (lo < hi) {
                    uint64_t mid = lo + (hi - lo) / 2;
                    unsigned char ent[LOG_IDX_ENTRY];
                    if (pread_full(ifd, ent, sizeof ent, mid * LOG_IDX_ENTRY) !=
                        (ssize_t)sizeof ent)
                        break;
                    uint64_t eo = get64(ent);
                    if (eo <= *from) {
                        best_off = eo;
                        best_pos = get64(ent + 8);
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                /* Trust the entry only if the record there has that offset. */
                unsigned char hdr[LOG_RECORD_HEADER_BYTES];
                if (best_pos > 0 && best_off >= base &&
                    pread_full(fd, hdr, sizeof hdr, best_pos) == (ssize_t)sizeof hdr &&
                    hdr[0] == LOG_MAGIC0 && hdr[1] == LOG_MAGIC1 && hdr[2] == LOG_MAGIC2 &&
                    hdr[3] == LOG_VERSION && get64(hdr + 12) == best_off) {
                    pos = best_pos;
                    next = best_off;
                }
            }
            close(ifd);
        }
        t->cur_fd = fd;
        t->cur_base = base;
        t->cur_pos = pos;
        t->cur_next = next;
        t->cur_valid = true;
        t->cur_map = sealed ? map_segment(fd) : NULL;
        return 0;
    }
    return sl_err_set(err, -ESTALE, true, "topic %s: segments keep disappearing while reading",
                      t->name);
}

/* The segment after the cursor's, if any (0 = none, 1 = found, <0 error). */
static int next_segment(log_topic *t, uint64_t *base, sl_err *err)
{
    seg_info *segs;
    size_t n;
    int rc = segs_snapshot(t, &segs, &n, err);
    if (rc)
        return rc;
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (segs[i].base > t->cur_base) {
            *base = segs[i].base;
            found = 1;
            break;
        }
    free(segs);
    return found;
}

static int later_data_exists(log_topic *t, uint64_t from_pos, uint64_t expected, uint64_t *at,
                             uint64_t *off)
{
    struct stat st;
    if (fstat(t->cur_fd, &st))
        return -errno;
    scanner s;
    scanner_init(&s, t->cur_fd);
    int f = find_later_valid(&s, from_pos, (uint64_t)st.st_size, expected, at, off);
    scanner_free(&s);
    return f;
}

int log_read(log_topic *t, uint64_t from, size_t max_records, size_t max_bytes,
             log_batch *b, sl_err *err)
{
    b->n = 0;
    if (!b->priv) {
        b->priv = calloc(1, sizeof(batch_priv));
        if (!b->priv)
            return sl_err_set(err, -ENOMEM, true, "log: out of memory");
    }
    batch_priv *bp = b->priv;
    map_put(bp->map);   /* the batch's previous records are given up */
    bp->map = NULL;
    if (max_records == 0)
        return 0;
    /* In the writer's process, read only what appends have completed. */
    uint64_t limit = t->mode == LOG_OPEN_WRITE ? atomic_load(&t->written_end) : UINT64_MAX;
    if (from >= limit)
        return 0;
    size_t want = max_bytes < 4096 ? 4096 : max_bytes;
    if (want > LOG_RECORD_MAX_HARD + LOG_RECORD_HEADER_BYTES)
        want = LOG_RECORD_MAX_HARD + LOG_RECORD_HEADER_BYTES;
    int rc = 0;
    bool reread = false;
    pthread_mutex_lock(&t->rlock);
    if (!t->cur_valid || t->cur_next != from) {
        if ((rc = cursor_seek(t, &from, err)))
            goto out;
    }
    seg_map *used = NULL;
    for (;;) {
        const char *src;
        ssize_t got;
        if ((used = t->cur_map)) {
            size_t left = t->cur_pos < used->len ? used->len - (size_t)t->cur_pos : 0;
            got = (ssize_t)(left < want ? left : want);
            src = used->addr + t->cur_pos;
        } else {
            if (want > bp->cap) {
                char *nb = realloc(bp->buf, want);
                if (!nb) {
                    rc = sl_err_set(err, -ENOMEM, true, "log: out of memory");
                    goto out;
                }
                bp->buf = nb;
                bp->cap = want;
            }
            got = pread_full(t->cur_fd, bp->buf, want, t->cur_pos);
            src = bp->buf;
        }
        char path[PATH_MAX];
        seg_path(t, t->cur_base, "log", path, sizeof path);
        if (got < 0) {
            rc = sl_err_errno(err, (int)-got, "log: read %s", path);
            goto out;
        }
        size_t p = 0;
        bool at_limit = false, tail_bad = false, partial = false, grow = false;
        const char *why = NULL;
        while ((size_t)got > p && b->n < max_records) {
            log_record r;
            size_t sz;
            int d = log_record_decode(src + p, (size_t)got - p, &r, &sz, &why);
            if (d == LOG_DECODE_OK && r.offset != t->cur_next) {
                d = LOG_DECODE_BAD;
                why = "offset out of sequence";
            }
            if (d == LOG_DECODE_SHORT) {
                if (p == 0 && (size_t)got == want && sz > want) {
                    want = sz; /* one record bigger than the buffer: read it whole */
                    grow = true;
                } else {
                    partial = true;
                }
                break;
            }
            if (d == LOG_DECODE_BAD) {
                tail_bad = true;
                break;
            }
            if (r.offset >= limit) {
                at_limit = true;
                break;
            }
            if (r.offset >= from) {
                if (b->n == bp->rcap) {
                    size_t nc = bp->rcap ? bp->rcap * 2 : 64;
                    log_record *nr = realloc(bp->recs, nc * sizeof *nr);
                    if (!nr) {
                        rc = sl_err_set(err, -ENOMEM, true, "log: out of memory");
                        goto out;
                    }
                    bp->recs = nr;
                    bp->rcap = nc;
                }
                bp->recs[b->n++] = r;
            }
            p += sz;
            t->cur_next++;
        }
        t->cur_pos += p;
        if (b->n > 0 || at_limit)
            break;
        if (grow || p > 0)
            continue; /* re-read one big record whole, or skipped records before `from` */
        /* Nothing readable at the cursor: end of data, an incomplete or a bad record. */
        if (tail_bad || partial || got == 0) {
            bool bad_here = tail_bad || partial;
            if (bad_here && t->mode == LOG_OPEN_WRITE && t->cur_next < limit) {
                rc = sl_err_set(err, -EBADMSG, false,
                                "log: corrupt record in segment %s at byte %" PRIu64
                                " (%s; expected offset %" PRIu64 ")",
                                path, t->cur_pos, why ? why : "record cut short",
                                t->cur_next);
                goto out;
            }
            if (tail_bad) {
                uint64_t at, off;
                int f = later_data_exists(t, t->cur_pos + 1, t->cur_next, &at, &off);
                if (f < 0) {
                    rc = sl_err_errno(err, -f, "log: read %s", path);
                    goto out;
                }
                if (f > 0) {
                    rc = sl_err_set(err, -EBADMSG, false,
                                    "log: corrupt record in segment %s at byte %" PRIu64
                                    " (%s; expected offset %" PRIu64
                                    "); a valid record follows at byte %" PRIu64,
                                    path, t->cur_pos, why ? why : "invalid", t->cur_next, at);
                    goto out;
                }
            }
            uint64_t nb = 0;
            int f = next_segment(t, &nb, err);
            if (f < 0) {
                rc = f;
                goto out;
            }
            if (f == 0)
                break; /* the end, for now */
            if (bad_here && !reread) {
                /* The writer may have finished that record and rolled since we read it:
                 * look again before calling it damage. */
                reread = true;
                continue;
            }
            if (bad_here) {
                rc = sl_err_set(err, -EBADMSG, false,
                                "log: corrupt record in segment %s at byte %" PRIu64
                                " (%s; expected offset %" PRIu64 ") and a newer segment "
                                "follows",
                                path, t->cur_pos, why ? why : "record cut short",
                                t->cur_next);
                goto out;
            }
            if (nb != t->cur_next) {
                rc = sl_err_set(err, -EBADMSG, false,
                                "log: segment %s ends at offset %" PRIu64
                                " but the next segment starts at offset %" PRIu64,
                                path, t->cur_next, nb);
                goto out;
            }
            uint64_t f2 = nb;
            cursor_drop(t);
            if ((rc = cursor_seek(t, &f2, err)))
                goto out;
            if (f2 > from)
                from = f2;
            continue;
        }
        break;
    }
out:
    if (rc) {
        b->n = 0;
        cursor_drop(t);
    } else if (b->n > 0 && used) {
        atomic_fetch_add(&used->refs, 1);   /* the records point into it */
        bp->map = used;
    }
    pthread_mutex_unlock(&t->rlock);
    b->recs = bp->recs;
    return rc;
}

/* Reader in another process: scan the newest segment forward from where we left off.
 * Caller holds rlock. */
static uint64_t reader_hw_locked(log_topic *t)
{
    seg_info *segs;
    size_t n;
    if (segs_snapshot(t, &segs, &n, NULL))
        return t->hw_next;
    if (n == 0) {
        free(segs);
        return t->hw_next;
    }
    uint64_t last = segs[n - 1].base;
    free(segs);
    if (t->hw_fd < 0 || t->hw_base != last) {
        if (t->hw_fd >= 0)
            close(t->hw_fd);
        char path[PATH_MAX];
        seg_path(t, last, "log", path, sizeof path);
        t->hw_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (t->hw_fd < 0)
            return t->hw_next;
        t->hw_base = last;
        t->hw_pos = 0;
        t->hw_next = last;
        scanner_free(&t->hw_scan);
        scanner_init(&t->hw_scan, t->hw_fd);
    }
    t->hw_scan.blen = 0; /* the file grows: do not trust the cached bytes */
    for (;;) {
        log_record r;
        size_t sz;
        const char *why;
        int ioerr;
        int d = scan_record(&t->hw_scan, t->hw_pos, &r, &sz, &why, &ioerr);
        if (d != LOG_DECODE_OK || r.offset != t->hw_next)
            break;
        t->hw_pos += sz;
        t->hw_next++;
    }
    return t->hw_next;
}

uint64_t log_high_watermark(log_topic *t)
{
    if (t->mode == LOG_OPEN_WRITE)
        return atomic_load(&t->written_end);
    pthread_mutex_lock(&t->rlock);
    uint64_t hw = reader_hw_locked(t);
    pthread_mutex_unlock(&t->rlock);
    return hw;
}

int log_wait(log_topic *t, uint64_t offset, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : mono_ms() + (uint64_t)timeout_ms;
    if (t->mode == LOG_OPEN_WRITE) {
        int ready = 0;
        pthread_mutex_lock(&t->mu);
        for (;;) {
            if (atomic_load(&t->written_end) > offset) {
                ready = 1;
                break;
            }
            if (t->stop)
                break;
            if (deadline == UINT64_MAX) {
                pthread_cond_wait(&t->cv_data, &t->mu);
                continue;
            }
            uint64_t now = mono_ms();
            if (now >= deadline)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t w = deadline - now;
            ts.tv_sec += (time_t)(w / 1000);
            ts.tv_nsec += (long)(w % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&t->cv_data, &t->mu, &ts);
        }
        pthread_mutex_unlock(&t->mu);
        return ready;
    }
    /* Another process writes: inotify on the topic folder tells us when any file in it
     * changes (a write to a segment, a new segment). The watch is set up before the first
     * check, so a write between the check and poll() still wakes us. */
    pthread_mutex_lock(&t->rlock);
    if (t->ino_fd < 0) {
        t->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->ino_fd >= 0 &&
            inotify_add_watch(t->ino_fd, t->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
            close(t->ino_fd);
            t->ino_fd = -1;
        }
    }
    int ino = t->ino_fd;
    int ready = 0;
    for (;;) {
        if (reader_hw_locked(t) > offset) {
            ready = 1;
            break;
        }
        uint64_t now = mono_ms();
        if (now >= deadline)
            break;
        /* Without inotify (limits reached) fall back to polling every 100 ms. */
        int ms = deadline == UINT64_MAX ? -1 : (int)(deadline - now > INT_MAX ? INT_MAX : deadline - now);
        if (ino < 0 && (ms < 0 || ms > 100))
            ms = 100;
        struct pollfd pfd = {.fd = ino, .events = POLLIN};
        pthread_mutex_unlock(&t->rlock);
        int pr = poll(&pfd, ino >= 0 ? 1 : 0, ms);
        pthread_mutex_lock(&t->rlock);
        if (pr > 0) {
            char evbuf[4096];
            while (read(ino, evbuf, sizeof evbuf) > 0) {
            }
        }
    }
    pthread_mutex_unlock(&t->rlock);
    return ready;
}

/* ---- consumer groups ---- */

static int group_path(log_topic *t, const char *group, char *out, size_t n, sl_err *err)
{
    if (!log_topic_name_valid(group))
        return sl_err_set(err, -EINVAL, false,
                          "bad consumer group name '%s': use 1 to 200 of A-Z a-z 0-9 . _ -",
                          group);
    snprintf(out, n, "%s/groups/%s.offset", t->dir, group);
    return 0;
}

int log_commit_offset(log_topic *t, const char *group, uint64_t offset, sl_err *err)
{
    static atomic_uint seq;
    char path[PATH_MAX], tmp[PATH_MAX + 64], dir[PATH_MAX];
    int rc = group_path(t, group, path, sizeof path, err);
    if (rc)
        return rc;
    snprintf(dir, sizeof dir, "%s/groups", t->dir);
    if (mkdir(dir, 0755) && errno != EEXIST)
        return sl_err_errno(err, errno, "log: create %s", dir);
    snprintf(tmp, sizeof tmp, "%s/.%s.offset.%ld.%u.tmp", dir, group, (long)getpid(),
             atomic_fetch_add(&seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_err_errno(err, errno, "log: create %s", tmp);
    char text[32];
    int n = snprintf(text, sizeof text, "%" PRIu64 "\n", offset);
    if ((rc = pwrite_all(fd, text, (size_t)n, 0)) || (fsync(fd) && (rc = -errno))) {
        close(fd);
        unlink(tmp);
        return sl_err_errno(err, -rc, "log: write %s", tmp);
    }
    if (close(fd)) {
        int e = errno;
        unlink(tmp);
        return sl_err_errno(err, e, "log: close %s", tmp);
    }
    if (rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return sl_err_errno(err, e, "log: rename %s to %s", tmp, path);
    }
    if ((rc = fsync_dir(dir)))
        return sl_err_errno(err, -rc, "log: fsync %s", dir);
    return 0;
}

int log_committed_offset(log_topic *t, const char *group, uint64_t *offset, sl_err *err)
{
    char path[PATH_MAX];
    int rc = group_path(t, group, path, sizeof path, err);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return sl_err_set(err, -ENOENT, false, "consumer group %s has not committed on topic %s",
                              group, t->name);
        return sl_err_errno(err, errno, "log: open %s", path);
    }
    char text[40];
    ssize_t n = pread_full(fd, text, sizeof text - 1, 0);
    close(fd);
    if (n < 0)
        return sl_err_errno(err, (int)-n, "log: read %s", path);
    text[n] = '\0';
    size_t len = (size_t)n;
    if (len && text[len - 1] == '\n')
        text[--len] = '\0';
    uint64_t v;
    if (cli_parse_u64(text, 0, UINT64_MAX, &v))
        return sl_err_set(err, -EBADMSG, false, "%s:1: not an offset: '%s'", path, text);
    *offset = v;
    return 0;
}

/* ---- closing ---- */

void log_topic_close(log_topic *t)
{
    if (!t)
        return;
    if (t->has_thread) {
        pthread_mutex_lock(&t->mu);
        t->stop = true;
        pthread_cond_signal(&t->cv_sync);
        pthread_cond_broadcast(&t->cv_data);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->sync_thread, NULL);
    }
    if (t->seg_fd >= 0) {
        /* The header promises that close syncs what the writer has, in every mode. */
        if (!t->failed && atomic_load(&t->written_end) > t->synced_end && fdatasync(t->seg_fd))
            fprintf(stderr, "sluice: log %s: fdatasync on close: %s\n", t->name,
                    strerror(errno));
        close(t->seg_fd);
    }
    if (t->idx_fd >= 0)
        close(t->idx_fd);
    cursor_drop(t);
    if (t->hw_fd >= 0)
        close(t->hw_fd);
    if (t->ino_fd >= 0)
        close(t->ino_fd);
    if (t->lock_fd >= 0)
        close(t->lock_fd); /* releases the flock */
    scanner_free(&t->hw_scan);
    sl_buf_free(&t->enc);
    sl_buf_free(&t->idxbuf);
    if (t->mu_ready) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv_data);
        pthread_cond_destroy(&t->cv_durable);
        pthread_cond_destroy(&t->cv_sync);
    }
    if (t->wlock_ready)
        pthread_mutex_destroy(&t->wlock);
    if (t->qmu_ready)
        pthread_mutex_destroy(&t->qmu);
    if (t->seglock_ready)
        pthread_mutex_destroy(&t->seglock);
    if (t->rlock_ready)
        pthread_mutex_destroy(&t->rlock);
    free(t->segs);
    free(t->dir);
    free(t->name);
    free(t);
}
