/* response.c — framing of HTTP/1.x answers (contract in response.h).
 *
 * Speed matters here: every answer of a benchmark passes through lg_resp_head(), so it
 * walks the header block once, line by line with memchr, and looks closer only at lines
 * whose first letter can start one of the three headers it needs ('c', 't').
 */
#include "loadgen/response.h"

#include <string.h>
#include <strings.h>

#include "loadgen/client.h"   /* LG_HEADER_MAX */

enum chunk_state { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
                   CH_TRAILER_SKIP, CH_TRAILER_LF };

void lg_resp_start(lg_resp *r)
{
    memset(r, 0, sizeof *r);
}

/* s[0..k) equals the lower-case ASCII name, ignoring case (inline: this runs for two
 * headers of every answer, where a libc call costs more than the compare). */
static inline bool eq_lower(const char *s, const char *name, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z' ? (char)(c + 32) : c) != name[i])
            return false;
    }
    return true;
}

/* line[0..n) is "Name: value" with the given (lower-case) name: *value is the value
 * without surrounding blanks. */
static bool header_is(const char *line, size_t n, const char *name, size_t k,
                      const char **value, size_t *vlen)
{
    if (n <= k || line[k] != ':' || !eq_lower(line, name, k))
        return false;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}
#define HEADER_IS(line, n, lit, v, vn) header_is(line, n, lit, sizeof lit - 1, v, vn)

static bool contains_token(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k))
            return true;
    return false;
}

bool lg_resp_head_complete(const char *p, size_t n, size_t from)
{
    /* the blank line is "\n\n" or "\n\r\n": look again at the last two known bytes */
    size_t i = from > 2 ? from - 2 : 0;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl)
            return false;
        i = (size_t)(nl - p) + 1;
        if (i < n && p[i] == '\n')
            return true;
        if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
            return true;
    }
    return false;
}

long lg_resp_head(lg_resp *r, const char *p, size_t n, bool head_request)
{
    const char *end = p + n;
    const char *eol = memchr(p, '\n', n);
    if (!eol)
        return 0;
    size_t sl = (size_t)(eol - p);
    if (sl < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
        p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
        p[11] > '9' || (sl > 12 && p[12] != ' ' && p[12] != '\r'))
        return -1;
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    bool http10 = p[7] == '0';
    bool have_len = false, chunked = false, conn_close = false, conn_keep = false;
    uint64_t len = 0;
    const char *line = eol + 1;
    for (;;) {
        if (line >= end || !(eol = memchr(line, '\n', (size_t)(end - line))))
            return 0;   /* the blank line has not arrived yet */
        size_t ln = (size_t)(eol - line);
        if (ln && line[ln - 1] == '\r')
            ln--;
        if (!ln)
            break;
        const char *v;
        size_t vn;
        switch (line[0] | 0x20) {
        case 'c':
            if (HEADER_IS(line, ln, "content-length", &v, &vn)) {
                if (!vn || vn > 18)
                    return -1;
                uint64_t x = 0;
                for (size_t i = 0; i < vn; i++) {
                    if (v[i] < '0' || v[i] > '9')
                        return -1;
                    x = x * 10 + (uint64_t)(v[i] - '0');
                }
                if (have_len && x != len)
                    return -1;
                have_len = true;
                len = x;
            } else if (HEADER_IS(line, ln, "connection", &v, &vn)) {
                conn_close |= contains_token(v, vn, "close");
                conn_keep |= contains_token(v, vn, "keep-alive");
            }
            break;
        case 't':
            if (HEADER_IS(line, ln, "transfer-encoding", &v, &vn))
                chunked = contains_token(v, vn, "chunked");
            break;
        default:
            break;
        }
        line = eol + 1;
    }
    r->close_after = conn_close || (http10 && !conn_keep);
    r->chunk = CH_SIZE;
    r->chunk_digits = 0;
    r->remain = 0;
    if (head_request || r->status < 200 || r->status == 204 || r->status == 304) {
        r->body = LG_BODY_LENGTH;
    } else if (chunked) {
        r->body = LG_BODY_CHUNKED;
    } else if (have_len) {
        r->body = LG_BODY_LENGTH;
        r->remain = len;
    } else {
        r->body = LG_BODY_UNTIL_CLOSE;
        r->close_after = true;
    }
    return (long)(eol + 1 - p);
}

static int eat_chunked(lg_resp *r, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        char ch = p[i];
        switch ((enum chunk_state)r->chunk) {
        case CH_SIZE: {
            int d = ch >= '0' && ch <= '9' ? ch - '0'
                  : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                  : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d >= 0) {
                if (++r->chunk_digits > 15)
                    return -1;
                r->remain = r->remain * 16 + (uint64_t)d;
            } else if (!r->chunk_digits) {
                return -1;
            } else if (ch == '\r') {
                r->chunk = CH_SIZE_LF;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                r->chunk = CH_EXT;
            } else {
                return -1;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (ch == '\r')
                r->chunk = CH_SIZE_LF;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return -1;
            i++;
            r->chunk = r->remain ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t take = r->remain < n - i ? (size_t)r->remain : n - i;
            r->remain -= take;
            i += take;
            if (!r->remain)
                r->chunk = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                return -1;
            r->chunk = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return -1;
            r->chunk = CH_SIZE;
            r->chunk_digits = 0;
            r->remain = 0;
            i++;
            break;
        case CH_TRAILER: /* at the start of a trailer line (or the final CRLF) */
            if (ch == '\r') {
                r->chunk = CH_TRAILER_LF;
            } else if (ch == '\n') {
                rc = 1;
            } else {
                r->chunk = CH_TRAILER_SKIP;
                r->remain = 1;
            }
            i++;
            break;
        case CH_TRAILER_SKIP: /* inside a trailer field: skip to its LF */
            if (ch == '\n')
                r->chunk = CH_TRAILER;
            else if (++r->remain > LG_HEADER_MAX)
                return -1;
            i++;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return -1;
            rc = 1;
            i++;
            break;
        }
    }
    *used = i;
    return rc;
}

int lg_resp_body(lg_resp *r, const char *p, size_t n, size_t *used)
{
    switch (r->body) {
    case LG_BODY_LENGTH: {
        size_t take = r->remain < n ? (size_t)r->remain : n;
        r->remain -= take;
        *used = take;
        return r->remain == 0;
    }
    case LG_BODY_CHUNKED:
        return eat_chunked(r, p, n, used);
    case LG_BODY_UNTIL_CLOSE:
        *used = n;
        return 0;
    }
    return -1;
}
