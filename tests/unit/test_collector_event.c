/* Unit tests of the collector's pure parts: event ids, timestamps, query decoding, the
 * event builder's precedence rules and POST /events body ingestion. */
#include <errno.h>
#include <stdbool.h>

#include "collector/event.h"
#include "collector/ingest.h"
#include "common/json.h"
#include "spec/gen.h"
#include "test.h"

/* The decoded string value of top-level member name of a JSON object, into out. */
static bool member(const char *obj, size_t len, const char *name, char *out, size_t cap)
{
    json_iter it;
    json_member m;
    json_iter_init(&it, obj, len);
    while (json_iter_next(&it, &m)) {
        if (!json_str_eq(m.key, name, strlen(name)))
            continue;
        if (m.type == JSON_STRING) {
            if (m.value.len - 2 >= cap)
                return false;
            size_t n = json_str_decode(m.value, out);
            out[n] = '\0';
        } else {
            if (m.value.len >= cap)
                return false;
            memcpy(out, m.value.p, m.value.len);
            out[m.value.len] = '\0';
        }
        return true;
    }
    return false;
}

static size_t count_members(const char *obj, size_t len)
{
    json_iter it;
    json_member m;
    size_t n = 0;
    json_iter_init(&it, obj, len);
    while (json_iter_next(&it, &m))
        n++;
    return n;
}

static void test_event_type_valid(void)
{
    CHECK(coll_event_type_valid("purchase_sword", 14));
    CHECK(coll_event_type_valid("a", 1));
    CHECK(coll_event_type_valid("a0_9", 4));
    CHECK(!coll_event_type_valid("", 0));
    CHECK(!coll_event_type_valid("Purchase", 8));
    CHECK(!coll_event_type_valid("9lives", 6));
    CHECK(!coll_event_type_valid("a-b", 3));
    CHECK(!coll_event_type_valid("a b", 3));
    char long_name[66];
    memset(long_name, 'a', sizeof long_name);
    CHECK(coll_event_type_valid(long_name, 64));
    CHECK(!coll_event_type_valid(long_name, 65));
}

static void test_event_id_format_and_unique(void)
{
    enum { N = 20000 };
    static char ids[N][COLL_EVENT_ID_LEN + 1];
    int64_t now = 1795000000123;
    for (int i = 0; i < N; i++) {
        coll_event_id(now, ids[i]);
        ids[i][COLL_EVENT_ID_LEN] = '\0';
    }
    /* UUIDv7 layout */
    CHECK(ids[0][8] == '-' && ids[0][13] == '-' && ids[0][18] == '-' && ids[0][23] == '-');
    CHECK(ids[0][14] == '7');
    CHECK(strchr("89ab", ids[0][19]) != NULL);
    /* the first 12 hex digits are the millisecond time */
    char ms_hex[13];
    snprintf(ms_hex, sizeof ms_hex, "%012llx", (unsigned long long)now);
    char got[13];
    memcpy(got, ids[0], 8);
    memcpy(got + 8, ids[0] + 9, 4);
    got[12] = '\0';
    CHECK_STR(got, ms_hex);
    /* all different (same millisecond: only the random bits differ) */
    int dups = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < i + 50 && j < N; j++)
            dups += !strcmp(ids[i], ids[j]);
    CHECK_EQ_U64(dups, 0);
    qsort(ids, N, sizeof ids[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        dups += !strcmp(ids[i - 1], ids[i]);
    CHECK_EQ_U64(dups, 0);
}

static void test_received_at(void)
{
    char at[COLL_RECEIVED_AT_LEN + 1];
    coll_received_at(0, at);
    at[COLL_RECEIVED_AT_LEN] = '\0';
    CHECK_STR(at, "1970-01-01T00:00:00.000Z");
    coll_received_at(1795255200123LL, at);  /* 2026-11-21T10:00:00.123Z */
    CHECK_STR(at, "2026-11-21T10:00:00.123Z");
    coll_received_at(1795255200999LL, at);  /* same cached second */
    CHECK_STR(at, "2026-11-21T10:00:00.999Z");
    coll_received_at(1795255201005LL, at);
    CHECK_STR(at, "2026-11-21T10:00:01.005Z");
}

static void test_query_decode(void)
{
    sl_buf scratch;
    sl_buf_init(&scratch, 4096);
    spec_kv kv[8];
    const char *q = "menu=Thai&x=a%20b+c&&=skip&flag&bad=%zz%4&utf=%C3%A9";
    int n = coll_query_decode(q, strlen(q), &scratch, (struct spec_kv *)kv, 8);
    CHECK_EQ_U64(n, 5);
    if (n == 5) {
        CHECK(kv[0].key_len == 4 && !memcmp(kv[0].key, "menu", 4));
        CHECK(kv[0].val_len == 4 && !memcmp(kv[0].val, "Thai", 4));
        CHECK(kv[1].val_len == 5 && !memcmp(kv[1].val, "a b c", 5));
        CHECK(kv[2].key_len == 4 && !memcmp(kv[2].key, "flag", 4) && kv[2].val_len == 0);
        CHECK(kv[3].val_len == 5 && !memcmp(kv[3].val, "%zz%4", 5));
        CHECK(kv[4].val_len == 2 && !memcmp(kv[4].val, "\xc3\xa9", 2));
    }
    CHECK_EQ_U64(coll_query_decode("a=1&b=2&c=3", 11, &scratch, (struct spec_kv *)kv, 2), (uint64_t)(int64_t)-E2BIG);
    sl_buf_free(&scratch);
}

/* spec fields and the envelope win over headers, headers win over query parameters */
static void test_builder_precedence(void)
{
    sl_buf out;
    sl_buf_init(&out, 1 << 16);
    coll_ev ev;
    coll_ev_begin(&ev, &out);
    CHECK(coll_ev_add_envelope(&ev, "purchase_sword", 14, 1795255200123LL) == 0);
    CHECK(coll_ev_comma(&ev) == 0);
    CHECK(sl_buf_adds(&out, "\"strength\":7") == 0);
    CHECK(coll_ev_mark(&ev, "strength", 8) == 0);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "Host", 4, "knight1.comcast.com", 19), 1);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "event_type", 10, "spoofed", 7), 0);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "strength", 8, "99", 2), 0);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "Host", 4, "query-host", 10), 0);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "host", 4, "lower", 5), 1);  /* names are exact */
    CHECK_EQ_U64(coll_ev_add_str(&ev, "q\"x", 3, "ctl\x01\n", 5), 1);
    /* names that are not UTF-8 would collide once escaped: dropped */
    CHECK_EQ_U64(coll_ev_add_str(&ev, "\xff", 1, "v", 1), 0);
    CHECK_EQ_U64(coll_ev_add_str(&ev, "\xfe", 1, "v", 1), 0);
    CHECK(coll_ev_end(&ev) == 0);

    json_type type;
    json_error je;
    CHECK(json_validate_whole(out.p, out.len, 8, &type, &je) == 0 && type == JSON_OBJECT);
    char v[128];
    CHECK(member(out.p, out.len, "event_type", v, sizeof v) && !strcmp(v, "purchase_sword"));
    CHECK(member(out.p, out.len, "received_at", v, sizeof v) &&
          !strcmp(v, "2026-11-21T10:00:00.123Z"));
    CHECK(member(out.p, out.len, "event_id", v, sizeof v) && strlen(v) == 36);
    CHECK(member(out.p, out.len, "strength", v, sizeof v) && !strcmp(v, "7"));
    CHECK(member(out.p, out.len, "Host", v, sizeof v) && !strcmp(v, "knight1.comcast.com"));
    CHECK(member(out.p, out.len, "host", v, sizeof v) && !strcmp(v, "lower"));
    CHECK(member(out.p, out.len, "q\"x", v, sizeof v) && !strcmp(v, "ctl\x01\n"));
    CHECK_EQ_U64(count_members(out.p, out.len), 7);
    sl_buf_free(&out);
}

static void test_builder_cap(void)
{
    sl_buf out;
    sl_buf_init(&out, 64);
    coll_ev ev;
    coll_ev_begin(&ev, &out);
    int rc = coll_ev_add_envelope(&ev, "a", 1, 0);
    if (rc == 0)
        rc = coll_ev_end(&ev);
    CHECK(rc == -E2BIG);
    coll_ev_abort(&ev);
    CHECK_EQ_U64(out.len, 0);
    sl_buf_free(&out);
}

typedef struct ingest_fixture {
    sl_buf out, scratch;
    size_t ends[16];
    coll_ingest_limits lim;
    coll_ingest_error e;
} ingest_fixture;

static long ingest(ingest_fixture *f, const char *body, bool ndjson)
{
    sl_buf_init(&f->out, 1 << 20);
    sl_buf_init(&f->scratch, 1 << 20);
    coll_ingest_limits_init(&f->lim);
    f->lim.max_events = 16;
    f->lim.max_depth = 4;
    f->lim.max_event_bytes = 2048;
    coll_header h[] = {{"User-Agent", 10, "curl/8", 6}, {"Host", 4, "h", 1}};
    memset(&f->e, 0, sizeof f->e);
    return coll_ingest_body(body, strlen(body), ndjson, &f->lim, h, 2, 1795255200123LL, &f->out,
                            &f->scratch, f->ends, &f->e);
}

static void ingest_done(ingest_fixture *f)
{
    sl_buf_free(&f->out);
    sl_buf_free(&f->scratch);
}

static void test_ingest_forms(void)
{
    ingest_fixture f;
    char v[128];
    /* one object */
    CHECK_EQ_U64(ingest(&f, " {\"event_type\":\"signup\",\"plan\":\"pro\",\"n\":[1,{\"a\":2}]}\n", false), 1);
    CHECK_EQ_U64(f.ends[0], f.out.len);
    CHECK(member(f.out.p, f.out.len, "event_type", v, sizeof v) && !strcmp(v, "signup"));
    CHECK(member(f.out.p, f.out.len, "plan", v, sizeof v) && !strcmp(v, "pro"));
    CHECK(member(f.out.p, f.out.len, "n", v, sizeof v) && !strcmp(v, "[1,{\"a\":2}]"));
    CHECK(member(f.out.p, f.out.len, "User-Agent", v, sizeof v) && !strcmp(v, "curl/8"));
    CHECK(member(f.out.p, f.out.len, "received_at", v, sizeof v));
    ingest_done(&f);

    /* array: three events, contiguous; client event_id kept aside, client header wins */
    CHECK_EQ_U64(ingest(&f, "[{\"event_type\":\"a\"},{\"event_type\":\"b\",\"event_id\":\"mine\"},"
                            " {\"event_type\":\"c\",\"Host\":\"client\"}]", false), 3);
    size_t s1 = f.ends[0], s2 = f.ends[1];
    CHECK(member(f.out.p, s1, "event_type", v, sizeof v) && !strcmp(v, "a"));
    CHECK(member(f.out.p + s1, s2 - s1, "client_event_id", v, sizeof v) && !strcmp(v, "mine"));
    CHECK(member(f.out.p + s1, s2 - s1, "event_id", v, sizeof v) && strlen(v) == 36);
    CHECK(member(f.out.p + s2, f.ends[2] - s2, "Host", v, sizeof v) && !strcmp(v, "client"));
    ingest_done(&f);

    /* NDJSON, detected without the content type, blank lines ignored */
    CHECK_EQ_U64(ingest(&f, "{\"event_type\":\"a\"}\n\n{\"event_type\":\"b\"}\r\n{\"event_type\":\"c\"}", false), 3);
    CHECK(member(f.out.p + f.ends[1], f.ends[2] - f.ends[1], "event_type", v, sizeof v) &&
          !strcmp(v, "c"));
    ingest_done(&f);
    /* NDJSON announced: a line starting with '[' is an error, not an array */
    CHECK(ingest(&f, "[{\"event_type\":\"a\"}]\n", true) < 0);
    CHECK_EQ_U64(f.e.index, 0);
    ingest_done(&f);
}

static void expect_error(const char *body, bool ndjson, int status, long long index, const char *what)
{
    ingest_fixture f;
    long n = ingest(&f, body, ndjson);
    CHECK(n == -1);
    if (n == -1) {
        if (f.e.status != status || f.e.index != index || (what && !strstr(f.e.what, what)))
            fprintf(stderr, "  body %s: got %d index %lld '%s'\n", body, f.e.status, f.e.index,
                    f.e.what);
        CHECK_EQ_U64(f.e.status, status);
        CHECK_EQ_U64(f.e.index, index);
        if (what)
            CHECK(strstr(f.e.what, what) != NULL);
    }
    CHECK_EQ_U64(f.out.len, 0);  /* nothing kept: all or nothing */
    ingest_done(&f);
}

static void test_ingest_errors(void)
{
    expect_error("", false, 400, -1, "empty");
    expect_error("   \n", false, 400, -1, "empty");
    expect_error("[]", false, 400, -1, "empty array");
    expect_error("{\"plan\":1}", false, 400, 0, "missing event_type");
    expect_error("{\"event_type\":5}", false, 400, 0, "string");
    expect_error("{\"event_type\":\"Bad-Type\"}", false, 400, 0, "invalid event_type");
    expect_error("{\"event_type\":\"a\",\"event_type\":\"b\"}", false, 400, 0, "duplicate");
    expect_error("{\"event_type\":\"a\",\"x\":1,\"x\":2}", false, 400, 0, "duplicate");
    expect_error("[{\"event_type\":\"a\"},{\"event_type\":\"b\"},7]", false, 400, 2, "not a JSON object");
    expect_error("[{\"event_type\":\"a\"},{\"event_type\":\"b\"", false, 400, 1, NULL);
    expect_error("[{\"event_type\":\"a\"} {\"event_type\":\"b\"}]", false, 400, -1, "expected ','");
    /* between elements: no index (element 2 does not exist), the byte position instead */
    expect_error("[{\"event_type\":\"a\"},{\"event_type\":\"b\"}", false, 400, -1,
                 "unterminated array");
    ingest_fixture f;
    CHECK(ingest(&f, "[{\"event_type\":\"a\"} x", false) == -1 && f.e.pos == 20);
    ingest_done(&f);
    expect_error("[{\"event_type\":\"a\"}] x", false, 400, -1, "after the array");
    expect_error("{\"event_type\":\"a\"}\n{\"event_type\":\"b\"", false, 400, 1, NULL);
    expect_error("{\"event_type\":\"a\"} {\"event_type\":\"b\"}", false, 400, 0, "newline");
    expect_error("{\"event_type\":\"a\",\"d\":[[[[[1]]]]]}", false, 400, 0, NULL);  /* depth */
    expect_error("{\"event_type\":\"a\",\"s\":\"\xff\"}", false, 400, 0, NULL);       /* UTF-8 */
    /* 17 events > max_events 16 */
    char many[17 * 20 + 4] = "[";
    for (int i = 0; i < 17; i++)
        strcat(many, i ? ",{\"event_type\":\"a\"}" : "{\"event_type\":\"a\"}");
    strcat(many, "]");
    expect_error(many, false, 413, 16, "too many events");
    /* one event above max_event_bytes (2048) */
    char big[3000];
    snprintf(big, sizeof big, "{\"event_type\":\"a\",\"pad\":\"%02600d\"}", 0);
    expect_error(big, false, 413, 0, "too large");
}

int main(void)
{
    RUN(test_event_type_valid);
    RUN(test_event_id_format_and_unique);
    RUN(test_received_at);
    RUN(test_query_decode);
    RUN(test_builder_precedence);
    RUN(test_builder_cap);
    RUN(test_ingest_forms);
    RUN(test_ingest_errors);
    return test_summary();
}
