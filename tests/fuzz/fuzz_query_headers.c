/* libFuzzer target: query-string decoding and merging headers and query parameters into a
 * route event (collector/event.c). Input layout: query string, a NUL, then header lines
 * "Name: value\n". Invariant: the event is always one valid JSON object (any bytes in names
 * and values are escaped), and a name never appears twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/event.h"
#include "common/json.h"
#include "spec/gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t qlen = nul ? (size_t)(nul - p) : size;
    sl_buf out, qs;
    sl_buf_init(&out, 1 << 20);
    sl_buf_init(&qs, 1 << 20);
    spec_kv q[64];
    int nq = coll_query_decode(p, qlen, &qs, (struct spec_kv *)q, 64);

    coll_ev ev;
    coll_ev_begin(&ev, &out);
    int rc = coll_ev_add_envelope(&ev, "fuzz", 4, 1795255200123LL);
    /* headers */
    if (nul) {
        const char *h = nul + 1, *end = p + size;
        while (rc >= 0 && h < end) {
            const char *eol = memchr(h, '\n', (size_t)(end - h));
            if (!eol)
                eol = end;
            const char *colon = memchr(h, ':', (size_t)(eol - h));
            if (colon)
                rc = coll_ev_add_str(&ev, h, (size_t)(colon - h), colon + 1,
                                     (size_t)(eol - colon - 1));
            h = eol + 1;
        }
    }
    for (int i = 0; rc >= 0 && i < nq; i++)
        rc = coll_ev_add_str(&ev, q[i].key, q[i].key_len, q[i].val, q[i].val_len);
    if (rc >= 0)
        rc = coll_ev_end(&ev);
    if (rc >= 0) {
        json_type t;
        json_error je;
        if (json_validate_whole(out.p, out.len, 4, &t, &je) != 0 || t != JSON_OBJECT)
            abort();
        /* no duplicate raw keys */
        json_iter it;
        json_member m;
        size_t nm = 0;
        json_span keys[COLL_EVENT_MAX_NAMES + 1];
        json_iter_init(&it, out.p, out.len);
        while (json_iter_next(&it, &m)) {
            if (nm > COLL_EVENT_MAX_NAMES)
                abort();
            for (size_t k = 0; k < nm; k++)
                if (keys[k].len == m.key.len && !memcmp(keys[k].p, m.key.p, m.key.len))
                    abort();
            keys[nm++] = m.key;
        }
    } else {
        coll_ev_abort(&ev);
        if (out.len != 0)
            abort();
    }
    sl_buf_free(&out);
    sl_buf_free(&qs);
    return 0;
}
