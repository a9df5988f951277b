/* client.c — epoll HTTP/1.1 load engine (contract in client.h).
 *
 * Each worker thread owns an epoll instance and an array of connections; nothing in a
 * worker is shared except the slot counter (atomic) and the progress counters (atomic,
 * written by the worker, read by the monitor). Sockets are registered once, edge
 * triggered, for both directions; a read that returns less than asked for means the
 * socket was drained, which saves the extra read-until-EAGAIN call per answer.
 *
 * Connection life: FREE (no socket) -> CONNECTING -> WRITING -> READING -> IDLE (kept
 * alive, no request) -> WRITING ... ; any failure closes the socket and goes back to FREE
 * (or to BACKOFF for a while after a failed connect, so that a dead server does not make
 * us spin). DONE: no more work for this connection.
 */
#include "common/clock.h"
#include "loadgen/client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

const char *const lg_err_names[LG_ERR_KINDS] = {"connect", "timeout", "reset", "bad_response"};

#define SCAN_INTERVAL_NS 10000000ull  /* timeouts, backoffs and *stop checked this often */
#define READ_CHUNK       65536u

uint64_t lg_now_ns(void) { return sl_mono_ns(); }

enum conn_state { C_FREE, C_BACKOFF, C_CONNECTING, C_WRITING, C_READING, C_IDLE, C_DONE };
enum body_mode { B_HEADERS, B_LENGTH, B_CHUNKED, B_UNTIL_CLOSE };
enum chunk_state { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
                   CH_TRAILER_SKIP, CH_TRAILER_LF };

struct worker;

struct conn {
    struct worker *w;
    int            fd;
    enum conn_state state;
    bool           reused;      /* an answer already came on this socket */
    bool           out_armed;   /* EPOLLOUT is in the socket's epoll interest */
    /* the request in progress */
    uint32_t       req;
    uint64_t       t_start;     /* latency origin: slot taken (closed) or due (open) */
    uint64_t       deadline;    /* timeout, or end of backoff in C_BACKOFF */
    size_t         woff;
    /* answer parsing */
    enum body_mode body;
    int            status;
    bool           close_after;
    uint64_t       remain;      /* B_LENGTH: bytes left; B_CHUNKED: bytes left in chunk */
    enum chunk_state chunk;
    int            chunk_digits;
    size_t         hlen;        /* bytes in hbuf */
    size_t         hscan;       /* where to resume looking for the blank line */
    char          *hbuf;        /* LG_HEADER_MAX bytes, owned */
};

struct shared {
    const lg_config *cfg;
    const lg_plan   *plan;
    volatile sig_atomic_t *stop;
    _Atomic uint64_t next_slot;
    uint64_t         end_ns;     /* duration runs: no new slot after this */
    int              done_fd;    /* eventfd: each worker adds 1 when it ends */
};

struct worker {
    struct shared   *sh;
    unsigned         index;
    int              ep;
    struct conn     *conns;
    unsigned         nconns;
    unsigned         busy;       /* conns with a request in progress */
    bool             exhausted;  /* no slot left (or time is up) */
    lg_stats         st;
    char            *scratch;    /* READ_CHUNK bytes for bodies */
    /* open loop */
    double           interval_ns;
    uint64_t         t0;
    uint64_t         k;          /* slots this worker has scheduled */
    struct conn    **idle;       /* stack of connections free to send */
    unsigned         nidle;
    /* progress, read by the monitor thread */
    _Atomic uint64_t prog_answered, prog_errors;
    pthread_t        tid;
    bool             started;
};

/* ---- slots ------------------------------------------------------------------------- */

static bool take_slot(struct worker *w, uint64_t now, uint32_t *req)
{
    struct shared *sh = w->sh;
    if (w->exhausted)
        return false;
    if ((sh->stop && *sh->stop) || (sh->end_ns && now >= sh->end_ns)) {
        w->exhausted = true;
        return false;
    }
    uint64_t slot = atomic_fetch_add_explicit(&sh->next_slot, 1, memory_order_relaxed);
    if (!sh->end_ns && slot >= sh->plan->n) {
        w->exhausted = true;
        return false;
    }
    *req = sh->plan->order[slot % sh->plan->n];
    return true;
}

/* ---- connection plumbing ------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        /* close() also removes it from the epoll set */
        close(c->fd);
        c->fd = -1;
    }
    c->reused = false;
}

/* Asks epoll for EPOLLOUT only while we wait for connect() or for room to write: with
 * edge triggering, an armed EPOLLOUT would wake us on every ACK. Returns false if the
 * socket could not be changed (then the request fails as a reset). */
static bool arm_out(struct worker *w, struct conn *c, bool on)
{
    if (c->out_armed == on)
        return true;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | (on ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        return false;
    c->out_armed = on;
    return true;
}

static void next_request(struct worker *w, struct conn *c, uint64_t now);
static void send_request(struct worker *w, struct conn *c, uint64_t now);

static void count_error(struct worker *w, lg_err_kind kind)
{
    w->st.errors[kind]++;
    atomic_store_explicit(&w->prog_errors, w->prog_errors + 1, memory_order_relaxed);
}

/* The request on c failed: count it, drop the socket, go on with the next one. */
static void fail_request(struct worker *w, struct conn *c, lg_err_kind kind, uint64_t now)
{
    count_error(w, kind);
    conn_close(c);
    w->busy--;
    if (kind == LG_ERR_CONNECT) {
        c->state = C_BACKOFF;
        c->deadline = now + LG_RECONNECT_DELAY_MS * 1000000ull;
        return;
    }
    c->state = C_FREE;
    next_request(w, c, now);
}

static void start_connect(struct worker *w, struct conn *c, uint64_t now)
{
    const lg_config *cfg = w->sh->cfg;
    w->st.connections++;
    c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_request(w, c, LG_ERR_CONNECT, now);
        return;
    }
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        fail_request(w, c, LG_ERR_CONNECT, now);
        return;
    }
    c->out_armed = true;
    if (connect(c->fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) == 0) {
        c->state = C_WRITING;
        send_request(w, c, now);
    } else if (errno == EINPROGRESS) {
        c->state = C_CONNECTING;
    } else {
        fail_request(w, c, LG_ERR_CONNECT, now);
    }
}

/* Starts request req on c, whose latency counts from t_start. */
static void assign(struct worker *w, struct conn *c, uint32_t req, uint64_t t_start,
                   uint64_t now)
{
    c->req = req;
    c->t_start = t_start;
    c->deadline = now + w->sh->cfg->timeout_ms * 1000000ull;
    c->woff = 0;
    w->busy++;
    w->st.attempted++;
    if (!w->st.first_send_ns)
        w->st.first_send_ns = now;
    if (c->fd < 0) {
        start_connect(w, c, now);
    } else {
        c->state = C_WRITING;
        send_request(w, c, now);
    }
}

/* Open loop: sends every slot that is due on idle connections. */
static void dispatch(struct worker *w, uint64_t now)
{
    while (w->nidle && !w->exhausted) {
        uint64_t due = w->t0 + (uint64_t)((double)w->k * w->interval_ns);
        if (due > now)
            return;
        uint32_t req;
        if (!take_slot(w, now, &req))
            return;
        w->k++;
        struct conn *c = w->idle[--w->nidle];
        assign(w, c, req, due, now);
    }
}

/* c is free (socket open and idle, or closed): give it its next request. */
static void next_request(struct worker *w, struct conn *c, uint64_t now)
{
    if (w->sh->cfg->rate > 0) {
        w->idle[w->nidle++] = c;
        if (c->fd >= 0)
            c->state = C_IDLE;
        dispatch(w, now);
        return;
    }
    uint32_t req;
    if (!take_slot(w, now, &req)) {
        conn_close(c);
        c->state = C_DONE;
        return;
    }
    assign(w, c, req, now, now);
}

static void send_request(struct worker *w, struct conn *c, uint64_t now)
{
    const lg_request *r = &w->sh->plan->reqs[c->req];
    while (c->woff < r->len) {
        ssize_t n = send(c->fd, r->data + c->woff, r->len - c->woff, MSG_NOSIGNAL);
        if (n > 0) {
            c->woff += (size_t)n;
            w->st.bytes_out += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!arm_out(w, c, true))
                fail_request(w, c, LG_ERR_RESET, now);
            return;   /* EPOLLOUT will resume */
        }
        /* a refused connect shows up here when connect() returned 0 or we had not
         * looked at SO_ERROR yet */
        bool fresh = !c->reused && c->state == C_WRITING && c->woff == 0;
        fail_request(w, c, fresh && errno == ECONNREFUSED ? LG_ERR_CONNECT : LG_ERR_RESET, now);
        return;
    }
    if (!arm_out(w, c, false)) {
        fail_request(w, c, LG_ERR_RESET, now);
        return;
    }
    c->state = C_READING;
    c->body = B_HEADERS;
    c->hlen = c->hscan = 0;
    c->status = 0;
}

/* ---- answer parsing ------------------------------------------------------------------ */

static bool header_is(const char *line, size_t n, const char *name, const char **value,
                      size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
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

static bool contains_token(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k))
            return true;
    return false;
}

/* Parses the status line and headers in hbuf[0..hdr_len). Returns 0 or -1 (bad). */
static int parse_head(struct conn *c, size_t hdr_len, bool head_request)
{
    const char *p = c->hbuf, *end = c->hbuf + hdr_len;
    if (hdr_len < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') ||
        p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
        p[11] < '0' || p[11] > '9')
        return -1;
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    bool http10 = p[7] == '0';
    bool have_len = false, chunked = false, conn_close_hdr = false, conn_keep = false;
    uint64_t len = 0;
    const char *line = memchr(p, '\n', (size_t)(end - p));
    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        size_t n = (size_t)(eol - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (!n)
            break;
        const char *v;
        size_t vn;
        if (header_is(line, n, "content-length", &v, &vn)) {
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
        } else if (header_is(line, n, "transfer-encoding", &v, &vn)) {
            chunked = contains_token(v, vn, "chunked");
        } else if (header_is(line, n, "connection", &v, &vn)) {
            conn_close_hdr |= contains_token(v, vn, "close");
            conn_keep |= contains_token(v, vn, "keep-alive");
        }
        line = eol;
    }
    c->close_after = conn_close_hdr || (http10 && !conn_keep);
    if (head_request || c->status < 200 || c->status == 204 || c->status == 304) {
        c->body = B_LENGTH;
        c->remain = 0;
    } else if (chunked) {
        c->body = B_CHUNKED;
        c->chunk = CH_SIZE;
        c->chunk_digits = 0;
        c->remain = 0;
    } else if (have_len) {
        c->body = B_LENGTH;
        c->remain = len;
    } else {
        c->body = B_UNTIL_CLOSE;
        c->close_after = true;
    }
    return 0;
}

/* Consumes body bytes. Returns 1 when the answer is complete, 0 when more is needed,
 * -1 on a framing error. *used is set to the bytes consumed. */
static int eat_body(struct conn *c, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    int rc = 0;
    switch (c->body) {
    case B_LENGTH: {
        size_t take = c->remain < n ? (size_t)c->remain : n;
        c->remain -= take;
        i = take;
        rc = c->remain == 0;
        break;
    }
    case B_UNTIL_CLOSE:
        i = n;
        break;
    case B_CHUNKED:
        while (i < n && rc == 0) {
            char ch = p[i];
            switch (c->chunk) {
            case CH_SIZE: {
                int d = ch >= '0' && ch <= '9' ? ch - '0'
                      : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                      : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
                if (d >= 0) {
                    if (++c->chunk_digits > 15)
                        return -1;
                    c->remain = c->remain * 16 + (uint64_t)d;
                } else if (!c->chunk_digits) {
                    return -1;
                } else if (ch == '\r') {
                    c->chunk = CH_SIZE_LF;
                } else if (ch == ';' || ch == ' ' || ch == '\t') {
                    c->chunk = CH_EXT;
                } else {
                    return -1;
                }
                i++;
                break;
            }
            case CH_EXT:
                if (ch == '\r')
                    c->chunk = CH_SIZE_LF;
                i++;
                break;
            case CH_SIZE_LF:
                if (ch != '\n')
                    return -1;
                i++;
                c->chunk = c->remain ? CH_DATA : CH_TRAILER;
                break;
            case CH_DATA: {
                size_t take = c->remain < n - i ? (size_t)c->remain : n - i;
                c->remain -= take;
                i += take;
                if (!c->remain)
                    c->chunk = CH_DATA_CR;
                break;
            }
            case CH_DATA_CR:
                if (ch != '\r')
                    return -1;
                c->chunk = CH_DATA_LF;
                i++;
                break;
            case CH_DATA_LF:
                if (ch != '\n')
                    return -1;
                c->chunk = CH_SIZE;
                c->chunk_digits = 0;
                c->remain = 0;
                i++;
                break;
            case CH_TRAILER: /* at the start of a trailer line (or the final CRLF) */
                if (ch == '\r') {
                    c->chunk = CH_TRAILER_LF;
                } else if (ch == '\n') {
                    rc = 1;
                } else {
                    c->chunk = CH_TRAILER_SKIP;
                    c->remain = 1;
                }
                i++;
                break;
            case CH_TRAILER_SKIP: /* inside a trailer field: skip to its LF */
                if (ch == '\n')
                    c->chunk = CH_TRAILER;
                else if (++c->remain > LG_HEADER_MAX)
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
        break;
    case B_HEADERS:
        return -1;
    }
    *used = i;
    return rc;
}

static void answer_complete(struct worker *w, struct conn *c, uint64_t now)
{
    lg_hist_record(&w->st.hist, now > c->t_start ? now - c->t_start : 0);
    w->st.answered++;
    w->st.status[c->status]++;
    w->st.last_answer_ns = now;
    atomic_store_explicit(&w->prog_answered, w->st.answered, memory_order_relaxed);
    w->busy--;
    if (!w->sh->cfg->keepalive || c->close_after)
        conn_close(c);
    else
        c->reused = true;
    c->state = c->fd >= 0 ? C_IDLE : C_FREE;
    next_request(w, c, now);
}

/* Feeds bytes that follow the header block (or a later read) to the body parser. */
static void feed_body(struct worker *w, struct conn *c, const char *p, size_t n,
                      uint64_t now)
{
    size_t used = 0;
    int rc = eat_body(c, p, n, &used);
    if (rc < 0)
        fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
    else if (rc > 0)
        answer_complete(w, c, now);
}

/* Looks for the end of the header block in hbuf; on finding it, parses it and hands the
 * rest to the body. Returns false when the connection was closed/reassigned. */
static void try_head(struct worker *w, struct conn *c, uint64_t now)
{
    for (;;) {
        size_t from = c->hscan > 3 ? c->hscan - 3 : 0;
        char *hit = memmem(c->hbuf + from, c->hlen - from, "\r\n\r\n", 4);
        if (!hit) {
            c->hscan = c->hlen;
            if (c->hlen == LG_HEADER_MAX)
                fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
            return;
        }
        size_t hdr_len = (size_t)(hit - c->hbuf) + 4;
        if (parse_head(c, hdr_len, w->sh->plan->reqs[c->req].head) != 0) {
            fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
            return;
        }
        size_t rest = c->hlen - hdr_len;
        if (c->status < 200) {
            /* 1xx interim answer: drop it, the real one follows */
            memmove(c->hbuf, c->hbuf + hdr_len, rest);
            c->hlen = rest;
            c->hscan = 0;
            c->body = B_HEADERS;
            continue;
        }
        if (c->body == B_LENGTH && c->remain == 0 && rest == 0) {
            answer_complete(w, c, now);
            return;
        }
        feed_body(w, c, c->hbuf + hdr_len, rest, now);
        return;
    }
}

static void on_readable(struct worker *w, struct conn *c, uint64_t now)
{
    for (;;) {
        char *dst;
        size_t room;
        if (c->body == B_HEADERS) {
            dst = c->hbuf + c->hlen;
            room = LG_HEADER_MAX - c->hlen;
        } else {
            dst = w->scratch;
            room = READ_CHUNK;
        }
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fail_request(w, c, LG_ERR_RESET, now);
            return;
        }
        if (n == 0) {
            if (c->body == B_UNTIL_CLOSE) {
                c->close_after = true;
                answer_complete(w, c, now);
            } else {
                fail_request(w, c, LG_ERR_RESET, now);
            }
            return;
        }
        w->st.bytes_in += (uint64_t)n;
        if (c->body == B_HEADERS) {
            c->hlen += (size_t)n;
            try_head(w, c, now);
        } else {
            feed_body(w, c, dst, (size_t)n, now);
        }
        /* the request is over (or the socket changed hands): stop reading it here */
        if (c->state != C_READING || c->fd < 0)
            return;
        if ((size_t)n < room)
            return;   /* drained: edge-triggered epoll reports the next arrival */
    }
}

/* An idle kept-alive socket became readable: the server closed it (or sent junk). */
static void on_idle_event(struct worker *w, struct conn *c)
{
    char tmp[256];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    (void)w;
    conn_close(c);   /* closed or unsolicited bytes: reconnect on the next request */
    c->state = C_FREE;
}

static void on_event(struct worker *w, struct conn *c, uint32_t events, uint64_t now)
{
    switch (c->state) {
    case C_CONNECTING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
                fail_request(w, c, LG_ERR_CONNECT, now);
                return;
            }
            c->state = C_WRITING;
            send_request(w, c, now);
            if (c->state == C_READING && (events & EPOLLIN))
                on_readable(w, c, now);
        }
        break;
    case C_WRITING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            send_request(w, c, now);
        if (c->state == C_READING && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(w, c, now);
        break;
    case C_READING:
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(w, c, now);
        break;
    case C_IDLE:
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_idle_event(w, c);
        break;
    default:
        break;
    }
}

/* Every SCAN_INTERVAL_NS: time out slow requests, end backoffs. */
static void scan(struct worker *w, uint64_t now)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if ((c->state == C_CONNECTING || c->state == C_WRITING || c->state == C_READING) &&
            now >= c->deadline) {
            fail_request(w, c, LG_ERR_TIMEOUT, now);
        } else if (c->state == C_BACKOFF && now >= c->deadline) {
            c->state = C_FREE;
            next_request(w, c, now);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    struct epoll_event evs[256];
    uint64_t now = lg_now_ns();
    w->st.start_ns = now;
    w->t0 = now;
    for (unsigned i = 0; i < w->nconns; i++)
        next_request(w, &w->conns[i], now);
    uint64_t next_scan = now + SCAN_INTERVAL_NS;
    for (;;) {
        now = lg_now_ns();
        if (sh->stop && *sh->stop)
            break;
        if (sh->end_ns && now >= sh->end_ns)
            break;
        if (w->exhausted && w->busy == 0)
            break;
        /* a worker whose every connection is DONE has nothing left to wait for */
        uint64_t wake = next_scan;
        if (sh->cfg->rate > 0 && w->nidle && !w->exhausted) {
            uint64_t due = w->t0 + (uint64_t)((double)w->k * w->interval_ns);
            if (due < wake)
                wake = due;
        }
        int timeout_ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
        int n = epoll_wait(w->ep, evs, (int)(sizeof evs / sizeof evs[0]), timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        now = lg_now_ns();
        for (int i = 0; i < n; i++)
            on_event(w, evs[i].data.ptr, evs[i].events, now);
        if (now >= next_scan) {
            scan(w, now);
            next_scan = now + SCAN_INTERVAL_NS;
        }
        if (sh->cfg->rate > 0)
            dispatch(w, now);
    }
    w->st.unfinished = w->busy;
    for (unsigned i = 0; i < w->nconns; i++)
        conn_close(&w->conns[i]);
    w->st.end_ns = lg_now_ns();
    uint64_t one = 1;
    if (write(sh->done_fd, &one, sizeof one) != sizeof one) {
        /* the monitor then notices on its next poll tick via the join below */
    }
    return NULL;
}

/* ---- setup, monitor, merge --------------------------------------------------------------- */

void lg_stats_free(lg_stats *s)
{
    if (s)
        lg_hist_free(&s->hist);
}

static void worker_free(struct worker *w)
{
    if (w->conns)
        for (unsigned i = 0; i < w->nconns; i++)
            free(w->conns[i].hbuf);
    free(w->conns);
    free(w->idle);
    free(w->scratch);
    lg_hist_free(&w->st.hist);
    if (w->ep >= 0)
        close(w->ep);
}

static void merge(lg_stats *out, const lg_stats *s)
{
    out->attempted += s->attempted;
    out->answered += s->answered;
    for (int i = 0; i < LG_STATUS_MAX; i++)
        out->status[i] += s->status[i];
    for (int i = 0; i < LG_ERR_KINDS; i++)
        out->errors[i] += s->errors[i];
    out->unfinished += s->unfinished;
    out->connections += s->connections;
    out->bytes_in += s->bytes_in;
    out->bytes_out += s->bytes_out;
    lg_hist_merge(&out->hist, &s->hist);
    if (s->first_send_ns && (!out->first_send_ns || s->first_send_ns < out->first_send_ns))
        out->first_send_ns = s->first_send_ns;
    if (s->last_answer_ns > out->last_answer_ns)
        out->last_answer_ns = s->last_answer_ns;
    if (s->end_ns > out->end_ns)
        out->end_ns = s->end_ns;
}

int lg_run(const lg_config *cfg, const lg_plan *plan, volatile sig_atomic_t *stop,
           lg_stats *out, sl_err *err)
{
    int rc = 0;
    memset(out, 0, sizeof *out);
    if (lg_hist_init(&out->hist) != 0)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    if (!cfg->threads || cfg->threads > LG_MAX_THREADS || cfg->conns < cfg->threads ||
        cfg->conns > LG_MAX_CONNS || !plan->n || !cfg->timeout_ms)
        return sl_err_set(err, -EINVAL, false, "bad load configuration");

    struct shared sh = {.cfg = cfg, .plan = plan, .stop = stop, .done_fd = -1};
    atomic_init(&sh.next_slot, 0);
    struct worker *ws = calloc(cfg->threads, sizeof *ws);
    if (!ws)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    for (unsigned t = 0; t < cfg->threads; t++)
        ws[t].ep = -1;
    sh.done_fd = eventfd(0, EFD_CLOEXEC);
    if (sh.done_fd < 0) {
        rc = sl_err_errno(err, errno, "eventfd");
        goto out;
    }
    for (unsigned t = 0; t < cfg->threads; t++) {
        struct worker *w = &ws[t];
        w->sh = &sh;
        w->index = t;
        w->nconns = cfg->conns / cfg->threads + (t < cfg->conns % cfg->threads);
        if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
            rc = sl_err_errno(err, errno, "epoll_create1");
            goto out;
        }
        w->conns = calloc(w->nconns, sizeof *w->conns);
        w->idle = calloc(w->nconns, sizeof *w->idle);
        w->scratch = malloc(READ_CHUNK);
        if (!w->conns || !w->idle || !w->scratch || lg_hist_init(&w->st.hist) != 0) {
            rc = sl_err_set(err, -ENOMEM, true, "out of memory for %u connections", cfg->conns);
            goto out;
        }
        for (unsigned i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];
            c->w = w;
            c->fd = -1;
            c->state = C_FREE;
            if (!(c->hbuf = malloc(LG_HEADER_MAX))) {
                rc = sl_err_set(err, -ENOMEM, true, "out of memory for %u connections",
                                cfg->conns);
                goto out;
            }
        }
        if (cfg->rate > 0) {
            /* each worker sends its share; workers are offset so that the sends of all
             * interleave evenly instead of bunching */
            double per = cfg->rate / cfg->threads;
            w->interval_ns = 1e9 / per;
        }
    }
    uint64_t start = lg_now_ns();
    if (cfg->duration_ms)
        sh.end_ns = start + cfg->duration_ms * 1000000ull;
    for (unsigned t = 0; t < cfg->threads; t++) {
        if ((rc = -pthread_create(&ws[t].tid, NULL, worker_main, &ws[t])) != 0) {
            sl_err_errno(err, -rc, "pthread_create");
            /* the started ones run to the end of the plan; tell them to stop */
            sh.end_ns = 1;
            break;
        }
        ws[t].started = true;
    }

    /* monitor: wait for the workers, report progress about once a second */
    unsigned finished = 0, started = 0;
    for (unsigned t = 0; t < cfg->threads; t++)
        started += ws[t].started;
    while (finished < started) {
        struct pollfd pfd = {.fd = sh.done_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 1000);
        if (pr > 0) {
            uint64_t v;
            if (read(sh.done_fd, &v, sizeof v) == sizeof v)
                finished += (unsigned)v;
        }
        if (cfg->progress && finished < started) {
            uint64_t a = 0, e = 0;
            for (unsigned t = 0; t < cfg->threads; t++) {
                a += atomic_load_explicit(&ws[t].prog_answered, memory_order_relaxed);
                e += atomic_load_explicit(&ws[t].prog_errors, memory_order_relaxed);
            }
            cfg->progress(cfg->progress_arg, a, e, (double)(lg_now_ns() - start) / 1e9);
        }
    }
    for (unsigned t = 0; t < cfg->threads; t++)
        if (ws[t].started)
            pthread_join(ws[t].tid, NULL);
    if (!rc) {
        for (unsigned t = 0; t < cfg->threads; t++)
            merge(out, &ws[t].st);
        out->start_ns = start;
        if (!out->end_ns)
            out->end_ns = lg_now_ns();
    }
out:
    for (unsigned t = 0; t < cfg->threads; t++)
        worker_free(&ws[t]);
    free(ws);
    if (sh.done_fd >= 0)
        close(sh.done_fd);
    return rc;
}
