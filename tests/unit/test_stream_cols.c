/* Unit tests of src/stream/cols.c: a table's rows of a batch by column — the scatter of a
 * row's cells, columns added by inference, the append of the second router's rows, the
 * split by dt, and growth past the first allocation. Every value is read back through
 * stream_cols_values(), the view the Parquet writer gets. */
#include <stdio.h>
#include <stdlib.h>

#include "stream/cols.h"
#include "test.h"

static void add(stream_schema *s, const char *name, spec_col_type t)
{
    sl_err err = {0};
    CHECK(stream_schema_add(s, name, NULL, t, STREAM_COL_DECLARED, &err) == 0);
}

/* id varchar, n bigint, x double, ok boolean, at timestamp */
static void mk_schema(stream_schema *s)
{
    memset(s, 0, sizeof *s);
    s->name = strdup("t");
    add(s, "id", SPEC_COL_VARCHAR);
    add(s, "n", SPEC_COL_BIGINT);
    add(s, "x", SPEC_COL_DOUBLE);
    add(s, "ok", SPEC_COL_BOOLEAN);
    add(s, "at", SPEC_COL_TIMESTAMP);
}

static char names[5000][16];

/* The cells of row i: every fifth row has NULL n, every seventh a NULL id. */
static void mk_row(size_t i, stream_cell *c)
{
    memset(c, 0, 5 * sizeof *c);
    int k = snprintf(names[i], sizeof names[i], "row%zu", i);
    if (i % 7)
        c[0] = (stream_cell){.kind = STREAM_CELL_STR, .len = (uint32_t)k, .v.s = names[i]};
    if (i % 5)
        c[1] = (stream_cell){.kind = STREAM_CELL_I64, .v.i = (int64_t)i * 1000 - 7};
    c[2] = (stream_cell){.kind = STREAM_CELL_F64, .v.d = (double)i / 4};
    c[3] = (stream_cell){.kind = STREAM_CELL_BOOL, .v.i = (int64_t)(i % 3 == 0)};
    c[4] = (stream_cell){.kind = STREAM_CELL_TS, .v.i = 1795255200000000LL + (int64_t)i};
}

/* Row r of t (through the writer's view) is row i as mk_row makes it. */
static void check_row(const stream_cols *t, const stream_schema *s, size_t r, size_t i)
{
    pq_values v[16];   /* s may have more columns than the five checked */
    stream_cols_values(t, s, r, v);
    CHECK(v[0].null[0] == (i % 7 == 0));
    if (i % 7) {
        char want[16];
        int k = snprintf(want, sizeof want, "row%zu", i);
        CHECK(v[0].v.str[0].len == (uint32_t)k && !memcmp(v[0].v.str[0].p, want, (size_t)k));
    }
    CHECK(v[1].null[0] == (i % 5 == 0));
    if (i % 5)
        CHECK(v[1].v.i64[0] == (int64_t)i * 1000 - 7);
    CHECK(!v[2].null[0] && v[2].v.f64[0] == (double)i / 4);
    CHECK(!v[3].null[0] && v[3].v.b[0] == (i % 3 == 0));
    CHECK(!v[4].null[0] && v[4].v.i64[0] == 1795255200000000LL + (int64_t)i);
}

static void test_push_and_grow(void)
{
    stream_schema s;
    mk_schema(&s);
    stream_cols t = {0};
    enum { N = 5000 };   /* several doublings past the first 1024 rows */
    for (size_t i = 0; i < N; i++) {
        stream_cell c[5];
        mk_row(i, c);
        CHECK(stream_cols_push(&t, &s, c, 5, (int64_t)(i / 1000)) == 0);
    }
    CHECK(t.nrows == N && t.ncols == 5);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
        int before = test_failed_checks;
        check_row(&t, &s, i, i);
        bad += test_failed_checks != before;
        CHECK(t.days[i] == (int64_t)(i / 1000));
    }
    CHECK(bad == 0);
    /* cleared: no rows, memory kept, and reusable */
    size_t cap = t.cap;
    stream_cols_clear(&t);
    CHECK(t.nrows == 0 && t.cap == cap);
    stream_cell c[5];
    mk_row(3, c);
    CHECK(stream_cols_push(&t, &s, c, 5, 0) == 0);
    check_row(&t, &s, 0, 3);
    stream_cols_free(&t);
    stream_schema_free(&s);
}

/* A column inferred after rows were pushed is NULL for them; a row built before the column
 * existed (fewer cells than the schema) is NULL there too. */
static void test_inferred_column(void)
{
    stream_schema s;
    mk_schema(&s);
    stream_cols t = {0};
    stream_cell c[6];
    for (size_t i = 0; i < 3; i++) {
        mk_row(i + 1, c);
        CHECK(stream_cols_push(&t, &s, c, 5, 0) == 0);
    }
    add(&s, "level", SPEC_COL_BIGINT);
    mk_row(4, c);
    c[5] = (stream_cell){.kind = STREAM_CELL_I64, .v.i = 99};
    CHECK(stream_cols_push(&t, &s, c, 6, 0) == 0);
    mk_row(5, c);
    CHECK(stream_cols_push(&t, &s, c, 5, 0) == 0);   /* a row with 5 cells */
    CHECK(t.ncols == 6 && t.nrows == 5);
    pq_values v[16];
    stream_cols_values(&t, &s, 0, v);
    CHECK(v[5].null[0] && v[5].null[1] && v[5].null[2]);
    CHECK(!v[5].null[3] && v[5].v.i64[3] == 99);
    CHECK(v[5].null[4]);
    for (size_t r = 0; r < 5; r++)
        check_row(&t, &s, r, r + 1);
    /* fit alone (a column no pushed row had yet) */
    add(&s, "zone", SPEC_COL_VARCHAR);
    CHECK(stream_cols_fit(&t, &s) == 0 && t.ncols == 7);
    stream_cols_values(&t, &s, 0, v);
    for (size_t r = 0; r < 5; r++)
        CHECK(v[6].null[r]);
    stream_cols_free(&t);
    stream_schema_free(&s);
}

/* The second router's rows come after the first's, values intact; a column only one side
 * has is NULL on the other. */
static void test_append(void)
{
    stream_schema s;
    mk_schema(&s);
    stream_cols a = {0}, b = {0};
    stream_cell c[6];
    for (size_t i = 0; i < 1500; i++) {
        mk_row(i, c);
        CHECK(stream_cols_push(i < 700 ? &a : &b, &s, c, 5, (int64_t)i) == 0);
    }
    CHECK(stream_cols_append(&a, &b, &s) == 0);
    CHECK(a.nrows == 1500);
    size_t bad = 0;
    for (size_t i = 0; i < 1500; i++) {
        int before = test_failed_checks;
        check_row(&a, &s, i, i);
        CHECK(a.days[i] == (int64_t)i);
        bad += test_failed_checks != before;
    }
    CHECK(bad == 0);
    /* src without the newer column */
    add(&s, "level", SPEC_COL_BIGINT);
    mk_row(9, c);
    stream_cols d = {0};
    c[5] = (stream_cell){.kind = STREAM_CELL_I64, .v.i = 5};
    CHECK(stream_cols_push(&d, &s, c, 6, 0) == 0);
    stream_cols e = {0};
    stream_schema s5;
    mk_schema(&s5);
    CHECK(stream_cols_push(&e, &s5, c, 5, 0) == 0);   /* 5 columns only */
    CHECK(stream_cols_append(&d, &e, &s) == 0);
    pq_values v[16];
    stream_cols_values(&d, &s, 0, v);
    CHECK(d.nrows == 2 && !v[5].null[0] && v[5].v.i64[0] == 5 && v[5].null[1]);
    check_row(&d, &s, 1, 9);
    stream_cols_free(&a);
    stream_cols_free(&b);
    stream_cols_free(&d);
    stream_cols_free(&e);
    stream_schema_free(&s);
    stream_schema_free(&s5);
}

/* The rows of one dt, in their order, when a batch spans several days. */
static void test_select_by_day(void)
{
    stream_schema s;
    mk_schema(&s);
    stream_cols t = {0}, sel = {0};
    stream_cell c[5];
    for (size_t i = 0; i < 3000; i++) {
        mk_row(i, c);
        CHECK(stream_cols_push(&t, &s, c, 5, (int64_t)(i % 3)) == 0);
    }
    for (int64_t day = 0; day < 3; day++) {
        CHECK(stream_cols_select(&sel, &t, &s, day) == 0);
        CHECK(sel.nrows == 1000);
        size_t bad = 0;
        for (size_t k = 0; k < sel.nrows; k++) {
            int before = test_failed_checks;
            check_row(&sel, &s, k, k * 3 + (size_t)day);
            CHECK(sel.days[k] == day);
            bad += test_failed_checks != before;
        }
        CHECK(bad == 0);
    }
    CHECK(stream_cols_select(&sel, &t, &s, 7) == 0 && sel.nrows == 0);
    stream_cols_free(&t);
    stream_cols_free(&sel);
    stream_schema_free(&s);
}

int main(void)
{
    RUN(test_push_and_grow);
    RUN(test_inferred_column);
    RUN(test_append);
    RUN(test_select_by_day);
    return test_summary();
}
