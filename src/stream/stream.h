/* stream.h — the micro-batch loop: log → routed, typed rows → Parquet files → checkpoint.
 *
 * One stream job per (data dir, job name); it reads partition 0 of the app's topic.
 * Exactly-once protocol (docs/stream.md):
 *   1. choose the batch [first, last] (or, after a crash, the range in the offset log),
 *   2. encode each table's file under a temporary name and fsync it (invisible; removed at
 *      the next start if the batch does not get further),
 *   3. record the range in stream/<job>.offsets (fsync, rename),
 *   4. rename each file to part-0-<first>-<last>.parquet, fsync the directories,
 *   5. write stream/<job>.checkpoint with next = last + 1 (fsync, rename),
 *   6. commit the log consumer-group offset <job> (for observers such as tail).
 *
 * Kafka (o->bus set): the job joins consumer group "sluice-<job>"; every assigned partition
 * P has its own checkpoint pair stream/<job>-p<P>.{offsets,checkpoint} and its own batch,
 * files are named part-<P>-<first>-<last>.parquet, and the group offset is committed only
 * after the checkpoint (step 6). Batches are committed on the calling thread (no pipeline):
 * a rebalance runs inside the consumer poll, so it never overlaps a write.
 *
 * Threads: stream_run() routes on the calling thread; a pool of lane threads (cores, at
 * most 4) encodes files (step 2) of the routed batches in batch order, and one commit
 * thread runs steps 3-6 for one batch at a time, in batch order, after all of the batch's
 * files are encoded. *stop may be set from a signal handler.
 */
#ifndef SLUICE_STREAM_STREAM_H
#define SLUICE_STREAM_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "spec/spec.h"

struct bus_spec;

typedef struct stream_opts {
    const char *data_dir;
    const struct bus_spec *bus;   /* NULL: the embedded log; else Kafka (see below) */
    const char *job;              /* default "stream" */
    bool        once;             /* process what is there now, then return */
    uint64_t    trigger_ms;       /* default 1000 */
    uint64_t    max_batch;        /* events per batch; default 100000 */
    uint64_t    max_batch_bytes;  /* bytes of records per batch; default 256 MiB */
    const char *compression;      /* default "snappy" */
    uint64_t    row_group_size;   /* default 122880 */
    int         lanes;            /* files encoded at once (threads); 0 = cores, at most 4 */
    bool        progress;         /* --once: progress line (stderr is a terminal) */
    bool        quiet;            /* no per-batch log lines */
    volatile sig_atomic_t *stop;  /* set to stop after the current batch */
    FILE       *log;              /* batch lines; default stderr */
} stream_opts;

void stream_opts_init(stream_opts *o);

/* Totals of a run, for callers and tests. */
typedef struct stream_stats {
    uint64_t batches, events, rejected, rows, files, bytes;
} stream_stats;

/* Runs the job until the backlog is done (once) or *stop is set. 0 on success. */
int stream_run(const spec_app *app, const stream_opts *o, stream_stats *st, sl_err *err);

/* Columns of the _rejected table. */
extern const char *const stream_rejected_columns[];

#endif
