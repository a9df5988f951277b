/* opts.h — the command-line options `sluice serve` and `sluice up` share: where and how
 * the collector listens, its limits, access control and the bus, so that both commands
 * accept, refuse and document them the same way. Each command puts COLL_OPTIONS in its
 * getopt_long table and COLL_HELP_OPTIONS in its --help, and hands every option code to
 * coll_opt_apply() before its own switch.
 */
#ifndef SLUICE_COLL_OPTS_H
#define SLUICE_COLL_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "bus/bus.h"
#include "collector/auth.h"
#include "collector/server.h"
#include "common/err.h"

enum {
    COLL_OPT_LISTEN = 0x200, COLL_OPT_THREADS, COLL_OPT_MAX_BODY, COLL_OPT_MAX_EVENTS,
    COLL_OPT_MAX_EVENT_SIZE, COLL_OPT_MAX_HEADERS, COLL_OPT_MAX_HEADER_SIZE, COLL_OPT_TIMEOUT,
    COLL_OPT_ACCESS_LOG, COLL_OPT_WRITE_KEY, COLL_OPT_WRITE_KEYS_FILE, COLL_OPT_ADMIN_TOKEN,
    COLL_OPT_BUS, COLL_OPT_KAFKA_OPT, COLL_OPT_KAFKA_KEY, COLL_OPT_CORS_ORIGIN,
};

#define COLL_MAX_CORS_ORIGINS 64

#define COLL_OPTIONS                                                                      \
    {"listen", required_argument, NULL, COLL_OPT_LISTEN},                                 \
    {"threads", required_argument, NULL, COLL_OPT_THREADS},                               \
    {"max-body", required_argument, NULL, COLL_OPT_MAX_BODY},                             \
    {"max-events", required_argument, NULL, COLL_OPT_MAX_EVENTS},                         \
    {"max-event-size", required_argument, NULL, COLL_OPT_MAX_EVENT_SIZE},                 \
    {"max-headers", required_argument, NULL, COLL_OPT_MAX_HEADERS},                       \
    {"max-header-size", required_argument, NULL, COLL_OPT_MAX_HEADER_SIZE},               \
    {"timeout", required_argument, NULL, COLL_OPT_TIMEOUT},                               \
    {"access-log", required_argument, NULL, COLL_OPT_ACCESS_LOG},                         \
    {"write-key", required_argument, NULL, COLL_OPT_WRITE_KEY},                           \
    {"write-keys-file", required_argument, NULL, COLL_OPT_WRITE_KEYS_FILE},               \
    {"admin-token", required_argument, NULL, COLL_OPT_ADMIN_TOKEN},                       \
    {"bus", required_argument, NULL, COLL_OPT_BUS},                                       \
    {"kafka-opt", required_argument, NULL, COLL_OPT_KAFKA_OPT},                           \
    {"kafka-key", required_argument, NULL, COLL_OPT_KAFKA_KEY},                           \
    {"cors-origin", required_argument, NULL, COLL_OPT_CORS_ORIGIN}

/* --admin-token is described by each command: what it guards differs. */
#define COLL_HELP_OPTIONS                                                                 \
    "  --listen ADDR:PORT    collector address (default 127.0.0.1:5000; [::1]:5000 for\n"  \
    "                        IPv6)\n"                                                      \
    "  --threads N           collector event loops, one per thread (default: one per CPU)\n"\
    "  --max-body SIZE       largest request body (default 1MiB; larger: 413)\n"           \
    "  --max-events N        events per POST /events request (default 10000; more: 413)\n" \
    "  --max-event-size SIZE largest single event (default 1MiB; larger: 413)\n"           \
    "  --max-headers N       request headers (default 64; more: 431)\n"                    \
    "  --max-header-size SIZE  total header bytes (default 16KiB; more: 431)\n"            \
    "  --timeout DURATION    a whole request must arrive within this, from the accept or\n"\
    "                        the previous answer, or keep arriving at 500 B/s or more;\n"  \
    "                        else 408 (default 10s)\n"                                    \
    "  --access-log FILE     one line per collector request to FILE, or - for stdout\n"    \
    "  --cors-origin ORIGIN  let web pages from ORIGIN (https://app.example.com, or * for\n"\
    "                        any) send events from the browser (CORS); repeatable\n"      \
    "  --write-key KEY       require a write key on ingestion (repeatable): Authorization:\n"\
    "                        Basic base64(KEY:) or Bearer KEY; else 401\n"                 \
    "  --write-keys-file F   write keys, one a line ('#' comments); prefer it or\n"        \
    "                        SLUICE_WRITE_KEY to --write-key (argv is visible in ps)\n"    \
    "  --bus URL             log (default: the embedded log) or\n"                         \
    "                        kafka://HOST:PORT[,HOST:PORT]/TOPIC (Apache Kafka)\n"         \
    "  --kafka-opt K=V       librdkafka property, repeatable (e.g. security.protocol=ssl)\n"\
    "  --kafka-key FIELD     event field whose value keys each Kafka message (default\n"   \
    "                        event_id; e.g. user_id keeps a user's events in order)\n"

/* What the shared options fill in. */
typedef struct coll_opts {
    coll_config *cfg;
    coll_auth   *auth;
    bus_spec    *bus;
    char         host[256];   /* --listen's host; coll_opts_check points cfg->host here */
    const char  *access_path; /* --access-log, NULL: none */
    const char  *cors[COLL_MAX_CORS_ORIGINS]; /* --cors-origin; cfg->cors_origins points here */
} coll_opts;

void coll_opts_init(coll_opts *o, coll_config *cfg, coll_auth *auth, bus_spec *bus);

/* Applies option c with its argument. Returns 1 when c is one of the shared options and
 * was applied, 0 when c is not one of them, -EINVAL with err->msg ready for
 * cli_usage_error() when the argument is refused. */
int coll_opt_apply(coll_opts *o, int c, const char *arg, sl_err *err);

/* After the last option: a listener beyond loopback needs the admin token (it guards
 * /metrics). -EINVAL with err->msg for cli_usage_error(), else 0 with cfg->host and
 * cfg->auth set. */
int coll_opts_check(coll_opts *o, sl_err *err);

/* Opens --access-log (append, line-buffered; "-" is stdout) into cfg->access_log. 0, or
 * -errno with err->msg. Close it with coll_opts_close_access_log(). */
int coll_opts_open_access_log(coll_opts *o, sl_err *err);
void coll_opts_close_access_log(coll_opts *o);

#endif
