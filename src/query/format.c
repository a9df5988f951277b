/* format.c — result printing (formats described in format.h).
 *
 * Values come from DuckDB as text (duckdb_value_varchar: timestamps as
 * "2026-11-21 10:00:00", booleans as true/false); the column type only decides alignment
 * (numbers right-aligned) and JSON quoting. Nested values (LIST, STRUCT, MAP) have no text
 * form through that call; they print as "?" — cast them to VARCHAR in the query.
 */
#include "query/format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/json.h"

int q_format_parse(const char *s, q_format *out)
{
    static const struct {
        const char *name;
        q_format    fmt;
    } names[] = {{"table", Q_FMT_TABLE}, {"csv", Q_FMT_CSV},           {"tsv", Q_FMT_TSV},
                 {"json", Q_FMT_JSON},   {"markdown", Q_FMT_MARKDOWN}, {"md", Q_FMT_MARKDOWN}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(s, names[i].name)) {
            *out = names[i].fmt;
            return 0;
        }
    }
    return -EINVAL;
}

bool q_type_is_numeric(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* One cell as text: NULL for SQL NULL; never fails (nested values print as "?"). The
 * returned string is freed with duckdb_free unless it is the static "?". */
static char *cell(duckdb_result *res, idx_t col, idx_t row, bool *is_static)
{
    *is_static = false;
    if (duckdb_value_is_null(res, col, row))
        return NULL;
    char *v = duckdb_value_varchar(res, col, row);
    if (!v) {
        *is_static = true;
        return (char *)"?";
    }
    return v;
}

static void cell_free(char *v, bool is_static)
{
    if (v && !is_static)
        duckdb_free(v);
}

/* For the screen: control characters become visible escapes so that one row stays one
 * line and the alignment holds. Returns the display width (UTF-8 code points). */
static size_t display(sl_buf *b, const char *v)
{
    size_t w = 0;
    sl_buf_reset(b);
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            const char *esc = *c == '\n' ? "\\n" : *c == '\t' ? "\\t" : *c == '\r' ? "\\r" : "?";
            sl_buf_adds(b, esc);
            w += strlen(esc);
            continue;
        }
        sl_buf_addc(b, (char)*c);
        if ((*c & 0xc0) != 0x80)
            w++;
    }
    return w;
}

static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Writes one line with the trailing spaces cut (stable golden files, tidy terminals). */
static void put_line(FILE *f, sl_buf *line)
{
    while (line->len && line->p[line->len - 1] == ' ')
        line->len--;
    fwrite(line->p, 1, line->len, f);
    fputc('\n', f);
    sl_buf_reset(line);
}

static void line_pad(sl_buf *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_buf_addc(l, ' ');
}

static int print_table(const q_out *o, duckdb_result *res, idx_t shown, idx_t total,
                       double elapsed_ms)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    size_t *width = calloc(ncols ? ncols : 1, sizeof *width);
    sl_buf d, line;
    sl_buf_init(&d, 0);
    sl_buf_init(&line, 0);
    if (!width)
        return -ENOMEM;
    for (idx_t c = 0; c < ncols; c++)
        width[c] = utf8_width(duckdb_column_name(res, c));
    for (idx_t r = 0; r < shown; r++) {
        for (idx_t c = 0; c < ncols; c++) {
            bool st;
            char *v = cell(res, c, r, &st);
            size_t w = v ? display(&d, v) : 4;
            cell_free(v, st);
            if (w > width[c])
                width[c] = w;
        }
    }
    /* Header: names centred, as the Presto CLI does. */
    for (idx_t c = 0; c < ncols; c++) {
        const char *name = duckdb_column_name(res, c);
        size_t w = utf8_width(name), left = (width[c] - w) / 2;
        sl_buf_adds(&line, c ? "| " : " ");
        line_pad(&line, left);
        sl_buf_adds(&line, name);
        line_pad(&line, width[c] - w - left + 1);
    }
    put_line(f, &line);
    for (idx_t c = 0; c < ncols; c++) {
        if (c)
            sl_buf_addc(&line, '+');
        for (size_t i = 0; i < width[c] + 2; i++)
            sl_buf_addc(&line, '-');
    }
    put_line(f, &line);
    for (idx_t r = 0; r < shown; r++) {
        for (idx_t c = 0; c < ncols; c++) {
            bool st;
            char *v = cell(res, c, r, &st);
            size_t w = v ? display(&d, v) : 4;
            const char *text = v ? d.p : "NULL";
            sl_buf_adds(&line, c ? "| " : " ");
            if (q_type_is_numeric(duckdb_column_type(res, c))) {
                line_pad(&line, width[c] - w);
                sl_buf_adds(&line, text);
                sl_buf_addc(&line, ' ');
            } else {
                sl_buf_adds(&line, text);
                line_pad(&line, width[c] - w + 1);
            }
            cell_free(v, st);
        }
        put_line(f, &line);
    }
    if (shown < total)
        fprintf(f, "(showing the first %llu of %llu rows; --max-rows 0 shows all)\n",
                (unsigned long long)shown, (unsigned long long)total);
    else
        fprintf(f, "(%llu row%s)\n", (unsigned long long)total, total == 1 ? "" : "s");
    if (o->timing)
        fprintf(f, "Query took %.3f s\n", elapsed_ms / 1000.0);
    fputc('\n', f);
    free(width);
    sl_buf_free(&d);
    sl_buf_free(&line);
    return 0;
}

static void csv_field(FILE *f, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

/* TSV: tab, newline, carriage return and backslash are written as \t \n \r \\ . */
static void tsv_field(FILE *f, const char *v)
{
    for (; *v; v++) {
        switch (*v) {
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\\': fputs("\\\\", f); break;
        default: fputc(*v, f);
        }
    }
}

static void json_str(FILE *f, const char *v)
{
    size_t n = strlen(v);
    char small[256];
    size_t need = json_escaped_len(v, n);
    char *out = need <= sizeof small ? small : malloc(need);
    if (!out) {
        fputs("null", f);
        return;
    }
    fwrite(out, 1, json_escape(v, n, out), f);
    if (out != small)
        free(out);
}

/* A DuckDB number as JSON: nan and inf have no JSON form and become strings. */
static void json_num(FILE *f, const char *v)
{
    const char *p = v[0] == '-' ? v + 1 : v;
    if (p[0] >= '0' && p[0] <= '9')
        fputs(v, f);
    else
        json_str(f, v);
}

static int print_delimited(const q_out *o, duckdb_result *res, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    bool csv = o->fmt == Q_FMT_CSV;
    for (idx_t c = 0; c < ncols; c++) {
        if (c)
            fputc(csv ? ',' : '\t', f);
        (csv ? csv_field : tsv_field)(f, duckdb_column_name(res, c));
    }
    fputc('\n', f);
    for (idx_t r = 0; r < shown; r++) {
        for (idx_t c = 0; c < ncols; c++) {
            if (c)
                fputc(csv ? ',' : '\t', f);
            bool st;
            char *v = cell(res, c, r, &st);
            if (v)
                (csv ? csv_field : tsv_field)(f, v);
            cell_free(v, st);
        }
        fputc('\n', f);
    }
    return 0;
}

static int print_json(const q_out *o, duckdb_result *res, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    fputc('[', f);
    for (idx_t r = 0; r < shown; r++) {
        fputs(r ? ",\n{" : "\n{", f);
        for (idx_t c = 0; c < ncols; c++) {
            if (c)
                fputc(',', f);
            json_str(f, duckdb_column_name(res, c));
            fputc(':', f);
            bool st;
            char *v = cell(res, c, r, &st);
            duckdb_type t = duckdb_column_type(res, c);
            if (!v)
                fputs("null", f);
            else if (t == DUCKDB_TYPE_BOOLEAN)
                fputs(!strcmp(v, "true") ? "true" : "false", f);
            else if (q_type_is_numeric(t))
                json_num(f, v);
            else
                json_str(f, v);
            cell_free(v, st);
        }
        fputc('}', f);
    }
    fputs(shown ? "\n]\n" : "]\n", f);
    return 0;
}

static void md_cell(sl_buf *line, const char *v)
{
    for (; *v; v++) {
        if (*v == '|')
            sl_buf_adds(line, "\\|");
        else
            sl_buf_addc(line, *v);
    }
}

static int print_markdown(const q_out *o, duckdb_result *res, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    sl_buf line, d;
    sl_buf_init(&line, 0);
    sl_buf_init(&d, 0);
    sl_buf_adds(&line, "|");
    for (idx_t c = 0; c < ncols; c++) {
        sl_buf_addc(&line, ' ');
        md_cell(&line, duckdb_column_name(res, c));
        sl_buf_adds(&line, " |");
    }
    put_line(f, &line);
    sl_buf_adds(&line, "|");
    for (idx_t c = 0; c < ncols; c++)
        sl_buf_adds(&line, q_type_is_numeric(duckdb_column_type(res, c)) ? " ---: |" : " --- |");
    put_line(f, &line);
    for (idx_t r = 0; r < shown; r++) {
        sl_buf_adds(&line, "|");
        for (idx_t c = 0; c < ncols; c++) {
            bool st;
            char *v = cell(res, c, r, &st);
            sl_buf_addc(&line, ' ');
            if (v) {
                display(&d, v);
                md_cell(&line, d.p);
            } else {
                sl_buf_adds(&line, "NULL");
            }
            sl_buf_adds(&line, " |");
            cell_free(v, st);
        }
        put_line(f, &line);
    }
    sl_buf_free(&line);
    sl_buf_free(&d);
    return 0;
}

int q_print(const q_out *o, duckdb_result *res, double elapsed_ms)
{
    idx_t total = duckdb_row_count(res);
    idx_t shown = o->max_rows && total > o->max_rows ? (idx_t)o->max_rows : total;
    int rc;
    clearerr(o->f);
    switch (o->fmt) {
    case Q_FMT_TABLE: rc = print_table(o, res, shown, total, elapsed_ms); break;
    case Q_FMT_CSV:
    case Q_FMT_TSV: rc = print_delimited(o, res, shown); break;
    case Q_FMT_JSON: rc = print_json(o, res, shown); break;
    default: rc = print_markdown(o, res, shown); break;
    }
    if (o->fmt != Q_FMT_TABLE && shown < total)
        fprintf(stderr, "note: showing the first %llu of %llu rows; --max-rows 0 shows all\n",
                (unsigned long long)shown, (unsigned long long)total);
    if (!rc && (fflush(o->f) || ferror(o->f)))
        rc = errno ? -errno : -EIO;
    return rc;
}
