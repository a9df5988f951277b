/* parquet.h — a Parquet file writer: typed columns in memory → one .parquet file.
 *
 * What it writes (Apache Parquet format 2.x, readable by every Parquet reader: DuckDB,
 * Spark, Hive, Trino, Arrow):
 *   "PAR1" | row group | row group | ... | FileMetaData (Thrift compact) | len (4, LE) | "PAR1"
 * Every column is a flat OPTIONAL leaf (definition level 0 = NULL, 1 = value; no
 * repetition levels). A row group holds one column chunk per column, one after the other;
 * a chunk is an optional dictionary page followed by data pages (format v1: definition
 * levels as a 4-byte length and the RLE/bit-packing hybrid, then the values; the levels
 * and values together are compressed with the file's codec).
 *
 *   type          physical type  annotation                       values
 *   PQ_STRING     BYTE_ARRAY     UTF8 / STRING                    dictionary, or PLAIN
 *   PQ_INT64      INT64          -                                PLAIN
 *   PQ_DOUBLE     DOUBLE         -                                PLAIN
 *   PQ_BOOLEAN    BOOLEAN        -                                PLAIN (bit-packed)
 *   PQ_TIMESTAMP  INT64          TIMESTAMP_MICROS /               PLAIN
 *                                TIMESTAMP(MICROS, not adjusted)
 * (the same physical and logical types DuckDB writes for VARCHAR, BIGINT, DOUBLE, BOOLEAN
 * and TIMESTAMP, so tables keep their types whichever writer made a file).
 *
 * Strings are dictionary-encoded (dictionary page PLAIN, data pages PLAIN_DICTIONARY, the
 * indices in the hybrid encoding) unless the chunk's dictionary would pass
 * dict_max_bytes or the first 1024 values are mostly distinct (ids, raw JSON): then PLAIN.
 * Column chunk statistics: null_count always; min_value/max_value (and the legacy min/max
 * for numbers and booleans) when there is a non-null value, for strings only when every
 * value is at most PQ_STAT_MAX bytes (a bound must cover all values; long text gets none).
 * The footer declares TypeDefinedOrder for every column, so readers may use them.
 *
 * Threading: a pq_writer is used by one thread at a time; separate writers are
 * independent. It keeps its scratch memory and compressor between files.
 */
#ifndef SLUICE_PARQUET_PARQUET_H
#define SLUICE_PARQUET_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef enum { PQ_STRING, PQ_INT64, PQ_DOUBLE, PQ_BOOLEAN, PQ_TIMESTAMP } pq_type;
typedef enum { PQ_UNCOMPRESSED = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_ZSTD = 6 } pq_codec;

#define PQ_STAT_MAX 64   /* longest string kept as a min/max statistic */

/* "snappy", "zstd", "gzip", "uncompressed" → codec. 0, or -EINVAL. */
int         pq_codec_parse(const char *name, pq_codec *out);
const char *pq_codec_name(pq_codec c);

typedef struct pq_column {
    const char *name;    /* copied by pq_begin */
    pq_type     type;
} pq_column;

typedef struct pq_str {
    const char *p;
    uint32_t    len;
} pq_str;

/* The values of one column for the rows of a row group. null[i] != 0 marks row i NULL
 * (null == NULL: no NULL); the value array has one slot per row (a NULL row's slot is not
 * read). Strings must stay valid until pq_row_group() returns. */
typedef struct pq_values {
    const uint8_t *null;
    union {
        const pq_str  *str;   /* PQ_STRING */
        const int64_t *i64;   /* PQ_INT64, PQ_TIMESTAMP (microseconds since the epoch) */
        const double  *f64;   /* PQ_DOUBLE */
        const uint8_t *b;     /* PQ_BOOLEAN: 0 or 1 */
    } v;
} pq_values;

typedef struct pq_options {
    pq_codec    codec;           /* default (0): uncompressed; see pq_options_init */
    int         level;           /* zstd / gzip level; 0 = the codec's default */
    size_t      page_size;       /* target uncompressed bytes of a data page */
    size_t      page_rows;       /* most rows in a data page */
    size_t      dict_max_bytes;  /* largest dictionary before falling back to PLAIN */
    const char *created_by;      /* the footer's created_by; NULL = "sluice" */
    size_t      sync_bytes;      /* start the file's writeback every this many bytes
                                    (sync_file_range), so a final fsync waits less; 0 = never */
} pq_options;

/* snappy, 1 MiB pages of at most 20,000 rows, 1 MiB dictionaries. */
void pq_options_init(pq_options *o);

typedef struct pq_writer pq_writer;

int  pq_writer_new(pq_writer **out, const pq_options *o, sl_err *err);
void pq_writer_free(pq_writer *w);   /* NULL is fine */

/* Starts a file on fd (open for writing, at offset 0; the caller closes it). */
int pq_begin(pq_writer *w, int fd, const pq_column *cols, size_t ncols, sl_err *err);
/* Writes one row group of nrows (>= 1) rows: vals[c] holds column c. */
int pq_row_group(pq_writer *w, size_t nrows, const pq_values *vals, sl_err *err);
/* Writes the footer and flushes; *bytes (may be NULL) = the file's size. */
int pq_end(pq_writer *w, uint64_t *bytes, sl_err *err);

/* Write errors carry the errno: ENOSPC / EDQUOT are retriable (sl_err_errno). */

#endif
