/* test_bus.c — the --bus URL, --kafka-opt parsing and the producer/consumer's refusals
 * that need no broker (bus.c, kafka.c). Brokers are tested black-box in
 * tests/e2e/kafka_*.sh against the mock cluster. */
#include <errno.h>
#include <string.h>

#include "bus/bus.h"
#include "test.h"

static void test_parse_good(void)
{
    bus_spec s;
    sl_err err;
    bus_spec_init(&s);
    CHECK(s.kind == BUS_LOG);
    CHECK_STR(s.key_field, "event_id");
    CHECK(bus_spec_parse(&s, "kafka://b1:9092,10.0.0.2:19092,[::1]:9092/events.v1", &err) == 0);
    CHECK(s.kind == BUS_KAFKA);
    CHECK_STR(s.brokers, "b1:9092,10.0.0.2:19092,[::1]:9092");
    CHECK_STR(s.topic, "events.v1");
    char d[256];
    bus_spec_describe(&s, d, sizeof d);
    CHECK_STR(d, "kafka://b1:9092,10.0.0.2:19092,[::1]:9092/events.v1");
    /* a later --bus replaces the earlier one */
    CHECK(bus_spec_parse(&s, "log", &err) == 0);
    CHECK(s.kind == BUS_LOG);
    CHECK(s.brokers == NULL && s.topic == NULL);
    bus_spec_describe(&s, d, sizeof d);
    CHECK_STR(d, "log");
    bus_spec_free(&s);
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "", "kafka", "kafka://", "kafka:///events", "kafka://host/events", "kafka://host:0/t",
        "kafka://host:65536/t", "kafka://host:9092", "kafka://host:9092/", "kafka://h:1,/t",
        "kafka://h:1,,h:2/t", "kafka://h:x/t", "kafka://h:1/bad topic", "kafka://h:1/..",
        "kafka://h o:1/t", "kafka://[::1/t", "http://h:1/t", "LOG",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bus_spec s;
        sl_err err;
        sl_err_clear(&err);
        bus_spec_init(&s);
        int rc = bus_spec_parse(&s, bad[i], &err);
        if (rc != -EINVAL)
            fprintf(stderr, "  accepted bad --bus '%s'\n", bad[i]);
        CHECK(rc == -EINVAL);
        CHECK(strstr(err.msg, "--bus") != NULL);
        CHECK(s.kind == BUS_LOG);
        bus_spec_free(&s);
    }
    char topic[300];
    memset(topic, 'a', sizeof topic);
    topic[249] = '\0';
    CHECK(bus_kafka_topic_valid(topic));
    topic[249] = 'a';
    topic[250] = '\0';
    CHECK(!bus_kafka_topic_valid(topic));
}

static void test_opts(void)
{
    bus_spec s;
    sl_err err;
    bus_spec_init(&s);
    CHECK(bus_spec_add_opt(&s, "linger.ms=20", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "sasl.password=a=b", &err) == 0);  /* '=' in the value */
    CHECK(bus_spec_add_opt(&s, "novalue", &err) == -EINVAL);
    CHECK(bus_spec_add_opt(&s, "=x", &err) == -EINVAL);
    CHECK_EQ_U64(s.nopts, 2);
    for (int i = 2; i < BUS_MAX_KAFKA_OPTS; i++)
        CHECK(bus_spec_add_opt(&s, "a=b", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "a=b", &err) == -E2BIG);
    bus_spec_free(&s);
}

/* A bad property is refused when the client is created (no broker needed), with
 * librdkafka's message; the log bus is not a Kafka bus. */
static void test_client_refusals(void)
{
    bus_spec s;
    sl_err err;
    bus_producer *p = NULL;
    bus_consumer *c = NULL;
    bus_consumer_opts co = {0};
    bus_spec_init(&s);
    CHECK(bus_producer_new(&s, &p, &err) == -EINVAL && p == NULL);
    CHECK(bus_consumer_new(&s, &co, &c, &err) == -EINVAL && c == NULL);
    CHECK(bus_spec_parse(&s, "kafka://127.0.0.1:1/events", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "no.such.property=1", &err) == 0);
    sl_err_clear(&err);
    CHECK(bus_producer_new(&s, &p, &err) == -EINVAL && p == NULL);
    CHECK(strstr(err.msg, "no.such.property") != NULL);
    sl_err_clear(&err);
    co.group = "g";
    CHECK(bus_consumer_new(&s, &co, &c, &err) == -EINVAL && c == NULL);
    CHECK(strstr(err.msg, "no.such.property") != NULL);
    bus_producer_destroy(NULL);
    bus_consumer_destroy(NULL);
    bus_spec_free(&s);
}

/* --kafka-opt and --kafka-key are for Kafka: with the embedded log they would be ignored,
 * so bus_spec_check refuses them (whatever the order of --bus and the options). */
static void test_check_kafka_options_need_kafka(void)
{
    bus_spec s;
    sl_err err;
    bus_spec_init(&s);
    CHECK(bus_spec_check(&s, &err) == 0);
    CHECK(bus_spec_add_opt(&s, "acks=all", &err) == 0);
    sl_err_clear(&err);
    CHECK(bus_spec_check(&s, &err) == -EINVAL);
    CHECK(strstr(err.msg, "--kafka-opt acks=all") && strstr(err.msg, "embedded log"));
    CHECK(bus_spec_parse(&s, "kafka://h:1/t", &err) == 0);
    CHECK(bus_spec_check(&s, &err) == 0);
    bus_spec_free(&s);
    bus_spec_init(&s);
    char key[] = "event_id";   /* set explicitly, even to the default name */
    s.key_field = key;
    CHECK(bus_spec_check(&s, &err) == -EINVAL);
    CHECK(strstr(err.msg, "--kafka-key event_id") != NULL);
    CHECK(bus_spec_parse(&s, "kafka://h:1/t", &err) == 0);
    CHECK(bus_spec_check(&s, &err) == 0);
    CHECK(bus_spec_parse(&s, "log", &err) == 0);   /* a later --bus log */
    CHECK(bus_spec_check(&s, &err) == -EINVAL);
    bus_spec_free(&s);
}

/* With an unreachable broker, sends are accepted into the bounded queue, then refused
 * with -ENOBUFS once it is full; message.timeout.ms fails them. */
static void test_queue_bound(void)
{
    bus_spec s;
    sl_err err;
    bus_producer *p = NULL;
    bus_spec_init(&s);
    CHECK(bus_spec_parse(&s, "kafka://127.0.0.1:1/events", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "queue.buffering.max.messages=10", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "log_level=0", &err) == 0);
    CHECK(bus_spec_add_opt(&s, "message.timeout.ms=300", &err) == 0);
    CHECK(bus_producer_new(&s, &p, &err) == 0);
    if (p) {
        const char ev[] = "{\"event_type\":\"a\",\"event_id\":\"x\"}";
        int rc = 0, sent = 0;
        for (int i = 0; i < 20 && rc == 0; i++)
            if ((rc = bus_producer_send(p, ev, sizeof ev - 1, NULL, &err)) == 0)
                sent++;
        CHECK_EQ_U64(sent, 10);
        CHECK(rc == -ENOBUFS && err.retriable);
        CHECK_EQ_U64(bus_producer_inflight(p), 10);
        CHECK(bus_producer_flush(p, 50, &err) == -ETIMEDOUT);
        /* the undeliverable messages time out (failed reports) and flush completes */
        CHECK(bus_producer_flush(p, 5000, &err) == 0);
        CHECK_EQ_U64(bus_producer_inflight(p), 0);
    }
    bus_producer_destroy(p);
    bus_spec_free(&s);
}

int main(void)
{
    RUN(test_parse_good);
    RUN(test_parse_bad);
    RUN(test_opts);
    RUN(test_check_kafka_options_need_kafka);
    RUN(test_client_refusals);
    RUN(test_queue_bound);
    return test_summary();
}
