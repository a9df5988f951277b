/* bus.c — the --bus URL and --kafka-opt parsing shared by every command (see bus.h).
 *
 * Accepted forms:
 *   log
 *   kafka://HOST:PORT[,HOST:PORT...]/TOPIC
 * HOST is a name, an IPv4 address or [IPv6]; PORT is 1..65535; TOPIC is a Kafka topic
 * name. Anything else is refused with the expected form in the message.
 */
#include "bus/bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default key field; a key_field pointing elsewhere was set by --kafka-key. */
static const char default_key[] = "event_id";

void bus_spec_init(bus_spec *s)
{
    memset(s, 0, sizeof *s);
    s->kind = BUS_LOG;
    s->key_field = default_key;
}

int bus_spec_check(const bus_spec *s, sl_err *err)
{
    if (s->kind == BUS_KAFKA)
        return 0;
    if (s->nopts)
        return sl_err_set(err, -EINVAL, false,
                          "--kafka-opt %s: only for --bus kafka://HOST:PORT/TOPIC (the bus is "
                          "the embedded log)", s->opts[0]);
    if (s->key_field != default_key)
        return sl_err_set(err, -EINVAL, false,
                          "--kafka-key %s: only for --bus kafka://HOST:PORT/TOPIC (the bus is "
                          "the embedded log)", s->key_field);
    return 0;
}

void bus_spec_free(bus_spec *s)
{
    if (!s)
        return;
    free(s->brokers);
    free(s->topic);
    s->brokers = s->topic = NULL;
}

bool bus_kafka_topic_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* One "host:port" of the broker list, [start, end). */
static bool broker_valid(const char *p, size_t n)
{
    const char *colon = NULL;
    for (size_t i = n; i > 0; i--)
        if (p[i - 1] == ':') {
            colon = p + i - 1;
            break;
        }
    if (!colon || colon == p)
        return false;
    size_t hl = (size_t)(colon - p), pl = n - hl - 1;
    if (pl == 0 || pl > 5)
        return false;
    unsigned port = 0;
    for (size_t i = 0; i < pl; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9')
            return false;
        port = port * 10 + (unsigned)(c - '0');
    }
    if (port == 0 || port > 65535)
        return false;
    if (p[0] == '[')
        return hl >= 3 && p[hl - 1] == ']';
    for (size_t i = 0; i < hl; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

int bus_spec_parse(bus_spec *s, const char *url, sl_err *err)
{
    static const char form[] = "want 'log' or 'kafka://HOST:PORT[,HOST:PORT]/TOPIC'";
    if (!strcmp(url, "log")) {
        free(s->brokers);
        free(s->topic);
        s->brokers = s->topic = NULL;
        s->kind = BUS_LOG;
        return 0;
    }
    if (strncmp(url, "kafka://", 8) != 0)
        return sl_err_set(err, -EINVAL, false, "bad --bus '%s': %s", url, form);
    const char *hosts = url + 8;
    const char *slash = strchr(hosts, '/');
    if (!slash || slash == hosts)
        return sl_err_set(err, -EINVAL, false, "bad --bus '%s': no brokers or no /TOPIC; %s",
                          url, form);
    const char *topic = slash + 1;
    if (!bus_kafka_topic_valid(topic))
        return sl_err_set(err, -EINVAL, false,
                          "bad --bus '%s': topic '%s' is not a Kafka topic name "
                          "(1 to 249 of A-Z a-z 0-9 . _ -)",
                          url, topic);
    size_t hl = (size_t)(slash - hosts);
    for (const char *p = hosts; p < slash;) {
        const char *comma = memchr(p, ',', (size_t)(slash - p));
        const char *e = comma ? comma : slash;
        if (!broker_valid(p, (size_t)(e - p)))
            return sl_err_set(err, -EINVAL, false, "bad --bus '%s': broker '%.*s' is not HOST:PORT",
                              url, (int)(e - p), p);
        p = comma ? comma + 1 : slash;
        if (comma && p == slash)
            return sl_err_set(err, -EINVAL, false, "bad --bus '%s': empty broker after ','", url);
    }
    char *b = strndup(hosts, hl), *t = strdup(topic);
    if (!b || !t) {
        free(b);
        free(t);
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    }
    free(s->brokers);
    free(s->topic);
    s->brokers = b;
    s->topic = t;
    s->kind = BUS_KAFKA;
    return 0;
}

int bus_spec_add_opt(bus_spec *s, const char *kv, sl_err *err)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return sl_err_set(err, -EINVAL, false, "bad --kafka-opt '%s': want KEY=VALUE", kv);
    if (s->nopts == BUS_MAX_KAFKA_OPTS)
        return sl_err_set(err, -E2BIG, false, "too many --kafka-opt (at most %d)",
                          BUS_MAX_KAFKA_OPTS);
    s->opts[s->nopts++] = kv;
    return 0;
}

void bus_spec_describe(const bus_spec *s, char *out, size_t cap)
{
    if (s->kind == BUS_KAFKA)
        snprintf(out, cap, "kafka://%s/%s", s->brokers, s->topic);
    else
        snprintf(out, cap, "log");
}
