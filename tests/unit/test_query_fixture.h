/* test_query_fixture.h — a fixed warehouse for the query tests: catalog files written with
 * wh_catalog_write() and Parquet files written by DuckDB in the stream's layout
 * (warehouse/<table>/dt=YYYY-MM-DD/part-<partition>-<first>-<last>.parquet).
 *
 * Tables (every value is a formula of the row number, so the answers are known):
 *   purchases        24 rows over dt=2026-11-21 (2 files) and dt=2026-11-22 (1 file);
 *                    event_type purchase_sword/axe/shield by i % 3; strength = (i*37) % 100;
 *                    the dt=2026-11-22 file is schema version 2 and adds `color`.
 *   joins            6 guild joins;  declarations  4 (war/peace)
 *   events           10 raw events (raw_event column)
 *   menu_app_events  30 restaurant events; menu_app_orders 12 orders with description,
 *                    coupon, price, event_timestamp (Lebanese for i % 4 == 0)
 *   reviews          in the catalog, no files yet
 * A hidden file (a writer's temporary file) sits next to the purchases files and must
 * never be read.
 */
#ifndef SLUICE_TEST_QUERY_FIXTURE_H
#define SLUICE_TEST_QUERY_FIXTURE_H

#include <duckdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "warehouse/catalog.h"

#define FX_COMMON                                                                          \
    "'e-' || lpad(i::varchar, 4, '0') AS event_id, "                                       \
    "%s AS event_type, "                                                                   \
    "TIMESTAMP '2026-11-21 10:00:00' + INTERVAL (i) MINUTE AS received_at, "              \
    "'localhost:5000' AS host, 'ApacheBench/2.3' AS user_agent, '*/*' AS accept"

static int fx_sql(duckdb_connection con, const char *sql)
{
    duckdb_result r;
    int rc = 0;
    if (duckdb_query(con, sql, &r) == DuckDBError) {
        fprintf(stderr, "fixture: %s\n  %s\n", sql, duckdb_result_error(&r));
        rc = -1;
    }
    duckdb_destroy_result(&r);
    return rc;
}

/* fx_sql on a fresh in-memory DuckDB (to write a file outside any open engine). */
static inline int fx_sql_once(const char *sql)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError)
        return -1;
    int rc = duckdb_connect(db, &con) == DuckDBError ? -1 : fx_sql(con, sql);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}

static int fx_mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes one Parquet file: rows i in [first, last] of `select` (a SELECT list over i). */
static int fx_file(duckdb_connection con, const char *dir, const char *table, const char *dt,
                   int first, int last, const char *select, const char *event_type)
{
    char d[1024], list[2048], sql[8192];
    snprintf(d, sizeof d, "%s/warehouse/%s/dt=%s", dir, table, dt);
    if (fx_mkdirs(d))
        return -1;
    snprintf(list, sizeof list, FX_COMMON, event_type);
    snprintf(sql, sizeof sql,
             "COPY (SELECT %s%s%s FROM range(%d, %d) t(i) ORDER BY i) TO "
             "'%s/part-0-%d-%d.parquet' (FORMAT parquet)",
             list, *select ? ", " : "", select, first, last + 1, d, first, last);
    return fx_sql(con, sql);
}

static int fx_catalog(const char *dir, const char *name, const wh_column *own, size_t nown,
                      int version)
{
    wh_column cols[16] = {
        {"event_id", SPEC_COL_VARCHAR}, {"event_type", SPEC_COL_VARCHAR},
        {"received_at", SPEC_COL_TIMESTAMP}, {"host", SPEC_COL_VARCHAR},
        {"user_agent", SPEC_COL_VARCHAR}, {"accept", SPEC_COL_VARCHAR},
    };
    for (size_t i = 0; i < nown; i++)
        cols[6 + i] = own[i];
    wh_column part = {"dt", SPEC_COL_VARCHAR};
    wh_table t = {.name = (char *)name, .cols = cols, .ncols = 6 + nown, .part_cols = &part,
                  .npart_cols = 1, .schema_version = version,
                  .created_at = "2026-11-21T10:00:00.000Z",
                  .updated_at = "2026-11-22T09:00:00.000Z"};
    sl_err err = {0};
    if (wh_catalog_write(dir, &t, &err)) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Builds the whole fixture under dir (which must exist). 0 on success. */
static int fx_build(const char *dir)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError)
        return -1;
    if (duckdb_connect(db, &con) == DuckDBError) {
        duckdb_close(&db);
        return -1;
    }
    const char *sword = "CASE i % 3 WHEN 0 THEN 'purchase_sword' WHEN 1 THEN 'purchase_axe' "
                        "ELSE 'purchase_shield' END";
    const char *purch = "CASE i % 3 WHEN 0 THEN 'very sharp sword' WHEN 1 THEN 'battle axe' "
                        "ELSE 'round shield' END AS description, ((i * 37) % 100)::BIGINT AS "
                        "strength";
    char purch2[512];
    snprintf(purch2, sizeof purch2, "%s, CASE WHEN i %% 2 = 0 THEN 'red' END AS color", purch);
    const char *menu_type = "CASE i % 5 WHEN 0 THEN 'login' WHEN 1 THEN 'search_menu' "
                            "WHEN 2 THEN 'view_profile' ELSE 'order_food' END";
    const char *order_type = "CASE WHEN i % 6 = 5 THEN 'order_food_coupon' ELSE 'order_food' END";
    const char *orders =
        "CASE i % 4 WHEN 0 THEN 'Lebanese' WHEN 1 THEN 'Italian' WHEN 2 THEN 'Thai' ELSE "
        "'Mexican' END AS description, CASE WHEN i % 6 = 5 THEN 'Yes' ELSE 'No' END AS coupon, "
        "round(8.5 + (i % 7) * 1.25, 2)::DOUBLE AS price, "
        "(TIMESTAMP '2026-11-21 18:00:00' + INTERVAL (i * 7) MINUTE)::VARCHAR AS event_timestamp";
    int rc = 0;
    rc |= fx_file(con, dir, "purchases", "2026-11-21", 0, 9, purch, sword);
    rc |= fx_file(con, dir, "purchases", "2026-11-21", 10, 15, purch, sword);
    rc |= fx_file(con, dir, "purchases", "2026-11-22", 16, 23, purch2, sword);
    rc |= fx_file(con, dir, "joins", "2026-11-21", 0, 5,
                  "CASE i % 2 WHEN 0 THEN 'knights' ELSE 'wizards' END AS guild", "'join_guild'");
    rc |= fx_file(con, dir, "declarations", "2026-11-22", 0, 3,
                  "CASE WHEN i < 2 THEN 'orcs' ELSE 'elves' END AS enemy",
                  "CASE i % 2 WHEN 0 THEN 'declare_war' ELSE 'declare_peace' END");
    rc |= fx_file(con, dir, "events", "2026-11-21", 0, 9,
                  "'{\"event_type\": \"e' || i || '\"}' AS raw_event", "'default'");
    rc |= fx_file(con, dir, "menu_app_events", "2026-11-21", 0, 19, "", menu_type);
    rc |= fx_file(con, dir, "menu_app_events", "2026-11-22", 20, 29, "", menu_type);
    rc |= fx_file(con, dir, "menu_app_orders", "2026-11-21", 0, 11, orders, order_type);
    /* A writer's temporary file: same layout, hidden name, must stay invisible. */
    char sql[2048];
    snprintf(sql, sizeof sql,
             "COPY (SELECT 'hidden' AS event_id) TO "
             "'%s/warehouse/purchases/dt=2026-11-21/.part-0-99-99.parquet.tmp.parquet' "
             "(FORMAT parquet)",
             dir);
    rc |= fx_sql(con, sql);
    duckdb_disconnect(&con);
    duckdb_close(&db);

    wh_column purchases[] = {{"description", SPEC_COL_VARCHAR}, {"strength", SPEC_COL_BIGINT},
                             {"color", SPEC_COL_VARCHAR}};
    wh_column joins[] = {{"guild", SPEC_COL_VARCHAR}};
    wh_column decl[] = {{"enemy", SPEC_COL_VARCHAR}};
    wh_column events[] = {{"raw_event", SPEC_COL_VARCHAR}};
    wh_column orders_cols[] = {{"description", SPEC_COL_VARCHAR},
                               {"coupon", SPEC_COL_VARCHAR},
                               {"price", SPEC_COL_DOUBLE},
                               {"event_timestamp", SPEC_COL_VARCHAR}};
    wh_column reviews[] = {{"rating", SPEC_COL_BIGINT}, {"text", SPEC_COL_VARCHAR}};
    rc |= fx_catalog(dir, "purchases", purchases, 3, 2);
    rc |= fx_catalog(dir, "joins", joins, 1, 1);
    rc |= fx_catalog(dir, "declarations", decl, 1, 1);
    rc |= fx_catalog(dir, "events", events, 1, 1);
    rc |= fx_catalog(dir, "menu_app_events", NULL, 0, 1);
    rc |= fx_catalog(dir, "menu_app_orders", orders_cols, 4, 1);
    rc |= fx_catalog(dir, "reviews", reviews, 2, 1);
    return rc ? -1 : 0;
}

#endif
