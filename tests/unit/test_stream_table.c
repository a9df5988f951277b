/* Stream end to end in-process: log → stream_run(--once) → Parquet, read back with DuckDB.
 * Routing and typing with exact rows, rejects with reasons, two schemas on one topic,
 * partitioning, reruns, replay of a recorded batch, schema evolution. */
#include <errno.h>
#include <sys/stat.h>

#include "stream/checkpoint.h"
#include "test.h"
#include "test_stream_support.h"

static const char *game_spec =
    "app: t\n"
    "tables:\n"
    "  - name: purchases\n"
    "    events: [\"purchase_*\"]\n"
    "    columns:\n"
    "      description: varchar\n"
    "      strength: bigint\n"
    "  - name: joins\n"
    "    events: [join_guild]\n"
    "    columns:\n"
    "      guild_name: varchar\n"
    "      level: {type: bigint, field: \"Guild Level\"}\n"
    "  - name: events\n"
    "    events: [\"*\"]\n"
    "    raw_event: true\n";

#define DAY1 "\"received_at\":\"2026-11-21T10:00:00.000Z\""

static const char *const batch1[] = {
    /* 0 */ "{\"event_type\":\"purchase_sword\",\"event_id\":\"e1\"," DAY1 ",\"Host\":\"localhost:5000\","
            "\"User-Agent\":\"ApacheBench/2.3\",\"Accept\":\"*/*\",\"description\":\"large sword\",\"strength\":5}",
    /* 1 */ "{\"event_type\":\"join_guild\",\"event_id\":\"e2\"," DAY1 ",\"guild_name\":\"knights_of_ni\","
            "\"Guild Level\":\"3\",\"description\":\"very fun guild\"}",
    /* 2 */ "{\"event_type\":\"purchase_axe\",\"event_id\":\"e3\"," DAY1 ",\"strength\":\"abc\"}",
    /* 3 */ "{\"event_type\":\"purchase_axe\",",
    /* 4 */ "{\"event_id\":\"e5\"," DAY1 "}",
    /* 5 */ "{\"event_type\":\"declare_war\",\"event_id\":\"e6\",\"received_at\":\"2026-11-22T00:00:01.5Z\"}",
    /* 6 */ "{\"event_type\":\"purchase_shield\",\"event_id\":\"e7\"," DAY1 ",\"strength\":0,"
            "\"description\":\"strong shield\"}",
    /* 7 */ "{\"event_type\":\"Bad Type\",\"event_id\":\"e8\"}",
};

static int exists(const char *dir, const char *rel)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &st) == 0;
}

/* The bytes of dir/rel (malloc'd; *n its size), or NULL. */
static char *slurp(const char *dir, const char *rel, size_t *n)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 65536)))
            break;
        size_t k = fread(buf + *n, 1, cap - *n, f);
        *n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    return buf;
}

static void test_routing_and_typing(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
    CHECK(ts_fill(dir, batch1, 8) == 0);
    stream_stats st;
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.events, 8);
    CHECK_EQ_U64(st.rejected, 4);

    CHECK_Q("SELECT event_id, event_type, received_at, host, user_agent, accept, description, "
            "strength, dt FROM %T ORDER BY event_id", dir, "purchases",
            "e1|purchase_sword|2026-11-21 10:00:00|localhost:5000|ApacheBench/2.3|*/*|large sword|5|2026-11-21\n"
            "e7|purchase_shield|2026-11-21 10:00:00|NULL|NULL|NULL|strong shield|0|2026-11-21\n");
    CHECK_Q("SELECT event_id, guild_name, level, typeof(level) FROM %T", dir, "joins",
            "e2|knights_of_ni|3|BIGINT\n");
    CHECK_Q("SELECT event_id, event_type, dt FROM %T ORDER BY event_id", dir, "events",
            "e1|purchase_sword|2026-11-21\ne2|join_guild|2026-11-21\n"
            "e6|declare_war|2026-11-22\ne7|purchase_shield|2026-11-21\n");
    /* raw_event is the record byte for byte. */
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT raw_event = '%s' FROM %%T WHERE event_id = 'e1'", batch1[0]);
    CHECK_Q(sql, dir, "events", "true\n");
    CHECK_Q("SELECT \"offset\", topic, \"partition\", event_type, reason FROM %T ORDER BY 1", dir,
            "_rejected",
            "2|events|0|purchase_axe|table purchases: column strength (bigint): \"abc\" is not an integer\n"
            "3|events|0|NULL|malformed JSON at byte 29: unterminated object\n"
            "4|events|0|NULL|missing event_type\n"
            "7|events|0|NULL|invalid event_type \"Bad Type\" (want [a-z][a-z0-9_]{0,63})\n");
    CHECK_Q("SELECT raw FROM %T WHERE \"offset\" = 3", dir, "_rejected",
            "{\"event_type\":\"purchase_axe\",\n");

    /* Deterministic names: the batch's offset range, in each dt partition. */
    CHECK(exists(dir, "warehouse/events/dt=2026-11-21/part-0-0-7.parquet"));
    CHECK(exists(dir, "warehouse/events/dt=2026-11-22/part-0-0-7.parquet"));
    CHECK(exists(dir, "warehouse/purchases/dt=2026-11-21/part-0-0-7.parquet"));
    CHECK(!exists(dir, "warehouse/declarations"));
    CHECK(exists(dir, "catalog/purchases.json"));
    CHECK(exists(dir, "catalog/_rejected.json"));
    CHECK(exists(dir, "stream/stream.checkpoint"));

    /* A rerun with nothing new changes nothing; new events make a new file. */
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.events, 0);
    const char *more[] = {
        "{\"event_type\":\"purchase_sword\",\"event_id\":\"e9\"," DAY1 ",\"strength\":\"8\"}",
        "{\"event_type\":\"default\",\"event_id\":\"e10\"," DAY1 "}",
    };
    CHECK(ts_fill(dir, more, 2) == 0);
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.events, 2);
    CHECK(exists(dir, "warehouse/purchases/dt=2026-11-21/part-0-8-9.parquet"));
    CHECK_Q("SELECT count(*), count(DISTINCT event_id), sum(strength) FROM %T", dir, "purchases",
            "3|3|13\n");
    CHECK_Q("SELECT count(*), count(DISTINCT event_id) FROM %T", dir, "events", "6|6\n");
}

/* After a crash between the renames and the checkpoint, the recorded range is replayed
 * exactly (even though more events have arrived), rewriting the same file names, and
 * leftover temporary files are removed. */
static void test_replay_after_crash(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
    CHECK(ts_fill(dir, batch1, 8) == 0);
    CHECK(ts_run_once(dir, spec, NULL) == 0);
    /* Simulate: batch 0-7 recorded and written, checkpoint not yet moved. */
    stream_ckpt ck;
    sl_err err = {0};
    CHECK(stream_ckpt_open(&ck, dir, "stream", "events", &err) == 0);
    CHECK(stream_ckpt_write(&ck, 0, &err) == 0);
    stream_ckpt_close(&ck);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s/warehouse/events/dt=2026-11-21/.tmp-part-0-0-7", dir);
    FILE *f = fopen(tmp, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("half a file", f);
        fclose(f);
    }
    const char *more[] = {
        "{\"event_type\":\"default\",\"event_id\":\"e20\"," DAY1 "}",
        "{\"event_type\":\"default\",\"event_id\":\"e21\"," DAY1 "}",
    };
    CHECK(ts_fill(dir, more, 2) == 0);
    stream_stats st;
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.batches, 2);    /* the replay 0-7, then 8-9 */
    CHECK_EQ_U64(st.events, 10);
    CHECK(!exists(dir, "warehouse/events/dt=2026-11-21/.tmp-part-0-0-7"));
    CHECK(exists(dir, "warehouse/events/dt=2026-11-21/part-0-0-7.parquet"));
    CHECK(exists(dir, "warehouse/events/dt=2026-11-21/part-0-8-9.parquet"));
    CHECK(!exists(dir, "warehouse/events/dt=2026-11-21/part-0-0-9.parquet"));
    CHECK_Q("SELECT count(*), count(DISTINCT event_id) FROM %T", dir, "events", "6|6\n");
    CHECK_Q("SELECT count(*) FROM %T", dir, "_rejected", "4\n");
}

static const char *infer_spec =
    "app: t\n"
    "tables:\n"
    "  - name: flex\n"
    "    events: [\"*\"]\n"
    "    infer: true\n";

static void test_schema_evolution(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, infer_spec);
    const char *b1[] = {
        "{\"event_type\":\"a\",\"event_id\":\"1\"," DAY1 ",\"x\":1}",
        "{\"event_type\":\"a\",\"event_id\":\"2\"," DAY1 ",\"x\":2}",
    };
    CHECK(ts_fill(dir, b1, 2) == 0);
    CHECK(ts_run_once(dir, spec, NULL) == 0);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT schema_version, len(columns) FROM read_json('%s/catalog/flex.json')", dir);
    char *v1 = ts_query(sql);
    /* common columns (6) + x */
    CHECK_STR(v1, "1|7\n");
    free(v1);

    const char *b2[] = {
        "{\"event_type\":\"b\",\"event_id\":\"3\"," DAY1 ",\"Level Name\":\"boss\",\"score\":2.5}",
        "{\"event_type\":\"b\",\"event_id\":\"4\"," DAY1 ",\"x\":\"not a number\"}",
    };
    CHECK(ts_fill(dir, b2, 2) == 0);
    stream_stats st;
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.rejected, 1);   /* x was inferred as bigint */
    char *v2 = ts_query(sql);
    CHECK_STR(v2, "2|9\n");
    free(v2);
    CHECK_Q("SELECT event_id, x, level_name, score FROM %T ORDER BY event_id", dir, "flex",
            "1|1|NULL|NULL\n2|2|NULL|NULL\n3|NULL|boss|2.5\n");
    /* The old file is untouched: it still has no level_name column. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM parquet_schema('%s/warehouse/flex/dt=2026-11-21/part-0-0-1.parquet') "
             "WHERE name = 'level_name'", dir);
    char *v3 = ts_query(sql);
    CHECK_STR(v3, "0\n");
    free(v3);
    CHECK_Q("SELECT reason FROM %T", dir, "_rejected",
            "table flex: column x (bigint): \"not a number\" is not an integer\n");

    /* A restart keeps the inferred columns (from the catalog), so no version bump. */
    const char *b3[] = {"{\"event_type\":\"c\",\"event_id\":\"5\"," DAY1 ",\"score\":1}"};
    CHECK(ts_fill(dir, b3, 1) == 0);
    CHECK(ts_run_once(dir, spec, NULL) == 0);
    snprintf(sql, sizeof sql,
             "SELECT schema_version, len(columns) FROM read_json('%s/catalog/flex.json')", dir);
    char *v5 = ts_query(sql);
    CHECK_STR(v5, "2|9\n");
    free(v5);
    CHECK_Q("SELECT score FROM %T WHERE event_id = '5'", dir, "flex", "1.0\n");
}

/* Strings reach DuckDB as string_t values that point into the batch (no copy) or are
 * inlined (12 bytes or less): every length around that boundary, empty, escaped (decoded
 * into the arena), raw UTF-8, non-strings as JSON text and NULL must read
 * back exactly. The batches are small (max_batch 3), so several are in flight in the lane
 * pool at once and their files are published strictly in batch order. */
static void test_string_values_and_pipelined_batches(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
#define P(id, desc) "{\"event_type\":\"purchase_axe\",\"event_id\":\"" id "\"," DAY1 ",\"description\":" desc "}"
    const char *lines[] = {
        P("s00", "\"\""), P("s01", "\"a\""), P("s02", "\"abcdefghijk\""),
        P("s03", "\"abcdefghijkl\""), P("s04", "\"abcdefghijklm\""),
        P("s05", "\"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop\""),
        P("s06", "\"a\\\"b\\u00e9\""), P("s07", "\"x\xc3\xa9y\""), P("s08", "12.50"),
        P("s09", "null"), P("s10", "{\"k\": [1, 2]}"),
    };
#undef P
    CHECK(ts_fill(dir, lines, 11) == 0);
    spec_app *app = NULL;
    sl_err err = {0};
    CHECK(spec_load(spec, &app, &err) == 0);
    stream_opts o;
    ts_opts(&o, dir);
    o.max_batch = 3;
    stream_stats st = {0};
    CHECK(stream_run(app, &o, &st, &err) == 0);
    spec_free(app);
    CHECK_EQ_U64(st.batches, 4);
    CHECK_EQ_U64(st.events, 11);
    CHECK_EQ_U64(st.rejected, 0);
    CHECK_Q("SELECT event_id, strlen(description), description = CASE event_id "
            "WHEN 's00' THEN '' WHEN 's01' THEN 'a' WHEN 's02' THEN 'abcdefghijk' "
            "WHEN 's03' THEN 'abcdefghijkl' WHEN 's04' THEN 'abcdefghijklm' "
            "WHEN 's05' THEN 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop' "
            "WHEN 's06' THEN 'a\"b' || chr(233) WHEN 's07' THEN 'x' || chr(233) || 'y' "
            "WHEN 's08' THEN '12.50' WHEN 's10' THEN '{\"k\": [1, 2]}' END FROM %T ORDER BY 1",
            dir, "purchases",
            "s00|0|true\ns01|1|true\ns02|11|true\ns03|12|true\ns04|13|true\ns05|52|true\n"
            "s06|5|true\ns07|4|true\ns08|5|true\ns09|NULL|NULL\ns10|13|true\n");
    /* raw_event (long strings pointing into the log records) is byte for byte. */
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT raw_event = '%s' FROM %%T WHERE event_id = 's05'", lines[5]);
    CHECK_Q(sql, dir, "events", "true\n");
    /* One file per batch, named by the batch's range. */
    CHECK(exists(dir, "warehouse/purchases/dt=2026-11-21/part-0-0-2.parquet"));
    CHECK(exists(dir, "warehouse/purchases/dt=2026-11-21/part-0-3-5.parquet"));
    CHECK(exists(dir, "warehouse/purchases/dt=2026-11-21/part-0-6-8.parquet"));
    CHECK(exists(dir, "warehouse/events/dt=2026-11-21/part-0-9-10.parquet"));
    CHECK(!exists(dir, "warehouse/events/dt=2026-11-21/.tmp-part-0-9-10"));
}

/* Appends lines[0..n) to the log (freeing them), runs the stream once, checks that it
 * took all n events. */
static void fill_and_run(const char *dir, const char *spec, char **lines, size_t n,
                         stream_stats *st)
{
    CHECK(ts_fill(dir, (const char *const *)lines, n) == 0);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    CHECK(ts_run_once(dir, spec, st) == 0);
    CHECK_EQ_U64(st->events, n);
}

/* A batch as large as the defaults allow, read back value by value: dictionary columns
 * with hundreds of values (several data pages of indices), PLAIN ids, NULLs, timestamps
 * and the raw text; a batch over the parallel-routing threshold (two routers) keeps every
 * table in offset order. */
static void test_large_batches_every_value(void)
{
    enum { N = 60000 };
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
    char **lines = calloc(N, sizeof *lines);
    uint64_t raw_bytes = 0;
    for (size_t i = 0; i < N; i++) {
        char host[40] = "";
        if (i % 10)   /* every tenth event has no Host: NULL */
            snprintf(host, sizeof host, ",\"Host\":\"h%03zu\"",
                     (size_t)(i * 2654435761u % 4294967296u % 300));
        int ms = (int)(i % 1000), sec = (int)(i / 1000 % 60), min = (int)(i / 60000);
        if (i % 2)
            asprintf(&lines[i], "{\"event_type\":\"purchase_sword\",\"event_id\":\"id%06zu\","
                     "\"received_at\":\"2026-11-21T10:%02d:%02d.%03dZ\"%s,\"description\":"
                     "\"d%zu\",\"strength\":%zu}", i, min, sec, ms, host, i % 3, i % 11);
        else
            asprintf(&lines[i], "{\"event_type\":\"join_guild\",\"event_id\":\"id%06zu\","
                     "\"received_at\":\"2026-11-21T10:%02d:%02d.%03dZ\"%s,\"guild_name\":"
                     "\"g%zu\"}", i, min, sec, ms, host, i % 500);
        raw_bytes += strlen(lines[i]);
    }
    stream_stats st = {0};
    fill_and_run(dir, spec, lines, N, &st);
    CHECK_EQ_U64(st.rejected, 0);
    /* every value from the formula it was made by */
    char want[128];
    snprintf(want, sizeof want, "60000|54000|0|0|0|%" PRIu64 "\n", raw_bytes);
    CHECK_Q("SELECT count(*), count(host), "
            "count(*) FILTER (WHERE host IS DISTINCT FROM CASE WHEN i % 10 = 0 THEN NULL "
            "  ELSE 'h' || lpad((i * 2654435761 % 4294967296 % 300)::VARCHAR, 3, '0') END), "
            "count(*) FILTER (WHERE received_at <> TIMESTAMP '2026-11-21 10:00:00' + "
            "  INTERVAL (i) MILLISECOND), "
            "count(*) FILTER (WHERE event_type <> CASE WHEN i % 2 = 1 THEN 'purchase_sword' "
            "  ELSE 'join_guild' END), sum(strlen(raw_event)) "
            "FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T)",
            dir, "events", want);
    CHECK_Q("SELECT count(*), count(*) FILTER (WHERE description <> 'd' || (i % 3)::VARCHAR "
            "  OR strength <> i % 11 OR i % 2 <> 1), count(DISTINCT host) "
            "FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T)",
            dir, "purchases", "30000|0|150\n");
    CHECK_Q("SELECT count(*), count(*) FILTER (WHERE guild_name <> 'g' || (i % 500)::VARCHAR), "
            "count(DISTINCT guild_name) "
            "FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T)",
            dir, "joins", "30000|0|250\n");
    /* offset order inside each file */
    CHECK_Q("SELECT count(*) FROM (SELECT event_id, lag(event_id) OVER () AS prev "
            "FROM %T) WHERE prev >= event_id", dir, "events", "0\n");
}

/* A batch over the parallel-routing threshold whose events alternate between two days:
 * each router's half holds rows of both dts, so every table is split into one file per dt
 * after the second half is appended. Each file holds exactly its day's rows, in offset
 * order, with their values. */
static void test_large_batch_two_days(void)
{
    enum { N = 20000 };
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
    char **lines = calloc(N, sizeof *lines);
    for (size_t i = 0; i < N; i++) {
        int day = 21 + (int)(i % 2), ms = (int)(i % 1000), sec = (int)(i / 1000 % 60);
        if (i % 3)
            asprintf(&lines[i], "{\"event_type\":\"purchase_axe\",\"event_id\":\"id%06zu\","
                     "\"received_at\":\"2026-11-%dT23:00:%02d.%03dZ\",\"strength\":%zu}", i,
                     day, sec, ms, i % 11);
        else
            asprintf(&lines[i], "{\"event_type\":\"join_guild\",\"event_id\":\"id%06zu\","
                     "\"received_at\":\"2026-11-%dT23:00:%02d.%03dZ\",\"guild_name\":"
                     "\"g%zu\"}", i, day, sec, ms, i % 7);
    }
    stream_stats st = {0};
    fill_and_run(dir, spec, lines, N, &st);
    CHECK(exists(dir, "warehouse/events/dt=2026-11-21/part-0-0-19999.parquet"));
    CHECK(exists(dir, "warehouse/events/dt=2026-11-22/part-0-0-19999.parquet"));
    CHECK(exists(dir, "warehouse/joins/dt=2026-11-22/part-0-0-19999.parquet"));
    /* per file: its day's rows only, all of them, values from the formula, offset order */
    CHECK_Q("SELECT dt, count(*), count(*) FILTER (WHERE 21 + i % 2 <> day(received_at) "
            "  OR strftime(received_at, '%Y-%m-%d') <> dt::VARCHAR), "
            "count(*) FILTER (WHERE event_type <> CASE WHEN i % 3 = 0 THEN 'join_guild' "
            "  ELSE 'purchase_axe' END) "
            "FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T) "
            "GROUP BY dt ORDER BY dt", dir, "events",
            "2026-11-21|10000|0|0\n2026-11-22|10000|0|0\n");
    CHECK_Q("SELECT count(*), count(*) FILTER (WHERE strength <> i % 11 OR i % 3 = 0 "
            "  OR 21 + i % 2 <> day(received_at)) "
            "FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T)",
            dir, "purchases", "13333|0\n");
    CHECK_Q("SELECT count(*), count(*) FILTER (WHERE guild_name <> 'g' || (i % 7)::VARCHAR "
            "  OR i % 3 <> 0) FROM (SELECT *, CAST(substr(event_id, 3) AS BIGINT) AS i FROM %T)",
            dir, "joins", "6667|0\n");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT event_id, lag(event_id) OVER "
             "(PARTITION BY filename ORDER BY file_row_number) AS prev "
             "FROM read_parquet('%s/warehouse/events/*/*.parquet', filename=true, "
             "file_row_number=true)) WHERE prev >= event_id", dir);
    CHECK_Q(sql, dir, "events", "0\n");

    /* The same batch replayed after a crash before its checkpoint (the offset log still
     * holds 0-19999), with more events in the log meanwhile: the replay reads exactly the
     * recorded range, in two parts for two routers, and writes the same files byte for
     * byte. */
    const char *f1 = "warehouse/events/dt=2026-11-22/part-0-0-19999.parquet";
    const char *f2 = "warehouse/purchases/dt=2026-11-21/part-0-0-19999.parquet";
    size_t n1 = 0, n2 = 0;
    char *before1 = slurp(dir, f1, &n1), *before2 = slurp(dir, f2, &n2);
    CHECK(before1 && before2);
    stream_ckpt ck;
    sl_err err = {0};
    CHECK(stream_ckpt_open(&ck, dir, "stream", "events", &err) == 0);
    CHECK(stream_ckpt_write(&ck, 0, &err) == 0);
    stream_ckpt_close(&ck);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, f1);
    CHECK(unlink(path) == 0);   /* as if the crash came before this rename */
    const char *more[] = {"{\"event_type\":\"default\",\"event_id\":\"late\"}"};
    CHECK(ts_fill(dir, more, 1) == 0);
    stream_stats st2 = {0};
    CHECK(ts_run_once(dir, spec, &st2) == 0);
    CHECK_EQ_U64(st2.batches, 2);   /* the replay 0-19999, then 20000 */
    CHECK_EQ_U64(st2.events, N + 1);
    size_t m1 = 0, m2 = 0;
    char *after1 = slurp(dir, f1, &m1), *after2 = slurp(dir, f2, &m2);
    CHECK(after1 && m1 == n1 && !memcmp(after1, before1, n1));
    CHECK(after2 && m2 == n2 && !memcmp(after2, before2, n2));
    CHECK_Q("SELECT count(*), count(DISTINCT event_id) FROM %T", dir, "events",
            "20001|20001\n");
    free(before1);
    free(before2);
    free(after1);
    free(after2);
}

/* partition_by: a table partitioned by the app's own timestamp column; a row without
 * one goes by received_at; the other tables keep received_at. */
static void test_partition_by(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir,
        "app: t\n"
        "tables:\n"
        "  - name: orders\n"
        "    events: [order]\n"
        "    columns:\n"
        "      event_timestamp: timestamp\n"
        "    partition_by: event_timestamp\n"
        "  - name: events\n"
        "    events: [\"*\"]\n");
#define O(id, ts) "{\"event_type\":\"order\",\"event_id\":\"" id "\"," DAY1 ts "}"
    const char *lines[] = {
        O("o1", ",\"event_timestamp\":\"2026-11-14T20:00:00Z\""),
        O("o2", ",\"event_timestamp\":\"2026-11-15T23:59:59.999+00:00\""),
        O("o3", ",\"event_timestamp\":\"2026-11-16T01:30:00+05:00\""),   /* 15th in UTC */
        O("o4", ""),                                                  /* by received_at */
    };
#undef O
    CHECK(ts_fill(dir, lines, 4) == 0);
    stream_stats st = {0};
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK_EQ_U64(st.rejected, 0);
    CHECK_Q("SELECT dt, string_agg(event_id, ',' ORDER BY event_id) FROM %T GROUP BY dt "
            "ORDER BY dt", dir, "orders",
            "2026-11-14|o1\n2026-11-15|o2,o3\n2026-11-21|o4\n");
    CHECK(exists(dir, "warehouse/orders/dt=2026-11-14/part-0-0-3.parquet"));
    CHECK_Q("SELECT dt, count(*) FROM %T GROUP BY dt", dir, "events", "2026-11-21|4\n");
}

static void test_bad_config(void)
{
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, game_spec);
    spec_app *app = NULL;
    sl_err err = {0};
    CHECK(spec_load(spec, &app, &err) == 0);
    stream_opts o;
    ts_opts(&o, dir);
    o.job = "../x";
    CHECK(stream_run(app, &o, NULL, &err) == -EINVAL);
    CHECK(strstr(err.msg, "invalid job name") != NULL);
    /* --once on a data dir without the topic: a clear error. */
    o.job = "stream";
    CHECK(stream_run(app, &o, NULL, &err) < 0);
    spec_free(app);
}

int main(void)
{
    RUN(test_routing_and_typing);
    RUN(test_replay_after_crash);
    RUN(test_schema_evolution);
    RUN(test_string_values_and_pipelined_batches);
    RUN(test_large_batches_every_value);
    RUN(test_large_batch_two_days);
    RUN(test_partition_by);
    RUN(test_bad_config);
    return test_summary();
}
