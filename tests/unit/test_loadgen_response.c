/* Unit tests for src/loadgen/response.c: framing of HTTP/1.x answers by Content-Length,
 * chunked encoding and connection close, whatever pieces the bytes arrive in; status,
 * keep-alive, 1xx, HEAD/204/304 without body; malformed answers rejected. */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "loadgen/client.h"
#include "loadgen/response.h"
#include "test.h"

/* Feeds msg[0..len) in pieces of `piece` bytes the way the engine does: header bytes are
 * gathered until lg_resp_head() finds the block (1xx blocks are dropped), the rest goes
 * to lg_resp_body(). Returns 1 (complete; *consumed: bytes of the answer), 0 (needs more
 * bytes) or -1 (bad). */
static int frame(const char *msg, size_t len, size_t piece, bool head, lg_resp *r,
                 size_t *consumed)
{
    static char hbuf[2 * LG_HEADER_MAX];
    size_t hlen = 0, off = 0, used = 0;
    bool in_body = false;
    lg_resp_start(r);
    *consumed = 0;
    while (off < len) {
        size_t n = len - off < piece ? len - off : piece;
        const char *p = msg + off;
        off += n;
        if (in_body) {
            int rc = lg_resp_body(r, p, n, &used);
            if (rc) {
                *consumed = off - n + used;
                return rc;
            }
            continue;
        }
        memcpy(hbuf + hlen, p, n);
        hlen += n;
        for (;;) {
            long h = lg_resp_head(r, hbuf, hlen, head);
            if (h < 0)
                return -1;
            if (h == 0)
                break;
            memmove(hbuf, hbuf + h, hlen - (size_t)h);
            hlen -= (size_t)h;
            if (r->status >= 200) {
                in_body = true;
                break;
            }
        }
        if (!in_body)
            continue;
        if (r->body == LG_BODY_LENGTH && r->remain == 0) {
            *consumed = off - hlen;
            return 1;
        }
        int rc = lg_resp_body(r, hbuf, hlen, &used);
        if (rc) {
            *consumed = off - hlen + used;
            return rc;
        }
    }
    return 0;
}

#define ALL SIZE_MAX   /* want_len: the whole message is the answer */

/* msg frames the same way in every piece size, with the given outcome. */
static void check_all_splits(const char *msg, bool head, int want_rc, int want_status,
                             bool want_close, size_t want_len)
{
    size_t len = strlen(msg);
    for (size_t piece = 1; piece <= len; piece++) {
        lg_resp r;
        size_t used;
        int rc = frame(msg, len, piece, head, &r, &used);
        if (rc != want_rc) {
            fprintf(stderr, "  piece %zu: rc %d, want %d for %.40s\n", piece, rc, want_rc, msg);
            CHECK(rc == want_rc);
            return;
        }
        if (rc == 1) {
            CHECK_EQ_U64(r.status, want_status);
            CHECK(r.close_after == want_close);
            CHECK_EQ_U64(used, want_len == ALL ? len : want_len);
        }
    }
}

static void test_content_length(void)
{
    const char *m = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
    check_all_splits(m, false, 1, 200, false, ALL);
    /* bytes after the answer are not part of it */
    char two[256];
    snprintf(two, sizeof two, "%sHTTP/1.1 404 Not Found\r\n", m);
    check_all_splits(two, false, 1, 200, false, strlen(m));
    /* names are case-insensitive, blanks around values are ignored */
    check_all_splits("HTTP/1.1 404 Not Found\r\ncontent-LENGTH:  3 \r\n\r\nabc", false, 1,
                     404, false, ALL);
    /* a longer name that starts the same is another header */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Lengthy: 3\r\nContent-Length: 0\r\n\r\n",
                     false, 1, 200, false, ALL);
    /* Content-Length: 0 ends the answer with its header block */
    check_all_splits("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false, 1, 201,
                     false, ALL);
    /* short of the body: more is needed */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, 0, 0, false, 0);
}

static void test_chunked(void)
{
    const char *m = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
    check_all_splits(m, false, 1, 200, false, ALL);
    const char *plain = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Length: 99\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    check_all_splits(plain, false, 1, 200, false, ALL);   /* chunked wins */
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                     false, 0, 0, false, 0);
    /* framing errors */
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, -1,
                     0, false, 0);
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
                     false, -1, 0, false, 0);
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "1234567890abcdef\r\n", false, -1, 0, false, 0);
}

static void test_no_body(void)
{
    /* HEAD, 204 and 304 end with the header block, whatever Content-Length says */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, 1, 200, false, ALL);
    check_all_splits("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false, 1, 204,
                     false, ALL);
    check_all_splits("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, 1,
                     304, false, ALL);
}

static void test_interim_answers(void)
{
    const char *m = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    check_all_splits(m, false, 1, 201, false, ALL);
}

static void test_connection(void)
{
    check_all_splits("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false,
                     1, 200, true, ALL);
    /* HTTP/1.0 closes unless it says keep-alive */
    check_all_splits("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, 1, 200, true, ALL);
    check_all_splits("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
                     false, 1, 200, false, ALL);
    /* neither length nor chunked: the body runs until the server closes */
    const char *m = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome body";
    lg_resp r;
    size_t used;
    CHECK(frame(m, strlen(m), 7, false, &r, &used) == 0);
    CHECK(r.body == LG_BODY_UNTIL_CLOSE && r.close_after);
}

static void test_line_endings(void)
{
    /* bare LF line ends are accepted, as most clients do */
    check_all_splits("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, 1, 200, false, ALL);
    check_all_splits("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", false, 1, 200, false, ALL);
}

static void test_malformed(void)
{
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "HTTP/1.1 600 Nope\r\n\r\n",
        "HTTP/1.1 099 Nope\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "junk\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_all_splits(bad[i], false, -1, 0, false, 0);
    /* the same Content-Length twice is fine */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false,
                     1, 200, false, ALL);
}

static void test_head_complete(void)
{
    const char *m = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    size_t len = strlen(m);
    CHECK(lg_resp_head_complete(m, len, 0));
    CHECK(!lg_resp_head_complete(m, len - 1, 0));
    CHECK(!lg_resp_head_complete(m, len - 2, 0));
    /* resuming from any point before its last byte finds the blank line that straddles
     * the old and the new bytes */
    for (size_t from = 0; from < len; from++)
        CHECK(lg_resp_head_complete(m, len, from));
    CHECK(lg_resp_head_complete("HTTP/1.1 200 OK\n\n", 17, 16));
    CHECK(!lg_resp_head_complete("HTTP/1.1 200 OK\r\nA: b\r\n", 23, 0));
}

int main(void)
{
    RUN(test_content_length);
    RUN(test_chunked);
    RUN(test_no_body);
    RUN(test_interim_answers);
    RUN(test_connection);
    RUN(test_line_endings);
    RUN(test_malformed);
    RUN(test_head_complete);
    return test_summary();
}
