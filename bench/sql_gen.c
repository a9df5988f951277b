/* sql_gen.c — helper of bench/sql.sh.
 *   sql_gen DIR N            writes N events as Parquet under DIR/warehouse (layout of the
 *                            stream) for purchases, menu_app_events, menu_app_orders, events
 *   sql_gen DIR ref Q...     runs each query with plain DuckDB over the same files (the
 *                            reference: no sandbox, no per-statement view refresh) and
 *                            prints the time, in-process
 */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int run(duckdb_connection con, const char *sql)
{
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError) {
        fprintf(stderr, "%s\n%s\n", sql, duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return -1;
    }
    duckdb_destroy_result(&r);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sql_gen DIR N | sql_gen DIR ref QUERY...\n");
        return 2;
    }
    const char *dir = argv[1];
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) || duckdb_connect(db, &con))
        return 1;
    char sql[4096];
    if (!strcmp(argv[2], "ref")) {
        const char *tables[] = {"purchases", "menu_app_events", "menu_app_orders", "events"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(sql, sizeof sql,
                     "CREATE VIEW %s AS SELECT * FROM read_parquet('%s/warehouse/%s/*/*.parquet',"
                     " hive_partitioning=true, union_by_name=true, hive_types={'dt': VARCHAR})",
                     tables[i], dir, tables[i]);
            if (run(con, sql))
                return 1;
        }
        printf("%-100s %10s\n", "reference: DuckDB in-process, same files", "duckdb s");
        for (int i = 3; i < argc; i++) {
            double t0 = now();
            if (run(con, argv[i]))
                return 1;
            printf("%-100s %10.3f\n", argv[i], now() - t0);
        }
        return 0;
    }
    long long n = atoll(argv[2]);
    /* share: purchases 40%, menu_app_events 30%, menu_app_orders 20%, events 10% */
    struct { const char *name; double share; const char *cols; } t[] = {
        {"purchases", 0.4, "CASE i % 3 WHEN 0 THEN 'purchase_sword' WHEN 1 THEN 'purchase_axe' "
                           "ELSE 'purchase_shield' END AS event_type, 'very sharp sword' AS "
                           "description, ((i * 37) % 100)::BIGINT AS strength"},
        {"menu_app_events", 0.3, "CASE i % 4 WHEN 0 THEN 'login' WHEN 1 THEN 'search_menu' "
                                 "ELSE 'order_food' END AS event_type"},
        {"menu_app_orders", 0.2, "'order_food' AS event_type, CASE i % 4 WHEN 0 THEN 'Lebanese' "
                                 "WHEN 1 THEN 'Italian' WHEN 2 THEN 'Thai' ELSE 'Mexican' END AS "
                                 "description, CASE WHEN i % 6 = 5 THEN 'Yes' ELSE 'No' END AS "
                                 "coupon, 8.5 + (i % 7) * 1.25 AS price, (TIMESTAMP '2026-11-21' + "
                                 "INTERVAL (i % 100000) SECOND)::VARCHAR AS event_timestamp"},
        {"events", 0.1, "'default' AS event_type, '{\"event_type\":\"default\"}' AS raw_event"},
    };
    for (size_t k = 0; k < 4; k++) {
        long long rows = (long long)(n * t[k].share);
        for (int day = 0; day < 4; day++) {
            for (int part = 0; part < 8; part++) {
                long long per = rows / 32, first = (day * 8 + part) * per;
                snprintf(sql, sizeof sql, "%s/warehouse/%s/dt=2026-11-2%d", dir, t[k].name, day);
                char mk[4200];
                snprintf(mk, sizeof mk, "mkdir -p '%s'", sql);
                if (system(mk))
                    return 1;
                char q[8192];
                snprintf(q, sizeof q,
                         "COPY (SELECT 'e-' || i AS event_id, TIMESTAMP '2026-11-21' + INTERVAL "
                         "(i %% 86400) SECOND AS received_at, 'localhost:5000' AS host, "
                         "'ApacheBench/2.3' AS user_agent, '*/*' AS accept, %s FROM "
                         "range(%lld, %lld) r(i)) TO '%s/part-0-%lld-%lld.parquet' "
                         "(FORMAT parquet)",
                         t[k].cols, first, first + per, sql, first, first + per - 1);
                if (run(con, q))
                    return 1;
            }
        }
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
