/* test_hash.c — common/hash.h: sl_bytes_equal() agrees with memcmp() for every length
 * and every position of a difference; equal strings hash and fold (sl_word_of) alike, at
 * any alignment; sl_word_of tells apart every short key that differs in a byte. */
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "test.h"

static void test_bytes_equal_matches_memcmp(void)
{
    unsigned char a[80], b[80];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (unsigned char)(i * 37 + 11);
    size_t bad = 0;
    for (size_t off = 0; off < 8; off++)       /* unaligned starts */
        for (size_t n = 0; n <= 64; n++) {
            memcpy(b + off, a, n);
            if (!sl_bytes_equal(a, b + off, n))
                bad++;
            for (size_t k = 0; k < n; k++) {   /* one differing byte, anywhere */
                b[off + k] ^= 0x40;
                if (sl_bytes_equal(a, b + off, n))
                    bad++;
                b[off + k] ^= 0x40;
            }
        }
    CHECK(bad == 0);
}

static void test_hash_and_word(void)
{
    unsigned char a[80], b[80];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (unsigned char)(i * 53 + 7);
    size_t bad = 0;
    for (size_t off = 1; off < 8; off++)
        for (size_t n = 0; n <= 64; n++) {
            memcpy(b + off, a, n);
            if (sl_hash_bytes(42, a, n) != sl_hash_bytes(42, b + off, n) ||
                sl_word_of(a, n) != sl_word_of(b + off, n))
                bad++;
        }
    CHECK(bad == 0);
    /* every byte of a key up to 16 bytes counts in its word */
    for (size_t n = 1; n <= 16; n++)
        for (size_t k = 0; k < n; k++) {
            memcpy(b, a, n);
            b[k] ^= 0x01;
            if (sl_word_of(a, n) == sl_word_of(b, n))
                bad++;
        }
    CHECK(bad == 0);
    /* lengths count in the hash: "ab" and "ab\0" differ */
    CHECK(sl_hash_bytes(0, "ab\0", 2) != sl_hash_bytes(0, "ab\0", 3));
}

int main(void)
{
    RUN(test_bytes_equal_matches_memcmp);
    RUN(test_hash_and_word);
    return test_summary();
}
