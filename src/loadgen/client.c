/* client.c — epoll HTTP/1.1 load engine (contract in client.h).
 *
 * Each worker thread owns an epoll instance and an array of connections; nothing in a
 * worker is shared except the slot counter (atomic, on its own cache line, taken
 * SLOT_BATCH slots at a time) and the progress counters (written by the worker, read by
 * the monitor about once a second; each worker is cache-line aligned so that one
 * worker's writes never evict another's data). Sockets are registered once, edge
 * triggered, for both directions and for the peer's close (EPOLLRDHUP); a read that
 * returns less than asked for means the socket was drained, which saves the extra
 * read-until-EAGAIN call per answer. That shortcut alone would lose a close that came
 * with the last bytes (a close-delimited or truncated answer): edge-triggered epoll
 * reports the FIN once, together with the data, and never again. So an event that says
 * EPOLLRDHUP marks the connection peer_closed, and a peer-closed socket is read until
 * recv() says 0 (or EAGAIN).
 *
 * Cost per request, which is what decides how hard we can drive a server that shares the
 * machine's cores with us: one send() of the pre-formatted request, one recv() into the
 * worker's read buffer (one buffer for all connections, so it stays in cache), the answer
 * framed in place by response.c without a copy, two clock reads per epoll_wait() batch
 * rather than per request, no allocation. (Sending the next requests of one batch
 * together after it, as wrk does, was measured against nginx and made no difference.)
 *
 * Connection life: FREE (no socket) -> CONNECTING -> WRITING -> READING -> IDLE (kept
 * alive, no request) -> WRITING ... ; any failure closes the socket and goes back to FREE
 * (or to BACKOFF for a while after a failed connect, so that a dead server does not make
 * us spin). DONE: no more work for this connection.
 */
#include "common/clock.h"
#include "loadgen/client.h"
#include "loadgen/response.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

const char *const lg_err_names[LG_ERR_KINDS] = {"connect", "timeout", "reset", "bad_response"};

#define SCAN_INTERVAL_NS 10000000ull  /* timeouts, backoffs and *stop checked this often */
#define READ_CHUNK       65536u
#define SLOT_BATCH       16u    /* closed loop: slots taken from the shared counter at once */
#define CACHE_LINE       64

uint64_t lg_now_ns(void) { return sl_mono_ns(); }

enum conn_state { C_FREE, C_BACKOFF, C_CONNECTING, C_WRITING, C_READING, C_IDLE, C_DONE };

struct worker;

struct conn {
    struct worker *w;
    int            fd;
    enum conn_state state;
    bool           reused;      /* an answer already came on this socket */
    bool           out_armed;   /* EPOLLOUT is in the socket's epoll interest */
    bool           peer_closed; /* epoll said EPOLLRDHUP: the server sent its FIN */
    /* the request in progress */
    uint32_t       req;
    uint64_t       t_start;     /* latency origin: slot taken (closed) or due (open) */
    uint64_t       deadline;    /* timeout, or end of backoff in C_BACKOFF */
    size_t         woff;
    bool           got_bytes;   /* some byte of the answer arrived */
    /* answer parsing */
    bool           in_body;     /* the header block is parsed; resp frames the body */
    lg_resp        resp;
    /* A header block that did not arrive in one read is gathered here (allocated on first
     * need: with well-behaved servers, never); hlen = 0 otherwise. */
    size_t         hlen;        /* bytes in hbuf */
    char          *hbuf;        /* LG_HEADER_MAX bytes, owned */
};

struct shared {
    const lg_config *cfg;
    const lg_plan   *plan;
    volatile sig_atomic_t *stop;
    uint64_t         start_ns;   /* open loop: worker k's slot j is due at start_ns +
                                    (k + j * threads) / rate */
    uint64_t         end_ns;     /* duration runs: no new slot after this */
    int              done_fd;    /* eventfd: each worker adds 1 when it ends */
    /* written by every worker: alone on its cache line (the alignment also rounds the
     * struct's size up to a whole line), away from what they only read */
    alignas(CACHE_LINE) _Atomic uint64_t next_slot;
};

struct worker {
    alignas(CACHE_LINE) struct shared *sh;   /* see the end */
    unsigned         index;
    int              ep;
    struct conn     *conns;
    unsigned         nconns;
    unsigned         busy;       /* conns with a request in progress */
    bool             exhausted;  /* no slot left (or time is up) */
    lg_stats         st;
    char            *scratch;    /* READ_CHUNK bytes: every recv() of a worker lands here */
    uint64_t         slot_next, slot_end;  /* slots taken from sh->next_slot, not yet used */
    unsigned         slot_batch; /* how many to take at once */
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
};  /* aligned first member: sizeof is a whole number of cache lines */

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
    if (w->slot_next == w->slot_end) {
        /* Taking several slots at once saves most trips of the counter's cache line
         * between cores. Near the end of a fixed-count run, one at a time, so that no
         * worker holds slots that another, idle one could send. */
        uint64_t want = w->slot_batch;
        if (want > 1 && !sh->end_ns &&
            atomic_load_explicit(&sh->next_slot, memory_order_relaxed) +
                    (uint64_t)want * 4 * sh->cfg->threads >= sh->plan->n)
            want = 1;
        w->slot_next = atomic_fetch_add_explicit(&sh->next_slot, want, memory_order_relaxed);
        w->slot_end = w->slot_next + want;
    }
    uint64_t slot = w->slot_next;
    if (!sh->end_ns && slot >= sh->plan->n) {
        w->exhausted = true;
        return false;
    }
    w->slot_next++;
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
    c->peer_closed = false;
    c->hlen = 0;
}

/* Asks epoll for EPOLLOUT only while we wait for connect() or for room to write: with
 * edge triggering, an armed EPOLLOUT would wake us on every ACK. Returns false if the
 * socket could not be changed (then the request fails as a reset). */
static bool arm_out(struct worker *w, struct conn *c, bool on)
{
    if (c->out_armed == on)
        return true;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0),
                             .data.ptr = c};
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

static void start_connect(struct worker *w, struct conn *c, uint64_t now);

/* The request on c failed: count it, drop the socket, go on with the next one.
 *
 * Except in the one case where the failure is the keep-alive race, not the server's
 * answer: a server may close an idle kept-alive connection at any time (a keep-alive
 * timeout or request limit, or simply without having said Connection: close), and a
 * request sent just before its FIN arrived meets a closed socket. When the connection
 * had carried an answer before and not one byte of this request's answer came, the
 * request is sent again on a new connection (as curl and browsers do); a new connection
 * is not a reused one, so that happens once at most. Its latency and deadline still count
 * from the first try. */
static void fail_request(struct worker *w, struct conn *c, lg_err_kind kind, uint64_t now)
{
    if (kind == LG_ERR_RESET && c->reused && !c->got_bytes) {
        w->st.retried++;
        conn_close(c);
        c->woff = 0;
        start_connect(w, c, now);
        return;
    }
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
        if (errno == EMFILE || errno == ENFILE)
            w->st.connect_no_fd++;
        fail_request(w, c, LG_ERR_CONNECT, now);
        return;
    }
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
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
    c->got_bytes = false;
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
    c->in_body = false;
    c->hlen = 0;
}

/* ---- answers ------------------------------------------------------------------------ */

static void answer_complete(struct worker *w, struct conn *c, uint64_t now)
{
    lg_hist_record(&w->st.hist, now > c->t_start ? now - c->t_start : 0);
    w->st.answered++;
    w->st.status[c->resp.status]++;
    w->st.last_answer_ns = now;
    atomic_store_explicit(&w->prog_answered, w->st.answered, memory_order_relaxed);
    w->busy--;
    /* a server that closed without saying Connection: close gets no further request on
     * this socket when we already know it */
    if (!w->sh->cfg->keepalive || c->resp.close_after || c->peer_closed)
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
    int rc = lg_resp_body(&c->resp, p, n, &used);
    if (rc < 0)
        fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
    else if (rc > 0)
        answer_complete(w, c, now);
}

/* Bytes p[0..n) of the answer while its header block is not parsed yet: either a fresh
 * read in the worker's buffer (c->hlen == 0) or c->hbuf. Parses the block in place when
 * it is complete and hands what follows to the body; keeps an incomplete block in
 * c->hbuf for the next read. */
static void on_head_bytes(struct worker *w, struct conn *c, const char *p, size_t n,
                          uint64_t now)
{
    bool head_req = w->sh->plan->reqs[c->req].head;
    for (;;) {
        long h = lg_resp_head(&c->resp, p, n, head_req);
        if (h < 0) {
            fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
            return;
        }
        if (h == 0) {
            if (n >= LG_HEADER_MAX) {
                fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
                return;
            }
            if (!c->hbuf && !(c->hbuf = malloc(LG_HEADER_MAX))) {
                fail_request(w, c, LG_ERR_RESET, now);   /* out of memory: drop the socket */
                return;
            }
            memmove(c->hbuf, p, n);
            c->hlen = n;
            return;
        }
        p += h;
        n -= (size_t)h;
        if (c->resp.status >= 200)
            break;
        /* 1xx interim answer: drop it, the real one follows */
        if (!n) {
            c->hlen = 0;
            return;
        }
    }
    c->hlen = 0;
    c->in_body = true;
    if (c->resp.body == LG_BODY_LENGTH && c->resp.remain == 0)
        answer_complete(w, c, now);
    else
        feed_body(w, c, p, n, now);
}

static void on_readable(struct worker *w, struct conn *c, uint64_t now)
{
    for (;;) {
        /* a header block gathered in pieces grows in hbuf; everything else is read into
         * the worker's buffer and parsed there */
        bool gather = c->hlen > 0;
        char *dst = gather ? c->hbuf + c->hlen : w->scratch;
        size_t room = gather ? LG_HEADER_MAX - c->hlen : READ_CHUNK;
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
            if (c->in_body && c->resp.body == LG_BODY_UNTIL_CLOSE) {
                c->resp.close_after = true;
                answer_complete(w, c, now);
            } else {
                fail_request(w, c, LG_ERR_RESET, now);
            }
            return;
        }
        w->st.bytes_in += (uint64_t)n;
        c->got_bytes = true;
        if (c->in_body) {
            feed_body(w, c, dst, (size_t)n, now);
        } else if (!gather) {
            on_head_bytes(w, c, dst, (size_t)n, now);
        } else {
            size_t old = c->hlen;
            c->hlen += (size_t)n;
            /* parse only once the blank line is there: a server that trickles its
             * header byte by byte costs a scan of each byte, not of the whole block */
            if (lg_resp_head_complete(c->hbuf, c->hlen, old))
                on_head_bytes(w, c, c->hbuf, c->hlen, now);
            else if (c->hlen == LG_HEADER_MAX)
                fail_request(w, c, LG_ERR_BAD_RESPONSE, now);
        }
        /* the request is over (or the socket changed hands): stop reading it here */
        if (c->state != C_READING || c->fd < 0)
            return;
        if ((size_t)n < room && !c->peer_closed)
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
    if (events & EPOLLRDHUP)
        c->peer_closed = true;   /* read on to the end: no other event will come */
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
            if (c->state == C_READING && (events & (EPOLLIN | EPOLLRDHUP)))
                on_readable(w, c, now);
        }
        break;
    case C_WRITING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            send_request(w, c, now);
        if (c->state == C_READING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            on_readable(w, c, now);
        break;
    case C_READING:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            on_readable(w, c, now);
        break;
    case C_IDLE:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
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

/* Waits at most wait_ns for events. An open loop sleeps until its next request is due,
 * and epoll_wait() counts its timeout in whole milliseconds: rounded up, every request
 * would go out up to 1 ms late, and that lateness would count as the server's latency;
 * rounded down, the worker would spin through the last millisecond. epoll_pwait2() takes
 * nanoseconds (Linux 5.11); epoll_wait() stays as the fallback for older kernels. */
static int wait_events(int ep, struct epoll_event *evs, int max, uint64_t wait_ns)
{
    static atomic_bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = (time_t)(wait_ns / 1000000000u),
                              .tv_nsec = (long)(wait_ns % 1000000000u)};
        int n = epoll_pwait2(ep, evs, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
    }
    return epoll_wait(ep, evs, max, (int)((wait_ns + 999999) / 1000000));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    struct epoll_event evs[256];
    if (sh->cfg->sched_batch) {
        /* best effort: if the policy cannot be set, the run is the same, only with
         * more preemption of whatever shares our cores */
        struct sched_param sp = {.sched_priority = 0};
        (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    }
    if (sh->cfg->rate > 0) {
        /* The kernel may delay a timed wake-up by the thread's timer slack (50 us by
         * default) to batch it with others; an open loop wants its send times exact. */
        (void)prctl(PR_SET_TIMERSLACK, 1ul, 0, 0, 0);
        /* Worker k's schedule starts k/rate after the first: the threads' sends
         * interleave, one every 1/rate in all, instead of arriving together. */
        w->t0 = sh->start_ns + (uint64_t)((double)w->index * 1e9 / sh->cfg->rate);
    }
    uint64_t now = lg_now_ns();
    w->st.start_ns = now;
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
        int n = wait_events(w->ep, evs, (int)(sizeof evs / sizeof evs[0]),
                            wake > now ? wake - now : 0);
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
    out->retried += s->retried;
    out->connect_no_fd += s->connect_no_fd;
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
    /* aligned: a worker's hot fields share no cache line with another worker's */
    struct worker *ws = aligned_alloc(alignof(struct worker), cfg->threads * sizeof *ws);
    if (!ws)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    memset(ws, 0, cfg->threads * sizeof *ws);
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
        w->slot_batch = cfg->rate > 0 ? 1 : SLOT_BATCH;
        if (!w->conns || !w->idle || !w->scratch ||
            lg_hist_init(&w->st.hist) != 0) {
            rc = sl_err_set(err, -ENOMEM, true, "out of memory for %u connections", cfg->conns);
            goto out;
        }
        for (unsigned i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];
            c->w = w;
            c->fd = -1;
            c->state = C_FREE;
        }
        if (cfg->rate > 0) {
            /* each worker sends its share; worker_main() offsets their schedules */
            double per = cfg->rate / cfg->threads;
            w->interval_ns = 1e9 / per;
        }
    }
    uint64_t start = lg_now_ns();
    sh.start_ns = start;
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
