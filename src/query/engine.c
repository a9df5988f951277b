/* engine.c — the sandboxed DuckDB session (see engine.h for the sandbox and view rules). */
#include "query/engine.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "warehouse/catalog.h"

#define Q_SQL_MAX (64u << 20) /* generated view text: ~100k file paths */

typedef struct q_view {
    char    *name;
    uint64_t sig;  /* hash of the schema and file list the view was made from */
} q_view;

struct q_engine {
    duckdb_database   db;
    duckdb_connection con;
    bool              have_db, have_con;
    char             *data_dir;   /* absolute */
    char             *warehouse;  /* absolute, <data_dir>/warehouse */
    uint64_t          timeout_ms;
    char             *error;
    q_view           *views;
    size_t            nviews;

    /* Watchdog: armed around each execution; fires duckdb_interrupt at the deadline. */
    pthread_t         dog;
    bool              have_dog;
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    bool              armed, fired, stop;
    struct timespec   deadline;
};

static void set_error(q_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(q_engine *e, const char *fmt, ...)
{
    free(e->error);
    e->error = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&e->error, fmt, ap) < 0)
        e->error = NULL;
    va_end(ap);
}

const char *q_engine_error(const q_engine *e)
{
    return e->error ? e->error : "unknown error";
}

const char *q_engine_data_dir(const q_engine *e)
{
    return e->data_dir;
}

int q_sql_literal(sl_buf *b, const char *s)
{
    int rc = sl_buf_addc(b, '\'');
    for (; *s && !rc; s++)
        rc = *s == '\'' ? sl_buf_adds(b, "''") : sl_buf_addc(b, *s);
    return rc ? rc : sl_buf_addc(b, '\'');
}

int q_sql_ident(sl_buf *b, const char *s)
{
    int rc = sl_buf_addc(b, '"');
    for (; *s && !rc; s++)
        rc = *s == '"' ? sl_buf_adds(b, "\"\"") : sl_buf_addc(b, *s);
    return rc ? rc : sl_buf_addc(b, '"');
}

static const char *duck_type(spec_col_type t)
{
    switch (t) {
    case SPEC_COL_BIGINT: return "BIGINT";
    case SPEC_COL_DOUBLE: return "DOUBLE";
    case SPEC_COL_BOOLEAN: return "BOOLEAN";
    case SPEC_COL_TIMESTAMP: return "TIMESTAMP";
    default: return "VARCHAR";
    }
}

/* ---------------------------------------------------------------- watchdog */

static void *watchdog(void *arg)
{
    q_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        if (!e->armed) {
            pthread_cond_wait(&e->cv, &e->mu);
            continue;
        }
        int rc = pthread_cond_timedwait(&e->cv, &e->mu, &e->deadline);
        if (rc == ETIMEDOUT && e->armed) {
            duckdb_interrupt(e->con);
            e->fired = true;
            e->armed = false;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static void dog_arm(q_engine *e)
{
    if (!e->have_dog)
        return;
    pthread_mutex_lock(&e->mu);
    clock_gettime(CLOCK_MONOTONIC, &e->deadline);
    e->deadline.tv_sec += (time_t)(e->timeout_ms / 1000);
    e->deadline.tv_nsec += (long)(e->timeout_ms % 1000) * 1000000L;
    if (e->deadline.tv_nsec >= 1000000000L) {
        e->deadline.tv_sec++;
        e->deadline.tv_nsec -= 1000000000L;
    }
    e->armed = true;
    e->fired = false;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* Returns true when the watchdog interrupted the statement. */
static bool dog_disarm(q_engine *e)
{
    if (!e->have_dog)
        return false;
    pthread_mutex_lock(&e->mu);
    e->armed = false;
    bool fired = e->fired;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return fired;
}

/* ---------------------------------------------------------------- open / close */

static int setup(q_engine *e, const char *sql, sl_err *err)
{
    duckdb_result r;
    if (duckdb_query(e->con, sql, &r) == DuckDBError) {
        sl_err_set(err, -EIO, false, "sandbox setup failed (%s): %s", sql,
                   duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return -EIO;
    }
    duckdb_destroy_result(&r);
    return 0;
}

int q_engine_open(const q_engine_opts *o, q_engine **out, sl_err *err)
{
    *out = NULL;
    q_engine *e = calloc(1, sizeof *e);
    if (!e)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    e->timeout_ms = o->timeout_ms;
    int rc;
    sl_buf b;
    sl_buf_init(&b, 1 << 16);

    char real[PATH_MAX];
    if (!realpath(o->data_dir, real)) {
        rc = errno == ENOENT
                 ? sl_err_set(err, -ENOENT, false,
                              "data directory %s not found (use --data-dir or SLUICE_DATA_DIR)",
                              o->data_dir)
                 : sl_err_errno(err, errno, "data directory %s", o->data_dir);
        goto fail;
    }
    e->data_dir = strdup(real);
    if (!e->data_dir || asprintf(&e->warehouse, "%s/warehouse", real) < 0) {
        e->warehouse = NULL;
        rc = sl_err_set(err, -ENOMEM, true, "out of memory");
        goto fail;
    }

    duckdb_config cfg = NULL;
    if (duckdb_create_config(&cfg) == DuckDBError) {
        rc = sl_err_set(err, -ENOMEM, true, "duckdb: cannot create config");
        goto fail;
    }
    /* Settings that must hold before any SQL runs. */
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    char threads[24];
    if (o->threads) {
        snprintf(threads, sizeof threads, "%u", o->threads);
        duckdb_set_config(cfg, "threads", threads);
    }
    char *open_err = NULL;
    if (duckdb_open_ext(NULL, &e->db, cfg, &open_err) == DuckDBError) {
        rc = sl_err_set(err, -EIO, false, "duckdb: %s", open_err ? open_err : "open failed");
        duckdb_free(open_err);
        duckdb_destroy_config(&cfg);
        goto fail;
    }
    duckdb_destroy_config(&cfg);
    e->have_db = true;
    if (duckdb_connect(e->db, &e->con) == DuckDBError) {
        rc = sl_err_set(err, -EIO, false, "duckdb: connect failed");
        goto fail;
    }
    e->have_con = true;

    /* The sandbox. A trailing '/' makes allowed_directories a directory prefix (without
     * it "/data/warehouse-evil" would match "/data/warehouse"). */
    rc = sl_buf_adds(&b, "SET allowed_directories=[");
    sl_buf b2;
    sl_buf_init(&b2, PATH_MAX + 2);
    rc = rc ? rc : sl_buf_printf(&b2, "%s/", e->warehouse);
    rc = rc ? rc : q_sql_literal(&b, b2.p);
    sl_buf_free(&b2);
    rc = rc ? rc : sl_buf_adds(&b, "]");
    if (rc) {
        rc = sl_err_set(err, rc, false, "path too long");
        goto fail;
    }
    if ((rc = setup(e, b.p, err)))
        goto fail;
    if (o->write_path) {
        sl_buf_reset(&b);
        rc = sl_buf_adds(&b, "SET allowed_paths=[");
        rc = rc ? rc : q_sql_literal(&b, o->write_path);
        rc = rc ? rc : sl_buf_adds(&b, "]");
        if (rc) {
            rc = sl_err_set(err, rc, false, "path too long");
            goto fail;
        }
        if ((rc = setup(e, b.p, err)))
            goto fail;
    }
    /* The session's time zone is UTC, the pipeline's (received_at is UTC): a TIMESTAMP
     * WITH TIME ZONE then reads the same in SQL casts, in printed results (cell.h renders
     * them in UTC) and on every machine. */
    if ((rc = setup(e, "SET TimeZone='UTC'", err)) ||
        (rc = setup(e, "SET enable_external_access=false", err)) ||
        (rc = setup(e, "SET autoinstall_known_extensions=false", err)) ||
        (rc = setup(e, "SET autoload_known_extensions=false", err)) ||
        (rc = setup(e, "SET lock_configuration=true", err)))
        goto fail;

    if (e->timeout_ms) {
        if (pthread_create(&e->dog, NULL, watchdog, e)) {
            rc = sl_err_set(err, -EAGAIN, true, "cannot start the timeout thread");
            goto fail;
        }
        e->have_dog = true;
    }
    sl_buf_free(&b);
    *out = e;
    return 0;
fail:
    sl_buf_free(&b);
    q_engine_close(e);
    return rc;
}

void q_engine_close(q_engine *e)
{
    if (!e)
        return;
    if (e->have_dog) {
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->dog, NULL);
    }
    if (e->have_con)
        duckdb_disconnect(&e->con);
    if (e->have_db)
        duckdb_close(&e->db);
    for (size_t i = 0; i < e->nviews; i++)
        free(e->views[i].name);
    free(e->views);
    free(e->data_dir);
    free(e->warehouse);
    free(e->error);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* ---------------------------------------------------------------- files and views */

void q_files_free(q_file *files, size_t n)
{
    if (!files)
        return;
    for (size_t i = 0; i < n; i++)
        free(files[i].path);
    free(files);
}

int q_table_files(const char *abs_data_dir, const char *location, q_file **files, size_t *n,
                  sl_err *err)
{
    *files = NULL;
    *n = 0;
    char pattern[PATH_MAX + 32];
    int len = location[0] == '/'
                  ? snprintf(pattern, sizeof pattern, "%s", location)
                  : snprintf(pattern, sizeof pattern, "%s/%s", abs_data_dir, location);
    if (len < 0 || (size_t)len >= sizeof pattern - 20)
        return sl_err_set(err, -ENAMETOOLONG, false, "table location too long: %s", location);
    /* glob's metacharacters in the location itself are escaped so they match literally. */
    char esc[2 * sizeof pattern];
    size_t k = 0;
    for (const char *c = pattern; *c; c++) {
        if (strchr("*?[\\", *c))
            esc[k++] = '\\';
        esc[k++] = *c;
    }
    snprintf(esc + k, sizeof esc - k, "/*/*.parquet");
    glob_t g;
    /* Without GLOB_PERIOD, names starting with '.' (a writer's temporary files) are not
     * matched; the result is sorted. */
    int rc = glob(esc, 0, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc)
        return sl_err_set(err, -EIO, false, "listing %s failed", pattern);
    q_file *f = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *f);
    if (!f) {
        globfree(&g);
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) || !S_ISREG(st.st_mode))
            continue; /* vanished (compaction) or not a file */
        if (!(f[m].path = strdup(g.gl_pathv[i]))) {
            q_files_free(f, m);
            globfree(&g);
            return sl_err_set(err, -ENOMEM, true, "out of memory");
        }
        f[m].size = (uint64_t)st.st_size;
        f[m].mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        m++;
    }
    globfree(&g);
    *files = f;
    *n = m;
    return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* DuckDB's parser errors carry their "LINE n: ... ^" block twice; keep one. */
static void set_duck_error(q_engine *e, const char *msg)
{
    set_error(e, "%s", msg ? msg : "unknown error");
    char *first = e->error ? strstr(e->error, "\n\nLINE ") : NULL;
    if (!first)
        return;
    char *second = strstr(first + 1, "\n\nLINE ");
    if (second && !strncmp(first, second, strlen(second)))
        *second = '\0';
}

static int run_sql(q_engine *e, const char *sql)
{
    duckdb_result r;
    int rc = 0;
    if (duckdb_query(e->con, sql, &r) == DuckDBError) {
        set_duck_error(e, duckdb_result_error(&r));
        rc = -1;
    }
    duckdb_destroy_result(&r);
    return rc;
}

static q_view *find_view(q_engine *e, const char *name)
{
    for (size_t i = 0; i < e->nviews; i++)
        if (!strcmp(e->views[i].name, name))
            return &e->views[i];
    return NULL;
}

/* The i-th column of a table's full schema: its columns, then its partition columns. */
static const wh_column *table_col(const wh_table *t, size_t i)
{
    return i < t->ncols ? &t->cols[i] : &t->part_cols[i - t->ncols];
}

/* "CAST(NULL AS <type>) AS <name>, ..." for every catalog column. */
static int typed_nulls(const wh_table *t, sl_buf *b)
{
    int rc = 0;
    for (size_t i = 0; i < t->ncols + t->npart_cols && !rc; i++) {
        const wh_column *c = table_col(t, i);
        rc = sl_buf_printf(b, "%sCAST(NULL AS %s) AS ", i ? ", " : "", duck_type(c->type));
        rc = rc ? rc : q_sql_ident(b, c->name);
    }
    return rc;
}

/* Builds the CREATE VIEW text for one table. The view's columns are exactly the catalog's,
 * in its order and with its types, whatever the files hold: a column the catalog declares
 * but no file has yet (a table created with columns, a schema version whose first file is
 * not written yet) must still be selectable, and `describe` must match `sluice ddl`.
 * So the files are read with union_by_name (a file lacking a column gives NULL), and that
 * relation is put UNION ALL BY NAME under an empty relation of the catalog's typed NULL
 * columns, which supplies the columns no file has; the outer list drops file columns the
 * catalog does not know and fixes the order. DuckDB's optimizer removes the empty branch,
 * so filters and projections still reach the Parquet reader. */
static int view_sql(const wh_table *t, const q_file *files, size_t n, sl_buf *b)
{
    int rc = sl_buf_adds(b, "CREATE OR REPLACE VIEW ");
    rc = rc ? rc : q_sql_ident(b, t->name);
    rc = rc ? rc : sl_buf_adds(b, " AS SELECT ");
    if (t->ncols + t->npart_cols == 0)
        return rc ? rc : sl_buf_adds(b, "NULL AS nothing WHERE false");
    if (!n) { /* no file yet: an empty relation with the catalog's columns */
        rc = rc ? rc : typed_nulls(t, b);
        return rc ? rc : sl_buf_adds(b, " WHERE false");
    }
    for (size_t i = 0; i < t->ncols + t->npart_cols && !rc; i++) {
        rc = i ? sl_buf_adds(b, ", ") : 0;
        rc = rc ? rc : q_sql_ident(b, table_col(t, i)->name);
    }
    rc = rc ? rc : sl_buf_adds(b, " FROM (SELECT ");
    rc = rc ? rc : typed_nulls(t, b);
    rc = rc ? rc : sl_buf_adds(b, " WHERE false UNION ALL BY NAME SELECT * FROM read_parquet([");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = i ? sl_buf_adds(b, ", ") : 0;
        rc = rc ? rc : q_sql_literal(b, files[i].path);
    }
    rc = rc ? rc : sl_buf_printf(b, "], union_by_name=true, hive_partitioning=%s",
                                 t->npart_cols ? "true" : "false");
    if (t->npart_cols) {
        rc = rc ? rc : sl_buf_adds(b, ", hive_types={");
        for (size_t i = 0; i < t->npart_cols && !rc; i++) {
            rc = i ? sl_buf_adds(b, ", ") : 0;
            rc = rc ? rc : q_sql_literal(b, t->part_cols[i].name);
            rc = rc ? rc : sl_buf_printf(b, ": %s", duck_type(t->part_cols[i].type));
        }
        rc = rc ? rc : sl_buf_adds(b, "}");
    }
    return rc ? rc : sl_buf_adds(b, "))");
}

int q_engine_refresh(q_engine *e, sl_err *err)
{
    wh_table **list = NULL;
    size_t n = 0;
    int rc = wh_catalog_list(e->data_dir, &list, &n, err);
    if (rc)
        return rc;
    int first_rc = 0;
    sl_buf b;
    sl_buf_init(&b, Q_SQL_MAX);

    /* Views of tables that left the catalog go away. */
    for (size_t i = 0; i < e->nviews;) {
        bool keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = !strcmp(list[j]->name, e->views[i].name);
        if (keep) {
            i++;
            continue;
        }
        sl_buf_reset(&b);
        if (!sl_buf_adds(&b, "DROP VIEW IF EXISTS ") && !q_sql_ident(&b, e->views[i].name))
            run_sql(e, b.p);
        free(e->views[i].name);
        e->views[i] = e->views[--e->nviews];
    }

    for (size_t i = 0; i < n; i++) {
        const wh_table *t = list[i];
        q_file *files = NULL;
        size_t nf = 0;
        sl_err ferr = {0};
        if (q_table_files(e->data_dir, t->location, &files, &nf, &ferr)) {
            if (!first_rc)
                first_rc = sl_err_set(err, ferr.code, false, "table %s: %s", t->name, ferr.msg);
            continue;
        }
        uint64_t sig = 14695981039346656037ull;
        sig = fnv(sig, &t->schema_version, sizeof t->schema_version);
        for (size_t c = 0; c < t->ncols + t->npart_cols; c++) {
            const wh_column *col = table_col(t, c);
            sig = fnv(sig, col->name, strlen(col->name) + 1);
            sig = fnv(sig, &col->type, sizeof col->type);
        }
        for (size_t f = 0; f < nf; f++) {
            sig = fnv(sig, files[f].path, strlen(files[f].path) + 1);
            sig = fnv(sig, &files[f].size, sizeof files[f].size);
            sig = fnv(sig, &files[f].mtime_ms, sizeof files[f].mtime_ms);
        }
        q_view *v = find_view(e, t->name);
        if (v && v->sig == sig) {
            q_files_free(files, nf);
            continue;
        }
        sl_buf_reset(&b);
        int brc = view_sql(t, files, nf, &b);
        q_files_free(files, nf);
        if (brc) {
            if (!first_rc)
                first_rc = sl_err_set(err, brc, false, "table %s: too many files for a view",
                                      t->name);
            continue;
        }
        if (run_sql(e, b.p)) {
            if (!first_rc)
                first_rc = sl_err_set(err, -EIO, false, "table %s: %s", t->name,
                                      q_engine_error(e));
            continue;
        }
        if (!v) {
            q_view *nv = realloc(e->views, (e->nviews + 1) * sizeof *nv);
            char *nm = strdup(t->name);
            if (!nv || !nm) {
                free(nm);
                if (nv)
                    e->views = nv;
                first_rc = sl_err_set(err, -ENOMEM, true, "out of memory");
                continue;
            }
            e->views = nv;
            v = &e->views[e->nviews++];
            v->name = nm;
        }
        v->sig = sig;
    }
    sl_buf_free(&b);
    wh_catalog_free_list(list, n);
    return first_rc;
}

/* ---------------------------------------------------------------- statements */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static const char *stmt_type_name(duckdb_statement_type t)
{
    switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "SET VARIABLE";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD/INSTALL";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    default: return "this kind of";
    }
}

/* Executes a prepared statement under the watchdog. */
static int execute(q_engine *e, duckdb_prepared_statement ps, duckdb_result *res)
{
    dog_arm(e);
    duckdb_state st = duckdb_execute_prepared(ps, res);
    bool fired = dog_disarm(e);
    if (st == DuckDBError) {
        if (fired)
            set_error(e, "Interrupted: the statement ran longer than the %.3g s timeout "
                         "(--timeout)", (double)e->timeout_ms / 1000.0);
        else
            set_duck_error(e, duckdb_result_error(res));
        duckdb_destroy_result(res);
        return -1;
    }
    return 0;
}

int q_engine_exec(q_engine *e, const char *sql, duckdb_result *res)
{
    duckdb_prepared_statement ps = NULL;
    if (duckdb_prepare(e->con, sql, &ps) == DuckDBError) {
        set_duck_error(e, duckdb_prepare_error(ps));
        duckdb_destroy_prepare(&ps);
        return -1;
    }
    int rc = execute(e, ps, res);
    duckdb_destroy_prepare(&ps);
    return rc;
}

/* Case-insensitive match of the next word; advances *s past it and following space. */
static bool word(const char **s, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(*s, w, n) || (isalnum((unsigned char)(*s)[n]) || (*s)[n] == '_'))
        return false;
    *s += n;
    while (isspace((unsigned char)**s))
        (*s)++;
    return true;
}

/* The statement without surrounding space and trailing ';'s, malloc'd. */
static char *trimmed(const char *sql)
{
    while (isspace((unsigned char)*sql))
        sql++;
    size_t n = strlen(sql);
    while (n && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
        n--;
    return strndup(sql, n);
}

/* `show tables` and `describe <catalog table>` are answered from the catalog, in the same
 * result shape as any query. Returns 1 when sql was one of them (then res and rc are set), 0 if not. */
static int meta(q_engine *e, const char *sql, duckdb_result *res, int *rc)
{
    char *s0 = trimmed(sql);
    if (!s0) {
        set_error(e, "out of memory");
        *rc = -1;
        return 1;
    }
    const char *s = s0;
    sl_buf b;
    sl_buf_init(&b, 1 << 20);
    int handled = 0;
    if (word(&s, "show") && word(&s, "tables") && !*s) {
        handled = 1;
        sl_buf_adds(&b, "SELECT name AS \"table\" FROM (VALUES (NULL::VARCHAR)");
        for (size_t i = 0; i < e->nviews; i++) {
            sl_buf_adds(&b, ", (");
            q_sql_literal(&b, e->views[i].name);
            sl_buf_adds(&b, ")");
        }
        sl_buf_adds(&b, ") v(name) WHERE name IS NOT NULL ORDER BY name");
    } else if ((s = s0, word(&s, "describe") || word(&s, "desc"))) {
        char name[80];
        size_t n = strlen(s);
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
            s++;
            n -= 2;
        }
        if (n && n < sizeof name) {
            memcpy(name, s, n);
            name[n] = '\0';
            for (char *c = name; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        } else {
            name[0] = '\0';
        }
        wh_table *t = NULL;
        sl_err err = {0};
        if (name[0] && find_view(e, name) && !wh_catalog_read(e->data_dir, name, &t, &err)) {
            handled = 1;
            sl_buf_adds(&b, "SELECT column_name AS \"column\", lower(column_type) AS \"type\", "
                            "column_name IN (''");
            for (size_t i = 0; i < t->npart_cols; i++) {
                sl_buf_adds(&b, ", ");
                q_sql_literal(&b, t->part_cols[i].name);
            }
            sl_buf_adds(&b, ") AS \"partition\" FROM (DESCRIBE ");
            q_sql_ident(&b, name);
            sl_buf_adds(&b, ")");
            wh_table_free(t);
        }
        /* anything else (DESCRIBE SELECT ..., an unknown name) goes to DuckDB as it is */
    }
    free(s0);
    if (handled)
        *rc = q_engine_exec(e, b.p, res);
    sl_buf_free(&b);
    return handled;
}

/* DuckDB binds a statement while preparing it, and binding some statements already acts
 * (EXPORT DATABASE creates its folder). So statements whose first keyword is one of those
 * that write or change the session are refused before prepare; after prepare, DuckDB's
 * own statement type must be SELECT or EXPLAIN (the real allowlist). A misspelt keyword
 * goes on to DuckDB's parser, which reports the syntax error with its position.
 * Returns the offending keyword (upper case, in word_out) or NULL. */
static const char *first_keyword_denied(const char *sql, char *word_out, size_t cap)
{
    static const char *const denied[] = {
        "copy", "export", "import", "attach", "detach", "install", "load", "force", "set",
        "reset", "pragma", "create", "insert", "update", "delete", "drop", "alter", "call",
        "checkpoint", "vacuum", "begin", "commit", "rollback", "abort", "start", "end",
        "use", "prepare", "execute", "deallocate", "analyze", "truncate", "merge", "replace",
        "update_extensions", "upsert"};
    const char *p = sql;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == '(')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p = strchr(p, '\n');
            if (!p)
                return NULL;
            continue;
        }
        if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end)
                return NULL;
            p = end + 2;
            continue;
        }
        break;
    }
    size_t n = 0;
    while (n + 1 < cap && (isalpha((unsigned char)p[n]) || p[n] == '_')) {
        word_out[n] = (char)tolower((unsigned char)p[n]);
        n++;
    }
    word_out[n] = '\0';
    if (!n)
        return NULL; /* not a keyword: let DuckDB's parser report it */
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        if (!strcmp(word_out, denied[i])) {
            for (char *c = word_out; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            return word_out;
        }
    }
    return NULL;
}

int q_engine_query(q_engine *e, const char *sql, duckdb_result *res, double *elapsed_ms)
{
    double t0 = now_ms();
    int rc = 0;
    sl_err err = {0};
    if (q_engine_refresh(e, &err))
        fprintf(stderr, "warning: %s\n", err.msg);
    if (meta(e, sql, res, &rc)) {
        *elapsed_ms = now_ms() - t0;
        return rc;
    }
    duckdb_prepared_statement ps = NULL;
    char kw[32];
    const char *denied = first_keyword_denied(sql, kw, sizeof kw);
    if (denied) {
        set_error(e, "Permission Error: %s statements are not allowed: sluice sql is "
                     "read-only and may only read the warehouse (SELECT, EXPLAIN, "
                     "show tables, describe)", denied);
        rc = -1;
        goto out;
    }
    if (duckdb_prepare(e->con, sql, &ps) == DuckDBError) {
        set_duck_error(e, duckdb_prepare_error(ps));
        rc = -1;
        goto out;
    }
    duckdb_statement_type type = duckdb_prepared_statement_type(ps);
    if (type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_EXPLAIN) {
        set_error(e, "Permission Error: %s statements are not allowed: sluice sql is "
                     "read-only and may only read the warehouse (SELECT, EXPLAIN, "
                     "show tables, describe)", stmt_type_name(type));
        rc = -1;
        goto out;
    }
    rc = execute(e, ps, res);
out:
    duckdb_destroy_prepare(&ps);
    *elapsed_ms = now_ms() - t0;
    return rc;
}

int q_engine_check_select(q_engine *e, const char *sql)
{
    duckdb_prepared_statement ps = NULL;
    int rc = 0;
    if (duckdb_prepare(e->con, sql, &ps) == DuckDBError) {
        set_duck_error(e, duckdb_prepare_error(ps));
        rc = -1;
    } else if (duckdb_prepared_statement_type(ps) != DUCKDB_STATEMENT_TYPE_SELECT) {
        set_error(e, "Permission Error: only a SELECT is allowed here");
        rc = -1;
    }
    duckdb_destroy_prepare(&ps);
    return rc;
}
