/* gen.h — the field generators of an app spec: how a route's `fields:` become JSON members
 * of the event the collector stores.
 *
 * A spec_field is built by spec_load() (spec.c) and is read-only afterwards, so any number
 * of threads may render the same field at once. All randomness comes from a spec_rng that
 * the caller owns: give each thread (event loop) its own, seeded differently. Nothing here
 * allocates while rendering except through the caller's sl_buf (which has a cap).
 *
 * Usage in the collector, per request on a route rt:
 *
 *     spec_kv q[...];   // decoded (percent- and '+'-decoded) query parameters, in order
 *     size_t mark = out->len;
 *     if (spec_route_render(rt, &thread_rng, q, nq, 0, out, &err) < 0)
 *         -> answer 400 with err.msg (out was restored to `mark`)
 *
 * spec_route_render() appends `"name":value,"name2":value2` (no braces, no leading or
 * trailing comma; nothing at all when the route has no fields), so the caller writes '{',
 * its own members, a ',' if rt->nfields > 0, this, and '}'.
 *
 * Field names are unique within a route, are never event_type / event_id / received_at
 * (spec_load rejects those), and are already JSON-escaped in f->key_json.
 */
#ifndef SLUICE_SPEC_GEN_H
#define SLUICE_SPEC_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "spec/spec.h"

/* ---- random numbers: xoshiro256**, one state per thread, never shared ---- */

typedef struct spec_rng {
    uint64_t s[4];
} spec_rng;

void     spec_rng_seed(spec_rng *r, uint64_t seed); /* any seed, 0 included (splitmix64) */
uint64_t spec_rng_next(spec_rng *r);
double   spec_rng_double(spec_rng *r);               /* uniform in [0, 1) */
uint64_t spec_rng_below(spec_rng *r, uint64_t n);    /* uniform in [0, n), n > 0, unbiased */

/* ---- fields ---- */

typedef enum {
    SPEC_GEN_CONST = 0,  /* a fixed JSON value */
    SPEC_GEN_QUERY,      /* a query parameter, checked against allowed values / range */
    SPEC_GEN_NORMAL,     /* normal(mean, sigma), clipped to [min, max], optionally rounded */
    SPEC_GEN_UNIFORM,    /* uniform in [min, max], integer or with `decimals` digits */
    SPEC_GEN_CHOICE,     /* weighted choice among JSON values */
    SPEC_GEN_POOL,       /* uniform pick from a fixed pool ("user_0001".."user_0500" or a list) */
    SPEC_GEN_TIMESTAMP,  /* RFC 3339 UTC with milliseconds, weighted by hour and weekday */
    SPEC_GEN_UUID,       /* random UUID v4 string */
} spec_gen_kind;

const char *spec_gen_kind_name(spec_gen_kind k); /* "const", "query", "normal", ... */

typedef enum {
    SPEC_ROUND_NONE = 0,     /* a double */
    SPEC_ROUND_NEAREST,      /* an integer, half away from zero (round: true) */
    SPEC_ROUND_FLOOR,        /* an integer, towards -inf (Python's int() on positives) */
} spec_round;

typedef struct spec_field {
    char         *name;      /* field name as written in the spec */
    char         *key_json;  /* "\"name\":" — the escaped key and colon, ready to append */
    size_t        key_len;
    spec_gen_kind kind;
    int           line;      /* line in the spec file */

    /* SPEC_GEN_CONST: the JSON text of the value. SPEC_GEN_QUERY: the JSON text of the
     * default, or NULL when the parameter is required. */
    char *json;

    /* SPEC_GEN_QUERY */
    char   *param;           /* query parameter name */
    bool    q_integer;       /* value must be an integer in [imin, imax]; rendered as a number */
    int64_t imin, imax;

    /* SPEC_GEN_CHOICE, SPEC_GEN_POOL (list form) and SPEC_GEN_QUERY (allowed list):
     * values[i] is the value as text, values_json[i] its JSON text. */
    char  **values;
    char  **values_json;
    size_t  nvalues;
    double *cum_weights;     /* CHOICE: cumulative weights, last = total */

    /* SPEC_GEN_NORMAL, SPEC_GEN_UNIFORM */
    double mean, sigma;
    double min, max;         /* NORMAL: clip bounds (-inf/+inf when absent); UNIFORM: range */
    spec_round round;        /* NORMAL: how to make an integer; UNIFORM: NEAREST = integers */
    int    decimals;         /* digits after the point when not an integer (-1: shortest) */

    /* SPEC_GEN_POOL (generated form): prefix + zero-padded number in [start, start+size) */
    char    *prefix;         /* already JSON-escaped, without quotes */
    uint64_t pool_size;
    uint64_t pool_start;
    int      width;

    /* SPEC_GEN_TIMESTAMP: cumulative weights; day picked among the last days_back whole
     * UTC days before `now` (so never in the future) whose weekday was drawn. */
    double hour_cum[24];
    double wday_cum[7];      /* Monday .. Sunday */
    int    days_back;        /* >= 7 */
} spec_field;

/* A decoded query parameter (percent- and '+'-decoded by the caller; not NUL-terminated). */
typedef struct spec_kv {
    const char *key;
    size_t      key_len;
    const char *val;
    size_t      val_len;
} spec_kv;

/* Appends `"name":<value>` for field f to out. q/nq are the request's decoded query
 * parameters (q may be NULL when nq == 0; when a parameter repeats, the first one counts).
 * now_ms is the current time in ms since the epoch for timestamp fields (0: read the
 * real-time clock).
 * Returns 0; -EINVAL when a query value is missing or not allowed, with err->msg naming
 * the parameter and what is allowed, e.g. "query parameter 'menu': 'Klingon' is not one
 * of Mexican, Lebanese, ..." (the collector answers 400 with it); -E2BIG/-ENOMEM from
 * out. On failure out keeps its previous content. Thread-safe with a per-thread r. */
int spec_field_render(const spec_field *f, spec_rng *r, const spec_kv *q, size_t nq,
                      int64_t now_ms, sl_buf *out, sl_err *err);

/* Appends all of the route's fields, comma-separated (see the top of this file). Same
 * return values; on failure out keeps its previous content. */
int spec_route_render(const spec_route *rt, spec_rng *r, const spec_kv *q, size_t nq,
                      int64_t now_ms, sl_buf *out, sl_err *err);

/* Finds the route for method + path (path without the query string; exact, case-
 * sensitive match). Returns the route, or NULL; with NULL, *method_mismatch (if not NULL)
 * tells whether the path exists with another method (answer 405, else 404).
 * A route whose method is NULL accepts every method. */
const spec_route *spec_route_find(const spec_app *app, const char *method, size_t mlen,
                                  const char *path, size_t plen, bool *method_mismatch);

#endif
