/* guard.c — what libh2o 2.2's HTTP/1 layer does not answer, or answers in plain text:
 * slow and idle clients (408), request heads above its hard limits (414, 431),
 * conflicting Content-Length (400), and bodies it would refuse from the head alone
 * (Content-Length over --max-body 413, unparsable Content-Length or unknown
 * Transfer-Encoding 400, unknown Expect 417), in JSON.
 *
 * h2o 2.2.5 closes a connection whose request does not arrive within its req_timeout
 * without a word, and answers a head with more than 100 headers or ~417 KiB of text with
 * a plain-text 400. A client of an event API deserves the status that says what happened,
 * so every accepted connection gets a guard:
 *
 *   - a deadline, running whenever no request of the connection is in our handler: from
 *     the accept, and again from the moment a response has been written. A request head
 *     and body must arrive complete before it (--timeout), or at least keep arriving at
 *     GUARD_MIN_RATE bytes a second (a large body on a slow link gets another period as
 *     long as it does; a slowloris trickle does not). When it passes, the guard
 *     writes "408 Request Timeout" (JSON, Connection: close) to the socket itself, shuts
 *     the sending side and lingers: what the client still sends is read and dropped for
 *     a moment, so that its late bytes do not turn our close into a reset that would
 *     destroy the 408 in flight; then the receiving side is shut too and h2o, reading
 *     EOF, closes the connection and frees it the usual way.
 *   - a look at every request head before h2o parses it (the guard sits between the event
 *     loop and h2o's read callback): a request line over 64 KiB gets 414, more headers or
 *     header bytes than --max-headers / --max-header-size (checked exactly again in the
 *     handler, on the parsed headers) get 431, two Content-Length headers that disagree get
 *     400 (h2o would take the first: request smuggling behind a proxy that takes the
 *     last); once the head is complete, what h2o would refuse about the body gets the
 *     same status h2o would give (guard_check_framing), answered and lingered the same
 *     way.
 *
 * How it hooks in, without patching h2o: the guard is the socket's on_close callback
 * (h2o's HTTP/1 server does not use it), which is also how the hooks find it; it wraps
 * the socket's read callback and, once a response has been handed to the socket, its
 * write callback, calling h2o's own ones from the wrappers. h2o sets these callbacks
 * again between requests, so the guard re-wraps after each call. A request pipelined
 * behind another is parsed by h2o straight from its buffer once the previous answer is
 * written, with no read; the write wrapper holds those bytes back during h2o's call and
 * then hands them over through the read wrapper, so they are checked too. The deadline is
 * stopped while our handler owns a request (coll_guard_begin) and restarted when the
 * response has been written, so a request waiting for its group commit is never timed
 * out. h2o's own req_timeout stays as a backstop, later than the guard's.
 *
 * HTTP/1 only: the server does not offer HTTP/2 (upgrade_to_http2 = 0).
 */
#include "collector/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define GUARD_LINGER_MS      2000
#define GUARD_MIN_RATE       500  /* bytes/s that earn a request in progress another period */
#define GUARD_MAX_LINE_BYTES ((size_t)64 << 10)
#define H2O_MAX_HEADERS      100 /* picohttpparser's header array in h2o 2.2 */

typedef struct coll_guard {
    coll_worker  *w;
    h2o_socket_t *sock;
    h2o_socket_cb h2o_read, h2o_write; /* h2o's callbacks, called from the wrappers */
    h2o_timeout_entry_t timer;         /* on w->guard_timeout, or w->guard_linger */
    size_t        bytes_mark;          /* sock->bytes_read when the period began */
    size_t        scanned;             /* bytes of the current head known to hold no end */
    size_t        lines;               /* header lines among them */
    size_t        line_start;          /* where the line being scanned starts */
    size_t        line_end;            /* end of the request line, 0: not seen yet */
    uint64_t      cl_value;            /* the head's first Content-Length */
    bool          cl_seen;
    bool          cl_bad;              /* a Content-Length h2o cannot parse */
    bool          te_seen, te_bad;     /* Transfer-Encoding; other than "chunked" */
    bool          expect_bad;          /* the last Expect is not 100-continue */
    unsigned      depth;               /* h2o callbacks under way (the socket may close) */
    bool          busy;                /* our handler owns a request of the connection */
    bool          head_ok;             /* the current head was checked and is complete */
    bool          final_write;         /* the answer's write is under way (responded) */
    size_t        req_end;             /* where its request ends in the input */
    bool          answered;            /* we wrote a 408/414/431: lingering */
    bool          closed;              /* h2o closed the socket during a callback */
} coll_guard;

static void guard_on_read(h2o_socket_t *sock, const char *err);
static void guard_on_write(h2o_socket_t *sock, const char *err);

static void guard_on_close(void *data)
{
    coll_guard *g = data;
    if (h2o_timeout_is_linked(&g->timer))
        h2o_timeout_unlink(&g->timer);
    g->sock = NULL;
    if (g->depth > 0)
        g->closed = true; /* freed when the callback returns */
    else
        free(g);
}

static coll_guard *guard_of(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock && sock->on_close.cb == guard_on_close ? sock->on_close.data : NULL;
}

/* Puts the wrappers in front of whatever callbacks h2o set since the last look. */
static void guard_hook(coll_guard *g)
{
    h2o_socket_t *sock = g->sock;
    if (sock->_cb.read && sock->_cb.read != guard_on_read) {
        g->h2o_read = sock->_cb.read;
        sock->_cb.read = guard_on_read;
    }
    if (sock->_cb.write && sock->_cb.write != guard_on_write) {
        g->h2o_write = sock->_cb.write;
        sock->_cb.write = guard_on_write;
    }
}

static void guard_arm(coll_guard *g, h2o_timeout_t *t)
{
    if (h2o_timeout_is_linked(&g->timer))
        h2o_timeout_unlink(&g->timer);
    h2o_timeout_link(g->w->loop, t, &g->timer);
}

/* A new request may start: its head is scanned from the beginning of the input. */
static void guard_idle(coll_guard *g)
{
    g->bytes_mark = g->sock->bytes_read;
    g->head_ok = false;
    g->scanned = g->lines = g->line_start = g->line_end = 0;
    g->cl_seen = g->cl_bad = g->te_seen = g->te_bad = g->expect_bad = false;
    guard_arm(g, &g->w->guard_timeout);
}

/* Answers the connection ourselves and lingers (see the top of the file). */
static void guard_answer(coll_guard *g, int status, const char *msg)
{
    coll_worker *w = g->w;
    int fd = h2o_socket_get_fd(g->sock);
    char body[160], head[320];
    int blen = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %d %s\r\nServer: sluice\r\nContent-Type: application/json\r\n"
                        "Content-Length: %d\r\nConnection: close\r\n\r\n",
                        status, coll_reason(status), blen);
    struct iovec iov[2] = {{head, (size_t)hlen}, {body, (size_t)blen}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    /* a few hundred bytes to a socket that has nothing else queued: it fits */
    (void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    coll_log_raw(w, fd, status, (size_t)blen);
    shutdown(fd, SHUT_WR);
    g->answered = true;
    guard_arm(g, &w->guard_linger);
}

static void on_guard_timer(h2o_timeout_entry_t *entry)
{
    coll_guard *g = H2O_STRUCT_FROM_MEMBER(coll_guard, timer, entry);
    if (g->answered) { /* lingered long enough: h2o reads EOF and closes */
        shutdown(h2o_socket_get_fd(g->sock), SHUT_RD);
        return;
    }
    if (g->busy)
        return; /* not armed while busy; nothing to do if it raced */
    uint64_t timeout_ms = g->w->srv->cfg->timeout_ms;
    size_t got = g->sock->bytes_read - g->bytes_mark;
    if (h2o_socket_is_writing(g->sock) ||        /* h2o is still writing (100 Continue) */
        (g->sock->input->size > 0 && got >= GUARD_MIN_RATE * timeout_ms / 1000)) {
        g->bytes_mark = g->sock->bytes_read;
        guard_arm(g, &g->w->guard_timeout);
        return;
    }
    char msg[96];
    snprintf(msg, sizeof msg, "request not received within %llu ms",
             (unsigned long long)timeout_ms);
    guard_answer(g, 408, msg);
}

/* The value of a header line if its name is `name` (lower case, with the colon), without
 * the whitespace around it; else false. */
static bool header_value(const char *line, size_t len, const char *name, const char **v,
                         size_t *vlen)
{
    size_t nl = strlen(name);
    if (len < nl || (line[0] | 0x20) != name[0] || strncasecmp(line, name, nl) != 0)
        return false;
    size_t i = nl;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    while (len > i && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    *v = line + i;
    *vlen = len - i;
    return true;
}

/* A header line that frames the body. Returns false if it is a Content-Length that
 * differs from an earlier one (h2o 2.2 would use the first; a proxy in front that uses
 * the last would let a request be smuggled in the body). Also notes what h2o would
 * refuse with a plain-text answer once the head is complete (guard_check_framing). */
static bool guard_header_line(coll_guard *g, const char *line, size_t len)
{
    const char *v;
    size_t vl;
    if (header_value(line, len, "content-length:", &v, &vl)) {
        uint64_t n = 0;
        size_t i = 0;
        for (; i < vl && i < 19 && v[i] >= '0' && v[i] <= '9'; i++)
            n = n * 10 + (uint64_t)(v[i] - '0');
        if (i == 0 || i < vl) {  /* h2o_strtosize: 1..19 digits and nothing else */
            g->cl_bad = true;
            return true;
        }
        if (g->cl_seen && g->cl_value != n)
            return false;
        g->cl_seen = true;
        g->cl_value = n;
    } else if (header_value(line, len, "transfer-encoding:", &v, &vl)) {
        g->te_seen = true;
        g->te_bad |= !(vl == 7 && strncasecmp(v, "chunked", 7) == 0);
    } else if (header_value(line, len, "expect:", &v, &vl)) {
        g->expect_bad = !(vl == 12 && strncasecmp(v, "100-continue", 12) == 0);
    }
    return true;
}

/* A complete head whose body h2o would refuse in plain text: answered here in JSON, as
 * h2o would decide (Transfer-Encoding wins over Content-Length; Expect is looked at only
 * for a request with a body). True if it answered. */
static bool guard_check_framing(coll_guard *g)
{
    if (!g->te_seen && !g->cl_seen && !g->cl_bad)
        return false;
    char msg[120];
    if (g->expect_bad) {
        guard_answer(g, 417, "unknown Expect (only 100-continue)");
    } else if (g->te_seen) {
        if (!g->te_bad)
            return false;
        guard_answer(g, 400, "unsupported Transfer-Encoding (only chunked)");
    } else if (g->cl_bad) {
        guard_answer(g, 400, "invalid Content-Length");
    } else if (g->cl_value > g->w->srv->cfg->max_body) {
        snprintf(msg, sizeof msg, "request body too large (Content-Length %llu, --max-body %llu)",
                 (unsigned long long)g->cl_value,
                 (unsigned long long)g->w->srv->cfg->max_body);
        guard_answer(g, 413, msg);
    } else {
        return false;
    }
    return true;
}

/* Looks at the request head at the start of the socket's input (h2o 2.2 keeps a request,
 * head and body, there until it is done), incrementally: only bytes not seen before are
 * scanned. Returns true if it answered the connection. */
static bool guard_check_head(coll_guard *g)
{
    const coll_config *cfg = g->w->srv->cfg;
    const h2o_buffer_t *in = g->sock->input;
    size_t max_lines = cfg->max_headers + 1; /* Host is one of h2o's headers, not ours */
    if (max_lines > H2O_MAX_HEADERS)
        max_lines = H2O_MAX_HEADERS;
    size_t max_bytes = cfg->max_header_bytes + 4 * max_lines; /* ": " and CRLF per line */
    size_t i = g->scanned;
    bool complete = false, conflict = false, long_line = false;
    for (; i < in->size && !complete && !conflict; i++) {
        if (in->bytes[i] != '\n')
            continue;
        size_t len = i - g->line_start;
        if (len > 0 && in->bytes[i - 1] == '\r')
            len--;
        if (g->line_end == 0 && len == 0 && g->line_start == 0) {
            /* one empty line before the request line is skipped, as picohttpparser does
             * (for clients that send CRLF after a POST body) */
        } else if (g->line_end == 0) { /* the request line */
            g->line_end = i + 1;
            if (len > GUARD_MAX_LINE_BYTES) {
                long_line = true;
                break;
            }
        } else if (len == 0)    /* the empty line that ends the head */
            complete = true;
        else {
            g->lines++;
            conflict = !guard_header_line(g, in->bytes + g->line_start, len);
        }
        g->line_start = i + 1;
    }
    g->scanned = i;
    if (conflict) {
        guard_answer(g, 400, "conflicting Content-Length headers");
        return true;
    }
    /* the request line is over the limit when its end arrives, or, while it is still
     * arriving, as soon as more than the limit (and its CR) has: whatever the segmentation */
    if (long_line || (g->line_end == 0 && i - g->line_start > GUARD_MAX_LINE_BYTES + 1)) {
        guard_answer(g, 414, "request line too long");
        return true;
    }
    if (g->lines > max_lines || (g->line_end > 0 && i - g->line_end > max_bytes)) {
        guard_answer(g, 431, "request header fields too large");
        return true;
    }
    if (complete && guard_check_framing(g))
        return true;
    g->head_ok = complete;
    return false;
}

static bool guard_leave(coll_guard *g)
{
    if (--g->depth == 0 && g->closed) {
        free(g);
        return true;
    }
    return g->closed;
}

static void guard_on_read(h2o_socket_t *sock, const char *err)
{
    coll_guard *g = sock->on_close.data;
    if (!err && g->answered) { /* lingering: drop what the client still sends */
        h2o_buffer_consume(&sock->input, sock->input->size);
        return;
    }
    if (!err && !g->busy && !g->head_ok && guard_check_head(g))
        return;
    g->depth++;
    g->h2o_read(sock, err);
    if (!guard_leave(g))
        guard_hook(g);
}

static void guard_on_write(h2o_socket_t *sock, const char *err)
{
    coll_guard *g = sock->on_close.data;
    /* When the answer is written, h2o consumes its request and at once parses a
     * pipelined one that is already in the input: without a read, so the guard would
     * never see its head. Those bytes are held back meanwhile and then handed over as if
     * just read. */
    char *held = NULL;
    size_t nheld = 0;
    h2o_buffer_t *in = sock->input;
    if (g->final_write && !err && !g->answered && in->size > g->req_end &&
        (held = malloc(in->size - g->req_end))) {
        nheld = in->size - g->req_end;
        memcpy(held, in->bytes + g->req_end, nheld);
        in->size = g->req_end;
    }
    g->final_write = false;
    g->depth++;
    g->h2o_write(sock, err); /* done writing: h2o starts reading the next request */
    if (guard_leave(g)) {
        free(held);
        return;
    }
    /* waiting for the next request, unless its answer is being written */
    if (!g->busy && !g->answered && !h2o_socket_is_writing(sock))
        guard_idle(g);
    guard_hook(g);
    if (held) {
        h2o_iovec_t room = h2o_buffer_reserve(&sock->input, nheld);
        memcpy(room.base, held, nheld);
        sock->input->size += nheld;
        free(held);
        guard_on_read(sock, NULL);
    }
}

void coll_guard_accept(coll_worker *w, h2o_socket_t *sock)
{
    coll_guard *g = calloc(1, sizeof *g);
    if (!g) { /* no guard: h2o's own timeout still applies */
        h2o_accept(&w->accept_ctx, sock);
        return;
    }
    g->w = w;
    g->sock = sock;
    g->timer.cb = on_guard_timer;
    sock->on_close.cb = guard_on_close;
    sock->on_close.data = g;
    guard_idle(g);
    h2o_accept(&w->accept_ctx, sock);
    guard_hook(g);
}

bool coll_guard_begin(h2o_req_t *req)
{
    coll_guard *g = guard_of(req);
    if (!g)
        return true;
    if (g->answered)
        return false;
    g->busy = true;
    if (h2o_timeout_is_linked(&g->timer))
        h2o_timeout_unlink(&g->timer);
    return true;
}

void coll_guard_responded(h2o_req_t *req, h2o_socket_t *sock)
{
    if (!sock || sock->on_close.cb != guard_on_close)
        return;
    coll_guard *g = sock->on_close.data;
    g->busy = false;
    /* Where the request ends in the input (h2o stopped reading while it was handled):
     * after its body, or after its head, which the guard scanned. What follows was
     * pipelined behind it (guard_on_write). */
    const h2o_buffer_t *in = sock->input;
    const char *end = req->entity.base ? req->entity.base + req->entity.len
                                       : g->head_ok ? in->bytes + g->line_start : NULL;
    g->final_write = end && end >= in->bytes && end <= in->bytes + in->size;
    g->req_end = g->final_write ? (size_t)(end - in->bytes) : 0;
    guard_hook(g); /* the response's write callback: the deadline restarts when it is done */
}

bool coll_guard_idle(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (!sock || h2o_socket_is_writing(sock) || sock->input->size > 0)
        return false;
    coll_guard *g = guard_of(req);
    /* a connection we answered ourselves closes by itself after the linger */
    return !g || (!g->busy && !g->answered);
}

void coll_guard_init(coll_worker *w)
{
    h2o_timeout_init(w->loop, &w->guard_timeout, w->srv->cfg->timeout_ms);
    h2o_timeout_init(w->loop, &w->guard_linger, GUARD_LINGER_MS);
    w->guard_ready = true;
}

static void unlink_all(h2o_timeout_t *t)
{
    while (!h2o_linklist_is_empty(&t->_entries)) {
        h2o_timeout_entry_t *e =
            H2O_STRUCT_FROM_MEMBER(h2o_timeout_entry_t, _link, t->_entries.next);
        h2o_timeout_unlink(e);
    }
}

void coll_guard_dispose(coll_worker *w)
{
    if (!w->guard_ready)
        return;
    /* connections still open past the drain deadline keep their guards until exit */
    unlink_all(&w->guard_timeout);
    unlink_all(&w->guard_linger);
    h2o_timeout_dispose(w->loop, &w->guard_timeout);
    h2o_timeout_dispose(w->loop, &w->guard_linger);
    w->guard_ready = false;
}
