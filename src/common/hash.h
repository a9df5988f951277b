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

/* Up to 16 bytes of p as one word: the first and the last 8 (or 4) bytes folded
 * together, loaded whole (overlapping) as sl_hash_bytes does. Equal strings give equal
 * words; for short keys, whose bytes it covers, a cheap stand-in for a hash. */
static inline uint64_t sl_word_of(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t a, b;
    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        return a ^ (b * 0x9E3779B97F4A7C15ULL);
    }
    if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        return (uint64_t)x << 32 | y;
    }
    return n ? (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1] : 0;
}

/* memcmp(a, b, n) == 0 for short strings, inline: whole-word loads only (the last word
 * overlapping the one before), no byte loop. */
static inline int sl_bytes_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t u, v;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&u, x + i, 8);
            memcpy(&v, y + i, 8);
            if (u != v)
                return 0;
        }
        memcpy(&u, x + n - 8, 8);
        memcpy(&v, y + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t p, q, r, s;
        memcpy(&p, x, 4);
        memcpy(&q, y, 4);
        memcpy(&r, x + n - 4, 4);
        memcpy(&s, y + n - 4, 4);
        return p == q && r == s;
    }
    return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

#endif
