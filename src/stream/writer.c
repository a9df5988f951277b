/* writer.c — rows → Parquet via DuckDB data chunks and COPY (see writer.h). */
#include "stream/writer.h"

#include <dirent.h>
#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "stream/checkpoint.h"

/* One lane per concurrent writer thread: its own connection and its own table function
 * (sluice_rows_<lane>) reading the lane's pending rows. */
typedef struct lane {
    duckdb_connection     con;
    const struct pending *cur;   /* rows of the COPY under way on this lane */
} lane;

struct stream_writer {
    duckdb_database   db;
    lane             *lanes;
    int               nlanes;
    char              compression[16];
    uint64_t          row_group_size;
    char            **dirs;      /* directories to fsync (publishing thread only) */
    size_t            ndirs, capdirs;
};

int stream_duckdb_type(spec_col_type t)
{
    switch (t) {
    case SPEC_COL_BIGINT:    return DUCKDB_TYPE_BIGINT;
    case SPEC_COL_DOUBLE:    return DUCKDB_TYPE_DOUBLE;
    case SPEC_COL_BOOLEAN:   return DUCKDB_TYPE_BOOLEAN;
    case SPEC_COL_TIMESTAMP: return DUCKDB_TYPE_TIMESTAMP;
    case SPEC_COL_VARCHAR:
    default:                 return DUCKDB_TYPE_VARCHAR;
    }
}

static int register_rows_function(stream_writer *w, int k, sl_err *err);

static int run_sql(duckdb_connection con, const char *sql, sl_err *err)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        const char *e = duckdb_result_error(&res);
        /* DuckDB reports a full disk only in its message text; it is the one condition
         * here that a retry can cure, so it is classified once, where the text is seen. */
        int code = -EIO;
        if (e && strstr(e, strerror(ENOSPC)))
            code = -ENOSPC;
        else if (e && strstr(e, strerror(EDQUOT)))
            code = -EDQUOT;
        int rc = sl_err_set(err, code, code != -EIO, "duckdb: %s", e ? e : "query failed");
        duckdb_destroy_result(&res);
        return rc;
    }
    duckdb_destroy_result(&res);
    return 0;
}

int stream_writer_open(stream_writer **out, const char *compression, uint64_t row_group_size,
                       int threads, int lanes, sl_err *err)
{
    *out = NULL;
    static const char *const ok[] = {"snappy", "zstd", "gzip", "uncompressed", NULL};
    int known = 0;
    for (int i = 0; ok[i]; i++)
        known |= !strcmp(compression, ok[i]);
    if (!known)
        return sl_err_set(err, -EINVAL, false,
                          "unknown compression '%s' (snappy, zstd, gzip, uncompressed)",
                          compression);
    stream_writer *w = calloc(1, sizeof *w);
    if (!w)
        return sl_err_errno(err, ENOMEM, "writer");
    w->nlanes = lanes < 1 ? 1 : lanes > 16 ? 16 : lanes;
    if (!(w->lanes = calloc((size_t)w->nlanes, sizeof *w->lanes))) {
        free(w);
        return sl_err_errno(err, ENOMEM, "writer");
    }
    snprintf(w->compression, sizeof w->compression, "%s", compression);
    w->row_group_size = row_group_size ? row_group_size : 122880;
    duckdb_config cfg = NULL;
    char *errmsg = NULL;
    int rc;
    if (duckdb_create_config(&cfg) == DuckDBError) {
        rc = sl_err_set(err, -ENOMEM, false, "duckdb: cannot create config");
        goto fail;
    }
    /* Default: one DuckDB thread, i.e. each COPY runs on the lane thread that issued it.
     * The parallelism is ours (router + lanes); with more DuckDB threads the scan of a
     * file stays single-threaded (it keeps the rows in offset order) and a lane's thread
     * busy-polls DuckDB's task queue while a worker runs its pipeline, which measured as
     * 8-15% more CPU and a slower batch on 2 cores (docs/stream.md). */
    {
        char tbuf[16];
        snprintf(tbuf, sizeof tbuf, "%d", threads > 0 ? threads : 1);
        if (duckdb_set_config(cfg, "threads", tbuf) == DuckDBError) {
            rc = sl_err_set(err, -EINVAL, false, "duckdb: threads %s refused", tbuf);
            goto fail;
        }
    }
    /* The staging tables are in memory; nothing of the outside world is needed. */
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(NULL, &w->db, cfg, &errmsg) == DuckDBError) {
        rc = sl_err_set(err, -EIO, false, "duckdb: %s", errmsg ? errmsg : "cannot open");
        duckdb_free(errmsg);
        goto fail;
    }
    duckdb_destroy_config(&cfg);
    cfg = NULL;
    for (int k = 0; k < w->nlanes; k++) {
        if (duckdb_connect(w->db, &w->lanes[k].con) == DuckDBError) {
            rc = sl_err_set(err, -EIO, false, "duckdb: cannot connect");
            goto fail;
        }
        if ((rc = register_rows_function(w, k, err)) < 0)
            goto fail;
    }
    *out = w;
    return 0;
fail:
    if (cfg)
        duckdb_destroy_config(&cfg);
    stream_writer_close(w);
    return rc;
}

void stream_writer_close(stream_writer *w)
{
    if (!w)
        return;
    for (int k = 0; w->lanes && k < w->nlanes; k++)
        if (w->lanes[k].con)
            duckdb_disconnect(&w->lanes[k].con);
    free(w->lanes);
    if (w->db)
        duckdb_close(&w->db);
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i]);
    free(w->dirs);
    free(w);
}

/* Appends 'literal' with embedded quotes doubled. */
static int add_literal(sl_buf *b, const char *s)
{
    int rc = sl_buf_addc(b, '\'');
    for (; *s && rc == 0; s++)
        rc = *s == '\'' ? sl_buf_add(b, "''", 2) : sl_buf_addc(b, *s);
    return rc ? rc : sl_buf_addc(b, '\'');
}

static int remember_dir(stream_writer *w, const char *dir)
{
    for (size_t i = 0; i < w->ndirs; i++)
        if (!strcmp(w->dirs[i], dir))
            return 0;
    if (w->ndirs == w->capdirs) {
        size_t cap = w->capdirs ? w->capdirs * 2 : 8;
        char **d = realloc(w->dirs, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        w->dirs = d;
        w->capdirs = cap;
    }
    if (!(w->dirs[w->ndirs] = strdup(dir)))
        return -ENOMEM;
    w->ndirs++;
    return 0;
}

/* The rows being written, read by the sluice_rows() table function during COPY. Set and
 * cleared by stream_writer_write() around the query (batch thread). */
typedef struct pending {
    const stream_schema *s;
    const stream_rowref *rows;
    size_t               nrows;
} pending;

typedef struct scan_state {
    size_t next;
} scan_state;

/* Writes a VARCHAR value as DuckDB's string_t without copying the bytes: a string of more
 * than 12 bytes points into the batch (the record or the arena), which lives until the
 * batch is committed, i.e. longer than the COPY that reads it (its sink copies the strings
 * into its own buffers). duckdb_vector_assign_string_element_len() would copy every
 * string into the vector's heap first: about 10% of the stream's CPU, measured. Inlined
 * strings are zero-padded, because DuckDB compares the 16 bytes as a whole. */
static inline void put_string(duckdb_string_t *d, const char *s, uint32_t n)
{
    if (n <= sizeof d->value.inlined.inlined) {
        memset(d, 0, sizeof *d);
        d->value.inlined.length = n;
        if (n)
            memcpy(d->value.inlined.inlined, s, n);
    } else {
        d->value.pointer.length = n;
        memcpy(d->value.pointer.prefix, s, sizeof d->value.pointer.prefix);
        d->value.pointer.ptr = (char *)s;
    }
}

static void rows_bind(duckdb_bind_info info)
{
    lane *ln = duckdb_bind_get_extra_info(info);
    const pending *p = ln->cur;
    if (!p) {
        duckdb_bind_set_error(info, "sluice_rows(): no rows pending");
        return;
    }
    for (size_t c = 0; c < p->s->ncols; c++) {
        duckdb_logical_type t =
            duckdb_create_logical_type((duckdb_type)stream_duckdb_type(p->s->cols[c].type));
        duckdb_bind_add_result_column(info, p->s->cols[c].name, t);
        duckdb_destroy_logical_type(&t);
    }
}

static void rows_init(duckdb_init_info info)
{
    scan_state *st = calloc(1, sizeof *st);
    if (!st) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    duckdb_init_set_init_data(info, st, free);
    duckdb_init_set_max_threads(info, 1);   /* keeps the offset order of the rows */
}

/* One data chunk of rows, filled row by row (each row's cells are contiguous; a pass per
 * column walked every row's cells once per column). A cell past a row's ncells (a column
 * inferred after the row was built) or of kind NULL is SQL NULL. */
static void rows_scan(duckdb_function_info info, duckdb_data_chunk out)
{
    lane *ln = duckdb_function_get_extra_info(info);
    scan_state *st = duckdb_function_get_init_data(info);
    const pending *p = ln->cur;
    size_t cap = duckdb_vector_size();
    size_t n = p->nrows - st->next < cap ? p->nrows - st->next : cap;
    size_t ncols = p->s->ncols;
    duckdb_vector vec[STREAM_MAX_COLUMNS];
    void *data[STREAM_MAX_COLUMNS];
    uint64_t *validity[STREAM_MAX_COLUMNS];
    for (size_t c = 0; c < ncols; c++) {
        vec[c] = duckdb_data_chunk_get_vector(out, c);
        data[c] = duckdb_vector_get_data(vec[c]);
        validity[c] = NULL;
    }
    const stream_rowref *rows = p->rows + st->next;
    for (size_t i = 0; i < n; i++) {
        const stream_cell *cells = rows[i].cells;
        size_t have = rows[i].ncells < ncols ? rows[i].ncells : ncols;
        for (size_t c = 0; c < ncols; c++) {
            const stream_cell *cell = c < have ? &cells[c] : NULL;
            if (!cell || cell->kind == STREAM_CELL_NULL) {
                if (!validity[c]) {
                    duckdb_vector_ensure_validity_writable(vec[c]);
                    validity[c] = duckdb_vector_get_validity(vec[c]);
                }
                duckdb_validity_set_row_invalid(validity[c], i);
                continue;
            }
            switch (p->s->cols[c].type) {
            case SPEC_COL_VARCHAR:
                put_string(&((duckdb_string_t *)data[c])[i], cell->v.s, cell->len);
                break;
            case SPEC_COL_BIGINT:
            case SPEC_COL_TIMESTAMP:
                ((int64_t *)data[c])[i] = cell->v.i;
                break;
            case SPEC_COL_DOUBLE:
                ((double *)data[c])[i] = cell->v.d;
                break;
            case SPEC_COL_BOOLEAN:
                ((bool *)data[c])[i] = cell->v.i != 0;
                break;
            }
        }
    }
    st->next += n;
    duckdb_data_chunk_set_size(out, n);
}

static int register_rows_function(stream_writer *w, int k, sl_err *err)
{
    char name[32];
    snprintf(name, sizeof name, "sluice_rows_%d", k);
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, name);
    duckdb_table_function_set_extra_info(tf, &w->lanes[k], NULL);
    duckdb_table_function_set_bind(tf, rows_bind);
    duckdb_table_function_set_init(tf, rows_init);
    duckdb_table_function_set_function(tf, rows_scan);
    duckdb_state rc = duckdb_register_table_function(w->lanes[k].con, tf);
    duckdb_destroy_table_function(&tf);
    return rc == DuckDBError ? sl_err_set(err, -EIO, false, "duckdb: cannot register sluice_rows")
                             : 0;
}

static int file_names(const char *dir, uint64_t partition, uint64_t first, uint64_t last,
                      char *tmp, size_t tmp_cap, char *final, size_t final_cap)
{
    if ((size_t)snprintf(tmp, tmp_cap, "%s/.tmp-part-%" PRIu64 "-%" PRIu64 "-%" PRIu64, dir,
                         partition, first, last) >= tmp_cap ||
        (final && (size_t)snprintf(final, final_cap,
                                   "%s/part-%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".parquet", dir,
                                   partition, first, last) >= final_cap))
        return -ENAMETOOLONG;
    return 0;
}

int stream_writer_encode(stream_writer *w, int k, const stream_schema *s, const stream_rowref *rows,
                         size_t nrows, const char *dir, uint64_t partition, uint64_t first,
                         uint64_t last, uint64_t *bytes, uint64_t *fsync_ns, sl_err *err)
{
    sl_buf sql;
    sl_buf_init(&sql, 1 << 20);
    char tmp[4096];
    int rc = 0;
    if (file_names(dir, partition, first, last, tmp, sizeof tmp, NULL, 0) < 0) {
        rc = sl_err_set(err, -ENAMETOOLONG, false, "path too long under %s", dir);
        goto done;
    }

    /* The rows stream from sluice_rows() straight into DuckDB's Parquet writer; column
     * names come from the schema through the bind callback, never through SQL text. */
    rc = sl_buf_printf(&sql, "COPY (SELECT * FROM sluice_rows_%d()) TO ", k);
    if (rc == 0)
        rc = add_literal(&sql, tmp);
    if (rc == 0)
        rc = sl_buf_printf(&sql, " (FORMAT parquet, COMPRESSION %s, ROW_GROUP_SIZE %" PRIu64 ")",
                           w->compression, w->row_group_size);
    if (rc < 0) {
        rc = sl_err_set(err, rc, false, "table %s: SQL too long", s->name);
        goto done;
    }
    pending p = {.s = s, .rows = rows, .nrows = nrows};
    w->lanes[k].cur = &p;
    rc = run_sql(w->lanes[k].con, sql.p, err);
    w->lanes[k].cur = NULL;
    if (rc < 0) {
        unlink(tmp);
        sl_err_prefix(err, "table %s: ", s->name);
        goto done;
    }

    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = sl_err_errno(err, errno, "open %s", tmp);
        goto done;
    }
    struct stat st;
    struct timespec f0, f1;
    clock_gettime(CLOCK_MONOTONIC, &f0);
    int frc = fsync(fd);
    clock_gettime(CLOCK_MONOTONIC, &f1);
    *fsync_ns += (uint64_t)((f1.tv_sec - f0.tv_sec) * 1000000000LL + (f1.tv_nsec - f0.tv_nsec));
    if (frc != 0 || fstat(fd, &st) != 0) {
        rc = sl_err_errno(err, errno, "fsync %s", tmp);
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    *bytes += (uint64_t)st.st_size;
done:
    sl_buf_free(&sql);
    return rc;
}

int stream_writer_publish(stream_writer *w, const char *dir, uint64_t partition, uint64_t first,
                          uint64_t last, sl_err *err)
{
    char tmp[4096], final[4096];
    if (file_names(dir, partition, first, last, tmp, sizeof tmp, final, sizeof final) < 0)
        return sl_err_set(err, -ENAMETOOLONG, false, "path too long under %s", dir);
    if (rename(tmp, final) != 0) {
        int rc = sl_err_errno(err, errno, "rename %s", tmp);
        unlink(tmp);
        return rc;
    }
    if (remember_dir(w, dir) < 0)
        return sl_err_errno(err, ENOMEM, "writer");
    return 0;
}

void stream_writer_discard(const char *dir, uint64_t partition, uint64_t first, uint64_t last)
{
    char tmp[4096];
    if (file_names(dir, partition, first, last, tmp, sizeof tmp, NULL, 0) == 0)
        unlink(tmp);
}

int stream_writer_sync_dirs(stream_writer *w, sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < w->ndirs; i++) {
        if (rc == 0)
            rc = stream_fsync_dir(w->dirs[i], err);
        free(w->dirs[i]);
    }
    w->ndirs = 0;
    return rc;
}

int stream_writer_remove_temps(const char *warehouse_dir, sl_err *err)
{
    DIR *wd = opendir(warehouse_dir);
    if (!wd)
        return errno == ENOENT ? 0 : sl_err_errno(err, errno, "open %s", warehouse_dir);
    int removed = 0, rc = 0;
    struct dirent *te;
    while (rc == 0 && (te = readdir(wd))) {
        if (te->d_name[0] == '.')
            continue;
        char tdir[4096];
        snprintf(tdir, sizeof tdir, "%s/%s", warehouse_dir, te->d_name);
        DIR *td = opendir(tdir);
        if (!td)
            continue;
        struct dirent *pe;
        while (rc == 0 && (pe = readdir(td))) {
            if (strncmp(pe->d_name, "dt=", 3))
                continue;
            char pdir[4096];
            if ((size_t)snprintf(pdir, sizeof pdir, "%s/%s", tdir, pe->d_name) >= sizeof pdir)
                continue;
            DIR *pd = opendir(pdir);
            if (!pd)
                continue;
            struct dirent *fe;
            while ((fe = readdir(pd))) {
                if (strncmp(fe->d_name, ".tmp-", 5))
                    continue;
                char f[4096];
                if ((size_t)snprintf(f, sizeof f, "%s/%s", pdir, fe->d_name) >= sizeof f)
                    continue;
                if (unlink(f) != 0 && errno != ENOENT) {
                    rc = sl_err_errno(err, errno, "remove %s", f);
                    break;
                }
                removed++;
            }
            closedir(pd);
        }
        closedir(td);
    }
    closedir(wd);
    return rc < 0 ? rc : removed;
}
