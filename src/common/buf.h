/* buf.h — a growable byte buffer with a hard cap.
 *
 * Every buffer that input can grow has a limit (like curl's dynbuf): an append that would
 * pass buf.max fails with -E2BIG and leaves the buffer as it was. The content is always
 * NUL-terminated (the NUL is not counted in len), so it can be used as a C string.
 * Not thread-safe; the owner frees with sl_buf_free().
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stddef.h>

typedef struct sl_buf {
    char  *p;
    size_t len;
    size_t cap;
    size_t max;   /* hard limit on len; 0 means SIZE_MAX/2 */
} sl_buf;

void sl_buf_init(sl_buf *b, size_t max);
void sl_buf_free(sl_buf *b);
void sl_buf_reset(sl_buf *b);                 /* len = 0, keeps memory */
int  sl_buf_reserve(sl_buf *b, size_t extra); /* room for extra more bytes: 0, -E2BIG, -ENOMEM */
int  sl_buf_add(sl_buf *b, const void *p, size_t n);
int  sl_buf_adds(sl_buf *b, const char *s);
int  sl_buf_addc(sl_buf *b, char c);
int  sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
