/* test_parquet.c — the Parquet writer, checked by reading its files back with DuckDB (an
 * independent reader): every value of every type, NULLs, dictionary and PLAIN strings,
 * several pages and row groups, every codec; the footer's statistics and encodings; and
 * the RLE / bit-packing hybrid against a decoder written here from the format's text. */
#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "parquet/encoding.h"
#include "parquet/parquet.h"
#include "test.h"

/* ---- the hybrid, decoded independently ---- */

static size_t uleb(const uint8_t *p, size_t n, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    while (*i < n) {
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
        shift += 7;
    }
    return 0;
}

/* Decodes up to want values; returns how many were decoded (-1 on malformed input). */
static long hybrid_decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t want)
{
    size_t i = 0, got = 0;
    while (got < want && i < n) {
        uint64_t h;
        if (!uleb(p, n, &i, &h))
            return -1;
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8;
            size_t nbytes = (size_t)(h >> 1) * (size_t)bw;
            if (i + nbytes > n)
                return -1;
            for (size_t k = 0; k < count && got < want; k++) {
                uint64_t v = 0;
                for (int b = 0; b < bw; b++) {
                    size_t bit = k * (size_t)bw + (size_t)b;
                    if (p[i + bit / 8] >> (bit % 8) & 1)
                        v |= 1ull << b;
                }
                out[got++] = (uint32_t)v;
            }
            i += nbytes;
        } else {
            size_t count = (size_t)(h >> 1);
            size_t vb = (size_t)(bw + 7) / 8;
            if (i + vb > n || count == 0)
                return -1;
            uint32_t v = 0;
            for (size_t b = 0; b < vb; b++)
                v |= (uint32_t)p[i + b] << (8 * b);
            i += vb;
            for (size_t k = 0; k < count && got < want; k++)
                out[got++] = v;
        }
    }
    return (long)got;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_hybrid_roundtrip(void)
{
    uint32_t v[5000], back[5000];
    for (int round = 0; round < 400; round++) {
        int bw = 1 + (int)(rnd() % 32);
        size_t n = 1 + rnd() % 5000;
        uint64_t maxv = bw == 32 ? UINT32_MAX : (1ull << bw) - 1;
        for (size_t i = 0; i < n;) {
            /* runs of every length, around the 8-value boundary especially */
            size_t run = 1 + rnd() % (rnd() % 3 == 0 ? 40 : 10);
            uint32_t x = (uint32_t)(rnd() % (maxv + 1));
            for (size_t k = 0; k < run && i < n; k++)
                v[i++] = x;
        }
        sl_buf b;
        sl_buf_init(&b, 0);
        CHECK(pq_rle_encode(&b, v, n, bw) == 0);
        long got = hybrid_decode((const uint8_t *)b.p, b.len, bw, back, n);
        CHECK(got == (long)n);
        CHECK(got == (long)n && memcmp(v, back, n * sizeof *v) == 0);
        sl_buf_free(&b);
    }
    /* the definition-level variant agrees with the general encoder's meaning */
    static uint8_t null[10000];   /* past the encoder's 4096-level chunks */
    static uint32_t dback[10000];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + rnd() % 10000;
        for (size_t i = 0; i < n;) {
            size_t run = 1 + rnd() % 20;
            uint8_t x = rnd() % 2;
            for (size_t k = 0; k < run && i < n; k++)
                null[i++] = x;
        }
        sl_buf b;
        sl_buf_init(&b, 0);
        CHECK(pq_rle_encode_defs(&b, null, n) == 0);
        long got = hybrid_decode((const uint8_t *)b.p, b.len, 1, dback, n);
        CHECK(got == (long)n);
        for (size_t i = 0; got == (long)n && i < n; i++)
            if (dback[i] != (null[i] ? 0u : 1u)) {
                CHECK(!"definition level differs");
                break;
            }
        sl_buf_free(&b);
    }
    CHECK(pq_bit_width(0) == 1 && pq_bit_width(1) == 1 && pq_bit_width(2) == 2 &&
          pq_bit_width(255) == 8 && pq_bit_width(256) == 9 && pq_bit_width(UINT32_MAX) == 32);
}

/* ---- files ---- */

enum { C_RN, C_LOW, C_UNIQ, C_I64, C_F64, C_BOOL, C_TS, C_ALLNULL, NCOLS };
static const pq_column cols[NCOLS] = {
    {"rn", PQ_INT64},      {"low", PQ_STRING}, {"uniq", PQ_STRING},  {"i", PQ_INT64},
    {"d", PQ_DOUBLE},      {"b", PQ_BOOLEAN},  {"ts", PQ_TIMESTAMP}, {"nothing", PQ_STRING},
};

typedef struct table {
    size_t   n;
    uint8_t *null[NCOLS];
    pq_str  *s[NCOLS];
    int64_t *i[NCOLS];
    double  *d;
    uint8_t *b;
    char    *text;   /* string storage */
} table;

static const char *const low_values[] = {"purchase_sword", "join_guild", "", "déclaration ☮",
                                         "a", "knight1.comcast.com"};

static void make_table(table *t, size_t n, int null_pct)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->text = malloc(n * 160 + 1);
    size_t used = 0;
    for (int c = 0; c < NCOLS; c++) {
        t->null[c] = calloc(n, 1);
        t->s[c] = calloc(n, sizeof(pq_str));
        t->i[c] = calloc(n, sizeof(int64_t));
    }
    t->d = calloc(n, sizeof(double));
    t->b = calloc(n, 1);
    for (size_t r = 0; r < n; r++) {
        t->i[C_RN][r] = (int64_t)r;
        for (int c = C_LOW; c < NCOLS; c++)
            t->null[c][r] = c == C_ALLNULL || (int)(rnd() % 100) < null_pct;
        const char *lv = low_values[rnd() % 6];
        t->s[C_LOW][r] = (pq_str){lv, (uint32_t)strlen(lv)};
        /* unique, of every length from 0 to ~150 (some over PQ_STAT_MAX) */
        size_t len = (size_t)(rnd() % 150);
        char *p = t->text + used;
        int k = snprintf(p, 32, "%zu:", r);
        for (size_t j = (size_t)k; j < len; j++)
            p[j] = (char)('a' + rnd() % 26);
        if (len < (size_t)k)
            len = (size_t)k;
        t->s[C_UNIQ][r] = (pq_str){p, (uint32_t)len};
        used += len;
        static const int64_t edge[] = {INT64_MIN, INT64_MAX, 0, -1, 1};
        t->i[C_I64][r] = rnd() % 10 == 0 ? edge[rnd() % 5] : (int64_t)(rnd() % 2000001) - 1000000;
        static const double dedge[] = {-0.0, 0.0, 1e308, -1e308, 5e-324, INFINITY, -INFINITY};
        t->d[r] = rnd() % 10 == 0 ? dedge[rnd() % 7] : ((double)(rnd() % 1000000) - 5e5) / 7.0;
        t->b[r] = rnd() % 2;
        t->i[C_TS][r] = 1795255200000000LL + (int64_t)(rnd() % 86400000000ULL);
    }
}

static void free_table(table *t)
{
    for (int c = 0; c < NCOLS; c++) {
        free(t->null[c]);
        free(t->s[c]);
        free(t->i[c]);
    }
    free(t->d);
    free(t->b);
    free(t->text);
}

static void values_of(const table *t, size_t r0, pq_values *v)
{
    for (int c = 0; c < NCOLS; c++) {
        v[c].null = c == C_RN ? NULL : t->null[c] + r0;
        switch (cols[c].type) {
        case PQ_STRING:  v[c].v.str = t->s[c] + r0; break;
        case PQ_DOUBLE:  v[c].v.f64 = t->d + r0; break;
        case PQ_BOOLEAN: v[c].v.b = t->b + r0; break;
        default:         v[c].v.i64 = t->i[c] + r0; break;
        }
    }
}

/* Writes t to path in row groups of rg rows. */
static int write_file(const char *path, const table *t, size_t rg, const pq_options *o)
{
    pq_writer *w = NULL;
    sl_err err = {0};
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 || pq_writer_new(&w, o, &err) < 0 || pq_begin(w, fd, cols, NCOLS, &err) < 0)
        goto fail;
    for (size_t r0 = 0; r0 < t->n; r0 += rg) {
        pq_values v[NCOLS];
        values_of(t, r0, v);
        if (pq_row_group(w, t->n - r0 < rg ? t->n - r0 : rg, v, &err) < 0)
            goto fail;
    }
    uint64_t bytes = 0;
    if (pq_end(w, &bytes, &err) < 0)
        goto fail;
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == bytes);
    close(fd);
    pq_writer_free(w);
    return 0;
fail:
    fprintf(stderr, "  write %s: %s\n", path, err.msg);
    if (fd >= 0)
        close(fd);
    pq_writer_free(w);
    return -1;
}

static duckdb_database db;
static duckdb_connection con;

static int query(duckdb_result *res, const char *sql)
{
    if (duckdb_query(con, sql, res) == DuckDBError) {
        fprintf(stderr, "  %s\n  -> %s\n", sql, duckdb_result_error(res));
        duckdb_destroy_result(res);
        return -1;
    }
    return 0;
}

/* Every value read back by DuckDB equals what was written. */
static void check_values(const char *path, const table *t)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT * FROM read_parquet('%s') ORDER BY rn", path);
    duckdb_result res;
    if (query(&res, sql) < 0) {
        CHECK(!"query");
        return;
    }
    CHECK_EQ_U64(duckdb_row_count(&res), t->n);
    CHECK_EQ_U64(duckdb_column_count(&res), NCOLS);
    CHECK(duckdb_column_type(&res, C_LOW) == DUCKDB_TYPE_VARCHAR);
    CHECK(duckdb_column_type(&res, C_I64) == DUCKDB_TYPE_BIGINT);
    CHECK(duckdb_column_type(&res, C_F64) == DUCKDB_TYPE_DOUBLE);
    CHECK(duckdb_column_type(&res, C_BOOL) == DUCKDB_TYPE_BOOLEAN);
    CHECK(duckdb_column_type(&res, C_TS) == DUCKDB_TYPE_TIMESTAMP);
    size_t bad = 0;
    for (size_t r = 0; r < t->n && r < duckdb_row_count(&res) && bad < 5; r++) {
        for (int c = 0; c < NCOLS; c++) {
            bool isnull = duckdb_value_is_null(&res, (idx_t)c, r);
            bool want_null = c != C_RN && t->null[c][r];
            bool same = isnull == want_null;
            if (same && !isnull) {
                switch (cols[c].type) {
                case PQ_STRING: {
                    duckdb_string s = duckdb_value_string(&res, (idx_t)c, r);
                    same = s.size == t->s[c][r].len && !memcmp(s.data, t->s[c][r].p, s.size);
                    duckdb_free(s.data);
                    break;
                }
                case PQ_DOUBLE: {
                    double d = duckdb_value_double(&res, (idx_t)c, r);
                    same = memcmp(&d, &t->d[r], 8) == 0;
                    break;
                }
                case PQ_BOOLEAN:
                    same = duckdb_value_boolean(&res, (idx_t)c, r) == (t->b[r] != 0);
                    break;
                case PQ_TIMESTAMP:
                    same = duckdb_value_timestamp(&res, (idx_t)c, r).micros == t->i[c][r];
                    break;
                default:
                    same = duckdb_value_int64(&res, (idx_t)c, r) == t->i[c][r];
                }
            }
            if (!same) {
                fprintf(stderr, "  %s: row %zu column %s differs\n", path, r, cols[c].name);
                bad++;
            }
        }
    }
    CHECK(bad == 0);
    duckdb_destroy_result(&res);
}

static char *value_text(duckdb_result *res, idx_t c, idx_t r)
{
    return duckdb_value_is_null(res, c, r) ? strdup("NULL") : duckdb_value_varchar(res, c, r);
}

/* The footer: encodings, codec, statistics and null counts per column chunk. */
static void check_metadata(const char *path, const table *t, size_t rg, const char *codec)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT row_group_id, path_in_schema, encodings, compression, num_values, "
             "stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('%s') "
             "ORDER BY row_group_id, column_id", path);
    duckdb_result res;
    if (query(&res, sql) < 0) {
        CHECK(!"metadata query");
        return;
    }
    size_t groups = (t->n + rg - 1) / rg;
    CHECK_EQ_U64(duckdb_row_count(&res), groups * NCOLS);
    for (idx_t k = 0; k < duckdb_row_count(&res); k++) {
        size_t g = (size_t)duckdb_value_int64(&res, 0, k);
        int c = (int)(k % NCOLS);
        size_t r0 = g * rg, r1 = r0 + rg < t->n ? r0 + rg : t->n;
        char *name = value_text(&res, 1, k), *enc = value_text(&res, 2, k);
        char *comp = value_text(&res, 3, k), *mn = value_text(&res, 5, k);
        char *mx = value_text(&res, 6, k);
        CHECK_STR(name, cols[c].name);
        /* random text and doubles may not compress: such a chunk is stored uncompressed;
         * the rest compress (repeats, small integers, runs of NULLs) */
        if (c == C_UNIQ || c == C_F64 || c == C_TS)
            CHECK(strcasecmp(comp, codec) == 0 || strcasecmp(comp, "uncompressed") == 0);
        else
            CHECK(strcasecmp(comp, codec) == 0);
        CHECK_EQ_U64(duckdb_value_int64(&res, 4, k), r1 - r0);
        size_t nulls = 0;
        for (size_t r = r0; r < r1; r++)
            nulls += c != C_RN && t->null[c][r];
        CHECK_EQ_U64(duckdb_value_int64(&res, 7, k), nulls);
        if (c == C_LOW && nulls < r1 - r0)
            CHECK(strstr(enc, "DICTIONARY") != NULL);   /* few distinct values */
        if (c == C_UNIQ && r1 - r0 - nulls >= 1024)
            CHECK(strstr(enc, "DICTIONARY") == NULL);   /* all distinct: PLAIN */
        if (c == C_UNIQ && r1 - r0 - nulls >= 100)
            CHECK_STR(mn, "NULL");                      /* some are over PQ_STAT_MAX */
        if (c == C_ALLNULL)
            CHECK(!strcmp(mn, "NULL") && !strcmp(mx, "NULL"));
        if (c == C_I64 && nulls < r1 - r0) {
            int64_t lo = INT64_MAX, hi = INT64_MIN;
            for (size_t r = r0; r < r1; r++)
                if (!t->null[c][r]) {
                    lo = t->i[c][r] < lo ? t->i[c][r] : lo;
                    hi = t->i[c][r] > hi ? t->i[c][r] : hi;
                }
            char want[32];
            snprintf(want, sizeof want, "%lld", (long long)lo);
            CHECK_STR(mn, want);
            snprintf(want, sizeof want, "%lld", (long long)hi);
            CHECK_STR(mx, want);
        }
        if (c == C_LOW && nulls < r1 - r0) {
            const char *lo = NULL, *hi = NULL;
            for (size_t r = r0; r < r1; r++)
                if (!t->null[c][r]) {
                    const char *s = t->s[c][r].p;
                    lo = !lo || strcmp(s, lo) < 0 ? s : lo;
                    hi = !hi || strcmp(s, hi) > 0 ? s : hi;
                }
            CHECK_STR(mn, lo);
            CHECK_STR(mx, hi);
        }
        duckdb_free(name);
        duckdb_free(enc);
        duckdb_free(comp);
        duckdb_free(mn);
        duckdb_free(mx);
    }
    duckdb_destroy_result(&res);
}

static void roundtrip_sync(size_t n, size_t rg, int null_pct, pq_codec codec, size_t page_size,
                           size_t page_rows, size_t sync_bytes)
{
    table t;
    make_table(&t, n, null_pct);
    pq_options o;
    pq_options_init(&o);
    o.codec = codec;
    if (page_size)
        o.page_size = page_size;
    if (page_rows)
        o.page_rows = page_rows;
    o.sync_bytes = sync_bytes;
    char path[400];
    snprintf(path, sizeof path, "%s/t.parquet", test_tmpdir());
    if (write_file(path, &t, rg, &o) == 0) {
        check_values(path, &t);
        check_metadata(path, &t, rg, pq_codec_name(codec));
    } else {
        CHECK(!"write");
    }
    free_table(&t);
}

static void roundtrip(size_t n, size_t rg, int null_pct, pq_codec codec, size_t page_size,
                      size_t page_rows)
{
    roundtrip_sync(n, rg, null_pct, codec, page_size, page_rows, 0);
}

static void test_roundtrip_codecs(void)
{
    roundtrip(5000, 5000, 10, PQ_SNAPPY, 0, 0);
    roundtrip(5000, 5000, 10, PQ_ZSTD, 0, 0);
    roundtrip(5000, 5000, 10, PQ_GZIP, 0, 0);
    roundtrip(5000, 5000, 10, PQ_UNCOMPRESSED, 0, 0);
}

static void test_roundtrip_pages_and_groups(void)
{
    /* many small pages, several row groups, a last group of 1 row */
    roundtrip(10001, 2500, 30, PQ_SNAPPY, 4096, 333);
    /* the same with the writeback started every 8 KiB along the way (sync_bytes) */
    roundtrip_sync(10001, 2500, 30, PQ_SNAPPY, 4096, 333, 8192);
    /* pages of one row */
    roundtrip(300, 100, 50, PQ_SNAPPY, 1, 1);
    /* no NULLs at all but the all-NULL column; one row */
    roundtrip(1, 1, 0, PQ_SNAPPY, 0, 0);
    roundtrip(2000, 700, 0, PQ_ZSTD, 0, 0);
    /* nearly all NULL */
    roundtrip(3000, 3000, 99, PQ_SNAPPY, 0, 0);
}

/* A column whose distinct values pass the dictionary limit is written PLAIN, and a
 * dictionary of exactly one value uses bit width 1. */
static void test_dictionary_limits(void)
{
    enum { N = 20000 };
    static pq_str s[N];
    static char text[N * 12];
    for (size_t r = 0; r < N; r++) {
        /* 1500 distinct values (about 13 KiB of dictionary), repeating early enough for
         * the 1024-value rule */
        int k = snprintf(text + r * 12, 12, "v%zu", r < 1024 ? r % 500 : r % 1500);
        s[r] = (pq_str){text + r * 12, (uint32_t)k};
    }
    static const pq_str one = {"same", 4};
    static pq_str ones[N];
    for (size_t r = 0; r < N; r++)
        ones[r] = one;
    const pq_column c2[2] = {{"v", PQ_STRING}, {"one", PQ_STRING}};
    for (int limit = 0; limit < 2; limit++) {
        pq_options o;
        pq_options_init(&o);
        if (limit)
            o.dict_max_bytes = 8192;
        char path[400];
        snprintf(path, sizeof path, "%s/d.parquet", test_tmpdir());
        pq_writer *w = NULL;
        sl_err err = {0};
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        pq_values v[2] = {{.v.str = s}, {.v.str = ones}};
        CHECK(fd >= 0 && pq_writer_new(&w, &o, &err) == 0 && pq_begin(w, fd, c2, 2, &err) == 0 &&
              pq_row_group(w, N, v, &err) == 0 && pq_end(w, NULL, &err) == 0);
        close(fd);
        pq_writer_free(w);
        char sql[1200];
        snprintf(sql, sizeof sql,
                 "SELECT (SELECT string_agg(encodings, ',' ORDER BY column_id) FROM "
                 "parquet_metadata('%s')), count(DISTINCT v), count(*), min(v), max(v), "
                 "count(*) FILTER (WHERE one = 'same') FROM read_parquet('%s')", path, path);
        duckdb_result res;
        if (query(&res, sql) == 0) {
            char *enc = duckdb_value_varchar(&res, 0, 0), *mn = duckdb_value_varchar(&res, 3, 0);
            char *mx = duckdb_value_varchar(&res, 4, 0);
            CHECK_STR(enc, limit ? "PLAIN, RLE,PLAIN_DICTIONARY, RLE"
                             : "PLAIN_DICTIONARY, RLE,PLAIN_DICTIONARY, RLE");
            CHECK_EQ_U64(duckdb_value_int64(&res, 1, 0), 1500);
            CHECK_EQ_U64(duckdb_value_int64(&res, 2, 0), N);
            CHECK_STR(mn, "v0");
            CHECK_STR(mx, "v999");
            CHECK_EQ_U64(duckdb_value_int64(&res, 5, 0), N);
            duckdb_free(enc);
            duckdb_free(mn);
            duckdb_free(mx);
            duckdb_destroy_result(&res);
        } else {
            CHECK(!"query");
        }
    }
}

/* A column chunk that does not compress is stored uncompressed; one that does keeps the
 * file's codec. Both read back. */
static void test_codec_per_chunk(void)
{
    enum { N = 20000 };
    static pq_str noise[N], text[N];
    static char nbuf[N * 32];
    static const char *const words[] = {"{\"event_type\":\"purchase_sword\",\"Host\":\"a\"}",
                                        "{\"event_type\":\"join_guild\",\"Host\":\"b\"}"};
    for (size_t r = 0; r < N; r++) {
        for (int k = 0; k < 32; k++)
            nbuf[r * 32 + k] = (char)('0' + rnd() % 75);   /* no repeats to find */
        noise[r] = (pq_str){nbuf + r * 32, 32};
    }
    /* all distinct, so both are PLAIN: the codec decision is about the values */
    static char tbuf[N * 64];
    for (size_t r = 0; r < N; r++) {
        int k = snprintf(tbuf + r * 64, 64, "%s%zu", words[r % 2], r);
        text[r] = (pq_str){tbuf + r * 64, (uint32_t)k};
    }
    /* a dictionary column whose index pages do not compress (random indices over 300
     * values): its dictionary page came first, compressed, so the chunk keeps the codec */
    static pq_str pick[N];
    static char pbuf[1000 * 8];
    for (size_t r = 0; r < N; r++) {
        size_t k = rnd() % 300;
        int len = snprintf(pbuf + k * 8, 8, "p%zu", k);
        pick[r] = (pq_str){pbuf + k * 8, (uint32_t)len};
    }
    const pq_column c3[3] = {{"noise", PQ_STRING}, {"text", PQ_STRING}, {"pick", PQ_STRING}};
    pq_options o;
    pq_options_init(&o);
    char path[400];
    snprintf(path, sizeof path, "%s/c.parquet", test_tmpdir());
    pq_writer *w = NULL;
    sl_err err = {0};
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    pq_values v[3] = {{.v.str = noise}, {.v.str = text}, {.v.str = pick}};
    CHECK(fd >= 0 && pq_writer_new(&w, &o, &err) == 0 && pq_begin(w, fd, c3, 3, &err) == 0 &&
          pq_row_group(w, N, v, &err) == 0 && pq_end(w, NULL, &err) == 0);
    close(fd);
    pq_writer_free(w);
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT string_agg(compression, ',' ORDER BY column_id) FROM "
             "parquet_metadata('%s')), count(*), sum(length(noise)), count(DISTINCT text), "
             "count(DISTINCT pick) FROM read_parquet('%s')", path, path);
    duckdb_result res;
    if (query(&res, sql) == 0) {
        char *codecs = duckdb_value_varchar(&res, 0, 0);
        CHECK_STR(codecs, "UNCOMPRESSED,SNAPPY,SNAPPY");
        CHECK_EQ_U64(duckdb_value_int64(&res, 1, 0), N);
        CHECK_EQ_U64(duckdb_value_int64(&res, 2, 0), N * 32);
        CHECK_EQ_U64(duckdb_value_int64(&res, 3, 0), N);
        CHECK_EQ_U64(duckdb_value_int64(&res, 4, 0), 300);
        duckdb_free(codecs);
        duckdb_destroy_result(&res);
    } else {
        CHECK(!"query");
    }
}

/* A failed write reports the errno (here EBADF: a read-only descriptor). */
static void test_write_error(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ro.parquet", test_tmpdir());
    int fd = open(path, O_CREAT | O_RDONLY, 0644);
    pq_options o;
    pq_options_init(&o);
    pq_writer *w = NULL;
    sl_err err = {0};
    CHECK(pq_writer_new(&w, &o, &err) == 0);
    const pq_column c1 = {"x", PQ_INT64};
    int64_t x = 1;
    pq_values v = {.v.i64 = &x};
    int rc = pq_begin(w, fd, &c1, 1, &err);
    if (rc == 0)
        rc = pq_row_group(w, 1, &v, &err);
    if (rc == 0)
        rc = pq_end(w, NULL, &err);
    CHECK(rc == -EBADF);
    CHECK(strstr(err.msg, "write") != NULL);
    /* the writer is usable for the next file */
    int fd2 = open(path, O_WRONLY | O_TRUNC);
    sl_err_clear(&err);
    CHECK(pq_begin(w, fd2, &c1, 1, &err) == 0 && pq_row_group(w, 1, &v, &err) == 0 &&
          pq_end(w, NULL, &err) == 0);
    close(fd);
    close(fd2);
    pq_writer_free(w);
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT x FROM read_parquet('%s')", path);
    duckdb_result res;
    CHECK(query(&res, sql) == 0 && duckdb_value_int64(&res, 0, 0) == 1);
    duckdb_destroy_result(&res);
}

int main(void)
{
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
        fprintf(stderr, "duckdb\n");
        return 1;
    }
    RUN(test_hybrid_roundtrip);
    RUN(test_roundtrip_codecs);
    RUN(test_roundtrip_pages_and_groups);
    RUN(test_dictionary_limits);
    RUN(test_codec_per_chunk);
    RUN(test_write_error);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return test_summary();
}
