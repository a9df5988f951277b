/* bench/stream_fresh.c — freshness of committed table files, for bench/stream_fresh.sh:
 * for every row of <data>/warehouse/<table>, the time from its received_at to the
 * modification time of the file holding it (the rename into place happens right after
 * the file is complete, and the checkpoint follows within milliseconds).
 *
 *   build/bench/stream_fresh DATA_DIR [TABLE]
 *
 * Prints "freshness: N events, p50 X ms, p99 Y ms, max Z ms". */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_i64(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [TABLE]\n", argv[0]);
        return 2;
    }
    const char *table = argc > 2 ? argv[2] : "events";
    if (strchr(argv[1], '\'') || strchr(table, '\'') || strchr(table, '/')) {
        fprintf(stderr, "%s: bad data dir or table name\n", argv[0]);
        return 2;
    }
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        return 1;
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT filename, epoch_us(received_at) FROM read_parquet('%s/warehouse/%s/*/*.parquet', "
             "filename=true) ORDER BY filename", argv[1], table);
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "duckdb: %s\n", duckdb_result_error(&res));
        return 1;
    }
    idx_t n = duckdb_row_count(&res);
    long long *lat = malloc((n ? n : 1) * sizeof *lat);
    char last[4096] = "";
    long long mtime_us = 0;
    for (idx_t r = 0; r < n; r++) {
        char *f = duckdb_value_varchar(&res, 0, r);
        if (strcmp(f, last)) {
            struct stat st;
            if (stat(f, &st) != 0) {
                perror(f);
                return 1;
            }
            mtime_us = (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
            snprintf(last, sizeof last, "%s", f);
        }
        duckdb_free(f);
        lat[r] = mtime_us - duckdb_value_int64(&res, 1, r);
    }
    duckdb_destroy_result(&res);
    if (!n) {
        printf("freshness: no rows\n");
        return 1;
    }
    qsort(lat, n, sizeof *lat, cmp_i64);
    printf("freshness: %llu events, p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
           (unsigned long long)n, lat[n / 2] / 1000.0, lat[(size_t)(n * 0.99)] / 1000.0,
           lat[n - 1] / 1000.0);
    free(lat);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
