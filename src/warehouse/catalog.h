/* catalog.h — the table catalog: what tables exist, their columns, where their files are.
 *
 * One file per table, <data dir>/catalog/<table>.json, replaced atomically (temp file,
 * fsync, rename) whenever a table is created or its schema evolves. Schema-on-read: the
 * Parquet files are the data; the catalog says how to read them. Format:
 *
 *   {
 *     "name": "purchases",
 *     "format": "parquet",
 *     "location": "warehouse/purchases",          (relative to the data dir)
 *     "partition_columns": [{"name": "dt", "type": "varchar"}],
 *     "columns": [{"name": "event_id", "type": "varchar"}, ...],   (not the partition cols)
 *     "schema_version": 1,                         (+1 each time columns are added)
 *     "created_at": "2026-11-21T10:00:00.000Z",
 *     "updated_at": "2026-11-21T10:05:00.000Z"
 *   }
 *
 * Column types are the spec's: varchar, bigint, double, boolean, timestamp.
 * Writers: the stream; several stream processes (a Kafka consumer group) may share a data
 * dir, so a write merges with the file under a lock (catalog.c). Readers: sql, tables,
 * ddl, export.
 */
#ifndef SLUICE_CATALOG_H
#define SLUICE_CATALOG_H

#include <stddef.h>

#include "common/err.h"
#include "spec/spec.h"

typedef struct wh_column {
    char         *name;
    spec_col_type type;
} wh_column;

typedef struct wh_table {
    char      *name;
    char      *format;        /* "parquet" */
    char      *location;      /* relative to the data dir */
    wh_column *cols;
    size_t     ncols;
    wh_column *part_cols;
    size_t     npart_cols;
    int        schema_version;
    char      *created_at;
    char      *updated_at;
} wh_table;

/* Writes <data_dir>/catalog/<t->name>.json atomically (creating the folder). created_at /
 * updated_at NULL mean now. When the file exists, it is re-read under an exclusive lock
 * (catalog/.<name>.json.lock) and t's columns are merged into it by name: the file's
 * columns stay in their order (with t's type where t has them), t's other columns are
 * appended, none is dropped; created_at stays the file's; schema_version becomes
 * max(file's + 1, t's) if anything changed, and the file is not rewritten if nothing did.
 * Safe across threads and processes. */
int wh_catalog_write(const char *data_dir, const wh_table *t, sl_err *err);

/* Reads one table; -ENOENT when there is none. *out is freed with wh_table_free(). */
int wh_catalog_read(const char *data_dir, const char *name, wh_table **out, sl_err *err);

/* Reads every table, sorted by name. Frees with wh_catalog_free_list(). A file that does
 * not parse is an error naming it. */
int wh_catalog_list(const char *data_dir, wh_table ***out, size_t *n, sl_err *err);

void wh_table_free(wh_table *t);
void wh_catalog_free_list(wh_table **list, size_t n);

#endif
