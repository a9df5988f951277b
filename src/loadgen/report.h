/* report.h — what `sluice bench` prints at the end of a run: text for people, --json for
 * scripts. Both say the same things. Latencies are printed in milliseconds (text) and
 * microseconds (JSON, integers).
 *
 * JSON format (one object, one line):
 *   {"scenario":"…","url":"…","connections":64,"threads":2,"keepalive":true,
 *    "mode":"closed"|"open","rate":0,"duration_s":0,"order":"shuffled","seed":1,
 *    "sched":"batch"|"normal",
 *    "elapsed_s":1.234,"requests":1742,"answered":1742,"unfinished":0,"req_per_s":14117.2,
 *    "status":{"200":1722,"404":20},"status_2xx":1722,
 *    "errors":{"connect":0,"timeout":0,"reset":0,"bad_response":0,"total":0},"retried":0,
 *    "latency_us":{"min":…,"mean":…,"p50":…,"p90":…,"p99":…,"p99_9":…,"max":…},
 *    "connections_opened":64,"bytes_in":…,"bytes_out":…,
 *    "verify":{"table":"events","ok":true,"rows_before":0,"rows_expected":1722,
 *              "rows_seen":1722,"end_to_end_s":0.812}}      ("verify" only with --verify)
 */
#ifndef SLUICE_LOADGEN_REPORT_H
#define SLUICE_LOADGEN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loadgen/client.h"

typedef struct lg_report_info {
    const char *scenario;
    const char *url;
    unsigned    conns, threads;
    bool        keepalive;
    double      rate;
    uint64_t    duration_ms;
    const char *order;
    uint64_t    seed;
    const char *sched;          /* "batch" or "normal" (--sched) */
    /* --verify */
    bool        verify;
    const char *verify_table;
    bool        verify_ok;
    uint64_t    rows_before, rows_expected, rows_seen;
    double      end_to_end_s;
    const char *verify_error;   /* NULL when ok */
} lg_report_info;

uint64_t lg_stats_2xx(const lg_stats *st);
uint64_t lg_stats_errors(const lg_stats *st);
double   lg_stats_elapsed_s(const lg_stats *st);

void lg_report_text(FILE *out, const lg_report_info *info, const lg_stats *st);
void lg_report_json(FILE *out, const lg_report_info *info, const lg_stats *st);

#endif
