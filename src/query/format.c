/* format.c — result printing (formats described in format.h).
 *
 * Cells come from cell.h: text as DuckDB's CAST(x AS VARCHAR) gives it (timestamps as
 * "2026-11-21 10:00:00", lists as [1, 2], structs as {'a': 1}), JSON with nested values
 * as arrays and objects. The column type only decides alignment (numbers right-aligned).
 * Widths in the table format are terminal columns (wcwidth under a UTF-8 locale): a CJK
 * character or an emoji takes two, a combining mark none.
 */
#include "query/format.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "common/buf.h"
#include "common/json.h"
#include "query/cell.h"

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

/* One cell's text into b; false for SQL NULL. A cell that cannot be rendered (out of
 * memory, a buffer cap) shows what fitted: printing never stops half-way through a row. */
static bool cell(q_rows *rows, idx_t col, idx_t row, sl_buf *b)
{
    sl_buf_reset(b);
    if (q_rows_is_null(rows, col, row))
        return false;
    q_rows_text(rows, col, row, b);
    if (!b->p)
        sl_buf_adds(b, "");
    return true;
}

/* ---------------------------------------------------------------- display width */

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decodes one UTF-8 sequence at s (NUL-terminated); returns its length, 1 for a bad byte
 * (then *cp is U+FFFD). */
static size_t utf8_next(const unsigned char *s, wchar_t *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n <= 1) {
        *cp = n ? (wchar_t)c : 0xfffd;
        return 1;
    }
    unsigned v = c & (0x7f >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s[k] & 0x3f);
    }
    *cp = (wchar_t)v;
    return n;
}

/* Terminal columns of one code point: 2 for wide (CJK, emoji), 0 for combining marks and
 * zero-width characters, else 1. Without a UTF-8 locale every code point counts 1. */
static size_t cp_width(wchar_t cp)
{
    if (cp < 0x300)
        return 1;
    pthread_once(&utf8_once, utf8_locale_init);
    if (!utf8_locale)
        return 1;
    locale_t old = uselocale(utf8_locale);
    int w = wcwidth(cp);
    uselocale(old);
    return w < 0 ? 1 : (size_t)w;
}

/* For the screen: control characters become visible escapes so that one row stays one
 * line and the alignment holds. Returns the display width in terminal columns. */
static size_t display(sl_buf *b, const char *v)
{
    size_t w = 0;
    sl_buf_reset(b);
    for (const unsigned char *c = (const unsigned char *)v; *c;) {
        if (*c < 0x20 || *c == 0x7f) {
            const char *esc = *c == '\n' ? "\\n" : *c == '\t' ? "\\t" : *c == '\r' ? "\\r" : "?";
            sl_buf_adds(b, esc);
            w += strlen(esc);
            c++;
            continue;
        }
        wchar_t cp;
        size_t n = utf8_next(c, &cp);
        sl_buf_add(b, c, n);
        w += cp_width(cp);
        c += n;
    }
    return w;
}

static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        wchar_t cp;
        c += utf8_next(c, &cp);
        w += cp_width(cp);
    }
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

/* EXPLAIN answers one row per plan (explain_key, explain_value) whose value is a drawing
 * over many lines; in a table its newlines would show as \n on one endless line. */
static bool is_plan(duckdb_result *res)
{
    return duckdb_column_count(res) == 2 && !strcmp(duckdb_column_name(res, 0), "explain_key") &&
           !strcmp(duckdb_column_name(res, 1), "explain_value") &&
           duckdb_column_type(res, 1) == DUCKDB_TYPE_VARCHAR;
}

static void print_plan(const q_out *o, q_rows *rows, idx_t shown, double elapsed_ms)
{
    sl_buf v;
    sl_buf_init(&v, 0);
    for (idx_t r = 0; r < shown; r++) {
        if (!cell(rows, 1, r, &v) || !v.len)
            continue;
        fwrite(v.p, 1, v.len, o->f);
        if (v.p[v.len - 1] != '\n')
            fputc('\n', o->f);
    }
    if (o->timing)
        fprintf(o->f, "Query took %.3f s\n", elapsed_ms / 1000.0);
    fputc('\n', o->f);
    sl_buf_free(&v);
}

static void print_footer(const q_out *o, idx_t shown, idx_t total, double elapsed_ms)
{
    FILE *f = o->f;
    if (shown < total)
        fprintf(f, "(showing the first %llu of %llu rows; --max-rows 0 shows all)\n",
                (unsigned long long)shown, (unsigned long long)total);
    else
        fprintf(f, "(%llu row%s)\n", (unsigned long long)total, total == 1 ? "" : "s");
    if (o->timing)
        fprintf(f, "Query took %.3f s\n", elapsed_ms / 1000.0);
    fputc('\n', f);
}

/* A table wider than the terminal would wrap every row into an unreadable zigzag; it is
 * shown one record at a time instead, one "name | value" line per column. */
static void print_vertical(const q_out *o, duckdb_result *res, q_rows *rows, idx_t shown,
                           idx_t total, double elapsed_ms)
{
    idx_t ncols = duckdb_column_count(res);
    size_t namew = 0;
    for (idx_t c = 0; c < ncols; c++) {
        size_t w = utf8_width(duckdb_column_name(res, c));
        namew = w > namew ? w : namew;
    }
    sl_buf line, d, v;
    sl_buf_init(&line, 0);
    sl_buf_init(&d, 0);
    sl_buf_init(&v, 0);
    for (idx_t r = 0; r < shown; r++) {
        sl_buf_printf(&line, "-[ RECORD %llu ]", (unsigned long long)r + 1);
        while (line.len < namew + 3)
            sl_buf_addc(&line, '-');
        sl_buf_addc(&line, '+');
        for (size_t i = 0; i < 12; i++)
            sl_buf_addc(&line, '-');
        put_line(o->f, &line);
        for (idx_t c = 0; c < ncols; c++) {
            const char *name = duckdb_column_name(res, c);
            sl_buf_addc(&line, ' ');
            sl_buf_adds(&line, name);
            line_pad(&line, namew - utf8_width(name) + 1);
            sl_buf_adds(&line, "| ");
            if (cell(rows, c, r, &v)) {
                display(&d, v.p);
                sl_buf_adds(&line, d.p);
            } else {
                sl_buf_adds(&line, "NULL");
            }
            put_line(o->f, &line);
        }
    }
    print_footer(o, shown, total, elapsed_ms);
    sl_buf_free(&line);
    sl_buf_free(&d);
    sl_buf_free(&v);
}

static int print_table(const q_out *o, duckdb_result *res, q_rows *rows, idx_t shown,
                       idx_t total, double elapsed_ms)
{
    FILE *f = o->f;
    if (is_plan(res)) {
        print_plan(o, rows, shown, elapsed_ms);
        return 0;
    }
    idx_t ncols = duckdb_column_count(res);
    size_t *width = calloc(ncols ? ncols : 1, sizeof *width);
    sl_buf d, line, v;
    sl_buf_init(&d, 0);
    sl_buf_init(&line, 0);
    sl_buf_init(&v, 0);
    if (!width)
        return -ENOMEM;
    for (idx_t c = 0; c < ncols; c++)
        width[c] = utf8_width(duckdb_column_name(res, c));
    for (idx_t r = 0; r < shown; r++) {
        for (idx_t c = 0; c < ncols; c++) {
            size_t w = cell(rows, c, r, &v) ? display(&d, v.p) : 4;
            if (w > width[c])
                width[c] = w;
        }
    }
    size_t line_width = 0; /* " a | b" without the trailing space */
    for (idx_t c = 0; c < ncols; c++)
        line_width += width[c] + 3;
    if (o->width && ncols > 1 && line_width - 1 > o->width) {
        free(width);
        sl_buf_free(&d);
        sl_buf_free(&line);
        sl_buf_free(&v);
        print_vertical(o, res, rows, shown, total, elapsed_ms);
        return 0;
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
            bool has = cell(rows, c, r, &v);
            size_t w = has ? display(&d, v.p) : 4;
            const char *text = has ? d.p : "NULL";
            sl_buf_adds(&line, c ? "| " : " ");
            if (q_type_is_numeric(duckdb_column_type(res, c))) {
                line_pad(&line, width[c] - w);
                sl_buf_adds(&line, text);
                sl_buf_addc(&line, ' ');
            } else {
                sl_buf_adds(&line, text);
                line_pad(&line, width[c] - w + 1);
            }
        }
        put_line(f, &line);
    }
    print_footer(o, shown, total, elapsed_ms);
    free(width);
    sl_buf_free(&d);
    sl_buf_free(&line);
    sl_buf_free(&v);
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

static int print_delimited(const q_out *o, duckdb_result *res, q_rows *rows, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    bool csv = o->fmt == Q_FMT_CSV;
    sl_buf v;
    sl_buf_init(&v, 0);
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
            if (cell(rows, c, r, &v))
                (csv ? csv_field : tsv_field)(f, v.p);
        }
        fputc('\n', f);
    }
    sl_buf_free(&v);
    return 0;
}

static int print_json(const q_out *o, duckdb_result *res, q_rows *rows, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    sl_buf v;
    sl_buf_init(&v, 0);
    int rc = 0;
    fputc('[', f);
    for (idx_t r = 0; r < shown; r++) {
        fputs(r ? ",\n{" : "\n{", f);
        for (idx_t c = 0; c < ncols; c++) {
            if (c)
                fputc(',', f);
            json_str(f, duckdb_column_name(res, c));
            fputc(':', f);
            sl_buf_reset(&v);
            int crc = q_rows_json(rows, c, r, &v);
            if (crc && !rc)
                rc = crc;
            /* a value that could not be rendered whole is null, never broken JSON */
            fputs(crc || !v.p ? "null" : v.p, f);
        }
        fputc('}', f);
    }
    fputs(shown ? "\n]\n" : "]\n", f);
    sl_buf_free(&v);
    if (rc)
        fprintf(stderr, "warning: a value could not be rendered (%s); it is null\n",
                strerror(-rc));
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

static int print_markdown(const q_out *o, duckdb_result *res, q_rows *rows, idx_t shown)
{
    FILE *f = o->f;
    idx_t ncols = duckdb_column_count(res);
    sl_buf line, d, v;
    sl_buf_init(&line, 0);
    sl_buf_init(&d, 0);
    sl_buf_init(&v, 0);
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
            sl_buf_addc(&line, ' ');
            if (cell(rows, c, r, &v)) {
                display(&d, v.p);
                md_cell(&line, d.p);
            } else {
                sl_buf_adds(&line, "NULL");
            }
            sl_buf_adds(&line, " |");
        }
        put_line(f, &line);
    }
    sl_buf_free(&line);
    sl_buf_free(&d);
    sl_buf_free(&v);
    return 0;
}

int q_print(const q_out *o, duckdb_result *res, double elapsed_ms)
{
    q_rows *rows = NULL;
    if (q_rows_open(res, &rows))
        return -ENOMEM;
    idx_t total = q_rows_count(rows);
    idx_t shown = o->max_rows && total > o->max_rows ? (idx_t)o->max_rows : total;
    int rc;
    clearerr(o->f);
    switch (o->fmt) {
    case Q_FMT_TABLE: rc = print_table(o, res, rows, shown, total, elapsed_ms); break;
    case Q_FMT_CSV:
    case Q_FMT_TSV: rc = print_delimited(o, res, rows, shown); break;
    case Q_FMT_JSON: rc = print_json(o, res, rows, shown); break;
    default: rc = print_markdown(o, res, rows, shown); break;
    }
    q_rows_close(rows);
    if (o->fmt != Q_FMT_TABLE && shown < total)
        fprintf(stderr, "note: showing the first %llu of %llu rows; --max-rows 0 shows all\n",
                (unsigned long long)shown, (unsigned long long)total);
    if (!rc && (fflush(o->f) || ferror(o->f)))
        rc = errno ? -errno : -EIO;
    return rc;
}
