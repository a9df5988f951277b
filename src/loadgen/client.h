/* client.h — the load-generating engine of `sluice bench`.
 *
 * lg_run() starts cfg->threads worker threads, each with its own epoll loop and its share
 * of cfg->conns non-blocking HTTP/1.1 connections, and sends the requests of a plan: slot
 * i of the plan is request plan->reqs[plan->order[i % plan->n]]. Slots are handed out
 * from one shared atomic counter, so that every slot is sent exactly once in a fixed-count
 * run, whatever the thread count.
 *
 *  - Closed loop (cfg->rate == 0): a connection takes the next slot as soon as its last
 *    answer (or failure) arrived. Latency = from taking the slot to the last byte of the
 *    answer (a new connection's connect time included).
 *  - Open loop (cfg->rate > 0): slot j of worker k (of T) is due at
 *    start + (k + j * T) / rate, so that the workers' sends interleave, one every 1/rate;
 *    it goes out on the first idle connection at or after that time (waits are timed to
 *    the nanosecond, not rounded to milliseconds), and its latency is measured from the
 *    time it was due (coordinated omission corrected: a stalled server makes queued
 *    requests count their waiting time).
 *  - cfg->duration_ms > 0: the plan is repeated until the time is up; answers still in
 *    flight then are counted as unfinished.
 *
 * Requests are pre-formatted bytes (no per-request formatting or allocation); answers are
 * parsed only as far as needed: status line, Content-Length, chunked framing, Connection.
 * A failure of one request (connect refused, timeout, reset, unparsable answer) is counted
 * by kind; its connection is closed and opened again (after LG_RECONNECT_DELAY_MS when the
 * connect itself failed), and the run goes on. One failure is not the server's answer: a
 * kept-alive connection (one that carried an answer before) closed or reset before any
 * byte of the request's answer came. That request is sent again on a new connection,
 * once, and counted in lg_stats.retried (its second failure counts as an error).
 *
 * Scheduling: with cfg->sched_batch the workers are SCHED_BATCH threads (see lg_config).
 *
 * Threading: lg_run() blocks the caller until the run ends; the caller's thread prints
 * progress through cfg->progress (if set) about once a second. *stop (may be NULL) is
 * polled by every worker at least every 10 ms: set it from a signal handler to end early.
 */
#ifndef SLUICE_LOADGEN_CLIENT_H
#define SLUICE_LOADGEN_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"
#include "loadgen/hist.h"

#define LG_MAX_CONNS          100000u
#define LG_MAX_THREADS        256u
#define LG_MAX_RATE           100000000.0   /* requests/s (--rate) */
#define LG_RECONNECT_DELAY_MS 10u
#define LG_HEADER_MAX         16384u   /* bytes of one answer's status line + headers */

typedef enum lg_err_kind {
    LG_ERR_CONNECT = 0,  /* connect() failed: refused, unreachable, no local port */
    LG_ERR_TIMEOUT,      /* no complete answer within cfg->timeout_ms */
    LG_ERR_RESET,        /* connection reset or closed before the answer was complete */
    LG_ERR_BAD_RESPONSE, /* the answer is not HTTP/1.x we can frame */
    LG_ERR_KINDS
} lg_err_kind;

extern const char *const lg_err_names[LG_ERR_KINDS];  /* "connect", "timeout", ... */

typedef struct lg_request {
    const char *data;   /* the complete request bytes */
    size_t      len;
    bool        head;   /* HEAD: the answer has no body whatever its headers say */
} lg_request;

typedef struct lg_plan {
    const lg_request *reqs;   /* one per scenario entry */
    const uint32_t   *order;  /* slot -> index into reqs */
    uint64_t          n;      /* slots in one pass */
} lg_plan;

#define LG_STATUS_MAX 600

typedef struct lg_stats {
    uint64_t attempted;               /* slots taken (requests started) */
    uint64_t answered;                /* complete answers, any status */
    uint64_t status[LG_STATUS_MAX];   /* answers by status code (100..599) */
    uint64_t errors[LG_ERR_KINDS];
    uint64_t unfinished;              /* in flight when a --duration run or *stop ended it */
    uint64_t connections;             /* connections opened (successfully or not) */
    uint64_t retried;                 /* requests sent again after a kept-alive close */
    uint64_t connect_no_fd;           /* connect errors for want of a file descriptor
                                         (EMFILE, ENFILE): the caller hints at ulimit -n */
    uint64_t bytes_in, bytes_out;
    lg_hist  hist;                    /* latency of answered requests, ns */
    uint64_t start_ns;                /* CLOCK_MONOTONIC when the workers started */
    uint64_t first_send_ns;           /* first request started (0: none) */
    uint64_t last_answer_ns;          /* last answer complete (0: none) */
    uint64_t end_ns;                  /* all workers finished */
} lg_stats;

typedef struct lg_config {
    struct sockaddr_storage addr;
    socklen_t               addrlen;
    unsigned                conns;        /* total connections, >= threads */
    unsigned                threads;
    bool                    keepalive;
    double                  rate;         /* requests/s in all; 0 = closed loop */
    uint64_t                duration_ms;  /* 0 = one pass over the plan */
    uint64_t                timeout_ms;   /* per request, > 0 */
    /* Workers run as SCHED_BATCH (best effort): their wake-ups then never preempt a
     * running thread, such as the server under test on a shared core; they run on an
     * idle core or at the next scheduler tick. See docs/bench.md for when it matters. */
    bool                    sched_batch;
    /* called on lg_run()'s thread about every second: answers and errors so far */
    void (*progress)(void *arg, uint64_t answered, uint64_t errors, double elapsed_s);
    void *progress_arg;
} lg_config;

/* Runs the load. *out is initialised here (free with lg_stats_free()); on failure to set
 * up (threads, epoll, memory) returns a negative code with err filled, and nothing runs. */
int lg_run(const lg_config *cfg, const lg_plan *plan, volatile sig_atomic_t *stop,
           lg_stats *out, sl_err *err);

void lg_stats_free(lg_stats *s);

uint64_t lg_now_ns(void);  /* CLOCK_MONOTONIC in nanoseconds */

#endif
