/* report.c — end-of-run summary, text or JSON (format in report.h). */
#include "loadgen/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

uint64_t lg_stats_2xx(const lg_stats *st)
{
    uint64_t n = 0;
    for (int s = 200; s < 300; s++)
        n += st->status[s];
    return n;
}

uint64_t lg_stats_errors(const lg_stats *st)
{
    uint64_t n = 0;
    for (int k = 0; k < LG_ERR_KINDS; k++)
        n += st->errors[k];
    return n;
}

double lg_stats_elapsed_s(const lg_stats *st)
{
    return st->end_ns > st->start_ns ? (double)(st->end_ns - st->start_ns) / 1e9 : 0.0;
}

static double rps(const lg_stats *st)
{
    double el = lg_stats_elapsed_s(st);
    return el > 0 ? (double)st->answered / el : 0.0;
}

static const double quantiles[] = {0.5, 0.9, 0.99, 0.999};
static const char *const qnames_text[] = {"p50", "p90", "p99", "p99.9"};
static const char *const qnames_json[] = {"p50", "p90", "p99", "p99_9"};

void lg_report_text(FILE *out, const lg_report_info *info, const lg_stats *st)
{
    fprintf(out, "sluice bench: %s -> %s\n", info->scenario, info->url);
    fprintf(out, "  %u connections, %u threads, %s, ", info->conns, info->threads,
            info->keepalive ? "keep-alive" : "no keep-alive");
    if (info->rate > 0)
        fprintf(out, "open loop at %.0f req/s", info->rate);
    else
        fprintf(out, "closed loop");
    if (info->duration_ms)
        fprintf(out, " for %.3g s", (double)info->duration_ms / 1000.0);
    fprintf(out, ", %s order, %s scheduling\n", info->order, info->sched);
    fprintf(out, "requests   %" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64 " failed",
            st->attempted, st->answered, lg_stats_errors(st));
    if (st->unfinished)
        fprintf(out, ", %" PRIu64 " unfinished", st->unfinished);
    fprintf(out, " in %.3f s = %.1f req/s\n", lg_stats_elapsed_s(st), rps(st));
    fprintf(out, "status    ");
    bool any = false;
    for (int s = 0; s < LG_STATUS_MAX; s++)
        if (st->status[s]) {
            fprintf(out, " %d: %" PRIu64, s, st->status[s]);
            any = true;
        }
    fprintf(out, "%s\n", any ? "" : " (no answers)");
    if (st->hist.total) {
        fprintf(out, "latency    min %.3f  mean %.3f", (double)st->hist.min / 1e6,
                lg_hist_mean(&st->hist) / 1e6);
        for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++)
            fprintf(out, "  %s %.3f", qnames_text[i],
                    (double)lg_hist_quantile(&st->hist, quantiles[i]) / 1e6);
        fprintf(out, "  max %.3f ms%s\n", (double)st->hist.max / 1e6,
                info->rate > 0 ? " (from intended send time)" : "");
    }
    fprintf(out, "errors    ");
    for (int k = 0; k < LG_ERR_KINDS; k++)
        fprintf(out, " %s %" PRIu64, lg_err_names[k], st->errors[k]);
    fprintf(out, "\n");
    if (st->retried)
        fprintf(out, "retried    %" PRIu64 " sent again on a new connection (the server had closed "
                     "a kept-alive one before answering)\n", st->retried);
    if (info->verify) {
        if (info->verify_ok)
            fprintf(out, "verify     %" PRIu64 " rows in table %s (%" PRIu64 " new); first "
                         "request to last row queryable: %.3f s\n",
                    info->rows_seen, info->verify_table, info->rows_seen - info->rows_before,
                    info->end_to_end_s);
        else
            fprintf(out, "verify     FAILED: %s\n",
                    info->verify_error ? info->verify_error : "rows missing");
    }
}

static void json_str(FILE *out, const char *s)
{
    size_t n = strlen(s);
    size_t need = json_escaped_len(s, n);
    char small[512];
    char *buf = need <= sizeof small ? small : malloc(need);
    if (!buf) {
        fputs("\"\"", out);
        return;
    }
    size_t w = json_escape(s, n, buf);
    fwrite(buf, 1, w, out);
    if (buf != small)
        free(buf);
}

void lg_report_json(FILE *out, const lg_report_info *info, const lg_stats *st)
{
    fputs("{\"scenario\":", out);
    json_str(out, info->scenario);
    fputs(",\"url\":", out);
    json_str(out, info->url);
    fprintf(out, ",\"connections\":%u,\"threads\":%u,\"keepalive\":%s,\"mode\":\"%s\","
                 "\"rate\":%.3f,\"duration_s\":%.3f,\"order\":\"%s\",\"seed\":%" PRIu64,
            info->conns, info->threads, info->keepalive ? "true" : "false",
            info->rate > 0 ? "open" : "closed", info->rate, (double)info->duration_ms / 1e3,
            info->order, info->seed);
    fputs(",\"sched\":", out);
    json_str(out, info->sched);
    fprintf(out, ",\"elapsed_s\":%.6f,\"requests\":%" PRIu64 ",\"answered\":%" PRIu64
                 ",\"unfinished\":%" PRIu64 ",\"req_per_s\":%.1f",
            lg_stats_elapsed_s(st), st->attempted, st->answered, st->unfinished, rps(st));
    fputs(",\"status\":{", out);
    bool first = true;
    for (int s = 0; s < LG_STATUS_MAX; s++)
        if (st->status[s]) {
            fprintf(out, "%s\"%d\":%" PRIu64, first ? "" : ",", s, st->status[s]);
            first = false;
        }
    fprintf(out, "},\"status_2xx\":%" PRIu64 ",\"errors\":{", lg_stats_2xx(st));
    for (int k = 0; k < LG_ERR_KINDS; k++)
        fprintf(out, "\"%s\":%" PRIu64 ",", lg_err_names[k], st->errors[k]);
    fprintf(out, "\"total\":%" PRIu64 "},\"retried\":%" PRIu64, lg_stats_errors(st), st->retried);
    fprintf(out, ",\"latency_us\":{\"min\":%" PRIu64 ",\"mean\":%" PRIu64,
            st->hist.total ? st->hist.min / 1000 : 0, (uint64_t)(lg_hist_mean(&st->hist) / 1e3));
    for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++)
        fprintf(out, ",\"%s\":%" PRIu64, qnames_json[i],
                lg_hist_quantile(&st->hist, quantiles[i]) / 1000);
    fprintf(out, ",\"max\":%" PRIu64 "}", st->hist.max / 1000);
    fprintf(out, ",\"connections_opened\":%" PRIu64 ",\"bytes_in\":%" PRIu64
                 ",\"bytes_out\":%" PRIu64,
            st->connections, st->bytes_in, st->bytes_out);
    if (info->verify) {
        fputs(",\"verify\":{\"table\":", out);
        json_str(out, info->verify_table);
        fprintf(out, ",\"ok\":%s,\"rows_before\":%" PRIu64 ",\"rows_expected\":%" PRIu64
                     ",\"rows_seen\":%" PRIu64 ",\"end_to_end_s\":%.3f",
                info->verify_ok ? "true" : "false", info->rows_before, info->rows_expected,
                info->rows_seen, info->end_to_end_s);
        if (info->verify_error) {
            fputs(",\"error\":", out);
            json_str(out, info->verify_error);
        }
        fputs("}", out);
    }
    fputs("}\n", out);
}
