/* cols.h — one table's rows of a batch, stored by column.
 *
 * The router converts an event into cells (row.h) in a scratch row that stays in the
 * cache, then scatters the cells into the table's column arrays (stream_cols_push); a
 * file is then written straight from those arrays (writer.h), without a pass that turns
 * rows into columns. Before, each row's cells were copied into the batch arena and the
 * lane transposed them back into columns: a second trip through memory far larger than
 * the caches, for every cell of every row.
 *
 * Column c of a table holds, for rows [0, nrows): null[c][r] (1 = NULL) and the values,
 * one slot per row (a NULL row's slot is not read), in the type the Parquet writer takes:
 *     varchar            pq_str   (points into the batch: a log record or its arena)
 *     bigint, timestamp  int64_t  (timestamps in microseconds since the epoch)
 *     double             double
 *     boolean            uint8_t  (0 or 1)
 * A column added by inference after rows were pushed is NULL for those rows.
 *
 * The arrays keep their memory from batch to batch (stream_cols_clear); nothing here is
 * thread-safe: one router fills a stream_cols, and lanes only read it afterwards.
 */
#ifndef SLUICE_STREAM_COLS_H
#define SLUICE_STREAM_COLS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet.h"
#include "stream/row.h"

typedef struct stream_colvec {
    uint8_t *null;
    void    *val;
    uint8_t  width;   /* bytes per value: 16 (pq_str), 8, or 1 (boolean) */
} stream_colvec;

typedef struct stream_cols {
    stream_colvec *col;
    size_t         ncols, capcols;   /* columns with arrays */
    size_t         nrows, cap;       /* rows, and rows of room in every column */
    int64_t       *days;             /* each row's dt (days since the epoch) */
} stream_cols;

/* Gives t the columns of s it lacks (NULL for the rows it holds). 0 or -ENOMEM. */
int stream_cols_fit(stream_cols *t, const stream_schema *s);

/* Appends src's rows to dst (columns either lacks are NULL there). */
int stream_cols_append(stream_cols *dst, const stream_cols *src, const stream_schema *s);

/* dst = the rows of src whose day is `day` (dst is cleared first). */
int stream_cols_select(stream_cols *dst, const stream_cols *src, const stream_schema *s,
                       int64_t day);

/* The column arrays from row r0 on, as the Parquet writer takes them, for the first
 * s->ncols columns (t must have them: stream_cols_fit). */
void stream_cols_values(const stream_cols *t, const stream_schema *s, size_t r0,
                        pq_values *vals);

void stream_cols_clear(stream_cols *t);   /* no rows; memory kept */
void stream_cols_free(stream_cols *t);

/* (stream_cols_push's slow path: room for a row, and the columns of s) */
int stream_cols_grow_for(stream_cols *t, const stream_schema *s);

/* Appends one row: cells[0..ncells) of schema s (columns past ncells are NULL). Its dt is
 * `day`. 0 or -ENOMEM. */
static inline int stream_cols_push(stream_cols *t, const stream_schema *s,
                                   const stream_cell *cells, size_t ncells, int64_t day)
{
    if ((t->nrows == t->cap || t->ncols < s->ncols) && stream_cols_grow_for(t, s) < 0)
        return -ENOMEM;
    size_t r = t->nrows;
    size_t n = ncells < s->ncols ? ncells : s->ncols;
    for (size_t c = 0; c < n; c++) {
        const stream_cell *cell = &cells[c];
        stream_colvec *v = &t->col[c];
        bool isnull = cell->kind == STREAM_CELL_NULL;
        v->null[r] = isnull;
        if (isnull)
            continue;
        switch (s->cols[c].type) {
        case SPEC_COL_VARCHAR:
            ((pq_str *)v->val)[r] = (pq_str){cell->v.s, cell->len};
            break;
        case SPEC_COL_DOUBLE:
            ((double *)v->val)[r] = cell->v.d;
            break;
        case SPEC_COL_BOOLEAN:
            ((uint8_t *)v->val)[r] = cell->v.i != 0;
            break;
        default:
            ((int64_t *)v->val)[r] = cell->v.i;
            break;
        }
    }
    for (size_t c = n; c < t->ncols; c++)
        t->col[c].null[r] = 1;
    t->days[r] = day;
    t->nrows = r + 1;
    return 0;
}

#endif
