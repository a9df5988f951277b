/* ingest.h — the body of POST /events: one JSON object, a JSON array of objects, or
 * newline-delimited JSON (one object per line).
 *
 * Format detection: Content-Type application/x-ndjson (or application/jsonl) means NDJSON.
 * Otherwise the first non-blank byte decides: '[' is an array; '{' is one object, or
 * NDJSON when more values follow on later lines. Blank lines in NDJSON are ignored.
 *
 * All or nothing: every element is validated and enriched into the caller's buffer
 * before anything is appended to the log; the first bad element stops the request and is
 * reported by its 0-based index (array element, or NDJSON record counting non-blank
 * lines). A syntax error between array elements (no ',' or ']' after one, or the end of
 * the body) is about no element: index -1, and pos gives its byte.
 *
 * Pure, no allocation except through the caller's capped buffers. One coll_ingest per
 * thread.
 */
#ifndef SLUICE_COLL_INGEST_H
#define SLUICE_COLL_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/event.h"
#include "common/buf.h"

typedef struct coll_ingest_limits {
    size_t max_events;       /* per request; default 10000 */
    size_t max_event_bytes;  /* per enriched event; default 1 MiB */
    int    max_depth;        /* JSON nesting of one event; default 32 */
} coll_ingest_limits;

void coll_ingest_limits_init(coll_ingest_limits *l);

/* A header to merge into every event (name as sent). */
typedef struct coll_header {
    const char *name;
    size_t      name_len;
    const char *value;
    size_t      value_len;
} coll_header;

typedef struct coll_ingest_error {
    int         status;  /* 400 or 413 */
    long long   index;   /* element index, -1 when not about one element */
    const char *what;    /* static text */
    size_t      pos;     /* byte offset in the body, for JSON syntax errors */
} coll_ingest_error;

/* Turns body into enriched events appended to out, one after the other; ends[i] is the
 * offset in out just past event i (events are contiguous, event 0 starts at out->len on
 * entry). ends must hold limits->max_events entries. scratch is working memory.
 * Returns the number of events (>= 1), or -1 with *e filled. */
long coll_ingest_body(const char *body, size_t len, bool ndjson_hint,
                      const coll_ingest_limits *limits, const coll_header *hdrs, size_t nhdrs,
                      int64_t now_ms, sl_buf *out, sl_buf *scratch, size_t *ends,
                      coll_ingest_error *e);

#endif
