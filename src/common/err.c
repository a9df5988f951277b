#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_err_set(sl_err *err, int code, bool retriable, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->retriable = retriable;
    }
    return code;
}

static bool errno_retriable(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EAGAIN || e == EINTR || e == ENOMEM ||
           e == EMFILE || e == ENFILE;
}

int sl_err_errno(sl_err *err, int e, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(e));
        err->code = -e;
        err->retriable = errno_retriable(e);
    }
    return -e;
}

void sl_err_prefix(sl_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[SL_ERR_MSG_MAX], old[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t hl = strnlen(head, sizeof err->msg - 1);
    memcpy(err->msg, head, hl);
    size_t ol = strnlen(old, sizeof err->msg - 1 - hl);
    memcpy(err->msg + hl, old, ol);
    err->msg[hl + ol] = '\0';
}

void sl_err_clear(sl_err *err)
{
    if (err) {
        err->code = 0;
        err->retriable = false;
        err->msg[0] = '\0';
    }
}
