/* cmd_sql.c — `sluice sql`: SQL over the warehouse tables, one-shot (-e, -f, a pipe) or
 * interactive (REPL). The sandbox and the views are the engine's (engine.h); this file
 * parses the command line, runs statements in order and prints results (format.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"
#include "common/buf.h"
#include "common/cli.h"
#include "query/session.h"
#include "query/split.h"

#define Q_DEFAULT_TIMEOUT_MS 30000
#define Q_DEFAULT_SCREEN_ROWS 1000

int q_session_run(q_session *s, const char *stmt, size_t len)
{
    if (q_blank(stmt, len))
        return 0;
    /* The text after the previous ';' starts with that line's break; DuckDB would count
     * it and put an error in the statement's first line on LINE 2. */
    while (len && isspace((unsigned char)*stmt)) {
        stmt++;
        len--;
    }
    char *sql = strndup(stmt, len);
    if (!sql) {
        fprintf(stderr, "Error: out of memory\n");
        s->errors++;
        return -1;
    }
    duckdb_result res;
    double ms = 0;
    struct winsize ws;
    if (s->tty && !ioctl(fileno(s->out.f), TIOCGWINSZ, &ws))
        s->out.width = ws.ws_col;
    int rc = q_engine_query(s->eng, sql, &res, &ms);
    free(sql);
    if (rc) {
        /* Results already printed stay in order before the error. */
        fflush(s->out.f);
        fprintf(stderr, "Error: %s\n", q_engine_error(s->eng));
        s->errors++;
        return -1;
    }
    rc = q_print(&s->out, &res, ms);
    duckdb_destroy_result(&res);
    if (rc) {
        fprintf(stderr, "Error: writing the result: %s\n", strerror(-rc));
        s->errors++;
    }
    return rc;
}

int q_session_run_text(q_session *s, const char *text, size_t len, bool stop_on_error)
{
    int first = 0;
    while (len) {
        size_t n = q_split(text, len);
        if (!n)
            n = len; /* the last statement may omit its ';' */
        int rc = q_session_run(s, text, n);
        if (rc && !first)
            first = rc;
        if (rc && (stop_on_error || rc < -1))
            return rc;
        text += n;
        len -= n;
    }
    return first;
}

int q_session_run_stream(q_session *s, FILE *in, bool stop_on_error)
{
    sl_buf b;
    sl_buf_init(&b, Q_STATEMENT_MAX);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int first = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        if (sl_buf_add(&b, line, (size_t)n)) {
            fprintf(stderr, "Error: a statement is longer than %u bytes\n", Q_STATEMENT_MAX);
            first = -1;
            break;
        }
        size_t k;
        while ((k = q_split(b.p, b.len)) > 0) {
            int rc = q_session_run(s, b.p, k);
            memmove(b.p, b.p + k, b.len - k + 1);
            b.len -= k;
            if (rc && !first)
                first = rc;
            if (rc && (stop_on_error || rc < -1))
                goto out;
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "Error: reading the input: %s\n", strerror(errno));
        if (!first)
            first = -1;
    } else if (!first || !stop_on_error) {
        int rc = q_session_run(s, b.p, b.len);
        if (rc && !first)
            first = rc;
    }
out:
    free(line);
    sl_buf_free(&b);
    return first;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sluice sql [options]\n"
            "\n"
            "Query the warehouse tables with SQL (DuckDB). Every table in the catalog is a\n"
            "view over all its Parquet files and partitions; a table or file that appears\n"
            "while the session is open is visible to the next statement.\n"
            "Without -e or -f: an interactive prompt on a terminal, else statements are\n"
            "read from stdin. Statements end with ';'. Besides SELECT: show tables;\n"
            "describe <table>; EXPLAIN.\n"
            "\n"
            "Queries only read the warehouse: no writes, COPY, ATTACH, INSTALL/LOAD,\n"
            "other files or settings.\n"
            "\n"
            "Options:\n"
            "  -e, --execute SQL     run these statements and exit (repeatable)\n"
            "  -f, --file FILE       run the statements in FILE ('-' for stdin) and exit\n"
            "  -d, --data-dir DIR    data directory (default ./sluice-data)\n"
            "      --format FMT      table (default), csv, tsv, json, markdown\n"
            "  -o, --output FILE     write results to FILE instead of stdout\n"
            "      --max-rows N      cut results after N rows, with a note (default %d on\n"
            "                        a terminal, otherwise no limit; 0: no limit)\n"
            "      --timeout DUR     stop a statement after DUR (default 30s; 0: none)\n"
            "      --no-timing       do not print the time taken (table format)\n"
            "      --threads N       DuckDB worker threads (default: one per core; 1 gives\n"
            "                        a stable row order to queries without ORDER BY)\n"
            "  -h, --help            show this help\n"
            "\n"
            "Environment: SLUICE_DATA_DIR, SLUICE_FORMAT, SLUICE_MAX_ROWS, SLUICE_TIMEOUT.\n"
            "Exit status: 0 ok, 1 a statement failed, 2 usage error.\n",
            Q_DEFAULT_SCREEN_ROWS);
}

static int read_file(const char *path, sl_buf *b)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return -errno;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = sl_buf_add(b, chunk, n)))
            break;
    if (!rc && ferror(f))
        rc = -EIO;
    if (f != stdin)
        fclose(f);
    return rc;
}

static int sql_main(int argc, char **argv);

int cmd_sql(int argc, char **argv)
{
    static const struct option env_opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'F'},
        {"max-rows", required_argument, NULL, 'M'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    int n = argc;
    char **args = cli_env_args(&n, argv, env_opts);
    int rc = sql_main(n, args);
    return rc;
}

static int sql_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"execute", required_argument, NULL, 'e'},
        {"file", required_argument, NULL, 'f'},
        {"data-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"max-rows", required_argument, NULL, 'M'},
        {"timeout", required_argument, NULL, 'T'},
        {"no-timing", no_argument, NULL, 'N'},
        {"threads", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_dir = NULL, *file = NULL, *output = NULL;
    /* The -e texts, run one after the other: each is split on its own, so that one ending
     * in a -- comment or an open quote cannot swallow the next. */
    const char **exec = calloc((size_t)argc + 1, sizeof *exec);
    size_t nexec = 0;
    if (!exec) {
        fprintf(stderr, "sluice sql: out of memory\n");
        return 1;
    }
    bool have_exec = false, timing = true, have_max = false;
    q_format fmt = Q_FMT_TABLE;
    uint64_t max_rows = 0, timeout_ms = Q_DEFAULT_TIMEOUT_MS, threads = 0;
    int c, rc = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":e:f:d:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            exec[nexec++] = optarg;
            have_exec = true;
            break;
        case 'f': file = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'o': output = optarg; break;
        case 'N': timing = false; break;
        case 'P':
            if (cli_parse_u64(optarg, 1, 1024, &threads)) {
                free(exec);
                return cli_usage_error("sql", "--threads needs a number 1..1024, not '%s'",
                                       optarg);
            }
            break;
        case 'F':
            if (q_format_parse(optarg, &fmt)) {
                free(exec);
                return cli_usage_error("sql", "unknown --format '%s' (table, csv, tsv, json, "
                                              "markdown)", optarg);
            }
            break;
        case 'M':
            if (cli_parse_u64(optarg, 0, UINT64_MAX / 2, &max_rows)) {
                free(exec);
                return cli_usage_error("sql", "--max-rows needs a number, not '%s'", optarg);
            }
            have_max = true;
            break;
        case 'T':
            if (cli_parse_duration_ms(optarg, 1000, &timeout_ms)) {
                free(exec);
                return cli_usage_error("sql", "--timeout needs a duration like 30s or 500ms, "
                                              "not '%s'", optarg);
            }
            break;
        case 'h':
            usage(stdout);
            free(exec);
            return 0;
        case ':':
            free(exec);
            return cli_usage_error("sql", "option %s needs a value", argv[optind - 1]);
        default:
            free(exec);
            return cli_usage_error("sql", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        free(exec);
        return cli_usage_error("sql", "unexpected argument '%s' (put SQL after -e)",
                               argv[optind]);
    }
    if (have_exec && file) {
        free(exec);
        return cli_usage_error("sql", "give either -e or -f, not both");
    }

    bool interactive = !have_exec && !file && isatty(STDIN_FILENO);
    if (!have_max)
        max_rows = fmt == Q_FMT_TABLE && !output && isatty(STDOUT_FILENO) ? Q_DEFAULT_SCREEN_ROWS
                                                                          : 0;
    q_session s = {.out = {.fmt = fmt, .f = stdout, .max_rows = max_rows, .timing = timing},
                   .tty = !output && isatty(STDOUT_FILENO)};
    sl_err err = {0};
    q_engine_opts eo = {.data_dir = cli_data_dir(data_dir), .timeout_ms = timeout_ms,
                        .threads = (unsigned)threads};
    if (q_engine_open(&eo, &s.eng, &err)) {
        fprintf(stderr, "sluice sql: %s\n", err.msg);
        goto out;
    }
    if (output) {
        s.out.f = fopen(output, "w");
        if (!s.out.f) {
            fprintf(stderr, "sluice sql: cannot write %s: %s\n", output, strerror(errno));
            goto out;
        }
    }
    if (have_exec) {
        rc = 0;
        for (size_t i = 0; i < nexec && !rc; i++)
            rc = q_session_run_text(&s, exec[i], strlen(exec[i]), true) ? 1 : 0;
    } else if (file && strcmp(file, "-")) {
        sl_buf text;
        sl_buf_init(&text, Q_STATEMENT_MAX);
        int r = read_file(file, &text);
        if (r)
            fprintf(stderr, "sluice sql: cannot read %s: %s\n", file,
                    r == -E2BIG ? "file too large" : strerror(-r));
        else
            rc = q_session_run_text(&s, text.p, text.len, true) ? 1 : 0;
        sl_buf_free(&text);
    } else if (interactive) {
        rc = q_repl(&s) ? 1 : 0;
    } else {
        rc = q_session_run_stream(&s, stdin, true) ? 1 : 0;
    }
    if (output && s.out.f) {
        if (fclose(s.out.f)) {
            fprintf(stderr, "sluice sql: writing %s: %s\n", output, strerror(errno));
            rc = 1;
        }
        s.out.f = NULL;
    }
out:
    q_engine_close(s.eng);
    free(exec);
    return rc;
}
