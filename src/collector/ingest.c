/* ingest.c — splitting and enriching a POST /events body (format in ingest.h). */
#include "collector/ingest.h"

#include <errno.h>
#include <string.h>

#include "common/json.h"

void coll_ingest_limits_init(coll_ingest_limits *l)
{
    l->max_events = 10000;
    l->max_event_bytes = 1 << 20;
    l->max_depth = 32;
}

static size_t skip_ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

static long fail(coll_ingest_error *e, int status, long long index, const char *what, size_t pos)
{
    e->status = status;
    e->index = index;
    e->what = what;
    e->pos = pos;
    return -1;
}

/* Validates the value at body[*pos], enriches it into out and records its end. */
static int one_event(const char *body, size_t len, size_t *pos, size_t index,
                     const coll_ingest_limits *lim, const coll_header *hdrs, size_t nhdrs,
                     int64_t now_ms, sl_buf *out, sl_buf *scratch, size_t *ends,
                     coll_ingest_error *e)
{
    json_type type;
    size_t end;
    json_error je = {0, NULL};
    if (index >= lim->max_events)
        return (int)fail(e, 413, (long long)index, "too many events in one request", *pos);
    if (json_validate(body + *pos, len - *pos, lim->max_depth, &type, &end, &je) < 0)
        return (int)fail(e, 400, (long long)index, je.what ? je.what : "invalid JSON",
                         *pos + je.pos);
    if (type != JSON_OBJECT)
        return (int)fail(e, 400, (long long)index, "event is not a JSON object", *pos);

    size_t start = out->len;
    coll_ev ev;
    const char *why = NULL;
    coll_ev_begin(&ev, out);
    int rc = coll_ev_add_client_object(&ev, body + *pos, end, now_ms, scratch, &why);
    for (size_t h = 0; rc == 0 && h < nhdrs; h++)
        if (coll_ev_add_str(&ev, hdrs[h].name, hdrs[h].name_len, hdrs[h].value,
                            hdrs[h].value_len) < 0)
            rc = -E2BIG;
    if (rc == 0)
        rc = coll_ev_end(&ev);
    if (rc == 0 && out->len - start > lim->max_event_bytes)
        rc = -EMSGSIZE;
    if (rc < 0) {
        coll_ev_abort(&ev);
        if (rc == -EINVAL)
            return (int)fail(e, 400, (long long)index, why, *pos);
        if (rc == -EMSGSIZE)
            return (int)fail(e, 413, (long long)index, "event too large", *pos);
        if (ev.overflow)
            return (int)fail(e, 400, (long long)index, "too many members", *pos);
        return (int)fail(e, 413, (long long)index, "request too large", *pos);
    }
    ends[index] = out->len;
    *pos += end;
    return 0;
}

static long ingest_body(const char *body, size_t len, bool ndjson_hint,
                        const coll_ingest_limits *lim, const coll_header *hdrs, size_t nhdrs,
                        int64_t now_ms, sl_buf *out, sl_buf *scratch, size_t *ends,
                        coll_ingest_error *e)
{
    size_t pos = skip_ws(body, 0, len);
    size_t n = 0;
    if (pos == len)
        return fail(e, 400, -1, "empty body: expected a JSON object, an array or NDJSON", 0);

    if (body[pos] == '[' && !ndjson_hint) {
        pos = skip_ws(body, pos + 1, len);
        if (pos < len && body[pos] == ']')
            return fail(e, 400, -1, "empty array: no events", pos);
        for (;;) {
            if (one_event(body, len, &pos, n, lim, hdrs, nhdrs, now_ms, out, scratch, ends, e) < 0)
                return -1;
            n++;
            pos = skip_ws(body, pos, len);
            if (pos < len && body[pos] == ',') {
                pos = skip_ws(body, pos + 1, len);
                continue;
            }
            if (pos < len && body[pos] == ']')
                break;
            /* a syntax error between elements: its position says where, no element does */
            if (pos == len)
                return fail(e, 400, -1, "unterminated array: expected ',' or ']'", pos);
            return fail(e, 400, -1, "expected ',' or ']' after an array element", pos);
        }
        if (skip_ws(body, pos + 1, len) != len)
            return fail(e, 400, -1, "unexpected data after the array", pos + 1);
        return (long)n;
    }

    /* one object, or NDJSON: values separated by newlines */
    while (pos < len) {
        if (one_event(body, len, &pos, n, lim, hdrs, nhdrs, now_ms, out, scratch, ends, e) < 0)
            return -1;
        n++;
        while (pos < len && (body[pos] == ' ' || body[pos] == '\t' || body[pos] == '\r'))
            pos++;
        if (pos < len && body[pos] != '\n')
            return fail(e, 400, (long long)n - 1, "expected a newline after the event (NDJSON)",
                        pos);
        pos = skip_ws(body, pos, len);
    }
    return (long)n;
}

long coll_ingest_body(const char *body, size_t len, bool ndjson_hint,
                      const coll_ingest_limits *lim, const coll_header *hdrs, size_t nhdrs,
                      int64_t now_ms, sl_buf *out, sl_buf *scratch, size_t *ends,
                      coll_ingest_error *e)
{
    size_t start = out->len;
    long n = ingest_body(body, len, ndjson_hint, lim, hdrs, nhdrs, now_ms, out, scratch, ends, e);
    if (n < 0) {  /* all or nothing: drop the events enriched before the bad one */
        out->len = start;
        if (out->p)
            out->p[start] = '\0';
    }
    return n;
}
