/* row.c — event JSON → typed cells. See row.h for the lookup and typing rules. */
#include "stream/row.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

struct stream_arena_chunk {
    stream_arena_chunk *next;
    size_t              used, cap;
    _Alignas(8) char    data[];
};

#define ARENA_CHUNK (1u << 20)

void stream_arena_init(stream_arena *a, size_t max_total)
{
    a->head = NULL;
    a->cur = NULL;
    a->used_total = 0;
    a->max_total = max_total ? max_total : ((size_t)1 << 30);
}

void *stream_arena_alloc(stream_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;   /* cells (int64/double/pointers) live here too */
    if (n > a->max_total || a->used_total > a->max_total - n)
        return NULL;
    /* Chunks are used in list order from a->cur; a kept chunk is reused before a new
     * one is allocated (new ones go in front of cur's successors). */
    stream_arena_chunk *c = a->cur;
    while (c && c->cap - c->used < n && c->next && c->next->used == 0 && c->next->cap >= n)
        c = c->next;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        stream_arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = a->head;
            a->head = nc;
        }
        c = nc;
    }
    a->cur = c;
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    return p;
}

/* Keeps up to ARENA_KEEP bytes of chunks for the next batch: fresh pages cost a page
 * fault and a clear each, which showed up as the top kernel cost of a batch. */
#define ARENA_KEEP ((size_t)256 << 20)

void stream_arena_reset(stream_arena *a)
{
    size_t kept = 0;
    stream_arena_chunk **pp = &a->head;
    while (*pp) {
        stream_arena_chunk *c = *pp;
        if (c->cap == ARENA_CHUNK && kept + c->cap <= ARENA_KEEP) {
            c->used = 0;
            kept += c->cap;
            pp = &c->next;
        } else {
            *pp = c->next;
            free(c);
        }
    }
    a->used_total = 0;
    a->cur = a->head;
}

void stream_arena_free(stream_arena *a)
{
    while (a->head) {
        stream_arena_chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
    a->cur = NULL;
    a->used_total = 0;
}

/* ---- UTF-8 ---- */

bool stream_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (ch < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((ch & 0xe0) == 0xc0) { k = 1; cp = ch & 0x1f; }
        else if ((ch & 0xf0) == 0xe0) { k = 2; cp = ch & 0x0f; }
        else if ((ch & 0xf8) == 0xf0) { k = 3; cp = ch & 0x07; }
        else return false;
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

const char *stream_utf8_clean(stream_arena *a, const char *s, size_t n, uint32_t *out_len)
{
    char *out = stream_arena_alloc(a, n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (i < n) {
        size_t k = 1;
        unsigned char ch = u[i];
        if (ch >= 0x80) {
            k = (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 0;
            if (k == 0 || i + k > n || !stream_utf8_valid(s + i, k)) {
                memcpy(out + o, "\xef\xbf\xbd", 3);
                o += 3;
                i++;
                continue;
            }
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    *out_len = (uint32_t)o;
    return out;
}

/* ---- schema ---- */

int stream_schema_add(stream_schema *s, const char *name, const char *field,
                      spec_col_type type, stream_col_role role, sl_err *err)
{
    if (s->ncols >= STREAM_MAX_COLUMNS)
        return sl_err_set(err, -E2BIG, false, "table %s: more than %d columns", s->name,
                          STREAM_MAX_COLUMNS);
    if (s->ncols == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        stream_col *c = realloc(s->cols, cap * sizeof *c);
        if (!c)
            return sl_err_errno(err, ENOMEM, "table %s: schema", s->name);
        s->cols = c;
        s->cap = cap;
    }
    stream_col *c = &s->cols[s->ncols];
    c->name = strdup(name);
    c->field = field ? strdup(field) : NULL;
    if (!c->name || (field && !c->field)) {
        free(c->name);
        free(c->field);
        return sl_err_errno(err, ENOMEM, "table %s: schema", s->name);
    }
    c->type = type;
    c->role = role;
    s->ncols++;
    return 0;
}

int stream_schema_from_spec(stream_schema *s, const spec_table *t, sl_err *err)
{
    memset(s, 0, sizeof *s);
    s->name = strdup(t->name);
    if (!s->name)
        return sl_err_errno(err, ENOMEM, "table %s", t->name);
    s->infer = t->infer;
    for (size_t i = 0; i < t->ncols; i++) {
        int rc = stream_schema_add(s, t->cols[i].name, t->cols[i].field, t->cols[i].type,
                                   STREAM_COL_DECLARED, err);
        if (rc < 0)
            return rc;
    }
    if (t->raw_event && stream_schema_find(s, "raw_event") < 0) {
        int rc = stream_schema_add(s, "raw_event", NULL, SPEC_COL_VARCHAR, STREAM_COL_RAW, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int stream_schema_find(const stream_schema *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i].name, name))
            return (int)i;
    return -1;
}

void stream_schema_free(stream_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].field);
    }
    free(s->cols);
    free(s->name);
    memset(s, 0, sizeof *s);
}

/* ---- time ---- */

/* Howard Hinnant's days_from_civil: proleptic Gregorian date → days since 1970-01-01. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void stream_format_date(int64_t z, char out[11])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;   /* received_at is validated to 4-digit years */
    snprintf(out, 11, "%04d-%02u-%02u", (int)y, (m - 1) % 12 + 1, (d - 1) % 31 + 1);
}

int64_t stream_us_to_days(int64_t us)
{
    const int64_t day = 86400LL * 1000000LL;
    return us >= 0 ? us / day : -((-us + day - 1) / day);
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* The last "YYYY-MM-DDTHH:MM" a thread parsed, and its seconds since the epoch: events
 * come in time order, so most timestamps share the previous one's minute, and only the
 * seconds and what follows are left to parse (the date part was a fifth of the stream's
 * routing time). Thread-local: each router has its own. */
static _Thread_local struct {
    uint64_t key[2];
    int64_t  base_s;
    bool     valid;
} ts_cache;

bool stream_parse_rfc3339(const char *s, size_t len, int64_t *out_us)
{
    /* YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|±HH:MM) */
    unsigned sec;
    if (len < 20 || s[16] != ':' || !digits(s + 17, 2, &sec) || sec > 60)
        return false;
    uint64_t key[2];
    memcpy(key, s, 16);
    int64_t base_s;
    if (ts_cache.valid && key[0] == ts_cache.key[0] && key[1] == ts_cache.key[1]) {
        base_s = ts_cache.base_s;   /* the same bytes passed the checks below before */
    } else {
        unsigned y, mo, d, h, mi;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
            !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi))
            return false;
        static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59)
            return false;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo == 2 && d == 29 && !leap)
            return false;
        base_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
        memcpy(ts_cache.key, key, sizeof key);
        ts_cache.base_s = base_s;
        ts_cache.valid = true;
    }
    if (sec == 60)
        sec = 59;   /* leap second: clamp, as most engines do */
    size_t i = 19;
    int64_t frac_us = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_us += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start || i - start > 12)
            return false;
    }
    int64_t off_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    int64_t secs = base_s + sec - off_s;
    *out_us = secs * 1000000 + frac_us;
    return true;
}

/* ---- events ---- */

/* 1: a byte allowed after the first of an event type ([a-z0-9_]) */
static const uint8_t type_byte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['_'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

bool stream_event_type_valid(const char *s, size_t len)
{
    if (len < 1 || len > 64 || s[0] < 'a' || s[0] > 'z')
        return false;
    unsigned bad = 0;   /* no branch per byte */
    for (size_t i = 1; i < len; i++)
        bad |= type_byte[(unsigned char)s[i]] ^ 1u;
    return !bad;
}

/* A short, printable excerpt of a value for reasons: at most 40 bytes, quotes escaped. */
static void excerpt(json_span v, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < v.len && k + 5 < cap && i < 40; i++) {
        unsigned char c = (unsigned char)v.p[i];
        out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (v.len > 40 && k + 4 < cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

int stream_event_parse(stream_event *ev, const char *raw, size_t len, int64_t fallback_us,
                       sl_err *err)
{
    ev->raw = raw;
    ev->len = len;
    ev->nf = 0;
    ev->event_type[0] = '\0';
    ev->event_type_len = 0;
    ev->received_us = fallback_us;
    ev->has_received = false;

    ev->sql_ready = false;

    /* One pass: validation and the walk over the top-level members together. */
    json_type type;
    json_error je = {0, NULL};
    size_t n = 0;
    if (json_parse_object(raw, len, JSON_DEFAULT_MAX_DEPTH, ev->jf, STREAM_MAX_FIELDS, &n,
                          &type, &je) != 0)
        return sl_err_set(err, -EINVAL, false, "malformed JSON at byte %zu: %s", je.pos,
                          je.what ? je.what : "invalid");
    if (type != JSON_OBJECT)
        return sl_err_set(err, -EINVAL, false, "event is not a JSON object");

    bool have_type = false;
    for (size_t i = 0; i < n && i < STREAM_MAX_FIELDS; i++) {
        const json_field *m = &ev->jf[i];
        stream_field *f = &ev->f[ev->nf++];
        f->key = m->key;
        f->value = m->value;
        f->type = m->type;
        f->key_escaped = m->key_escaped;
        f->value_escaped = m->value_escaped;
        f->sql_len = 0;
        /* Unescaped keys compare byte for byte; escaped ones through the decoder. */
        bool is_type = m->key_escaped ? json_str_eq(m->key, "event_type", 10)
                                      : m->key.len == 12 && !memcmp(m->key.p + 1, "event_type", 10);
        bool is_recv = !is_type &&
                       (m->key_escaped ? json_str_eq(m->key, "received_at", 11)
                                       : m->key.len == 13 &&
                                             !memcmp(m->key.p + 1, "received_at", 11));
        if (is_type) {
            if (m->type != JSON_STRING)
                return sl_err_set(err, -EINVAL, false, "event_type is not a string");
            const char *p = m->value.p + 1;
            size_t vn = m->value.len - 2;
            if (!stream_event_type_valid(p, vn) || m->value_escaped) {
                char ex[64];
                excerpt(m->value, ex, sizeof ex);
                return sl_err_set(err, -EINVAL, false,
                                  "invalid event_type %s (want [a-z][a-z0-9_]{0,63})", ex);
            }
            memcpy(ev->event_type, p, vn);
            ev->event_type[vn] = '\0';
            ev->event_type_len = vn;
            have_type = true;
        } else if (is_recv) {
            int64_t us;
            if (m->type != JSON_STRING ||
                !stream_parse_rfc3339(m->value.p + 1, m->value.len - 2, &us)) {
                char ex[64];
                excerpt(m->value, ex, sizeof ex);
                return sl_err_set(err, -EINVAL, false,
                                  "received_at %s is not an RFC 3339 timestamp", ex);
            }
            ev->received_us = us;
            ev->has_received = true;
            ev->received_idx = ev->nf - 1;
        }
    }
    /* (checked after the fields it has, as the walk used to stop at the 513th) */
    if (n > STREAM_MAX_FIELDS)
        return sl_err_set(err, -EINVAL, false, "more than %d top-level fields",
                          STREAM_MAX_FIELDS);
    if (!have_type)
        return sl_err_set(err, -EINVAL, false, "missing event_type");
    return 0;
}

void stream_event_sql_names(stream_event *ev)
{
    if (ev->sql_ready)
        return;
    for (size_t i = 0; i < ev->nf; i++) {
        stream_field *f = &ev->f[i];
        /* The SQL name comes from the key's bytes between the quotes; an escaped key is
         * decoded first so that "User\u002dAgent" maps like "User-Agent". */
        const char *kp = f->key.p + 1;
        size_t kl = f->key.len >= 2 ? f->key.len - 2 : 0;
        char kbuf[256];
        if (f->key_escaped) {
            if (kl <= sizeof kbuf) {
                kl = json_str_decode(f->key, kbuf);
                kp = kbuf;
            } else {
                kl = 0;   /* very long escaped key: no SQL name, only exact matches */
            }
        }
        f->sql_len = (uint8_t)spec_sql_name(kp, kl, f->sql, sizeof f->sql);
    }
    ev->sql_ready = true;
}

static bool key_is(const stream_field *f, const char *name)
{
    return json_str_eq(f->key, name, strlen(name));
}

/* The field a column reads, or NULL. */
static const stream_field *lookup(const stream_col *c, const stream_event *ev)
{
    if (c->field) {
        for (size_t i = 0; i < ev->nf; i++)
            if (key_is(&ev->f[i], c->field))
                return &ev->f[i];
        return NULL;
    }
    size_t nl = strlen(c->name);
    for (size_t i = 0; i < ev->nf; i++) {
        const stream_field *f = &ev->f[i];
        /* Fast exact check: an unescaped key of the same length. */
        if (f->key.len == nl + 2 && !memcmp(f->key.p + 1, c->name, nl))
            return f;
    }
    for (size_t i = 0; i < ev->nf; i++) {
        const stream_field *f = &ev->f[i];
        if (f->sql_len == nl && !memcmp(f->sql, c->name, nl))
            return f;
    }
    return NULL;
}

static int str_cell(json_span v, bool escaped, stream_cell *cell, stream_arena *a)
{
    const char *p = v.p + 1;
    size_t n = v.len - 2;
    if (!escaped) {
        cell->v.s = p;
        cell->len = (uint32_t)n;
    } else {
        char *out = stream_arena_alloc(a, n ? n : 1);
        if (!out)
            return -ENOMEM;
        cell->len = (uint32_t)json_str_decode(v, out);
        cell->v.s = out;
        /* Escapes such as a lone \ud800 can decode to bytes that are not UTF-8, which
         * DuckDB's VARCHAR refuses: replace them. */
        if (!stream_utf8_valid(out, cell->len)) {
            uint32_t clean_len;
            const char *clean = stream_utf8_clean(a, out, cell->len, &clean_len);
            if (!clean)
                return -ENOMEM;
            cell->v.s = clean;
            cell->len = clean_len;
        }
    }
    cell->kind = STREAM_CELL_STR;
    return 0;
}

/* A string token's contents as a NUL-terminated C string in buf (for number parsing).
 * False when it has escapes or does not fit. */
static bool plain_str(json_span v, char *buf, size_t cap)
{
    size_t n = v.len - 2;
    if (n == 0 || n >= cap || memchr(v.p + 1, '\\', n))
        return false;
    memcpy(buf, v.p + 1, n);
    buf[n] = '\0';
    return true;
}

static bool parse_i64_text(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

static bool parse_f64_text(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || !isfinite(d))
        return false;
    /* strtod accepts "inf", "nan", hex: only decimal forms are numbers here. */
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
              *p == 'E'))
            return false;
    *out = d;
    return true;
}

static int misfit(sl_err *err, const stream_col *c, json_span v, const char *what)
{
    char ex[64];
    excerpt(v, ex, sizeof ex);
    return sl_err_set(err, -EINVAL, false, "column %s (%s): %s is not %s", c->name,
                      spec_col_type_name(c->type), ex, what);
}

void stream_row_map(const stream_schema *s, stream_event *ev, int16_t *map)
{
    stream_event_sql_names(ev);
    for (size_t ci = 0; ci < s->ncols; ci++) {
        const stream_field *f = s->cols[ci].role == STREAM_COL_RAW ? NULL : lookup(&s->cols[ci], ev);
        map[ci] = f ? (int16_t)(f - ev->f) : -1;
    }
}

static int convert(const stream_schema *s, const stream_event *ev, const int16_t *map,
                   stream_cell *cells, stream_arena *a, sl_err *err);

int stream_row_convert(const stream_schema *s, stream_event *ev, stream_cell *cells,
                       stream_arena *a, sl_err *err)
{
    stream_event_sql_names(ev);
    return convert(s, ev, NULL, cells, a, err);
}

int stream_row_convert_mapped(const stream_schema *s, const stream_event *ev, const int16_t *map,
                              stream_cell *cells, stream_arena *a, sl_err *err)
{
    return convert(s, ev, map, cells, a, err);
}

static int convert(const stream_schema *s, const stream_event *ev, const int16_t *map,
                   stream_cell *cells, stream_arena *a, sl_err *err)
{
    for (size_t ci = 0; ci < s->ncols; ci++) {
        const stream_col *c = &s->cols[ci];
        stream_cell *cell = &cells[ci];
        cell->kind = STREAM_CELL_NULL;
        cell->len = 0;
        if (c->role == STREAM_COL_RAW) {
            cell->kind = STREAM_CELL_STR;
            cell->v.s = ev->raw;
            cell->len = (uint32_t)ev->len;
            continue;
        }
        const stream_field *f = map ? (map[ci] < 0 ? NULL : &ev->f[map[ci]]) : lookup(c, ev);
        if (!f || f->type == JSON_NULL)
            continue;
        json_span v = f->value;
        char num[128];
        switch (c->type) {
        case SPEC_COL_VARCHAR:
            if (f->type == JSON_STRING) {
                if (str_cell(v, f->value_escaped, cell, a) < 0)
                    return sl_err_set(err, -ENOMEM, true, "batch string memory is full");
            } else {
                cell->kind = STREAM_CELL_STR;
                cell->v.s = v.p;
                cell->len = (uint32_t)v.len;
            }
            break;
        case SPEC_COL_BIGINT: {
            int64_t i;
            if (f->type == JSON_NUMBER && json_num_to_i64(v, &i)) {
            } else if (f->type == JSON_STRING && plain_str(v, num, sizeof num) &&
                       parse_i64_text(num, &i)) {
            } else {
                return misfit(err, c, v, "an integer");
            }
            cell->kind = STREAM_CELL_I64;
            cell->v.i = i;
            break;
        }
        case SPEC_COL_DOUBLE: {
            double d;
            if (f->type == JSON_NUMBER && json_num_to_double(v, &d) && isfinite(d)) {
            } else if (f->type == JSON_STRING && plain_str(v, num, sizeof num) &&
                       parse_f64_text(num, &d)) {
            } else {
                return misfit(err, c, v, "a number");
            }
            cell->kind = STREAM_CELL_F64;
            cell->v.d = d;
            break;
        }
        case SPEC_COL_BOOLEAN:
            if (f->type == JSON_TRUE || f->type == JSON_FALSE) {
                cell->v.i = f->type == JSON_TRUE;
            } else if (f->type == JSON_STRING && (json_str_eq(v, "true", 4) ||
                                                  json_str_eq(v, "false", 5))) {
                cell->v.i = json_str_eq(v, "true", 4);
            } else {
                return misfit(err, c, v, "a boolean");
            }
            cell->kind = STREAM_CELL_BOOL;
            break;
        case SPEC_COL_TIMESTAMP: {
            int64_t us;
            if (ev->has_received && f == &ev->f[ev->received_idx])
                us = ev->received_us;   /* parsed once, in stream_event_parse() */
            else if (f->type != JSON_STRING || !stream_parse_rfc3339(v.p + 1, v.len - 2, &us))
                return misfit(err, c, v, "an RFC 3339 timestamp");
            cell->kind = STREAM_CELL_TS;
            cell->v.i = us;
            break;
        }
        default:
            return sl_err_set(err, -EINVAL, false, "column %s: unknown type", c->name);
        }
    }
    return 0;
}

static bool sql_name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= STREAM_MAX_NAME - 1 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    return true;   /* spec_sql_name() output is [a-z0-9_] */
}

int stream_schema_infer(stream_schema *s, stream_event *ev, sl_err *err)
{
    if (!s->infer)
        return 0;
    stream_event_sql_names(ev);
    int added = 0;
    for (size_t i = 0; i < ev->nf; i++) {
        const stream_field *f = &ev->f[i];
        if (f->type == JSON_NULL || !sql_name_ok(f->sql, f->sql_len))
            continue;
        /* "dt" is the partition column: a field of that name stays in raw_event. */
        if (!strcmp(f->sql, "dt"))
            continue;
        bool read = false;
        for (size_t ci = 0; ci < s->ncols && !read; ci++) {
            const stream_col *c = &s->cols[ci];
            if (c->field ? key_is(f, c->field) : !strcmp(c->name, f->sql))
                read = true;
        }
        if (read)
            continue;
        spec_col_type t = SPEC_COL_VARCHAR;
        if (f->type == JSON_NUMBER) {
            int64_t iv;
            t = json_num_to_i64(f->value, &iv) ? SPEC_COL_BIGINT : SPEC_COL_DOUBLE;
        } else if (f->type == JSON_TRUE || f->type == JSON_FALSE) {
            t = SPEC_COL_BOOLEAN;
        }
        int rc = stream_schema_add(s, f->sql, NULL, t, STREAM_COL_INFERRED, err);
        if (rc == -E2BIG)
            return added;   /* the field stays in raw_event only */
        if (rc < 0)
            return rc;
        added++;
    }
    return added;
}
