/* checkpoint.h — the stream's two small state files, both replaced atomically.
 *
 * File formats (text, one "key value" per line, written to <name>.tmp, fsynced, renamed,
 * directory fsynced):
 *
 * Kafka (--bus kafka://...): one pair per partition P, job name "<job>-p<P>", with
 * "partition P" inside; the embedded log (one partition) keeps "<job>" and "partition 0".
 *
 *   <data>/stream/<job>.offsets      the offset log: the batch being written
 *       sluice-offsets 1
 *       topic events
 *       partition 0
 *       first 100000
 *       last 199999
 *
 *   <data>/stream/<job>.checkpoint   what is committed: every offset below `next` is in
 *       sluice-checkpoint 1           the table files
 *       topic events
 *       partition 0
 *       next 200000
 *
 * Protocol (docs/stream.md): offsets first, then files (temp name, fsync, rename), then the
 * checkpoint. On start, an offsets entry with first == checkpoint.next is a batch that may
 * have been half-written: it is replayed with exactly that range.
 *
 * Thread: called from the stream's batch thread only.
 */
#ifndef SLUICE_STREAM_CHECKPOINT_H
#define SLUICE_STREAM_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct stream_ckpt {
    char    *dir;     /* <data>/stream */
    char    *job;
    char    *topic;
    int32_t  partition;  /* 0 after open (the embedded log); set it for a Kafka partition:
                          * the files then say so and must match on read */
} stream_ckpt;

/* Job names: [A-Za-z0-9._-]{1,100}, not starting with '.'. */
bool stream_job_name_valid(const char *job);

int  stream_ckpt_open(stream_ckpt *c, const char *data_dir, const char *job, const char *topic,
                      sl_err *err);
void stream_ckpt_close(stream_ckpt *c);

/* Committed next offset; 0 and *found=false when there is no checkpoint yet. A file that
 * does not parse, or names another topic, is an error. */
int stream_ckpt_read(stream_ckpt *c, uint64_t *next, bool *found, sl_err *err);
int stream_ckpt_write(stream_ckpt *c, uint64_t next, sl_err *err);

/* The recorded batch range; *found=false when none. */
int stream_offsets_read(stream_ckpt *c, uint64_t *first, uint64_t *last, bool *found,
                        sl_err *err);
int stream_offsets_write(stream_ckpt *c, uint64_t first, uint64_t last, sl_err *err);

/* Writes data to path atomically: path.tmp, fsync, rename, fsync of the directory. */
int stream_write_atomic(const char *path, const char *data, size_t len, sl_err *err);
/* fsyncs a directory. */
int stream_fsync_dir(const char *dir, sl_err *err);
/* mkdir -p; fsyncs the parent of every directory it creates. */
int stream_mkdirs(const char *path, sl_err *err);

#endif
