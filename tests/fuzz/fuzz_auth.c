/* libFuzzer target: the Authorization header parsing of collector/auth.c (Basic with
 * base64, Bearer). Input: the header value. Invariants: no crash or over-read on any
 * bytes; a set without keys accepts everything; a set with a key accepts exactly the
 * spellings of that key (checked against a Bearer spelling built from the input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static coll_auth *keyed, *open_set;
    if (!keyed) {
        sl_err err;
        keyed = coll_auth_create();
        open_set = coll_auth_create();
        if (!keyed || !open_set || coll_auth_add_key(keyed, "fuzz-key-1", 10, &err) < 0 ||
            coll_auth_set_token(keyed, "fuzz-admin-token-0001", &err) < 0)
            abort();
    }
    const char *h = (const char *)data;
    if (!coll_auth_check_write(open_set, h, size))
        abort();
    (void)coll_auth_check_write(keyed, h, size);
    (void)coll_auth_check_token(keyed, h, size);
    (void)coll_auth_check_token(open_set, h, size);
    /* "Bearer <input>" is accepted iff the input is the key */
    char *b = malloc(size + 8);
    if (!b)
        return 0;
    memcpy(b, "Bearer ", 7);
    memcpy(b + 7, data, size);
    bool ok = coll_auth_check_write(keyed, b, size + 7);
    /* spaces after the scheme and trailing blanks are skipped: "  fuzz-key-1 " counts */
    size_t s0 = 0, t = size;
    while (t > 0 && (data[t - 1] == ' ' || data[t - 1] == '\t'))
        t--;
    while (s0 < t && data[s0] == ' ')
        s0++;
    bool is_key = t - s0 == 10 && !memcmp(data + s0, "fuzz-key-1", 10);
    if (ok != is_key)
        abort();
    free(b);
    return 0;
}
