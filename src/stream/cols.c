/* cols.c — a table's rows of a batch by column (see cols.h). */
#include "stream/cols.h"

#include <stdlib.h>
#include <string.h>

static uint8_t width_of(spec_col_type t)
{
    switch (t) {
    case SPEC_COL_VARCHAR: return (uint8_t)sizeof(pq_str);
    case SPEC_COL_BOOLEAN: return 1;
    default:               return 8;
    }
}

/* Every column (and the days) with room for cap rows. */
static int grow_rows(stream_cols *t, size_t cap)
{
    if (cap <= t->cap)
        return 0;
    for (size_t c = 0; c < t->ncols; c++) {
        stream_colvec *v = &t->col[c];
        uint8_t *nl = realloc(v->null, cap);
        if (!nl)
            return -ENOMEM;
        v->null = nl;
        void *nv = realloc(v->val, cap * v->width);
        if (!nv)
            return -ENOMEM;
        v->val = nv;
    }
    int64_t *d = realloc(t->days, cap * sizeof *d);
    if (!d)
        return -ENOMEM;
    t->days = d;
    t->cap = cap;
    return 0;
}

/* Room for n more rows in every column. */
static int reserve(stream_cols *t, size_t n)
{
    if (t->nrows + n <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < t->nrows + n)
        cap *= 2;
    return grow_rows(t, cap);
}

int stream_cols_fit(stream_cols *t, const stream_schema *s)
{
    if (t->ncols >= s->ncols)
        return 0;
    if (s->ncols > t->capcols) {
        stream_colvec *nc = realloc(t->col, s->ncols * sizeof *nc);
        if (!nc)
            return -ENOMEM;
        t->col = nc;
        t->capcols = s->ncols;
    }
    size_t cap = t->cap ? t->cap : 1024;
    while (t->ncols < s->ncols) {
        stream_colvec *v = &t->col[t->ncols];
        v->width = width_of(s->cols[t->ncols].type);
        v->null = malloc(cap);
        v->val = malloc(cap * v->width);
        if (!v->null || !v->val) {
            free(v->null);
            free(v->val);
            return -ENOMEM;
        }
        memset(v->null, 1, t->nrows);   /* the rows pushed before the column existed */
        t->ncols++;
    }
    if (!t->days && !(t->days = malloc(cap * sizeof *t->days)))
        return -ENOMEM;
    t->cap = cap;
    return 0;
}

int stream_cols_grow_for(stream_cols *t, const stream_schema *s)
{
    int rc = stream_cols_fit(t, s);
    return rc < 0 ? rc : reserve(t, 1);
}

int stream_cols_append(stream_cols *dst, const stream_cols *src, const stream_schema *s)
{
    if (src->nrows == 0)
        return 0;
    if (stream_cols_fit(dst, s) < 0 || reserve(dst, src->nrows) < 0)
        return -ENOMEM;
    size_t r = dst->nrows, n = src->nrows;
    for (size_t c = 0; c < dst->ncols; c++) {
        stream_colvec *d = &dst->col[c];
        if (c < src->ncols) {
            memcpy(d->null + r, src->col[c].null, n);
            memcpy((char *)d->val + r * d->width, src->col[c].val, n * d->width);
        } else {
            memset(d->null + r, 1, n);
        }
    }
    memcpy(dst->days + r, src->days, n * sizeof *dst->days);
    dst->nrows += n;
    return 0;
}

int stream_cols_select(stream_cols *dst, const stream_cols *src, const stream_schema *s,
                       int64_t day)
{
    stream_cols_clear(dst);
    if (stream_cols_fit(dst, s) < 0 || reserve(dst, src->nrows) < 0)
        return -ENOMEM;
    size_t k = 0;
    for (size_t r = 0; r < src->nrows; r++) {
        if (src->days[r] != day)
            continue;
        for (size_t c = 0; c < dst->ncols; c++) {
            stream_colvec *d = &dst->col[c];
            if (c < src->ncols) {
                d->null[k] = src->col[c].null[r];
                memcpy((char *)d->val + k * d->width, (const char *)src->col[c].val + r * d->width,
                       d->width);
            } else {
                d->null[k] = 1;
            }
        }
        dst->days[k++] = day;
    }
    dst->nrows = k;
    return 0;
}

void stream_cols_values(const stream_cols *t, const stream_schema *s, size_t r0,
                        pq_values *vals)
{
    for (size_t c = 0; c < s->ncols; c++) {
        const stream_colvec *v = &t->col[c];
        const char *base = (const char *)v->val + r0 * v->width;
        vals[c].null = v->null + r0;
        switch (s->cols[c].type) {
        case SPEC_COL_VARCHAR: vals[c].v.str = (const pq_str *)(const void *)base; break;
        case SPEC_COL_DOUBLE:  vals[c].v.f64 = (const double *)(const void *)base; break;
        case SPEC_COL_BOOLEAN: vals[c].v.b = (const uint8_t *)base; break;
        default:               vals[c].v.i64 = (const int64_t *)(const void *)base; break;
        }
    }
}

void stream_cols_clear(stream_cols *t)
{
    t->nrows = 0;
}

void stream_cols_free(stream_cols *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->col[c].null);
        free(t->col[c].val);
    }
    free(t->col);
    free(t->days);
    memset(t, 0, sizeof *t);
}
