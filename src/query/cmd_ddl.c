/* cmd_ddl.c — `sluice ddl`: CREATE EXTERNAL TABLE statements that point Hive, Trino or
 * Spark at the very files sluice writes (Hive layout, Parquet), from the catalog.
 *
 * Per dialect:
 *   hive, spark  identifiers in backticks; varchar -> STRING, bigint -> BIGINT,
 *                double -> DOUBLE, boolean -> BOOLEAN, timestamp -> TIMESTAMP;
 *                PARTITIONED BY (`dt` STRING) STORED AS PARQUET LOCATION '<prefix>/<table>';
 *                then MSCK REPAIR TABLE to register the partitions already on disk.
 *   trino        (Hive connector) identifiers in double quotes; VARCHAR, BIGINT, DOUBLE,
 *                BOOLEAN, TIMESTAMP(3); partition columns last in the column list and named
 *                in partitioned_by; WITH (format = 'PARQUET', external_location = ...);
 *                then CALL system.sync_partition_metadata('default', '<table>', 'FULL').
 * The location is --location-prefix + "/" + the table's location below warehouse/, or by
 * default the absolute local path as a file:// URL.
 * Names are validated by the catalog ([a-z_][a-z0-9_]*) and quoted all the same.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/cli.h"
#include "warehouse/catalog.h"

typedef enum { DDL_HIVE, DDL_SPARK, DDL_TRINO } ddl_dialect;

static const char *type_for(ddl_dialect d, spec_col_type t)
{
    switch (t) {
    case SPEC_COL_BIGINT: return "BIGINT";
    case SPEC_COL_DOUBLE: return "DOUBLE";
    case SPEC_COL_BOOLEAN: return "BOOLEAN";
    /* Trino's Hive connector reads Parquet timestamps at millisecond precision by default */
    case SPEC_COL_TIMESTAMP: return d == DDL_TRINO ? "TIMESTAMP(3)" : "TIMESTAMP";
    default: return d == DDL_TRINO ? "VARCHAR" : "STRING";
    }
}

static void ident(FILE *f, ddl_dialect d, const char *s)
{
    char q = d == DDL_TRINO ? '"' : '`';
    fputc(q, f);
    for (; *s; s++) {
        if (*s == q)
            fputc(q, f);
        fputc(*s, f);
    }
    fputc(q, f);
}

static void literal(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The table's URL: prefix + the part of its location below "warehouse/". */
static void location(char *out, size_t cap, const char *prefix, const char *abs_dir,
                     const wh_table *t)
{
    const char *loc = t->location;
    if (prefix) {
        const char *rel = loc;
        if (!strncmp(rel, "warehouse/", 10))
            rel += 10;
        size_t pl = strlen(prefix);
        while (pl && prefix[pl - 1] == '/')
            pl--;
        snprintf(out, cap, "%.*s/%s", (int)pl, prefix, rel);
    } else if (loc[0] == '/') {
        snprintf(out, cap, "file://%s", loc);
    } else {
        snprintf(out, cap, "file://%s/%s", abs_dir, loc);
    }
}

static void print_table(FILE *f, ddl_dialect d, const wh_table *t, const char *url)
{
    /* Trino has no EXTERNAL keyword: external_location makes the table external. */
    fputs(d == DDL_TRINO ? "CREATE TABLE IF NOT EXISTS " : "CREATE EXTERNAL TABLE IF NOT EXISTS ",
          f);
    ident(f, d, t->name);
    fputs(" (\n", f);
    size_t n = t->ncols + (d == DDL_TRINO ? t->npart_cols : 0);
    for (size_t i = 0; i < n; i++) {
        const wh_column *c = i < t->ncols ? &t->cols[i] : &t->part_cols[i - t->ncols];
        fputs("  ", f);
        ident(f, d, c->name);
        fprintf(f, " %s%s\n", type_for(d, c->type), i + 1 < n ? "," : "");
    }
    fputs(")\n", f);
    if (d == DDL_TRINO) {
        fputs("WITH (\n  format = 'PARQUET',\n  external_location = ", f);
        literal(f, url);
        if (t->npart_cols) {
            fputs(",\n  partitioned_by = ARRAY[", f);
            for (size_t i = 0; i < t->npart_cols; i++) {
                fputs(i ? ", " : "", f);
                literal(f, t->part_cols[i].name);
            }
            fputs("]", f);
        }
        fputs("\n);\n", f);
        fputs("CALL system.sync_partition_metadata('default', ", f);
        literal(f, t->name);
        fputs(", 'FULL');\n\n", f);
        return;
    }
    if (t->npart_cols) {
        fputs("PARTITIONED BY (", f);
        for (size_t i = 0; i < t->npart_cols; i++) {
            fputs(i ? ", " : "", f);
            ident(f, d, t->part_cols[i].name);
            fprintf(f, " %s", type_for(d, t->part_cols[i].type));
        }
        fputs(")\n", f);
    }
    fputs("STORED AS PARQUET\nLOCATION ", f);
    literal(f, url);
    fputs(";\n", f);
    if (t->npart_cols) {
        fputs("MSCK REPAIR TABLE ", f);
        ident(f, d, t->name);
        fputs(";\n", f);
    }
    fputs("\n", f);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sluice ddl --dialect hive|trino|spark [options]\n"
            "\n"
            "Print CREATE EXTERNAL TABLE statements for the tables in the catalog, so that\n"
            "Hive, Trino or Spark read the same Parquet files, plus the statement that\n"
            "registers their partitions (MSCK REPAIR TABLE / sync_partition_metadata).\n"
            "\n"
            "Options:\n"
            "      --dialect D           hive, trino or spark (required)\n"
            "      --location-prefix URL where the warehouse is for that engine, e.g.\n"
            "                            hdfs://namenode:8020/warehouse (default: the local\n"
            "                            warehouse as a file:// URL)\n"
            "  -t, --table T             only this table\n"
            "  -d, --data-dir DIR        data directory (default ./sluice-data)\n"
            "  -h, --help                show this help\n");
}

static int ddl_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dialect", required_argument, NULL, 'D'},
        {"location-prefix", required_argument, NULL, 'L'},
        {"table", required_argument, NULL, 't'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dialect = NULL, *prefix = NULL, *table = NULL, *data_dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': dialect = optarg; break;
        case 'L': prefix = optarg; break;
        case 't': table = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error("ddl", "option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error("ddl", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("ddl", "unexpected argument '%s'", argv[optind]);
    if (!dialect)
        return cli_usage_error("ddl", "--dialect is required (hive, trino or spark)");
    ddl_dialect d;
    if (!strcmp(dialect, "hive"))
        d = DDL_HIVE;
    else if (!strcmp(dialect, "spark"))
        d = DDL_SPARK;
    else if (!strcmp(dialect, "trino") || !strcmp(dialect, "presto"))
        d = DDL_TRINO;
    else
        return cli_usage_error("ddl", "unknown --dialect '%s' (hive, trino or spark)", dialect);
    if (prefix && (!*prefix || strpbrk(prefix, "'\n")))
        return cli_usage_error("ddl", "--location-prefix must be a URL without quotes");

    const char *dir = cli_data_dir(data_dir);
    char abs_dir[PATH_MAX];
    if (!realpath(dir, abs_dir)) {
        fprintf(stderr, "sluice ddl: data directory %s: %s\n", dir, strerror(errno));
        return 1;
    }
    wh_table **list = NULL;
    size_t n = 0;
    sl_err err = {0};
    if (table) {
        wh_table *t = NULL;
        if (wh_catalog_read(abs_dir, table, &t, &err)) {
            fprintf(stderr, "sluice ddl: %s\n", err.msg);
            return 1;
        }
        list = malloc(sizeof *list);
        if (!list) {
            wh_table_free(t);
            fprintf(stderr, "sluice ddl: out of memory\n");
            return 1;
        }
        list[0] = t;
        n = 1;
    } else if (wh_catalog_list(abs_dir, &list, &n, &err)) {
        fprintf(stderr, "sluice ddl: %s\n", err.msg);
        return 1;
    }
    if (!n)
        fprintf(stderr, "sluice ddl: no tables in %s/catalog\n", abs_dir);
    static const char *names[] = {"Hive", "Spark SQL", "Trino (Hive connector)"};
    printf("-- sluice ddl for %s: %zu table%s\n\n", names[d], n, n == 1 ? "" : "s");
    char url[PATH_MAX + 1024];
    for (size_t i = 0; i < n; i++) {
        location(url, sizeof url, prefix, abs_dir, list[i]);
        print_table(stdout, d, list[i], url);
    }
    wh_catalog_free_list(list, n);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "sluice ddl: writing the output failed\n");
        return 1;
    }
    return 0;
}

int cmd_ddl(int argc, char **argv)
{
    static const struct option env_opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    int n = argc;
    char **args = cli_env_args(&n, argv, env_opts);
    int rc = ddl_main(n, args);
    return rc;
}
