/* err.h — the error convention of every layer.
 *
 * A function that can fail returns 0 on success and a negative errno-style code on
 * failure, and fills a caller-provided sl_err with a human-readable message and whether a
 * retry can help (disk full, queue full: retriable; bad input, corrupt file: not).
 * The message names the thing that failed (file, line, byte position, field) so that it
 * can be shown to a user as it is.
 */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

#include <stdbool.h>

#define SL_ERR_MSG_MAX 512

typedef struct sl_err {
    int  code;       /* negative errno-style code, 0 when no error */
    bool retriable;  /* true when the same call may succeed later */
    char msg[SL_ERR_MSG_MAX];
} sl_err;

/* Records an error in err (which may be NULL) and returns code, so that a failing
 * function can `return sl_err_set(err, -EIO, false, "write %s: %s", path, strerror(e));`.
 * code must be negative. */
int sl_err_set(sl_err *err, int code, bool retriable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with the message of errno value e appended after ": ". Retriable when e is one of
 * ENOSPC, EDQUOT, EAGAIN, EINTR, ENOMEM, EMFILE, ENFILE. Returns -e. */
int sl_err_errno(sl_err *err, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with more context ("segment 0.log: " + msg). */
void sl_err_prefix(sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void sl_err_clear(sl_err *err);

#endif
