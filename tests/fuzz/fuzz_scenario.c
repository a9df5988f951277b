/* libFuzzer target for src/loadgen/scenario.c. Properties checked on every input:
 *  - the parser terminates, never reads outside the buffer (ASan) and frees everything;
 *  - on success: at least one entry, counts >= 1 that add up to total, every entry has
 *    a method and a target starting with '/', and formats into a request that starts
 *    with "METHOD TARGET HTTP/1.1\r\n" and ends its header block with CRLF CRLF; header
 *    values have no blank at either end, hold no comment (a '#' between blanks; one at a
 *    value's end may have stood before a '|') and Host's is not empty;
 *  - on failure: the message starts with the file name and a line number ("f:N: "). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen/scenario.h"

static int blank(char c) { return c == ' ' || c == '\t'; }

static void check_value(const scen_header *h)
{
    const char *v = h->value;
    size_t n = strlen(v);
    if (n && (blank(v[0]) || blank(v[n - 1])))
        abort();
    if (!n && !strcasecmp(h->name, "host"))
        abort();
    for (size_t i = 1; i + 1 < n; i++)
        if (v[i] == '#' && blank(v[i - 1]) && blank(v[i + 1]))
            abort();
}

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
        for (size_t j = 0; j < e->nhdrs; j++)
            check_value(&e->hdrs[j]);
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
