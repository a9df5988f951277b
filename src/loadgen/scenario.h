/* scenario.h — scenario files for `sluice bench`: which requests to send, how many.
 *
 * Format (UTF-8 text, one request kind per line; see docs/bench.md):
 *
 *     # a line that starts with '#' is a comment; blank lines are ignored
 *     COUNT METHOD TARGET [HEADER | HEADER ...] [< BODY] [# comment]
 *
 *     500 GET /purchase_a_sword Host: knight1.comcast.com   # the seeds' ab -n 500
 *     10  GET /  Host: user2.att.com | User-Agent: ApacheBench/2.3
 *     5   POST /events Content-Type: application/json < {"event_type":"x"}
 *     5   POST /events Content-Type: application/json < @body.json
 *
 *  - A UTF-8 byte order mark at the start of the file is skipped.
 *  - A comment after a request starts at a '#' with a blank before it and a blank or the
 *    end of the line after it, and runs to the end of the line ("X-Color: #fff" and
 *    "X: a#b" are values); not in a body, which runs to the end of the line as it is.
 *  - COUNT: 1..1000000000 requests of this kind (the sum over all lines is capped at
 *    LG_SCEN_MAX_TOTAL, so that a shuffled plan fits in memory).
 *  - METHOD: 1..16 upper-case letters (GET, POST, ...).
 *  - TARGET: origin-form request target, starts with '/', visible ASCII, no spaces
 *    (percent-encode them as %20).
 *  - HEADERs: "Name: value", separated by '|' (a '|' must have a header after it);
 *    names are HTTP tokens; values are text without control bytes and may not contain
 *    '|', " <" (which starts the body) nor " # " (a comment). A value may be empty
 *    ("X-Empty:"), except Host's. Content-Length, Transfer-Encoding and Connection are
 *    computed by the load generator and may not be given.
 *  - BODY: a '<' after a blank (or at the start of a segment) starts the body, which runs
 *    to the end of the line and is sent as is (it may contain '|'); "@path" instead reads
 *    the body from a file (relative to the scenario file's folder) when
 *    scen_load_bodies() runs.
 *
 * Every mistake is reported as "file:line: problem" (sl_err, -EINVAL).
 * The parser is pure (no I/O, thread-safe) so that it can be unit-tested and fuzzed.
 */
#ifndef SLUICE_LOADGEN_SCENARIO_H
#define SLUICE_LOADGEN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define LG_SCEN_MAX_LINE    65536u          /* bytes in one line */
#define LG_SCEN_MAX_ENTRIES 10000u          /* request kinds in one file */
#define LG_SCEN_MAX_HEADERS 64u             /* headers on one line */
#define LG_SCEN_MAX_COUNT   1000000000ull   /* requests on one line */
#define LG_SCEN_MAX_TOTAL   (1ull << 24)    /* requests in one file (16,777,216) */
#define LG_SCEN_MAX_BODY    (1u << 20)      /* bytes in one body */

typedef struct scen_header {
    char *name;
    char *value;
} scen_header;

typedef struct scen_entry {
    uint64_t     count;
    char        *method;
    char        *target;
    scen_header *hdrs;
    size_t       nhdrs;
    char        *body;       /* NULL when there is none; may hold NUL bytes if from a file */
    size_t       body_len;
    char        *body_file;  /* "@path" body not loaded yet (path without the '@') */
    int          line;       /* line number in the file, for messages */
} scen_entry;

typedef struct scenario {
    scen_entry *v;
    size_t      n;
    uint64_t    total;       /* sum of counts */
    char       *file;        /* name used in messages */
} scenario;

/* Parses the scenario text[0..len) (need not be NUL-terminated). fname is used in error
 * messages. On success *out owns everything (free with scen_free()). A file with no
 * request line is an error. */
int scen_parse(const char *text, size_t len, const char *fname, scenario **out, sl_err *err);

/* Reads the whole file and parses it. */
int scen_read_file(const char *path, scenario **out, sl_err *err);

/* Reads every "@file" body, relative to base_dir (NULL: current directory), each capped
 * at LG_SCEN_MAX_BODY bytes. Errors name the scenario line. */
int scen_load_bodies(scenario *s, const char *base_dir, sl_err *err);

/* True when the entry sets header name (case-insensitive). */
bool scen_has_header(const scen_entry *e, const char *name);

/* Appends the complete HTTP/1.1 request of entry e to out: request line, "Host: host"
 * unless the entry has its own Host, User-Agent and Accept defaults unless given, the
 * entry's headers, Content-Length when there is a body (or the method is POST/PUT/PATCH),
 * "Connection: close" when !keepalive, blank line, body. */
int scen_format_request(const scen_entry *e, const char *host, bool keepalive, sl_buf *out);

void scen_free(scenario *s);

#endif
