/* response.h — framing of HTTP/1.x answers for `sluice bench` (pure, no I/O).
 *
 * The load engine only needs to know where an answer ends, its status and whether the
 * server keeps the connection open, so this parses no more than that: the status line,
 * Content-Length, Transfer-Encoding: chunked and Connection. It works in place on the
 * bytes as they were read (no copy) and keeps the body state between reads, so a body may
 * arrive in any number of pieces:
 *
 *   lg_resp r; lg_resp_start(&r);
 *   long h = lg_resp_head(&r, buf, n, head_request);   // > 0: header block is h bytes
 *   if (h > 0 && r.status >= 200) rc = lg_resp_body(&r, buf + h, n - h, &used);
 *
 * lg_resp_head() needs the whole header block in one buffer: it returns 0 while the
 * block's blank line has not arrived (the caller keeps the bytes and calls again with
 * more). A 1xx answer is complete after its header block; the real answer follows.
 * Header lines may end in CRLF or LF. Framing follows RFC 9112 section 6.3: no body for
 * HEAD, 1xx, 204 and 304; chunked wins over Content-Length; conflicting Content-Lengths
 * are an error; without either, the body runs until the server closes.
 */
#ifndef SLUICE_LOADGEN_RESPONSE_H
#define SLUICE_LOADGEN_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lg_body_mode { LG_BODY_LENGTH, LG_BODY_CHUNKED, LG_BODY_UNTIL_CLOSE };

typedef struct lg_resp {
    int               status;       /* 100..599 once the head was parsed */
    bool              close_after;  /* the server closes the connection after this answer */
    enum lg_body_mode body;
    uint64_t          remain;       /* LENGTH: bytes left; CHUNKED: left in this chunk */
    uint8_t           chunk;        /* chunked parser state (response.c) */
    uint8_t           chunk_digits;
} lg_resp;

void lg_resp_start(lg_resp *r);

/* Parses the header block at the start of p[0..n). Returns its length in bytes (> 0) when
 * complete, 0 when more bytes are needed, -1 when it is not HTTP/1.x we can frame. On
 * success r->status, r->close_after and the body framing are set. head_request: the
 * answer is to a HEAD request (no body, whatever the headers say). */
long lg_resp_head(lg_resp *r, const char *p, size_t n, bool head_request);

/* True when p[0..n) holds the blank line that ends a header block; from: bytes already
 * known not to hold it (lets a caller that gets a header in pieces scan each byte about
 * once). */
bool lg_resp_head_complete(const char *p, size_t n, size_t from);

/* Consumes body bytes. Returns 1 when the answer is complete (*used: bytes that belonged
 * to it), 0 when all n bytes were taken and more are needed, -1 on a framing error.
 * LG_BODY_UNTIL_CLOSE never completes here: the caller ends it when the server closes. */
int lg_resp_body(lg_resp *r, const char *p, size_t n, size_t *used);

#endif
