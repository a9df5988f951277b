/* hash.h — a fast 64-bit hash of short byte strings, for in-memory hash tables (the
 * stream's key-layout cache, the Parquet writer's dictionaries).
 *
 * Not a stable or cryptographic hash: tables that hash input they do not control pass a
 * random seed, and every table verifies a hit byte for byte. 8 bytes a step; the tail is
 * read with (overlapping) whole-word loads, never with a variable-length memcpy, whose
 * byte stores followed by a word load stall the CPU (measured: a quarter of the
 * dictionary builder's time).
 */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t sl_hash_mix(uint64_t h, uint64_t x)
{
    h = (h ^ x) * 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
}

static inline uint64_t sl_hash_bytes(uint64_t seed, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL);
    uint64_t x;
    if (n >= 8) {
        const unsigned char *last = p + n - 8;
        for (; p < last; p += 8) {
            memcpy(&x, p, 8);
            h = sl_hash_mix(h, x);
        }
        memcpy(&x, last, 8);   /* the last 8 bytes, overlapping the step before */
        h = sl_hash_mix(h, x);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        h = sl_hash_mix(h, (uint64_t)a << 32 | b);
    } else if (n > 0) {
        h = sl_hash_mix(h, (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1]);
    }
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

/* memcmp(a, b, n) == 0 for short strings, inline. */
static inline int sl_bytes_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n >= 8; x += 8, y += 8, n -= 8) {
        uint64_t u, v;
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        if (u != v)
            return 0;
    }
    for (; n; x++, y++, n--)
        if (*x != *y)
            return 0;
    return 1;
}

#endif
