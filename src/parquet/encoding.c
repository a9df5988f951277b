/* encoding.c — RLE / bit-packing hybrid (see encoding.h). */
#include "parquet/encoding.h"

#include <errno.h>
#include <string.h>

#include "parquet/thrift.h"

int pq_bit_width(uint32_t max_value)
{
    int w = 1;
    while (w < 32 && (max_value >> w) != 0)
        w++;
    return w;
}

static int rle_run(sl_buf *b, uint32_t value, size_t count, int bit_width)
{
    int rc = thrift_uleb128(b, (uint64_t)count << 1);
    uint8_t le[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                     (uint8_t)(value >> 24)};
    return rc ? rc : sl_buf_add(b, le, (size_t)(bit_width + 7) / 8);
}

/* Packs groups*8 values (v[0..avail), zero beyond) of bit_width bits into b. */
static int pack_groups(sl_buf *b, const uint32_t *v, size_t avail, size_t groups, int bit_width)
{
    size_t nbytes = groups * (size_t)bit_width;   /* 8 values * w bits = w bytes a group */
    int rc = thrift_uleb128(b, (uint64_t)groups << 1 | 1);
    if (rc == 0)
        rc = sl_buf_reserve(b, nbytes);
    if (rc < 0)
        return rc;
    uint8_t *out = (uint8_t *)b->p + b->len;
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < groups * 8; i++) {
        uint64_t x = i < avail ? v[i] : 0;
        acc |= x << bits;
        bits += bit_width;
        while (bits >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    b->len += o;
    b->p[b->len] = '\0';
    return 0;
}

static size_t run_length(const uint32_t *v, size_t i, size_t n, size_t enough)
{
    size_t j = i + 1;
    while (j < n && j - i < enough && v[j] == v[i])
        j++;
    return j - i;
}

int pq_rle_encode(sl_buf *b, const uint32_t *v, size_t n, int bit_width)
{
    if (bit_width < 1 || bit_width > 32)
        return -EINVAL;
    size_t i = 0;
    while (i < n) {
        size_t r = run_length(v, i, n, 8);
        if (r >= 8) {
            size_t j = i + 8;
            while (j < n && v[j] == v[i])
                j++;
            int rc = rle_run(b, v[i], j - i, bit_width);
            if (rc < 0)
                return rc;
            i = j;
            continue;
        }
        /* Bit-packed: groups of 8 until a repeat of 8 starts at a group boundary. */
        size_t start = i, groups = 0;
        do {
            groups++;
            i += 8;
        } while (i < n && groups < 63 && run_length(v, i, n, 8) < 8);
        int rc = pack_groups(b, v + start, (i < n ? i : n) - start, groups, bit_width);
        if (rc < 0)
            return rc;
        if (i > n)
            i = n;
    }
    return 0;
}

int pq_rle_encode_defs(sl_buf *b, const uint8_t *null, size_t n)
{
    if (n == 0)
        return 0;
    if (!null)
        return rle_run(b, 1, n, 1);
    /* pq_rle_encode() reading the levels straight from the null bytes (no array of
     * levels). Not in chunks through pq_rle_encode(): a bit-packed run need not start at
     * a multiple of 8, so a chunk could end in a padded group, which only the last run
     * may have. */
    uint32_t tmp[63 * 8];
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && (null[j] != 0) == (null[i] != 0))
            j++;
        if (j - i >= 8) {
            int rc = rle_run(b, null[i] ? 0 : 1, j - i, 1);
            if (rc < 0)
                return rc;
            i = j;
            continue;
        }
        size_t groups = 0;
        for (;;) {
            for (size_t k = 0; k < 8; k++)
                tmp[groups * 8 + k] = i + k < n ? (null[i + k] ? 0u : 1u) : 0u;
            groups++;
            i += 8;
            if (i >= n || groups == 63)
                break;
            size_t r = 1;
            while (i + r < n && r < 8 && (null[i + r] != 0) == (null[i] != 0))
                r++;
            if (r >= 8)
                break;
        }
        int rc = pack_groups(b, tmp, groups * 8, groups, 1);
        if (rc < 0)
            return rc;
        if (i > n)
            i = n;
    }
    return 0;
}

int pq_plain_bools(sl_buf *b, const uint8_t *v, size_t n)
{
    size_t nbytes = (n + 7) / 8;
    int rc = sl_buf_reserve(b, nbytes);
    if (rc < 0)
        return rc;
    uint8_t *out = (uint8_t *)b->p + b->len;
    memset(out, 0, nbytes);
    for (size_t i = 0; i < n; i++)
        if (v[i])
            out[i >> 3] |= (uint8_t)(1u << (i & 7));
    b->len += nbytes;
    b->p[b->len] = '\0';
    return 0;
}
