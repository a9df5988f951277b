/* batches.h — the stream's recent micro-batches, as the dashboard shows them.
 *
 * The stream reports each committed batch as one line on its log FILE (stream.c):
 *   stream: batch F-L[ (replay)]: N events in; t=n ...; rejected R; K files, SIZE;
 *   lag G; T ms (read+route A, write B)
 * `sluice up` gives the stream a FILE that feeds every line to admin_batches_feed() (and
 * echoes it to stderr), so the dashboard learns batch timings without any hook inside
 * the stream. A line that is not a batch line is ignored.
 *
 * Threading: feed from one thread (the stream's), snapshot from any other; a mutex guards
 * the ring. Ownership: the creator destroys, after every feeder and reader stopped.
 */
#ifndef SLUICE_ADMIN_BATCHES_H
#define SLUICE_ADMIN_BATCHES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_BATCH_RING 120

typedef struct admin_batch {
    int64_t  at_ms;       /* wall clock when the line arrived, ms since the epoch */
    uint64_t first, last; /* log offsets */
    uint64_t events, rejected, files, lag;
    int64_t  ms, route_ms, write_ms;
    bool     replay;
} admin_batch;

/* Parses one line (without or with its '\n'). Returns true and fills *b (at_ms = 0) for a
 * batch line, false for anything else. Pure. */
bool admin_batch_parse(const char *line, size_t len, admin_batch *b);

typedef struct admin_batches admin_batches;

admin_batches *admin_batches_create(void);   /* NULL on out of memory */
void admin_batches_destroy(admin_batches *r); /* NULL is fine */

/* Parses the line and, if it is a batch line, records it with the current time. */
void admin_batches_feed(admin_batches *r, const char *line, size_t len);

/* Copies up to max of the newest batches, oldest first, into out; returns how many.
 * *total_batches / *total_events (may be NULL) receive the sums since start. */
size_t admin_batches_snapshot(admin_batches *r, admin_batch *out, size_t max,
                              uint64_t *total_batches, uint64_t *total_events);

#endif
