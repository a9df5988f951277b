/* auth.c — write keys and the admin token (formats and rules in auth.h). */
#include "collector/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIGEST_LEN 32

struct coll_auth {
    unsigned char (*keys)[DIGEST_LEN];  /* SHA-256 of each write key, sorted (memcmp) */
    size_t nkeys, cap;
    unsigned char token[DIGEST_LEN];
    bool has_token;
};

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, DIGEST_LEN);
}

static bool digest(const char *s, size_t len, unsigned char out[DIGEST_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == DIGEST_LEN;
}

coll_auth *coll_auth_create(void)
{
    return calloc(1, sizeof(coll_auth));
}

void coll_auth_destroy(coll_auth *a)
{
    if (!a)
        return;
    if (a->keys)
        OPENSSL_cleanse(a->keys, a->cap * DIGEST_LEN);
    free(a->keys);
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

size_t coll_auth_nkeys(const coll_auth *a) { return a ? a->nkeys : 0; }
bool coll_auth_has_token(const coll_auth *a) { return a && a->has_token; }

/* NULL when the secret is well-formed, else why not (never quoting it). */
static const char *bad_secret(const char *s, size_t len, size_t min)
{
    static char why[96];
    if (len < min || len > COLL_AUTH_KEY_MAX) {
        snprintf(why, sizeof why, "must be %zu to %d characters long (this one has %zu)", min,
                 COLL_AUTH_KEY_MAX, len);
        return why;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == ':')
            return "may hold only printable ASCII characters without spaces and ':'";
    }
    return NULL;
}

/* Appends the digest of key; with sorted, inserts it at its place (a bulk load appends
 * and sorts once at the end instead). */
static int add_key(coll_auth *a, const char *key, size_t len, bool sorted, sl_err *err)
{
    const char *why = bad_secret(key, len, COLL_AUTH_KEY_MIN);
    if (why)
        return sl_err_set(err, -EINVAL, false, "write key %s", why);
    if (a->nkeys == COLL_AUTH_MAX_KEYS)
        return sl_err_set(err, -EINVAL, false, "too many write keys (max %d)", COLL_AUTH_MAX_KEYS);
    if (a->nkeys == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 8;
        void *p = calloc(ncap, DIGEST_LEN);
        if (!p)
            return sl_err_set(err, -ENOMEM, true, "out of memory");
        if (a->keys) {
            memcpy(p, a->keys, a->nkeys * DIGEST_LEN);
            OPENSSL_cleanse(a->keys, a->cap * DIGEST_LEN);
            free(a->keys);
        }
        a->keys = p;
        a->cap = ncap;
    }
    unsigned char d[DIGEST_LEN];
    if (!digest(key, len, d))
        return sl_err_set(err, -EIO, false, "SHA-256 failed");
    size_t at = a->nkeys;
    if (sorted) {
        size_t lo = 0, hi = a->nkeys;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (memcmp(a->keys[mid], d, DIGEST_LEN) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        at = lo;
        memmove(a->keys[at + 1], a->keys[at], (a->nkeys - at) * DIGEST_LEN);
    }
    memcpy(a->keys[at], d, DIGEST_LEN);
    OPENSSL_cleanse(d, sizeof d);
    a->nkeys++;
    return 0;
}

int coll_auth_add_key(coll_auth *a, const char *key, size_t len, sl_err *err)
{
    return add_key(a, key, len, true, err);
}

int coll_auth_set_token(coll_auth *a, const char *token, sl_err *err)
{
    const char *why = bad_secret(token, strlen(token), COLL_AUTH_TOKEN_MIN);
    if (why)
        return sl_err_set(err, -EINVAL, false, "admin token %s", why);
    if (!digest(token, strlen(token), a->token))
        return sl_err_set(err, -EIO, false, "SHA-256 failed");
    a->has_token = true;
    return 0;
}

int coll_auth_load_file(coll_auth *a, const char *path, sl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sl_err_errno(err, errno, "cannot open write keys file %s", path);
    char *line = NULL;
    size_t cap = 0, total = 0, lineno = 0, added = 0;
    ssize_t n;
    int rc = 0;
    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        total += (size_t)n;
        if (total > COLL_AUTH_FILE_MAX) {
            rc = sl_err_set(err, -EINVAL, false, "%s:%zu: file too large (max 16 MiB)", path,
                            lineno);
            goto out;
        }
        size_t b = 0, e = (size_t)n;
        while (b < e && (line[b] == ' ' || line[b] == '\t'))
            b++;
        while (e > b && (line[e - 1] == '\n' || line[e - 1] == '\r' || line[e - 1] == ' ' ||
                         line[e - 1] == '\t'))
            e--;
        if (b == e || line[b] == '#')
            continue;
        sl_err kerr;
        sl_err_clear(&kerr);
        if ((rc = add_key(a, line + b, e - b, false, &kerr)) < 0) {
            sl_err_set(err, rc, false, "%s:%zu: %s", path, lineno, kerr.msg);
            goto out;
        }
        added++;
    }
    if (ferror(f)) {
        rc = sl_err_errno(err, errno ? errno : EIO, "cannot read write keys file %s", path);
        goto out;
    }
    if (added == 0)
        rc = sl_err_set(err, -EINVAL, false, "%s:%zu: no write key in the file", path, lineno);
out:
    if (a->nkeys > 1)  /* also after a failure: the array stays sorted */
        qsort(a->keys, a->nkeys, DIGEST_LEN, digest_cmp);
    if (line) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- header parsing */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with optional '=' padding; returns the decoded length or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    while (len > 0 && in[len - 1] == '=')
        len--;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)n;
}

typedef struct presented {
    const char *user;  /* Bearer: the token; Basic: user name */
    size_t user_len;
    const char *pass;  /* Basic only */
    size_t pass_len;
    bool basic;
} presented;

/* Splits an Authorization value. dec holds Basic's decoded text (>= 2*KEY_MAX + 2). */
static bool parse_authorization(const char *hdr, size_t len, unsigned char *dec, size_t cap,
                                presented *p)
{
    memset(p, 0, sizeof *p);
    if (!hdr)
        return false;
    while (len > 0 && (hdr[len - 1] == ' ' || hdr[len - 1] == '\t'))
        len--;
    size_t sp = 0;
    while (sp < len && hdr[sp] != ' ')
        sp++;
    size_t v = sp;
    while (v < len && hdr[v] == ' ')
        v++;
    if (v == sp || v == len)
        return false;
    const char *val = hdr + v;
    size_t vlen = len - v;
    if (sp == 6 && !strncasecmp(hdr, "bearer", 6)) {
        if (vlen > COLL_AUTH_KEY_MAX)
            return false;
        p->user = val;
        p->user_len = vlen;
        return true;
    }
    if (sp == 5 && !strncasecmp(hdr, "basic", 5)) {
        if (vlen > (cap / 3 + 1) * 4)
            return false;
        long n = b64_decode(val, vlen, dec, cap);
        if (n < 0)
            return false;
        const unsigned char *colon = memchr(dec, ':', (size_t)n);
        p->basic = true;
        p->user = (const char *)dec;
        p->user_len = colon ? (size_t)(colon - dec) : (size_t)n;
        if (colon) {
            p->pass = (const char *)colon + 1;
            p->pass_len = (size_t)n - p->user_len - 1;
        }
        return true;
    }
    return false;
}

/* Is the digest of s among the n sorted digests? A binary search: its timing depends only
 * on how the digest of what the client sent compares with the stored digests, which tells
 * nothing usable about a key (SHA-256 is preimage resistant), and it stays cheap with
 * 100,000 keys. The last compare is constant-time all the same. */
static bool match_any(const unsigned char (*keys)[DIGEST_LEN], size_t n, const char *s,
                      size_t len)
{
    if (!s || len == 0 || len > COLL_AUTH_KEY_MAX || n == 0)
        return false;
    unsigned char d[DIGEST_LEN];
    if (!digest(s, len, d))
        return false;
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(keys[mid], d, DIGEST_LEN) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    bool found = CRYPTO_memcmp(keys[lo], d, DIGEST_LEN) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return found;
}

bool coll_auth_check_write(const coll_auth *a, const char *hdr, size_t len)
{
    if (!a || a->nkeys == 0)
        return true;
    unsigned char dec[2 * COLL_AUTH_KEY_MAX + 8];
    presented p;
    if (!parse_authorization(hdr, len, dec, sizeof dec, &p))
        return false;
    bool ok = match_any((const unsigned char (*)[DIGEST_LEN])a->keys, a->nkeys, p.user,
                        p.user_len);
    OPENSSL_cleanse(dec, sizeof dec);
    return ok;
}

bool coll_auth_check_token(const coll_auth *a, const char *hdr, size_t len)
{
    if (!a || !a->has_token)
        return false;
    unsigned char dec[2 * COLL_AUTH_KEY_MAX + 8];
    presented p;
    if (!parse_authorization(hdr, len, dec, sizeof dec, &p))
        return false;
    const unsigned char (*tok)[DIGEST_LEN] = (const unsigned char (*)[DIGEST_LEN]) & a->token;
    bool ok;
    if (p.basic)  /* a browser prompt: the token as password, or as user name */
        ok = match_any(tok, 1, p.pass, p.pass_len) | match_any(tok, 1, p.user, p.user_len);
    else
        ok = match_any(tok, 1, p.user, p.user_len);
    OPENSSL_cleanse(dec, sizeof dec);
    return ok;
}

/* ---------------------------------------------------------------- loopback */

bool coll_auth_sockaddr_is_loopback(const struct sockaddr *sa, socklen_t len)
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127;
    }
    return false;
}

bool coll_auth_host_is_loopback(const char *host)
{
    if (!host)
        return false;
    if (!strcasecmp(host, "localhost"))
        return true;
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
        return coll_auth_sockaddr_is_loopback((struct sockaddr *)&s4, sizeof s4);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1)
        return coll_auth_sockaddr_is_loopback((struct sockaddr *)&s6, sizeof s6);
    return false;
}
