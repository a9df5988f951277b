/* cmd_export.c — `sluice export`: one table (optionally filtered) to a CSV, JSON or Parquet
 * file for pandas and spreadsheets.
 *
 * It runs in the same sandboxed engine as sluice sql, with exactly one extra permission:
 * DuckDB's allowed_paths holds the one output file the user named. The --where text is
 * checked on its own first: `SELECT * FROM <table> WHERE (<where>)` must prepare as a
 * single SELECT statement, so it cannot end the query and start another one.
 * JSON is newline-delimited (one object per line: pandas.read_json(path, lines=True)).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "common/buf.h"
#include "common/cli.h"
#include "query/engine.h"
#include "warehouse/catalog.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: sluice export --table T --output PATH [options]\n"
               "\n"
               "Write a table to a file: csv (with a header), json (one object per line) or\n"
               "parquet. Only the named output file is writable; the query is read-only.\n"
               "\n"
               "Options:\n"
               "  -t, --table T        the table (see sluice tables)\n"
               "  -o, --output PATH    the file to write (replaced if it exists)\n"
               "      --format FMT     csv, json or parquet (default: from the file name)\n"
               "      --where COND     only rows where the SQL condition holds\n"
               "  -d, --data-dir DIR   data directory (default ./sluice-data)\n"
               "      --timeout DUR    stop after DUR (default 10m; 0: none)\n"
               "  -h, --help           show this help\n");
}

static const char *format_from_name(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return NULL;
    if (!strcasecmp(dot, ".csv"))
        return "csv";
    if (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson"))
        return "json";
    if (!strcasecmp(dot, ".parquet"))
        return "parquet";
    return NULL;
}

static int export_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"table", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'F'},
        {"where", required_argument, NULL, 'w'},
        {"data-dir", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *table = NULL, *output = NULL, *format = NULL, *where = NULL, *data_dir = NULL;
    uint64_t timeout_ms = 600000;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:o:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': table = optarg; break;
        case 'o': output = optarg; break;
        case 'F': format = optarg; break;
        case 'w': where = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'T':
            if (cli_parse_duration_ms(optarg, 1000, &timeout_ms))
                return cli_usage_error("export", "--timeout needs a duration, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error("export", "option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    if (!table)
        return cli_usage_error("export", "--table is required");
    if (!output || !*output)
        return cli_usage_error("export", "--output is required");
    if (!format && !(format = format_from_name(output)))
        return cli_usage_error("export", "--format is required (csv, json or parquet) when "
                                         "the file name does not tell");
    const char *copy_opts;
    if (!strcmp(format, "csv"))
        copy_opts = "(FORMAT csv, HEADER true)";
    else if (!strcmp(format, "json"))
        copy_opts = "(FORMAT json)";
    else if (!strcmp(format, "parquet"))
        copy_opts = "(FORMAT parquet)";
    else
        return cli_usage_error("export", "unknown --format '%s' (csv, json or parquet)", format);

    /* The absolute path DuckDB will be allowed to write: realpath of the folder + name. */
    char dcopy[PATH_MAX], bcopy[PATH_MAX], real[PATH_MAX], abs_out[PATH_MAX * 2];
    snprintf(dcopy, sizeof dcopy, "%s", output);
    snprintf(bcopy, sizeof bcopy, "%s", output);
    const char *base = basename(bcopy);
    if (!realpath(dirname(dcopy), real)) {
        fprintf(stderr, "sluice export: folder of %s: %s\n", output, strerror(errno));
        return 1;
    }
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/"))
        return cli_usage_error("export", "--output must name a file");
    snprintf(abs_out, sizeof abs_out, "%s/%s", strcmp(real, "/") ? real : "", base);

    q_engine *e = NULL;
    sl_err err = {0};
    q_engine_opts eo = {.data_dir = cli_data_dir(data_dir), .timeout_ms = timeout_ms,
                        .write_path = abs_out};
    wh_table *t = NULL;
    sl_buf sel, copy;
    sl_buf_init(&sel, 1 << 20);
    sl_buf_init(&copy, 1 << 20);
    int rc = 1;
    duckdb_result res;
    if (q_engine_open(&eo, &e, &err) || wh_catalog_read(q_engine_data_dir(e), table, &t, &err)) {
        fprintf(stderr, "sluice export: %s\n", err.msg);
        goto out;
    }
    if (q_engine_refresh(e, &err))
        fprintf(stderr, "warning: %s\n", err.msg);
    sl_buf_adds(&sel, "SELECT * FROM ");
    q_sql_ident(&sel, t->name);
    if (where && *where) {
        sl_buf_adds(&sel, " WHERE (");
        sl_buf_adds(&sel, where);
        sl_buf_adds(&sel, "\n)");
    }
    /* The filter is checked as a query of its own: one SELECT, nothing else. */
    if (q_engine_check_select(e, sel.p)) {
        fprintf(stderr, "sluice export: %s\n", q_engine_error(e));
        goto out;
    }
    sl_buf_adds(&copy, "COPY (");
    sl_buf_add(&copy, sel.p, sel.len);
    sl_buf_adds(&copy, ") TO ");
    q_sql_literal(&copy, abs_out);
    if (sl_buf_printf(&copy, " %s", copy_opts)) {
        fprintf(stderr, "sluice export: --where too long\n");
        goto out;
    }
    if (q_engine_exec(e, copy.p, &res)) {
        fprintf(stderr, "sluice export: %s\n", q_engine_error(e));
        goto out;
    }
    fprintf(stderr, "exported %llu rows of %s to %s\n",
            (unsigned long long)duckdb_rows_changed(&res), t->name, abs_out);
    duckdb_destroy_result(&res);
    rc = 0;
out:
    sl_buf_free(&sel);
    sl_buf_free(&copy);
    wh_table_free(t);
    q_engine_close(e);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    static const struct option env_opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    int n = argc;
    char **args = cli_env_args(&n, argv, env_opts);
    int rc = export_main(n, args);
    return rc;
}
