/* log.h — the embedded durable log: the single-machine back end of the bus.
 *
 * A topic is a folder <data dir>/log/<topic>/ of segment files holding framed, checksummed
 * records (byte layout at the top of log.c). Offsets start at 0 and grow by one per
 * record. The embedded log has one partition per topic: partition 0.
 *
 * Writers: one process per topic (an exclusive lock on <topic>/.writer.lock; a second
 * writer gets a clear error naming the holder's pid). Inside that process, any number of
 * threads may append concurrently.
 * Readers: any number, in any process; they see appended records promptly (inotify on the
 * topic folder, no busy polling).
 *
 * Durability (log_opts.fsync_mode):
 *   NEVER     records are in the page cache when append returns: they survive a killed
 *             process, not a power loss or kernel crash.
 *   INTERVAL  as NEVER, plus a background fdatasync every fsync_interval_ms: a power loss
 *             loses at most the last interval.
 *   ALWAYS    log_append() returns only after fdatasync covered the records; concurrent
 *             appenders share one sync (group commit). Survives a power loss.
 *
 * Thread safety: all functions may be called from any thread unless stated.
 * Errors: 0 / negative errno-style code, with err filled (see common/err.h).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef enum {
    LOG_FSYNC_NEVER = 0,
    LOG_FSYNC_INTERVAL,
    LOG_FSYNC_ALWAYS,
} log_fsync_mode;

typedef struct log_opts {
    log_fsync_mode fsync_mode;    /* default LOG_FSYNC_INTERVAL */
    uint32_t fsync_interval_ms;   /* default 1000 */
    uint64_t segment_bytes;       /* roll to a new segment past this size; default 64 MiB */
    uint64_t retention_bytes;     /* delete oldest whole segments past this total; 0 = keep */
    uint64_t retention_ms;        /* delete segments whose newest record is older; 0 = keep */
    uint32_t max_record_bytes;    /* larger records are refused (-EMSGSIZE); default 1 MiB */
} log_opts;

void log_opts_init(log_opts *o);

/* Parses an --fsync value: "always", "never", "interval" or "interval=MS". */
int log_parse_fsync(const char *s, log_opts *o, sl_err *err);

/* Topic names: [A-Za-z0-9._-]{1,200}, not "." or "..". */
int log_topic_name_valid(const char *topic);

typedef struct log_topic log_topic;

enum { LOG_OPEN_READ = 0, LOG_OPEN_WRITE = 1 };

/* Opens (creating if mode is LOG_OPEN_WRITE) <data_dir>/log/<topic>. A writer recovers the
 * tail: a torn or garbage tail after the last valid record is cut and reported on stderr;
 * a corrupt record before the last valid one fails with a message naming the segment and
 * byte position. o may be NULL for defaults. */
int log_topic_open(const char *data_dir, const char *topic, int mode, const log_opts *o,
                   log_topic **out, sl_err *err);

/* Flushes (a writer syncs what it has), releases the lock, frees. NULL is fine. */
void log_topic_close(log_topic *t);

typedef struct log_entry {
    const void *data;
    uint32_t    len;
    int64_t     ts_ms;   /* record timestamp, ms since the epoch; 0 = now */
} log_entry;

/* Appends n records as one batch; *first_offset receives the offset of the first. The
 * batch is all-or-nothing: on a failed write the partial bytes are cut away and no record
 * of the batch is readable. In ALWAYS mode returns after the batch is synced. */
int log_append(log_topic *t, const log_entry *e, size_t n, uint64_t *first_offset,
               sl_err *err);

/* For event loops that must not block on a sync: writes like log_append but returns
 * without waiting for the sync, whatever the mode. Durability is awaited with
 * log_wait_durable() or followed with the callback below. */
int log_append_nowait(log_topic *t, const log_entry *e, size_t n, uint64_t *first_offset,
                      sl_err *err);

/* Offsets below this are durable under the topic's mode (for NEVER and INTERVAL: written). */
uint64_t log_durable_end(log_topic *t);

/* Blocks until log_durable_end() >= end (joining or leading a group commit). */
int log_wait_durable(log_topic *t, uint64_t end, sl_err *err);

/* Called from the log's sync thread after each sync (status 0) or failed sync (status <0,
 * records at or above durable_end are then not durable). Set before appending. */
typedef void (*log_durable_fn)(void *ud, uint64_t durable_end, int status);
void log_set_durable_callback(log_topic *t, log_durable_fn fn, void *ud);

/* Reading. Records point into batch-owned memory, valid until the next log_read() into the
 * same batch or log_batch_free(). */
typedef struct log_record {
    uint64_t    offset;
    int64_t     ts_ms;
    const char *data;
    uint32_t    len;
} log_record;

typedef struct log_batch {
    log_record *recs;
    size_t      n;
    void       *priv;   /* owned by the log */
} log_batch;

/* Reads up to max_records / about max_bytes records starting at offset `from` (which is
 * moved up to log_start_offset() if retention removed it). b->n == 0 at the end. A
 * corrupt record fails with the segment and byte position. */
int log_read(log_topic *t, uint64_t from, size_t max_records, size_t max_bytes,
             log_batch *b, sl_err *err);
void log_batch_free(log_batch *b);

uint64_t log_start_offset(log_topic *t);   /* oldest offset still kept */
uint64_t log_high_watermark(log_topic *t); /* the next offset to be written */

/* Blocks until log_high_watermark() > offset or timeout_ms passes (-1: forever).
 * Returns 1 when records are available, 0 on timeout. Works across processes. */
int log_wait(log_topic *t, uint64_t offset, int timeout_ms);

/* Consumer groups: the committed offset is the next offset the group will read.
 * Stored in <topic>/groups/<group>.offset, replaced atomically (write, fsync, rename). */
int log_commit_offset(log_topic *t, const char *group, uint64_t offset, sl_err *err);
/* -ENOENT when the group never committed. */
int log_committed_offset(log_topic *t, const char *group, uint64_t *offset, sl_err *err);

/* Applies retention now (also done on roll). */
int log_apply_retention(log_topic *t, sl_err *err);

/* ---- Additions by the log owner (record codec, for the fuzz target and tests) ---- */

#define LOG_RECORD_HEADER_BYTES 28
/* Hard limit on a record's payload, whatever max_record_bytes says (a length field above
 * it makes a record invalid). */
#define LOG_RECORD_MAX_HARD (64u * 1024 * 1024)

enum { LOG_DECODE_BAD = -1, LOG_DECODE_SHORT = 0, LOG_DECODE_OK = 1 };

/* Decodes the record at buf[0..len). LOG_DECODE_OK: *out filled (data points into buf),
 * *rec_bytes = whole record size. LOG_DECODE_SHORT: buf holds a prefix of a plausible
 * record; *rec_bytes = bytes needed (0 if not even the header is there).
 * LOG_DECODE_BAD: not a valid record, *why says why (static text). Does not check the
 * offset sequence (the caller knows which offset it expects). Pure, thread-safe. */
int log_record_decode(const void *buf, size_t len, log_record *out, size_t *rec_bytes,
                      const char **why);

/* Writes one framed record to out (LOG_RECORD_HEADER_BYTES + len bytes). */
size_t log_record_encode(void *out, uint64_t offset, int64_t ts_ms, const void *data,
                         uint32_t len);

/* Group-commit statistics of a writer: fdatasync calls of the sync thread and
 * log_wait_durable() that covered new records, and how many records they covered
 * (syncs at a segment roll or close are not counted). For benchmarks and tests. */
void log_sync_stats(log_topic *t, uint64_t *syncs, uint64_t *records);

/* The topic's folder and name (valid until close). */
const char *log_topic_dir(log_topic *t);
const char *log_topic_name(log_topic *t);

#endif
