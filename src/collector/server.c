/* server.c — h2o setup, request dispatch, responses, threads and graceful shutdown.
 *
 * Paths the collector answers itself (an app spec may not use them; spec_load refuses):
 *   GET  /healthz     200 {"status":"ok"}
 *   GET  /metrics     Prometheus text (metrics.h)
 *   POST /events      generic ingestion (ingest.h)
 *   /_sluice/...      reserved for later use (404 today)
 * Every other path is looked up in the app spec: a route answers its configured status
 * and body after its event is stored; a known path with another method answers 405 with
 * Allow; anything else 404. Errors are JSON: {"error":"...","index":N}.
 *
 * Limits: bodies above --max-body get 413 from h2o itself (we lower h2o's 1 GiB default);
 * more than max_headers headers or max_header_bytes of header text get 431 from us. The
 * guard (guard.c) answers what h2o 2.2 would not: 408 for a client idle or slower than
 * --timeout, 414/431 for a head above h2o's own hard limits.
 *
 * Threads: N workers, each an h2o_evloop with its own SO_REUSEPORT listener, so the
 * kernel spreads connections and no lock is taken per request. The main thread only
 * waits for SIGINT/SIGTERM and then asks every loop to drain (worker_main): stop
 * accepting, close the connections with nothing under way, finish the requests under way
 * (still arriving, waiting on the log, being written) until the drain deadline, exit.
 * The caller closes the log afterwards, which flushes it.
 */
#include "collector/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "collector/auth.h"
#include "collector/event.h"
#include "common/clock.h"
#include "common/json.h"

#define COLL_MAX_QUERY_PARAMS 128
#define COLL_EVENT_BUF_MAX    ((size_t)192 << 20)

void coll_config_init(coll_config *c)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 5000;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (unsigned)n : 1;
    c->max_body = 1 << 20;
    c->timeout_ms = 10000;
    c->max_headers = 64;
    c->max_header_bytes = 16 << 10;
    c->drain_ms = 10000;
    coll_ingest_limits_init(&c->limits);
}

/* ---------------------------------------------------------------- responses */

static void access_line(coll_worker *w, const struct sockaddr_storage *ss, socklen_t sl,
                        const char *request, int status, size_t bytes, uint64_t ns)
{
    char at[COLL_RECEIVED_AT_LEN + 1];
    coll_received_at(coll_now_ms(), at);
    at[COLL_RECEIVED_AT_LEN] = '\0';
    char peer[INET6_ADDRSTRLEN] = "-";
    if (sl > 0) {
        if (ss->ss_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, peer, sizeof peer);
        else if (ss->ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, peer, sizeof peer);
    }
    /* one fprintf per line: stdio locks the FILE, so lines of two threads never mix */
    fprintf(w->srv->cfg->access_log, "%s %s \"%s\" %d %zu %.3fms\n", peer, at, request, status,
            bytes, (double)ns / 1e6);
}

static void access_log(coll_worker *w, h2o_req_t *req, int status, size_t bytes, uint64_t ns)
{
    if (!w->srv->cfg->access_log)
        return;
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    /* the request target as sent, cut at 512 bytes; control bytes never reach here
     * (picohttpparser refuses them in the request line) */
    char request[600];
    const h2o_iovec_t target = req->input.path;
    int plen = target.len > 512 ? 512 : (int)target.len;
    int mlen = req->method.len > 16 ? 16 : (int)req->method.len;
    snprintf(request, sizeof request, "%.*s %.*s HTTP/%d.%d", mlen, req->method.base, plen,
             target.base, req->version >> 8, req->version & 0xff);
    access_line(w, &ss, sl, request, status, bytes, ns);
}

void coll_log_raw(coll_worker *w, int fd, int status, size_t bytes)
{
    coll_metrics_request(&w->metrics, w->srv->app->nroutes + COLL_RT_UNMATCHED, status, 0);
    if (!w->srv->cfg->access_log)
        return;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        sl = 0;
    access_line(w, &ss, sl, "-", status, bytes, 0);
}

static void finish(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                   int status, size_t bytes)
{
    uint64_t ns = sl_mono_ns() - t0_ns;
    coll_metrics_request(&w->metrics, route_slot, status, ns);
    access_log(w, req, status, bytes, ns);
}

const char *coll_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default:  return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

static bool method_is(h2o_req_t *req, const char *m)
{
    size_t n = strlen(m);
    return req->method.len == n && memcmp(req->method.base, m, n) == 0;
}

/* Every answer goes through here, so that HTTP's framing rules hold for all of them:
 * 204 and 304 carry no content and no Content-Length (RFC 9110 15.3.5, 15.4.5), and the
 * answer to HEAD has the headers the same request with GET would get (Content-Length
 * included) but no content (9.3.2); anything else would be read by the client as the
 * start of the next response on a kept-alive connection. */
void coll_respond(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                  int status, const char *content_type, h2o_iovec_t body)
{
    static h2o_generator_t generator = {NULL, NULL};
    if (w->draining)  /* the connection closes after this answer */
        req->http1_is_persistent = 0;
    bool no_content = status == 204 || status == 304;
    bool send_body = !no_content && !method_is(req, "HEAD");
    req->res.status = status;
    req->res.reason = coll_reason(status);
    req->res.content_length = no_content ? SIZE_MAX : body.len;
    if (content_type && !no_content)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       content_type, strlen(content_type));
    finish(w, req, route_slot, t0_ns, status, send_body ? body.len : 0);
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    h2o_start_response(req, &generator);
    /* body points at memory that outlives the request (spec strings) or at its pool */
    h2o_send(req, &body, send_body ? 1 : 0, H2O_SEND_STATE_FINAL);
    coll_guard_responded(req, sock);
}

/* 405 with Allow: the methods the path accepts. */
static void respond_405(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0,
                        const char *allow, size_t allow_len)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, allow_len);
    char msg[160];
    snprintf(msg, sizeof msg, "method not allowed for this path (allowed: %.*s)",
             (int)(allow_len > 100 ? 100 : allow_len), allow);
    coll_respond_error(w, req, route_slot, t0, 405, msg, -1);
}

/* A JSON body {"error":msg[,"index":N]extra} in the request's pool. */
static h2o_iovec_t error_body(h2o_req_t *req, const char *msg, long long index,
                              h2o_iovec_t extra)
{
    size_t mlen = strlen(msg);
    size_t cap = json_escaped_len(msg, mlen) + 64 + extra.len;
    char *p = h2o_mem_alloc_pool(&req->pool, cap);
    size_t n = 0;
    memcpy(p, "{\"error\":", 9);
    n = 9;
    n += json_escape(msg, mlen, p + n);
    if (index >= 0)
        n += (size_t)snprintf(p + n, cap - n, ",\"index\":%lld", index);
    if (extra.len)
        memcpy(p + n, extra.base, extra.len);
    n += extra.len;
    p[n++] = '}';
    p[n++] = '\n';
    return h2o_iovec_init(p, n);
}

void coll_respond_error_extra(coll_worker *w, h2o_req_t *req, size_t route_slot,
                              uint64_t t0_ns, int status, const char *msg, long long index,
                              h2o_iovec_t extra)
{
    if (status == 503)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("1"));
    coll_respond(w, req, route_slot, t0_ns, status, "application/json",
                 error_body(req, msg, index, extra));
}

void coll_respond_error(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                        int status, const char *msg, long long index)
{
    coll_respond_error_extra(w, req, route_slot, t0_ns, status, msg, index,
                             h2o_iovec_init(NULL, 0));
}

/* ---------------------------------------------------------------- appending */

/* Group append. Handlers build their events into the loop's batch buffer (w->ev, event
 * i ending at w->ends[i]) and queue their request; at the end of the loop iteration (h2o's
 * zero timeout runs after the I/O callbacks) one log_append_nowait() takes the events of
 * every request the iteration handled, so a loop serving 32 keep-alive clients makes one
 * write(2) instead of 32, and the log's writer lock is taken once per iteration per loop.
 * The log's batch is all-or-nothing, so each request still is: stored whole, or 503. */
#define COLL_BATCH_FLUSH_BYTES ((size_t)8 << 20)

static void batch_flush(coll_worker *w)
{
    coll_server *srv = w->srv;
    if (h2o_timeout_is_linked(&w->flush_entry))
        h2o_timeout_unlink(&w->flush_entry);
    coll_pending *list = w->batch_head;
    size_t n = w->nbatch;
    w->batch_head = w->batch_tail = NULL;
    if (!list || n == 0) {
        w->nbatch = 0;
        sl_buf_reset(&w->ev);
        return;
    }
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        w->entries[i].data = w->ev.p + start;
        w->entries[i].len = (uint32_t)(w->ends[i] - start);
        w->entries[i].ts_ms = 0;
        start = w->ends[i];
    }
    if (srv->cfg->kafka) {  /* one message per event, answered on delivery (ack.c) */
        coll_ack_kafka_flush(w, list, w->entries);
        return;
    }
    uint64_t first = 0;
    sl_err err;
    sl_err_clear(&err);
    uint64_t gen = atomic_load(&srv->sync_fail_gen);
    uint64_t t_append = sl_mono_ns();
    int rc = log_append_nowait(srv->topic, w->entries, n, &first, &err);
    /* the batch is the log's now (or refused): responding below may start new requests */
    w->nbatch = 0;
    sl_buf_reset(&w->ev);
    uint64_t durable = log_durable_end(srv->topic);
    uint64_t off = first;
    while (list) {
        coll_pending *p = list;
        list = p->next;
        p->next = NULL;
        if (rc < 0) {
            coll_metrics_append_failed(&w->metrics);
            coll_respond_error(w, p->req, p->route_slot, p->t0_ns, rc == -EMSGSIZE ? 413 : 503,
                               err.msg, -1);
            continue;
        }
        off += p->nevents;
        p->end = off;
        p->fail_gen = gen;
        p->t_append_ns = t_append;
        if (durable >= p->end) {  /* written is durable with --fsync never / interval */
            coll_metrics_append(&w->metrics, p->nevents, p->nbytes, sl_mono_ns() - t_append);
            coll_respond(w, p->req, p->route_slot, p->t0_ns, p->status, p->content_type, p->body);
        } else {
            coll_ack_enqueue(w, p);
        }
    }
}

static void on_flush_timeout(h2o_timeout_entry_t *entry)
{
    coll_worker *w = H2O_STRUCT_FROM_MEMBER(coll_worker, flush_entry, entry);
    batch_flush(w);
}

/* Makes room for `events` more events in the batch, flushing what is there if needed. */
static void batch_make_room(coll_worker *w, size_t events)
{
    if (w->nbatch > 0 && (w->nbatch + events > w->batch_cap || w->ev.len > COLL_BATCH_FLUSH_BYTES))
        batch_flush(w);
}

/* Queues req, whose n events were just built into the batch (w->ends[w->nbatch ..]). */
static void batch_add(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                      size_t n, int status, const char *content_type, h2o_iovec_t body)
{
    coll_pending *p = h2o_mem_alloc_pool(&req->pool, sizeof *p);
    size_t before = w->nbatch ? w->ends[w->nbatch - 1] : 0;
    p->next = NULL;
    p->req = req;
    p->end = 0;
    p->fail_gen = 0;
    p->t0_ns = t0_ns;
    p->t_append_ns = 0;
    p->nevents = n;
    p->nbytes = w->ends[w->nbatch + n - 1] - before;
    p->route_slot = route_slot;
    p->status = status;
    p->body = body;
    p->content_type = content_type;
    if (w->batch_tail)
        w->batch_tail->next = p;
    else
        w->batch_head = p;
    w->batch_tail = p;
    w->nbatch += n;
    if (!h2o_timeout_is_linked(&w->flush_entry))
        h2o_timeout_link(w->loop, &w->ctx.zero_timeout, &w->flush_entry);
}

/* ---------------------------------------------------------------- handlers */

/* Headers as sent: h2o lowercases names for lookup but keeps orig_name. Host is not in
 * req->headers (h2o moves it to authority), so it is added first under its usual name,
 * if the client sent one: without it (HTTP/1.0) h2o puts the name of its host
 * configuration ("default") there, which is no header of the request. A header that
 * repeats (names compared case-insensitively) becomes one member whose value joins the
 * values with ", ", under the first spelling, as a WSGI server hands them to Flask. The
 * joined text lives in the request's pool. */
static size_t collect_headers(h2o_req_t *req, coll_header *out, size_t max)
{
    size_t n = 0;
    const h2o_iovec_t host = req->input.authority;
    if (host.base && host.base != (*req->conn->hosts)->authority.hostport.base && n < max)
        out[n++] = (coll_header){"Host", 4, host.base, host.len};
    for (size_t i = 0; i < req->headers.size && n < max; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        const char *name = h->orig_name ? h->orig_name : h->name->base;
        if (h->name == &H2O_TOKEN_AUTHORIZATION->buf)
            continue;  /* credentials (write keys) are never stored in an event */
        size_t j = 0;
        while (j < n && !(out[j].name_len == h->name->len &&
                          h2o_lcstris(out[j].name, out[j].name_len, h->name->base, h->name->len)))
            j++;
        if (j < n) {
            size_t len = out[j].value_len + 2 + h->value.len;
            char *v = h2o_mem_alloc_pool(&req->pool, len);
            memcpy(v, out[j].value, out[j].value_len);
            memcpy(v + out[j].value_len, ", ", 2);
            memcpy(v + out[j].value_len + 2, h->value.base, h->value.len);
            out[j].value = v;
            out[j].value_len = len;
            continue;
        }
        out[n++] = (coll_header){name, h->name->len, h->value.base, h->value.len};
    }
    /* h2o takes Content-Length out of the headers; Flask's request.headers has it for a
     * request with a body, and so does the event: the body's length in bytes */
    if (req->entity.base && n < max) {
        char *v = h2o_mem_alloc_pool(&req->pool, 24);
        int vl = snprintf(v, 24, "%zu", req->entity.len);
        out[n++] = (coll_header){"Content-Length", 14, v, (size_t)vl};
    }
    return n;
}

/* The request's query parameters, decoded into q[COLL_MAX_QUERY_PARAMS] (the text lives in
 * w->qscratch until the next request). Returns their number, or -1 after answering 400:
 * more than COLL_MAX_QUERY_PARAMS, or a name given twice (which of the values the client
 * meant is not ours to guess, and keeping one silently would lose the other). */
static int query_params(coll_worker *w, h2o_req_t *req, size_t slot, uint64_t t0, spec_kv *q)
{
    if (req->query_at == SIZE_MAX)
        return 0;
    int nq = coll_query_decode(req->path.base + req->query_at + 1,
                               req->path.len - req->query_at - 1, &w->qscratch,
                               (struct spec_kv *)q, COLL_MAX_QUERY_PARAMS);
    if (nq < 0) {
        coll_respond_error(w, req, slot, t0, 400, "too many query parameters (max 128)", -1);
        return -1;
    }
    for (int i = 1; i < nq; i++)
        for (int j = 0; j < i; j++) {
            if (q[i].key_len != q[j].key_len || memcmp(q[i].key, q[j].key, q[i].key_len))
                continue;
            char msg[160];
            snprintf(msg, sizeof msg, "query parameter '%.*s' is given more than once",
                     (int)(q[i].key_len > 64 ? 64 : q[i].key_len), q[i].key);
            coll_respond_error(w, req, slot, t0, 400, msg, -1);
            return -1;
        }
    return nq;
}

static bool headers_too_large(coll_worker *w, h2o_req_t *req)
{
    const coll_config *cfg = w->srv->cfg;
    if (req->headers.size > cfg->max_headers)
        return true;
    uint64_t bytes = req->input.authority.len;
    for (size_t i = 0; i < req->headers.size; i++)
        bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    return bytes > cfg->max_header_bytes;
}

/* CORS (--cors-origin): lets a web page of an allowed origin send events from the browser.
 * An allowed Origin gets Access-Control-Allow-Origin on the answer (the origin itself, or
 * * with --cors-origin '*'); a preflight (OPTIONS with Access-Control-Request-Method) is
 * answered 204 here, before the write key is asked for, since browsers send no
 * credentials with it. Other origins get no CORS headers, so the browser keeps the
 * answer from the page. True if the request was answered. */
static bool cors(coll_worker *w, h2o_req_t *req, size_t slot, uint64_t t0)
{
    const coll_config *cfg = w->srv->cfg;
    if (cfg->ncors == 0)
        return false;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    if (i < 0)
        return false;
    h2o_iovec_t origin = req->headers.entries[i].value;
    bool ok = false, any = false;
    for (size_t k = 0; k < cfg->ncors && !ok; k++) {
        any = !strcmp(cfg->cors_origins[k], "*");
        ok = any || h2o_memis(origin.base, origin.len, cfg->cors_origins[k],
                              strlen(cfg->cors_origins[k]));
    }
    if (!any)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    if (!ok)
        return false;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL,
                   any ? "*" : origin.base, any ? 1 : origin.len);
    if (!method_is(req, "OPTIONS") ||
        h2o_find_header_by_str(&req->headers, H2O_STRLIT("access-control-request-method"),
                               -1) < 0)
        return false;
    ssize_t rh = h2o_find_header_by_str(&req->headers,
                                        H2O_STRLIT("access-control-request-headers"), -1);
    h2o_iovec_t allow_headers = rh >= 0 ? req->headers.entries[rh].value
                                        : h2o_iovec_init(H2O_STRLIT("Content-Type, Authorization"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("access-control-allow-methods"), 0, NULL,
                          H2O_STRLIT("GET, POST"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("access-control-allow-headers"), 0, NULL,
                          allow_headers.base, allow_headers.len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"),
                          0, NULL, H2O_STRLIT("600"));
    coll_respond(w, req, slot, t0, 204, NULL, h2o_iovec_init("", 0));
    return true;
}

/* Access control (auth.h). True if the request may go on; otherwise it has been answered
 * 401 with WWW-Authenticate. admin: the admin token guards it (and loopback peers are
 * trusted); else the write keys do. */
static bool authorized(coll_worker *w, h2o_req_t *req, size_t slot, uint64_t t0, bool admin)
{
    const coll_auth *auth = w->srv->cfg->auth;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const char *hv = i >= 0 ? req->headers.entries[i].value.base : NULL;
    size_t hl = i >= 0 ? req->headers.entries[i].value.len : 0;
    if (admin) {
        if (!coll_auth_has_token(auth))
            return true;
        struct sockaddr_storage ss;
        socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
        if (sl > 0 && coll_auth_sockaddr_is_loopback((struct sockaddr *)&ss, sl))
            return true;
        if (coll_auth_check_token(auth, hv, hl))
            return true;
    } else if (coll_auth_check_write(auth, hv, hl)) {
        return true;
    }
    const char *realm = admin ? "Basic realm=\"sluice admin\"" : "Basic realm=\"sluice\"";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, realm,
                   strlen(realm));
    coll_respond_error(w, req, slot, t0, 401,
                       admin ? "this endpoint needs the admin token (Authorization: Bearer TOKEN)"
                             : i >= 0 ? "invalid write key"
                                      : "a write key is required (Authorization: Basic "
                                        "base64(KEY:) or Bearer KEY)",
                       -1);
    return false;
}


static void handle_events(coll_worker *w, h2o_req_t *req, uint64_t t0)
{
    const size_t slot = w->srv->app->nroutes + COLL_RT_EVENTS;
    if (!method_is(req, "POST")) {
        respond_405(w, req, slot, t0, H2O_STRLIT("POST"));
        return;
    }
    bool ndjson = false;
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct >= 0) {
        h2o_iovec_t v = req->headers.entries[ct].value;
        ndjson = h2o_strstr(v.base, v.len, H2O_STRLIT("ndjson")) != SIZE_MAX ||
                 h2o_strstr(v.base, v.len, H2O_STRLIT("jsonl")) != SIZE_MAX;
    }
    /* the request's headers, then its query parameters, go into every event (after
     * the client's own members, which win over both) */
    spec_kv q[COLL_MAX_QUERY_PARAMS];
    int nq = query_params(w, req, slot, t0, q);
    if (nq < 0)
        return;
    coll_header hdrs[131 + COLL_MAX_QUERY_PARAMS];
    size_t nh = collect_headers(req, hdrs, 131);
    for (int i = 0; i < nq; i++)
        hdrs[nh++] = (coll_header){q[i].key, q[i].key_len, q[i].val, q[i].val_len};
    coll_ingest_error e = {0, -1, NULL, 0};
    batch_make_room(w, w->srv->cfg->limits.max_events);
    long n = coll_ingest_body(req->entity.base ? req->entity.base : "", req->entity.len, ndjson,
                              &w->srv->cfg->limits, hdrs, nh, coll_now_ms(), &w->ev,
                              &w->scratch, w->ends + w->nbatch, &e);
    if (n < 0) {
        char msg[200];
        if (e.status == 400 && e.pos > 0)
            snprintf(msg, sizeof msg, "%s (at byte %zu)", e.what, e.pos);
        else
            snprintf(msg, sizeof msg, "%s", e.what);
        coll_respond_error(w, req, slot, t0, e.status, msg, e.index);
        return;
    }
    char *body = h2o_mem_alloc_pool(&req->pool, 48);
    int blen = snprintf(body, 48, "{\"stored\":%ld}\n", n);
    batch_add(w, req, slot, t0, (size_t)n, 200, "application/json",
              h2o_iovec_init(body, (size_t)blen));
}

static void handle_metrics(coll_worker *w, h2o_req_t *req, uint64_t t0)
{
    coll_server *srv = w->srv;
    const size_t slot = srv->app->nroutes + COLL_RT_METRICS;
    const coll_metrics *ms[256];
    size_t n = srv->nworkers < 256 ? srv->nworkers : 256;
    for (size_t i = 0; i < n; i++)
        ms[i] = &srv->workers[i].metrics;
    sl_buf out;
    sl_buf_init(&out, 4 << 20);
    if (coll_metrics_render(ms, n, srv->route_names, &out) < 0) {
        sl_buf_free(&out);
        coll_respond_error(w, req, slot, t0, 500, "metrics too large", -1);
        return;
    }
    h2o_iovec_t body = h2o_strdup(&req->pool, out.p ? out.p : "", out.len);
    sl_buf_free(&out);
    coll_respond(w, req, slot, t0, 200, "text/plain; version=0.0.4", body);
}

static void handle_route(coll_worker *w, h2o_req_t *req, uint64_t t0, const spec_route *rt)
{
    coll_server *srv = w->srv;
    size_t slot = (size_t)(rt - srv->app->routes);
    const char *ctype = rt->content_type ? rt->content_type : "text/html; charset=utf-8";
    h2o_iovec_t body = rt->body ? h2o_iovec_init(rt->body, strlen(rt->body))
                                : h2o_iovec_init("", 0);
    int status = rt->status ? rt->status : 200;
    if (!rt->event_type) {
        coll_respond(w, req, slot, t0, status, ctype, body);
        return;
    }
    spec_kv q[COLL_MAX_QUERY_PARAMS];
    int nq = query_params(w, req, slot, t0, q);
    if (nq < 0)
        return;
    int64_t now = coll_now_ms();
    batch_make_room(w, 1);
    coll_ev ev;
    coll_ev_begin(&ev, &w->ev);
    int rc = coll_ev_add_envelope(&ev, rt->event_type, strlen(rt->event_type), now);
    if (rc == 0 && rt->nfields > 0) {
        sl_err err;
        sl_err_clear(&err);
        if ((rc = coll_ev_comma(&ev)) == 0) {
            rc = spec_route_render(rt, &w->rng, q, (size_t)nq, now, &w->ev, &err);
            if (rc == -EINVAL) {
                coll_ev_abort(&ev);
                coll_respond_error(w, req, slot, t0, 400, err.msg, -1);
                return;
            }
        }
        for (size_t i = 0; rc == 0 && i < rt->nfields; i++)
            rc = coll_ev_mark(&ev, rt->fields[i].name, strlen(rt->fields[i].name));
    }
    coll_header hdrs[131];
    size_t nh = collect_headers(req, hdrs, sizeof hdrs / sizeof hdrs[0]);
    for (size_t i = 0; rc >= 0 && i < nh; i++)
        rc = coll_ev_add_str(&ev, hdrs[i].name, hdrs[i].name_len, hdrs[i].value, hdrs[i].value_len);
    for (int i = 0; rc >= 0 && i < nq; i++)
        rc = coll_ev_add_str(&ev, q[i].key, q[i].key_len, q[i].val, q[i].val_len);
    if (rc >= 0)
        rc = coll_ev_end(&ev);
    if (rc >= 0 && w->ev.len - ev.start > w->srv->cfg->limits.max_event_bytes)
        rc = -EMSGSIZE;
    if (rc < 0) {
        bool too_many = ev.overflow;
        coll_ev_abort(&ev);
        coll_respond_error(w, req, slot, t0, too_many ? 400 : 413,
                           too_many ? "too many fields in the event" : "event too large", -1);
        return;
    }
    if (method_is(req, "HEAD")) {
        /* HEAD is safe: the event was built only to answer what GET would (400 and 413
         * included), and is not stored */
        coll_ev_abort(&ev);
        coll_respond(w, req, slot, t0, status, ctype, body);
        return;
    }
    w->ends[w->nbatch] = w->ev.len;
    batch_add(w, req, slot, t0, 1, status, ctype, body);
}

/* An absolute-form request target ("GET http://host/path HTTP/1.1": what clients send to
 * a proxy, and what an HTTP/1.1 server must accept, RFC 9112 3.2.2) is served as its
 * path; h2o 2.2 would normalise it into "/http:/host/path". The Host header is still
 * stored as sent. */
static void absolute_form(h2o_req_t *req)
{
    h2o_url_t url;
    if (req->path.len == 0 || req->path.base[0] == '/' ||
        h2o_url_parse(req->path.base, req->path.len, &url) != 0)
        return;
    req->path = url.path;
    req->path_normalized = h2o_url_normalize_path(&req->pool, url.path.base, url.path.len,
                                                  &req->query_at, &req->norm_indexes);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    /* the context is embedded in its worker */
    coll_worker *w = H2O_STRUCT_FROM_MEMBER(coll_worker, ctx, req->conn->ctx);
    coll_server *srv = w->srv;
    uint64_t t0 = sl_mono_ns();
    const size_t unmatched = srv->app->nroutes + COLL_RT_UNMATCHED;
    absolute_form(req);
    const h2o_iovec_t path = req->path_normalized;

    if (!coll_guard_begin(req)) { /* answered 408 already; the connection is going */
        coll_respond_error(w, req, unmatched, t0, 408, "request timeout", -1);
        return 0;
    }
    if (headers_too_large(w, req)) {
        coll_respond_error(w, req, unmatched, t0, 431, "request header fields too large", -1);
        return 0;
    }
    if (cors(w, req, unmatched, t0))
        return 0;
    bool get_or_head = method_is(req, "GET") || method_is(req, "HEAD");
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/healthz"))) {
        const size_t slot = srv->app->nroutes + COLL_RT_HEALTHZ;
        if (!get_or_head)
            respond_405(w, req, slot, t0, H2O_STRLIT("GET, HEAD"));
        else
            coll_respond(w, req, slot, t0, 200, "application/json",
                         h2o_iovec_init(H2O_STRLIT("{\"status\":\"ok\"}\n")));
        return 0;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/metrics"))) {
        const size_t slot = srv->app->nroutes + COLL_RT_METRICS;
        if (!authorized(w, req, slot, t0, true))
            return 0;
        if (!get_or_head)
            respond_405(w, req, slot, t0, H2O_STRLIT("GET, HEAD"));
        else
            handle_metrics(w, req, t0);
        return 0;
    }
    /* every other path may store an event: the write key first (no 404/405 probing) */
    if (!authorized(w, req, unmatched, t0, false))
        return 0;
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/events"))) {
        handle_events(w, req, t0);
        return 0;
    }
    bool mismatch = false;
    const spec_route *rt = NULL;
    if (!(path.len >= 9 && !memcmp(path.base, "/_sluice/", 9)))
        rt = spec_route_find(srv->app, req->method.base, req->method.len, path.base, path.len,
                             &mismatch);
    if (rt) {
        handle_route(w, req, t0, rt);
        return 0;
    }
    if (mismatch) {
        /* Allow: every method some route of this path accepts (HEAD where GET is) */
        char allow[160];
        size_t an = 0;
        for (size_t i = 0; i < srv->app->nroutes; i++) {
            const spec_route *r = &srv->app->routes[i];
            if (!r->method || strlen(r->path) != path.len || memcmp(r->path, path.base, path.len))
                continue;
            bool get = !strcmp(r->method, "GET");
            size_t ml = strlen(r->method);
            if (an + ml + (get ? 8 : 2) >= sizeof allow)
                break;
            an += (size_t)snprintf(allow + an, sizeof allow - an, "%s%s%s", an ? ", " : "",
                                   r->method, get ? ", HEAD" : "");
        }
        respond_405(w, req, unmatched, t0, h2o_strdup(&req->pool, allow, an).base, an);
        return 0;
    }
    coll_respond_error(w, req, unmatched, t0, 404, "no such route", -1);
    return 0;
}

/* ---------------------------------------------------------------- sockets, threads */

static void on_conn(sl_listener *l, h2o_socket_t *sock)
{
    coll_guard_accept(l->data, sock);
}

/* Closes req's connection if it has no request under way: a shutdown makes h2o's read
 * see EOF, and h2o frees the connection. */
static int close_idle_cb(h2o_req_t *req, void *cbdata)
{
    (void)cbdata;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock && coll_guard_idle(req))
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
    return 0;
}

static bool has_conns(coll_worker *w)
{
    return !h2o_linklist_is_empty(&w->ctx.http1._conns);
}

static void on_ctl_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    coll_worker *w = H2O_STRUCT_FROM_MEMBER(coll_worker, ctl_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
    }
    if (w->draining)
        return;
    w->draining = true;
    sl_listener_close(&w->listener); /* the kernel refuses new connections from now on */
    /* keep-alive off for the responses still due. (Not h2o_context_request_shutdown():
     * that also arms HTTP/2's GOAWAY timer, which h2o_context_dispose then trips over.) */
    w->ctx.shutdown_requested = 1;
}

/* Phases shared by the main thread and the workers (srv->mu / srv->cv). */
static void phase_signal(coll_server *srv, unsigned *counter)
{
    pthread_mutex_lock(&srv->mu);
    (*counter)++;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

static void phase_wait(coll_server *srv, const unsigned *counter, unsigned target)
{
    pthread_mutex_lock(&srv->mu);
    while (*counter < target)
        pthread_cond_wait(&srv->cv, &srv->mu);
    pthread_mutex_unlock(&srv->mu);
}

/* Everything h2o is created, run and disposed of in the worker's own thread: h2o keeps
 * per-thread buffer recyclers (__thread), and a socket created on one thread but used on
 * another would recycle its buffers into the wrong thread's free list. */
static void worker_h2o_init(coll_worker *w)
{
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, &w->srv->gconf);
    w->ctx_ready = true;
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->srv->gconf.hosts;
    sl_listener_start(&w->listener, w->loop, on_conn, w);
    coll_guard_init(w);
    coll_ack_init(w);
    h2o_multithread_register_receiver(w->ctx.queue, &w->ctl_receiver, on_ctl_message);
    atomic_store(&w->receivers_ready, true);
}

static void worker_h2o_dispose(coll_worker *w)
{
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->ack_receiver);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->ctl_receiver);
    sl_listener_close(&w->listener);
    /* let h2o run its deferred frees (closed sockets) before the context goes */
    for (int i = 0; i < 3; i++)
        h2o_evloop_run(w->loop, 0);
    batch_flush(w);  /* nothing should be left; an empty flush just unlinks the timer */
    sl_listener_dispose(&w->listener);
    coll_guard_dispose(w);
    /* h2o 2.2.5's context_dispose leaves the queue it created (and its pipe socket)
     * behind, and h2o_multithread_destroy_queue() on it crashes in this version; it is
     * freed at exit (one per thread, tests suppress it for LeakSanitizer). */
    h2o_context_dispose(&w->ctx);
    /* this thread's recycled socket buffers would die with its TLS */
    while (h2o_socket_buffer_prototype.allocator._link) {
        void *chunk = h2o_socket_buffer_prototype.allocator._link;
        h2o_socket_buffer_prototype.allocator._link = *(void **)chunk;
        free(chunk);
    }
    h2o_socket_buffer_prototype.allocator.cnt = 0;
    h2o_evloop_destroy(w->loop);
    w->loop = NULL;
    w->ctx_ready = false;
}

static void *worker_main(void *arg)
{
    coll_worker *w = arg;
    coll_server *srv = w->srv;
    const coll_config *cfg = srv->cfg;
    worker_h2o_init(w);
    phase_signal(srv, &srv->nready);

    while (!w->draining)
        h2o_evloop_run(w->loop, INT32_MAX);

    /* Drain, until the deadline: the listener is closed (no new connections). A
     * connection with no request under way (idle keep-alive, or nothing sent since the
     * accept) is closed; every other one is served to the end: a request whose head or
     * body is still arriving is read, handled and answered (with Connection: close, as is
     * every answer from now on), answers waiting on the log or Kafka go out when their
     * events are stored, answers being written are finished. Then the connection closes. */
    uint64_t deadline = sl_mono_ns() + cfg->drain_ms * 1000000u;
    batch_flush(w);
    while ((has_conns(w) || w->pend_head || atomic_load(&w->npending)) &&
           sl_mono_ns() < deadline) {
        w->ctx.globalconf->http1.callbacks.foreach_request(&w->ctx, close_idle_cb, NULL);
        h2o_evloop_run(w->loop, 20);
    }
    /* wait until the main thread has detached the log's durable callback, which may
     * still post to our receiver, before the receiver goes away */
    phase_signal(srv, &srv->ndrained);
    phase_wait(srv, &srv->disposable, 1);
    worker_h2o_dispose(w);
    return NULL;
}

/* Main thread, after the worker's thread is gone (or never started). */
static void worker_destroy(coll_worker *w)
{
    if (w->ctx_ready)  /* only if its thread never ran: it disposes of h2o itself */
        worker_h2o_dispose(w);
    sl_listener_close(&w->listener);
    sl_buf_free(&w->ev);
    sl_buf_free(&w->scratch);
    sl_buf_free(&w->qscratch);
    free(w->ends);
    free(w->entries);
    free(w->kout);
    coll_metrics_free(&w->metrics);
}

static int worker_init(coll_server *srv, coll_worker *w, unsigned index, sl_err *err)
{
    const coll_config *cfg = srv->cfg;
    w->srv = srv;
    w->index = index;
    w->listener.fd = -1;
    /* below the log's own 256 MiB batch limit, so that a batch is never refused whole */
    sl_buf_init(&w->ev, COLL_EVENT_BUF_MAX);
    sl_buf_init(&w->scratch, COLL_EVENT_BUF_MAX);
    sl_buf_init(&w->qscratch, 1 << 20);
    w->batch_cap = cfg->limits.max_events + 4096;
    w->ends = calloc(w->batch_cap, sizeof *w->ends);
    w->entries = calloc(w->batch_cap, sizeof *w->entries);
    if (cfg->kafka && !(w->kout = calloc(w->batch_cap, sizeof *w->kout)))
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    w->flush_entry.cb = on_flush_timeout;
    if (!w->ends || !w->entries || coll_metrics_init(&w->metrics, srv->app->nroutes) < 0)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = sl_mono_ns() ^ ((uint64_t)index << 40);
    spec_rng_seed(&w->rng, seed);
    /* bound here, in the main thread, so that "address in use" is reported at once */
    return sl_listener_bind(&w->listener, cfg->host, cfg->port,
                            SL_LISTEN_REUSEPORT | (index == 0 ? SL_LISTEN_PROBE : 0), "", err);
}

int coll_server_run(const coll_config *cfg, const spec_app *app, log_topic *topic, sl_err *err)
{
    coll_server *srv = calloc(1, sizeof *srv);
    sigset_t sigs, oldsigs;
    int rc = 0;
    if (!srv)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    srv->cfg = cfg;
    srv->app = app;
    srv->topic = topic;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);

    /* Signals: blocked in every thread (inherited), taken synchronously by the main thread. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &oldsigs);
    signal(SIGPIPE, SIG_IGN);

    srv->route_names = calloc(app->nroutes + COLL_RT_NSPECIAL, sizeof *srv->route_names);
    if (!srv->route_names) {
        rc = sl_err_set(err, -ENOMEM, true, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < app->nroutes; i++)
        srv->route_names[i] = app->routes[i].path;
    srv->route_names[app->nroutes + COLL_RT_EVENTS] = "/events";
    srv->route_names[app->nroutes + COLL_RT_HEALTHZ] = "/healthz";
    srv->route_names[app->nroutes + COLL_RT_METRICS] = "/metrics";
    srv->route_names[app->nroutes + COLL_RT_UNMATCHED] = "unmatched";

    h2o_config_init(&srv->gconf);
    srv->gconf.server_name = h2o_iovec_init(H2O_STRLIT("sluice"));
    srv->gconf.max_request_entity_size = (size_t)cfg->max_body;
    /* the guard (guard.c) answers 408 at timeout_ms; h2o's own timeout is the backstop */
    srv->gconf.http1.req_timeout = cfg->timeout_ms + 10000;
    srv->gconf.http1.upgrade_to_http2 = 0;
    srv->hostconf = h2o_config_register_host(&srv->gconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(srv->hostconf, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof *handler);
    handler->on_req = on_req;

    srv->workers = calloc(cfg->threads, sizeof *srv->workers);
    if (!srv->workers) {
        rc = sl_err_set(err, -ENOMEM, true, "out of memory");
        goto out_conf;
    }
    for (unsigned i = 0; i < cfg->threads; i++) {
        srv->nworkers = i + 1;
        if ((rc = worker_init(srv, &srv->workers[i], i, err)) < 0)
            goto out_workers;
    }
    unsigned nstarted = 0;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        int e = pthread_create(&srv->workers[i].tid, NULL, worker_main, &srv->workers[i]);
        if (e != 0) {
            rc = sl_err_errno(err, e, "pthread_create");
            break;
        }
        srv->workers[i].started = true;
        nstarted++;
    }
    phase_wait(srv, &srv->nready, nstarted);
    atomic_store(&srv->cb_enabled, true);
    if (topic)
        log_set_durable_callback(topic, coll_ack_on_durable, srv);
    if (cfg->kafka)
        bus_producer_set_delivery(cfg->kafka, coll_ack_on_delivery, srv);

    if (rc == 0) {
        if (cfg->banner) {
            printf("%s\n", cfg->banner);
            fflush(stdout);
        }
        int sig = 0;
        sigwait(&sigs, &sig);
        fprintf(stderr, "sluice serve: %s, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    for (unsigned i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].started)
            h2o_multithread_send_message(&srv->workers[i].ctl_receiver, &srv->workers[i].ctl_msg);
    /* once every loop has drained: no more appends; detach the callback and wait for a
     * call already under way on the log's sync thread, then let the loops dispose */
    phase_wait(srv, &srv->ndrained, nstarted);
    if (topic)
        log_set_durable_callback(topic, NULL, NULL);
    if (cfg->kafka)  /* returns once no delivery report is being handled */
        bus_producer_set_delivery(cfg->kafka, NULL, NULL);
    atomic_store(&srv->cb_enabled, false);
    while (atomic_load(&srv->cb_active) > 0)
        sched_yield();
    phase_signal(srv, &srv->disposable);
    for (unsigned i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].tid, NULL);

out_workers:
    for (unsigned i = 0; i < srv->nworkers; i++)
        worker_destroy(&srv->workers[i]);
    free(srv->workers);
out_conf:
    h2o_config_dispose(&srv->gconf);
out_free:
    free(srv->route_names);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
    pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);
    return rc;
}
