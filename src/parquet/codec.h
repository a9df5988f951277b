/* codec.h — page compression for the Parquet writer: snappy (raw format, libsnappy), zstd
 * (libzstd, one reusable context), gzip (zlib with the gzip wrapper, one reusable stream)
 * or none. Each page is compressed on its own, as Parquet requires.
 *
 * One compressor per thread; it keeps its library state between pages.
 */
#ifndef SLUICE_PARQUET_CODEC_H
#define SLUICE_PARQUET_CODEC_H

#include <stddef.h>

#include "common/buf.h"
#include "parquet/parquet.h"

typedef struct pq_compressor pq_compressor;

int  pq_compressor_new(pq_compressor **out, pq_codec codec, int level);
void pq_compressor_free(pq_compressor *c);   /* NULL is fine */

/* Replaces dst's content with src[0..n) compressed. 0, -ENOMEM, or -EIO (library error). */
int pq_compress(pq_compressor *c, const void *src, size_t n, sl_buf *dst);

#endif
