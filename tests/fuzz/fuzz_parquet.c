/* fuzz_parquet — libFuzzer target for the Parquet writer (src/parquet/): the input chooses
 * a table (columns and types, rows, NULLs, values), the page and dictionary limits and the
 * codec; the file written is read back by DuckDB, an independent reader, and every value
 * must come back exactly. A crash, a sanitizer report, a file DuckDB refuses or a value
 * that differs is a finding. */
#include <duckdb.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/parquet.h"

#define MAX_COLS 6
#define MAX_ROWS 300

static duckdb_database db;
static duckdb_connection con;
static char path[256];

typedef struct input {
    const uint8_t *p;
    size_t         n;
} input;

static uint8_t byte(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static void setup(void)
{
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        abort();
    /* DuckDB caches file contents by path and modification time: files rewritten under
     * one name within a second would be read from the cache. */
    duckdb_result res;
    if (duckdb_query(con, "SET enable_external_file_cache = false", &res) == DuckDBError)
        abort();
    duckdb_destroy_result(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!con)
        setup();
    input in = {data, size};
    size_t ncols = 1 + byte(&in) % MAX_COLS;
    size_t nrows = 1 + (size_t)byte(&in) * MAX_ROWS / 256;
    pq_options o;
    pq_options_init(&o);
    static const pq_codec codecs[] = {PQ_SNAPPY, PQ_ZSTD, PQ_GZIP, PQ_UNCOMPRESSED};
    o.codec = codecs[byte(&in) % 4];
    o.page_size = 1 + (size_t)byte(&in) * 16;
    o.page_rows = 1 + byte(&in);
    o.dict_max_bytes = 1 + (size_t)byte(&in) * 8;

    pq_column cols[MAX_COLS];
    static char names[MAX_COLS][8];
    static uint8_t null[MAX_COLS][MAX_ROWS];
    static pq_str str[MAX_COLS][MAX_ROWS];
    static int64_t i64[MAX_COLS][MAX_ROWS];
    static double f64[MAX_COLS][MAX_ROWS];
    static uint8_t b[MAX_COLS][MAX_ROWS];
    static char text[MAX_COLS * MAX_ROWS * 16];
    size_t used = 0;
    pq_values vals[MAX_COLS];
    for (size_t c = 0; c < ncols; c++) {
        snprintf(names[c], sizeof names[c], "c%zu", c);
        cols[c] = (pq_column){names[c], (pq_type)(byte(&in) % 5)};
        uint8_t null_pct = byte(&in) % 101;
        unsigned distinct = 1u + byte(&in);   /* how many different strings at most */
        for (size_t r = 0; r < nrows; r++) {
            null[c][r] = byte(&in) % 100 < null_pct;
            uint8_t x = byte(&in);
            switch (cols[c].type) {
            case PQ_STRING: {
                /* short printable strings from a small alphabet: repeats happen */
                uint8_t k = x % distinct;
                size_t len = k % 16;
                char *s = text + used;
                for (size_t j = 0; j < len; j++)
                    s[j] = (char)('a' + (k + j * 7) % 26);
                str[c][r] = (pq_str){s, (uint32_t)len};
                used += len;
                break;
            }
            case PQ_DOUBLE: {
                uint64_t bits = 0;
                for (int j = 0; j < 8; j++)
                    bits = bits << 8 | byte(&in);
                bits ^= (uint64_t)x << 56;
                memcpy(&f64[c][r], &bits, 8);
                if (isnan(f64[c][r]))
                    f64[c][r] = 0.5;
                break;
            }
            case PQ_BOOLEAN:
                b[c][r] = x & 1;
                break;
            default: {
                uint64_t bits = x;
                for (int j = 0; j < 7; j++)
                    bits = bits << 8 | byte(&in);
                i64[c][r] = (int64_t)bits;
                /* timestamps DuckDB can represent */
                if (cols[c].type == PQ_TIMESTAMP)
                    i64[c][r] %= 100000000000000000LL;
                break;
            }
            }
        }
        vals[c].null = null[c];
        switch (cols[c].type) {
        case PQ_STRING:  vals[c].v.str = str[c]; break;
        case PQ_DOUBLE:  vals[c].v.f64 = f64[c]; break;
        case PQ_BOOLEAN: vals[c].v.b = b[c]; break;
        default:         vals[c].v.i64 = i64[c]; break;
        }
    }

    /* write: one or two row groups, to a new name every time (see setup) */
    static unsigned seq;
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/sluice-fuzz-parquet-%d-%u.parquet", tmp && *tmp ? tmp : "/tmp",
             (int)getpid(), seq++);
    size_t split = nrows > 1 ? 1 + byte(&in) % nrows : nrows;
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        abort();
    pq_writer *w = NULL;
    sl_err err = {0};
    if (pq_writer_new(&w, &o, &err) < 0 || pq_begin(w, fd, cols, ncols, &err) < 0 ||
        pq_row_group(w, split, vals, &err) < 0)
        abort();
    if (split < nrows) {
        pq_values rest[MAX_COLS];
        for (size_t c = 0; c < ncols; c++) {
            rest[c] = vals[c];
            rest[c].null += split;
            switch (cols[c].type) {
            case PQ_STRING:  rest[c].v.str += split; break;
            case PQ_DOUBLE:  rest[c].v.f64 += split; break;
            case PQ_BOOLEAN: rest[c].v.b += split; break;
            default:         rest[c].v.i64 += split; break;
            }
        }
        if (pq_row_group(w, nrows - split, rest, &err) < 0)
            abort();
    }
    if (pq_end(w, NULL, &err) < 0)
        abort();
    pq_writer_free(w);
    close(fd);

    /* read back */
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT * FROM read_parquet('%s')", path);
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "DuckDB refused %s: %s\n", path, duckdb_result_error(&res));
        abort();
    }
    if (duckdb_row_count(&res) != nrows || duckdb_column_count(&res) != ncols)
        abort();
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            bool isnull = duckdb_value_is_null(&res, c, r);
            if (isnull != (null[c][r] != 0)) {
                fprintf(stderr, "row %zu column %zu: NULL differs\n", r, c);
                abort();
            }
            if (isnull)
                continue;
            bool same;
            switch (cols[c].type) {
            case PQ_STRING: {
                duckdb_string s = duckdb_value_string(&res, c, r);
                same = s.size == str[c][r].len && !memcmp(s.data, str[c][r].p, s.size);
                duckdb_free(s.data);
                break;
            }
            case PQ_DOUBLE: {
                double d = duckdb_value_double(&res, c, r);
                same = memcmp(&d, &f64[c][r], 8) == 0;
                break;
            }
            case PQ_BOOLEAN:
                same = duckdb_value_boolean(&res, c, r) == (b[c][r] != 0);
                break;
            case PQ_TIMESTAMP:
                same = duckdb_value_timestamp(&res, c, r).micros == i64[c][r];
                break;
            default:
                same = duckdb_value_int64(&res, c, r) == i64[c][r];
            }
            if (!same) {
                fprintf(stderr, "row %zu column %zu: value differs\n", r, c);
                abort();
            }
        }
    duckdb_destroy_result(&res);
    unlink(path);
    return 0;
}
