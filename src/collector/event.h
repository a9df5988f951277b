/* event.h — building the JSON event the collector stores for one request.
 *
 * Pure functions over caller-owned buffers: no globals except a per-thread id generator
 * state, no allocation except through the caller's capped sl_buf. Unit-tested and fuzzed.
 *
 * An event is one JSON object. Members, in the order they are written:
 *   event_type, event_id, received_at          (the collector's; always present)
 *   the route's spec fields                    (route events) or the client's members
 *                                              (POST /events)
 *   request headers, names as sent ("Host", "User-Agent", ...), then
 *   "Content-Length" when the request had a body (its length; h2o does not keep the
 *   header)
 *   query parameters, decoded (a name given twice is refused with 400 by the server)
 * Precedence when two sources use the same name: the first writer wins, in the order
 * above. So event_type / event_id / received_at and the spec fields (or the client's own
 * members) can never be overwritten by a header or a query parameter, and a header wins
 * over a query parameter of the same name (names compare exactly, case-sensitively).
 *
 * A header or query parameter name that is not valid UTF-8 is dropped (its value could
 * not be told apart from another name's once escaped); values are always kept, invalid
 * bytes becoming U+FFFD.
 *
 * POST /events: the client's event_type is kept (and must be valid); event_id and
 * received_at are always the collector's, because ids must be unique across everything the
 * log holds. A client that sent its own event_id / received_at finds them again as
 * client_event_id / client_received_at.
 */
#ifndef SLUICE_COLL_EVENT_H
#define SLUICE_COLL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define COLL_EVENT_ID_LEN     36  /* UUIDv7 text: 8-4-4-4-12 hex digits */
#define COLL_RECEIVED_AT_LEN  24  /* 2026-11-21T10:00:00.123Z */
#define COLL_EVENT_MAX_NAMES  256 /* top-level members per event */

/* True when s[0..n) matches [a-z][a-z0-9_]{0,63}. */
bool coll_event_type_valid(const char *s, size_t n);

/* Writes a new UUIDv7 (48-bit Unix ms time, then 74 random bits) as 36 characters (no NUL)
 * into out. Time-ordered and unique across threads and restarts: the random bits come from
 * a per-thread generator seeded from getrandom(2). Thread-safe. */
void coll_event_id(int64_t now_ms, char out[COLL_EVENT_ID_LEN]);

/* Formats ms since the epoch as UTC RFC 3339 with milliseconds (24 chars, no NUL). */
void coll_received_at(int64_t now_ms, char out[COLL_RECEIVED_AT_LEN]);

/* Current real time in ms since the epoch. */
int64_t coll_now_ms(void);

/* Percent-decodes a query string ("a=1&b=x%20y+z") into key/value pairs. Decoded bytes go
 * to scratch (which is reset and reserved once so that the returned pointers stay valid);
 * pairs with an empty key are skipped; '+' decodes to a space; a bad %XX is kept as is.
 * kv receives at most max pairs. Returns the number of pairs, or -E2BIG when there are
 * more than max (or scratch's cap is too small). kv must be a spec_kv-compatible array:
 * {key, key_len, val, val_len}. */
struct spec_kv;
int coll_query_decode(const char *q, size_t len, sl_buf *scratch, struct spec_kv *kv,
                      size_t max);

/* Incremental writer of one event object with first-writer-wins names.
 * Not thread-safe; one per thread. Name pointers given to it must stay valid until
 * coll_ev_end(). */
typedef struct coll_ev {
    sl_buf     *out;
    size_t      start;     /* out->len at coll_ev_begin (restored on failure) */
    size_t      nnames;
    bool        overflow;  /* more than COLL_EVENT_MAX_NAMES names were offered */
    struct { const char *p; size_t n; } names[COLL_EVENT_MAX_NAMES];
} coll_ev;

void coll_ev_begin(coll_ev *ev, sl_buf *out);
bool coll_ev_has(const coll_ev *ev, const char *name, size_t n);
/* Records a name that was written by someone else (spec_route_render). */
int  coll_ev_mark(coll_ev *ev, const char *name, size_t n);
/* Appends "name":"<escaped value>" unless name is already there. 1 added, 0 skipped,
 * -E2BIG (cap or too many names). */
int  coll_ev_add_str(coll_ev *ev, const char *name, size_t n, const char *val, size_t vlen);
/* Same with a raw, already valid JSON value. */
int  coll_ev_add_raw(coll_ev *ev, const char *name, size_t n, const char *json, size_t jlen);
/* Appends a separator if needed; for callers that write a member themselves. */
int  coll_ev_comma(coll_ev *ev);
/* Closes the object. Returns 0 or -E2BIG. */
int  coll_ev_end(coll_ev *ev);
/* Drops everything written since coll_ev_begin. */
void coll_ev_abort(coll_ev *ev);

/* Writes event_type, event_id and received_at (the first three members). */
int  coll_ev_add_envelope(coll_ev *ev, const char *event_type, size_t tlen, int64_t now_ms);

/* Copies the members of a client's JSON object (already validated by json_validate as an
 * object, at most max_depth deep) into ev, after checking: event_type present, a string
 * and valid; no duplicate member names; event_id / received_at renamed client_*.
 * ev must have been begun and nothing else written yet; this writes the envelope too.
 * Returns 0, or -EINVAL with *why set to a static message, or -E2BIG. */
int  coll_ev_add_client_object(coll_ev *ev, const char *obj, size_t len, int64_t now_ms,
                               sl_buf *scratch, const char **why);

#endif
