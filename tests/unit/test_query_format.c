/* test_query_format.c — printing results: every type's text is DuckDB's own CAST(x AS
 * VARCHAR) (what the DuckDB CLI shows), nested values are JSON arrays and objects in the
 * JSON format, special floats stay valid JSON, EXPLAIN prints its plan over lines, and
 * wide characters keep the table aligned. Results go through q_engine_query and q_print
 * exactly as in sluice sql, into a memory stream. */
#include "common/json.h"
#include "query/engine.h"
#include "query/format.h"
#include "test.h"

static q_engine *eng;

/* Runs sql and prints it in fmt (tables for a terminal of `width` columns, 0: none);
 * returns the malloc'd output or NULL on a query error. */
static char *run_width(const char *sql, q_format fmt, unsigned width)
{
    duckdb_result r;
    double ms;
    if (q_engine_query(eng, sql, &r, &ms)) {
        fprintf(stderr, "  %s: %s\n", sql, q_engine_error(eng));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    q_out o = {.fmt = fmt, .f = f, .max_rows = 0, .timing = false, .width = width};
    int rc = q_print(&o, &r, 0);
    fclose(f);
    duckdb_destroy_result(&r);
    if (rc) {
        free(text);
        return NULL;
    }
    return text;
}

static char *run(const char *sql, q_format fmt)
{
    return run_width(sql, fmt, 0);
}

/* Values whose text the old printer could not give ('?'), and the leaf types inside
 * them: each is printed next to DuckDB's cast of the same value and both must agree. */
static const char *const exprs[] = {
    "[1, 2]",
    "{'a': 1, 'b c': 'x y'}",
    "map([1, 5], [2, NULL])",
    "map(['k', 'a b'], ['v', 'it''s'])",
    "[['a', NULL], [], NULL]",
    "['', 'NULL', 'b c', 'it''s', '[x]', 'a,b', ' lead', 'x\\y', '\"q\"']",
    "[uuid '4ac7a9e9-607c-4c8a-84f3-843f0191e3fd', uuid '00000000-0000-0000-0000-000000000001']",
    "uuid 'ffffffff-ffff-ffff-ffff-ffffffffffff'",
    "[1.5::DECIMAL(4,2), -2.25::DECIMAL(9,3), 123456789012.5::DECIMAL(18,1), "
    "-12345678901234567890.12::DECIMAL(38,2)]",
    "-12345678901234567890.12::DECIMAL(38,2)",
    "[170141183460469231731687303715884105727::HUGEINT, -5::HUGEINT, 7::UHUGEINT]",
    "[INTERVAL 3 DAY + INTERVAL 2 HOUR, INTERVAL 14 MONTH, -INTERVAL 1 SECOND]",
    "['\\xAA\\x00a'::BLOB, ''::BLOB]",
    "[DATE '2024-01-02', DATE '-infinity', NULL]",
    "[TIME '10:00:01.5', TIME '00:00:00']",
    "[TIMESTAMP '2024-01-02 10:00:00.123456', TIMESTAMP_S '2024-01-02 10:00:01', "
    "TIMESTAMP_MS '2024-01-02 10:00:01.5', TIMESTAMP_NS '2024-01-02 10:00:01.123456789']",
    "[1.0::DOUBLE / 0, -1.0::DOUBLE / 0, 'nan'::DOUBLE, 0.1, 1e20, 1.5::FLOAT]",
    "[TIMESTAMP '2024-01-02 10:00:00.1234', TIMESTAMP '2024-01-02 10:00:00.000001', "
    "TIMESTAMP '0044-03-15 12:00:00', TIMESTAMP '1960-12-31 23:59:59.999999', "
    "TIMESTAMP 'infinity', TIMESTAMP '-infinity', TIMESTAMP '-0044-03-15 00:00:00', "
    "TIMESTAMP '12345-01-01 00:00:00']",
    "TIMESTAMP '1960-12-31 23:59:59.5'",
    "TIMESTAMP '2024-02-29 00:00:00'",
    "[DATE '0001-01-01', DATE '9999-12-31', DATE '1969-12-31', DATE 'infinity', "
    "DATE '0044-03-15 (BC)', DATE '12345-06-07']",
    "DATE '1969-12-31'",
    "[TIMESTAMPTZ '2024-01-02 10:00:00+00', TIMESTAMPTZ '2024-07-02 23:30:00+02']",
    "TIMESTAMPTZ '2024-07-02 23:30:00+02'",
    "[TIMETZ '10:00:00+02']",
    "[true, false, NULL]",
    "[1::TINYINT, -2::SMALLINT, 3::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, "
    "18446744073709551615::UBIGINT]",
    "array_value(1, 2, 3)",
    "[array_value('a', NULL)]",
    "union_value(k := 1)",
    "[{'x': map(['k'], [[1.5]]), 'y': NULL}]",
    "{'a': {'b': NULL, 'c': [{'d': 'e f'}]}}",
    "'0101'::BIT",
    "['happy'::ENUM('happy', 'sad'), 'sad'::ENUM('happy', 'sad')]",
    "'sad'::ENUM('happy', 'sad')",
    "NULL::INTEGER[]",
    "[NULL::INTEGER]",
};

static void test_text_is_duckdb_cast(void)
{
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, "SELECT %s AS v, CAST(%s AS VARCHAR) AS want", exprs[i],
                 exprs[i]);
        char *out = run(sql, Q_FMT_TSV);
        CHECK(out != NULL);
        if (!out)
            continue;
        /* "v\twant\n<value>\t<cast>\n" */
        char *row = strchr(out, '\n');
        char *tab = row ? strchr(row + 1, '\t') : NULL;
        char *end = tab ? strchr(tab, '\n') : NULL;
        CHECK(row && tab && end);
        if (row && tab && end) {
            *tab = *end = '\0';
            if (strcmp(row + 1, tab + 1))
                fprintf(stderr, "  %s: printed \"%s\", DuckDB casts to \"%s\"\n", exprs[i],
                        row + 1, tab + 1);
            CHECK(!strcmp(row + 1, tab + 1));
            CHECK(!strchr(row + 1, '?') || strchr(exprs[i], '?'));
        }
        free(out);
    }
}

/* Timestamps and dates are written without DuckDB's cast (the common case, kept fast):
 * thousands of them, around and far from 1970, with and without fractions, must read as
 * DuckDB's cast does. */
static void test_timestamps_like_duckdb(void)
{
    char *out = run("SELECT make_timestamp(i * 1234567890123 + (i % 7) * 100 + (i % 3)) AS t, "
                    "CAST(t AS VARCHAR) AS tv, DATE '1970-01-01' + (i * 37)::INT AS d, "
                    "CAST(d AS VARCHAR) AS dv FROM range(-2000, 2000) r(i)",
                    Q_FMT_CSV);
    CHECK(out != NULL);
    size_t rows = 0, bad = 0;
    for (char *line = out ? strchr(out, '\n') : NULL; line && line[1]; rows++) {
        char t[64], tv[64], d[64], dv[64];
        if (sscanf(line + 1, "%63[^,],%63[^,],%63[^,],%63[^\n]", t, tv, d, dv) != 4 ||
            strcmp(t, tv) || strcmp(d, dv)) {
            if (bad++ < 3)
                fprintf(stderr, "  differs: %.80s\n", line + 1);
        }
        line = strchr(line + 1, '\n');
    }
    CHECK_EQ_U64(rows, 4000);
    CHECK_EQ_U64(bad, 0);
    free(out);
}

static void test_table_and_csv_nested(void)
{
    char *out = run("SELECT [1, 2] AS l, {'a': 1} AS s, map([1], [2]) AS m", Q_FMT_TABLE);
    CHECK_STR(out, "   l    |    s     |   m\n"
                   "--------+----------+-------\n"
                   " [1, 2] | {'a': 1} | {1=2}\n"
                   "(1 row)\n\n");
    free(out);
    out = run("SELECT [1, 2] AS l, {'a': 'x'} AS s", Q_FMT_CSV);
    CHECK_STR(out, "l,s\n\"[1, 2]\",{'a': x}\n");
    free(out);
    out = run("SELECT [1, 2] AS l", Q_FMT_MARKDOWN);
    CHECK_STR(out, "| l |\n| --- |\n| [1, 2] |\n");
    free(out);
    /* a TIMESTAMP WITH TIME ZONE printed '?' too */
    out = run("SELECT TIMESTAMPTZ '2024-01-02 10:00:00+00' AS t", Q_FMT_CSV);
    CHECK_STR(out, "t\n2024-01-02 10:00:00+00\n");
    free(out);
}

static void check_json(const char *sql, const char *want)
{
    char *out = run(sql, Q_FMT_JSON);
    CHECK_STR(out, want);
    if (out) {
        json_type t;
        json_error e;
        CHECK(json_validate_whole(out, strlen(out), 64, &t, &e) == 0);
    }
    free(out);
}

static void test_json(void)
{
    check_json("SELECT [1, 2] AS l, {'a': 1, 'b c': 'x y'} AS s, map([1, 2], ['x', NULL]) AS m",
               "[\n{\"l\":[1,2],\"s\":{\"a\":1,\"b c\":\"x y\"},\"m\":{\"1\":\"x\",\"2\":null}}\n]\n");
    check_json("SELECT [[1], NULL, []] AS ll, NULL::INT[] AS n, [true, NULL] AS b, "
               "array_value(1.5, 2) AS a, union_value(k := 'v') AS u",
               "[\n{\"ll\":[[1],null,[]],\"n\":null,\"b\":[true,null],\"a\":[1.5,2.0],"
               "\"u\":\"v\"}\n]\n");
    /* JSON has no NaN or Infinity: they are strings, at the top and inside lists */
    check_json("SELECT 'nan'::DOUBLE AS n, '-inf'::FLOAT AS f, "
               "[1.0::DOUBLE / 0, 0.5, 1e20] AS l",
               "[\n{\"n\":\"nan\",\"f\":\"-inf\",\"l\":[\"inf\",0.5,1e+20]}\n]\n");
    /* leaf types that are not numbers are their text, as strings */
    check_json("SELECT [uuid '4ac7a9e9-607c-4c8a-84f3-843f0191e3fd'] AS u, "
               "{'d': 1.50::DECIMAL(5,2), 'i': INTERVAL 2 DAY, 'b': '\\x01'::BLOB, "
               "'h': 170141183460469231731687303715884105727::HUGEINT, "
               "'e': 'x'::ENUM('x'), 't': TIMESTAMP '2024-01-02 03:04:05'} AS s",
               "[\n{\"u\":[\"4ac7a9e9-607c-4c8a-84f3-843f0191e3fd\"],\"s\":{\"d\":1.50,"
               "\"i\":\"2 days\",\"b\":\"\\\\x01\",\"h\":170141183460469231731687303715884105727,"
               "\"e\":\"x\",\"t\":\"2024-01-02 03:04:05\"}}\n]\n");
}

/* Many chunks: rows are read from the right chunk in every format. */
static void test_many_rows(void)
{
    char *out = run("SELECT i, [i, i + 1] AS l FROM range(5000) t(i) ORDER BY i", Q_FMT_CSV);
    CHECK(out != NULL);
    if (out) {
        CHECK(strstr(out, "\n0,\"[0, 1]\"\n") != NULL);
        CHECK(strstr(out, "\n2048,\"[2048, 2049]\"\n") != NULL);
        CHECK(strstr(out, "\n4999,\"[4999, 5000]\"\n") != NULL);
    }
    free(out);
}

/* A table wider than the terminal is shown one value per line; one that fits is not. */
static void test_vertical(void)
{
    const char *sql = "SELECT 1 AS id, 'a fairly long text value' AS description, NULL AS n "
                      "UNION ALL SELECT 2, 'short', 3 ORDER BY id";
    char *out = run_width(sql, Q_FMT_TABLE, 30);
    CHECK_STR(out, "-[ RECORD 1 ]-+------------\n"
                   " id          | 1\n"
                   " description | a fairly long text value\n"
                   " n           | NULL\n"
                   "-[ RECORD 2 ]-+------------\n"
                   " id          | 2\n"
                   " description | short\n"
                   " n           | 3\n"
                   "(2 rows)\n\n");
    free(out);
    out = run_width(sql, Q_FMT_TABLE, 80);
    CHECK(out && !strncmp(out, " id |", 5));
    free(out);
}

static void test_explain(void)
{
    char *out = run("EXPLAIN SELECT 42", Q_FMT_TABLE);
    CHECK(out != NULL);
    if (out) {
        CHECK(strstr(out, "\\n") == NULL); /* real line breaks, not escapes */
        CHECK(strstr(out, "┌") != NULL);
        size_t lines = 0;
        for (const char *c = out; *c; c++)
            lines += *c == '\n';
        CHECK(lines > 5);
    }
    free(out);
}

static void test_unicode_width(void)
{
    /* 日本 and the emoji take two columns each, é (e + combining accent) one */
    char *out = run("SELECT * FROM (VALUES ('日本', 1), ('e' || chr(769), 2), ('🙂x', 3), "
                    "('ab', 4)) t(name, n) ORDER BY n", Q_FMT_TABLE);
    CHECK_STR(out, " name | n\n"
                   "------+---\n"
                   " 日本 | 1\n"
                   " e\xcc\x81    | 2\n"
                   " 🙂x  | 3\n"
                   " ab   | 4\n"
                   "(4 rows)\n\n");
    free(out);
}

int main(void)
{
    /* The machine's zone must not matter: the session is UTC, in casts and in output. */
    setenv("TZ", "America/New_York", 1);
    const char *dir = test_tmpdir();
    sl_err err = {0};
    q_engine_opts o = {.data_dir = dir, .timeout_ms = 10000, .threads = 1};
    if (q_engine_open(&o, &eng, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    RUN(test_text_is_duckdb_cast);
    RUN(test_timestamps_like_duckdb);
    RUN(test_table_and_csv_nested);
    RUN(test_json);
    RUN(test_many_rows);
    RUN(test_explain);
    RUN(test_vertical);
    RUN(test_unicode_width);
    q_engine_close(eng);
    return test_summary();
}
