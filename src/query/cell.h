/* cell.h — the values of a materialized DuckDB result as text or as JSON, for every type.
 *
 * The deprecated row API (duckdb_value_varchar) has no text for nested values (LIST,
 * STRUCT, MAP, ARRAY, UNION) nor for TIMESTAMP WITH TIME ZONE; this module reads the
 * result's data chunks instead and renders each cell:
 *   - as text exactly as DuckDB's CAST(x AS VARCHAR) does, which is what the DuckDB CLI
 *     shows: [1, 2], {'a': 1}, {1=2}, [a, 'b c', NULL], 2024-01-02 10:00:00+00 (time zones
 *     in UTC);
 *   - as JSON: lists and arrays as arrays, structs and maps as objects (map keys as their
 *     text), a union as its member, NULL as null, booleans and numbers bare, NaN and
 *     ±Infinity as the strings "nan", "inf", "-inf" (JSON has no literal for them), every
 *     other value as a string of its text.
 * Plain numbers and strings are read from the vectors directly; other leaf types are
 * handed to DuckDB as a duckdb_value and cast by it, so dates, intervals, decimals, UUIDs,
 * blobs and enums print as DuckDB prints them.
 *
 * The C API forbids mixing chunk access with the duckdb_value_* functions on one result:
 * once a result is opened here, read it only through these functions (duckdb_row_count,
 * duckdb_column_name and duckdb_column_type stay usable).
 * A q_rows belongs to one thread; the caller still owns and destroys the result.
 */
#ifndef SLUICE_QUERY_CELL_H
#define SLUICE_QUERY_CELL_H

#include <duckdb.h>
#include <stdbool.h>

#include "common/buf.h"

typedef struct q_rows q_rows;

/* 0, or -ENOMEM. */
int  q_rows_open(duckdb_result *res, q_rows **out);
void q_rows_close(q_rows *r); /* accepts NULL */

idx_t q_rows_count(const q_rows *r);

/* True when the cell is SQL NULL. */
bool q_rows_is_null(q_rows *r, idx_t col, idx_t row);

/* Appends the cell's text to out (nothing for NULL). 0, or a negative errno when out is
 * full or memory ran out. */
int q_rows_text(q_rows *r, idx_t col, idx_t row, sl_buf *out);

/* Appends the cell as one JSON value to out. 0 or a negative errno. */
int q_rows_json(q_rows *r, idx_t col, idx_t row, sl_buf *out);

#endif
