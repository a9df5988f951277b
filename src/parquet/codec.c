/* codec.c — page compression (see codec.h). */
#include "parquet/codec.h"

#include <errno.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct pq_compressor {
    pq_codec   codec;
    int        level;
    ZSTD_CCtx *zstd;
    z_stream   gz;
    bool       gz_ready;
};

int pq_compressor_new(pq_compressor **out, pq_codec codec, int level)
{
    pq_compressor *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->codec = codec;
    c->level = level;
    if (codec == PQ_ZSTD) {
        if (!(c->zstd = ZSTD_createCCtx())) {
            free(c);
            return -ENOMEM;
        }
        /* DuckDB's and parquet-cpp's default level */
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, level ? level : 3);
    } else if (codec == PQ_GZIP) {
        /* windowBits 15 + 16: the gzip wrapper (RFC 1952), which Parquet's GZIP means */
        if (deflateInit2(&c->gz, level ? level : 6, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(c);
            return -ENOMEM;
        }
        c->gz_ready = true;
    }
    *out = c;
    return 0;
}

void pq_compressor_free(pq_compressor *c)
{
    if (!c)
        return;
    if (c->zstd)
        ZSTD_freeCCtx(c->zstd);
    if (c->gz_ready)
        deflateEnd(&c->gz);
    free(c);
}

int pq_compress(pq_compressor *c, const void *src, size_t n, sl_buf *dst)
{
    sl_buf_reset(dst);
    size_t bound;
    switch (c->codec) {
    case PQ_SNAPPY: bound = snappy_max_compressed_length(n); break;
    case PQ_ZSTD:   bound = ZSTD_compressBound(n); break;
    case PQ_GZIP:   bound = deflateBound(&c->gz, (uLong)n) + 32; break;
    case PQ_UNCOMPRESSED:
    default:        return sl_buf_add(dst, src, n);
    }
    int rc = sl_buf_reserve(dst, bound);
    if (rc < 0)
        return rc;
    size_t out = bound;
    switch (c->codec) {
    case PQ_SNAPPY:
        if (snappy_compress(src, n, dst->p, &out) != SNAPPY_OK)
            return -EIO;
        break;
    case PQ_ZSTD:
        out = ZSTD_compress2(c->zstd, dst->p, bound, src, n);
        if (ZSTD_isError(out))
            return -EIO;
        break;
    case PQ_GZIP:
        if (deflateReset(&c->gz) != Z_OK)
            return -EIO;
        c->gz.next_in = (Bytef *)(uintptr_t)src;
        c->gz.avail_in = (uInt)n;
        c->gz.next_out = (Bytef *)dst->p;
        c->gz.avail_out = (uInt)bound;
        if (deflate(&c->gz, Z_FINISH) != Z_STREAM_END)
            return -EIO;
        out = bound - c->gz.avail_out;
        break;
    default:
        break;
    }
    dst->len = out;
    dst->p[out] = '\0';
    return 0;
}
