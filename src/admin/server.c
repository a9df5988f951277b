/* server.c — the admin server's thread: one h2o event loop, the routes of admin.h, and a
 * one-second tick that samples the log and scrapes the collector.
 *
 * Why one loop: everything here is observation for one person's browser; one loop
 * owning the log reader, its engine and the caches needs no lock. The console's SQL
 * statements, which may run for seconds (up to --sql-timeout), go to a SQL thread with
 * an engine of its own, one at a time in arrival order; the answer comes back through
 * h2o's multithread queue and is sent from the loop, so charts and tables stay live
 * while a query runs. (The request stays valid meanwhile: h2o 2.2's HTTP/1 server does
 * not read from a connection whose request is being handled.)
 * Stop: admin_stop() sets `stop`; the loop wakes at least every ADMIN_TICK_MS to see it.
 */
#include "admin/admin.h"

#include <errno.h>
#include <h2o.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin/parts.h"
#include "collector/auth.h"
#include "common/clock.h"
#include "common/listener.h"

#define ADMIN_TICK_MS       250
#define ADMIN_SAMPLE_MS     1000
#define ADMIN_SQL_MAX_BODY  (64u << 10)
#define ADMIN_RESP_MAX      (64u << 20)

struct admin_server {
    admin_config     cfg;
    pthread_t        tid;
    bool             started;
    atomic_bool      stop;
    h2o_globalconf_t gconf;
    bool             gconf_ready;
    h2o_evloop_t    *loop;
    h2o_context_t    ctx;
    bool             ctx_ready;
    h2o_accept_ctx_t accept_ctx;
    sl_listener      listener;

    admin_sampler   *sampler;
    admin_tables    *tables;
    admin_reqstats   reqs;
    q_engine        *engine;      /* opened on first use (the warehouse may not exist yet) */

    /* the SQL thread (see the top); the queue and sql_stop under sql_mu */
    pthread_t        sql_tid;
    bool             sql_started, sql_stop;
    pthread_mutex_t  sql_mu;
    pthread_cond_t   sql_cv;
    struct sql_job  *sql_head, *sql_tail;
    unsigned         sql_queued;
    h2o_multithread_receiver_t sql_done;
    bool             sql_done_ready;
    char             engine_error[SL_ERR_MSG_MAX];
    int64_t          last_sample_ms;
};

void admin_config_init(admin_config *c)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8089;
    c->stream_job = "stream";
    c->collector_host = "127.0.0.1";
    c->sql_timeout_ms = 10000;
    c->sql_max_rows = 1000;
}

static admin_server *server_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(admin_server, ctx, req->conn->ctx);
}

/* ---------------------------------------------------------------- responses */

static void respond(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len,
                    bool copy)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                    : status == 405 ? "Method Not Allowed" : status == 413 ? "Payload Too Large"
                    : status == 401 ? "Unauthorized"
                    : status < 500 ? "Bad Request" : "Internal Server Error";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                   strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_iovec_t v = copy ? h2o_strdup(&req->pool, body, len) : h2o_iovec_init(body, len);
    h2o_start_response(req, &generator);
    h2o_send(req, &v, 1, H2O_SEND_STATE_FINAL);
}

static void respond_json(h2o_req_t *req, int status, sl_buf *b)
{
    respond(req, status, "application/json", b->p ? b->p : "{}", b->p ? b->len : 2, true);
}

static void respond_error(h2o_req_t *req, int status, const char *msg)
{
    sl_buf b;
    sl_buf_init(&b, 4096);
    if (sl_buf_adds(&b, "{\"error\":") || admin_json_str(&b, msg, strlen(msg)) ||
        sl_buf_adds(&b, "}\n")) {
        sl_buf_reset(&b);
        sl_buf_adds(&b, "{\"error\":\"error\"}\n");
    }
    respond_json(req, status, &b);
    sl_buf_free(&b);
}

/* ---------------------------------------------------------------- observers */

static q_engine *engine(admin_server *a)
{
    if (a->engine)
        return a->engine;
    q_engine_opts eo = {.data_dir = a->cfg.data_dir, .timeout_ms = a->cfg.sql_timeout_ms,
                        .threads = 2};
    sl_err err = {0};
    if (q_engine_open(&eo, &a->engine, &err) < 0) {
        a->engine = NULL;
        snprintf(a->engine_error, sizeof a->engine_error, "%s", err.msg);
        return NULL;
    }
    return a->engine;
}

static void sample(admin_server *a)
{
    a->last_sample_ms = sl_mono_ms();
    admin_sampler_tick(a->sampler);
    if (a->cfg.collector_port)
        admin_scrape(a->cfg.collector_host, a->cfg.collector_port, 500, &a->reqs);
}

static int batches_json(admin_server *a, sl_buf *b)
{
    static admin_batch snap[ADMIN_BATCH_RING];  /* admin thread only */
    uint64_t nb = 0, ne = 0;
    size_t n = admin_batches_snapshot(a->cfg.batches, snap, ADMIN_BATCH_RING, &nb, &ne);
    int rc = sl_buf_printf(b, "\"stream\":{\"job\":\"%s\",\"batches\":%llu,\"events\":%llu},"
                              "\"batches\":[", a->cfg.stream_job, (unsigned long long)nb,
                           (unsigned long long)ne);
    for (size_t i = 0; i < n && !rc; i++) {
        const admin_batch *x = &snap[i];
        rc = sl_buf_printf(b,
                           "%s{\"at_ms\":%lld,\"first\":%llu,\"last\":%llu,\"events\":%llu,"
                           "\"rejected\":%llu,\"files\":%llu,\"lag\":%llu,\"ms\":%lld,"
                           "\"route_ms\":%lld,\"write_ms\":%lld,\"replay\":%s}",
                           i ? "," : "", (long long)x->at_ms, (unsigned long long)x->first,
                           (unsigned long long)x->last, (unsigned long long)x->events,
                           (unsigned long long)x->rejected, (unsigned long long)x->files,
                           (unsigned long long)x->lag, (long long)x->ms, (long long)x->route_ms,
                           (long long)x->write_ms, x->replay ? "true" : "false");
    }
    return rc ? rc : sl_buf_addc(b, ']');
}

/* The value of query parameter name as an unsigned number, or def. */
static uint64_t query_u64(h2o_req_t *req, const char *name, uint64_t def, uint64_t max)
{
    if (req->query_at == SIZE_MAX)
        return def;
    const char *q = req->path.base + req->query_at + 1;
    size_t ql = req->path.len - req->query_at - 1, nl = strlen(name);
    for (size_t i = 0; i + nl < ql; i++) {
        if ((i == 0 || q[i - 1] == '&') && !memcmp(q + i, name, nl) && q[i + nl] == '=') {
            uint64_t v = 0;
            size_t k = i + nl + 1, digits = 0;
            for (; k < ql && q[k] >= '0' && q[k] <= '9' && digits < 12; k++, digits++)
                v = v * 10 + (uint64_t)(q[k] - '0');
            if (!digits)
                return def;
            return v > max ? max : v;
        }
    }
    return def;
}

static void handle_stats(admin_server *a, h2o_req_t *req)
{
    if (sl_mono_ms() - a->last_sample_ms > ADMIN_SAMPLE_MS / 2)
        sample(a);
    unsigned secs = (unsigned)query_u64(req, "secs", 120, ADMIN_RATE_SECS);
    sl_buf b;
    sl_buf_init(&b, ADMIN_RESP_MAX);
    const spec_app *app = a->cfg.app;
    int64_t now = sl_wall_ms();
    int rc = sl_buf_printf(&b, "{\"now_ms\":%lld,\"app\":", (long long)now);
    const char *name = app && app->name ? app->name : "";
    rc = rc ? rc : admin_json_str(&b, name, strlen(name));
    rc = rc ? rc : sl_buf_adds(&b, ",\"data_dir\":");
    rc = rc ? rc : admin_json_str(&b, a->cfg.data_dir, strlen(a->cfg.data_dir));
    rc = rc ? rc : sl_buf_addc(&b, ',');
    rc = rc ? rc : admin_sampler_stats_json(a->sampler, &b, secs, now / 1000);
    rc = rc ? rc : sl_buf_addc(&b, ',');
    rc = rc ? rc : admin_reqstats_json(&a->reqs, &b);
    rc = rc ? rc : sl_buf_addc(&b, ',');
    rc = rc ? rc : batches_json(a, &b);
    rc = rc ? rc : sl_buf_addc(&b, ',');
    q_engine *e = rc ? NULL : engine(a);
    if (!rc && e) {
        rc = admin_tables_json(a->tables, e, &b);
    } else if (!rc) {
        rc = sl_buf_adds(&b, "\"tables\":[],\"tables_error\":");
        rc = rc ? rc : admin_json_str(&b, a->engine_error, strlen(a->engine_error));
    }
    rc = rc ? rc : sl_buf_adds(&b, "}\n");
    if (rc)
        respond_error(req, 500, "stats too large");
    else
        respond_json(req, 200, &b);
    sl_buf_free(&b);
}

static void handle_latest(admin_server *a, h2o_req_t *req)
{
    if (sl_mono_ms() - a->last_sample_ms > ADMIN_SAMPLE_MS / 2)
        sample(a);
    size_t n = (size_t)query_u64(req, "n", 50, ADMIN_LATEST);
    sl_buf b;
    sl_buf_init(&b, ADMIN_RESP_MAX);
    if (admin_sampler_latest_json(a->sampler, &b, n) || sl_buf_addc(&b, '\n'))
        respond_error(req, 500, "answer too large");
    else
        respond_json(req, 200, &b);
    sl_buf_free(&b);
}

/* ---------------------------------------------------------------- SQL thread */

#define ADMIN_SQL_QUEUE_MAX 8

typedef struct sql_job {
    h2o_multithread_message_t msg; /* back to the loop when done */
    struct sql_job *next;
    h2o_req_t *req;
    int        status;
    sl_buf     out;
    char       sql[];
} sql_job;

static void sql_job_free(sql_job *j)
{
    sl_buf_free(&j->out);
    free(j);
}

/* Loop thread: answers the statements the SQL thread finished. */
static void on_sql_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        sql_job *j = H2O_STRUCT_FROM_MEMBER(sql_job, msg.link, messages->next);
        h2o_linklist_unlink(&j->msg.link);
        respond_json(j->req, j->status, &j->out);
        sql_job_free(j);
    }
}

static void *sql_main(void *arg)
{
    admin_server *a = arg;
    q_engine *e = NULL;
    char open_error[SL_ERR_MSG_MAX] = "";
    pthread_mutex_lock(&a->sql_mu);
    for (;;) {
        while (!a->sql_head && !a->sql_stop)
            pthread_cond_wait(&a->sql_cv, &a->sql_mu);
        if (a->sql_stop) /* admin_stop() answers what is still queued */
            break;
        sql_job *j = a->sql_head;
        if (!(a->sql_head = j->next))
            a->sql_tail = NULL;
        pthread_mutex_unlock(&a->sql_mu);
        if (!e) {
            q_engine_opts eo = {.data_dir = a->cfg.data_dir,
                                .timeout_ms = a->cfg.sql_timeout_ms, .threads = 2};
            sl_err err = {0};
            if (q_engine_open(&eo, &e, &err) < 0) {
                e = NULL;
                snprintf(open_error, sizeof open_error, "%s", err.msg);
            }
        }
        if (e) {
            j->status = admin_sql_json(e, j->sql, a->cfg.sql_max_rows, &j->out);
            sl_buf_addc(&j->out, '\n');
        } else {
            j->status = 503;
            if (sl_buf_adds(&j->out, "{\"error\":") ||
                admin_json_str(&j->out, open_error, strlen(open_error)) ||
                sl_buf_adds(&j->out, "}\n"))
                j->status = 500;
        }
        h2o_multithread_send_message(&a->sql_done, &j->msg);
        pthread_mutex_lock(&a->sql_mu);
        a->sql_queued--;
    }
    pthread_mutex_unlock(&a->sql_mu);
    q_engine_close(e);
    return NULL;
}

static void handle_sql(admin_server *a, h2o_req_t *req)
{
    if (req->entity.len == 0 || !req->entity.base) {
        respond_error(req, 400, "the request body must be one SQL statement");
        return;
    }
    if (req->entity.len > ADMIN_SQL_MAX_BODY) {
        respond_error(req, 413, "statement too long (max 64 KiB)");
        return;
    }
    if (memchr(req->entity.base, '\0', req->entity.len)) {
        respond_error(req, 400, "the statement contains a NUL byte");
        return;
    }
    sql_job *j = calloc(1, sizeof *j + req->entity.len + 1);
    if (!j) {
        respond_error(req, 503, "out of memory");
        return;
    }
    j->req = req;
    sl_buf_init(&j->out, ADMIN_RESP_MAX);
    memcpy(j->sql, req->entity.base, req->entity.len);
    /* the console sends what was typed: a trailing ';' (and blanks) is not an error */
    size_t l = req->entity.len;
    while (l > 0 && strchr("; \n\r\t", j->sql[l - 1]))
        l--;
    j->sql[l] = '\0';
    pthread_mutex_lock(&a->sql_mu);
    bool full = a->sql_queued >= ADMIN_SQL_QUEUE_MAX;
    if (!full) {
        if (a->sql_tail)
            a->sql_tail->next = j;
        else
            a->sql_head = j;
        a->sql_tail = j;
        a->sql_queued++;
        pthread_cond_signal(&a->sql_cv);
    }
    pthread_mutex_unlock(&a->sql_mu);
    if (full) {
        sql_job_free(j);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("1"));
        respond_error(req, 503, "too many statements waiting; try again");
    }
}

static bool method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    admin_server *a = server_of(req);
    h2o_iovec_t p = req->path_normalized;
    bool get = method_is(req, "GET") || method_is(req, "HEAD");
    /* with an admin token every page but /healthz needs it; Basic (the browser's login
     * prompt, any user name, the token as password) or Bearer */
    if (coll_auth_has_token(a->cfg.auth) && !h2o_memis(p.base, p.len, H2O_STRLIT("/healthz"))) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
        if (!(i >= 0 && coll_auth_check_token(a->cfg.auth, req->headers.entries[i].value.base,
                                              req->headers.entries[i].value.len))) {
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                           H2O_STRLIT("Basic realm=\"sluice admin\""));
            respond_error(req, 401, "the admin token is required (Authorization: Bearer TOKEN, "
                                    "or Basic with the token as password)");
            return 0;
        }
    }
    if (h2o_memis(p.base, p.len, H2O_STRLIT("/")) ||
        h2o_memis(p.base, p.len, H2O_STRLIT("/index.html"))) {
        if (!get) {
            respond_error(req, 405, "GET only");
            return 0;
        }
        respond(req, 200, "text/html; charset=utf-8", admin_dashboard_html,
                strlen(admin_dashboard_html), false);
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/healthz"))) {
        respond(req, 200, "application/json", H2O_STRLIT("{\"status\":\"ok\"}\n"), false);
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/api/stats"))) {
        if (get)
            handle_stats(a, req);
        else
            respond_error(req, 405, "GET only");
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/api/events/latest"))) {
        if (get)
            handle_latest(a, req);
        else
            respond_error(req, 405, "GET only");
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/api/sql"))) {
        if (method_is(req, "POST"))
            handle_sql(a, req);
        else
            respond_error(req, 405, "POST the SQL text to /api/sql");
    } else {
        respond_error(req, 404, "no such page");
    }
    return 0;
}

/* ---------------------------------------------------------------- loop, start, stop */

static void on_conn(sl_listener *l, h2o_socket_t *sock)
{
    admin_server *a = l->data;
    h2o_accept(&a->accept_ctx, sock);
}

static int close_conn_cb(h2o_req_t *req, void *cbdata)
{
    (void)cbdata;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock)
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
    return 0;
}

static void *admin_main(void *arg)
{
    admin_server *a = arg;
    while (!atomic_load(&a->stop)) {
        h2o_evloop_run(a->loop, ADMIN_TICK_MS);
        if (sl_mono_ms() - a->last_sample_ms >= ADMIN_SAMPLE_MS)
            sample(a);
    }
    return NULL;
}

int admin_start(const admin_config *cfg, admin_server **out, sl_err *err)
{
    admin_server *a = calloc(1, sizeof *a);
    if (!a)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    a->cfg = *cfg;
    a->listener.fd = -1;
    pthread_mutex_init(&a->sql_mu, NULL);
    pthread_cond_init(&a->sql_cv, NULL);
    int rc;
    const char *topic = cfg->app && cfg->app->topic ? cfg->app->topic : "events";
    if ((rc = sl_listener_bind(&a->listener, cfg->host, cfg->port, 0, " (admin)", err)) < 0)
        goto fail;
    if ((rc = admin_sampler_create(cfg->data_dir, topic, cfg->stream_job, &a->sampler, err)) < 0)
        goto fail;
    if ((rc = admin_tables_create(&a->tables)) < 0) {
        sl_err_set(err, rc, true, "out of memory");
        goto fail;
    }
    snprintf(a->reqs.error, sizeof a->reqs.error, "not scraped yet");

    h2o_config_init(&a->gconf);
    a->gconf_ready = true;
    a->gconf.server_name = h2o_iovec_init(H2O_STRLIT("sluice-admin"));
    a->gconf.max_request_entity_size = ADMIN_SQL_MAX_BODY + 1;
    a->gconf.http1.req_timeout = 30000;
    a->gconf.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(&a->gconf,
                                                    h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;

    a->loop = h2o_evloop_create();
    h2o_context_init(&a->ctx, a->loop, &a->gconf);
    a->ctx_ready = true;
    a->accept_ctx.ctx = &a->ctx;
    a->accept_ctx.hosts = a->gconf.hosts;
    sl_listener_start(&a->listener, a->loop, on_conn, a);
    h2o_multithread_register_receiver(a->ctx.queue, &a->sql_done, on_sql_done);
    a->sql_done_ready = true;

    int e = pthread_create(&a->sql_tid, NULL, sql_main, a);
    if (e != 0) {
        rc = sl_err_errno(err, e, "pthread_create");
        goto fail;
    }
    a->sql_started = true;
    e = pthread_create(&a->tid, NULL, admin_main, a);
    if (e != 0) {
        rc = sl_err_errno(err, e, "pthread_create");
        goto fail;
    }
    a->started = true;
    *out = a;
    return 0;
fail:
    admin_stop(a);
    return rc;
}

void admin_stop(admin_server *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, true);
    if (a->started)
        pthread_join(a->tid, NULL);
    sl_listener_dispose(&a->listener);
    /* the SQL thread ends after its statement (at most --sql-timeout); what is still
     * queued is answered 503, what it finished is answered by one more loop run */
    pthread_mutex_lock(&a->sql_mu);
    a->sql_stop = true;
    pthread_cond_signal(&a->sql_cv);
    pthread_mutex_unlock(&a->sql_mu);
    if (a->sql_started)
        pthread_join(a->sql_tid, NULL);
    for (sql_job *j = a->sql_head, *next; j; j = next) {
        next = j->next;
        respond_error(j->req, 503, "the server is stopping");
        sql_job_free(j);
    }
    a->sql_head = a->sql_tail = NULL;
    if (a->sql_done_ready) {
        h2o_evloop_run(a->loop, 0);
        h2o_multithread_unregister_receiver(a->ctx.queue, &a->sql_done);
    }
    if (a->ctx_ready) {
        /* A browser keeps connections open: shut them down (h2o frees a connection whose
         * read fails), give them up to a second, then let h2o run its deferred frees. */
        h2o_evloop_run(a->loop, 0);
        a->gconf.http1.callbacks.foreach_request(&a->ctx, close_conn_cb, NULL);
        int64_t deadline = sl_mono_ms() + 1000;
        while (!h2o_linklist_is_empty(&a->ctx.http1._conns) && sl_mono_ms() < deadline)
            h2o_evloop_run(a->loop, 20);
        for (int i = 0; i < 3; i++)
            h2o_evloop_run(a->loop, 0);
        h2o_context_dispose(&a->ctx);
    }
    if (a->loop)
        h2o_evloop_destroy(a->loop);
    if (a->gconf_ready)
        h2o_config_dispose(&a->gconf);
    q_engine_close(a->engine);
    admin_tables_destroy(a->tables);
    admin_sampler_destroy(a->sampler);
    pthread_mutex_destroy(&a->sql_mu);
    pthread_cond_destroy(&a->sql_cv);
    free(a);
}
