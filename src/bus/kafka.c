/* kafka.c — the Kafka back end of the bus, on librdkafka (Debian's 2.0.2). See bus.h.
 *
 * Producer settings (each can be overridden by --kafka-opt, applied after them):
 *   acks=all, enable.idempotence=true   "stored" means every in-sync replica has it, and
 *                                       librdkafka's retries never duplicate or reorder
 *   compression.codec=lz4               events are repetitive JSON: ~4x smaller on the wire
 *   linger.ms=1, batch.num.messages=10000, batch.size=1MiB
 *                                       the HTTP answer waits for the delivery report, so
 *                                       linger adds to every request's latency, and with a
 *                                       fixed number of clients latency is throughput:
 *                                       bench/kafka.sh (wrk -c64, mock) gave ~11k req/s with
 *                                       5 ms, ~22k with 2 ms, ~37k with 1 ms; 0 is worse
 *                                       (~11k: one tiny request per message). Under load 1 ms
 *                                       still fills batches of hundreds of messages.
 *   queue.buffering.max.messages=100000, queue.buffering.max.kbytes=65536
 *                                       bounded in-flight memory: past it, a send is refused
 *                                       (-ENOBUFS) and the collector answers 503 + Retry-After.
 *                                       The bound is kept here (room reserved per request in
 *                                       bus_producer_send_all, given back in the delivery
 *                                       report), so that a request is refused whole rather
 *                                       than cut in the middle; librdkafka's own limits are
 *                                       set to twice these, so they never bind first (its
 *                                       count drops only after the report callbacks of a
 *                                       whole poll, ours during them).
 *   message.timeout.ms=30000            a message not stored by then is reported failed
 *                                       (librdkafka's default is 5 minutes: far longer than
 *                                       any HTTP client waits)
 *
 * Threads: the producer owns one poll thread that calls rd_kafka_poll(), which runs the
 * delivery callbacks; the user callback is called under cb_mu so that clearing it
 * (bus_producer_set_delivery(p, NULL, NULL)) waits for a call under way.
 * The consumer is used by one thread: rebalance callbacks run inside bus_consumer_poll().
 */
#include <errno.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "common/json.h"

/* ------------------------------------------------------------------ config */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, sl_err *err)
{
    char es[256];
    if (rd_kafka_conf_set(conf, k, v, es, sizeof es) != RD_KAFKA_CONF_OK)
        return sl_err_set(err, -EINVAL, false, "kafka option %s=%s: %s", k, v, es);
    return 0;
}

/* Defaults first, then the user's --kafka-opt (which win). */
static int conf_apply(rd_kafka_conf_t *conf, const bus_spec *s, const char *const *defaults,
                      sl_err *err)
{
    if (conf_set(conf, "bootstrap.servers", s->brokers, err) < 0)
        return err->code;
    for (size_t i = 0; defaults[i]; i += 2)
        if (conf_set(conf, defaults[i], defaults[i + 1], err) < 0)
            return err->code;
    for (size_t i = 0; i < s->nopts; i++) {
        const char *eq = strchr(s->opts[i], '=');
        char key[256];
        size_t kl = eq ? (size_t)(eq - s->opts[i]) : 0;
        if (!eq || kl == 0 || kl >= sizeof key)
            return sl_err_set(err, -EINVAL, false, "bad --kafka-opt '%s': want KEY=VALUE",
                              s->opts[i]);
        memcpy(key, s->opts[i], kl);
        key[kl] = '\0';
        if (conf_set(conf, key, eq + 1, err) < 0)
            return err->code;
    }
    return 0;
}

/* ------------------------------------------------------------------ producer */

/* "2xx means stored" holds with acks=all and idempotence; --kafka-opt may weaken either
 * (librdkafka itself refuses acks other than all while idempotence is on). Said once at
 * start, on stderr: the setting is allowed, but not silently. */
static void warn_weaker_acks(const rd_kafka_conf_t *conf)
{
    char v[64];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(conf, "acks", v, &n) == RD_KAFKA_CONF_OK && strcmp(v, "all") &&
        strcmp(v, "-1"))
        fprintf(stderr,
                "sluice: warning: kafka acks=%s: an event is reported stored (2xx) %s; "
                "sluice's default is acks=all (every in-sync replica has it)\n",
                v, strcmp(v, "0") ? "once the partition leader has it, and is lost if the "
                                    "leader fails before a replica copies it"
                                  : "without any broker confirming it");
    n = sizeof v;
    if (rd_kafka_conf_get(conf, "enable.idempotence", v, &n) == RD_KAFKA_CONF_OK &&
        !strcmp(v, "false"))
        fprintf(stderr,
                "sluice: warning: kafka enable.idempotence=false: librdkafka's retries may "
                "store an event twice or out of order; sluice's default is true\n");
}

struct bus_producer {
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    char             *key_field;
    size_t            key_len;
    pthread_t         poll_tid;
    bool              poll_started;
    atomic_bool       stop;
    atomic_ulong      inflight;
    pthread_mutex_t   cb_mu;
    bus_delivery_fn   fn;
    void             *ud;
    size_t            max_msg;             /* message.max.bytes */
    pthread_mutex_t   room_mu;             /* the queue bound (see the top of the file): */
    uint64_t          cap_msgs, cap_bytes; /* 0 messages: no limit */
    uint64_t          q_msgs, q_bytes;     /* reserved: queued and not yet reported */
};

/* librdkafka's per-message overhead in its size check (rd_kafka_msg_new0:
 * RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD, 2.0.2) */
#define KAFKA_MSG_OVERHEAD 36

static void room_release(bus_producer *p, uint64_t msgs, uint64_t bytes)
{
    pthread_mutex_lock(&p->room_mu);
    p->q_msgs -= msgs;
    p->q_bytes -= bytes;
    pthread_mutex_unlock(&p->room_mu);
}

/* Runs on the poll thread (inside rd_kafka_poll). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    bus_producer *p = opaque;
    pthread_mutex_lock(&p->cb_mu);
    if (p->fn)
        p->fn(p->ud, m->_private, m->err ? -EIO : 0, m->err ? rd_kafka_err2str(m->err) : NULL);
    pthread_mutex_unlock(&p->cb_mu);
    room_release(p, 1, m->len);
    atomic_fetch_sub(&p->inflight, 1);
}

static void *producer_poll_main(void *arg)
{
    bus_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 50);
    return NULL;
}

static uint64_t conf_u64(rd_kafka_conf_t *conf, const char *k)
{
    char v[64];
    size_t vl = sizeof v;
    if (rd_kafka_conf_get(conf, k, v, &vl) != RD_KAFKA_CONF_OK)
        return 0;
    return strtoull(v, NULL, 10);
}

/* Takes the queue bound and message.max.bytes from the final settings (defaults and
 * --kafka-opt) and raises librdkafka's own bound above ours (see the top of the file). */
static int queue_bound(bus_producer *p, rd_kafka_conf_t *conf, sl_err *err)
{
    p->max_msg = (size_t)conf_u64(conf, "message.max.bytes");
    p->cap_msgs = conf_u64(conf, "queue.buffering.max.messages");
    uint64_t kbytes = conf_u64(conf, "queue.buffering.max.kbytes");
    p->cap_bytes = kbytes * 1024;
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)(p->cap_msgs * 2 > INT_MAX ? INT_MAX
                                                                                 : p->cap_msgs * 2));
    if (conf_set(conf, "queue.buffering.max.messages", v, err) < 0)
        return err->code;
    snprintf(v, sizeof v, "%llu", (unsigned long long)(kbytes * 2 > INT_MAX ? INT_MAX : kbytes * 2));
    return conf_set(conf, "queue.buffering.max.kbytes", v, err);
}

int bus_producer_new(const bus_spec *s, bus_producer **out, sl_err *err)
{
    static const char *const defaults[] = {
        "acks", "all",
        "enable.idempotence", "true",
        "compression.codec", "lz4",
        "linger.ms", "1",
        "batch.num.messages", "10000",
        "batch.size", "1048576",
        "queue.buffering.max.messages", "100000",
        "queue.buffering.max.kbytes", "65536",
        "message.timeout.ms", "30000",
        "client.id", "sluice",
        NULL,
    };
    *out = NULL;
    if (s->kind != BUS_KAFKA)
        return sl_err_set(err, -EINVAL, false, "not a kafka bus");
    bus_producer *p = calloc(1, sizeof *p);
    if (!p)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    pthread_mutex_init(&p->cb_mu, NULL);
    pthread_mutex_init(&p->room_mu, NULL);
    p->key_field = strdup(s->key_field ? s->key_field : "event_id");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!p->key_field || !conf) {
        sl_err_set(err, -ENOMEM, true, "out of memory");
        goto fail;
    }
    p->key_len = strlen(p->key_field);
    if (conf_apply(conf, s, defaults, err) < 0 || queue_bound(p, conf, err) < 0)
        goto fail;
    warn_weaker_acks(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    char es[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (!p->rk) {
        sl_err_set(err, -EINVAL, false, "kafka producer: %s", es);
        goto fail;
    }
    conf = NULL;  /* the handle owns it now */
    p->rkt = rd_kafka_topic_new(p->rk, s->topic, NULL);
    if (!p->rkt) {
        sl_err_set(err, -EINVAL, false, "kafka topic %s: %s", s->topic,
                   rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    int e = pthread_create(&p->poll_tid, NULL, producer_poll_main, p);
    if (e) {
        sl_err_errno(err, e, "pthread_create");
        goto fail;
    }
    p->poll_started = true;
    *out = p;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    bus_producer_destroy(p);
    return err->code ? err->code : -EINVAL;
}

void bus_producer_set_delivery(bus_producer *p, bus_delivery_fn fn, void *ud)
{
    pthread_mutex_lock(&p->cb_mu);
    p->fn = fn;
    p->ud = ud;
    pthread_mutex_unlock(&p->cb_mu);
}

/* The key: the raw text of the key field's value (without the quotes of a string). */
static void find_key(const bus_producer *p, const char *data, size_t len, const char **key,
                     size_t *klen)
{
    json_iter it;
    json_member m;
    *key = NULL;
    *klen = 0;
    json_iter_init(&it, data, len);
    while (json_iter_next(&it, &m)) {
        if (!json_str_eq(m.key, p->key_field, p->key_len))
            continue;
        if (m.type == JSON_STRING && m.value.len >= 2) {
            *key = m.value.p + 1;
            *klen = m.value.len - 2;
        } else if (m.type == JSON_NUMBER) {
            *key = m.value.p;
            *klen = m.value.len;
        }
        return;
    }
}

long bus_producer_send_all(bus_producer *p, bus_out *msgs, size_t n, size_t *bad, sl_err *err)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        find_key(p, msgs[i].data, msgs[i].len, &msgs[i].key, &msgs[i].klen);
        if (KAFKA_MSG_OVERHEAD + msgs[i].klen + msgs[i].len > p->max_msg) {
            *bad = i;
            return sl_err_set(err, -EMSGSIZE, false,
                              "event too large for kafka (%zu bytes with its key; "
                              "message.max.bytes=%zu)", msgs[i].klen + msgs[i].len, p->max_msg);
        }
        bytes += msgs[i].len;
    }
    if ((p->cap_msgs && n > p->cap_msgs) || bytes > p->cap_bytes)
        return sl_err_set(err, -E2BIG, false,
                          "%zu events of %llu bytes do not fit in the kafka producer queue "
                          "(queue.buffering.max.messages, queue.buffering.max.kbytes)", n,
                          (unsigned long long)bytes);
    pthread_mutex_lock(&p->room_mu);
    bool room = (!p->cap_msgs || p->q_msgs + n <= p->cap_msgs) && p->q_bytes + bytes <= p->cap_bytes;
    if (room) {
        p->q_msgs += n;
        p->q_bytes += bytes;
    }
    pthread_mutex_unlock(&p->room_mu);
    if (!room)
        return sl_err_set(err, -ENOBUFS, true, "kafka producer queue is full; retry");
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&p->inflight, 1);
        if (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)msgs[i].data, msgs[i].len, msgs[i].key, msgs[i].klen,
                             msgs[i].opaque) == 0) {
            bytes -= msgs[i].len;
            continue;
        }
        atomic_fetch_sub(&p->inflight, 1);
        room_release(p, n - i, bytes);  /* what was not queued will not be reported */
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        *bad = i;
        sl_err_set(err, e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? -EMSGSIZE : -EIO,
                   e != RD_KAFKA_RESP_ERR__FATAL, "kafka produce: %s", rd_kafka_err2str(e));
        return (long)i;
    }
    return (long)n;
}

int bus_producer_send(bus_producer *p, const void *data, size_t len, void *opaque, sl_err *err)
{
    bus_out m = {data, len, opaque, NULL, 0};
    size_t bad;
    long rc = bus_producer_send_all(p, &m, 1, &bad, err);
    return rc == 1 ? 0 : rc < 0 ? (int)rc : err->code;
}

int bus_producer_flush(bus_producer *p, int timeout_ms, sl_err *err)
{
    /* rd_kafka_flush() polls too, which would run callbacks on this thread as well as on
     * the poll thread; wait for the counter instead. */
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int waited = 0; atomic_load(&p->inflight) > 0; waited += 5) {
        if (waited >= timeout_ms)
            return sl_err_set(err, -ETIMEDOUT, true, "kafka: %lu messages not delivered after %d ms",
                              (unsigned long)atomic_load(&p->inflight), timeout_ms);
        nanosleep(&ts, NULL);
    }
    return 0;
}

uint64_t bus_producer_inflight(bus_producer *p)
{
    return atomic_load(&p->inflight);
}

void bus_producer_destroy(bus_producer *p)
{
    if (!p)
        return;
    if (p->poll_started) {
        sl_err err;
        if (bus_producer_flush(p, 10000, &err) < 0)
            fprintf(stderr, "sluice: %s\n", err.msg);
        atomic_store(&p->stop, true);
        pthread_join(p->poll_tid, NULL);
    }
    if (p->rkt)
        rd_kafka_topic_destroy(p->rkt);
    if (p->rk) {
        /* purge what is left so destroy does not wait for it */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
        rd_kafka_destroy(p->rk);
    }
    pthread_mutex_destroy(&p->cb_mu);
    pthread_mutex_destroy(&p->room_mu);
    free(p->key_field);
    free(p);
}

/* ------------------------------------------------------------------ consumer */

/* One assigned partition and what the consumer last saw of it. */
typedef struct owned_part {
    int32_t partition;
    bool    at_eof;      /* the last event was its end: no record since */
    int64_t end;         /* the offset of that end (the next record's) */
} owned_part;

struct bus_consumer {
    rd_kafka_t       *rk;
    char             *topic;
    bus_consumer_opts o;
    owned_part       *owned;    /* the current assignment */
    size_t            nowned, cap;
    bool              eof_reported;
    sl_err            assign_err;
};

static int owned_index(const bus_consumer *c, int32_t part)
{
    for (size_t i = 0; i < c->nowned; i++)
        if (c->owned[i].partition == part)
            return (int)i;
    return -1;
}

static int owned_reserve(bus_consumer *c, size_t n)
{
    if (n <= c->cap)
        return 0;
    owned_part *no = realloc(c->owned, n * sizeof *no);
    if (!no)
        return -ENOMEM;
    c->owned = no;
    c->cap = n;
    return 0;
}

/* Asks the user where each partition of list starts and writes it into list's offsets;
 * then the partitions join the owned set (replace: they are the whole set). */
static int take_list(bus_consumer *c, rd_kafka_topic_partition_list_t *list, bool replace)
{
    size_t n = (size_t)list->cnt, base = replace ? 0 : c->nowned;
    int32_t *parts = calloc(n ? n : 1, sizeof *parts);
    int64_t *start = calloc(n ? n : 1, sizeof *start);
    if (!parts || !start || owned_reserve(c, base + n) < 0) {
        free(parts);
        free(start);
        return sl_err_set(&c->assign_err, -ENOMEM, true, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        parts[i] = list->elems[i].partition;
        start[i] = -1;
    }
    if (c->o.on_assign && n)
        c->o.on_assign(c->o.ud, true, parts, n, start);
    for (size_t i = 0; i < n; i++) {
        if (start[i] >= 0)
            list->elems[i].offset = start[i];
        else if (c->o.group)
            list->elems[i].offset = RD_KAFKA_OFFSET_STORED;
        else
            list->elems[i].offset = c->o.start >= 0 ? c->o.start
                                    : c->o.start == -1 ? RD_KAFKA_OFFSET_END
                                                       : RD_KAFKA_OFFSET_BEGINNING;
        c->owned[base + i] = (owned_part){.partition = parts[i], .end = -1};
    }
    c->nowned = base + n;
    c->eof_reported = false;
    free(parts);
    free(start);
    return 0;
}

/* Eager protocol (and the group-less reader): the list is the whole new assignment. */
static int assign_list(bus_consumer *c, rd_kafka_topic_partition_list_t *list)
{
    int rc = take_list(c, list, true);
    if (rc < 0)
        return rc;
    rd_kafka_resp_err_t e = rd_kafka_assign(c->rk, list);
    if (e)
        return sl_err_set(&c->assign_err, -EIO, true, "kafka assign: %s", rd_kafka_err2str(e));
    return 0;
}

static void revoke_all(bus_consumer *c)
{
    int32_t *parts = c->nowned ? calloc(c->nowned, sizeof *parts) : NULL;
    if (parts && c->o.on_assign) {
        for (size_t i = 0; i < c->nowned; i++)
            parts[i] = c->owned[i].partition;
        c->o.on_assign(c->o.ud, false, parts, c->nowned, NULL);
    }
    free(parts);
    c->nowned = 0;
    rd_kafka_assign(c->rk, NULL);
}

/* Cooperative protocol (partition.assignment.strategy=cooperative-sticky): a rebalance
 * adds or takes away only the listed partitions; the others keep being consumed. */
static void incremental(bus_consumer *c, rd_kafka_topic_partition_list_t *list, bool add)
{
    rd_kafka_error_t *ke;
    if (add) {
        if (take_list(c, list, false) < 0)
            return;
        ke = rd_kafka_incremental_assign(c->rk, list);
    } else {
        size_t n = (size_t)list->cnt, k = 0;
        int32_t *parts = calloc(n ? n : 1, sizeof *parts);
        for (size_t i = 0; i < n; i++) {
            int j = owned_index(c, list->elems[i].partition);
            if (j < 0)
                continue;
            if (parts)
                parts[k++] = list->elems[i].partition;
            c->owned[j] = c->owned[--c->nowned];
        }
        if (k && c->o.on_assign)
            c->o.on_assign(c->o.ud, false, parts, k, NULL);
        free(parts);
        ke = rd_kafka_incremental_unassign(c->rk, list);
    }
    if (ke) {
        sl_err_set(&c->assign_err, -EIO, true, "kafka incremental %s: %s",
                   add ? "assign" : "unassign", rd_kafka_error_string(ke));
        rd_kafka_error_destroy(ke);
    }
}

/* Runs inside rd_kafka_consumer_poll / rd_kafka_consumer_close, on the caller's thread.
 * The group's protocol decides how an assignment changes: EAGER (range, roundrobin: the
 * default) revokes everything and assigns a whole new set; COOPERATIVE (cooperative-sticky)
 * moves only some partitions, and rd_kafka_assign() is refused there ("Erroneous
 * state"), so it gets rd_kafka_incremental_(un)assign(). */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *list, void *opaque)
{
    bus_consumer *c = opaque;
    const char *proto = rd_kafka_rebalance_protocol(rk);
    bool coop = proto && !strcmp(proto, "COOPERATIVE");
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop)
            incremental(c, list, true);
        else
            assign_list(c, list);
    } else if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && coop) {
        incremental(c, list, false);
    } else {
        revoke_all(c);
    }
}

int bus_consumer_new(const bus_spec *s, const bus_consumer_opts *o, bus_consumer **out,
                     sl_err *err)
{
    static const char *const defaults[] = {
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        "client.id", "sluice",
        "session.timeout.ms", "6000",
        "heartbeat.interval.ms", "500",
        NULL,
    };
    /* Reading to the end (--once, tail --exit): librdkafka reports a partition's end only
     * from a fetch answer that brings nothing, and a broker holds such an answer for
     * fetch.wait.max.ms (500 ms by default) hoping for data. A batch job waits for that
     * on every partition before it can finish: measured on the mock, 50000 events took
     * ~850 ms after the assignment with 500 ms and ~300 ms with 10 ms. A continuous
     * consumer keeps the default: a fetch returns as soon as data arrives anyway, and a
     * short wait would only make idle polling busier. */
    static const char *const eof_defaults[] = {"fetch.wait.max.ms", "10", NULL};
    const char *defs[sizeof defaults / sizeof defaults[0] + 2];
    size_t nd = 0;
    for (size_t i = 0; defaults[i]; i++)
        defs[nd++] = defaults[i];
    for (size_t i = 0; o->report_eof && eof_defaults[i]; i++)
        defs[nd++] = eof_defaults[i];
    defs[nd] = NULL;
    *out = NULL;
    if (s->kind != BUS_KAFKA)
        return sl_err_set(err, -EINVAL, false, "not a kafka bus");
    bus_consumer *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *list = NULL;
    const rd_kafka_metadata_t *md = NULL;
    if (!c || !conf || !(c->topic = strdup(s->topic))) {
        sl_err_set(err, -ENOMEM, true, "out of memory");
        goto fail;
    }
    c->o = *o;
    if (conf_apply(conf, s, defs, err) < 0)
        goto fail;
    /* always: a replay needs to know a partition's end in continuous mode too */
    if (conf_set(conf, "enable.partition.eof", "true", err) < 0)
        goto fail;
    if (o->group) {
        if (conf_set(conf, "group.id", o->group, err) < 0)
            goto fail;
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    } else {
        /* librdkafka 2.0's consumer wants a group.id even for a plain assign(); this one
         * never subscribes and never commits */
        char g[64];
        snprintf(g, sizeof g, "sluice-reader-%ld", (long)getpid());
        if (conf_set(conf, "group.id", g, err) < 0)
            goto fail;
    }
    rd_kafka_conf_set_opaque(conf, c);
    char es[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof es);
    if (!c->rk) {
        sl_err_set(err, -EINVAL, false, "kafka consumer: %s", es);
        goto fail;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(c->rk);
    if (o->group) {
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, s->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, list);
        if (e) {
            sl_err_set(err, -EIO, true, "kafka subscribe %s: %s", s->topic, rd_kafka_err2str(e));
            goto fail;
        }
    } else {
        /* no group: every partition of the topic, from the metadata */
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, s->topic, NULL);
        rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(c->rk, 0, rkt, &md, 10000)
                                    : rd_kafka_last_error();
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (e) {
            sl_err_set(err, -EIO, true, "kafka metadata for %s from %s: %s", s->topic,
                       s->brokers, rd_kafka_err2str(e));
            goto fail;
        }
        if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
            sl_err_set(err, -ENOENT, false, "kafka topic %s: %s", s->topic,
                       md->topic_cnt == 1 && md->topics[0].err
                           ? rd_kafka_err2str(md->topics[0].err)
                           : "no partitions");
            goto fail;
        }
        list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            rd_kafka_topic_partition_list_add(list, s->topic, md->topics[0].partitions[i].id);
        if (assign_list(c, list) < 0) {
            *err = c->assign_err;
            goto fail;
        }
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(list);
    *out = c;
    return 0;
fail:
    if (md)
        rd_kafka_metadata_destroy(md);
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    if (conf)
        rd_kafka_conf_destroy(conf);
    bus_consumer_destroy(c);
    return err->code ? err->code : -EINVAL;
}

int bus_consumer_poll(bus_consumer *c, int timeout_ms, bus_msg *m, sl_err *err)
{
    memset(m, 0, sizeof *m);
    rd_kafka_message_t *km = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (c->assign_err.code) {
        *err = c->assign_err;
        sl_err_clear(&c->assign_err);
        if (km)
            rd_kafka_message_destroy(km);
        return err->code;
    }
    if (!km)
        return 0;
    if (km->err) {
        rd_kafka_resp_err_t e = km->err;
        int32_t part = km->partition;
        if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int i = owned_index(c, part);
            if (i >= 0) {
                c->owned[i].at_eof = true;
                c->owned[i].end = km->offset;
            }
            rd_kafka_message_destroy(km);
            for (size_t j = 0; j < c->nowned; j++)
                if (!c->owned[j].at_eof)
                    return 0;
            if (!c->o.report_eof || c->eof_reported)
                return 0;
            c->eof_reported = true;
            return 2;
        }
        bool fatal = e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                     e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR__FATAL;
        sl_err_set(err, -EIO, !fatal, "kafka consume %s: %s", c->topic,
                   rd_kafka_message_errstr(km));
        rd_kafka_message_destroy(km);
        return err->code;
    }
    int i = owned_index(c, km->partition);
    if (i >= 0)
        c->owned[i].at_eof = false;
    c->eof_reported = false;
    rd_kafka_timestamp_type_t tt;
    m->topic = c->topic;
    m->partition = km->partition;
    m->offset = km->offset;
    m->ts_ms = rd_kafka_message_timestamp(km, &tt);
    m->data = km->payload ? km->payload : "";
    m->len = km->len;
    m->priv = km;
    return 1;
}

void bus_msg_release(bus_msg *m)
{
    if (m && m->priv) {
        rd_kafka_message_destroy(m->priv);
        m->priv = NULL;
    }
}

int bus_consumer_commit(bus_consumer *c, int32_t partition, int64_t next_offset, sl_err *err)
{
    if (!c->o.group)
        return 0;  /* nothing to commit to without a group */
    if (owned_index(c, partition) < 0)
        return sl_err_set(err, -ESTALE, true, "partition %d is no longer assigned to us",
                          (int)partition);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, c->topic, partition)->offset = next_offset;
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, list, 0);
    if (!e && list->elems[0].err)
        e = list->elems[0].err;
    rd_kafka_topic_partition_list_destroy(list);
    if (e)
        return sl_err_set(err, -EIO, true, "kafka commit %s[%d]@%lld: %s", c->topic,
                          (int)partition, (long long)next_offset, rd_kafka_err2str(e));
    return 0;
}

bool bus_consumer_owns(bus_consumer *c, int32_t partition)
{
    return owned_index(c, partition) >= 0;
}

bool bus_consumer_at_end(bus_consumer *c, int32_t partition, int64_t *end)
{
    int i = owned_index(c, partition);
    if (i < 0 || !c->owned[i].at_eof)
        return false;
    *end = c->owned[i].end;
    return true;
}

void bus_consumer_destroy(bus_consumer *c)
{
    if (!c)
        return;
    if (c->rk) {
        rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    free(c->owned);
    free(c->topic);
    free(c);
}
