/* libFuzzer target: the body of POST /events (collector/ingest.c + event.c).
 * Invariants: never crashes or leaks; on success every stored event is one valid JSON
 * object whose event_type is valid and whose event_id / received_at are the collector's;
 * on failure nothing is left in the output buffer (all or nothing). The first input byte
 * chooses the Content-Type hint (NDJSON or not). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/event.h"
#include "collector/ingest.h"
#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool ndjson = data[0] & 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    coll_ingest_limits lim;
    coll_ingest_limits_init(&lim);
    lim.max_events = 64;
    lim.max_event_bytes = 4096;
    lim.max_depth = 16;
    static size_t ends[64];
    sl_buf out, scratch;
    sl_buf_init(&out, 1 << 20);
    sl_buf_init(&scratch, 1 << 20);
    coll_header h[] = {{"Host", 4, "x", 1}, {"User-Agent", 10, "fuzz\xff", 5}};
    coll_ingest_error e;
    long n = coll_ingest_body(body, len, ndjson, &lim, h, 2, 1795255200123LL, &out, &scratch,
                              ends, &e);
    if (n < 0) {
        if (out.len != 0 || (e.status != 400 && e.status != 413) || !e.what)
            abort();
    } else {
        size_t start = 0;
        for (long i = 0; i < n; i++) {
            json_type t;
            json_error je;
            const char *ev = out.p + start;
            size_t evlen = ends[i] - start;
            if (json_validate_whole(ev, evlen, 64, &t, &je) != 0 || t != JSON_OBJECT)
                abort();
            json_iter it;
            json_member m;
            int have = 0;
            json_iter_init(&it, ev, evlen);
            while (json_iter_next(&it, &m)) {
                if (json_str_eq(m.key, "event_type", 10)) {
                    char tbuf[256];
                    if (m.type != JSON_STRING || m.value.len - 2 > sizeof tbuf)
                        abort();
                    size_t tl = json_str_decode(m.value, tbuf);
                    if (!coll_event_type_valid(tbuf, tl))
                        abort();
                    have |= 1;
                } else if (json_str_eq(m.key, "event_id", 8)) {
                    if (m.value.len != COLL_EVENT_ID_LEN + 2)
                        abort();
                    have |= 2;
                } else if (json_str_eq(m.key, "received_at", 11)) {
                    if (m.value.len != COLL_RECEIVED_AT_LEN + 2)
                        abort();
                    have |= 4;
                }
            }
            if (have != 7)
                abort();
            start = ends[i];
        }
        if (start != out.len)
            abort();
    }
    sl_buf_free(&out);
    sl_buf_free(&scratch);
    return 0;
}
