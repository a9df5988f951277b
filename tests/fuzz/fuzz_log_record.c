/* libFuzzer target for the log record decoder (the code that reads untrusted bytes from
 * segment files). Decodes the input as a run of records, as recovery and readers do, and
 * checks what a valid decode promises: the record lies inside the input, and encoding it
 * again gives back exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        log_record r;
        size_t sz;
        const char *why;
        int d = log_record_decode(data + pos, size - pos, &r, &sz, &why);
        if (d == LOG_DECODE_BAD) {
            if (!why)
                abort();
            break;
        }
        if (d == LOG_DECODE_SHORT) {
            if (sz && sz <= size - pos)
                abort(); /* claims to need bytes it already has */
            break;
        }
        if (sz != LOG_RECORD_HEADER_BYTES + (size_t)r.len || sz > size - pos)
            abort();
        if (r.data != (const char *)data + pos + LOG_RECORD_HEADER_BYTES)
            abort();
        unsigned char *again = malloc(sz);
        if (!again)
            return 0;
        size_t n = log_record_encode(again, r.offset, r.ts_ms, r.data, r.len);
        if (n != sz || memcmp(again, data + pos, sz))
            abort();
        free(again);
        pos += sz;
    }
    return 0;
}
