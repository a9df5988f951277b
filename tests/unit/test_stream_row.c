/* Unit tests of src/stream/row.c: event parsing, column lookup, typing, inference, time. */
#include <errno.h>
#include <stdlib.h>

#include "stream/row.h"
#include "test.h"

static stream_event *ev;

static void mk_schema(stream_schema *s, bool infer)
{
    memset(s, 0, sizeof *s);
    s->name = strdup("t");
    s->infer = infer;
    sl_err err = {0};
    stream_schema_add(s, "event_id", NULL, SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "received_at", NULL, SPEC_COL_TIMESTAMP, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "user_agent", NULL, SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "strength", NULL, SPEC_COL_BIGINT, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "price", NULL, SPEC_COL_DOUBLE, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "vip", NULL, SPEC_COL_BOOLEAN, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "guild", "Guild Name", SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(s, "raw_event", NULL, SPEC_COL_VARCHAR, STREAM_COL_RAW, &err);
}

static int parse(const char *json)
{
    sl_err err = {0};
    return stream_event_parse(ev, json, strlen(json), 42000000, &err);
}

static void test_parse_envelope(void)
{
    CHECK(parse("{\"event_type\":\"purchase_sword\",\"received_at\":\"2026-11-21T10:00:00.123Z\"}") == 0);
    CHECK_STR(ev->event_type, "purchase_sword");
    CHECK(ev->has_received);
    CHECK(ev->received_us == 1795255200123000LL);
    /* No received_at: the fallback (record timestamp) is used. */
    CHECK(parse("{\"event_type\":\"x\"}") == 0);
    CHECK(!ev->has_received);
    CHECK(ev->received_us == 42000000);

    sl_err err = {0};
    const char *bad[][2] = {
        {"{\"event_type\":\"x\"", "malformed JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"a\":1}", "missing event_type"},
        {"{\"event_type\":\"Bad-Type\"}", "invalid event_type"},
        {"{\"event_type\":\"../../etc\"}", "invalid event_type"},
        {"{\"event_type\":7}", "event_type is not a string"},
        {"{\"event_type\":\"x\",\"received_at\":\"yesterday\"}", "not an RFC 3339"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = stream_event_parse(ev, bad[i][0], strlen(bad[i][0]), 0, &err);
        CHECK(rc == -EINVAL);
        if (!strstr(err.msg, bad[i][1]))
            fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i, err.msg, bad[i][1]);
        CHECK(strstr(err.msg, bad[i][1]) != NULL);
    }
}

static void test_convert_types(void)
{
    stream_schema s;
    mk_schema(&s, false);
    stream_arena a;
    stream_arena_init(&a, 0);
    stream_cell cells[16];
    sl_err err = {0};
    const char *json = "{\"event_type\":\"purchase_sword\",\"event_id\":\"e\\u00e91\","
                       "\"received_at\":\"2026-01-02T03:04:05+01:00\",\"User-Agent\":\"ab/2.3\","
                       "\"user_agent\":\"exact\",\"strength\":7,\"price\":\"2.5\",\"vip\":true,"
                       "\"Guild Name\":\"ni\",\"extra\":{\"a\":[1]}}";
    CHECK(parse(json) == 0);
    CHECK(stream_row_convert(&s, ev, cells, &a, &err) == 0);
    CHECK(cells[0].kind == STREAM_CELL_STR && cells[0].len == 4 &&
          !memcmp(cells[0].v.s, "e\xc3\xa9" "1", 4));
    int64_t want;
    CHECK(stream_parse_rfc3339("2026-01-02T02:04:05Z", 20, &want));
    CHECK(cells[1].kind == STREAM_CELL_TS && cells[1].v.i == want);
    /* The exact field name wins over the SQL-name match. */
    CHECK(cells[2].kind == STREAM_CELL_STR && cells[2].len == 5 && !memcmp(cells[2].v.s, "exact", 5));
    CHECK(cells[3].kind == STREAM_CELL_I64 && cells[3].v.i == 7);
    CHECK(cells[4].kind == STREAM_CELL_F64 && cells[4].v.d == 2.5);
    CHECK(cells[5].kind == STREAM_CELL_BOOL && cells[5].v.i == 1);
    CHECK(cells[6].kind == STREAM_CELL_STR && cells[6].len == 2 && !memcmp(cells[6].v.s, "ni", 2));
    CHECK(cells[7].kind == STREAM_CELL_STR && cells[7].len == strlen(json));

    /* Header names map to SQL names; missing fields and nulls are NULL. */
    CHECK(parse("{\"event_type\":\"x\",\"User-Agent\":\"curl\",\"strength\":null,\"price\":3}") == 0);
    CHECK(stream_row_convert(&s, ev, cells, &a, &err) == 0);
    CHECK(cells[0].kind == STREAM_CELL_NULL);
    CHECK(cells[2].kind == STREAM_CELL_STR && cells[2].len == 4);
    CHECK(cells[3].kind == STREAM_CELL_NULL);
    CHECK(cells[4].kind == STREAM_CELL_F64 && cells[4].v.d == 3.0);
    CHECK(cells[6].kind == STREAM_CELL_NULL);

    /* Strings holding numbers fit numeric columns; numbers fit varchar as their text. */
    CHECK(parse("{\"event_type\":\"x\",\"strength\":\"-12\",\"event_id\":17,\"vip\":\"false\"}") == 0);
    CHECK(stream_row_convert(&s, ev, cells, &a, &err) == 0);
    CHECK(cells[3].v.i == -12);
    CHECK(cells[0].kind == STREAM_CELL_STR && cells[0].len == 2 && !memcmp(cells[0].v.s, "17", 2));
    CHECK(cells[5].kind == STREAM_CELL_BOOL && cells[5].v.i == 0);

    const char *misfits[][2] = {
        {"{\"event_type\":\"x\",\"strength\":\"abc\"}", "column strength (bigint): \"abc\" is not an integer"},
        {"{\"event_type\":\"x\",\"strength\":1.5}", "not an integer"},
        {"{\"event_type\":\"x\",\"strength\":99999999999999999999}", "not an integer"},
        {"{\"event_type\":\"x\",\"price\":\"nan\"}", "not a number"},
        {"{\"event_type\":\"x\",\"price\":[1]}", "not a number"},
        {"{\"event_type\":\"x\",\"vip\":1}", "not a boolean"},
        {"{\"event_type\":\"x\",\"received_at\":\"2026-01-02T03:04:05Z\",\"Received-At\":1}", NULL},
    };
    for (size_t i = 0; i < sizeof misfits / sizeof misfits[0]; i++) {
        CHECK(parse(misfits[i][0]) == 0);
        int rc = stream_row_convert(&s, ev, cells, &a, &err);
        if (!misfits[i][1]) {
            CHECK(rc == 0);   /* exact received_at wins over the SQL-name twin */
            continue;
        }
        CHECK(rc == -EINVAL);
        if (!strstr(err.msg, misfits[i][1]))
            fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i, err.msg, misfits[i][1]);
        CHECK(strstr(err.msg, misfits[i][1]) != NULL);
    }
    stream_arena_free(&a);
    stream_schema_free(&s);
}

static void test_infer(void)
{
    stream_schema s;
    mk_schema(&s, true);
    sl_err err = {0};
    size_t before = s.ncols;
    CHECK(parse("{\"event_type\":\"x\",\"strength\":1,\"Level\":3,\"ratio\":0.5,\"ok\":false,"
                "\"note\":\"hi\",\"gone\":null,\"dt\":\"x\",\"9lives\":1,\"Guild Name\":\"g\"}") == 0);
    int added = stream_schema_infer(&s, ev, &err);
    /* event_type, level, ratio, ok, note: "gone" is null, "dt" is the partition column,
     * "9lives" is no SQL name, "Guild Name" is read by the guild column. */
    CHECK(added == 5);
    CHECK(s.ncols == before + 5);
    int li = stream_schema_find(&s, "level");
    CHECK(li >= 0 && s.cols[li].type == SPEC_COL_BIGINT && s.cols[li].role == STREAM_COL_INFERRED);
    int ri = stream_schema_find(&s, "ratio");
    CHECK(ri >= 0 && s.cols[ri].type == SPEC_COL_DOUBLE);
    int oi = stream_schema_find(&s, "ok");
    CHECK(oi >= 0 && s.cols[oi].type == SPEC_COL_BOOLEAN);
    CHECK(stream_schema_find(&s, "note") >= 0);
    CHECK(stream_schema_find(&s, "event_type") >= 0);
    CHECK(stream_schema_find(&s, "dt") < 0);
    /* A second look adds nothing. */
    CHECK(stream_schema_infer(&s, ev, &err) == 0);
    /* Not infer: nothing. */
    s.infer = false;
    CHECK(parse("{\"event_type\":\"x\",\"brand_new\":1}") == 0);
    CHECK(stream_schema_infer(&s, ev, &err) == 0);
    stream_schema_free(&s);
}

static void test_time(void)
{
    int64_t us;
    CHECK(stream_parse_rfc3339("1970-01-01T00:00:00Z", 20, &us) && us == 0);
    CHECK(stream_parse_rfc3339("1969-12-31T23:59:59.5Z", 22, &us) && us == -500000);
    CHECK(stream_parse_rfc3339("2024-02-29t12:00:00.000001-02:30", 32, &us));
    CHECK(!stream_parse_rfc3339("2023-02-29T12:00:00Z", 20, &us));
    CHECK(!stream_parse_rfc3339("2023-13-01T12:00:00Z", 20, &us));
    CHECK(!stream_parse_rfc3339("2023-01-01T12:00:00", 19, &us));
    CHECK(!stream_parse_rfc3339("2023-01-01T12:00:00Zjunk", 24, &us));
    char d[11];
    stream_format_date(stream_us_to_days(-1), d);
    CHECK_STR(d, "1969-12-31");
    CHECK(stream_parse_rfc3339("2026-11-21T23:59:59.999Z", 24, &us));
    stream_format_date(stream_us_to_days(us), d);
    CHECK_STR(d, "2026-11-21");
    stream_format_date(stream_us_to_days(us + 1000), d);
    CHECK_STR(d, "2026-11-22");
    stream_format_date(0, d);
    CHECK_STR(d, "1970-01-01");

    /* The minute cache: timestamps sharing "YYYY-MM-DDTHH:MM" with the one before give
     * the same results as parsed cold, whatever the seconds, fraction and offset; and a
     * bad tail after a good cached minute is still refused. */
    int64_t base;
    CHECK(stream_parse_rfc3339("2026-11-21T08:30:00Z", 20, &base));
    CHECK(base == 1795249800LL * 1000000);
    static const struct { const char *s; int64_t delta_us; } same[] = {
        {"2026-11-21T08:30:07Z", 7000000},
        {"2026-11-21T08:30:59.25Z", 59250000},
        {"2026-11-21T08:30:60Z", 59000000},            /* leap second, clamped */
        {"2026-11-21T08:30:01+01:00", 1000000 - 3600LL * 1000000},
        {"2026-11-21T08:30:01.000001-00:30", 1000001 + 1800LL * 1000000},
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        CHECK(stream_parse_rfc3339(same[i].s, strlen(same[i].s), &us));
        CHECK(us == base + same[i].delta_us);
    }
    static const char *bad_tail[] = {"2026-11-21T08:30:61Z", "2026-11-21T08:30-00Z",
                                     "2026-11-21T08:30:0xZ", "2026-11-21T08:30:00",
                                     "2026-11-21T08:30:00.Z", "2026-11-21T08:30:00+1:00"};
    for (size_t i = 0; i < sizeof bad_tail / sizeof *bad_tail; i++) {
        CHECK(stream_parse_rfc3339("2026-11-21T08:30:00Z", 20, &us));   /* cache it */
        CHECK(!stream_parse_rfc3339(bad_tail[i], strlen(bad_tail[i]), &us));
    }
    /* another hour or minute of the same day is not taken from the cache */
    CHECK(stream_parse_rfc3339("2026-11-21T08:30:00Z", 20, &us));
    CHECK(stream_parse_rfc3339("2026-11-21T09:30:00Z", 20, &us) && us == base + 3600LL * 1000000);
    CHECK(stream_parse_rfc3339("2026-11-21T09:31:00Z", 20, &us) && us == base + 3660LL * 1000000);
    /* a new minute after a cached one is checked in full */
    CHECK(stream_parse_rfc3339("2024-02-28T23:59:00Z", 20, &us));
    CHECK(!stream_parse_rfc3339("2023-02-29T23:59:00Z", 20, &us));
    CHECK(stream_parse_rfc3339("2024-02-29T23:59:00Z", 20, &us));
    CHECK(us - 86400LL * 1000000 == (stream_parse_rfc3339("2024-02-28T23:59:00Z", 20, &base), base));
}

/* stream_row_map + stream_row_convert_mapped (the stream's per-layout cache) give exactly
 * the cells of stream_row_convert, for events exercising every lookup rule: exact name,
 * SQL name (User-Agent), explicit field with a space, escaped keys, duplicate keys
 * (first wins), missing fields and raw_event. */
static void test_mapped_equals_lookup(void)
{
    stream_schema s;
    mk_schema(&s, false);
    stream_arena a;
    stream_arena_init(&a, 0);
    const char *events[] = {
        "{\"event_type\":\"x\",\"event_id\":\"a\",\"User-Agent\":\"ua\",\"strength\":3,"
        "\"Guild Name\":\"g\",\"vip\":false}",
        "{\"event_type\":\"x\",\"User-Agent\":\"sql\",\"user_agent\":\"exact\",\"price\":1.5}",
        "{\"event_type\":\"x\",\"User\\u002dAgent\":\"escaped\",\"strength\":\"42\"}",
        "{\"event_type\":\"x\",\"strength\":1,\"strength\":2,\"event_id\":null}",
        "{\"event_type\":\"x\"}",
    };
    for (size_t k = 0; k < sizeof events / sizeof events[0]; k++) {
        stream_cell want[16], got[16];
        int16_t map[16];
        sl_err err = {0};
        CHECK(parse(events[k]) == 0);
        CHECK(stream_row_convert(&s, ev, want, &a, &err) == 0);
        stream_row_map(&s, ev, map);
        CHECK(stream_row_convert_mapped(&s, ev, map, got, &a, &err) == 0);
        for (size_t c = 0; c < s.ncols; c++) {
            CHECK(got[c].kind == want[c].kind);
            if (got[c].kind == STREAM_CELL_STR) {
                CHECK(got[c].len == want[c].len);
                CHECK(!memcmp(got[c].v.s, want[c].v.s, got[c].len));
            } else if (got[c].kind != STREAM_CELL_NULL) {
                CHECK(got[c].v.i == want[c].v.i);
            }
        }
    }
    /* The map resolves names, not values: reused for another event with the same keys it
     * reads that event's values (here the duplicate key case: the first "strength"). */
    int16_t map[16];
    sl_err err = {0};
    stream_cell cells[16];
    CHECK(parse("{\"event_type\":\"x\",\"strength\":1,\"strength\":2}") == 0);
    stream_row_map(&s, ev, map);
    CHECK(parse("{\"event_type\":\"y\",\"strength\":5,\"strength\":6}") == 0);
    CHECK(stream_row_convert_mapped(&s, ev, map, cells, &a, &err) == 0);
    CHECK(cells[3].kind == STREAM_CELL_I64 && cells[3].v.i == 5);
    stream_arena_free(&a);
    stream_schema_free(&s);
}

static void test_event_type_names(void)
{
    CHECK(stream_event_type_valid("a", 1));
    CHECK(stream_event_type_valid("purchase_sword2", 15));
    CHECK(!stream_event_type_valid("", 0));
    CHECK(!stream_event_type_valid("_x", 2));
    CHECK(!stream_event_type_valid("a/b", 3));
    CHECK(!stream_event_type_valid("A", 1));
    /* every byte value after a valid first letter, against the rule [a-z][a-z0-9_]{0,63} */
    for (int c = 0; c < 256; c++) {
        char t[3] = {'a', (char)c, 'b'};
        bool want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        CHECK(stream_event_type_valid(t, 3) == want);
    }
    char longest[65];
    memset(longest, 'z', sizeof longest);
    CHECK(stream_event_type_valid(longest, 64));
    CHECK(!stream_event_type_valid(longest, 65));
}

int main(void)
{
    ev = malloc(sizeof *ev);
    RUN(test_parse_envelope);
    RUN(test_convert_types);
    RUN(test_infer);
    RUN(test_time);
    RUN(test_event_type_names);
    RUN(test_mapped_equals_lookup);
    free(ev);
    return test_summary();
}
