/* bench/stream_ref.c — the references for bench/stream.sh: DuckDB converting the same events.
 *
 *   build/bench/stream_ref EVENTS.ndjson OUT N_EVENTS [snappy|zstd] [issue|tables]
 *
 * issue  (default) what issue 4 names: COPY (SELECT * FROM read_json('<ndjson>')) TO OUT
 *        (FORMAT parquet). One file, the columns read_json infers (event_id as UUID,
 *        received_at as TIMESTAMP), no raw text: much less output than sluice writes.
 * tables the same output as `sluice stream` with apps/game.yaml, written by DuckDB alone:
 *        each line's fields extracted from read_json_objects (raw text kept), then one
 *        COPY per table (events with raw_event; purchases, joins, declarations,
 *        default_hits with their columns) into OUT.<table>.parquet. No fsync, no checkpoint,
 *        no validation beyond DuckDB's JSON parser: a lower bound for equal output.
 *
 * Prints "duckdb_<mode>: N events in S s = E events/s". */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "duckdb: %s\n", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return -1;
    }
    duckdb_destroy_result(&res);
    return 0;
}

#define COMMON "event_id, event_type, received_at, host, user_agent, accept"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s EVENTS.ndjson OUT N_EVENTS [snappy|zstd] [issue|tables]\n",
                argv[0]);
        return 2;
    }
    const char *comp = argc > 4 ? argv[4] : "snappy";
    const char *mode = argc > 5 ? argv[5] : "issue";
    if (strchr(argv[1], '\'') || strchr(argv[2], '\'') ||
        (strcmp(comp, "snappy") && strcmp(comp, "zstd")) ||
        (strcmp(mode, "issue") && strcmp(mode, "tables"))) {
        fprintf(stderr, "%s: paths must not contain quotes; compression snappy or zstd; "
                        "mode issue or tables\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
        fprintf(stderr, "duckdb open failed\n");
        return 1;
    }
    char sql[8192];
    double t0 = now_s();
    if (!strcmp(mode, "issue")) {
        snprintf(sql, sizeof sql,
                 "COPY (SELECT * FROM read_json('%s', format='newline_delimited')) TO '%s' "
                 "(FORMAT parquet, COMPRESSION %s)", argv[1], argv[2], comp);
        if (run(con, sql) < 0)
            return 1;
    } else {
        snprintf(sql, sizeof sql,
                 "CREATE TEMP TABLE e AS SELECT json->>'$.event_id' AS event_id, "
                 "json->>'$.event_type' AS event_type, "
                 "CAST(json->>'$.received_at' AS TIMESTAMP) AS received_at, "
                 "json->>'$.Host' AS host, json->>'$.\"User-Agent\"' AS user_agent, "
                 "json->>'$.Accept' AS accept, json->>'$.description' AS description, "
                 "CAST(json->>'$.strength' AS BIGINT) AS strength, "
                 "json->>'$.guild_name' AS guild_name, CAST(json AS VARCHAR) AS raw_event "
                 "FROM read_json_objects('%s', format='newline_delimited')", argv[1]);
        if (run(con, sql) < 0)
            return 1;
        static const char *const tables[][3] = {
            {"events", COMMON ", raw_event", "true"},
            {"purchases", COMMON ", description, strength", "event_type LIKE 'purchase\\_%' ESCAPE '\\'"},
            {"joins", COMMON ", description, guild_name", "event_type = 'join_guild'"},
            {"declarations", COMMON ", description", "event_type LIKE 'declare\\_%' ESCAPE '\\'"},
            {"default_hits", COMMON, "event_type = 'default'"},
        };
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
            snprintf(sql, sizeof sql,
                     "COPY (SELECT %s FROM e WHERE %s) TO '%s.%s.parquet' "
                     "(FORMAT parquet, COMPRESSION %s)",
                     tables[i][1], tables[i][2], argv[2], tables[i][0], comp);
            if (run(con, sql) < 0)
                return 1;
        }
    }
    double dt = now_s() - t0;
    printf("duckdb_%s: %ld events in %.3f s = %.0f events/s\n",
           !strcmp(mode, "issue") ? "read_json" : "same_tables", n, dt, (double)n / dt);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
