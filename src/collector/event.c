/* event.c — building event JSON (see event.h for the member order and precedence). */
#include "collector/event.h"

#include "common/clock.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/json.h"
#include "spec/gen.h"

bool coll_event_type_valid(const char *s, size_t n)
{
    if (n < 1 || n > 64 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

int64_t coll_now_ms(void) { return sl_wall_ms(); }

/* Per-thread id state: a xoshiro256** generator seeded from the kernel once per thread.
 * Two threads or two processes share no state, and 74 random bits per id make a
 * collision within one millisecond vanishingly unlikely (birthday bound ~2^37 ids/ms). */
static _Thread_local spec_rng id_rng;
static _Thread_local bool id_rng_ready;

static uint64_t id_random(void)
{
    if (!id_rng_ready) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts;
        }
        spec_rng_seed(&id_rng, seed);
        id_rng_ready = true;
    }
    return spec_rng_next(&id_rng);
}

static const char hexd[] = "0123456789abcdef";

static void put_hex(char *out, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = hexd[v & 15];
        v >>= 4;
    }
}

void coll_event_id(int64_t now_ms, char out[COLL_EVENT_ID_LEN])
{
    uint64_t ms = (uint64_t)now_ms & 0xffffffffffffULL;
    uint64_t r1 = id_random(), r2 = id_random();
    put_hex(out, ms >> 16, 8);
    out[8] = '-';
    put_hex(out + 9, ms & 0xffff, 4);
    out[13] = '-';
    out[14] = '7';                                  /* version 7 */
    put_hex(out + 15, r1 & 0xfff, 3);
    out[18] = '-';
    out[19] = hexd[8 | ((r1 >> 12) & 3)];           /* variant 10xx */
    put_hex(out + 20, (r1 >> 14) & 0xfff, 3);
    out[23] = '-';
    put_hex(out + 24, r2 & 0xffffffffffffULL, 12);
}

void coll_received_at(int64_t now_ms, char out[COLL_RECEIVED_AT_LEN])
{
    /* gmtime_r is the slow part; one cached second per thread is enough at any rate */
    static _Thread_local int64_t cached_sec = -1;
    static _Thread_local char cached[20];
    int64_t sec = now_ms / 1000;
    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        char tmp[32];
        strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
        memcpy(cached, tmp, 19);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    int ms = (int)(now_ms % 1000);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t pct_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

int coll_query_decode(const char *q, size_t len, sl_buf *scratch, struct spec_kv *kv, size_t max)
{
    sl_buf_reset(scratch);
    /* reserve once: decoding never grows the text, so pointers into scratch stay valid */
    int rc = sl_buf_reserve(scratch, len + 1);
    if (rc < 0)
        return -E2BIG;
    char *dst = scratch->p;
    size_t n = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && q[eq] != '=')
            eq++;
        if (eq > i) {  /* non-empty key */
            if (n == max)
                return -E2BIG;
            kv[n].key = dst;
            kv[n].key_len = pct_decode(q + i, eq - i, dst);
            dst += kv[n].key_len;
            kv[n].val = dst;
            kv[n].val_len = eq < j ? pct_decode(q + eq + 1, j - eq - 1, dst) : 0;
            dst += kv[n].val_len;
            if (kv[n].key_len > 0)
                n++;
        }
        i = j + 1;
    }
    scratch->len = (size_t)(dst - scratch->p);
    return (int)n;
}

void coll_ev_begin(coll_ev *ev, sl_buf *out)
{
    ev->out = out;
    ev->start = out->len;
    ev->nnames = 0;
    ev->overflow = false;
    sl_buf_addc(out, '{');  /* failure shows at coll_ev_end through the length check */
}

void coll_ev_abort(coll_ev *ev)
{
    ev->out->len = ev->start;
    if (ev->out->p)
        ev->out->p[ev->start] = '\0';
}

bool coll_ev_has(const coll_ev *ev, const char *name, size_t n)
{
    for (size_t i = 0; i < ev->nnames; i++)
        if (ev->names[i].n == n && memcmp(ev->names[i].p, name, n) == 0)
            return true;
    return false;
}

int coll_ev_mark(coll_ev *ev, const char *name, size_t n)
{
    if (ev->nnames == COLL_EVENT_MAX_NAMES) {
        ev->overflow = true;
        return -E2BIG;
    }
    ev->names[ev->nnames].p = name;
    ev->names[ev->nnames].n = n;
    ev->nnames++;
    return 0;
}

int coll_ev_comma(coll_ev *ev)
{
    if (ev->out->len > ev->start + 1)
        return sl_buf_addc(ev->out, ',') < 0 ? -E2BIG : 0;
    return 0;
}

/* Appends the JSON string token for p[0..n). */
static int add_json_string(sl_buf *b, const char *p, size_t n)
{
    size_t need = json_escaped_len(p, n);
    if (sl_buf_reserve(b, need) < 0)
        return -E2BIG;
    b->len += json_escape(p, n, b->p + b->len);
    b->p[b->len] = '\0';
    return 0;
}

/* True when p[0..n) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len;
        unsigned cp, min;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += len;
    }
    return true;
}

static int add_name(coll_ev *ev, const char *name, size_t n)
{
    if (coll_ev_has(ev, name, n))
        return 0;
    /* A name that is not valid UTF-8 would be written with U+FFFD in place of its bad
     * bytes, and two different names could then collide in the JSON; such names (only a
     * percent-encoded query parameter can have one) are dropped. Values are kept. */
    if (!utf8_valid(name, n))
        return 0;
    if (coll_ev_mark(ev, name, n) < 0)
        return -E2BIG;
    if (coll_ev_comma(ev) < 0 || add_json_string(ev->out, name, n) < 0 ||
        sl_buf_addc(ev->out, ':') < 0)
        return -E2BIG;
    return 1;
}

int coll_ev_add_str(coll_ev *ev, const char *name, size_t n, const char *val, size_t vlen)
{
    int rc = add_name(ev, name, n);
    if (rc <= 0)
        return rc;
    return add_json_string(ev->out, val, vlen) < 0 ? -E2BIG : 1;
}

int coll_ev_add_raw(coll_ev *ev, const char *name, size_t n, const char *json, size_t jlen)
{
    int rc = add_name(ev, name, n);
    if (rc <= 0)
        return rc;
    return sl_buf_add(ev->out, json, jlen) < 0 ? -E2BIG : 1;
}

int coll_ev_end(coll_ev *ev)
{
    if (ev->overflow || ev->out->len == ev->start)  /* '{' never made it in */
        return -E2BIG;
    return sl_buf_addc(ev->out, '}') < 0 ? -E2BIG : 0;
}

int coll_ev_add_envelope(coll_ev *ev, const char *event_type, size_t tlen, int64_t now_ms)
{
    char id[COLL_EVENT_ID_LEN], at[COLL_RECEIVED_AT_LEN];
    coll_event_id(now_ms, id);
    coll_received_at(now_ms, at);
    if (coll_ev_add_str(ev, "event_type", 10, event_type, tlen) < 0 ||
        coll_ev_add_str(ev, "event_id", 8, id, sizeof id) < 0 ||
        coll_ev_add_str(ev, "received_at", 11, at, sizeof at) < 0)
        return -E2BIG;
    return 0;
}

int coll_ev_add_client_object(coll_ev *ev, const char *obj, size_t len, int64_t now_ms,
                              sl_buf *scratch, const char **why)
{
    json_iter it;
    json_member m;
    *why = NULL;

    /* Decoded member names live in scratch, reserved once so that pointers stay put
     * (a decoded key is never longer than its token). */
    sl_buf_reset(scratch);
    if (sl_buf_reserve(scratch, len + 64) < 0)
        return -E2BIG;
    char *dst = scratch->p;

    /* first pass: find and check event_type */
    const char *etype = NULL;
    size_t etlen = 0;
    bool seen_type = false;
    json_iter_init(&it, obj, len);
    while (json_iter_next(&it, &m)) {
        if (!json_str_eq(m.key, "event_type", 10))
            continue;
        if (seen_type) {
            *why = "duplicate member 'event_type'";
            return -EINVAL;
        }
        seen_type = true;
        if (m.type != JSON_STRING) {
            *why = "event_type must be a string";
            return -EINVAL;
        }
        etype = dst;
        etlen = json_str_decode(m.value, dst);
        dst += etlen;
    }
    if (!seen_type) {
        *why = "missing event_type";
        return -EINVAL;
    }
    if (!coll_event_type_valid(etype, etlen)) {
        *why = "invalid event_type: must match [a-z][a-z0-9_]{0,63}";
        return -EINVAL;
    }
    if (coll_ev_add_envelope(ev, etype, etlen, now_ms) < 0)
        return -E2BIG;

    json_iter_init(&it, obj, len);
    while (json_iter_next(&it, &m)) {
        if (json_str_eq(m.key, "event_type", 10))
            continue;
        const char *name = dst;
        size_t n = json_str_decode(m.key, dst);
        dst += n;
        if (n == 8 && !memcmp(name, "event_id", 8)) {
            name = "client_event_id";
            n = 15;
        } else if (n == 11 && !memcmp(name, "received_at", 11)) {
            name = "client_received_at";
            n = 18;
        }
        if (coll_ev_has(ev, name, n)) {
            *why = "duplicate member name";
            return -EINVAL;
        }
        if (ev->nnames == COLL_EVENT_MAX_NAMES) {
            *why = "too many members (more than 256)";
            return -EINVAL;
        }
        if (coll_ev_add_raw(ev, name, n, m.value.p, m.value.len) < 0)
            return -E2BIG;
    }
    scratch->len = (size_t)(dst - scratch->p);
    return 0;
}
