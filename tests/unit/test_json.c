/* Unit tests for src/common/json.c: a data-driven table of accepted and refused inputs,
 * then the iterator, string decoding/escaping and number conversion. */
#include "test.h"

#include "common/json.h"

struct vcase {
    const char *in;
    int         ok;       /* 1 accepted, 0 refused */
    json_type   type;     /* when accepted */
    const char *what;     /* substring of the error when refused */
};

static const struct vcase cases[] = {
    {"{}", 1, JSON_OBJECT, NULL},
    {"  {\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"e\"}}  ", 1, JSON_OBJECT, NULL},
    {"[1, -0, 0.5, -1.5e10, 2E-3, 1e+2]", 1, JSON_ARRAY, NULL},
    {"\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \\n\\t\\\\\\\"\\/\"", 1, JSON_STRING, NULL},
    {"123", 1, JSON_NUMBER, NULL},
    {"{\"a\":1,\"a\":2}", 1, JSON_OBJECT, NULL},               /* duplicate keys: grammar ok */
    {"", 0, 0, "value expected"},
    {"{", 0, 0, "unterminated object"},
    {"{\"a\" 1}", 0, 0, "':' expected"},
    {"{\"a\":1,}", 0, 0, "object key must be a string"},
    {"[1,]", 0, 0, "value expected"},
    {"[1 2]", 0, 0, "',' or ']' expected"},
    {"{a:1}", 0, 0, "object key must be a string"},
    {"01", 0, 0, "unexpected data"},
    {"1.", 0, 0, "digit expected after '.'"},
    {"1e", 0, 0, "digit expected in exponent"},
    {"-", 0, 0, "invalid number"},
    {"+1", 0, 0, "value expected"},
    {"tru", 0, 0, "invalid literal"},
    {"\"abc", 0, 0, "unterminated string"},
    {"\"a\x01\"", 0, 0, "control character"},
    {"\"\\x\"", 0, 0, "invalid escape"},
    {"\"\\u12g4\"", 0, 0, "invalid \\u escape"},
    {"\"\\ud83d\"", 0, 0, "high surrogate"},
    {"\"\\ude00\"", 0, 0, "lone low surrogate"},
    {"\"\xc3\x28\"", 0, 0, "invalid UTF-8"},
    {"\"\xc0\xaf\"", 0, 0, "invalid UTF-8"},                   /* overlong '/' */
    {"\"\xed\xa0\x80\"", 0, 0, "invalid UTF-8"},               /* encoded surrogate */
    {"\"\xf4\x90\x80\x80\"", 0, 0, "invalid UTF-8"},           /* above U+10FFFF */
    {"{\"a\":1} x", 0, 0, "unexpected data after"},
    {"NaN", 0, 0, "value expected"},
};

static void test_validate_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct vcase *c = &cases[i];
        json_type t = JSON_NONE;
        json_error e = {0, NULL};
        int rc = json_validate_whole(c->in, strlen(c->in), 0, &t, &e);
        if (c->ok) {
            if (rc != 0)
                fprintf(stderr, "  case %zu refused: %s at %zu\n", i, e.what, e.pos);
            CHECK(rc == 0);
            CHECK(t == c->type);
        } else {
            if (rc == 0)
                fprintf(stderr, "  case %zu accepted: %s\n", i, c->in);
            CHECK(rc == -1);
            if (rc == -1 && !strstr(e.what, c->what))
                fprintf(stderr, "  case %zu: '%s' does not contain '%s'\n", i, e.what, c->what);
            CHECK(rc == -1 && strstr(e.what, c->what) != NULL);
        }
    }
}

static void test_nul_byte_and_position(void)
{
    const char in[] = "{\"a\":\"x\0y\"}";
    json_error e = {0, NULL};
    CHECK(json_validate_whole(in, sizeof in - 1, 0, NULL, &e) == -1);
    CHECK_EQ_U64(e.pos, 7);
    CHECK(strstr(e.what, "NUL") != NULL);
}

static void test_depth_limit(void)
{
    char deep[2001];
    for (int i = 0; i < 1000; i++) {
        deep[i] = '[';
        deep[1000 + i] = ']';
    }
    deep[2000] = '\0';
    json_error e = {0, NULL};
    CHECK(json_validate_whole(deep, 2000, 64, NULL, &e) == -1);
    CHECK(strstr(e.what, "nesting too deep") != NULL);
    CHECK(json_validate_whole(deep + 1000 - 64, 128, 64, NULL, &e) == 0);
    CHECK(json_validate_whole(deep + 1000 - 65, 130, 64, NULL, &e) == -1);
}

static void test_validate_prefix_end(void)
{
    const char *in = " {\"a\":1}\n{\"b\":2}";
    size_t end = 0;
    json_type t;
    CHECK(json_validate(in, strlen(in), 0, &t, &end, NULL) == 0);
    CHECK_EQ_U64(end, 8);
    CHECK(json_validate(in + end, strlen(in) - end, 0, &t, &end, NULL) == 0);
}

static void test_iterate_object(void)
{
    const char *in = "{ \"event_type\" : \"purchase_sword\", \"n\":12, \"o\":{\"x\":\"}\\\"\"},"
                     " \"arr\":[1,[2],\"]\"], \"t\":true, \"z\":null, \"k\\u0041\":-1.5 }";
    CHECK(json_validate_whole(in, strlen(in), 0, NULL, NULL) == 0);
    json_iter it;
    json_member m;
    json_iter_init(&it, in, strlen(in));
    const char *want_vals[] = {"\"purchase_sword\"", "12", "{\"x\":\"}\\\"\"}", "[1,[2],\"]\"]",
                               "true", "null", "-1.5"};
    json_type want_types[] = {JSON_STRING, JSON_NUMBER, JSON_OBJECT, JSON_ARRAY,
                              JSON_TRUE, JSON_NULL, JSON_NUMBER};
    size_t n = 0;
    while (json_iter_next(&it, &m)) {
        if (n < 7) {
            CHECK(m.type == want_types[n]);
            CHECK(m.value.len == strlen(want_vals[n]) &&
                  !memcmp(m.value.p, want_vals[n], m.value.len));
        }
        n++;
    }
    CHECK_EQ_U64(n, 7);
    json_iter_init(&it, in, strlen(in));
    CHECK(json_iter_next(&it, &m));
    CHECK(json_str_eq(m.key, "event_type", 10));
    CHECK(!json_str_eq(m.key, "event_typ", 9));
    /* The escaped key "k\u0041" equals "kA". */
    json_iter_init(&it, in, strlen(in));
    bool found = false;
    while (json_iter_next(&it, &m))
        if (json_str_eq(m.key, "kA", 2))
            found = true;
    CHECK(found);
}

/* json_parse_object() is json_validate_whole() and the member walk in one pass: on every
 * input of the table (and on objects built around each of them) it gives the same verdict,
 * the same error position and text, and the same members as validate-then-iterate. */
static void check_one_pass(const char *in, size_t len)
{
    json_type t1 = JSON_NONE, t2 = JSON_NONE;
    json_error e1 = {0, NULL}, e2 = {0, NULL};
    json_field f[8];
    size_t n = 0;
    int rc1 = json_validate_whole(in, len, 0, &t1, &e1);
    int rc2 = json_parse_object(in, len, 0, f, 8, &n, &t2, &e2);
    CHECK(rc1 == rc2);
    if (rc1 != rc2)
        fprintf(stderr, "  verdicts differ on: %.*s\n", (int)len, in);
    if (rc1 != 0 || rc2 != 0) {
        CHECK_EQ_U64(e1.pos, e2.pos);
        CHECK(e1.what && e2.what && !strcmp(e1.what, e2.what));
        return;
    }
    CHECK(t1 == t2);
    if (t1 != JSON_OBJECT)
        return;
    json_iter it;
    json_member m;
    json_iter_init(&it, in, len);
    size_t k = 0;
    while (json_iter_next(&it, &m)) {
        if (k < n && k < 8) {
            CHECK(m.key.p == f[k].key.p && m.key.len == f[k].key.len);
            CHECK(m.value.p == f[k].value.p && m.value.len == f[k].value.len);
            CHECK(m.type == f[k].type);
            CHECK(f[k].key_escaped == (memchr(m.key.p, '\\', m.key.len) != NULL));
            CHECK(f[k].value_escaped ==
                  (m.type == JSON_STRING && memchr(m.value.p, '\\', m.value.len) != NULL));
        }
        k++;
    }
    CHECK_EQ_U64(k, n);
}

static void test_parse_object_one_pass(void)
{
    char buf[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        check_one_pass(in, strlen(in));
        /* the same text as a member value, and after a first member */
        int k = snprintf(buf, sizeof buf, "{\"a\":%s}", in);
        check_one_pass(buf, (size_t)k);
        k = snprintf(buf, sizeof buf, " {\"x\\u0041\" : 1 , \"b\" :%s } ", in);
        check_one_pass(buf, (size_t)k);
    }
    const char nul[] = "{\"a\":\"x\0y\"}";
    check_one_pass(nul, sizeof nul - 1);

    /* More members than room: all are validated and counted, the first ones stored. */
    const char *many = "{\"a\":1,\"b\":2,\"c\":[3],\"d\":\"4\"}";
    json_field f[2];
    size_t n = 0;
    json_type t;
    CHECK(json_parse_object(many, strlen(many), 0, f, 2, &n, &t, NULL) == 0);
    CHECK_EQ_U64(n, 4);
    CHECK(f[1].key.len == 3 && !memcmp(f[1].key.p, "\"b\"", 3));
    CHECK(json_parse_object("{\"a\":1,\"b\":x}", 13, 0, f, 1, &n, &t, NULL) == -1);
    CHECK(json_parse_object("{}", 2, 0, f, 2, &n, &t, NULL) == 0 && n == 0);
}

/* The string scan reads 16 bytes at a time (SSE2), then 8 (SWAR), then bytes: every
 * special byte (quote, backslash, control character, UTF-8 lead byte) must be found at
 * every offset within and across blocks, in each of the three loops. */
static void test_string_scan_offsets(void)
{
    static const char *const specials[] = {"\\n", "\x01", "\xc3\xa9", "\xc3\x28", "\\"};
    static const int ok[] = {1, 0, 1, 0, 0};
    for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
        for (size_t off = 0; off < 48; off++) {
            char in[96];
            size_t k = 0;
            in[k++] = '"';
            for (size_t i = 0; i < off; i++)
                in[k++] = 'a' + (char)(i % 26);
            size_t sl = strlen(specials[s]);
            memcpy(in + k, specials[s], sl);
            k += sl;
            for (size_t i = 0; i < 9; i++)
                in[k++] = 'z';
            in[k++] = '"';
            json_error e = {0, NULL};
            int rc = json_validate_whole(in, k, 0, NULL, &e);
            if ((rc == 0) != ok[s])
                fprintf(stderr, "  special %zu at offset %zu: rc %d (%s)\n", s, off, rc,
                        e.what ? e.what : "");
            CHECK((rc == 0) == ok[s]);
            if (rc != 0)
                CHECK_EQ_U64(e.pos, 1 + off);
            check_one_pass(in, k);
        }
        /* an unterminated string ending at every offset */
        for (size_t len = 1; len < 20; len++) {
            char in[32] = "\"abcdefghijklmnopqrstuvwxyz";
            json_error e = {0, NULL};
            CHECK(json_validate_whole(in, len, 0, NULL, &e) == -1);
            CHECK(e.what && strstr(e.what, "unterminated string"));
        }
    }
}

static void test_iterate_array_and_empty(void)
{
    const char *in = "[ {\"a\":1}, 2 , \"x\" ]";
    json_iter it;
    json_member m;
    json_iter_init(&it, in, strlen(in));
    size_t n = 0;
    while (json_iter_next(&it, &m))
        n++;
    CHECK_EQ_U64(n, 3);
    json_iter_init(&it, "{}", 2);
    CHECK(!json_iter_next(&it, &m));
    json_iter_init(&it, " [ ] ", 5);
    CHECK(!json_iter_next(&it, &m));
}

static void test_decode_escape_roundtrip(void)
{
    const char *tok = "\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"";
    json_span s = {tok, strlen(tok)};
    char out[64];
    size_t n = json_str_decode(s, out);
    const char want[] = "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80";
    CHECK(n == sizeof want - 1 && !memcmp(out, want, n));

    const char raw[] = "tab\there \"q\" \\ \x01 caf\xc3\xa9 bad\xff!";
    size_t rl = sizeof raw - 1;
    char esc[128];
    size_t el = json_escape(raw, rl, esc);
    CHECK_EQ_U64(el, json_escaped_len(raw, rl));
    CHECK(json_validate_whole(esc, el, 0, NULL, NULL) == 0);
    char back[128];
    size_t bl = json_str_decode((json_span){esc, el}, back);
    const char want2[] = "tab\there \"q\" \\ \x01 caf\xc3\xa9 bad\xef\xbf\xbd!";
    CHECK(bl == sizeof want2 - 1 && !memcmp(back, want2, bl));
}

static void test_numbers(void)
{
    int64_t i;
    double d;
#define NUM(s) ((json_span){s, strlen(s)})
    CHECK(json_num_to_i64(NUM("42"), &i) && i == 42);
    CHECK(json_num_to_i64(NUM("-9223372036854775808"), &i) && i == INT64_MIN);
    CHECK(json_num_to_i64(NUM("9223372036854775807"), &i) && i == INT64_MAX);
    CHECK(!json_num_to_i64(NUM("9223372036854775808"), &i));
    CHECK(!json_num_to_i64(NUM("99999999999999999999999"), &i));
    CHECK(json_num_to_i64(NUM("5.0"), &i) && i == 5);
    CHECK(json_num_to_i64(NUM("1e3"), &i) && i == 1000);
    CHECK(!json_num_to_i64(NUM("5.5"), &i));
    CHECK(json_num_to_double(NUM("-1.5e2"), &d) && d == -150.0);
    CHECK(!json_num_to_double(NUM("1e400"), &d));
#undef NUM
}

int main(void)
{
    RUN(test_validate_table);
    RUN(test_nul_byte_and_position);
    RUN(test_depth_limit);
    RUN(test_validate_prefix_end);
    RUN(test_iterate_object);
    RUN(test_iterate_array_and_empty);
    RUN(test_parse_object_one_pass);
    RUN(test_string_scan_offsets);
    RUN(test_decode_escape_roundtrip);
    RUN(test_numbers);
    return test_summary();
}
