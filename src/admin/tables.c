/* tables.c — rows, files, bytes and partitions per catalog table, for the dashboard.
 *
 * The same numbers as `sluice tables`: the catalog lists the tables, q_table_files() the
 * visible Parquet files, DuckDB's parquet_file_metadata() the row counts from the footers
 * (inside the sandboxed engine). Footers are read again only for a table whose file
 * count or byte total changed since the last call, so polling every second stays cheap.
 * Thread: the admin thread (it owns the engine).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/parts.h"
#include "warehouse/catalog.h"

#define ADMIN_MAX_TABLES 256

typedef struct tcache {
    char    *name;
    size_t   files;
    uint64_t bytes;
    uint64_t rows;
    bool     rows_ok;
} tcache;

struct admin_tables {
    tcache t[ADMIN_MAX_TABLES];
    size_t n;
};

int admin_tables_create(admin_tables **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void admin_tables_destroy(admin_tables *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->t[i].name);
    free(t);
}

static tcache *cache_of(admin_tables *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->t[i].name, name))
            return &t->t[i];
    if (t->n == ADMIN_MAX_TABLES)
        return NULL;
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    tcache *c = &t->t[t->n++];
    memset(c, 0, sizeof *c);
    c->name = copy;
    c->files = SIZE_MAX;  /* never counted */
    return c;
}

/* Sum of the footers' row counts of files[0..n). */
static int count_rows(q_engine *e, const q_file *files, size_t n, uint64_t *rows)
{
    sl_buf sql;
    sl_buf_init(&sql, 64u << 20);
    int rc = sl_buf_adds(&sql, "SELECT coalesce(sum(num_rows), 0)::UBIGINT FROM parquet_file_metadata([");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = i ? sl_buf_adds(&sql, ", ") : 0;
        rc = rc ? rc : q_sql_literal(&sql, files[i].path);
    }
    rc = rc ? rc : sl_buf_adds(&sql, "])");
    if (rc) {
        sl_buf_free(&sql);
        return rc;
    }
    duckdb_result res;
    if (q_engine_exec(e, sql.p, &res)) {
        sl_buf_free(&sql);
        return -EIO;
    }
    *rows = duckdb_value_uint64(&res, 0, 0);
    duckdb_destroy_result(&res);
    sl_buf_free(&sql);
    return 0;
}

int admin_tables_json(admin_tables *t, q_engine *e, sl_buf *b)
{
    wh_table **list = NULL;
    size_t n = 0;
    sl_err err = {0};
    int rc;
    if (wh_catalog_list(q_engine_data_dir(e), &list, &n, &err) < 0) {
        rc = sl_buf_adds(b, "\"tables\":[],\"tables_error\":");
        return rc ? rc : admin_json_str(b, err.msg, strlen(err.msg));
    }
    rc = sl_buf_adds(b, "\"tables\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        q_file *files = NULL;
        size_t nf = 0;
        sl_err ferr = {0};
        uint64_t bytes = 0;
        int64_t newest = -1;
        size_t parts = 0;
        if (q_table_files(q_engine_data_dir(e), list[i]->location, &files, &nf, &ferr) < 0)
            nf = 0;
        for (size_t f = 0; f < nf; f++) {
            bytes += files[f].size;
            if (files[f].mtime_ms > newest)
                newest = files[f].mtime_ms;
            /* sorted: the files of one partition folder are adjacent */
            const char *slash = strrchr(files[f].path, '/');
            size_t dl = (size_t)(slash - files[f].path);
            if (!f || strncmp(files[f - 1].path, files[f].path, dl) ||
                strrchr(files[f - 1].path, '/') - files[f - 1].path != (ptrdiff_t)dl)
                parts++;
        }
        tcache *c = cache_of(t, list[i]->name);
        if (c && (c->files != nf || c->bytes != bytes || !c->rows_ok)) {
            c->files = nf;
            c->bytes = bytes;
            c->rows = 0;
            c->rows_ok = nf == 0 || count_rows(e, files, nf, &c->rows) == 0;
        }
        q_files_free(files, nf);
        rc = sl_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
        rc = rc ? rc : admin_json_str(b, list[i]->name, strlen(list[i]->name));
        if (!rc && c && c->rows_ok)
            rc = sl_buf_printf(b, ",\"rows\":%" PRIu64, c->rows);
        else if (!rc)
            rc = sl_buf_adds(b, ",\"rows\":null");
        rc = rc ? rc : sl_buf_printf(b, ",\"files\":%zu,\"bytes\":%" PRIu64
                                        ",\"partitions\":%zu,\"columns\":%zu,"
                                        "\"last_update_ms\":%" PRId64 "}",
                                     nf, bytes, parts, list[i]->ncols, newest);
    }
    rc = rc ? rc : sl_buf_addc(b, ']');
    wh_catalog_free_list(list, n);
    return rc;
}
