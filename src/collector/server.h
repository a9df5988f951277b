/* server.h — the collector's HTTP server: h2o event loops, one per thread, each with its
 * own SO_REUSEPORT listening socket, all appending to one log topic.
 *
 * Threading: every coll_worker is owned by its thread; nothing in it is touched by another
 * thread except the fields marked "any thread" (the ack notification, the control
 * receiver, and the metrics, which other threads read with relaxed atomic loads).
 */
#ifndef SLUICE_COLL_SERVER_H
#define SLUICE_COLL_SERVER_H

#include <h2o.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus/bus.h"
#include "bus/log.h"
#include "collector/ingest.h"
#include "collector/metrics.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/listener.h"
#include "spec/gen.h"
#include "spec/spec.h"

typedef struct coll_config {
    const char *host;             /* listen address, default 127.0.0.1 */
    uint16_t    port;             /* default 5000 */
    unsigned    threads;          /* default: online CPUs */
    uint64_t    max_body;         /* default 1 MiB */
    uint64_t    timeout_ms;       /* idle / slow client, default 10 s */
    unsigned    max_headers;      /* default 64 -> 431 above */
    uint64_t    max_header_bytes; /* names + values, default 16 KiB -> 431 above */
    uint64_t    drain_ms;         /* graceful shutdown deadline, default 10 s */
    coll_ingest_limits limits;
    FILE       *access_log;       /* NULL: none */
    const char *banner;           /* printed to stdout once listening; NULL: none */
    const struct coll_auth *auth; /* write keys, admin token (auth.h); NULL: open */
    bus_producer *kafka;          /* non-NULL: events go to Kafka (ack.c), the topic is NULL */
    const char **cors_origins;    /* browser origins allowed to call (CORS); "*": any */
    size_t      ncors;
} coll_config;

void coll_config_init(coll_config *c);

struct coll_server;

/* One response waiting for the log to make its events durable (ack.c). Allocated from
 * the request's memory pool, so it lives exactly as long as the request. */
typedef struct coll_pending {
    struct coll_pending *next;
    h2o_req_t *req;
    uint64_t   end;         /* durable once log_durable_end() >= end */
    uint64_t   fail_gen;    /* server->sync_fail_gen when it was appended */
    uint64_t   t0_ns;       /* handler entry, for the latency histogram */
    uint64_t   t_append_ns;
    uint64_t   nevents, nbytes;
    size_t     route_slot;
    int        status;      /* success status and body */
    h2o_iovec_t body;
    const char *content_type;
    /* Kafka (ack.c): messages not yet reported (+1 while being produced), any failure,
     * each message's report, and the link of the worker's stack of completed requests. */
    struct coll_worker *w;
    atomic_uint kafka_left;
    atomic_bool kafka_failed;
    int         kafka_status;   /* 413 or 503 when the request was refused before any of
                                   its events was produced; else 0 */
    const char *kafka_msg;      /* why it was refused (the request's pool) */
    size_t      kafka_bad;      /* the event that is too large, with 413 */
    struct coll_kmsg *kmsgs;    /* [nevents]: the opaque of each message's report */
    struct coll_pending *done_next;
} coll_pending;

typedef struct coll_worker {
    struct coll_server *srv;
    unsigned        index;
    pthread_t       tid;
    bool            started;
    h2o_evloop_t   *loop;
    h2o_context_t   ctx;
    bool            ctx_ready;
    h2o_accept_ctx_t accept_ctx;
    sl_listener     listener;           /* this loop's SO_REUSEPORT socket */
    h2o_timeout_t   guard_timeout;      /* guard.c: --timeout for a request to arrive */
    h2o_timeout_t   guard_linger;       /* guard.c: dropping input after our own answer */
    bool            guard_ready;

    /* durability notifications from the log's sync thread (any thread sends) */
    h2o_multithread_receiver_t ack_receiver;
    h2o_multithread_message_t  ack_msg;
    atomic_int      ack_notified;   /* 1 while ack_msg is queued */
    atomic_ulong    npending;       /* read by the sync thread */
    coll_pending   *pend_head, *pend_tail;

    /* shutdown request from the main thread */
    h2o_multithread_receiver_t ctl_receiver;
    h2o_multithread_message_t  ctl_msg;
    bool            draining;
    atomic_bool     receivers_ready;

    /* per-thread scratch, reused by every request: no malloc on the hot path */
    sl_buf          ev;         /* events of this loop iteration (the batch) */
    size_t          nbatch;     /* events in the batch */
    size_t          batch_cap;  /* max_events + 4096 */
    coll_pending   *batch_head, *batch_tail; /* requests whose events are in the batch */
    h2o_timeout_entry_t flush_entry;         /* on ctx.zero_timeout: end of iteration */
    sl_buf          scratch;    /* decoded names */
    sl_buf          qscratch;   /* decoded query */
    size_t         *ends;       /* [batch_cap] end offset of each event in ev */
    log_entry      *entries;    /* [batch_cap] */
    bus_out        *kout;       /* [batch_cap] with Kafka: the messages of one request */
    spec_rng        rng;
    coll_metrics    metrics;
    _Atomic(coll_pending *) kafka_done; /* completed Kafka requests (any thread pushes) */
} coll_worker;

typedef struct coll_server {
    const coll_config *cfg;
    const spec_app   *app;
    log_topic        *topic;
    h2o_globalconf_t  gconf;
    h2o_hostconf_t   *hostconf;
    coll_worker      *workers;
    unsigned          nworkers;
    const char      **route_names;  /* metrics labels, [app routes + special] */
    atomic_ulong      sync_fail_gen; /* bumped by the sync thread on a failed sync */
    atomic_bool       cb_enabled;    /* the durable callback may post to the loops */
    atomic_int        cb_active;     /* durable callbacks under way */
    pthread_mutex_t   mu;            /* phases of the threads: */
    pthread_cond_t    cv;
    unsigned          nready, ndrained, disposable;
} coll_server;

/* Binds every worker's socket (so that "address in use" is reported before anything
 * else starts), runs the loops until SIGINT/SIGTERM, drains, and returns 0; or a
 * negative code with err filled. The caller opens and later closes the topic. */
int coll_server_run(const coll_config *cfg, const spec_app *app, log_topic *topic,
                    sl_err *err);

/* server.c: the reason phrase of a status; an access log line and the metrics for an
 * answer written by the guard (no h2o request behind it). */
const char *coll_reason(int status);
void coll_log_raw(coll_worker *w, int fd, int status, size_t bytes);

/* guard.c: 408 for slow and idle clients, 414/431 for heads above h2o's own limits. */
void coll_guard_init(coll_worker *w);
void coll_guard_dispose(coll_worker *w);
/* Hands an accepted socket to h2o with a guard in front of it. */
void coll_guard_accept(coll_worker *w, h2o_socket_t *sock);
/* The handler takes req: its connection's deadline stops. False if the guard answered the
 * connection already (the request must not be processed). */
bool coll_guard_begin(h2o_req_t *req);
/* True when req's connection has no request under way: nothing of a next request has
 * arrived, the handler owns none, no answer is being written (drain closes these). */
bool coll_guard_idle(h2o_req_t *req);
/* The final response of req was handed to sock (from req->conn->callbacks->get_socket
 * before h2o_send); the deadline restarts once written, and a request pipelined behind
 * req is checked like any other before h2o parses it. */
void coll_guard_responded(h2o_req_t *req, h2o_socket_t *sock);

/* ack.c */
void coll_ack_init(coll_worker *w);
/* Queues p (already filled) and completes it at once if its events are durable. */
void coll_ack_enqueue(coll_worker *w, coll_pending *p);
/* Kafka: produces the events of the requests in list (entries[i] = event i, in order),
 * then empties the batch; answers come from the delivery reports. Event-loop thread. */
void coll_ack_kafka_flush(coll_worker *w, coll_pending *list, const log_entry *entries);
/* The producer's delivery callback (poll thread). ud is the coll_server. */
void coll_ack_on_delivery(void *ud, void *opaque, int status, const char *why);
/* The log's durable callback (runs on the log's sync thread). ud is the coll_server. */
void coll_ack_on_durable(void *ud, uint64_t durable_end, int status);
/* Completes what is durable (or failed) in w's queue. Event-loop thread only. */
void coll_ack_process(coll_worker *w);

/* server.c, used by ack.c: sends the final response and counts it. */
void coll_respond(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                  int status, const char *content_type, h2o_iovec_t body);
void coll_respond_error(coll_worker *w, h2o_req_t *req, size_t route_slot, uint64_t t0_ns,
                        int status, const char *msg, long long index);
/* The same with more members after "error" (and "index"): extra is JSON text that starts
 * with a comma, e.g. ,"stored":[0]. */
void coll_respond_error_extra(coll_worker *w, h2o_req_t *req, size_t route_slot,
                              uint64_t t0_ns, int status, const char *msg, long long index,
                              h2o_iovec_t extra);

#endif
