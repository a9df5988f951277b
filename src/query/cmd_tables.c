/* cmd_tables.c — `sluice tables`: every catalog table with its rows (from the Parquet
 * footers, no data scan), files, bytes, partitions and last update (newest file's mtime,
 * UTC). The numbers are computed in C and by DuckDB's parquet_file_metadata() inside the
 * same sandboxed engine as sluice sql, and printed by the same formatter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "common/buf.h"
#include "common/cli.h"
#include "query/engine.h"
#include "query/format.h"
#include "warehouse/catalog.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: sluice tables [options]\n"
               "\n"
               "List the tables: name, rows, files, bytes, partitions, last update (UTC).\n"
               "\n"
               "Options:\n"
               "  -d, --data-dir DIR   data directory (default ./sluice-data)\n"
               "      --format FMT     table (default), csv, tsv, json, markdown\n"
               "  -h, --help           show this help\n");
}

/* One table's row of the VALUES list. */
static int table_row(sl_buf *b, const char *abs_dir, const wh_table *t, sl_err *err)
{
    q_file *files = NULL;
    size_t n = 0;
    int rc = q_table_files(abs_dir, t->location, &files, &n, err);
    if (rc)
        return rc;
    uint64_t bytes = 0;
    int64_t newest = -1;
    size_t parts = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += files[i].size;
        if (files[i].mtime_ms > newest)
            newest = files[i].mtime_ms;
        /* files are sorted, so a partition's files are adjacent */
        size_t dl = (size_t)(strrchr(files[i].path, '/') - files[i].path);
        size_t pl = i ? (size_t)(strrchr(files[i - 1].path, '/') - files[i - 1].path) : 0;
        if (!i || pl != dl || strncmp(files[i - 1].path, files[i].path, dl))
            parts++;
    }
    rc = sl_buf_adds(b, "(");
    rc = rc ? rc : q_sql_literal(b, t->name);
    if (n) {
        rc = rc ? rc : sl_buf_adds(b, ", (SELECT sum(num_rows) FROM parquet_file_metadata([");
        for (size_t i = 0; i < n && !rc; i++) {
            rc = i ? sl_buf_adds(b, ", ") : 0;
            rc = rc ? rc : q_sql_literal(b, files[i].path);
        }
        rc = rc ? rc : sl_buf_adds(b, "]))");
    } else {
        rc = rc ? rc : sl_buf_adds(b, ", 0");
    }
    rc = rc ? rc : sl_buf_printf(b, ", %zu, %llu, %zu, ", n, (unsigned long long)bytes, parts);
    if (!rc && newest >= 0) {
        time_t s = (time_t)(newest / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        char ts[40];
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
        rc = sl_buf_printf(b, "TIMESTAMP '%s')", ts);
    } else if (!rc) {
        rc = sl_buf_adds(b, "NULL::TIMESTAMP)");
    }
    q_files_free(files, n);
    if (rc)
        return sl_err_set(err, rc, false, "table %s: too many files", t->name);
    return 0;
}

static int tables_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_dir = NULL;
    q_format fmt = Q_FMT_TABLE;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'F':
            if (q_format_parse(optarg, &fmt))
                return cli_usage_error("tables", "unknown --format '%s' (table, csv, tsv, "
                                                 "json, markdown)", optarg);
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error("tables", "option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error("tables", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("tables", "unexpected argument '%s'", argv[optind]);

    q_engine *e = NULL;
    sl_err err = {0};
    q_engine_opts eo = {.data_dir = cli_data_dir(data_dir), .timeout_ms = 60000};
    wh_table **list = NULL;
    size_t n = 0;
    sl_buf b;
    sl_buf_init(&b, 64u << 20);
    int rc = 1;
    if (q_engine_open(&eo, &e, &err) ||
        wh_catalog_list(q_engine_data_dir(e), &list, &n, &err)) {
        fprintf(stderr, "sluice tables: %s\n", err.msg);
        goto out;
    }
    sl_buf_adds(&b, "SELECT name AS \"table\", rows, files, bytes, partitions, last_update "
                    "FROM (VALUES (NULL::VARCHAR, 0::HUGEINT, 0::BIGINT, 0::UBIGINT, "
                    "0::BIGINT, NULL::TIMESTAMP)");
    for (size_t i = 0; i < n; i++) {
        if (sl_buf_adds(&b, ", ") || table_row(&b, q_engine_data_dir(e), list[i], &err)) {
            fprintf(stderr, "sluice tables: %s\n", err.msg[0] ? err.msg : "out of memory");
            goto out;
        }
    }
    if (sl_buf_adds(&b, ") v(name, rows, files, bytes, partitions, last_update) "
                        "WHERE name IS NOT NULL ORDER BY name")) {
        fprintf(stderr, "sluice tables: out of memory\n");
        goto out;
    }
    duckdb_result res;
    if (q_engine_exec(e, b.p, &res)) {
        fprintf(stderr, "sluice tables: %s\n", q_engine_error(e));
        goto out;
    }
    q_out o = {.fmt = fmt, .f = stdout, .max_rows = 0, .timing = false};
    rc = q_print(&o, &res, 0) ? 1 : 0;
    duckdb_destroy_result(&res);
out:
    sl_buf_free(&b);
    wh_catalog_free_list(list, n);
    q_engine_close(e);
    return rc;
}

int cmd_tables(int argc, char **argv)
{
    static const struct option env_opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int n = argc;
    char **args = cli_env_args(&n, argv, env_opts);
    int rc = tables_main(n, args);
    return rc;
}
