/* checkpoint.c — offset log and checkpoint files (format in checkpoint.h). */
#include "stream/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool stream_job_name_valid(const char *job)
{
    size_t n = strlen(job);
    if (n < 1 || n > 100 || job[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = job[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

int stream_fsync_dir(const char *dir, sl_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_errno(err, errno, "open %s", dir);
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return sl_err_errno(err, e, "fsync %s", dir);
    }
    close(fd);
    return 0;
}

int stream_mkdirs(const char *path, sl_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : sl_err_set(err, -ENOTDIR, false, "%s is not a directory", path);
    char *copy = strdup(path);
    if (!copy)
        return sl_err_errno(err, ENOMEM, "mkdir %s", path);
    char *slash = strrchr(copy, '/');
    int rc = 0;
    if (slash && slash != copy) {
        *slash = '\0';
        rc = stream_mkdirs(copy, err);
    }
    if (rc == 0) {
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            rc = sl_err_errno(err, errno, "mkdir %s", path);
        else if (slash && slash != copy)
            rc = stream_fsync_dir(copy, err);   /* the new entry is durable */
    }
    free(copy);
    return rc;
}

int stream_write_atomic(const char *path, const char *data, size_t len, sl_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return sl_err_set(err, -ENAMETOOLONG, false, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_err_errno(err, errno, "create %s", tmp);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return sl_err_errno(err, e, "write %s", tmp);
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return sl_err_errno(err, e, "fsync %s", tmp);
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_err_errno(err, e, "close %s", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_err_errno(err, e, "rename %s", tmp);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    return stream_fsync_dir(dir, err);
}

int stream_ckpt_open(stream_ckpt *c, const char *data_dir, const char *job, const char *topic,
                     sl_err *err)
{
    memset(c, 0, sizeof *c);
    if (!stream_job_name_valid(job))
        return sl_err_set(err, -EINVAL, false,
                          "invalid job name '%s' (want [A-Za-z0-9._-]{1,100}, no leading '.')",
                          job);
    if (asprintf(&c->dir, "%s/stream", data_dir) < 0) {
        c->dir = NULL;
        return sl_err_errno(err, ENOMEM, "checkpoint");
    }
    c->job = strdup(job);
    c->topic = strdup(topic);
    if (!c->job || !c->topic) {
        stream_ckpt_close(c);
        return sl_err_errno(err, ENOMEM, "checkpoint");
    }
    int rc = stream_mkdirs(c->dir, err);
    if (rc < 0)
        stream_ckpt_close(c);
    return rc;
}

void stream_ckpt_close(stream_ckpt *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c->job);
    free(c->topic);
    memset(c, 0, sizeof *c);
}

/* Reads "<magic> 1" then key/value lines into the given keys. */
static int read_kv(const char *path, const char *magic, const char *topic, int32_t partition,
                   const char *k1,
                   uint64_t *v1, const char *k2, uint64_t *v2, bool *found, sl_err *err)
{
    *found = false;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return sl_err_errno(err, errno, "open %s", path);
    }
    char line[512];
    int lineno = 0;
    bool have1 = false, have2 = k2 == NULL, magic_ok = false;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char key[64], val[400];
        if (sscanf(line, "%63s %399s", key, val) != 2) {
            rc = sl_err_set(err, -EINVAL, false, "%s:%d: expected 'key value'", path, lineno);
            break;
        }
        if (lineno == 1) {
            if (strcmp(key, magic) || strcmp(val, "1")) {
                rc = sl_err_set(err, -EINVAL, false, "%s:1: not a %s version 1 file", path,
                                magic);
                break;
            }
            magic_ok = true;
        } else if (!strcmp(key, "topic")) {
            if (strcmp(val, topic)) {
                rc = sl_err_set(err, -EINVAL, false,
                                "%s:%d: this job reads topic '%s', the app spec says '%s' "
                                "(use another --job)", path, lineno, val, topic);
                break;
            }
        } else if (!strcmp(key, "partition")) {
            char want[16];
            snprintf(want, sizeof want, "%d", (int)partition);
            if (strcmp(val, want)) {
                rc = sl_err_set(err, -EINVAL, false, "%s:%d: unknown partition %s", path,
                                lineno, val);
                break;
            }
        } else if (!strcmp(key, k1) || (k2 && !strcmp(key, k2))) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(val, &end, 10);
            if (errno || *end || val[0] == '-') {
                rc = sl_err_set(err, -EINVAL, false, "%s:%d: bad number '%s'", path, lineno,
                                val);
                break;
            }
            if (!strcmp(key, k1)) {
                *v1 = v;
                have1 = true;
            } else {
                *v2 = v;
                have2 = true;
            }
        }
        /* other keys: ignored, for forward compatibility */
    }
    fclose(f);
    if (rc < 0)
        return rc;
    if (!magic_ok || !have1 || !have2)
        return sl_err_set(err, -EINVAL, false, "%s: incomplete file", path);
    *found = true;
    return 0;
}

int stream_ckpt_read(stream_ckpt *c, uint64_t *next, bool *found, sl_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.checkpoint", c->dir, c->job);
    *next = 0;
    return read_kv(path, "sluice-checkpoint", c->topic, c->partition, "next", next, NULL, NULL, found, err);
}

int stream_ckpt_write(stream_ckpt *c, uint64_t next, sl_err *err)
{
    char path[4096], body[512];
    snprintf(path, sizeof path, "%s/%s.checkpoint", c->dir, c->job);
    int n = snprintf(body, sizeof body, "sluice-checkpoint 1\ntopic %s\npartition %d\nnext %" PRIu64 "\n",
                     c->topic, (int)c->partition, next);
    return stream_write_atomic(path, body, (size_t)n, err);
}

int stream_offsets_read(stream_ckpt *c, uint64_t *first, uint64_t *last, bool *found,
                        sl_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.offsets", c->dir, c->job);
    int rc = read_kv(path, "sluice-offsets", c->topic, c->partition, "first", first, "last", last, found, err);
    if (rc == 0 && *found && *last < *first)
        return sl_err_set(err, -EINVAL, false, "%s: last < first", path);
    return rc;
}

int stream_offsets_write(stream_ckpt *c, uint64_t first, uint64_t last, sl_err *err)
{
    char path[4096], body[512];
    snprintf(path, sizeof path, "%s/%s.offsets", c->dir, c->job);
    int n = snprintf(body, sizeof body,
                     "sluice-offsets 1\ntopic %s\npartition %d\nfirst %" PRIu64 "\nlast %" PRIu64 "\n",
                     c->topic, (int)c->partition, first, last);
    return stream_write_atomic(path, body, (size_t)n, err);
}
