/* row.h — one event (a JSON record of the log) → typed row values of the stream's tables.
 *
 * Pure and allocation-light: no I/O, no DuckDB, no globals. The stream calls it from its
 * one batch thread; the fuzzer calls it directly (tests/fuzz/fuzz_event_row.c).
 *
 * How a column finds its value (stream_row_convert):
 *   1. a column with an explicit source (`field:` in the spec) reads exactly that field;
 *   2. otherwise the field whose name equals the column name exactly;
 *   3. otherwise the first field whose spec_sql_name() equals the column name
 *      ("User-Agent" → user_agent);
 *   4. no such field, or JSON null → SQL NULL.
 * Only top-level members are looked at; nested objects/arrays become JSON text in a
 * varchar column.
 *
 * Typing (a value that does not fit rejects the whole event; see docs/stream.md):
 *   varchar    strings (decoded); numbers, booleans, objects, arrays as their JSON text
 *   bigint     whole JSON numbers in int64 range, or strings holding one ("42", "-7")
 *   double     finite JSON numbers, or strings holding one ("2.5")
 *   boolean    true/false, or the strings "true"/"false"
 *   timestamp  RFC 3339 strings ("2026-11-21T10:00:00.123Z", offsets allowed), stored as
 *              microseconds since the epoch, UTC
 */
#ifndef SLUICE_STREAM_ROW_H
#define SLUICE_STREAM_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "spec/spec.h"

/* Caps on what one event may carry: a record past them is rejected, not truncated. */
#define STREAM_MAX_FIELDS     512     /* top-level members of one event */
#define STREAM_MAX_NAME       64      /* SQL names of fields/columns, with NUL */
#define STREAM_MAX_COLUMNS    512     /* columns of one table, inferred ones included */
#define STREAM_REASON_MAX     256

typedef enum {
    STREAM_CELL_NULL = 0,
    STREAM_CELL_STR,
    STREAM_CELL_I64,
    STREAM_CELL_F64,
    STREAM_CELL_BOOL,
    STREAM_CELL_TS,     /* i = microseconds since the epoch, UTC */
} stream_cell_kind;

typedef struct stream_cell {
    uint8_t  kind;
    uint32_t len;       /* STREAM_CELL_STR: byte length of s */
    union {
        int64_t     i;
        double      d;
        const char *s;  /* points into the record or into the batch arena */
    } v;
} stream_cell;

/* A bump allocator for decoded strings of one batch: pointers stay valid until
 * stream_arena_reset(). Capped so that a hostile batch cannot grow it without bound. */
typedef struct stream_arena_chunk stream_arena_chunk;
typedef struct stream_arena {
    stream_arena_chunk *head;
    stream_arena_chunk *cur;
    size_t              used_total;
    size_t              max_total;   /* 0 = 1 GiB */
} stream_arena;

void  stream_arena_init(stream_arena *a, size_t max_total);
void *stream_arena_alloc(stream_arena *a, size_t n);   /* NULL when out of memory / cap */
void  stream_arena_reset(stream_arena *a);   /* forgets everything, keeps some memory */
void  stream_arena_free(stream_arena *a);    /* frees everything */

/* UTF-8 validity, and a copy (in the arena) with invalid bytes replaced by U+FFFD. */
bool        stream_utf8_valid(const char *s, size_t n);
const char *stream_utf8_clean(stream_arena *a, const char *s, size_t n, uint32_t *out_len);

typedef enum { STREAM_COL_DECLARED = 0, STREAM_COL_RAW, STREAM_COL_INFERRED } stream_col_role;

typedef struct stream_col {
    char           *name;    /* SQL name, [a-z_][a-z0-9_]*; always quoted in SQL */
    char           *field;   /* explicit source field, or NULL (see rule above) */
    spec_col_type   type;
    stream_col_role role;
} stream_col;

/* The runtime schema of one table: the spec's columns, then raw_event (if asked), then
 * columns inferred from events (infer: true). Owned by the stream; grows only. */
typedef struct stream_schema {
    char       *name;
    stream_col *cols;
    size_t      ncols;
    size_t      cap;
    bool        infer;
} stream_schema;

/* Builds the schema of a spec table (columns copied). */
int  stream_schema_from_spec(stream_schema *s, const spec_table *t, sl_err *err);
/* Adds a column (strings copied). -E2BIG past STREAM_MAX_COLUMNS. */
int  stream_schema_add(stream_schema *s, const char *name, const char *field,
                       spec_col_type type, stream_col_role role, sl_err *err);
int  stream_schema_find(const stream_schema *s, const char *name);   /* index or -1 */
void stream_schema_free(stream_schema *s);                           /* half-built ok */

typedef struct stream_field {
    json_span key;       /* with quotes */
    json_span value;
    json_type type;
    bool      key_escaped;     /* key/value token has a backslash escape */
    bool      value_escaped;
    uint8_t   sql_len;
    char      sql[STREAM_MAX_NAME];   /* spec_sql_name() of the key, truncated; computed
                                         on first need (stream_event_sql_names) */
} stream_field;

typedef struct stream_event {
    const char  *raw;
    size_t       len;
    char         event_type[65];
    size_t       event_type_len;
    int64_t      received_us;    /* from received_at, or the fallback given to parse */
    bool         has_received;   /* received_at was present and valid */
    bool         sql_ready;      /* f[].sql are computed */
    size_t       received_idx;   /* its field index (when has_received) */
    stream_field f[STREAM_MAX_FIELDS];
    size_t       nf;
    json_field   jf[STREAM_MAX_FIELDS];   /* parse scratch */
} stream_event;

/* Parses one record. On a bad record returns -EINVAL with a reason in err->msg
 * ("malformed JSON at byte 12: unterminated string", "missing event_type", ...).
 * fallback_us is used as received_at when the event has none (the record's log
 * timestamp). ev points into raw, which must outlive it. */
int stream_event_parse(stream_event *ev, const char *raw, size_t len, int64_t fallback_us,
                       sl_err *err);

/* Computes the SQL names of the event's keys (f[].sql), once per event. The functions
 * below that need them call it; the stream's cached path (stream_row_convert_mapped) does
 * not, which is why parsing leaves them out. */
void stream_event_sql_names(stream_event *ev);

/* Fills cells[0..s->ncols) for the event. On a value that does not fit its column returns
 * -EINVAL with the reason in err->msg ("column strength (bigint): \"abc\" is not an
 * integer"). Decoded strings go to the arena (-ENOMEM when it is full). */
int stream_row_convert(const stream_schema *s, stream_event *ev, stream_cell *cells,
                       stream_arena *a, sl_err *err);

/* The lookup of stream_row_convert, done once: map[ci] = index in ev->f of the field column
 * ci reads, or -1 (raw_event and missing fields). The result depends only on the event's
 * key sequence (names, order) and the schema, so the stream reuses it for every event
 * with the same keys (key order and names repeat across events of one type). */
void stream_row_map(const stream_schema *s, stream_event *ev, int16_t *map);
/* stream_row_convert with a map from stream_row_map (for an event with the same keys). */
int stream_row_convert_mapped(const stream_schema *s, const stream_event *ev, const int16_t *map,
                              stream_cell *cells, stream_arena *a, sl_err *err);

/* For infer tables: adds a nullable column for every field of ev that no column reads,
 * with the type of its value (integer → bigint, other number → double, true/false →
 * boolean, anything else → varchar; null values and names that are not valid SQL names
 * are skipped). Returns the number of columns added (they are at the end), or <0. */
int stream_schema_infer(stream_schema *s, stream_event *ev, sl_err *err);

/* Event-type names: [a-z][a-z0-9_]{0,63}. */
bool stream_event_type_valid(const char *s, size_t len);

/* RFC 3339 → microseconds since the epoch (UTC). False when s is not one. */
bool stream_parse_rfc3339(const char *s, size_t len, int64_t *out_us);

/* Days since 1970-01-01 → "YYYY-MM-DD" (out has room for 11 bytes). */
void stream_format_date(int64_t days, char out[11]);
/* Floor division of microseconds into days. */
int64_t stream_us_to_days(int64_t us);

#endif
