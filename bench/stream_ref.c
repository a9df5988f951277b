/* bench/stream_ref.c — the reference for bench/stream.sh: DuckDB's own conversion of the
 * same events, COPY (SELECT * FROM read_json('<ndjson>')) TO '<out>' (FORMAT parquet).
 *
 *   build/bench/stream_ref EVENTS.ndjson OUT.parquet N_EVENTS [snappy|zstd]
 *
 * Prints "duckdb_read_json: N events in S s = E events/s". */
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

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s EVENTS.ndjson OUT.parquet N_EVENTS [snappy|zstd]\n", argv[0]);
        return 2;
    }
    const char *comp = argc > 4 ? argv[4] : "snappy";
    if (strchr(argv[1], '\'') || strchr(argv[2], '\'') ||
        (strcmp(comp, "snappy") && strcmp(comp, "zstd"))) {
        fprintf(stderr, "%s: paths must not contain quotes; compression snappy or zstd\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
        fprintf(stderr, "duckdb open failed\n");
        return 1;
    }
    char sql[4096];
    snprintf(sql, sizeof sql,
             "COPY (SELECT * FROM read_json('%s', format='newline_delimited')) TO '%s' "
             "(FORMAT parquet, COMPRESSION %s)", argv[1], argv[2], comp);
    duckdb_result res;
    double t0 = now_s();
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "duckdb: %s\n", duckdb_result_error(&res));
        return 1;
    }
    double dt = now_s() - t0;
    duckdb_destroy_result(&res);
    printf("duckdb_read_json: %ld events in %.3f s = %.0f events/s\n", n, dt, (double)n / dt);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
