/* sampler.c — what the log tells the dashboard (parts.h).
 *
 * The sampler follows the topic with its own reader handle, like any consumer in another
 * process would: each tick reads the records appended since the previous tick, counts
 * them per event_type into one-second buckets keyed by the record's append time, and
 * keeps copies of the newest ones. The stream's progress comes from its checkpoint file,
 * the same one the stream trusts on restart, so "lag" is exactly what is not yet in the
 * tables.
 *
 * Bounded work: a tick reads at most ADMIN_SAMPLER_TICK_RECORDS records; when the sampler
 * is more than ADMIN_SAMPLER_MAX_BEHIND records behind (a burst, or a long log at start)
 * it jumps ahead and those records are not counted (skipped_total says how many).
 * Thread: the admin thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/parts.h"
#include "bus/log.h"
#include "common/json.h"
#include "stream/checkpoint.h"

#define ADMIN_SAMPLER_TICK_RECORDS 200000
#define ADMIN_SAMPLER_MAX_BEHIND   1000000
#define ADMIN_TYPE_MAX_LEN         64

typedef struct latest_ev {
    uint64_t offset;
    int64_t  ts_ms;
    char    *data;    /* malloc'd copy, at most ADMIN_LATEST_MAX_BYTES */
    uint32_t len;
    bool     cut;     /* longer than kept, or not a JSON object: shown as a string */
} latest_ev;

struct admin_sampler {
    char       *data_dir, *topic_name;
    log_topic  *topic;       /* NULL until the topic exists */
    stream_ckpt ckpt;
    bool        ckpt_ok;
    uint64_t    next;        /* next offset to read */
    bool        positioned;
    uint64_t    skipped_total;

    size_t      ntypes;
    char        types[ADMIN_MAX_TYPES][ADMIN_TYPE_MAX_LEN + 1];
    int64_t     slot_sec[ADMIN_RATE_SECS];                 /* second a slot holds */
    uint32_t    counts[ADMIN_RATE_SECS][ADMIN_MAX_TYPES + 1]; /* last: (other) */

    latest_ev   latest[ADMIN_LATEST];
    size_t      lhead, ln;
};

int admin_json_str(sl_buf *b, const char *p, size_t n)
{
    size_t need = json_escaped_len(p, n);
    int rc = sl_buf_reserve(b, need + 1);
    if (rc < 0)
        return rc;
    b->len += json_escape(p, n, b->p + b->len);
    b->p[b->len] = '\0';
    return 0;
}

int admin_sampler_create(const char *data_dir, const char *topic, const char *job,
                         admin_sampler **out, sl_err *err)
{
    admin_sampler *s = calloc(1, sizeof *s);
    if (!s || !(s->data_dir = strdup(data_dir)) || !(s->topic_name = strdup(topic))) {
        admin_sampler_destroy(s);
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    }
    int rc = stream_ckpt_open(&s->ckpt, data_dir, job, topic, err);
    if (rc < 0) {
        admin_sampler_destroy(s);
        return rc;
    }
    s->ckpt_ok = true;
    for (size_t i = 0; i < ADMIN_RATE_SECS; i++)
        s->slot_sec[i] = -1;
    *out = s;
    return 0;
}

void admin_sampler_destroy(admin_sampler *s)
{
    if (!s)
        return;
    log_topic_close(s->topic);
    if (s->ckpt_ok)
        stream_ckpt_close(&s->ckpt);
    for (size_t i = 0; i < ADMIN_LATEST; i++)
        free(s->latest[i].data);
    free(s->data_dir);
    free(s->topic_name);
    free(s);
}

/* The event_type of a record, or "(invalid)" when the record is not a JSON object with
 * a string event_type. Writes at most ADMIN_TYPE_MAX_LEN bytes + NUL. */
static bool event_type_of(const char *p, size_t len, char *out)
{
    json_type t;
    json_error je;
    if (json_validate_whole(p, len, JSON_DEFAULT_MAX_DEPTH, &t, &je) < 0 || t != JSON_OBJECT) {
        strcpy(out, "(invalid)");
        return false;
    }
    json_iter it;
    json_member m;
    json_iter_init(&it, p, len);
    while (json_iter_next(&it, &m)) {
        if (m.type == JSON_STRING && json_str_eq(m.key, "event_type", 10)) {
            if (m.value.len - 2 > ADMIN_TYPE_MAX_LEN) {
                strcpy(out, "(invalid)");
                return true;
            }
            size_t n = json_str_decode(m.value, out);
            out[n] = '\0';
            return true;
        }
    }
    strcpy(out, "(none)");
    return true;
}

static size_t type_slot(admin_sampler *s, const char *type)
{
    for (size_t i = 0; i < s->ntypes; i++)
        if (!strcmp(s->types[i], type))
            return i;
    if (s->ntypes == ADMIN_MAX_TYPES)
        return ADMIN_MAX_TYPES;  /* (other) */
    snprintf(s->types[s->ntypes], sizeof s->types[0], "%s", type);
    return s->ntypes++;
}

static void count(admin_sampler *s, int64_t ts_ms, size_t type)
{
    int64_t sec = ts_ms / 1000;
    size_t slot = (size_t)(sec % ADMIN_RATE_SECS);
    if (s->slot_sec[slot] != sec) {
        if (s->slot_sec[slot] > sec)
            return;  /* older than the window */
        s->slot_sec[slot] = sec;
        memset(s->counts[slot], 0, sizeof s->counts[slot]);
    }
    s->counts[slot][type]++;
}

static void remember(admin_sampler *s, const log_record *r, bool object)
{
    latest_ev *l = &s->latest[s->lhead];
    uint32_t keep = r->len > ADMIN_LATEST_MAX_BYTES ? ADMIN_LATEST_MAX_BYTES : r->len;
    char *copy = malloc(keep ? keep : 1);
    if (!copy)
        return;  /* the dashboard just misses this one */
    memcpy(copy, r->data, keep);
    free(l->data);
    l->data = copy;
    l->len = keep;
    l->cut = keep < r->len || !object;
    l->offset = r->offset;
    l->ts_ms = r->ts_ms;
    s->lhead = (s->lhead + 1) % ADMIN_LATEST;
    if (s->ln < ADMIN_LATEST)
        s->ln++;
}

void admin_sampler_tick(admin_sampler *s)
{
    if (!s->topic) {
        sl_err e = {0};
        if (log_topic_open(s->data_dir, s->topic_name, LOG_OPEN_READ, NULL, &s->topic, &e) < 0)
            return;  /* not created yet: next tick */
    }
    uint64_t hw = log_high_watermark(s->topic);
    uint64_t start = log_start_offset(s->topic);
    if (!s->positioned) {
        /* at start, show the recent past: what fits the rate window at most */
        s->next = hw > 20000 ? hw - 20000 : 0;
        s->positioned = true;
    }
    if (s->next < start)
        s->next = start;
    if (hw > s->next && hw - s->next > ADMIN_SAMPLER_MAX_BEHIND) {
        s->skipped_total += hw - s->next - ADMIN_SAMPLER_MAX_BEHIND;
        s->next = hw - ADMIN_SAMPLER_MAX_BEHIND;
    }
    size_t budget = ADMIN_SAMPLER_TICK_RECORDS;
    log_batch b = {0};
    char type[ADMIN_TYPE_MAX_LEN + 1];
    while (budget > 0 && s->next < hw) {
        sl_err e = {0};
        if (log_read(s->topic, s->next, budget < 10000 ? budget : 10000, 8u << 20, &b, &e) < 0 ||
            b.n == 0)
            break;
        for (size_t i = 0; i < b.n; i++) {
            const log_record *r = &b.recs[i];
            bool object = event_type_of(r->data, r->len, type);
            count(s, r->ts_ms, type_slot(s, type));
            remember(s, r, object);
            s->next = r->offset + 1;
        }
        budget -= b.n < budget ? b.n : budget;
    }
    log_batch_free(&b);
}

int admin_sampler_stats_json(admin_sampler *s, sl_buf *b, unsigned secs, int64_t now_s)
{
    if (secs == 0 || secs > ADMIN_RATE_SECS)
        secs = ADMIN_RATE_SECS;
    uint64_t hw = s->topic ? log_high_watermark(s->topic) : 0;
    uint64_t start = s->topic ? log_start_offset(s->topic) : 0;
    uint64_t ckpt = 0;
    bool found = false;
    sl_err e = {0};
    int crc = stream_ckpt_read(&s->ckpt, &ckpt, &found, &e);
    int rc = sl_buf_printf(b,
                           "\"log\":{\"topic\":");
    rc = rc ? rc : admin_json_str(b, s->topic_name, strlen(s->topic_name));
    rc = rc ? rc : sl_buf_printf(b,
                                 ",\"exists\":%s,\"start\":%" PRIu64 ",\"high_watermark\":%" PRIu64
                                 ",\"checkpoint\":%" PRIu64 ",\"lag\":%" PRIu64
                                 ",\"sampled_to\":%" PRIu64 ",\"skipped\":%" PRIu64,
                                 s->topic ? "true" : "false", start, hw, ckpt,
                                 hw > ckpt ? hw - ckpt : 0, s->next, s->skipped_total);
    if (!rc && crc < 0) {
        rc = sl_buf_adds(b, ",\"checkpoint_error\":");
        rc = rc ? rc : admin_json_str(b, e.msg, strlen(e.msg));
    }
    rc = rc ? rc : sl_buf_printf(b, "},\"events_per_sec\":{\"end_sec\":%" PRId64
                                    ",\"secs\":%u,\"types\":[", now_s, secs);
    size_t nt = s->ntypes;
    bool other = false;
    for (size_t i = 0; i < ADMIN_RATE_SECS && !other; i++)
        other = s->slot_sec[i] >= 0 && s->counts[i][ADMIN_MAX_TYPES] > 0;
    for (size_t t = 0; t < nt && !rc; t++) {
        rc = t ? sl_buf_addc(b, ',') : 0;
        rc = rc ? rc : admin_json_str(b, s->types[t], strlen(s->types[t]));
    }
    if (other && !rc)
        rc = sl_buf_adds(b, nt ? ",\"(other)\"" : "\"(other)\"");
    rc = rc ? rc : sl_buf_adds(b, "],\"series\":[");
    size_t ncols = nt + (other ? 1 : 0);
    for (size_t t = 0; t < ncols && !rc; t++) {
        size_t ti = t < nt ? t : ADMIN_MAX_TYPES;
        rc = sl_buf_adds(b, t ? ",[" : "[");
        for (unsigned k = 0; k < secs && !rc; k++) {
            int64_t sec = now_s - (int64_t)secs + 1 + k;
            size_t slot = (size_t)(((sec % ADMIN_RATE_SECS) + ADMIN_RATE_SECS) % ADMIN_RATE_SECS);
            uint32_t v = sec >= 0 && s->slot_sec[slot] == sec ? s->counts[slot][ti] : 0;
            rc = sl_buf_printf(b, k ? ",%u" : "%u", v);
        }
        rc = rc ? rc : sl_buf_addc(b, ']');
    }
    rc = rc ? rc : sl_buf_adds(b, "]}");
    return rc;
}

int admin_sampler_latest_json(admin_sampler *s, sl_buf *b, size_t n)
{
    if (n > s->ln)
        n = s->ln;
    int rc = sl_buf_adds(b, "{\"events\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        const latest_ev *l = &s->latest[(s->lhead + ADMIN_LATEST - 1 - i) % ADMIN_LATEST];
        rc = sl_buf_printf(b, "%s{\"offset\":%" PRIu64 ",\"ts_ms\":%" PRId64 ",\"event\":",
                           i ? "," : "", l->offset, l->ts_ms);
        if (!rc)
            rc = l->cut ? admin_json_str(b, l->data, l->len) : sl_buf_add(b, l->data, l->len);
        rc = rc ? rc : sl_buf_addc(b, '}');
    }
    rc = rc ? rc : sl_buf_adds(b, "]}");
    return rc;
}
