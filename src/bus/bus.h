/* bus.h — the bus: where the collector puts events and the stream takes them from.
 *
 * Two back ends behind one command-line surface:
 *   --bus log                                  the embedded log (bus/log.h), the default
 *   --bus kafka://host:port[,host:port]/topic  Apache Kafka through librdkafka (kafka.c)
 * plus `--kafka-opt key=value` (repeatable, any librdkafka property) and
 * `--kafka-key FIELD` (which top-level event field keys a Kafka message; default event_id).
 * The environment and the config file set the same (through cli_env_args()): SLUICE_BUS,
 * SLUICE_KAFKA_OPT (one key=value), SLUICE_KAFKA_KEY; `bus = ...`, `kafka-opt = k=v`
 * (repeatable), `kafka-key = ...` in sluice.conf. --kafka-opt values of all sources are
 * applied in order file, environment, command line, so the last one of a key wins.
 *
 * The Kafka side, in three parts:
 *   producer  non-blocking produce with a delivery report per message, handed to the
 *             caller's callback on a dedicated poll thread (the HTTP loops never block);
 *             acks=all, idempotence, lz4, linger 1 ms, bounded queue (a full queue is
 *             -ENOBUFS).
 *   consumer  a consumer group (or, without a group, a plain assignment of every
 *             partition), manual commits only, the caller decides where each assigned
 *             partition starts (its checkpoint is the source of truth).
 *   guarantees  Kafka gives at-least-once between the collector and the topic: a request
 *             whose messages were partly delivered is answered 503 and retried by the
 *             client, so some events can be in the topic twice under different
 *             event_ids. "Exactly once" in sluice is about offsets -> files: the stream
 *             writes each (partition, offset range) to one deterministic file name.
 *
 * Errors follow common/err.h. Thread rules are stated per function.
 */
#ifndef SLUICE_BUS_H
#define SLUICE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef enum { BUS_LOG = 0, BUS_KAFKA = 1 } bus_kind;

#define BUS_MAX_KAFKA_OPTS 64

typedef struct bus_spec {
    bus_kind    kind;
    char       *brokers;     /* "h1:p1,h2:p2" (kafka); owned */
    char       *topic;       /* kafka topic; owned (NULL for log: the app spec names it) */
    const char *opts[BUS_MAX_KAFKA_OPTS]; /* "key=value", borrowed from argv */
    size_t      nopts;
    const char *key_field;   /* default "event_id" */
} bus_spec;

void bus_spec_init(bus_spec *s);
void bus_spec_free(bus_spec *s);

/* Parses a --bus value ("log" or "kafka://host:port[,host:port]/topic") into s. Returns 0
 * or -EINVAL with a message that shows the expected form. */
int bus_spec_parse(bus_spec *s, const char *url, sl_err *err);

/* Adds one --kafka-opt "key=value" (kept by reference: it must outlive s). */
int bus_spec_add_opt(bus_spec *s, const char *kv, sl_err *err);

/* After all options are parsed: -EINVAL when --kafka-opt or --kafka-key were given but the
 * bus is the embedded log (they would be ignored). */
int bus_spec_check(const bus_spec *s, sl_err *err);

/* "kafka://b1:9092,b2:9092/events" or "log", for banners. Writes at most cap bytes. */
void bus_spec_describe(const bus_spec *s, char *out, size_t cap);

/* Kafka topic names: [A-Za-z0-9._-]{1,249}. */
bool bus_kafka_topic_valid(const char *t);

/* Help text for the options above, for stream --help (its descriptions start in column
 * 26). */
#define BUS_HELP_OPTIONS                                                                    \
    "  --bus URL              log (default: the embedded log) or\n"                          \
    "                         kafka://HOST:PORT[,HOST:PORT]/TOPIC (Apache Kafka)\n"          \
    "  --kafka-opt K=V        librdkafka property, repeatable (e.g. security.protocol=ssl)\n"

/* ------------------------------------------------------------------ producer */

typedef struct bus_producer bus_producer;

/* Delivery report of one message: status 0 = stored with acks=all, < 0 = failed (why is a
 * static or short-lived text). Runs on the producer's poll thread, never on the caller's. */
typedef void (*bus_delivery_fn)(void *ud, void *opaque, int status, const char *why);

/* Connects a producer (lazily: brokers are contacted in the background) and starts its
 * poll thread. Fails on a bad --kafka-opt or an unknown topic name form. */
int bus_producer_new(const bus_spec *s, bus_producer **out, sl_err *err);

/* Sets (or, with fn NULL, clears) the delivery callback. When this returns with NULL, no
 * callback is running or will run: reports that arrive later are dropped. Any thread. */
void bus_producer_set_delivery(bus_producer *p, bus_delivery_fn fn, void *ud);

/* Queues one message (copied). The key is the string value of the spec's key_field in
 * the JSON object data (no key when missing). Never blocks. -ENOBUFS (retriable) when the
 * bounded queue is full, -EMSGSIZE when the message is too large, other < 0 on fatal
 * errors. On success a delivery report with this opaque follows exactly once (unless the
 * callback was cleared). Any thread. */
int bus_producer_send(bus_producer *p, const void *data, size_t len, void *opaque, sl_err *err);

/* One message of bus_producer_send_all(): the caller fills data, len and opaque; key and
 * klen are filled in by the call. */
typedef struct bus_out {
    const void *data;
    size_t      len;
    void       *opaque;
    const char *key;
    size_t      klen;
} bus_out;

/* Queues the n messages of one request so that a refusal that can be known in advance
 * refuses all of them: before the first is queued, every message is checked against
 * message.max.bytes (-EMSGSIZE, *bad = the index of the first too large) and room for
 * all n is reserved in the bounded queue (-ENOBUFS, retriable, when it has no room now;
 * -E2BIG when the n messages would not fit even in an empty queue). Returns the number
 * queued: n, or fewer only when librdkafka refused one after these checks (a fatal
 * producer error; err says why, and messages [returned, n) were not queued). Each queued
 * message gets one delivery report. Any thread. */
long bus_producer_send_all(bus_producer *p, bus_out *msgs, size_t n, size_t *bad, sl_err *err);

/* Waits up to timeout_ms for every queued message to be reported. 0, or -ETIMEDOUT. */
int bus_producer_flush(bus_producer *p, int timeout_ms, sl_err *err);

/* Messages queued and not yet reported. */
uint64_t bus_producer_inflight(bus_producer *p);

/* Flushes for up to 10 s, stops the poll thread, frees. NULL is fine. */
void bus_producer_destroy(bus_producer *p);

/* ------------------------------------------------------------------ consumer */

typedef struct bus_consumer bus_consumer;

typedef struct bus_msg {
    const char *topic;
    int32_t     partition;
    int64_t     offset;
    int64_t     ts_ms;      /* record timestamp (create or log-append time), -1 if none */
    const char *data;
    size_t      len;
    void       *priv;       /* the librdkafka message; freed by bus_msg_release */
} bus_msg;

/* Assignment changes, called on the thread inside bus_consumer_poll(). With the
 * default (eager) assignment strategies every change revokes all partitions and assigns a
 * new set; with partition.assignment.strategy=cooperative-sticky a change adds or revokes
 * only some partitions (rd_kafka_incremental_assign/unassign) and the others go on.
 *   assigned = true:  the partitions are ours now; for each, set start[i] to the offset to
 *                     read from (>= 0), or leave -1 for the group's committed offset
 *                     (falling back to the earliest).
 *   assigned = false: the partitions are no longer ours: abandon any uncommitted work for
 *                     them (another instance replays it from the checkpoint). */
typedef void (*bus_assign_fn)(void *ud, bool assigned, const int32_t *parts, size_t n,
                              int64_t *start);

typedef struct bus_consumer_opts {
    const char   *group;       /* consumer group; NULL: assign all partitions, no group */
    int64_t       start;       /* without a group: -2 earliest, -1 latest, >= 0 offset */
    bool          report_eof;  /* bus_consumer_poll returns 2 once all partitions hit the end */
    bus_assign_fn on_assign;   /* may be NULL */
    void         *ud;
} bus_consumer_opts;

int bus_consumer_new(const bus_spec *s, const bus_consumer_opts *o, bus_consumer **out,
                     sl_err *err);

/* Waits up to timeout_ms for a message. 1: *m filled (release it with bus_msg_release);
 * 0: nothing yet; 2: every assigned partition is at its end (report_eof); < 0: error
 * (err->retriable tells whether to keep polling). One thread only. */
int bus_consumer_poll(bus_consumer *c, int timeout_ms, bus_msg *m, sl_err *err);
void bus_msg_release(bus_msg *m);

/* Commits "next offset to read" for a partition to the group, synchronously. Call only
 * after the data up to next_offset-1 is committed downstream. Fails (retriable) when the
 * partition is not assigned to us any more. */
int bus_consumer_commit(bus_consumer *c, int32_t partition, int64_t next_offset, sl_err *err);

/* True while the partition is assigned to this consumer. */
bool bus_consumer_owns(bus_consumer *c, int32_t partition);

/* True when the last thing bus_consumer_poll() saw of an assigned partition was its end
 * (librdkafka's partition EOF: a fetch at the high watermark brought nothing) and no
 * record has come since; *end is then the offset the next record will get. False for a
 * partition still being fetched or not assigned. One thread only (the poll's). */
bool bus_consumer_at_end(bus_consumer *c, int32_t partition, int64_t *end);

/* Leaves the group (revoking: the callback runs once more) and frees. NULL is fine. */
void bus_consumer_destroy(bus_consumer *c);

#endif
