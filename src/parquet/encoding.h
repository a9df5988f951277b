/* encoding.h — Parquet's RLE / bit-packing hybrid and bit widths.
 *
 * The hybrid (Parquet Encodings.md, "RLE"), used for definition levels and dictionary
 * indices, is a sequence of runs:
 *   - RLE run:        varint(count << 1), then the value in ceil(bit_width / 8) bytes, LE;
 *   - bit-packed run: varint(groups << 1 | 1), then groups * 8 values, each bit_width bits,
 *                     packed from the least significant bit of the first byte on.
 * Only the last run may hold more values than there are (zero padding up to a group of 8):
 * the reader knows the count from the page header. This encoder takes a repeat of 8 or
 * more values as an RLE run and packs everything else, in runs of at most 63 groups (a
 * one-byte header, as parquet-cpp does).
 */
#ifndef SLUICE_PARQUET_ENCODING_H
#define SLUICE_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Bits needed for values 0..max_value (at least 1). */
int pq_bit_width(uint32_t max_value);

/* Appends the hybrid encoding of v[0..n) (each < 2^bit_width, bit_width 1..32) to b.
 * Returns 0 or -ENOMEM / -E2BIG from the buffer. */
int pq_rle_encode(sl_buf *b, const uint32_t *v, size_t n, int bit_width);

/* The same for the definition levels of an optional column: level 1 where null[i] == 0,
 * 0 where null[i] != 0; null == NULL means no value is null. Bit width 1. */
int pq_rle_encode_defs(sl_buf *b, const uint8_t *null, size_t n);

/* PLAIN booleans: one bit a value, least significant bit first. */
int pq_plain_bools(sl_buf *b, const uint8_t *v, size_t n);

#endif
