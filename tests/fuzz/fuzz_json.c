/* libFuzzer target for src/common/json.c. Properties checked on every input:
 *  - validation never reads outside the buffer (ASan) and terminates;
 *  - for an accepted value, iterating its members stays inside it and every member's key
 *    and value spans lie within the input; string values decode to valid, re-escapable
 *    text whose escaped form validates again (round trip);
 *  - json_parse_object() (validation and member walk in one pass) agrees with
 *    json_validate_whole() on the verdict, the error position and text, and with the
 *    iterator on every member. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static void one_pass_agrees(const char *in, size_t size, int rc, json_type t,
                            const json_error *e)
{
    json_field f[16];
    size_t n = 0;
    json_type t2 = JSON_NONE;
    json_error e2 = {0, NULL};
    int rc2 = json_parse_object(in, size, 32, f, 16, &n, &t2, &e2);
    if (rc2 != rc)
        abort();
    if (rc != 0) {
        if (e2.pos != e->pos || strcmp(e2.what, e->what))
            abort();
        return;
    }
    if (t2 != t)
        abort();
    if (t != JSON_OBJECT)
        return;
    json_iter it;
    json_member m;
    json_iter_init(&it, in, size);
    size_t k = 0;
    while (json_iter_next(&it, &m)) {
        if (k < 16 && k < n &&
            (m.key.p != f[k].key.p || m.key.len != f[k].key.len || m.value.p != f[k].value.p ||
             m.value.len != f[k].value.len || m.type != f[k].type))
            abort();
        k++;
    }
    if (k != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    json_type t = JSON_NONE;
    json_error e = {0, NULL};
    int rc = json_validate_whole(in, size, 32, &t, &e);
    one_pass_agrees(in, size, rc, t, &e);
    if (rc != 0) {
        if (e.pos > size)
            abort();
        return 0;
    }
    if (t != JSON_OBJECT && t != JSON_ARRAY)
        return 0;
    json_iter it;
    json_member m;
    json_iter_init(&it, in, size);
    while (json_iter_next(&it, &m)) {
        if (m.value.p < in || m.value.p + m.value.len > in + size)
            abort();
        if (json_validate_whole(m.value.p, m.value.len, 32, NULL, NULL) != 0)
            abort();
        if (m.type == JSON_STRING) {
            char *dec = malloc(m.value.len);
            if (!dec)
                return 0;
            size_t n = json_str_decode(m.value, dec);
            size_t el = json_escaped_len(dec, n);
            char *esc = malloc(el);
            if (esc) {
                if (json_escape(dec, n, esc) != el)
                    abort();
                if (json_validate_whole(esc, el, 1, NULL, NULL) != 0)
                    abort();
                char *back = malloc(el);
                if (back && (json_str_decode((json_span){esc, el}, back) != n ||
                             memcmp(back, dec, n)))
                    abort();
                free(back);
            }
            free(esc);
            free(dec);
        }
    }
    return 0;
}
