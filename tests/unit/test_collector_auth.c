/* Unit tests of collector/auth.c: write keys, the admin token, the keys file, loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "collector/auth.h"
#include "test.h"

/* "Basic " + base64(s) */
static const char *basic(const char *s, char *out, size_t cap)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = (size_t)snprintf(out, cap, "Basic ");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)s[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static bool write_ok(const coll_auth *a, const char *h)
{
    return coll_auth_check_write(a, h, h ? strlen(h) : 0);
}

static bool token_ok(const coll_auth *a, const char *h)
{
    return coll_auth_check_token(a, h, h ? strlen(h) : 0);
}

static void test_open_without_keys(void)
{
    coll_auth *a = coll_auth_create();
    CHECK(a);
    CHECK(write_ok(a, NULL));
    CHECK(write_ok(a, "Bearer whatever"));
    CHECK(write_ok(NULL, NULL));
    CHECK(!token_ok(a, "Bearer whatever-long-enough"));  /* no token: never accepted */
    CHECK(!coll_auth_has_token(a));
    coll_auth_destroy(a);
    coll_auth_destroy(NULL);
}

static void test_write_keys(void)
{
    coll_auth *a = coll_auth_create();
    sl_err err = {0};
    char b[256];
    CHECK(coll_auth_add_key(a, "key-one-123", 11, &err) == 0);
    CHECK(coll_auth_add_key(a, "KEY_two_456", 11, &err) == 0);
    CHECK_EQ_U64(coll_auth_nkeys(a), 2);
    CHECK(write_ok(a, "Bearer key-one-123"));
    CHECK(write_ok(a, "bearer   KEY_two_456  "));
    CHECK(write_ok(a, basic("key-one-123:", b, sizeof b)));
    CHECK(write_ok(a, basic("KEY_two_456:ignored-password", b, sizeof b)));
    CHECK(write_ok(a, basic("key-one-123", b, sizeof b)));  /* no colon at all */
    CHECK(!write_ok(a, NULL));
    CHECK(!write_ok(a, ""));
    CHECK(!write_ok(a, "Bearer"));
    CHECK(!write_ok(a, "Bearer key-one-12"));
    CHECK(!write_ok(a, "Bearer key-one-1234"));
    CHECK(!write_ok(a, "Bearer KEY-ONE-123"));
    CHECK(!write_ok(a, "key-one-123"));
    CHECK(!write_ok(a, "Token key-one-123"));
    CHECK(!write_ok(a, basic(":key-one-123", b, sizeof b)));  /* password is not the key */
    CHECK(!write_ok(a, "Basic !!!notbase64"));
    coll_auth_destroy(a);
}

static void test_bad_keys(void)
{
    coll_auth *a = coll_auth_create();
    sl_err err = {0};
    CHECK(coll_auth_add_key(a, "short", 5, &err) == -EINVAL);
    CHECK(strstr(err.msg, "short") == NULL);  /* the message never quotes the secret */
    CHECK(coll_auth_add_key(a, "has space in", 12, &err) == -EINVAL);
    CHECK(coll_auth_add_key(a, "has:colon1", 10, &err) == -EINVAL);
    CHECK(coll_auth_add_key(a, "tab\there123", 11, &err) == -EINVAL);
    char big[COLL_AUTH_KEY_MAX + 2];
    memset(big, 'k', sizeof big);
    CHECK(coll_auth_add_key(a, big, sizeof big, &err) == -EINVAL);
    CHECK(coll_auth_add_key(a, big, COLL_AUTH_KEY_MAX, &err) == 0);
    CHECK(coll_auth_set_token(a, "too-short", &err) == -EINVAL);
    CHECK_EQ_U64(coll_auth_nkeys(a), 1);
    coll_auth_destroy(a);
}

static void test_token(void)
{
    coll_auth *a = coll_auth_create();
    sl_err err = {0};
    char b[256];
    CHECK(coll_auth_set_token(a, "admin-token-0123456789", &err) == 0);
    CHECK(coll_auth_has_token(a));
    CHECK(token_ok(a, "Bearer admin-token-0123456789"));
    CHECK(token_ok(a, basic("anyone:admin-token-0123456789", b, sizeof b)));
    CHECK(token_ok(a, basic("admin-token-0123456789:", b, sizeof b)));
    CHECK(!token_ok(a, "Bearer admin-token-012345678"));
    CHECK(!token_ok(a, basic("anyone:admin-token-01234567890", b, sizeof b)));
    CHECK(!token_ok(a, NULL));
    /* the token is not a write key */
    CHECK(write_ok(a, NULL));
    coll_auth_destroy(a);
}

static void test_keys_file(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/keys", dir);
    FILE *f = fopen(path, "w");
    fputs("# comment\n\n  first-key-1  \r\nsecond-key-2\n\t# indented comment\n", f);
    fclose(f);
    coll_auth *a = coll_auth_create();
    sl_err err = {0};
    CHECK(coll_auth_load_file(a, path, &err) == 0);
    CHECK_EQ_U64(coll_auth_nkeys(a), 2);
    CHECK(write_ok(a, "Bearer first-key-1"));
    CHECK(write_ok(a, "Bearer second-key-2"));
    coll_auth_destroy(a);

    f = fopen(path, "w");
    fputs("good-key-1\nbad key here\n", f);
    fclose(f);
    a = coll_auth_create();
    CHECK(coll_auth_load_file(a, path, &err) == -EINVAL);
    char want[600];
    snprintf(want, sizeof want, "%s:2: ", path);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);
    CHECK(strstr(err.msg, "bad key") == NULL);
    coll_auth_destroy(a);

    f = fopen(path, "w");
    fputs("# nothing\n", f);
    fclose(f);
    a = coll_auth_create();
    CHECK(coll_auth_load_file(a, path, &err) == -EINVAL);
    CHECK(strstr(err.msg, "no write key") != NULL);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(coll_auth_load_file(a, path, &err) == -ENOENT);
    coll_auth_destroy(a);
}

/* many keys (sorted lookup): from a file and from the command line, in any order */
static void test_many_keys(void)
{
    const char *dir = test_tmpdir();
    char path[512], key[64], h[96];
    snprintf(path, sizeof path, "%s/many", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 2000; i += 2)
        fprintf(f, "many-key-%05d\n", i);
    fclose(f);
    coll_auth *a = coll_auth_create();
    sl_err err = {0};
    for (int i = 1; i < 2000; i += 2) {  /* odd ones one by one, before the file */
        snprintf(key, sizeof key, "many-key-%05d", i);
        if (i < 1000)
            CHECK(coll_auth_add_key(a, key, strlen(key), &err) == 0);
    }
    CHECK(coll_auth_load_file(a, path, &err) == 0);
    for (int i = 1001; i < 2000; i += 2) {  /* the rest after it */
        snprintf(key, sizeof key, "many-key-%05d", i);
        CHECK(coll_auth_add_key(a, key, strlen(key), &err) == 0);
    }
    CHECK_EQ_U64(coll_auth_nkeys(a), 2000);
    int accepted = 0, wrong = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(h, sizeof h, "Bearer many-key-%05d", i);
        accepted += write_ok(a, h);
        snprintf(h, sizeof h, "Bearer many-key-%05dx", i);
        wrong += write_ok(a, h);
    }
    CHECK_EQ_U64(accepted, 2000);
    CHECK_EQ_U64(wrong, 0);
    CHECK(!write_ok(a, "Bearer many-key-02000"));
    coll_auth_destroy(a);
}

static void test_loopback(void)
{
    CHECK(coll_auth_host_is_loopback("127.0.0.1"));
    CHECK(coll_auth_host_is_loopback("127.1.2.3"));
    CHECK(coll_auth_host_is_loopback("::1"));
    CHECK(coll_auth_host_is_loopback("::ffff:127.0.0.1"));
    CHECK(coll_auth_host_is_loopback("localhost"));
    CHECK(!coll_auth_host_is_loopback("0.0.0.0"));
    CHECK(!coll_auth_host_is_loopback("::"));
    CHECK(!coll_auth_host_is_loopback("10.0.0.1"));
    CHECK(!coll_auth_host_is_loopback("example.com"));
    CHECK(!coll_auth_host_is_loopback("128.0.0.1"));
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
    CHECK(coll_auth_sockaddr_is_loopback((struct sockaddr *)&s4, sizeof s4));
    inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
    CHECK(!coll_auth_sockaddr_is_loopback((struct sockaddr *)&s4, sizeof s4));
}

int main(void)
{
    RUN(test_open_without_keys);
    RUN(test_write_keys);
    RUN(test_bad_keys);
    RUN(test_token);
    RUN(test_keys_file);
    RUN(test_many_keys);
    RUN(test_loopback);
    return test_summary();
}
