/* ack.c — "ack means stored": responses that wait for their events to become durable.
 *
 * A request's events are appended with log_append_nowait(), which never waits for a
 * sync. If log_durable_end() already covers them (always the case with --fsync never or
 * interval, where "durable" means written) the response goes out at once. Otherwise the
 * request joins its event loop's FIFO of coll_pending. Appends from one loop are made in
 * order, so the FIFO is sorted by end offset and completion only ever looks at its head.
 *
 * The log's sync thread calls coll_ack_on_durable() after every group commit. For each
 * loop with something pending it posts that loop's single preallocated message (at most
 * one in flight: ack_notified), and the loop completes its FIFO in coll_ack_process().
 * So the event loops never block on fsync, and the sync thread never touches a request.
 *
 * Lost-wakeup rule: the loop increments npending BEFORE it re-reads log_durable_end(),
 * and the log publishes durable_end BEFORE calling the callback, which reads npending
 * (both sequentially consistent), so either the loop sees the new durable_end or the
 * callback sees the pending request.
 *
 * A failed sync (status < 0) bumps sync_fail_gen: everything pending from before the
 * failure that is not durable is answered 503 (its records were written but are not
 * known to be on disk, so the client must retry; it is never told "stored"). The log
 * does not cut those records away (readers may have read them), so they may be in the
 * log after all: docs/operations.md says so, tests/e2e/collector_syncfail.sh shows it.
 *
 * Kafka (coll_config.kafka): every event is one message. A request is produced whole or
 * not at all when the refusal can be known in advance (bus_producer_send_all: an event
 * over message.max.bytes is 413 naming its index, no room in the bounded queue is 503),
 * and answered when the delivery reports of all its messages are in: 200 if all were
 * stored (acks=all), else 503 + Retry-After with the indices of the events stored and not
 * stored, since Kafka may have taken some of them: the client resends only the others.
 * Reports arrive out of order (partitions are independent), so there is no FIFO: each
 * coll_pending counts its outstanding messages (kafka_left, which starts at nevents + 1
 * so that a report racing the produce loop cannot complete it early), each message's
 * report is recorded in its coll_kmsg, and whoever brings the count to 0 pushes the
 * request on the worker's lock-free stack kafka_done and posts the worker's ack message;
 * the loop pops the stack and answers.
 */
#include <errno.h>
#include <string.h>

#include "collector/server.h"
#include "common/clock.h"

static void on_ack_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    coll_worker *w = H2O_STRUCT_FROM_MEMBER(coll_worker, ack_receiver, receiver);
    /* the only message ever sent here is w->ack_msg; unlink it so it can be sent again */
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
    }
    atomic_store(&w->ack_notified, 0);
    coll_ack_process(w);
}

void coll_ack_init(coll_worker *w)
{
    h2o_multithread_register_receiver(w->ctx.queue, &w->ack_receiver, on_ack_message);
    atomic_store(&w->ack_notified, 0);
    atomic_store(&w->npending, 0);
    w->pend_head = w->pend_tail = NULL;
}

static void kafka_process(coll_worker *w);

void coll_ack_process(coll_worker *w)
{
    coll_server *srv = w->srv;
    if (!srv->topic) {
        kafka_process(w);
        return;
    }
    uint64_t durable = log_durable_end(srv->topic);
    uint64_t gen = atomic_load(&srv->sync_fail_gen);
    uint64_t now = sl_mono_ns();
    while (w->pend_head) {
        coll_pending *p = w->pend_head;
        bool ok = durable >= p->end;
        if (!ok && p->fail_gen == gen)
            break;  /* still waiting for its group commit */
        w->pend_head = p->next;
        if (!w->pend_head)
            w->pend_tail = NULL;
        atomic_fetch_sub(&w->npending, 1);
        coll_metrics_add(&w->metrics.pending, -1);
        if (ok) {
            coll_metrics_append(&w->metrics, p->nevents, p->nbytes, now - p->t_append_ns);
            coll_respond(w, p->req, p->route_slot, p->t0_ns, p->status, p->content_type,
                         p->body);
        } else {
            coll_metrics_append_failed(&w->metrics);
            coll_respond_error(w, p->req, p->route_slot, p->t0_ns, 503,
                               "the log could not sync the events; retry", -1);
        }
    }
}

void coll_ack_enqueue(coll_worker *w, coll_pending *p)
{
    p->next = NULL;
    if (w->pend_tail)
        w->pend_tail->next = p;
    else
        w->pend_head = p;
    w->pend_tail = p;
    coll_metrics_add(&w->metrics.pending, 1);
    atomic_fetch_add(&w->npending, 1);  /* before re-reading durable_end: see the top */
    coll_ack_process(w);
}

void coll_ack_on_durable(void *ud, uint64_t durable_end, int status)
{
    coll_server *srv = ud;
    (void)durable_end;
    atomic_fetch_add(&srv->cb_active, 1);  /* the main thread waits for this at shutdown */
    if (!atomic_load(&srv->cb_enabled)) {
        atomic_fetch_sub(&srv->cb_active, 1);
        return;
    }
    if (status < 0)
        atomic_fetch_add(&srv->sync_fail_gen, 1);
    for (unsigned i = 0; i < srv->nworkers; i++) {
        coll_worker *w = &srv->workers[i];
        if (!atomic_load(&w->receivers_ready) || atomic_load(&w->npending) == 0)
            continue;
        int expected = 0;
        if (atomic_compare_exchange_strong(&w->ack_notified, &expected, 1))
            h2o_multithread_send_message(&w->ack_receiver, &w->ack_msg);
    }
    atomic_fetch_sub(&srv->cb_active, 1);
}

/* ---------------------------------------------------------------- Kafka */

/* One message of a request: the opaque of its delivery report (index: kmsg - p->kmsgs). */
typedef struct coll_kmsg {
    coll_pending *p;
    atomic_bool   failed;
} coll_kmsg;

/* Any thread: pushes p, whose count reached 0, on its worker's stack of completed
 * requests. */
static void kafka_done_push(coll_worker *w, coll_pending *p)
{
    coll_pending *head = atomic_load(&w->kafka_done);
    do
        p->done_next = head;
    while (!atomic_compare_exchange_weak(&w->kafka_done, &head, p));
}

/* Any thread. p's count reached 0: hand it to its loop. */
static void kafka_complete(coll_worker *w, coll_pending *p)
{
    kafka_done_push(w, p);
    int expected = 0;
    if (atomic_compare_exchange_strong(&w->ack_notified, &expected, 1))
        h2o_multithread_send_message(&w->ack_receiver, &w->ack_msg);
}

/* 503 for a request that Kafka took only in part, or not at all: the body lists which
 * events (0-based, in request order) are stored and which are not, so that a client can
 * resend exactly the ones not stored. */
static void kafka_respond_503(coll_worker *w, coll_pending *p)
{
    h2o_req_t *req = p->req;
    size_t n = p->nevents, nstored = 0;
    for (size_t i = 0; i < n; i++)
        nstored += !atomic_load(&p->kmsgs[i].failed);
    /* ,"stored":[...],"not_stored":[...]: at most 21 bytes per index */
    size_t cap = 32 + 21 * n, len = 0;
    char *extra = h2o_mem_alloc_pool(&req->pool, cap);
    static const char *const heads[2] = {",\"stored\":[", "],\"not_stored\":["};
    for (int want_failed = 0; want_failed < 2; want_failed++) {
        memcpy(extra + len, heads[want_failed], strlen(heads[want_failed]));
        len += strlen(heads[want_failed]);
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            if (atomic_load(&p->kmsgs[i].failed) != (bool)want_failed)
                continue;
            len += (size_t)snprintf(extra + len, cap - len, first ? "%zu" : ",%zu", i);
            first = false;
        }
    }
    extra[len++] = ']';
    const char *msg = p->kafka_status == 503 ? p->kafka_msg
                      : nstored == 0 ? "kafka did not store the events (delivery failed or "
                                       "timed out); retry"
                                     : "kafka stored only some of the events; resend the "
                                       "ones in not_stored";
    coll_respond_error_extra(w, req, p->route_slot, p->t0_ns, 503, msg, -1,
                             h2o_iovec_init(extra, len));
}

/* Event-loop thread: answers every completed request. */
static void kafka_process(coll_worker *w)
{
    coll_pending *p = atomic_exchange(&w->kafka_done, NULL);
    coll_pending *fifo = NULL;
    while (p) {  /* the stack is newest first: reverse it */
        coll_pending *n = p->done_next;
        p->done_next = fifo;
        fifo = p;
        p = n;
    }
    uint64_t now = sl_mono_ns();
    const size_t events_slot = w->srv->app->nroutes + COLL_RT_EVENTS;
    while (fifo) {
        p = fifo;
        fifo = p->done_next;  /* read before answering: answering may free p's pool */
        atomic_fetch_sub(&w->npending, 1);
        coll_metrics_add(&w->metrics.pending, -1);
        if (!atomic_load(&p->kafka_failed)) {
            coll_metrics_append(&w->metrics, p->nevents, p->nbytes, now - p->t_append_ns);
            coll_respond(w, p->req, p->route_slot, p->t0_ns, p->status, p->content_type,
                         p->body);
            continue;
        }
        coll_metrics_append_failed(&w->metrics);
        if (p->kafka_status == 413)  /* nothing was produced */
            coll_respond_error(w, p->req, p->route_slot, p->t0_ns, 413, p->kafka_msg,
                               p->route_slot == events_slot && p->kafka_bad != SIZE_MAX
                                   ? (long long)p->kafka_bad : -1);
        else
            kafka_respond_503(w, p);
    }
}

/* Produces the events of one request, all of them or, when a refusal can be known before
 * (too large for message.max.bytes, no room in the producer queue), none. */
static void kafka_produce(coll_worker *w, coll_pending *p, const log_entry *entries)
{
    size_t n = p->nevents, bad = SIZE_MAX;
    p->kmsgs = h2o_mem_alloc_pool(&p->req->pool, n * sizeof *p->kmsgs);
    for (size_t j = 0; j < n; j++) {
        p->kmsgs[j].p = p;
        atomic_init(&p->kmsgs[j].failed, false);
        w->kout[j] = (bus_out){entries[j].data, entries[j].len, &p->kmsgs[j], NULL, 0};
    }
    sl_err err;
    sl_err_clear(&err);
    long sent = bus_producer_send_all(w->srv->cfg->kafka, w->kout, n, &bad, &err);
    if (sent < 0) {
        p->kafka_status = sent == -EMSGSIZE || sent == -E2BIG ? 413 : 503;
        p->kafka_bad = sent == -EMSGSIZE ? bad : SIZE_MAX;
        sent = 0;
    }
    if ((size_t)sent < n) {
        p->kafka_msg = h2o_strdup(&p->req->pool, err.msg, SIZE_MAX).base;
        for (size_t j = (size_t)sent; j < n; j++)
            atomic_store(&p->kmsgs[j].failed, true);
        atomic_store(&p->kafka_failed, true);
        /* the messages never queued will never be reported */
        atomic_fetch_sub(&p->kafka_left, (unsigned)(n - (size_t)sent));
    }
}

void coll_ack_kafka_flush(coll_worker *w, coll_pending *list, const log_entry *entries)
{
    uint64_t t_append = sl_mono_ns();
    size_t i = 0;
    /* pass 1: produce everything while entries (pointing into w->ev) are valid */
    for (coll_pending *p = list; p; p = p->next) {
        p->w = w;
        p->t_append_ns = t_append;
        p->kafka_status = 0;
        p->kafka_msg = NULL;
        p->kafka_bad = SIZE_MAX;
        p->done_next = NULL;
        atomic_init(&p->kafka_failed, false);
        atomic_init(&p->kafka_left, (unsigned)p->nevents + 1);
        atomic_fetch_add(&w->npending, 1);
        coll_metrics_add(&w->metrics.pending, 1);
        kafka_produce(w, p, entries + i);
        i += p->nevents;
    }
    /* the batch is Kafka's now (copied): answering below may start new requests */
    w->nbatch = 0;
    sl_buf_reset(&w->ev);
    /* pass 2: drop the guard; what is complete already is answered at once */
    bool any = false;
    for (coll_pending *p = list; p;) {
        coll_pending *next = p->next;
        if (atomic_fetch_sub(&p->kafka_left, 1) == 1) {
            kafka_done_push(w, p);
            any = true;
        }
        p = next;
    }
    if (any)
        kafka_process(w);
}

void coll_ack_on_delivery(void *ud, void *opaque, int status, const char *why)
{
    (void)ud;
    (void)why;
    coll_kmsg *m = opaque;
    coll_pending *p = m->p;
    if (status < 0) {
        atomic_store(&m->failed, true);
        atomic_store(&p->kafka_failed, true);
    }
    if (atomic_fetch_sub(&p->kafka_left, 1) == 1)
        kafka_complete(p->w, p);
}
