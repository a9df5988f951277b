/* libFuzzer target for src/common/json.c. Properties checked on every input:
 *  - validation never reads outside the buffer (ASan) and terminates;
 *  - for an accepted value, iterating its members stays inside it and every member's key
 *    and value spans lie within the input; string values decode to valid, re-escapable
 *    text whose escaped form validates again (round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    json_type t;
    json_error e;
    if (json_validate_whole(in, size, 32, &t, &e) != 0) {
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
