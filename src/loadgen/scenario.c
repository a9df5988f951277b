/* scenario.c — parser and request formatter for scenario files (format in scenario.h). */
#include "loadgen/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/version.h"

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* RFC 9110 token characters (header names, methods). */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char *dup_span(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void entry_clear(scen_entry *e)
{
    free(e->method);
    free(e->target);
    for (size_t i = 0; i < e->nhdrs; i++) {
        free(e->hdrs[i].name);
        free(e->hdrs[i].value);
    }
    free(e->hdrs);
    free(e->body);
    free(e->body_file);
    memset(e, 0, sizeof *e);
}

void scen_free(scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->v[i]);
    free(s->v);
    free(s->file);
    free(s);
}

bool scen_has_header(const scen_entry *e, const char *name)
{
    for (size_t i = 0; i < e->nhdrs; i++)
        if (!strcasecmp(e->hdrs[i].name, name))
            return true;
    return false;
}

/* Takes the next whitespace-separated word of [*p, end). */
static bool next_word(const char **p, const char *end, const char **w, size_t *wn)
{
    const char *q = *p;
    while (q < end && is_space(*q))
        q++;
    const char *start = q;
    while (q < end && !is_space(*q))
        q++;
    *w = start;
    *wn = (size_t)(q - start);
    *p = q;
    return *wn > 0;
}

/* A comment after a request starts at a '#' that has a blank before it and a blank or
 * the end of the line after it: "Host: a # note" ends at "a", while "X-Color: #fff" and
 * "X: a#b" are values. (A line whose first word starts with '#' is all comment.) */
static bool comment_at(const char *q, const char *line, const char *end)
{
    return *q == '#' && q > line && is_space(q[-1]) && (q + 1 == end || is_space(q[1]));
}

static void trim(const char **p, const char **end)
{
    while (*p < *end && is_space(**p))
        (*p)++;
    while (*end > *p && is_space((*end)[-1]))
        (*end)--;
}

#define FAIL(...) do { rc = sl_err_set(err, -EINVAL, false, __VA_ARGS__); goto fail; } while (0)
#define NOMEM() do { rc = sl_err_set(err, -ENOMEM, true, "%s: out of memory", fname); goto fail; } while (0)

/* Parses one non-blank, non-comment line [p, end) into e. */
static int parse_line(const char *p, const char *end, const char *fname, int lineno,
                      scen_entry *e, sl_err *err)
{
    int rc;
    const char *w;
    size_t wn;
    const char *line = p;
    e->line = lineno;

    /* COUNT */
    next_word(&p, end, &w, &wn);
    uint64_t count = 0;
    for (size_t i = 0; i < wn; i++) {
        if (w[i] < '0' || w[i] > '9')
            FAIL("%s:%d: count '%.*s' is not a whole number (a line is: COUNT METHOD "
                 "/path [Header: value | ...] [< body])", fname, lineno, (int)(wn > 40 ? 40 : wn), w);
        count = count * 10 + (uint64_t)(w[i] - '0');
        if (count > LG_SCEN_MAX_COUNT)
            FAIL("%s:%d: count is larger than %llu", fname, lineno, LG_SCEN_MAX_COUNT);
    }
    if (count == 0)
        FAIL("%s:%d: count must be at least 1", fname, lineno);
    e->count = count;

    /* METHOD */
    if (!next_word(&p, end, &w, &wn))
        FAIL("%s:%d: missing method after the count (e.g. 10 GET /path)", fname, lineno);
    if (wn > 16)
        FAIL("%s:%d: method is longer than 16 characters", fname, lineno);
    for (size_t i = 0; i < wn; i++)
        if (w[i] < 'A' || w[i] > 'Z')
            FAIL("%s:%d: method '%.*s' must be upper-case letters (GET, POST, ...)", fname,
                 lineno, (int)wn, w);
    if (!(e->method = dup_span(w, wn)))
        NOMEM();

    /* TARGET */
    if (!next_word(&p, end, &w, &wn))
        FAIL("%s:%d: missing request path after %s", fname, lineno, e->method);
    if (w[0] != '/')
        FAIL("%s:%d: request path must start with '/' (got '%.*s'); the server is given by "
             "--url", fname, lineno, (int)(wn > 60 ? 60 : wn), w);
    for (size_t i = 0; i < wn; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c <= 0x20 || c >= 0x7f)
            FAIL("%s:%d: request path has a byte 0x%02x that must be percent-encoded", fname,
                 lineno, c);
    }
    if (!(e->target = dup_span(w, wn)))
        NOMEM();

    /* HEADER | HEADER ... [< BODY] [# comment] */
    bool after_bar = false;   /* a '|' was read: a header must follow */
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (after_bar && (p == end || *p == '<' || comment_at(p, line, end)))
            FAIL("%s:%d: '|' with no header after it (headers are Name: value | Name: value)",
                 fname, lineno);
        if (p == end || comment_at(p, line, end))
            break;
        if (*p == '<') {
            const char *b = p + 1, *bend = end;
            trim(&b, &bend);
            if (b < bend && *b == '@') {
                b++;
                if (b == bend)
                    FAIL("%s:%d: '< @' needs a file name", fname, lineno);
                if (!(e->body_file = dup_span(b, (size_t)(bend - b))))
                    NOMEM();
            } else {
                if ((size_t)(bend - b) > LG_SCEN_MAX_BODY)
                    FAIL("%s:%d: body is larger than %u bytes", fname, lineno, LG_SCEN_MAX_BODY);
                if (!(e->body = dup_span(b, (size_t)(bend - b))))
                    NOMEM();
                e->body_len = (size_t)(bend - b);
            }
            break;
        }
        /* the header ends at the next '|', or where a body or a comment starts (a blank,
         * then '<' or a comment's '#') */
        const char *seg = p, *segend = p;
        while (segend < end && *segend != '|' &&
               !(is_space(*segend) && segend + 1 < end &&
                 (segend[1] == '<' || comment_at(segend + 1, line, end))))
            segend++;
        after_bar = segend < end && *segend == '|';
        p = after_bar ? segend + 1 : segend;
        trim(&seg, &segend);
        if (seg == segend)
            FAIL("%s:%d: empty header between '|' separators", fname, lineno);
        const char *colon = memchr(seg, ':', (size_t)(segend - seg));
        if (!colon)
            FAIL("%s:%d: header '%.*s' has no ':' (%s)", fname, lineno,
                 (int)(segend - seg > 60 ? 60 : segend - seg), seg,
                 *seg == '#' ? "a comment after a request is ' # text', with a blank on each "
                               "side of the '#'"
                             : "write Name: value, several separated by '|'");
        if (colon == seg)
            FAIL("%s:%d: header with an empty name", fname, lineno);
        for (const char *c = seg; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                FAIL("%s:%d: header name '%.*s' has an invalid character", fname, lineno,
                     (int)(colon - seg > 60 ? 60 : colon - seg), seg);
        const char *v = colon + 1, *vend = segend;
        trim(&v, &vend);
        size_t nlen = (size_t)(colon - seg);
        /* an empty value is valid HTTP ("X-Empty:"), but an empty Host is no host */
        if (v == vend && nlen == 4 && !strncasecmp(seg, "host", 4))
            FAIL("%s:%d: Host has an empty value (leave the header out to send the host of "
                 "--url)", fname, lineno);
        for (const char *c = v; c < vend; c++) {
            unsigned char ch = (unsigned char)*c;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                FAIL("%s:%d: header value has a control byte 0x%02x", fname, lineno, ch);
        }
        static const char *const computed[] = {"content-length", "transfer-encoding",
                                               "connection"};
        for (size_t i = 0; i < sizeof computed / sizeof computed[0]; i++)
            if (nlen == strlen(computed[i]) && !strncasecmp(seg, computed[i], nlen))
                FAIL("%s:%d: header %.*s is set by sluice bench (use --keepalive / "
                     "--no-keepalive for Connection)", fname, lineno, (int)nlen, seg);
        if (e->nhdrs == LG_SCEN_MAX_HEADERS)
            FAIL("%s:%d: more than %u headers", fname, lineno, LG_SCEN_MAX_HEADERS);
        scen_header *nh = realloc(e->hdrs, (e->nhdrs + 1) * sizeof *nh);
        if (!nh)
            NOMEM();
        e->hdrs = nh;
        scen_header *h = &e->hdrs[e->nhdrs];
        h->name = dup_span(seg, nlen);
        h->value = dup_span(v, (size_t)(vend - v));
        e->nhdrs++;
        if (!h->name || !h->value)
            NOMEM();
        for (size_t i = 0; i + 1 < e->nhdrs; i++)
            if (!strcasecmp(e->hdrs[i].name, h->name) && !strcasecmp(h->name, "host"))
                FAIL("%s:%d: Host is given twice", fname, lineno);
    }
    return 0;
fail:
    return rc;
}

int scen_parse(const char *text, size_t len, const char *fname, scenario **out, sl_err *err)
{
    int rc;
    *out = NULL;
    if (!fname)
        fname = "<scenario>";
    scenario *s = calloc(1, sizeof *s);
    if (!s || !(s->file = strdup(fname))) {
        free(s);
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", fname);
    }
    size_t cap = 0;
    int lineno = 0;
    const char *p = text, *end = text + len;
    /* a UTF-8 byte order mark, as some editors write it, is not part of the first line */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        p += 3;
    while (p < end) {
        lineno++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lend = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if ((size_t)(lend - p) > LG_SCEN_MAX_LINE)
            FAIL("%s:%d: line is longer than %u bytes", fname, lineno, LG_SCEN_MAX_LINE);
        if (lend > p && lend[-1] == '\r')
            lend--;
        if (memchr(p, '\0', (size_t)(lend - p)))
            FAIL("%s:%d: NUL byte in the line", fname, lineno);
        const char *q = p;
        while (q < lend && is_space(*q))
            q++;
        p = next;
        if (q == lend || *q == '#')
            continue;
        for (const char *c = q; c < lend; c++)
            if (*c == '\r')
                FAIL("%s:%d: carriage return inside the line", fname, lineno);
        if (s->n == LG_SCEN_MAX_ENTRIES)
            FAIL("%s:%d: more than %u request lines", fname, lineno, LG_SCEN_MAX_ENTRIES);
        if (s->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            scen_entry *nv = realloc(s->v, ncap * sizeof *nv);
            if (!nv)
                NOMEM();
            s->v = nv;
            cap = ncap;
        }
        scen_entry *e = &s->v[s->n++];
        memset(e, 0, sizeof *e);
        if ((rc = parse_line(q, lend, fname, lineno, e, err)) != 0)
            goto fail;
        if (s->total + e->count > LG_SCEN_MAX_TOTAL)
            FAIL("%s:%d: the scenario has more than %llu requests in all (use --duration to "
                 "repeat a smaller mix)", fname, lineno, LG_SCEN_MAX_TOTAL);
        s->total += e->count;
    }
    if (s->n == 0)
        FAIL("%s:%d: no request lines (a line is: COUNT METHOD /path [Header: value | ...])",
             fname, lineno > 0 ? lineno : 1);
    *out = s;
    return 0;
fail:
    scen_free(s);
    return rc;
}

/* Reads a whole file, capped at max bytes. */
static int read_all(const char *path, size_t max, char **out, size_t *outlen, sl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_err_errno(err, errno, "%s", path);
    sl_buf b;
    sl_buf_init(&b, max);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if ((rc = sl_buf_add(&b, chunk, n)) != 0) {
            rc = rc == -E2BIG ? sl_err_set(err, rc, false, "%s: larger than %zu bytes", path, max)
                              : sl_err_set(err, rc, true, "%s: out of memory", path);
            goto done;
        }
    }
    if (ferror(f))
        rc = sl_err_errno(err, errno ? errno : EIO, "read %s", path);
done:
    fclose(f);
    if (rc) {
        sl_buf_free(&b);
        return rc;
    }
    if (!b.p && (rc = sl_buf_reserve(&b, 1)) != 0)
        return sl_err_set(err, rc, true, "%s: out of memory", path);
    *out = b.p;
    *outlen = b.len;
    return 0;
}

int scen_read_file(const char *path, scenario **out, sl_err *err)
{
    char *text;
    size_t len;
    int rc = read_all(path, (size_t)LG_SCEN_MAX_ENTRIES * LG_SCEN_MAX_LINE, &text, &len, err);
    if (rc)
        return rc;
    rc = scen_parse(text, len, path, out, err);
    free(text);
    return rc;
}

int scen_load_bodies(scenario *s, const char *base_dir, sl_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        scen_entry *e = &s->v[i];
        if (!e->body_file)
            continue;
        char path[4096];
        int n = e->body_file[0] == '/' || !base_dir || !*base_dir
                    ? snprintf(path, sizeof path, "%s", e->body_file)
                    : snprintf(path, sizeof path, "%s/%s", base_dir, e->body_file);
        if (n < 0 || (size_t)n >= sizeof path)
            return sl_err_set(err, -ENAMETOOLONG, false, "%s:%d: body file name too long",
                              s->file, e->line);
        char *body;
        size_t len;
        int rc = read_all(path, LG_SCEN_MAX_BODY, &body, &len, err);
        if (rc) {
            sl_err_prefix(err, "%s:%d: ", s->file, e->line);
            return rc;
        }
        free(e->body);
        e->body = body;
        e->body_len = len;
        free(e->body_file);
        e->body_file = NULL;
    }
    return 0;
}

static int add_header(sl_buf *out, const scen_header *h)
{
    return sl_buf_printf(out, h->value[0] ? "%s: %s\r\n" : "%s:%s\r\n", h->name, h->value);
}

int scen_format_request(const scen_entry *e, const char *host, bool keepalive, sl_buf *out)
{
    int rc = sl_buf_printf(out, "%s %s HTTP/1.1\r\n", e->method, e->target);
    /* Host first, as clients conventionally send it */
    for (size_t i = 0; !rc && i < e->nhdrs; i++)
        if (!strcasecmp(e->hdrs[i].name, "host"))
            rc = add_header(out, &e->hdrs[i]);
    if (!rc && !scen_has_header(e, "host"))
        rc = sl_buf_printf(out, "Host: %s\r\n", host);
    if (!rc && !scen_has_header(e, "user-agent"))
        rc = sl_buf_adds(out, "User-Agent: sluice-bench/" SLUICE_VERSION "\r\n");
    if (!rc && !scen_has_header(e, "accept"))
        rc = sl_buf_adds(out, "Accept: */*\r\n");
    for (size_t i = 0; !rc && i < e->nhdrs; i++)
        if (strcasecmp(e->hdrs[i].name, "host"))
            rc = add_header(out, &e->hdrs[i]);
    bool has_body = e->body != NULL || !strcmp(e->method, "POST") ||
                    !strcmp(e->method, "PUT") || !strcmp(e->method, "PATCH");
    if (!rc && has_body)
        rc = sl_buf_printf(out, "Content-Length: %zu\r\n", e->body_len);
    if (!rc && !keepalive)
        rc = sl_buf_adds(out, "Connection: close\r\n");
    if (!rc)
        rc = sl_buf_adds(out, "\r\n");
    if (!rc && e->body_len)
        rc = sl_buf_add(out, e->body, e->body_len);
    return rc;
}
