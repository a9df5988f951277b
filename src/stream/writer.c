/* writer.c — rows → Parquet files through the native writer (see writer.h). */
#include "stream/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/version.h"
#include "parquet/parquet.h"
#include "stream/checkpoint.h"

/* One lane per concurrent encoding thread: its Parquet writer (compressor and scratch
 * kept from file to file). */
typedef struct lane {
    pq_writer *pq;
} lane;

struct stream_writer {
    lane             *lanes;
    int               nlanes;
    uint64_t          row_group_size;
    char            **dirs;      /* directories to fsync (publishing thread only) */
    size_t            ndirs, capdirs;
};

int stream_writer_open(stream_writer **out, const char *compression, uint64_t row_group_size,
                       int lanes, sl_err *err)
{
    *out = NULL;
    pq_options po;
    pq_options_init(&po);
    if (pq_codec_parse(compression, &po.codec) < 0)
        return sl_err_set(err, -EINVAL, false,
                          "unknown compression '%s' (snappy, zstd, gzip, uncompressed)",
                          compression);
    po.created_by = "sluice version " SLUICE_VERSION;   /* the form parquet-mr parses */
    po.sync_bytes = 4u << 20;   /* the fsync before the rename then waits for little */
    stream_writer *w = calloc(1, sizeof *w);
    if (!w)
        return sl_err_errno(err, ENOMEM, "writer");
    w->nlanes = lanes < 1 ? 1 : lanes > 16 ? 16 : lanes;
    w->row_group_size = row_group_size ? row_group_size : 122880;
    if (!(w->lanes = calloc((size_t)w->nlanes, sizeof *w->lanes))) {
        free(w);
        return sl_err_errno(err, ENOMEM, "writer");
    }
    for (int k = 0; k < w->nlanes; k++) {
        int rc = pq_writer_new(&w->lanes[k].pq, &po, err);
        if (rc < 0) {
            stream_writer_close(w);
            return rc;
        }
    }
    *out = w;
    return 0;
}

void stream_writer_close(stream_writer *w)
{
    if (!w)
        return;
    for (int k = 0; w->lanes && k < w->nlanes; k++) {
        pq_writer_free(w->lanes[k].pq);
    }
    free(w->lanes);
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i]);
    free(w->dirs);
    free(w);
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

static pq_type pq_type_of(spec_col_type t)
{
    switch (t) {
    case SPEC_COL_BIGINT:    return PQ_INT64;
    case SPEC_COL_DOUBLE:    return PQ_DOUBLE;
    case SPEC_COL_BOOLEAN:   return PQ_BOOLEAN;
    case SPEC_COL_TIMESTAMP: return PQ_TIMESTAMP;
    case SPEC_COL_VARCHAR:
    default:                 return PQ_STRING;
    }
}

/* Writes the rows into the open fd as one Parquet file of row groups of at most
 * row_group_size rows, straight from the batch's column arrays. */
static int encode_rows(stream_writer *w, lane *ln, int fd, const stream_schema *s,
                       const stream_cols *rows, sl_err *err)
{
    pq_column cols[STREAM_MAX_COLUMNS];
    for (size_t c = 0; c < s->ncols; c++)
        cols[c] = (pq_column){s->cols[c].name, pq_type_of(s->cols[c].type)};
    int rc = pq_begin(ln->pq, fd, cols, s->ncols, err);
    for (size_t r0 = 0; rc == 0 && r0 < rows->nrows; r0 += w->row_group_size) {
        size_t n = rows->nrows - r0 < w->row_group_size ? rows->nrows - r0 : w->row_group_size;
        pq_values vals[STREAM_MAX_COLUMNS];
        stream_cols_values(rows, s, r0, vals);
        rc = pq_row_group(ln->pq, n, vals, err);
    }
    return rc == 0 ? pq_end(ln->pq, NULL, err) : rc;
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

int stream_writer_encode(stream_writer *w, int k, const stream_schema *s, const stream_cols *rows,
                         const char *dir, uint64_t partition, uint64_t first, uint64_t last,
                         uint64_t *bytes, sl_err *err)
{
    char tmp[4096];
    if (file_names(dir, partition, first, last, tmp, sizeof tmp, NULL, 0) < 0)
        return sl_err_set(err, -ENAMETOOLONG, false, "path too long under %s", dir);
    int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_err_errno(err, errno, "create %s", tmp);
    int rc = encode_rows(w, &w->lanes[k], fd, s, rows, err);
    if (rc < 0) {
        sl_err_prefix(err, "table %s: %s: ", s->name, tmp);
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = sl_err_errno(err, errno, "stat %s", tmp);
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = sl_err_errno(err, errno, "close %s", tmp);
        goto fail;
    }
    *bytes += (uint64_t)st.st_size;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

int stream_writer_sync_file(const char *dir, uint64_t partition, uint64_t first, uint64_t last,
                            uint64_t *fsync_ns, sl_err *err)
{
    char tmp[4096];
    if (file_names(dir, partition, first, last, tmp, sizeof tmp, NULL, 0) < 0)
        return sl_err_set(err, -ENAMETOOLONG, false, "path too long under %s", dir);
    struct timespec f0, f1;
    clock_gettime(CLOCK_MONOTONIC, &f0);
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_errno(err, errno, "open %s", tmp);
    int rc = fsync(fd) == 0 ? 0 : sl_err_errno(err, errno, "fsync %s", tmp);
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &f1);
    *fsync_ns += (uint64_t)((f1.tv_sec - f0.tv_sec) * 1000000000LL + (f1.tv_nsec - f0.tv_nsec));
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
