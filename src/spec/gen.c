/* gen.c — rendering a route's fields into event JSON (see gen.h).
 *
 * Everything here reads a spec_field that spec_load() built and never changes it; the only
 * mutable state is the caller's per-thread spec_rng and output buffer. Values that came
 * from the spec (constants, choice values, allowed query values) were turned into JSON
 * text at load time, so the hot path mostly copies bytes; only free-form query values are
 * escaped here.
 */
#include "common/clock.h"
#include "spec/gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"

/* ---- xoshiro256** (Blackman & Vigna), seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void spec_rng_seed(spec_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t spec_rng_next(spec_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double spec_rng_double(spec_rng *r)
{
    return (double)(spec_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t spec_rng_below(spec_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling: drop the top partial block so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = spec_rng_next(r);
    while (x >= limit);
    return x % n;
}

/* Standard normal by Box–Muller; uses one of the pair so the generator stays stateless
 * (the rng is the only state, which keeps fields shareable across threads). */
static double std_normal(spec_rng *r)
{
    double u1 = 1.0 - spec_rng_double(r); /* (0, 1]: log() stays finite */
    double u2 = spec_rng_double(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Index of the first cumulative weight > u*total: a weighted pick. */
static size_t pick_weighted(spec_rng *r, const double *cum, size_t n)
{
    double x = spec_rng_double(r) * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

const char *spec_gen_kind_name(spec_gen_kind k)
{
    static const char *const names[] = {"const", "query", "normal", "uniform",
                                        "choice", "pool", "timestamp", "uuid"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* ---- number output ----
 * Hand-rolled because this is the collector's hot path: sl_buf_printf formats twice
 * (size, then text), which cost more than all the rest of a field. */

/* Writes the decimal digits of v into the end of tmp; returns the start. */
static char *u64_digits(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static int put_i64(sl_buf *out, int64_t v)
{
    char tmp[24], *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(u, end);
    if (v < 0)
        *--p = '-';
    return sl_buf_add(out, p, (size_t)(end - p));
}

/* Zero-padded to width digits. */
static char *u64_padded(uint64_t v, int width, char *end)
{
    char *p = u64_digits(v, end);
    while (end - p < width)
        *--p = '0';
    return p;
}

#define EXACT_INT 9007199254740992.0 /* 2^53 */

static int put_number(sl_buf *out, double v, spec_round mode, int decimals)
{
    switch (mode) {
    case SPEC_ROUND_NEAREST:
        v = round(v);
        break;
    case SPEC_ROUND_FLOOR:
        v = floor(v);
        break;
    case SPEC_ROUND_NONE:
        if (decimals < 0)
            return sl_buf_printf(out, "%.17g", v);
        {
            /* Fixed point through an integer when it is exact, else printf. */
            static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
            double scaled = round(v * pow10[decimals]);
            if (fabs(scaled) >= EXACT_INT)
                return sl_buf_printf(out, "%.*f", decimals, v);
            int64_t i = (int64_t)scaled;
            uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
            char tmp[40], *end = tmp + sizeof tmp;
            char *p = end;
            if (decimals > 0) {
                p = u64_padded(u % (uint64_t)pow10[decimals], decimals, end);
                *--p = '.';
            }
            p = u64_digits(u / (uint64_t)pow10[decimals], p);
            if (i < 0)
                *--p = '-';
            return sl_buf_add(out, p, (size_t)(end - p));
        }
    }
    if (fabs(v) < EXACT_INT)
        return put_i64(out, (int64_t)v); /* also turns -0 into 0 */
    return sl_buf_printf(out, "%.0f", v);
}

/* ---- timestamps ---- */

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), proleptic Gregorian. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* Monday = 0 .. Sunday = 6 for a day number; 1970-01-01 was a Thursday (3). */
static unsigned weekday_of(int64_t day)
{
    int64_t w = (day + 3) % 7;
    return (unsigned)(w < 0 ? w + 7 : w);
}


/* A day among the days_back whole days before today whose weekday was drawn by weight,
 * then an hour by weight, then a uniform millisecond within that hour. Because the day
 * is picked among the days of the drawn weekday, the weekday shares equal the weights
 * exactly, whatever weekday today is (days_back >= 7 guarantees each weekday occurs). */
static int put_timestamp(const spec_field *f, spec_rng *r, int64_t now_ms, sl_buf *out)
{
    if (now_ms <= 0)
        now_ms = sl_wall_ms();
    int64_t today = now_ms / 86400000;
    int64_t first_day = today - f->days_back, last_day = today - 1;
    unsigned w = (unsigned)pick_weighted(r, f->wday_cum, 7);
    int64_t first = first_day + (int64_t)((w + 7 - weekday_of(first_day)) % 7);
    uint64_t n = (uint64_t)((last_day - first) / 7 + 1);
    int64_t day = first + 7 * (int64_t)spec_rng_below(r, n);
    unsigned hour = (unsigned)pick_weighted(r, f->hour_cum, 24);
    uint64_t ms = spec_rng_below(r, 3600000);
    int y;
    unsigned mo, d;
    civil_from_days(day, &y, &mo, &d);
    if (y < 0 || y > 9999) /* days_back is capped, so only a wild clock gets here */
        return sl_buf_printf(out, "\"%04d-%02u-%02uT%02u:%02u:%02u.%03uZ\"", y, mo, d, hour,
                             (unsigned)(ms / 60000), (unsigned)(ms / 1000 % 60),
                             (unsigned)(ms % 1000));
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" with quotes: 26 bytes, written back to front. */
    char tmp[26], *end = tmp + sizeof tmp, *p = end;
    *--p = '"';
    *--p = 'Z';
    p = u64_padded(ms % 1000, 3, p);
    *--p = '.';
    p = u64_padded(ms / 1000 % 60, 2, p);
    *--p = ':';
    p = u64_padded(ms / 60000, 2, p);
    *--p = ':';
    p = u64_padded(hour, 2, p);
    *--p = 'T';
    p = u64_padded(d, 2, p);
    *--p = '-';
    p = u64_padded(mo, 2, p);
    *--p = '-';
    p = u64_padded((uint64_t)y, 4, p);
    *--p = '"';
    return sl_buf_add(out, p, (size_t)(end - p));
}

static int put_uuid(spec_rng *r, sl_buf *out)
{
    uint8_t b[16];
    uint64_t a = spec_rng_next(r), c = spec_rng_next(r);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return sl_buf_printf(out,
                         "\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\"",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
                         b[11], b[12], b[13], b[14], b[15]);
}

/* ---- query parameters ---- */

static const spec_kv *find_param(const spec_kv *q, size_t nq, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < nq; i++)
        if (q[i].key_len == len && memcmp(q[i].key, name, len) == 0)
            return &q[i];
    return NULL;
}

/* Strict decimal integer: optional '-', digits only, no overflow. */
static bool parse_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n || n - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* The message shows at most this many bytes of an offending value. */
#define SHOWN_MAX 64

static int query_error(const spec_field *f, const spec_kv *kv, sl_err *err)
{
    if (!kv)
        return sl_err_set(err, -EINVAL, false, "missing query parameter '%s'", f->param);
    char shown[SHOWN_MAX * 4 + 4];
    /* Show the value safely: printable ASCII as is, anything else as \xNN. */
    size_t o = 0;
    for (size_t i = 0; i < kv->val_len && i < SHOWN_MAX; i++) {
        unsigned char c = (unsigned char)kv->val[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
            shown[o++] = (char)c;
        else
            o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
    }
    shown[o] = 0;
    const char *more = kv->val_len > SHOWN_MAX ? "..." : "";
    if (f->q_integer)
        return sl_err_set(err, -EINVAL, false,
                          "query parameter '%s': '%s%s' is not an integer in %lld..%lld",
                          f->param, shown, more, (long long)f->imin, (long long)f->imax);
    char list[256];
    size_t l = 0;
    list[0] = 0;
    for (size_t i = 0; i < f->nvalues && l < sizeof list - 1; i++) {
        int k = snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", f->values[i]);
        if (k < 0)
            break;
        l += (size_t)k;
    }
    if (l >= sizeof list - 1)
        memcpy(list + sizeof list - 4, "...", 4);
    return sl_err_set(err, -EINVAL, false, "query parameter '%s': '%s%s' is not one of %s",
                      f->param, shown, more, list);
}

static int put_query(const spec_field *f, const spec_kv *q, size_t nq, sl_buf *out,
                     sl_err *err)
{
    const spec_kv *kv = find_param(q, nq, f->param);
    if (!kv) {
        if (!f->json)
            return query_error(f, NULL, err);
        return sl_buf_adds(out, f->json);
    }
    if (f->q_integer) {
        int64_t v;
        if (!parse_i64(kv->val, kv->val_len, &v) || v < f->imin || v > f->imax)
            return query_error(f, kv, err);
        return put_i64(out, v);
    }
    if (f->nvalues > 0) {
        for (size_t i = 0; i < f->nvalues; i++)
            if (strlen(f->values[i]) == kv->val_len &&
                memcmp(f->values[i], kv->val, kv->val_len) == 0)
                return sl_buf_adds(out, f->values_json[i]);
        return query_error(f, kv, err);
    }
    /* Free-form value: escape it (invalid UTF-8 becomes U+FFFD). */
    size_t need = json_escaped_len(kv->val, kv->val_len);
    int rc = sl_buf_reserve(out, need);
    if (rc < 0)
        return rc;
    out->len += json_escape(kv->val, kv->val_len, out->p + out->len);
    out->p[out->len] = 0;
    return 0;
}

/* ---- rendering ---- */

static int put_value(const spec_field *f, spec_rng *r, const spec_kv *q, size_t nq,
                     int64_t now_ms, sl_buf *out, sl_err *err)
{
    switch (f->kind) {
    case SPEC_GEN_CONST:
        return sl_buf_adds(out, f->json);
    case SPEC_GEN_QUERY:
        return put_query(f, q, nq, out, err);
    case SPEC_GEN_NORMAL: {
        double v = f->mean + f->sigma * std_normal(r);
        if (v < f->min)
            v = f->min;
        if (v > f->max)
            v = f->max;
        return put_number(out, v, f->round, f->decimals);
    }
    case SPEC_GEN_UNIFORM:
        if (f->round != SPEC_ROUND_NONE) {
            /* Integers min..max inclusive; the span fits in uint64 because spec_load
             * keeps both bounds within +-2^53. */
            int64_t lo = (int64_t)f->min, hi = (int64_t)f->max;
            uint64_t v = spec_rng_below(r, (uint64_t)(hi - lo) + 1);
            return put_i64(out, lo + (int64_t)v);
        }
        return put_number(out, f->min + (f->max - f->min) * spec_rng_double(r),
                          SPEC_ROUND_NONE, f->decimals);
    case SPEC_GEN_CHOICE:
        return sl_buf_adds(out, f->values_json[pick_weighted(r, f->cum_weights, f->nvalues)]);
    case SPEC_GEN_POOL:
        if (f->nvalues > 0)
            return sl_buf_adds(out, f->values_json[spec_rng_below(r, f->nvalues)]);
    {
        char tmp[48], *end = tmp + sizeof tmp;
        *--end = '"';
        char *p = u64_padded(f->pool_start + spec_rng_below(r, f->pool_size), f->width, end);
        int rc = sl_buf_addc(out, '"');
        if (rc == 0)
            rc = sl_buf_adds(out, f->prefix);
        return rc ? rc : sl_buf_add(out, p, (size_t)(tmp + sizeof tmp - p));
    }
    case SPEC_GEN_TIMESTAMP:
        return put_timestamp(f, r, now_ms, out);
    case SPEC_GEN_UUID:
        return put_uuid(r, out);
    }
    return sl_err_set(err, -EINVAL, false, "field '%s': unknown generator", f->name);
}

static int fail_restore(sl_buf *out, size_t mark, int rc, sl_err *err)
{
    out->len = mark;
    if (out->p)
        out->p[mark] = 0;
    if (rc == -E2BIG && err && !err->code)
        sl_err_set(err, rc, false, "event too large");
    else if (rc == -ENOMEM && err && !err->code)
        sl_err_set(err, rc, true, "out of memory");
    return rc;
}

int spec_field_render(const spec_field *f, spec_rng *r, const spec_kv *q, size_t nq,
                      int64_t now_ms, sl_buf *out, sl_err *err)
{
    size_t mark = out->len;
    if (err)
        err->code = 0;
    int rc = sl_buf_add(out, f->key_json, f->key_len);
    if (rc == 0)
        rc = put_value(f, r, q, nq, now_ms, out, err);
    return rc < 0 ? fail_restore(out, mark, rc, err) : 0;
}

int spec_route_render(const spec_route *rt, spec_rng *r, const spec_kv *q, size_t nq,
                      int64_t now_ms, sl_buf *out, sl_err *err)
{
    size_t mark = out->len;
    if (err)
        err->code = 0;
    if (now_ms <= 0)
        now_ms = sl_wall_ms(); /* one clock read per event, not per field */
    for (size_t i = 0; i < rt->nfields; i++) {
        int rc = i ? sl_buf_addc(out, ',') : 0;
        if (rc == 0)
            rc = spec_field_render(&rt->fields[i], r, q, nq, now_ms, out, err);
        if (rc < 0)
            return fail_restore(out, mark, rc, err);
    }
    return 0;
}

const spec_route *spec_route_find(const spec_app *app, const char *method, size_t mlen,
                                  const char *path, size_t plen, bool *method_mismatch)
{
    bool mismatch = false;
    /* HEAD is answered by a GET route, as Flask (and HTTP) do. */
    bool head = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
    for (size_t i = 0; i < app->nroutes; i++) {
        const spec_route *rt = &app->routes[i];
        if (strlen(rt->path) != plen || memcmp(rt->path, path, plen) != 0)
            continue;
        if (!rt->method ||
            (strlen(rt->method) == mlen && memcmp(rt->method, method, mlen) == 0) ||
            (head && strcmp(rt->method, "GET") == 0))
            return rt;
        mismatch = true;
    }
    if (method_mismatch)
        *method_mismatch = mismatch;
    return NULL;
}
