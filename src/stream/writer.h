/* writer.h — typed rows → one Parquet file, never visible half-made.
 *
 * For each (table, dt) of a batch, the rows (by column: cols.h) are written by the native
 * Parquet writer (src/parquet/) to '<dir>/.tmp-part-P-F-L' (stream_writer_encode), which
 * is then fsynced (stream_writer_sync_file); once the stream has recorded the batch, the file is
 * renamed to <dir>/part-P-F-L.parquet (stream_writer_publish; it replaces a file of a
 * replayed batch) and the directory remembered for stream_writer_sync_dirs(). The
 * temporary name does not end in .parquet, so `*.parquet` globs never pick it up.
 *
 * Thread: one writer per stream; stream_writer_encode() may run concurrently on different
 * lanes, everything else from the batch (commit) thread only.
 */
#ifndef SLUICE_STREAM_WRITER_H
#define SLUICE_STREAM_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "stream/cols.h"
#include "stream/row.h"

typedef struct stream_writer stream_writer;

/* compression: "snappy", "zstd", "gzip", "uncompressed". lanes: how many files may be
 * encoded at once (each lane has its own Parquet writer and scratch memory). */
int  stream_writer_open(stream_writer **out, const char *compression, uint64_t row_group_size,
                        int lanes, sl_err *err);
void stream_writer_close(stream_writer *w);   /* NULL is fine */

/* Step 1 of a file, on lane `lane` (0..lanes-1; each lane used by one thread at a time,
 * different lanes concurrently): writes the rows (with at least s->ncols columns:
 * stream_cols_fit) into dir/.tmp-part-<partition>-<first>-<last> (dir must exist). Adds
 * the file size to *bytes. On failure the temporary file is removed. A temporary file is
 * invisible to readers and removed at the next start (stream_writer_remove_temps), so
 * this may run before the batch is recorded in the offset log. */
int stream_writer_encode(stream_writer *w, int lane, const stream_schema *s,
                         const stream_cols *rows, const char *dir, uint64_t partition,
                         uint64_t first, uint64_t last, uint64_t *bytes, sl_err *err);

/* Step 1b, from any thread once step 1 is done: fsyncs that temporary file (its data is
 * on disk before it may be renamed); adds the time taken to *fsync_ns. Separate from
 * step 1 so that the lane goes on encoding while another thread waits for the disk. */
int stream_writer_sync_file(const char *dir, uint64_t partition, uint64_t first, uint64_t last,
                            uint64_t *fsync_ns, sl_err *err);

/* Step 2, from the batch thread only, after the batch is recorded: renames the temporary
 * file to dir/part-<partition>-<first>-<last>.parquet (replacing a file of a replayed batch)
 * and remembers dir for stream_writer_sync_dirs(). */
int stream_writer_publish(stream_writer *w, const char *dir, uint64_t partition, uint64_t first,
                          uint64_t last, sl_err *err);

/* Removes the temporary file of an encoded file that will not be published (a failed batch). */
void stream_writer_discard(const char *dir, uint64_t partition, uint64_t first, uint64_t last);

/* fsyncs every directory a file was renamed into since the last call. */
int stream_writer_sync_dirs(stream_writer *w, sl_err *err);

/* Removes leftover .tmp-* files under <warehouse>/<table>/dt=... (after a crash). Returns
 * how many were removed, or <0. */
int stream_writer_remove_temps(const char *warehouse_dir, sl_err *err);

#endif
