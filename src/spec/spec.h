/* spec.h — the app spec: one YAML file that defines an app's event API (routes → events,
 * generated fields) and the tables the stream builds from those events.
 *
 * Loaded once at start-up and then read-only: safe to share between threads. A mistake in
 * the file is reported as "<file>:<line>: <problem>" and the command exits 2.
 *
 * Ownership: spec_load() returns a tree owned by the caller, freed with spec_free().
 */
#ifndef SLUICE_SPEC_H
#define SLUICE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* ---- tables (read by the stream, the catalog and the query layer) ---- */

typedef enum {
    SPEC_COL_VARCHAR = 0,
    SPEC_COL_BIGINT,
    SPEC_COL_DOUBLE,
    SPEC_COL_BOOLEAN,
    SPEC_COL_TIMESTAMP,
} spec_col_type;

const char *spec_col_type_name(spec_col_type t);          /* "varchar", "bigint", ... */
int spec_col_type_parse(const char *s, spec_col_type *out); /* accepts the names above and
                                                               string/int/integer/float/bool */

typedef struct spec_column {
    char         *name;    /* SQL column name: [a-z_][a-z0-9_]* */
    char         *field;   /* event field it is read from; NULL: the event field whose
                              spec_sql_name() equals name (e.g. "User-Agent" for user_agent) */
    spec_col_type type;
    bool          common;  /* one of the common columns every table starts with */
    int           line;
} spec_column;

typedef struct spec_table {
    char        *name;       /* [a-z_][a-z0-9_]{0,63} */
    char       **events;     /* event_type names or globs ("purchase_*", "*") */
    size_t       nevents;
    spec_column *cols;       /* common columns first, then the table's own */
    size_t       ncols;
    bool         raw_event;  /* add a raw_event varchar column holding the original JSON
                                (not in cols: consumers append it after cols; no table may
                                declare a column named raw_event) */
    bool         infer;      /* unknown fields become new nullable columns in later files */
    char        *partition_by;   /* the timestamp column whose UTC day names the dt=
                                    partition of a row; NULL: received_at */
    int          line;
} spec_table;

/* The common columns every table starts with, in this order: event_id varchar,
 * event_type varchar, received_at timestamp, host varchar, user_agent varchar,
 * accept varchar. */
extern const char *const spec_common_columns[];
extern const size_t spec_ncommon_columns;

/* True when the event_type matches the table's list (exact names or fnmatch globs). */
bool spec_table_matches(const spec_table *t, const char *event_type);

/* The SQL-friendly name of an event field: lower case, every run of characters outside
 * [a-z0-9] becomes one '_', leading/trailing '_' dropped ("User-Agent" -> "user_agent").
 * Writes at most cap-1 bytes plus NUL; returns the length written. */
size_t spec_sql_name(const char *field, size_t len, char *out, size_t cap);

/* ---- routes (read by the collector) ---- */

struct spec_field;  /* a generated or constant field; defined in spec/gen.h, which also
                       has spec_route_find() and spec_route_render() */

typedef struct spec_route {
    char   *method;        /* "GET", "POST", ... ; NULL = any */
    char   *path;          /* exact path, "/purchase_a_sword" */
    char   *event_type;    /* event produced; NULL = route answers without an event */
    int     status;        /* response status, default 200 */
    char   *body;          /* response body */
    char   *content_type;  /* default "text/html; charset=utf-8" as Flask answered */
    struct spec_field *fields;
    size_t  nfields;
    int     line;
} spec_route;

typedef struct spec_app {
    char       *file;      /* path the spec was loaded from */
    char       *name;      /* app name */
    char       *topic;     /* bus topic, default "events" */
    spec_route *routes;
    size_t      nroutes;
    spec_table *tables;
    size_t      ntables;
} spec_app;

/* Parses and checks the file. On a mistake returns -EINVAL with err->msg
 * "<file>:<line>: <problem>"; on I/O failure an errno code. */
int spec_load(const char *path, spec_app **out, sl_err *err);
/* Same, from a buffer (YAML text, need not be NUL-terminated); name is used in messages
 * and as app->file. Used by the fuzz target and tests. */
int spec_load_mem(const char *name, const char *buf, size_t len, spec_app **out, sl_err *err);
void spec_free(spec_app *app);

#endif
