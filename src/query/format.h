/* format.h — printing query results: an aligned table in the style of the Presto CLI, CSV
 * (RFC 4180), TSV, JSON (one array of objects per statement) and Markdown.
 *
 * NULL is "NULL" in table and Markdown output, empty in CSV/TSV and null in JSON. A result
 * longer than max_rows is cut after max_rows rows, always with a note: in the table format
 * in the footer, in the others on stderr (so that the file stays machine-readable).
 * Not thread-safe per FILE; the caller owns the result.
 */
#ifndef SLUICE_QUERY_FORMAT_H
#define SLUICE_QUERY_FORMAT_H

#include <duckdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { Q_FMT_TABLE, Q_FMT_CSV, Q_FMT_TSV, Q_FMT_JSON, Q_FMT_MARKDOWN } q_format;

/* "table", "csv", "tsv", "json", "markdown" (or "md"); -EINVAL otherwise. */
int q_format_parse(const char *s, q_format *out);

typedef struct q_out {
    q_format fmt;
    FILE    *f;
    uint64_t max_rows;  /* 0 = no limit */
    bool     timing;    /* table format: print the time taken after the row count */
    unsigned width;     /* table format: the terminal's columns; a table wider than this is
                           shown one value per line ("-[ RECORD 1 ]-"), as psql's \x auto
                           does. 0: never */
} q_out;

/* Prints one result. Returns 0, or -errno when writing failed (disk full, closed pipe). */
int q_print(const q_out *o, duckdb_result *res, double elapsed_ms);

/* True for DuckDB's integer, floating-point and decimal types (right-aligned in tables,
 * bare numbers in JSON). */
bool q_type_is_numeric(duckdb_type t);

#endif
