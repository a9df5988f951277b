/* libFuzzer target for src/loadgen/scenario.c. Properties checked on every input:
 *  - the parser terminates, never reads outside the buffer (ASan) and frees everything;
 *  - on success: at least one entry, counts >= 1 that add up to total, every entry has
 *    a method and a target starting with '/', and formats into a request that starts
 *    with "METHOD TARGET HTTP/1.1\r\n" and ends its header block with CRLF CRLF;
 *  - on failure: the message starts with the file name and a line number ("f:N: "). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scenario *s = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = scen_parse((const char *)data, size, "f", &s, &err);
    if (rc) {
        if (s || strncmp(err.msg, "f:", 2) || err.msg[2] < '1' || err.msg[2] > '9')
            abort();
        return 0;
    }
    if (!s || !s->n)
        abort();
    uint64_t total = 0;
    sl_buf b;
    sl_buf_init(&b, 4u << 20);
    for (size_t i = 0; i < s->n; i++) {
        const scen_entry *e = &s->v[i];
        if (e->count < 1 || !e->method[0] || e->target[0] != '/')
            abort();
        total += e->count;
        sl_buf_reset(&b);
        if (scen_format_request(e, "h", i % 2 == 0, &b) != 0)
            abort();
        size_t ml = strlen(e->method), tl = strlen(e->target);
        if (b.len < ml + tl + 12 || memcmp(b.p, e->method, ml) || b.p[ml] != ' ' ||
            memcmp(b.p + ml + 1, e->target, tl) || !strstr(b.p, "\r\n\r\n"))
            abort();
    }
    if (total != s->total)
        abort();
    sl_buf_free(&b);
    scen_free(s);
    return 0;
}
