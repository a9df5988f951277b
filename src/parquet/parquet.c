/* parquet.c — the Parquet file writer (see parquet.h for what it writes).
 *
 * A row group is written column after column: the column's values are encoded into page
 * bodies (definition levels, then values), each body is compressed on its own, and the
 * page header (Thrift) and the compressed body go to the output buffer, which is flushed
 * to the file about every MiB. What the footer needs of each column chunk (offsets,
 * sizes, statistics) is kept until pq_end().
 */
#include "parquet/parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/hash.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/thrift.h"

/* Thrift enum values of parquet.thrift */
enum { T_BOOLEAN = 0, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MICROS = 10 };
enum { REP_OPTIONAL = 1 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

#define OUT_FLUSH   (1u << 20)   /* output buffered before a write() */
#define OUT_DIRECT  (64u << 10)  /* pieces this large are written without the buffer */
#define DICT_PROBE  1024         /* values after which a mostly distinct column goes PLAIN */
#define MAX_PROBES  64           /* hash probes before giving up on a dictionary */
#define PREFETCH_AHEAD 16        /* values ahead whose bytes are prefetched */
#define CODEC_PROBE (64u << 10)  /* bytes compressed to decide a chunk's codec */
#define CODEC_PROBE_MIN 4096     /* a smaller first page keeps the file's codec */

typedef struct chunk_meta {
    pq_codec codec;           /* the file's, or UNCOMPRESSED when it does not pay */
    bool     codec_chosen;
    int64_t num_values;
    int64_t total_uncompressed, total_compressed;
    int64_t data_page_offset, dict_page_offset;   /* -1: none */
    int64_t null_count;
    bool    dict;
    bool    has_minmax;
    uint8_t minlen, maxlen;
    uint8_t min[PQ_STAT_MAX], max[PQ_STAT_MAX];
} chunk_meta;

typedef struct rg_meta {
    int64_t     num_rows, file_offset, total_byte_size, total_compressed;
    chunk_meta *chunks;
} rg_meta;

typedef struct dict_entry {
    pq_str   s;
    uint64_t h;
} dict_entry;

/* The dictionary of one string column chunk, and the index of each non-null value. */
typedef struct pq_dict {
    bool        active;       /* still building; false: the column goes PLAIN */
    dict_entry *ents;
    size_t      nents, cap_ents;
    uint32_t   *slots;        /* entry index + 1; 0 = empty */
    size_t      nslots, cap_slots;
    uint32_t   *idx;
    size_t      nidx, idx_cap;
    size_t      bytes;        /* PLAIN size of the entries */
} pq_dict;

struct pq_writer {
    pq_options     o;
    char           created_by[128];
    pq_compressor *comp;
    uint64_t       seed;
    /* the file */
    int            fd;
    bool           open;
    int64_t        off;       /* bytes of the file so far (written or buffered) */
    int64_t        written;   /* bytes handed to write() */
    int64_t        synced;    /* bytes whose writeback was started (sync_bytes) */
    sl_buf         out;
    pq_column     *cols;
    size_t         ncols;
    rg_meta       *rgs;
    size_t         nrg, caprg;
    int64_t        num_rows;
    /* scratch */
    sl_buf         body, comp_buf, hdr;
    int64_t       *gather;    /* non-null fixed-width values of a page */
    size_t         gather_cap;
    pq_dict       *dicts;     /* one per column (used by string columns) */
    size_t         ndicts;
};

int pq_codec_parse(const char *name, pq_codec *out)
{
    static const struct { const char *name; pq_codec c; } map[] = {
        {"snappy", PQ_SNAPPY}, {"zstd", PQ_ZSTD}, {"gzip", PQ_GZIP},
        {"uncompressed", PQ_UNCOMPRESSED},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(name, map[i].name)) {
            *out = map[i].c;
            return 0;
        }
    return -EINVAL;
}

const char *pq_codec_name(pq_codec c)
{
    switch (c) {
    case PQ_SNAPPY: return "snappy";
    case PQ_ZSTD:   return "zstd";
    case PQ_GZIP:   return "gzip";
    default:        return "uncompressed";
    }
}

void pq_options_init(pq_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = PQ_SNAPPY;
    o->page_size = 1u << 20;
    o->page_rows = 20000;
    o->dict_max_bytes = 1u << 20;
}

int pq_writer_new(pq_writer **out, const pq_options *o, sl_err *err)
{
    *out = NULL;
    pq_writer *w = calloc(1, sizeof *w);
    if (!w)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    w->o = *o;
    if (!w->o.page_size)
        w->o.page_size = 1u << 20;
    if (!w->o.page_rows)
        w->o.page_rows = 20000;
    if (!w->o.dict_max_bytes)
        w->o.dict_max_bytes = 1u << 20;
    snprintf(w->created_by, sizeof w->created_by, "%s", o->created_by ? o->created_by : "sluice");
    w->fd = -1;
    sl_buf_init(&w->out, 0);
    sl_buf_init(&w->body, 0);
    sl_buf_init(&w->comp_buf, 0);
    sl_buf_init(&w->hdr, 0);
    /* The dictionary hash only orders probes (the dictionary is in first-seen order), so a
     * random seed changes no output; it keeps crafted values from colliding on purpose. */
    if (getrandom(&w->seed, sizeof w->seed, GRND_NONBLOCK) != (ssize_t)sizeof w->seed)
        w->seed = (uint64_t)(uintptr_t)w * 0x9E3779B97F4A7C15ULL;
    int rc = pq_compressor_new(&w->comp, w->o.codec, w->o.level);
    if (rc < 0) {
        free(w);
        return sl_err_set(err, rc, false, "parquet: cannot set up %s compression",
                          pq_codec_name(o->codec));
    }
    *out = w;
    return 0;
}

static void forget_file(pq_writer *w)
{
    for (size_t i = 0; i < w->nrg; i++)
        free(w->rgs[i].chunks);
    w->nrg = 0;
    for (size_t c = 0; c < w->ncols; c++)
        free((char *)w->cols[c].name);
    free(w->cols);
    w->cols = NULL;
    w->ncols = 0;
    w->num_rows = 0;
    w->off = w->written = w->synced = 0;
    w->open = false;
    w->fd = -1;
    sl_buf_reset(&w->out);
}

void pq_writer_free(pq_writer *w)
{
    if (!w)
        return;
    forget_file(w);
    free(w->rgs);
    sl_buf_free(&w->out);
    sl_buf_free(&w->body);
    sl_buf_free(&w->comp_buf);
    sl_buf_free(&w->hdr);
    free(w->gather);
    for (size_t c = 0; c < w->ndicts; c++) {
        free(w->dicts[c].ents);
        free(w->dicts[c].slots);
        free(w->dicts[c].idx);
    }
    free(w->dicts);
    pq_compressor_free(w->comp);
    free(w);
}

/* ---- output ---- */

static int write_all(int fd, const char *p, size_t n, sl_err *err);

/* Writes n bytes to the file; every sync_bytes, starts the writeback of what was written
 * since the last time without waiting for it, so that the caller's fsync at the end finds
 * little left to write (an fsync of a whole file is time nothing else happens in). */
static int file_write(pq_writer *w, const char *p, size_t n, sl_err *err)
{
    int rc = write_all(w->fd, p, n, err);
    if (rc < 0)
        return rc;
    w->written += (int64_t)n;
#ifdef SYNC_FILE_RANGE_WRITE
    if (w->o.sync_bytes && w->written - w->synced >= (int64_t)w->o.sync_bytes) {
        /* advisory: a filesystem without it (or an error) only leaves the work to fsync */
        (void)sync_file_range(w->fd, w->synced, w->written - w->synced, SYNC_FILE_RANGE_WRITE);
        w->synced = w->written;
    }
#endif
    return 0;
}

static int flush_out(pq_writer *w, sl_err *err)
{
    int rc = file_write(w, w->out.p, w->out.len, err);
    sl_buf_reset(&w->out);
    return rc;
}

static int write_all(int fd, const char *p, size_t n, sl_err *err)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sl_err_errno(err, errno, "write");
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Small pieces (headers, small pages) are gathered in w->out; a large page goes to the
 * file from where it is, without a copy. */
static int emit(pq_writer *w, const void *p, size_t n, sl_err *err)
{
    w->off += (int64_t)n;
    if (n >= OUT_DIRECT) {
        int rc = flush_out(w, err);
        return rc ? rc : file_write(w, p, n, err);
    }
    if (sl_buf_add(&w->out, p, n) < 0)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    return w->out.len >= OUT_FLUSH ? flush_out(w, err) : 0;
}

/* ---- scratch growth ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

/* ---- pages ---- */

/* The codec of a column chunk, chosen at its first page of some size: data that does not
 * compress (random ids, already compressed bytes) is stored uncompressed. Parquet names
 * the codec per column chunk, so readers take such a chunk as it is. It matters: snappy
 * took 4 times longer on UUID text (300 MB/s, 9% smaller) than on event JSON (1.1 GB/s,
 * 77% smaller), and an id column was half of all its time. */
static int choose_codec(pq_writer *w, chunk_meta *cm, sl_err *err)
{
    /* Decided at the chunk's first page, whatever comes after: every page of a chunk has
     * its codec. A small first page (a dictionary) says too little: the codec stays. */
    if (cm->codec_chosen)
        return 0;
    cm->codec_chosen = true;
    if (w->o.codec == PQ_UNCOMPRESSED || w->body.len < CODEC_PROBE_MIN)
        return 0;
    size_t n = w->body.len < CODEC_PROBE ? w->body.len : CODEC_PROBE;
    int rc = pq_compress(w->comp, w->body.p, n, &w->comp_buf);
    if (rc < 0)
        return sl_err_set(err, rc, rc == -ENOMEM, "parquet: %s compression failed",
                          pq_codec_name(w->o.codec));
    if (w->comp_buf.len * 10 > n * 9)
        cm->codec = PQ_UNCOMPRESSED;
    return 0;
}

/* Compresses the page body in w->body and writes header + body. */
static int write_page(pq_writer *w, chunk_meta *cm, int type, size_t nvalues, int encoding,
                      sl_err *err)
{
    if (w->body.len > INT32_MAX || nvalues > INT32_MAX)
        return sl_err_set(err, -E2BIG, false, "parquet: page too large");
    const sl_buf *payload = &w->body;
    int crc = choose_codec(w, cm, err);
    if (crc < 0)
        return crc;
    if (cm->codec != PQ_UNCOMPRESSED) {
        int rc = pq_compress(w->comp, w->body.p, w->body.len, &w->comp_buf);
        if (rc < 0)
            return sl_err_set(err, rc, rc == -ENOMEM, "parquet: %s compression failed",
                              pq_codec_name(w->o.codec));
        payload = &w->comp_buf;
    }
    if (payload->len > INT32_MAX)
        return sl_err_set(err, -E2BIG, false, "parquet: page too large");
    sl_buf_reset(&w->hdr);
    thrift_writer t;
    thrift_init(&t, &w->hdr);
    thrift_i32(&t, 1, type);
    thrift_i32(&t, 2, (int32_t)w->body.len);
    thrift_i32(&t, 3, (int32_t)payload->len);
    if (type == PAGE_DATA) {
        thrift_struct_begin(&t, 5);
        thrift_i32(&t, 1, (int32_t)nvalues);
        thrift_i32(&t, 2, encoding);
        thrift_i32(&t, 3, ENC_RLE);   /* definition levels */
        thrift_i32(&t, 4, ENC_RLE);   /* repetition levels (none: max level 0) */
        thrift_end(&t);
    } else {
        thrift_struct_begin(&t, 7);
        thrift_i32(&t, 1, (int32_t)nvalues);
        thrift_i32(&t, 2, encoding);
        thrift_end(&t);
    }
    thrift_end(&t);
    if (thrift_error(&t) < 0)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    if (type == PAGE_DATA && cm->data_page_offset < 0)
        cm->data_page_offset = w->off;
    if (type == PAGE_DICTIONARY)
        cm->dict_page_offset = w->off;
    int rc = emit(w, w->hdr.p, w->hdr.len, err);
    if (rc == 0)
        rc = emit(w, payload->p, payload->len, err);
    cm->total_uncompressed += (int64_t)(w->hdr.len + w->body.len);
    cm->total_compressed += (int64_t)(w->hdr.len + payload->len);
    return rc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Starts a data page body with the definition levels of rows [r0, r1). */
static int body_defs(pq_writer *w, const uint8_t *null, size_t r0, size_t r1)
{
    sl_buf_reset(&w->body);
    int rc = sl_buf_add(&w->body, "\0\0\0\0", 4);
    if (rc == 0)
        rc = pq_rle_encode_defs(&w->body, null ? null + r0 : NULL, r1 - r0);
    if (rc == 0)
        put_le32((uint8_t *)w->body.p, (uint32_t)(w->body.len - 4));
    return rc;
}

static size_t count_nonnull(const uint8_t *null, size_t r0, size_t r1)
{
    if (!null)
        return r1 - r0;
    size_t n = 0;
    for (size_t r = r0; r < r1; r++)
        n += !null[r];
    return n;
}

/* ---- statistics ---- */

static int cmp_bytes(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    if (n >= 8) {   /* the first 8 bytes as a big-endian number usually decide (ids) */
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
#endif
            return x < y ? -1 : 1;
        }
    }
    int c = memcmp(a, b, n);
    return c ? c : (al > bl) - (al < bl);
}

static void set_stat(uint8_t *dst, uint8_t *dlen, const void *p, size_t n)
{
    memcpy(dst, p, n);
    *dlen = (uint8_t)n;
}

/* Min/max of strings (unsigned byte order) over n values, the i-th at byte offset
 * i * stride from first (the dictionary's entries): false when a value is too long to be
 * kept, or there is none. */
static bool string_minmax(chunk_meta *cm, const pq_str *first, size_t stride, size_t n)
{
    const pq_str *mn = NULL, *mx = NULL;
    for (size_t i = 0; i < n; i++) {
        const pq_str *v = (const pq_str *)(const void *)((const char *)first + i * stride);
        if (v->len > PQ_STAT_MAX)
            return false;
        if (!mn || cmp_bytes(v->p, v->len, mn->p, mn->len) < 0)
            mn = v;
        if (!mx || cmp_bytes(v->p, v->len, mx->p, mx->len) > 0)
            mx = v;
    }
    if (!mn)
        return false;
    set_stat(cm->min, &cm->minlen, mn->p, mn->len);
    set_stat(cm->max, &cm->maxlen, mx->p, mx->len);
    return true;
}

/* ---- strings ---- */

static int dict_reset(pq_dict *d, size_t slots)
{
    if (grow((void **)&d->slots, &d->cap_slots, slots, sizeof *d->slots) < 0)
        return -ENOMEM;
    d->nslots = slots;
    memset(d->slots, 0, slots * sizeof *d->slots);
    return 0;
}

static int dict_rehash(pq_dict *d)
{
    if (dict_reset(d, d->nslots * 2) < 0)
        return -ENOMEM;
    size_t mask = d->nslots - 1;
    for (size_t e = 0; e < d->nents; e++) {
        size_t pos = (size_t)d->ents[e].h & mask;
        while (d->slots[pos])
            pos = (pos + 1) & mask;
        d->slots[pos] = (uint32_t)e + 1;
    }
    return 0;
}

/* Adds one value: its index goes to d->idx. 0, -ENOMEM, or 1 when the column should
 * rather be PLAIN (too many distinct values, too large, or a pathological probe run). */
static inline int dict_add(pq_dict *d, uint64_t seed, const pq_str *s, size_t max_bytes)
{
    uint64_t h = sl_hash_bytes(seed, s->p, s->len);
    size_t mask = d->nslots - 1, pos = (size_t)h & mask, probes = 0;
    uint32_t id;
    for (;;) {
        uint32_t e = d->slots[pos];
        if (!e) {
            if (grow((void **)&d->ents, &d->cap_ents, d->nents + 1, sizeof *d->ents) < 0)
                return -ENOMEM;
            id = (uint32_t)d->nents;
            d->ents[d->nents++] = (dict_entry){*s, h};
            d->slots[pos] = id + 1;
            d->bytes += 4 + (size_t)s->len;
            if (d->nents * 2 > d->nslots && dict_rehash(d) < 0)
                return -ENOMEM;
            break;
        }
        const dict_entry *x = &d->ents[e - 1];
        if (x->h == h && x->s.len == s->len && sl_bytes_equal(x->s.p, s->p, s->len)) {
            id = e - 1;
            break;
        }
        pos = (pos + 1) & mask;
        if (++probes > MAX_PROBES)
            return 1;
    }
    d->idx[d->nidx++] = id;
    if (d->bytes > max_bytes || d->nents >= (1u << 31))
        return 1;
    if (d->nidx == DICT_PROBE && d->nents * 4 > DICT_PROBE * 3)
        return 1;   /* mostly distinct so far (ids, raw text): PLAIN is smaller and faster */
    return 0;
}

/* Builds the dictionary of every string column of the row group in one pass over the
 * rows: the values of one row usually lie close together (one event's text), so each
 * row's bytes come into the cache once for all its columns, instead of once per column
 * (a pass per column was memory-bound: the batch is far larger than the caches). */
static int build_dicts(pq_writer *w, size_t nrows, const pq_values *vals)
{
    if (w->ndicts < w->ncols) {
        pq_dict *d = realloc(w->dicts, w->ncols * sizeof *d);
        if (!d)
            return -ENOMEM;
        memset(d + w->ndicts, 0, (w->ncols - w->ndicts) * sizeof *d);
        w->dicts = d;
        w->ndicts = w->ncols;
    }
    size_t sc[32767], nsc = 0;   /* the string columns still building */
    for (size_t c = 0; c < w->ncols; c++) {
        pq_dict *d = &w->dicts[c];
        d->active = false;
        if (w->cols[c].type != PQ_STRING)
            continue;
        d->nents = d->nidx = d->bytes = 0;
        if (dict_reset(d, 1024) < 0 || grow((void **)&d->idx, &d->idx_cap, nrows, sizeof *d->idx) < 0)
            return -ENOMEM;
        d->active = true;
        sc[nsc++] = c;
    }
    for (size_t r = 0; r < nrows && nsc > 0; r++) {
        if (r + PREFETCH_AHEAD < nrows)
            for (size_t k = 0; k < nsc; k++)
                __builtin_prefetch(vals[sc[k]].v.str[r + PREFETCH_AHEAD].p);
        for (size_t k = 0; k < nsc;) {
            const pq_values *v = &vals[sc[k]];
            pq_dict *d = &w->dicts[sc[k]];
            int rc = v->null && v->null[r] ? 0 : dict_add(d, w->seed, &v->v.str[r],
                                                          w->o.dict_max_bytes);
            if (rc < 0)
                return rc;
            if (rc > 0) {   /* this column goes PLAIN: stop building it */
                d->active = false;
                sc[k] = sc[--nsc];
                continue;
            }
            k++;
        }
    }
    for (size_t k = 0; k < nsc; k++) {
        pq_dict *d = &w->dicts[sc[k]];
        /* a short chunk of mostly distinct values, or no value at all: PLAIN too */
        if (d->nents == 0 || (d->nidx >= 16 && d->nents * 4 > d->nidx * 3))
            d->active = false;
    }
    return 0;
}

static int write_string_dict(pq_writer *w, chunk_meta *cm, const pq_dict *d, size_t nrows,
                             const pq_values *v, sl_err *err)
{
    cm->dict = true;
    /* dictionary page: the entries, PLAIN */
    sl_buf_reset(&w->body);
    for (size_t e = 0; e < d->nents; e++) {
        uint8_t len[4];
        put_le32(len, d->ents[e].s.len);
        if (sl_buf_add(&w->body, len, 4) < 0 ||
            sl_buf_add(&w->body, d->ents[e].s.p, d->ents[e].s.len) < 0)
            return sl_err_errno(err, ENOMEM, "parquet writer");
    }
    int rc = write_page(w, cm, PAGE_DICTIONARY, d->nents, ENC_PLAIN_DICTIONARY, err);
    if (rc < 0)
        return rc;
    /* statistics from the entries */
    cm->has_minmax = string_minmax(cm, &d->ents[0].s, sizeof *d->ents, d->nents);
    /* data pages: levels, then bit width and the indices */
    int bw = pq_bit_width(d->nents > 1 ? (uint32_t)(d->nents - 1) : 1);
    size_t k = 0;
    for (size_t r0 = 0; r0 < nrows;) {
        size_t r1 = r0 + w->o.page_rows < nrows ? r0 + w->o.page_rows : nrows;
        size_t cnt = count_nonnull(v->null, r0, r1);
        uint8_t width = (uint8_t)bw;
        if (body_defs(w, v->null, r0, r1) < 0 || sl_buf_add(&w->body, &width, 1) < 0 ||
            pq_rle_encode(&w->body, d->idx + k, cnt, bw) < 0)
            return sl_err_errno(err, ENOMEM, "parquet writer");
        if ((rc = write_page(w, cm, PAGE_DATA, r1 - r0, ENC_PLAIN_DICTIONARY, err)) < 0)
            return rc;
        k += cnt;
        r0 = r1;
    }
    return 0;
}

static int write_string_plain(pq_writer *w, chunk_meta *cm, size_t nrows, const pq_values *v,
                              sl_err *err)
{
    const pq_str *s = v->v.str;
    /* min/max while copying (each value is read once): mn/mx index the extremes; long
     * values end the statistics */
    size_t mn = SIZE_MAX, mx = SIZE_MAX;
    bool stats = true;
    for (size_t r0 = 0; r0 < nrows;) {
        size_t r1 = r0, bytes = 0;
        while (r1 < nrows && r1 - r0 < w->o.page_rows && bytes < w->o.page_size) {
            if (!v->null || !v->null[r1])
                bytes += 4 + (size_t)s[r1].len;
            r1++;
        }
        if (body_defs(w, v->null, r0, r1) < 0 || sl_buf_reserve(&w->body, bytes) < 0)
            return sl_err_errno(err, ENOMEM, "parquet writer");
        char *o = w->body.p + w->body.len;
        for (size_t r = r0; r < r1; r++) {
            if (r + PREFETCH_AHEAD / 2 < r1)
                __builtin_prefetch(s[r + PREFETCH_AHEAD / 2].p);
            if (v->null && v->null[r])
                continue;
            put_le32((uint8_t *)o, s[r].len);
            memcpy(o + 4, s[r].p, s[r].len);
            o += 4 + s[r].len;
            if (stats) {
                if (s[r].len > PQ_STAT_MAX)
                    stats = false;
                else {
                    if (mn == SIZE_MAX || cmp_bytes(s[r].p, s[r].len, s[mn].p, s[mn].len) < 0)
                        mn = r;
                    if (mx == SIZE_MAX || cmp_bytes(s[r].p, s[r].len, s[mx].p, s[mx].len) > 0)
                        mx = r;
                }
            }
        }
        w->body.len = (size_t)(o - w->body.p);
        w->body.p[w->body.len] = '\0';
        int rc = write_page(w, cm, PAGE_DATA, r1 - r0, ENC_PLAIN, err);
        if (rc < 0)
            return rc;
        r0 = r1;
    }
    if (stats && mn != SIZE_MAX) {
        set_stat(cm->min, &cm->minlen, s[mn].p, s[mn].len);
        set_stat(cm->max, &cm->maxlen, s[mx].p, s[mx].len);
        cm->has_minmax = true;
    }
    return 0;
}

/* ---- fixed width ---- */

static int write_fixed(pq_writer *w, chunk_meta *cm, pq_type type, size_t nrows,
                       const pq_values *v, sl_err *err)
{
    bool any = false;
    int64_t imin = 0, imax = 0;
    double dmin = 0, dmax = 0;
    bool dany = false;
    uint8_t bmin = 1, bmax = 0;
    size_t width = type == PQ_BOOLEAN ? 1 : 8;
    size_t rows_per_page = w->o.page_size / width;
    if (rows_per_page > w->o.page_rows)
        rows_per_page = w->o.page_rows;
    if (rows_per_page == 0)
        rows_per_page = 1;
    if (grow((void **)&w->gather, &w->gather_cap, rows_per_page, sizeof *w->gather) < 0)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    for (size_t r0 = 0; r0 < nrows;) {
        size_t r1 = r0 + rows_per_page < nrows ? r0 + rows_per_page : nrows;
        if (body_defs(w, v->null, r0, r1) < 0)
            return sl_err_errno(err, ENOMEM, "parquet writer");
        size_t cnt = 0;
        int rc;
        if (type == PQ_BOOLEAN) {
            uint8_t *g = (uint8_t *)w->gather;
            for (size_t r = r0; r < r1; r++)
                if (!v->null || !v->null[r]) {
                    uint8_t b = v->v.b[r] != 0;
                    g[cnt++] = b;
                    bmin = b < bmin ? b : bmin;
                    bmax = b > bmax ? b : bmax;
                    any = true;
                }
            rc = pq_plain_bools(&w->body, g, cnt);
        } else {
            /* bytes of the values, so that doubles are copied, not converted */
            const char *src = type == PQ_DOUBLE ? (const char *)v->v.f64 : (const char *)v->v.i64;
            for (size_t r = r0; r < r1; r++)
                if (!v->null || !v->null[r])
                    memcpy(&w->gather[cnt++], src + r * 8, 8);
            if (type == PQ_DOUBLE) {
                for (size_t i = 0; i < cnt; i++) {
                    double d;
                    memcpy(&d, &w->gather[i], 8);
                    if (isnan(d))
                        continue;
                    if (!dany || d < dmin)
                        dmin = d;
                    if (!dany || d > dmax)
                        dmax = d;
                    dany = true;
                }
            } else {
                for (size_t i = 0; i < cnt; i++) {
                    int64_t x = w->gather[i];
                    if (!any || x < imin)
                        imin = x;
                    if (!any || x > imax)
                        imax = x;
                    any = true;
                }
            }
            rc = sl_buf_add(&w->body, w->gather, cnt * 8);   /* little endian, like PLAIN */
        }
        if (rc < 0)
            return sl_err_errno(err, ENOMEM, "parquet writer");
        if ((rc = write_page(w, cm, PAGE_DATA, r1 - r0, ENC_PLAIN, err)) < 0)
            return rc;
        r0 = r1;
    }
    if (type == PQ_BOOLEAN && any) {
        set_stat(cm->min, &cm->minlen, &bmin, 1);
        set_stat(cm->max, &cm->maxlen, &bmax, 1);
        cm->has_minmax = true;
    } else if (type == PQ_DOUBLE && dany) {
        /* the format's rule for zeros: a min of zero is -0.0, a max of zero +0.0 */
        if (dmin == 0)
            dmin = -0.0;
        if (dmax == 0)
            dmax = 0.0;
        set_stat(cm->min, &cm->minlen, &dmin, 8);
        set_stat(cm->max, &cm->maxlen, &dmax, 8);
        cm->has_minmax = true;
    } else if ((type == PQ_INT64 || type == PQ_TIMESTAMP) && any) {
        set_stat(cm->min, &cm->minlen, &imin, 8);
        set_stat(cm->max, &cm->maxlen, &imax, 8);
        cm->has_minmax = true;
    }
    return 0;
}

/* ---- file ---- */

int pq_begin(pq_writer *w, int fd, const pq_column *cols, size_t ncols, sl_err *err)
{
    forget_file(w);
    if (ncols == 0 || ncols > 32767)
        return sl_err_set(err, -EINVAL, false, "parquet: %zu columns", ncols);
    if (!(w->cols = calloc(ncols, sizeof *w->cols)))
        return sl_err_errno(err, ENOMEM, "parquet writer");
    for (size_t c = 0; c < ncols; c++) {
        w->cols[c].type = cols[c].type;
        if (!(w->cols[c].name = strdup(cols[c].name))) {
            w->ncols = c;
            forget_file(w);
            return sl_err_errno(err, ENOMEM, "parquet writer");
        }
    }
    w->ncols = ncols;
    w->fd = fd;
    w->open = true;
    return emit(w, "PAR1", 4, err);
}

int pq_row_group(pq_writer *w, size_t nrows, const pq_values *vals, sl_err *err)
{
    if (!w->open || nrows == 0 || nrows > INT32_MAX)
        return sl_err_set(err, -EINVAL, false, "parquet: bad row group (%zu rows)", nrows);
    if (grow((void **)&w->rgs, &w->caprg, w->nrg + 1, sizeof *w->rgs) < 0)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    rg_meta *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof *rg);
    if (!(rg->chunks = calloc(w->ncols, sizeof *rg->chunks)))
        return sl_err_errno(err, ENOMEM, "parquet writer");
    w->nrg++;
    rg->num_rows = (int64_t)nrows;
    rg->file_offset = w->off;
    if (build_dicts(w, nrows, vals) < 0)
        return sl_err_errno(err, ENOMEM, "parquet writer");
    for (size_t c = 0; c < w->ncols; c++) {
        chunk_meta *cm = &rg->chunks[c];
        const pq_values *v = &vals[c];
        cm->num_values = (int64_t)nrows;
        cm->codec = w->o.codec;
        cm->data_page_offset = cm->dict_page_offset = -1;
        cm->null_count = (int64_t)(nrows - count_nonnull(v->null, 0, nrows));
        int rc;
        if (w->cols[c].type == PQ_STRING) {
            rc = w->dicts[c].active ? write_string_dict(w, cm, &w->dicts[c], nrows, v, err)
                                    : write_string_plain(w, cm, nrows, v, err);
        } else {
            rc = write_fixed(w, cm, w->cols[c].type, nrows, v, err);
        }
        if (rc < 0)
            return rc;
        rg->total_byte_size += cm->total_uncompressed;
        rg->total_compressed += cm->total_compressed;
    }
    w->num_rows += (int64_t)nrows;
    return 0;
}

static void schema_element(thrift_writer *t, const pq_column *col)
{
    thrift_elem_struct_begin(t);
    switch (col->type) {
    case PQ_STRING:    thrift_i32(t, 1, T_BYTE_ARRAY); break;
    case PQ_DOUBLE:    thrift_i32(t, 1, T_DOUBLE); break;
    case PQ_BOOLEAN:   thrift_i32(t, 1, T_BOOLEAN); break;
    case PQ_INT64:
    case PQ_TIMESTAMP: thrift_i32(t, 1, T_INT64); break;
    }
    thrift_i32(t, 3, REP_OPTIONAL);
    thrift_string(t, 4, col->name);
    if (col->type == PQ_STRING) {
        thrift_i32(t, 6, CT_UTF8);
        thrift_struct_begin(t, 10);        /* LogicalType */
        thrift_struct_begin(t, 1);         /*   STRING: StringType {} */
        thrift_end(t);
        thrift_end(t);
    } else if (col->type == PQ_TIMESTAMP) {
        thrift_i32(t, 6, CT_TIMESTAMP_MICROS);
        thrift_struct_begin(t, 10);        /* LogicalType */
        thrift_struct_begin(t, 8);         /*   TIMESTAMP: TimestampType */
        thrift_bool(t, 1, false);          /*     isAdjustedToUTC (as DuckDB's TIMESTAMP) */
        thrift_struct_begin(t, 2);         /*     unit: TimeUnit */
        thrift_struct_begin(t, 2);         /*       MICROS: MicroSeconds {} */
        thrift_end(t);
        thrift_end(t);
        thrift_end(t);
        thrift_end(t);
    }
    thrift_end(t);
}

static void column_chunk(thrift_writer *t, const pq_column *col, const chunk_meta *cm)
{
    static const int phys[] = {[PQ_STRING] = T_BYTE_ARRAY, [PQ_INT64] = T_INT64,
                               [PQ_DOUBLE] = T_DOUBLE, [PQ_BOOLEAN] = T_BOOLEAN,
                               [PQ_TIMESTAMP] = T_INT64};
    thrift_elem_struct_begin(t);
    thrift_i64(t, 2, cm->dict_page_offset >= 0 ? cm->dict_page_offset : cm->data_page_offset);
    thrift_struct_begin(t, 3);                        /* ColumnMetaData */
    thrift_i32(t, 1, phys[col->type]);
    thrift_list_begin(t, 2, THRIFT_I32, 2);
    thrift_elem_i32(t, cm->dict ? ENC_PLAIN_DICTIONARY : ENC_PLAIN);
    thrift_elem_i32(t, ENC_RLE);
    thrift_list_begin(t, 3, THRIFT_BINARY, 1);
    thrift_elem_binary(t, col->name, strlen(col->name));
    thrift_i32(t, 4, (int32_t)cm->codec);
    thrift_i64(t, 5, cm->num_values);
    thrift_i64(t, 6, cm->total_uncompressed);
    thrift_i64(t, 7, cm->total_compressed);
    thrift_i64(t, 9, cm->data_page_offset);
    if (cm->dict_page_offset >= 0)
        thrift_i64(t, 11, cm->dict_page_offset);
    thrift_struct_begin(t, 12);                       /* Statistics */
    if (cm->has_minmax && col->type != PQ_STRING) {
        /* the legacy fields: signed order, which is right for numbers and booleans */
        thrift_binary(t, 1, cm->max, cm->maxlen);
        thrift_binary(t, 2, cm->min, cm->minlen);
    }
    thrift_i64(t, 3, cm->null_count);
    if (cm->has_minmax) {
        thrift_binary(t, 5, cm->max, cm->maxlen);
        thrift_binary(t, 6, cm->min, cm->minlen);
    }
    thrift_end(t);
    thrift_end(t);                                    /* ColumnMetaData */
    thrift_end(t);                                    /* ColumnChunk */
}

int pq_end(pq_writer *w, uint64_t *bytes, sl_err *err)
{
    if (!w->open)
        return sl_err_set(err, -EINVAL, false, "parquet: no file is open");
    sl_buf meta;
    sl_buf_init(&meta, 0);
    thrift_writer t;
    thrift_init(&t, &meta);
    thrift_i32(&t, 1, 1);                              /* version */
    thrift_list_begin(&t, 2, THRIFT_STRUCT, w->ncols + 1);
    thrift_elem_struct_begin(&t);                      /* the root */
    thrift_string(&t, 4, "schema");
    thrift_i32(&t, 5, (int32_t)w->ncols);
    thrift_end(&t);
    for (size_t c = 0; c < w->ncols; c++)
        schema_element(&t, &w->cols[c]);
    thrift_i64(&t, 3, w->num_rows);
    thrift_list_begin(&t, 4, THRIFT_STRUCT, w->nrg);
    for (size_t g = 0; g < w->nrg; g++) {
        const rg_meta *rg = &w->rgs[g];
        thrift_elem_struct_begin(&t);
        thrift_list_begin(&t, 1, THRIFT_STRUCT, w->ncols);
        for (size_t c = 0; c < w->ncols; c++)
            column_chunk(&t, &w->cols[c], &rg->chunks[c]);
        thrift_i64(&t, 2, rg->total_byte_size);
        thrift_i64(&t, 3, rg->num_rows);
        thrift_i64(&t, 5, rg->file_offset);
        thrift_i64(&t, 6, rg->total_compressed);
        thrift_end(&t);
    }
    thrift_string(&t, 6, w->created_by);
    thrift_list_begin(&t, 7, THRIFT_STRUCT, w->ncols);  /* column_orders */
    for (size_t c = 0; c < w->ncols; c++) {
        thrift_elem_struct_begin(&t);                  /* ColumnOrder */
        thrift_struct_begin(&t, 1);                    /*   TYPE_ORDER: TypeDefinedOrder {} */
        thrift_end(&t);
        thrift_end(&t);
    }
    thrift_end(&t);
    int rc = thrift_error(&t);
    if (rc < 0 || meta.len > UINT32_MAX) {
        sl_buf_free(&meta);
        return sl_err_errno(err, ENOMEM, "parquet writer");
    }
    uint8_t tail[8];
    put_le32(tail, (uint32_t)meta.len);
    memcpy(tail + 4, "PAR1", 4);
    rc = emit(w, meta.p, meta.len, err);
    sl_buf_free(&meta);
    if (rc == 0)
        rc = emit(w, tail, 8, err);
    if (rc == 0)
        rc = flush_out(w, err);
    if (rc == 0 && bytes)
        *bytes = (uint64_t)w->off;
    forget_file(w);
    return rc;
}
