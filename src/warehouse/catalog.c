/* catalog.c — the table catalog files, <data dir>/catalog/<table>.json (format in catalog.h).
 *
 * Writing: the JSON text is built in memory, written to a hidden temporary file in the same
 * folder (".<table>.json.tmp.<pid>"), fsynced, renamed over the old file and the folder is
 * fsynced, so a reader sees either the old or the new schema, never a torn file, and a
 * crash never leaves a half-written catalog entry under the real name.
 *
 * Reading: the whole file (capped at WH_CATALOG_MAX_BYTES) is validated with the strict
 * JSON validator and its members are walked without building a tree. Unknown members are
 * ignored so that a newer writer's extra fields do not break an older reader; missing
 * optional members get their defaults (format "parquet", location "warehouse/<name>", no
 * partition columns, schema_version 1).
 *
 * Several writers: stream processes of one Kafka consumer group may share a data dir, and
 * each infers columns from its own partitions. wh_catalog_write() therefore holds an
 * exclusive flock() on catalog/.<table>.json.lock (kept, never removed: removing it would
 * let two writers lock two different files), reads the file again under it and merges by
 * column name: the file's columns keep their order, the writer's type wins for a column
 * both have (a retyped spec column), the writer's new columns are appended. A column is
 * never dropped (old files still hold it; readers show NULL where a file lacks it).
 * schema_version is one more than the file's (or the writer's, if higher) when anything
 * changed; a write that changes nothing leaves the file alone. flock works across
 * processes and threads (each call opens the lock file) and on NFS (Linux emulates it with
 * a POSIX lock).
 *
 * Thread safety: every function is reentrant.
 */
#include "warehouse/catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/json.h"

#define WH_CATALOG_MAX_BYTES (1u << 20) /* one table's schema; thousands of columns fit */
#define WH_NAME_MAX 64
#define WH_MAX_COLS 4096

/* The catalog's own type names; the same spelling as spec_col_type_name(), kept here so
 * the catalog does not depend on the spec loader being linked. */
static const char *const wh_type_names[] = {
    [SPEC_COL_VARCHAR] = "varchar",   [SPEC_COL_BIGINT] = "bigint",
    [SPEC_COL_DOUBLE] = "double",     [SPEC_COL_BOOLEAN] = "boolean",
    [SPEC_COL_TIMESTAMP] = "timestamp",
};

static const char *type_name(spec_col_type t)
{
    if ((unsigned)t < sizeof wh_type_names / sizeof wh_type_names[0])
        return wh_type_names[t];
    return NULL;
}

static int type_parse(const char *s, spec_col_type *out)
{
    for (size_t i = 0; i < sizeof wh_type_names / sizeof wh_type_names[0]; i++) {
        if (!strcmp(s, wh_type_names[i])) {
            *out = (spec_col_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* [a-z_][a-z0-9_]{0,63}: safe as a file name, and as an SQL identifier once quoted. */
static int valid_ident(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (const char *c = s; *c; c++, n++) {
        if (n >= WH_NAME_MAX)
            return 0;
        if (*c == '_' || (*c >= 'a' && *c <= 'z'))
            continue;
        if (c != s && *c >= '0' && *c <= '9')
            continue;
        return 0;
    }
    return 1;
}

static void now_rfc3339(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* ---------------------------------------------------------------- writing */

static int add_json_str(sl_buf *b, const char *s)
{
    size_t n = strlen(s);
    size_t need = json_escaped_len(s, n);
    int rc = sl_buf_reserve(b, need);
    if (rc)
        return rc;
    b->len += json_escape(s, n, b->p + b->len);
    b->p[b->len] = '\0';
    return 0;
}

static int add_cols(sl_buf *b, const char *key, const wh_column *cols, size_t n,
                    const char *table, sl_err *err)
{
    int rc = sl_buf_printf(b, "  \"%s\": [", key);
    for (size_t i = 0; i < n && !rc; i++) {
        const char *tn = type_name(cols[i].type);
        if (!valid_ident(cols[i].name))
            return sl_err_set(err, -EINVAL, false, "catalog %s: invalid column name \"%s\"",
                              table, cols[i].name ? cols[i].name : "(null)");
        if (!tn)
            return sl_err_set(err, -EINVAL, false, "catalog %s: column %s has no valid type",
                              table, cols[i].name);
        rc = sl_buf_printf(b, "%s\n    {\"name\": \"%s\", \"type\": \"%s\"}", i ? "," : "",
                           cols[i].name, tn);
    }
    if (!rc)
        rc = sl_buf_adds(b, n ? "\n  ],\n" : "],\n");
    if (rc)
        return sl_err_set(err, rc, false, "catalog %s: schema too large", table);
    return 0;
}

static int mkdir_p(const char *path, sl_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return sl_err_set(err, -ENAMETOOLONG, false, "path too long: %s", path);
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return sl_err_errno(err, errno, "mkdir %s", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return sl_err_errno(err, errno, "mkdir %s", tmp);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int check_cols(const wh_column *cols, size_t n, const char *table, sl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!valid_ident(cols[i].name))
            return sl_err_set(err, -EINVAL, false, "catalog %s: invalid column name \"%s\"",
                              table, cols[i].name ? cols[i].name : "(null)");
        if (!type_name(cols[i].type))
            return sl_err_set(err, -EINVAL, false, "catalog %s: column %s has no valid type",
                              table, cols[i].name);
    }
    return 0;
}

static int render(const wh_table *t, const char *now, sl_buf *b, sl_err *err)
{
    char defloc[WH_NAME_MAX + 16];
    snprintf(defloc, sizeof defloc, "warehouse/%s", t->name);
    int rc = sl_buf_printf(b, "{\n  \"name\": \"%s\",\n  \"format\": ", t->name);
    rc = rc ? rc : add_json_str(b, t->format && *t->format ? t->format : "parquet");
    rc = rc ? rc : sl_buf_adds(b, ",\n  \"location\": ");
    rc = rc ? rc : add_json_str(b, t->location && *t->location ? t->location : defloc);
    rc = rc ? rc : sl_buf_adds(b, ",\n");
    if (rc)
        return sl_err_set(err, rc, false, "catalog %s: out of memory", t->name);
    if ((rc = add_cols(b, "partition_columns", t->part_cols, t->npart_cols, t->name, err)))
        return rc;
    if ((rc = add_cols(b, "columns", t->cols, t->ncols, t->name, err)))
        return rc;
    rc = sl_buf_printf(b, "  \"schema_version\": %d,\n  \"created_at\": ",
                       t->schema_version > 0 ? t->schema_version : 1);
    rc = rc ? rc : add_json_str(b, t->created_at ? t->created_at : now);
    rc = rc ? rc : sl_buf_adds(b, ",\n  \"updated_at\": ");
    rc = rc ? rc : add_json_str(b, t->updated_at ? t->updated_at : now);
    rc = rc ? rc : sl_buf_adds(b, "\n}\n");
    if (rc)
        return sl_err_set(err, rc, false, "catalog %s: schema too large", t->name);
    return 0;
}

static bool same_cols(const wh_column *a, size_t na, const wh_column *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || a[i].type != b[i].type)
            return false;
    return true;
}

static const wh_column *find_col(const wh_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cols[i].name, name))
            return &cols[i];
    return NULL;
}

/* The table to write when the file already holds old: old's columns in their order (with
 * t's type where t has the column too), then t's columns old lacks, in t's order. m
 * borrows from both; m->cols is allocated (free it). *changed: the file must be
 * rewritten. */
static int merge(const wh_table *old, const wh_table *t, wh_table *m, bool *changed,
                 sl_err *err)
{
    *m = *t;
    m->cols = calloc(old->ncols + t->ncols + 1, sizeof *m->cols);
    if (!m->cols)
        return sl_err_set(err, -ENOMEM, true, "catalog %s: out of memory", t->name);
    size_t n = 0;
    for (size_t i = 0; i < old->ncols; i++) {
        const wh_column *w = find_col(t->cols, t->ncols, old->cols[i].name);
        m->cols[n++] = w ? *w : old->cols[i];
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (!find_col(old->cols, old->ncols, t->cols[i].name))
            m->cols[n++] = t->cols[i];
    m->ncols = n;
    char defloc[WH_NAME_MAX + 16];
    snprintf(defloc, sizeof defloc, "warehouse/%s", t->name);
    const char *fmt = t->format && *t->format ? t->format : "parquet";
    const char *loc = t->location && *t->location ? t->location : defloc;
    *changed = !same_cols(m->cols, m->ncols, old->cols, old->ncols) ||
               !same_cols(t->part_cols, t->npart_cols, old->part_cols, old->npart_cols) ||
               strcmp(fmt, old->format) || strcmp(loc, old->location);
    /* the version counts changes of the file: one more than the file's, or the writer's
     * if that is higher */
    m->schema_version = old->schema_version + 1 > t->schema_version ? old->schema_version + 1
                                                                     : t->schema_version;
    m->created_at = old->created_at;
    return 0;
}

static int lock_table(const char *dir, const char *name, sl_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.%s.json.lock", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_err_errno(err, errno, "open %s", path);
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return sl_err_errno(err, e, "flock %s", path);
    }
    return fd;
}

int wh_catalog_write(const char *data_dir, const wh_table *t, sl_err *err)
{
    if (!t || !valid_ident(t->name))
        return sl_err_set(err, -EINVAL, false, "catalog: invalid table name \"%s\"",
                          t && t->name ? t->name : "(null)");
    int rc = check_cols(t->cols, t->ncols, t->name, err);
    if (rc == 0)
        rc = check_cols(t->part_cols, t->npart_cols, t->name, err);
    if (rc)
        return rc;
    sl_buf b;
    sl_buf_init(&b, WH_CATALOG_MAX_BYTES);
    char now[32], dir[4096], tmp[4160], path[4160];
    int fd = -1, lock_fd = -1;
    wh_table *old = NULL, merged;
    const wh_table *out = t;
    bool changed = true;
    memset(&merged, 0, sizeof merged);
    now_rfc3339(now);

    if (snprintf(dir, sizeof dir, "%s/catalog", data_dir) >= (int)sizeof dir) {
        rc = sl_err_set(err, -ENAMETOOLONG, false, "data dir path too long: %s", data_dir);
        goto fail;
    }
    if ((rc = mkdir_p(dir, err)))
        goto fail;
    /* Several processes may write one table (stream processes of a Kafka group in one
     * data dir, each inferring columns from its own partitions): under the table's lock,
     * the file is read again and the columns merged, so no writer drops another's. */
    if ((lock_fd = lock_table(dir, t->name, err)) < 0) {
        rc = lock_fd;
        goto fail;
    }
    rc = wh_catalog_read(data_dir, t->name, &old, err);
    if (rc == 0) {
        if ((rc = merge(old, t, &merged, &changed, err)))
            goto fail;
        out = &merged;
    } else if (rc != -ENOENT) {
        goto fail;
    }
    rc = 0;
    if (!changed)   /* another writer already wrote these columns */
        goto done;
    if ((rc = render(out, now, &b, err)))
        goto fail;
    snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp.%ld", dir, t->name, (long)getpid());
    snprintf(path, sizeof path, "%s/%s.json", dir, t->name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = sl_err_errno(err, errno, "create %s", tmp);
        goto fail;
    }
    if ((rc = write_all(fd, b.p, b.len))) {
        rc = sl_err_errno(err, -rc, "write %s", tmp);
        goto fail_unlink;
    }
    if (fsync(fd)) {
        rc = sl_err_errno(err, errno, "fsync %s", tmp);
        goto fail_unlink;
    }
    if (close(fd)) {
        fd = -1;
        rc = sl_err_errno(err, errno, "close %s", tmp);
        goto fail_unlink;
    }
    fd = -1;
    if (rename(tmp, path)) {
        rc = sl_err_errno(err, errno, "rename %s to %s", tmp, path);
        goto fail_unlink;
    }
    /* The rename is durable only once the directory entry is on disk. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd)) {
        rc = sl_err_errno(err, errno, "fsync %s", dir);
        if (dfd >= 0)
            close(dfd);
        goto fail;
    }
    close(dfd);
done:
    free(merged.cols);
    wh_table_free(old);
    close(lock_fd);   /* releases the lock */
    sl_buf_free(&b);
    return 0;

fail_unlink:
    unlink(tmp);
fail:
    if (fd >= 0)
        close(fd);
    if (lock_fd >= 0)
        close(lock_fd);
    free(merged.cols);
    wh_table_free(old);
    sl_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* A decoded copy of a JSON string token (NUL-terminated), or NULL on allocation failure. */
static char *str_dup(json_span s)
{
    char *out = malloc(s.len);
    if (!out)
        return NULL;
    size_t n = json_str_decode(s, out);
    out[n] = '\0';
    return out;
}

static int parse_cols(const char *file, const char *key, json_member *arr, wh_column **out,
                      size_t *nout, sl_err *err)
{
    if (arr->type != JSON_ARRAY)
        return sl_err_set(err, -EINVAL, false, "%s: \"%s\" must be an array", file, key);
    json_iter it;
    json_member el;
    size_t n = 0;
    json_iter_init(&it, arr->value.p, arr->value.len);
    while (json_iter_next(&it, &el))
        n++;
    if (n > WH_MAX_COLS)
        return sl_err_set(err, -EINVAL, false, "%s: more than %d %s", file, WH_MAX_COLS, key);
    wh_column *cols = calloc(n ? n : 1, sizeof *cols);
    if (!cols)
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", file);
    *out = cols;
    *nout = 0;
    json_iter_init(&it, arr->value.p, arr->value.len);
    while (json_iter_next(&it, &el)) {
        size_t i = (*nout)++;
        if (el.type != JSON_OBJECT)
            return sl_err_set(err, -EINVAL, false, "%s: %s[%zu] must be an object", file, key,
                              i);
        json_iter mi;
        json_member m;
        char *type = NULL;
        json_iter_init(&mi, el.value.p, el.value.len);
        while (json_iter_next(&mi, &m)) {
            if (m.type != JSON_STRING)
                continue;
            if (json_str_eq(m.key, "name", 4) && !cols[i].name) {
                cols[i].name = str_dup(m.value);
                if (!cols[i].name)
                    goto oom;
            } else if (json_str_eq(m.key, "type", 4) && !type) {
                type = str_dup(m.value);
                if (!type)
                    goto oom;
            }
        }
        int bad_name = !valid_ident(cols[i].name);
        int bad_type = !type || type_parse(type, &cols[i].type);
        int rc = 0;
        if (bad_name)
            rc = sl_err_set(err, -EINVAL, false, "%s: %s[%zu]: invalid or missing column name",
                            file, key, i);
        else if (bad_type)
            rc = sl_err_set(err, -EINVAL, false,
                            "%s: column %s: unknown type \"%s\" (varchar, bigint, double, "
                            "boolean, timestamp)",
                            file, cols[i].name, type ? type : "");
        free(type);
        if (rc)
            return rc;
        continue;
    oom:
        free(type);
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", file);
    }
    return 0;
}

/* Parses one catalog file's text. expect_name, when not NULL, must equal the "name" member
 * (the file name and the content must agree). */
static int parse_table(const char *file, const char *text, size_t len, const char *expect_name,
                       wh_table **out, sl_err *err)
{
    json_type type;
    json_error je;
    if (json_validate_whole(text, len, JSON_DEFAULT_MAX_DEPTH, &type, &je))
        return sl_err_set(err, -EINVAL, false, "%s: byte %zu: %s", file, je.pos, je.what);
    if (type != JSON_OBJECT)
        return sl_err_set(err, -EINVAL, false, "%s: not a JSON object", file);
    wh_table *t = calloc(1, sizeof *t);
    if (!t)
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", file);
    int rc = 0, have_cols = 0;
    json_iter it;
    json_member m;
    json_iter_init(&it, text, len);
    while (json_iter_next(&it, &m) && !rc) {
        char **dst = NULL;
        if (json_str_eq(m.key, "name", 4))
            dst = &t->name;
        else if (json_str_eq(m.key, "format", 6))
            dst = &t->format;
        else if (json_str_eq(m.key, "location", 8))
            dst = &t->location;
        else if (json_str_eq(m.key, "created_at", 10))
            dst = &t->created_at;
        else if (json_str_eq(m.key, "updated_at", 10))
            dst = &t->updated_at;
        if (dst) {
            if (m.type != JSON_STRING) {
                rc = sl_err_set(err, -EINVAL, false, "%s: a member is not a string where one "
                                "is expected", file);
                break;
            }
            free(*dst);
            if (!(*dst = str_dup(m.value)))
                rc = sl_err_set(err, -ENOMEM, true, "%s: out of memory", file);
        } else if (json_str_eq(m.key, "columns", 7)) {
            if (have_cols++) {
                rc = sl_err_set(err, -EINVAL, false, "%s: \"columns\" given twice", file);
                break;
            }
            rc = parse_cols(file, "columns", &m, &t->cols, &t->ncols, err);
        } else if (json_str_eq(m.key, "partition_columns", 17)) {
            if (t->part_cols) {
                rc = sl_err_set(err, -EINVAL, false, "%s: \"partition_columns\" given twice",
                                file);
                break;
            }
            rc = parse_cols(file, "partition_columns", &m, &t->part_cols, &t->npart_cols, err);
        } else if (json_str_eq(m.key, "schema_version", 14)) {
            int64_t v;
            if (m.type != JSON_NUMBER || !json_num_to_i64(m.value, &v) || v < 1 ||
                v > INT32_MAX)
                rc = sl_err_set(err, -EINVAL, false,
                                "%s: \"schema_version\" must be a positive integer", file);
            else
                t->schema_version = (int)v;
        }
    }
    if (rc)
        goto fail;
    if (!valid_ident(t->name)) {
        rc = sl_err_set(err, -EINVAL, false, "%s: missing or invalid \"name\" ([a-z_][a-z0-9_]*)",
                        file);
        goto fail;
    }
    if (expect_name && strcmp(expect_name, t->name)) {
        rc = sl_err_set(err, -EINVAL, false, "%s: \"name\" is \"%s\", the file name says \"%s\"",
                        file, t->name, expect_name);
        goto fail;
    }
    if (!have_cols) {
        rc = sl_err_set(err, -EINVAL, false, "%s: missing \"columns\"", file);
        goto fail;
    }
    if (!t->format && !(t->format = strdup("parquet")))
        goto oom;
    if (!t->location) {
        size_t n = strlen(t->name) + 16;
        if (!(t->location = malloc(n)))
            goto oom;
        snprintf(t->location, n, "warehouse/%s", t->name);
    }
    if (!t->schema_version)
        t->schema_version = 1;
    *out = t;
    return 0;
oom:
    rc = sl_err_set(err, -ENOMEM, true, "%s: out of memory", file);
fail:
    wh_table_free(t);
    return rc;
}

static int read_file(const char *path, char **text, size_t *len, sl_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ENOENT : sl_err_errno(err, errno, "open %s", path);
    sl_buf b;
    sl_buf_init(&b, WH_CATALOG_MAX_BYTES);
    int rc = 0;
    for (;;) {
        if ((rc = sl_buf_reserve(&b, 8192))) {
            rc = sl_err_set(err, rc, false, "%s: larger than %u bytes", path,
                            WH_CATALOG_MAX_BYTES);
            break;
        }
        ssize_t r = read(fd, b.p + b.len, b.cap - b.len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = sl_err_errno(err, errno, "read %s", path);
            break;
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.p[b.len] = '\0';
    }
    close(fd);
    if (rc) {
        sl_buf_free(&b);
        return rc;
    }
    *text = b.p;
    *len = b.len;
    return 0;
}

int wh_catalog_read(const char *data_dir, const char *name, wh_table **out, sl_err *err)
{
    if (!valid_ident(name))
        return sl_err_set(err, -EINVAL, false, "invalid table name \"%s\" ([a-z_][a-z0-9_]*)",
                          name ? name : "(null)");
    char path[4200];
    snprintf(path, sizeof path, "%s/catalog/%s.json", data_dir, name);
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err);
    if (rc == -ENOENT)
        return sl_err_set(err, -ENOENT, false, "no table \"%s\" in %s/catalog", name, data_dir);
    if (rc)
        return rc;
    rc = parse_table(path, text, len, name, out, err);
    free(text);
    return rc;
}

static int cmp_table(const void *a, const void *b)
{
    const wh_table *x = *(wh_table *const *)a, *y = *(wh_table *const *)b;
    return strcmp(x->name, y->name);
}

int wh_catalog_list(const char *data_dir, wh_table ***out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/catalog", data_dir);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) /* no table written yet: an empty catalog */
            return 0;
        return sl_err_errno(err, errno, "open %s", dir);
    }
    wh_table **list = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        /* Hidden names are temporary files of a writer in the middle of a replace. */
        if (nm[0] == '.' || l <= 5 || strcmp(nm + l - 5, ".json"))
            continue;
        char name[WH_NAME_MAX + 8];
        if (l - 5 >= sizeof name)
            continue;
        memcpy(name, nm, l - 5);
        name[l - 5] = '\0';
        if (!valid_ident(name))
            continue; /* not a table file (a stray backup, an editor's copy) */
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            wh_table **nl = realloc(list, nc * sizeof *nl);
            if (!nl) {
                rc = sl_err_set(err, -ENOMEM, true, "catalog: out of memory");
                break;
            }
            list = nl;
            cap = nc;
        }
        wh_table *t = NULL;
        rc = wh_catalog_read(data_dir, name, &t, err);
        if (rc == -ENOENT) { /* removed between readdir and open */
            rc = 0;
            continue;
        }
        if (rc)
            break;
        list[cnt++] = t;
    }
    closedir(d);
    if (rc) {
        wh_catalog_free_list(list, cnt);
        return rc;
    }
    if (cnt)
        qsort(list, cnt, sizeof *list, cmp_table);
    *out = list;
    *n = cnt;
    return 0;
}

static void free_cols(wh_column *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++)
        free(c[i].name);
    free(c);
}

void wh_table_free(wh_table *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->format);
    free(t->location);
    free_cols(t->cols, t->ncols);
    free_cols(t->part_cols, t->npart_cols);
    free(t->created_at);
    free(t->updated_at);
    free(t);
}

void wh_catalog_free_list(wh_table **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        wh_table_free(list[i]);
    free(list);
}
