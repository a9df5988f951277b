/* Unit tests for src/loadgen/scenario.c: the scenario file format and request bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loadgen/scenario.h"
#include "test.h"

static scenario *parse_ok(const char *text)
{
    scenario *s = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = scen_parse(text, strlen(text), "t.txt", &s, &err);
    if (rc)
        fprintf(stderr, "  unexpected error: %s\n", err.msg);
    CHECK(rc == 0);
    return s;
}

/* Parses text that must fail; returns the message. */
static const char *parse_err(const char *text)
{
    static sl_err err;
    scenario *s = NULL;
    sl_err_clear(&err);
    int rc = scen_parse(text, strlen(text), "t.txt", &s, &err);
    CHECK(rc == -EINVAL);
    CHECK(s == NULL);
    scen_free(s);
    return err.msg;
}

static void test_basic_lines(void)
{
    scenario *s = parse_ok("# the game\n"
                           "\n"
                           "500 GET /purchase_a_sword Host: knight1.comcast.com\n"
                           "  10\tGET /  Host: user2.att.com | User-Agent: ApacheBench/2.3  \r\n"
                           "1 DELETE /x?a=1&b=%20\n");
    if (!s)
        return;
    CHECK_EQ_U64(s->n, 3);
    CHECK_EQ_U64(s->total, 511);
    CHECK_EQ_U64(s->v[0].count, 500);
    CHECK_STR(s->v[0].method, "GET");
    CHECK_STR(s->v[0].target, "/purchase_a_sword");
    CHECK_EQ_U64(s->v[0].nhdrs, 1);
    CHECK_STR(s->v[0].hdrs[0].name, "Host");
    CHECK_STR(s->v[0].hdrs[0].value, "knight1.comcast.com");
    CHECK_EQ_U64(s->v[0].line, 3);
    CHECK_EQ_U64(s->v[1].nhdrs, 2);
    CHECK_STR(s->v[1].hdrs[1].name, "User-Agent");
    CHECK_STR(s->v[1].hdrs[1].value, "ApacheBench/2.3");
    CHECK_EQ_U64(s->v[1].line, 4);
    CHECK_STR(s->v[2].target, "/x?a=1&b=%20");
    CHECK_EQ_U64(s->v[2].nhdrs, 0);
    CHECK(s->v[2].body == NULL);
    scen_free(s);
}

static void test_bodies(void)
{
    scenario *s = parse_ok("2 POST /events Content-Type: application/json < {\"a\":\"x|y\"}\n"
                           "3 POST /events < @payload.json\n");
    if (!s)
        return;
    CHECK_STR(s->v[0].body, "{\"a\":\"x|y\"}");
    CHECK_EQ_U64(s->v[0].body_len, 11);
    CHECK_EQ_U64(s->v[0].nhdrs, 1);
    CHECK(s->v[1].body == NULL);
    CHECK_STR(s->v[1].body_file, "payload.json");

    /* @file bodies are read relative to the given folder */
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/payload.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"event_type\":\"x\"}", f);
        fclose(f);
    }
    sl_err err;
    CHECK(scen_load_bodies(s, dir, &err) == 0);
    CHECK_STR(s->v[1].body, "{\"event_type\":\"x\"}");
    CHECK(s->v[1].body_file == NULL);
    scen_free(s);

    /* a missing body file names the scenario line */
    s = parse_ok("\n1 POST /e < @nope.json\n");
    CHECK(scen_load_bodies(s, dir, &err) == -ENOENT);
    CHECK(strstr(err.msg, "t.txt:2: ") == err.msg);
    scen_free(s);
}

static void test_errors_name_file_and_line(void)
{
    CHECK_STR(parse_err("# only a comment\n\n"), "t.txt:2: no request lines (a line is: COUNT "
                                                    "METHOD /path [Header: value | ...])");
    CHECK(strstr(parse_err("10 GET /\nx GET /\n"), "t.txt:2: count 'x' is not a whole number"));
    CHECK(strstr(parse_err("0 GET /\n"), "t.txt:1: count must be at least 1"));
    CHECK(strstr(parse_err("1000000001 GET /\n"), "t.txt:1: count is larger than"));
    CHECK(strstr(parse_err("5\n"), "t.txt:1: missing method"));
    CHECK(strstr(parse_err("5 get /\n"), "t.txt:1: method 'get' must be upper-case"));
    CHECK(strstr(parse_err("5 GET\n"), "t.txt:1: missing request path"));
    CHECK(strstr(parse_err("5 GET http://x/\n"), "t.txt:1: request path must start with '/'"));
    CHECK(strstr(parse_err("5 GET /a\x01\n"), "t.txt:1: request path has a byte 0x01"));
    CHECK(strstr(parse_err("1 GET /\n\n5 GET / Host knight\n"), "t.txt:3: header 'Host knight' has no ':'"));
    CHECK(strstr(parse_err("5 GET / Host: a || X: b\n"), "t.txt:1: empty header"));
    CHECK(strstr(parse_err("5 GET / : a\n"), "t.txt:1: header with an empty name"));
    CHECK(strstr(parse_err("5 GET / Ho(st: a\n"), "t.txt:1: header name 'Ho(st' has an invalid"));
    CHECK(strstr(parse_err("5 GET / Host: a | host: b\n"), "t.txt:1: Host is given twice"));
    CHECK(strstr(parse_err("5 GET / Connection: close\n"), "t.txt:1: header Connection is set by"));
    CHECK(strstr(parse_err("5 POST / Content-Length: 3 < abc\n"), "header Content-Length is set"));
    CHECK(strstr(parse_err("5 POST / < @\n"), "t.txt:1: '< @' needs a file name"));
    CHECK(strstr(parse_err("5 GET / X: a\rb\n"), "t.txt:1: carriage return inside the line"));
    /* the total is capped */
    CHECK(strstr(parse_err("1000000000 GET /\n"), "t.txt:1: the scenario has more than"));
}

static void test_comments_bom_and_edges(void)
{
    /* a UTF-8 byte order mark at the start of the file is skipped */
    scenario *s = parse_ok("\xEF\xBB\xBF" "5 GET /x\n");
    if (s) {
        CHECK_EQ_U64(s->v[0].count, 5);
        scen_free(s);
    }
    s = parse_ok("\xEF\xBB\xBF# c\n2 GET /y\n");
    if (s) {
        CHECK_EQ_U64(s->v[0].line, 2);
        scen_free(s);
    }
    /* a comment after a request: '#' between a blank and a blank (or the line's end) */
    s = parse_ok("500 GET /login0 Host: a # note\n"
                 "500 GET /x # note | X: y\n"
                 "1 GET /x\t#\n"
                 "1 GET / X-Color: #fff | Y: a#b | Z: c # two more\n"
                 "1 POST / X: a < {\"a\":1} # the body runs to the end of the line\n");
    if (s) {
        CHECK_EQ_U64(s->v[0].nhdrs, 1);
        CHECK_STR(s->v[0].hdrs[0].value, "a");
        CHECK_EQ_U64(s->v[1].nhdrs, 0);
        CHECK_STR(s->v[1].target, "/x");
        CHECK_EQ_U64(s->v[2].nhdrs, 0);
        CHECK_EQ_U64(s->v[3].nhdrs, 3);
        CHECK_STR(s->v[3].hdrs[0].value, "#fff");
        CHECK_STR(s->v[3].hdrs[1].value, "a#b");
        CHECK_STR(s->v[3].hdrs[2].value, "c");
        CHECK_STR(s->v[4].body, "{\"a\":1} # the body runs to the end of the line");
        scen_free(s);
    }
    /* '#' glued to a word is not a comment: that word must then make sense */
    CHECK(strstr(parse_err("5 GET /x #note\n"), "t.txt:1: header '#note' has no ':' (a comment "
                                                "after a request is ' # text'"));
    /* a '|' needs a header after it */
    CHECK(strstr(parse_err("5 GET / Host: a |\n"), "t.txt:1: '|' with no header after it"));
    CHECK(strstr(parse_err("1 GET /\n5 GET / Host: a | # c\n"), "t.txt:2: '|' with no header"));
    CHECK(strstr(parse_err("5 POST / X: a | < b\n"), "t.txt:1: '|' with no header after it"));
    /* an empty value: allowed (HTTP allows it), except for Host */
    CHECK(strstr(parse_err("5 GET / Host:\n"), "t.txt:1: Host has an empty value"));
    CHECK(strstr(parse_err("5 GET / X: a | Host:   # c\n"), "t.txt:1: Host has an empty value"));
    s = parse_ok("1 GET / X-Empty: | Y: 1\n");
    if (s) {
        CHECK_EQ_U64(s->v[0].nhdrs, 2);
        CHECK_STR(s->v[0].hdrs[0].value, "");
        sl_buf b;
        sl_buf_init(&b, 0);
        CHECK(scen_format_request(&s->v[0], "h", true, &b) == 0);
        CHECK(strstr(b.p, "\r\nX-Empty:\r\nY: 1\r\n") != NULL);
        sl_buf_free(&b);
        scen_free(s);
    }
}

static void test_nul_and_long_lines(void)
{
    const char text[] = "1 GET /\n2 GET /a\0b\n";
    scenario *s = NULL;
    sl_err err;
    CHECK(scen_parse(text, sizeof text - 1, "n.txt", &s, &err) == -EINVAL);
    CHECK(strstr(err.msg, "n.txt:2: NUL byte") != NULL);

    size_t n = LG_SCEN_MAX_LINE + 100;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big, "1 GET /", 7);
    big[n] = '\0';
    CHECK(scen_parse(big, n, "n.txt", &s, &err) == -EINVAL);
    CHECK(strstr(err.msg, "n.txt:1: line is longer than") != NULL);
    free(big);
}

static void test_format_request(void)
{
    scenario *s = parse_ok("1 GET /p?q=1 Host: knight1.comcast.com\n"
                           "1 GET / X-Trace: 7\n"
                           "1 POST /events Content-Type: application/json < {\"a\":1}\n"
                           "1 POST /empty\n");
    if (!s)
        return;
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(scen_format_request(&s->v[0], "127.0.0.1:5000", true, &b) == 0);
    CHECK_STR(b.p, "GET /p?q=1 HTTP/1.1\r\nHost: knight1.comcast.com\r\n"
                   "User-Agent: sluice-bench/0.1.0\r\nAccept: */*\r\n\r\n");
    sl_buf_reset(&b);
    CHECK(scen_format_request(&s->v[1], "127.0.0.1:5000", false, &b) == 0);
    CHECK_STR(b.p, "GET / HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nUser-Agent: sluice-bench/0.1.0\r\n"
                   "Accept: */*\r\nX-Trace: 7\r\nConnection: close\r\n\r\n");
    sl_buf_reset(&b);
    CHECK(scen_format_request(&s->v[2], "h", true, &b) == 0);
    CHECK_STR(b.p, "POST /events HTTP/1.1\r\nHost: h\r\nUser-Agent: sluice-bench/0.1.0\r\n"
                   "Accept: */*\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
                   "{\"a\":1}");
    sl_buf_reset(&b);
    CHECK(scen_format_request(&s->v[3], "h", true, &b) == 0);
    CHECK(strstr(b.p, "\r\nContent-Length: 0\r\n\r\n") != NULL);
    sl_buf_free(&b);
    scen_free(s);
}

static void test_shipped_scenarios(void)
{
    /* the scenario files in bench/ parse and hold the seeds' numbers */
    scenario *s = NULL;
    sl_err err;
    int rc = scen_read_file("bench/scenarios/game.txt", &s, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    if (s) {
        CHECK_EQ_U64(s->n, 11);
        CHECK_EQ_U64(s->total, 1752);
        uint64_t not_routes = 0;
        for (size_t i = 0; i < s->n; i++)
            if (!strcmp(s->v[i].target, "/buy_a_sword") || !strcmp(s->v[i].target, "/join_guild"))
                not_routes += s->v[i].count;
        CHECK_EQ_U64(not_routes, 20);
        CHECK_STR(s->v[5].hdrs[0].value, "commanding_officer.comcast.com");
        /* every line sends what ab sent: its Host, ab's User-Agent, Accept: * / * */
        sl_buf b;
        sl_buf_init(&b, 0);
        for (size_t i = 0; i < s->n; i++) {
            sl_buf_reset(&b);
            CHECK(scen_format_request(&s->v[i], "127.0.0.1:5000", true, &b) == 0);
            CHECK(strstr(b.p, "\r\nUser-Agent: ApacheBench/2.3\r\n") != NULL);
            CHECK(strstr(b.p, "\r\nAccept: */*\r\n") != NULL);
            CHECK(strstr(b.p, "sluice-bench") == NULL);
        }
        sl_buf_free(&b);
        scen_free(s);
    }
    s = NULL;
    rc = scen_read_file("bench/scenarios/restaurant.txt", &s, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    if (s) {
        CHECK_EQ_U64(s->total, 42452);
        uint64_t login = 0, max_other = 0, star3 = 0, star5 = 0;
        for (size_t i = 0; i < s->n; i++) {
            const scen_entry *e = &s->v[i];
            if (!strcmp(e->target, "/login0"))
                login += e->count;
            else if (e->count > max_other)
                max_other = e->count;
            if (!strcmp(e->target, "/review?stars=3"))
                star3 = e->count;
            if (!strcmp(e->target, "/review?stars=5"))
                star5 = e->count;
        }
        CHECK(login > max_other);
        CHECK(star3 > star5 && star5 > 0);
        scen_free(s);
    }
}

int main(void)
{
    RUN(test_basic_lines);
    RUN(test_bodies);
    RUN(test_errors_name_file_and_line);
    RUN(test_comments_bom_and_edges);
    RUN(test_nul_and_long_lines);
    RUN(test_format_request);
    RUN(test_shipped_scenarios);
    return test_summary();
}
