/* json.c — strict RFC 8259 validation and zero-copy walking (see json.h).
 *
 * What "strict" means here, beyond the grammar:
 *   - strings are valid UTF-8: no overlong forms, no encoded surrogates (U+D800..DFFF),
 *     nothing above U+10FFFF; raw bytes below 0x20 (NUL included) are refused;
 *   - a \u escape of a high surrogate must be followed by a \u escape of a low one, and a
 *     low surrogate may not stand alone, so every accepted string decodes to valid UTF-8;
 *   - nesting deeper than max_depth is refused before the recursion goes deeper, so
 *     hostile input cannot exhaust the stack.
 * Duplicate keys are allowed by the grammar and kept; callers that care look for them.
 *
 * The iterator trusts that its input was validated and skips values with a bracket count
 * that steps over strings, which is much cheaper than validating again.
 */
#include "common/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>   /* SSE2 is part of x86-64: no run-time check needed */
#endif

typedef struct parser {
    const char *start, *p, *end;
    int max_depth;
    json_error *e;
} parser;

static int fail(parser *ps, const char *at, const char *what)
{
    if (ps->e) {
        ps->e->pos = (size_t)(at - ps->start);
        ps->e->what = what;
    }
    return -1;
}

static inline void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* Length of the valid UTF-8 sequence starting at p (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Bytes that end the fast scan of a string: '"', '\\', control characters (< 0x20) and
 * the bytes of multi-byte UTF-8 (>= 0x80). 16 bytes at a time with SSE2 where there is
 * (11% less parse time than 8-byte SWAR on the game events), else SWAR over 8 bytes:
 * strings are most of an event's bytes, and this loop was the stream's top function. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t special_bytes(uint64_t w)
{
    uint64_t quote = w ^ (ONES * '"'), bslash = w ^ (ONES * '\\');
    uint64_t zq = (quote - ONES) & ~quote;      /* high bit set where a byte was '"' ... */
    uint64_t zb = (bslash - ONES) & ~bslash;    /* ... or '\\' (exact for the lowest hit) */
    uint64_t ctl = (w - ONES * 0x20) & ~w;      /* ... or < 0x20 */
    return (zq | zb | ctl | w) & HIGHS;         /* w: bytes >= 0x80 */
}

static inline const char *scan_plain(const char *q, const char *end)
{
#ifdef __SSE2__
    /* 16 bytes at a time: as signed bytes, the bytes >= 0x80 are negative, so one
     * "less than 0x20" compare finds both the control bytes and the UTF-8 bytes. */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - q >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                                _mm_cmpeq_epi8(x, bslash)),
                                   _mm_cmplt_epi8(x, space));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return q + __builtin_ctz(m);
        q += 16;
    }
#endif
    while (end - q >= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t m = special_bytes(w);
        if (m) {
            /* Little endian: the lowest flagged byte is the first special one (flags
             * above it may be false positives; they are never looked at). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return q + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        q += 8;
    }
    while (q < end && (unsigned char)*q >= 0x20 && *q != '"' && *q != '\\' &&
           (unsigned char)*q < 0x80)
        q++;
    return q;
}

static int parse_string_esc(parser *ps, bool *escaped)
{
    const char *q = ps->p + 1; /* past the opening quote */
    const char *end = ps->end;
    for (;;) {
        /* Fast scan over plain ASCII. */
        q = scan_plain(q, end);
        if (q >= end)
            return fail(ps, ps->p, "unterminated string");
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            ps->p = q + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(ps, q, c == 0 ? "NUL byte in string" : "control character in string");
        if (c == '\\') {
            *escaped = true;
            if (q + 1 >= end)
                return fail(ps, q, "unterminated string");
            char x = q[1];
            if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                x == 'r' || x == 't') {
                q += 2;
                continue;
            }
            if (x != 'u')
                return fail(ps, q, "invalid escape in string");
            unsigned u;
            if (end - q < 6 || hex4(q + 2, &u))
                return fail(ps, q, "invalid \\u escape");
            q += 6;
            if (u >= 0xDC00 && u <= 0xDFFF)
                return fail(ps, q - 6, "lone low surrogate in \\u escape");
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (end - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, q - 6, "high surrogate not followed by a low one");
                q += 6;
            }
            continue;
        }
        size_t n = utf8_seq_len((const unsigned char *)q, (const unsigned char *)end);
        if (!n)
            return fail(ps, q, "invalid UTF-8 in string");
        q += n;
    }
}

static int parse_string(parser *ps)
{
    bool escaped = false;
    return parse_string_esc(ps, &escaped);
}

static int parse_number(parser *ps)
{
    const char *q = ps->p, *end = ps->end;
    if (q < end && *q == '-')
        q++;
    if (q >= end)
        return fail(ps, ps->p, "invalid number");
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    } else {
        return fail(ps, ps->p, "invalid number");
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || *q < '0' || *q > '9')
            return fail(ps, q, "invalid number: digit expected after '.'");
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || *q < '0' || *q > '9')
            return fail(ps, q, "invalid number: digit expected in exponent");
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    ps->p = q;
    return 0;
}

static int parse_literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
        return fail(ps, ps->p, "invalid literal");
    ps->p += n;
    return 0;
}

static int parse_value(parser *ps, int depth, json_type *type);

static int parse_container(parser *ps, int depth, bool object)
{
    if (depth >= ps->max_depth)
        return fail(ps, ps->p, "nesting too deep");
    char close = object ? '}' : ']';
    ps->p++; /* past '{' or '[' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (object) {
            if (ps->p >= ps->end)
                return fail(ps, ps->p, "unterminated object");
            if (*ps->p != '"')
                return fail(ps, ps->p, "object key must be a string");
            if (parse_string(ps))
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, ps->p, "':' expected after object key");
            ps->p++;
            skip_ws(ps);
        }
        json_type t;
        if (parse_value(ps, depth + 1, &t))
            return -1;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, ps->p, object ? "unterminated object" : "unterminated array");
        if (*ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, ps->p, object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static int parse_value(parser *ps, int depth, json_type *type)
{
    if (ps->p >= ps->end)
        return fail(ps, ps->p, "value expected");
    switch (*ps->p) {
    case '{':
        *type = JSON_OBJECT;
        return parse_container(ps, depth, true);
    case '[':
        *type = JSON_ARRAY;
        return parse_container(ps, depth, false);
    case '"':
        *type = JSON_STRING;
        return parse_string(ps);
    case 't':
        *type = JSON_TRUE;
        return parse_literal(ps, "true", 4);
    case 'f':
        *type = JSON_FALSE;
        return parse_literal(ps, "false", 5);
    case 'n':
        *type = JSON_NULL;
        return parse_literal(ps, "null", 4);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
            *type = JSON_NUMBER;
            return parse_number(ps);
        }
        return fail(ps, ps->p, "value expected");
    }
}

int json_validate(const char *buf, size_t len, int max_depth, json_type *type, size_t *end,
                  json_error *e)
{
    parser ps = {buf, buf, buf + len, max_depth > 0 ? max_depth : JSON_DEFAULT_MAX_DEPTH, e};
    json_type t = JSON_NONE;
    skip_ws(&ps);
    if (parse_value(&ps, 0, &t))
        return -1;
    if (type)
        *type = t;
    if (end)
        *end = (size_t)(ps.p - buf);
    return 0;
}

int json_validate_whole(const char *buf, size_t len, int max_depth, json_type *type,
                        json_error *e)
{
    size_t end;
    if (json_validate(buf, len, max_depth, type, &end, e))
        return -1;
    parser ps = {buf, buf + end, buf + len, 0, e};
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, ps.p, "unexpected data after the value");
    return 0;
}

/* The top-level object of json_parse_object(): parse_container() at depth 0, recording
 * each member's spans as it goes. */
static int parse_object_fields(parser *ps, json_field *fields, size_t max, size_t *n)
{
    size_t count = 0;
    if (ps->max_depth <= 0)
        return fail(ps, ps->p, "nesting too deep");
    ps->p++; /* past '{' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        *n = 0;
        return 0;
    }
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, ps->p, "unterminated object");
        if (*ps->p != '"')
            return fail(ps, ps->p, "object key must be a string");
        json_field scratch, *f = count < max ? &fields[count] : &scratch;
        f->key.p = ps->p;
        f->key_escaped = false;
        f->value_escaped = false;
        if (parse_string_esc(ps, &f->key_escaped))
            return -1;
        f->key.len = (size_t)(ps->p - f->key.p);
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            return fail(ps, ps->p, "':' expected after object key");
        ps->p++;
        skip_ws(ps);
        f->value.p = ps->p;
        if (ps->p < ps->end && *ps->p == '"') {
            f->type = JSON_STRING;
            if (parse_string_esc(ps, &f->value_escaped))
                return -1;
        } else if (parse_value(ps, 1, &f->type)) {
            return -1;
        }
        f->value.len = (size_t)(ps->p - f->value.p);
        count++;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, ps->p, "unterminated object");
        if (*ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            *n = count;
            return 0;
        }
        return fail(ps, ps->p, "',' or '}' expected");
    }
}

int json_parse_object(const char *buf, size_t len, int max_depth, json_field *fields,
                      size_t max_fields, size_t *nfields, json_type *type, json_error *e)
{
    parser ps = {buf, buf, buf + len, max_depth > 0 ? max_depth : JSON_DEFAULT_MAX_DEPTH, e};
    json_type t = JSON_NONE;
    size_t n = 0;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '{') {
        t = JSON_OBJECT;
        if (parse_object_fields(&ps, fields, max_fields, &n))
            return -1;
    } else if (parse_value(&ps, 0, &t)) {
        return -1;
    }
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, ps.p, "unexpected data after the value");
    if (type)
        *type = t;
    if (nfields)
        *nfields = n;
    return 0;
}

/* ---- iteration over validated input ---- */

static inline const char *iter_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    p++;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return end;
        /* The quote closes the string unless an odd number of backslashes precede it. */
        const char *b = q;
        while (b > p && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        p = q + 1;
    }
    return end;
}

static const char *skip_value(const char *p, const char *end, json_type *type)
{
    switch (*p) {
    case '"':
        *type = JSON_STRING;
        return skip_string(p, end);
    case '{':
    case '[': {
        *type = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
        int depth = 0;
        while (p < end) {
            char c = *p;
            if (c == '"') {
                p = skip_string(p, end);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return end;
    }
    case 't':
        *type = JSON_TRUE;
        return p + 4 <= end ? p + 4 : end;
    case 'f':
        *type = JSON_FALSE;
        return p + 5 <= end ? p + 5 : end;
    case 'n':
        *type = JSON_NULL;
        return p + 4 <= end ? p + 4 : end;
    default:
        *type = JSON_NUMBER;
        while (p < end && (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' ||
                           (*p >= '0' && *p <= '9')))
            p++;
        return p;
    }
}

void json_iter_init(json_iter *it, const char *p, size_t len)
{
    const char *end = p + len;
    p = iter_ws(p, end);
    it->array = p < end && *p == '[';
    it->done = p >= end || (*p != '{' && *p != '[');
    it->p = p < end ? p + 1 : p;
    it->end = end;
}

bool json_iter_next(json_iter *it, json_member *m)
{
    if (it->done)
        return false;
    const char *p = iter_ws(it->p, it->end);
    if (p < it->end && *p == ',')
        p = iter_ws(p + 1, it->end);
    if (p >= it->end || *p == '}' || *p == ']') {
        it->done = true;
        return false;
    }
    if (!it->array) {
        const char *k = p;
        p = skip_string(p, it->end);
        m->key.p = k;
        m->key.len = (size_t)(p - k);
        p = iter_ws(p, it->end);
        if (p < it->end && *p == ':')
            p++;
        p = iter_ws(p, it->end);
    } else {
        m->key.p = p;
        m->key.len = 0;
    }
    if (p >= it->end) {
        it->done = true;
        return false;
    }
    const char *v = p;
    p = skip_value(p, it->end, &m->type);
    m->value.p = v;
    m->value.len = (size_t)(p - v);
    it->p = p;
    return true;
}

/* ---- strings ---- */

static size_t put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t json_str_decode(json_span s, char *out)
{
    if (s.len < 2)
        return 0;
    const char *p = s.p + 1, *end = s.p + s.len - 1;
    size_t n = 0;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t plain = (size_t)((bs ? bs : end) - p);
        memcpy(out + n, p, plain);
        n += plain;
        p += plain;
        if (!bs)
            break;
        char x = p[1];
        p += 2;
        switch (x) {
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned u = 0, lo = 0;
            if (end - p < 4 || hex4(p, &u))
                return n;
            p += 4;
            if (u >= 0xD800 && u <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                !hex4(p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (u >= 0xD800 && u <= 0xDFFF) {
                u = 0xFFFD; /* unvalidated input only */
            }
            n += put_utf8(u, out + n);
            break;
        }
        default: out[n++] = x; break; /* '"', '\\', '/' */
        }
    }
    return n;
}

bool json_str_eq(json_span s, const char *name, size_t name_len)
{
    if (s.len < 2)
        return false;
    if (s.len - 2 == name_len && !memchr(s.p + 1, '\\', s.len - 2))
        return memcmp(s.p + 1, name, name_len) == 0;
    if (s.len - 2 < name_len || !memchr(s.p + 1, '\\', s.len - 2))
        return false;
    char small[256];
    char *buf = s.len - 2 <= sizeof small ? small : malloc(s.len - 2);
    if (!buf)
        return false;
    size_t n = json_str_decode(s, buf);
    bool eq = n == name_len && memcmp(buf, name, n) == 0;
    if (buf != small)
        free(buf);
    return eq;
}

/* Escape classes: 0 = copy, 1 = two-char escape, 2 = \u00XX. */
static const char short_esc[0x20] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

size_t json_escaped_len(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *end = s + n;
    size_t len = 2;
    while (s < end) {
        unsigned char c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            len++, s++;
        } else if (c == '"' || c == '\\') {
            len += 2, s++;
        } else if (c < 0x20) {
            len += short_esc[c] ? 2 : 6;
            s++;
        } else {
            size_t k = utf8_seq_len(s, end);
            if (k) {
                len += k, s += k;
            } else {
                len += 6, s++; /* \ufffd */
            }
        }
    }
    return len;
}

size_t json_escape(const char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)p, *end = s + n;
    char *o = out;
    *o++ = '"';
    while (s < end) {
        unsigned char c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c, s++;
        } else if (c == '"' || c == '\\') {
            *o++ = '\\', *o++ = (char)c, s++;
        } else if (c < 0x20) {
            *o++ = '\\';
            if (short_esc[c]) {
                *o++ = short_esc[c];
            } else {
                *o++ = 'u', *o++ = '0', *o++ = '0';
                *o++ = hex[c >> 4], *o++ = hex[c & 15];
            }
            s++;
        } else {
            size_t k = utf8_seq_len(s, end);
            if (k) {
                memcpy(o, s, k);
                o += k, s += k;
            } else {
                memcpy(o, "\\ufffd", 6);
                o += 6, s++;
            }
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

/* ---- numbers ---- */

bool json_num_to_i64(json_span num, int64_t *out)
{
    const char *p = num.p, *end = num.p + num.len;
    if (p >= end)
        return false;
    bool neg = *p == '-';
    const char *d = p + neg;
    bool integral = d < end;
    for (const char *q = d; q < end; q++)
        if (*q < '0' || *q > '9') {
            integral = false;
            break;
        }
    if (integral) {
        uint64_t v = 0;
        for (const char *q = d; q < end; q++) {
            unsigned digit = (unsigned)(*q - '0');
            if (v > (UINT64_MAX - digit) / 10)
                return false;
            v = v * 10 + digit;
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
    /* 5.0 or 1e3: whole numbers written with a fraction or exponent, exact below 2^53. */
    double dv;
    if (!json_num_to_double(num, &dv) || dv != floor(dv) || fabs(dv) > 9007199254740992.0)
        return false;
    *out = (int64_t)dv;
    return true;
}

bool json_num_to_double(json_span num, double *out)
{
    char buf[512];
    if (num.len == 0 || num.len >= sizeof buf)
        return false;
    memcpy(buf, num.p, num.len);
    buf[num.len] = '\0';
    char *endp;
    errno = 0;
    double v = strtod(buf, &endp);
    if (endp != buf + num.len || !isfinite(v))
        return false;
    *out = v;
    return true;
}
