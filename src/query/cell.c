/* cell.c — result cells as text or JSON (rules in cell.h).
 *
 * A column's logical type is unpacked once into a q_type tree (children of lists, arrays,
 * maps, structs and unions; storage type of decimals and enums), so rendering a cell is a
 * walk over the vectors without asking DuckDB about types again. Text of anything that is
 * not a plain number or string is DuckDB's own cast: the cell is rebuilt as a duckdb_value
 * (recursively for nested values) and duckdb_get_varchar() casts it, which is the code path
 * of CAST(x AS VARCHAR) — so quoting inside lists ('b c', 'it\'s') and every type's format
 * are DuckDB's, not a copy of its rules.
 */
#include "query/cell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

typedef struct q_type {
    duckdb_logical_type lt;       /* owned */
    duckdb_type         id;
    duckdb_type         internal; /* DECIMAL, ENUM: the storage type */
    uint8_t             width, scale;
    idx_t               array_size;
    size_t              nkids;
    struct q_type      *kids;     /* LIST/ARRAY: element; MAP: key, value; STRUCT/UNION: members */
    char              **names;    /* STRUCT/UNION member names (duckdb_free) */
} q_type;

struct q_rows {
    idx_t              ncols, nrows, nchunks;
    duckdb_data_chunk *chunks;
    idx_t             *first; /* first row of each chunk */
    q_type            *types; /* one per column */
    idx_t              cur;   /* chunk of the last lookup: rows are mostly read in order */
};

/* ---------------------------------------------------------------- types */

static void type_free(q_type *t)
{
    for (size_t i = 0; i < t->nkids; i++) {
        if (t->kids)
            type_free(&t->kids[i]);
        if (t->names)
            duckdb_free(t->names[i]);
    }
    free(t->kids);
    free(t->names);
    if (t->lt)
        duckdb_destroy_logical_type(&t->lt);
}

/* Takes ownership of lt. 0 or -ENOMEM (t is then still safe to type_free). */
static int type_build(q_type *t, duckdb_logical_type lt)
{
    memset(t, 0, sizeof *t);
    t->lt = lt;
    if (!lt)
        return -ENOMEM;
    t->id = duckdb_get_type_id(lt);
    size_t n = 0;
    bool named = false;
    switch (t->id) {
    case DUCKDB_TYPE_DECIMAL:
        t->width = duckdb_decimal_width(lt);
        t->scale = duckdb_decimal_scale(lt);
        t->internal = duckdb_decimal_internal_type(lt);
        return 0;
    case DUCKDB_TYPE_ENUM: t->internal = duckdb_enum_internal_type(lt); return 0;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: n = 1; break;
    case DUCKDB_TYPE_MAP: n = 2; break;
    case DUCKDB_TYPE_STRUCT: n = duckdb_struct_type_child_count(lt); named = true; break;
    case DUCKDB_TYPE_UNION: n = duckdb_union_type_member_count(lt); named = true; break;
    default: return 0;
    }
    if (t->id == DUCKDB_TYPE_ARRAY)
        t->array_size = duckdb_array_type_array_size(lt);
    t->kids = calloc(n ? n : 1, sizeof *t->kids);
    t->names = named ? calloc(n ? n : 1, sizeof *t->names) : NULL;
    if (!t->kids || (named && !t->names))
        return -ENOMEM;
    t->nkids = n;
    for (size_t i = 0; i < n; i++) {
        duckdb_logical_type k;
        switch (t->id) {
        case DUCKDB_TYPE_LIST: k = duckdb_list_type_child_type(lt); break;
        case DUCKDB_TYPE_ARRAY: k = duckdb_array_type_child_type(lt); break;
        case DUCKDB_TYPE_MAP:
            k = i ? duckdb_map_type_value_type(lt) : duckdb_map_type_key_type(lt);
            break;
        case DUCKDB_TYPE_STRUCT:
            k = duckdb_struct_type_child_type(lt, i);
            t->names[i] = duckdb_struct_type_child_name(lt, i);
            break;
        default:
            k = duckdb_union_type_member_type(lt, i);
            t->names[i] = duckdb_union_type_member_name(lt, i);
            break;
        }
        if (type_build(&t->kids[i], k) || (named && !t->names[i]))
            return -ENOMEM;
    }
    return 0;
}

/* ---------------------------------------------------------------- open / close */

int q_rows_open(duckdb_result *res, q_rows **out)
{
    *out = NULL;
    q_rows *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->ncols = duckdb_column_count(res);
    r->nchunks = duckdb_result_chunk_count(*res);
    r->types = calloc(r->ncols ? r->ncols : 1, sizeof *r->types);
    r->chunks = calloc(r->nchunks ? r->nchunks : 1, sizeof *r->chunks);
    r->first = calloc(r->nchunks ? r->nchunks : 1, sizeof *r->first);
    if (!r->types || !r->chunks || !r->first)
        goto fail;
    for (idx_t c = 0; c < r->ncols; c++)
        if (type_build(&r->types[c], duckdb_column_logical_type(res, c)))
            goto fail;
    for (idx_t i = 0; i < r->nchunks; i++) {
        r->chunks[i] = duckdb_result_get_chunk(*res, i);
        if (!r->chunks[i])
            goto fail;
        r->first[i] = r->nrows;
        r->nrows += duckdb_data_chunk_get_size(r->chunks[i]);
    }
    *out = r;
    return 0;
fail:
    q_rows_close(r);
    return -ENOMEM;
}

void q_rows_close(q_rows *r)
{
    if (!r)
        return;
    for (idx_t i = 0; r->chunks && i < r->nchunks; i++)
        if (r->chunks[i])
            duckdb_destroy_data_chunk(&r->chunks[i]);
    for (idx_t c = 0; r->types && c < r->ncols; c++)
        type_free(&r->types[c]);
    free(r->chunks);
    free(r->first);
    free(r->types);
    free(r);
}

idx_t q_rows_count(const q_rows *r)
{
    return r->nrows;
}

/* The vector holding (col, row) and the row's index in it. */
static duckdb_vector locate(q_rows *r, idx_t col, idx_t row, idx_t *i)
{
    idx_t k = r->cur;
    if (!(k < r->nchunks && row >= r->first[k] &&
          row - r->first[k] < duckdb_data_chunk_get_size(r->chunks[k]))) {
        idx_t lo = 0, hi = r->nchunks; /* the last chunk whose first row is <= row */
        while (hi - lo > 1) {
            idx_t mid = lo + (hi - lo) / 2;
            if (r->first[mid] <= row)
                lo = mid;
            else
                hi = mid;
        }
        k = r->cur = lo;
    }
    *i = row - r->first[k];
    return duckdb_data_chunk_get_vector(r->chunks[k], col);
}

/* ---------------------------------------------------------------- vectors */

static bool valid(duckdb_vector v, idx_t i)
{
    uint64_t *validity = duckdb_vector_get_validity(v);
    return !validity || duckdb_validity_row_is_valid(validity, i);
}

static duckdb_string_t *str_at(duckdb_vector v, idx_t i)
{
    return &((duckdb_string_t *)duckdb_vector_get_data(v))[i];
}

static duckdb_hugeint decimal_raw(duckdb_vector v, const q_type *t, idx_t i)
{
    void *d = duckdb_vector_get_data(v);
    int64_t x;
    switch (t->internal) {
    case DUCKDB_TYPE_SMALLINT: x = ((int16_t *)d)[i]; break;
    case DUCKDB_TYPE_INTEGER: x = ((int32_t *)d)[i]; break;
    case DUCKDB_TYPE_BIGINT: x = ((int64_t *)d)[i]; break;
    default: return ((duckdb_hugeint *)d)[i];
    }
    return (duckdb_hugeint){.lower = (uint64_t)x, .upper = x < 0 ? -1 : 0};
}

static void destroy_values(duckdb_value *vals, idx_t n)
{
    for (idx_t k = 0; k < n; k++)
        if (vals[k])
            duckdb_destroy_value(&vals[k]);
    free(vals);
}

static duckdb_value value_at(duckdb_vector v, const q_type *t, idx_t i);

/* n values of child vector ch (type t) from index off; NULL when memory ran out. */
static duckdb_value *values_at(duckdb_vector ch, const q_type *t, idx_t off, idx_t n)
{
    duckdb_value *vals = calloc(n ? n : 1, sizeof *vals);
    for (idx_t k = 0; vals && k < n; k++) {
        if (!(vals[k] = value_at(ch, t, off + k))) {
            destroy_values(vals, k);
            return NULL;
        }
    }
    return vals;
}

/* The element as a duckdb_value (NULL when memory ran out or the type is unknown). */
static duckdb_value value_at(duckdb_vector v, const q_type *t, idx_t i)
{
    if (!valid(v, i))
        return duckdb_create_null_value();
    void *d = duckdb_vector_get_data(v);
    switch (t->id) {
    case DUCKDB_TYPE_BOOLEAN: return duckdb_create_bool(((bool *)d)[i]);
    case DUCKDB_TYPE_TINYINT: return duckdb_create_int8(((int8_t *)d)[i]);
    case DUCKDB_TYPE_SMALLINT: return duckdb_create_int16(((int16_t *)d)[i]);
    case DUCKDB_TYPE_INTEGER: return duckdb_create_int32(((int32_t *)d)[i]);
    case DUCKDB_TYPE_BIGINT: return duckdb_create_int64(((int64_t *)d)[i]);
    case DUCKDB_TYPE_UTINYINT: return duckdb_create_uint8(((uint8_t *)d)[i]);
    case DUCKDB_TYPE_USMALLINT: return duckdb_create_uint16(((uint16_t *)d)[i]);
    case DUCKDB_TYPE_UINTEGER: return duckdb_create_uint32(((uint32_t *)d)[i]);
    case DUCKDB_TYPE_UBIGINT: return duckdb_create_uint64(((uint64_t *)d)[i]);
    case DUCKDB_TYPE_HUGEINT: return duckdb_create_hugeint(((duckdb_hugeint *)d)[i]);
    case DUCKDB_TYPE_UHUGEINT: return duckdb_create_uhugeint(((duckdb_uhugeint *)d)[i]);
    case DUCKDB_TYPE_FLOAT: return duckdb_create_float(((float *)d)[i]);
    case DUCKDB_TYPE_DOUBLE: return duckdb_create_double(((double *)d)[i]);
    case DUCKDB_TYPE_DATE: return duckdb_create_date(((duckdb_date *)d)[i]);
    case DUCKDB_TYPE_TIME: return duckdb_create_time(((duckdb_time *)d)[i]);
    case DUCKDB_TYPE_TIME_NS: return duckdb_create_time_ns(((duckdb_time_ns *)d)[i]);
    case DUCKDB_TYPE_TIME_TZ: return duckdb_create_time_tz_value(((duckdb_time_tz *)d)[i]);
    case DUCKDB_TYPE_TIMESTAMP: return duckdb_create_timestamp(((duckdb_timestamp *)d)[i]);
    case DUCKDB_TYPE_TIMESTAMP_TZ: return duckdb_create_timestamp_tz(((duckdb_timestamp *)d)[i]);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return duckdb_create_timestamp_s(((duckdb_timestamp_s *)d)[i]);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return duckdb_create_timestamp_ms(((duckdb_timestamp_ms *)d)[i]);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return duckdb_create_timestamp_ns(((duckdb_timestamp_ns *)d)[i]);
    case DUCKDB_TYPE_INTERVAL: return duckdb_create_interval(((duckdb_interval *)d)[i]);
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t *s = str_at(v, i);
        return duckdb_create_varchar_length(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = str_at(v, i);
        return duckdb_create_blob((const uint8_t *)duckdb_string_t_data(s),
                                  duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_BIT: {
        /* stored as DuckDB's bit string: a padding-count byte, then the bits */
        duckdb_string_t *s = str_at(v, i);
        duckdb_bit b = {.data = (uint8_t *)duckdb_string_t_data(s),
                        .size = duckdb_string_t_length(*s)};
        return duckdb_create_bit(b);
    }
    case DUCKDB_TYPE_DECIMAL: {
        duckdb_decimal dec = {.width = t->width, .scale = t->scale,
                              .value = decimal_raw(v, t, i)};
        return duckdb_create_decimal(dec);
    }
    case DUCKDB_TYPE_UUID: {
        /* stored as a hugeint with the top bit flipped (so that it sorts); the C API
         * takes the unsigned form */
        duckdb_hugeint h = ((duckdb_hugeint *)d)[i];
        duckdb_uhugeint u = {.lower = h.lower, .upper = (uint64_t)h.upper ^ (1ull << 63)};
        return duckdb_create_uuid(u);
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t k = t->internal == DUCKDB_TYPE_UTINYINT    ? ((uint8_t *)d)[i]
                     : t->internal == DUCKDB_TYPE_USMALLINT ? ((uint16_t *)d)[i]
                                                            : ((uint32_t *)d)[i];
        return duckdb_create_enum_value(t->lt, k);
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[i];
        duckdb_vector ch = duckdb_list_vector_get_child(v);
        duckdb_value out = NULL;
        if (t->id == DUCKDB_TYPE_LIST) {
            duckdb_value *vals = values_at(ch, &t->kids[0], e.offset, e.length);
            if (vals)
                out = duckdb_create_list_value(t->kids[0].lt, vals, e.length);
            destroy_values(vals, vals ? e.length : 0);
            return out;
        }
        /* a map is a list of struct(key, value) */
        duckdb_value *keys = values_at(duckdb_struct_vector_get_child(ch, 0), &t->kids[0],
                                       e.offset, e.length);
        duckdb_value *vals = keys ? values_at(duckdb_struct_vector_get_child(ch, 1),
                                              &t->kids[1], e.offset, e.length)
                                  : NULL;
        if (keys && vals)
            out = duckdb_create_map_value(t->lt, keys, vals, e.length);
        destroy_values(keys, keys ? e.length : 0);
        destroy_values(vals, vals ? e.length : 0);
        return out;
    }
    case DUCKDB_TYPE_ARRAY: {
        idx_t n = t->array_size;
        duckdb_value *vals = values_at(duckdb_array_vector_get_child(v), &t->kids[0], i * n, n);
        duckdb_value out = vals ? duckdb_create_array_value(t->kids[0].lt, vals, n) : NULL;
        destroy_values(vals, vals ? n : 0);
        return out;
    }
    case DUCKDB_TYPE_STRUCT: {
        duckdb_value *vals = calloc(t->nkids ? t->nkids : 1, sizeof *vals);
        idx_t k = 0;
        for (; vals && k < t->nkids; k++)
            if (!(vals[k] = value_at(duckdb_struct_vector_get_child(v, k), &t->kids[k], i)))
                break;
        duckdb_value out = vals && k == t->nkids ? duckdb_create_struct_value(t->lt, vals) : NULL;
        destroy_values(vals, vals ? k : 0);
        return out;
    }
    case DUCKDB_TYPE_UNION: {
        /* a struct: the tag, then one child per member */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(v, 0)))[i];
        if (tag >= t->nkids)
            return NULL;
        duckdb_value m = value_at(duckdb_struct_vector_get_child(v, tag + 1), &t->kids[tag], i);
        duckdb_value out = m ? duckdb_create_union_value(t->lt, tag, m) : NULL;
        if (m)
            duckdb_destroy_value(&m);
        return out;
    }
    case DUCKDB_TYPE_SQLNULL: return duckdb_create_null_value();
    default: return NULL; /* BIGNUM and types newer than this code */
    }
}

/* ---------------------------------------------------------------- text */

static int add_i64(sl_buf *out, int64_t x)
{
    return sl_buf_printf(out, "%" PRId64, x);
}

/* TIMESTAMP and DATE are most of an event table's non-string cells: written here in
 * DuckDB's format (ISO date, time, fraction without trailing zeros) for years 1..9999;
 * 1 (nothing added) for the rest (BC, infinity), which go through DuckDB's cast. */
static int add_date(sl_buf *out, duckdb_date_struct d)
{
    if (d.year < 1 || d.year > 9999)
        return 1;
    return sl_buf_printf(out, "%04d-%02d-%02d", (int)d.year, (int)d.month, (int)d.day);
}

static int add_timestamp(sl_buf *out, duckdb_timestamp ts)
{
    if (!duckdb_is_finite_timestamp(ts))
        return 1;
    duckdb_timestamp_struct t = duckdb_from_timestamp(ts);
    int rc = add_date(out, t.date);
    if (rc)
        return rc;
    rc = sl_buf_printf(out, " %02d:%02d:%02d", (int)t.time.hour, (int)t.time.min,
                       (int)t.time.sec);
    if (rc || !t.time.micros)
        return rc;
    char frac[8];
    int n = snprintf(frac, sizeof frac, "%06d", (int)t.time.micros);
    while (n > 1 && frac[n - 1] == '0')
        frac[--n] = '\0';
    return sl_buf_printf(out, ".%s", frac);
}

/* The text of element i of v; for NULL nothing is added. */
static int text_at(duckdb_vector v, const q_type *t, idx_t i, sl_buf *out)
{
    if (!valid(v, i))
        return 0;
    void *d = duckdb_vector_get_data(v);
    switch (t->id) { /* the common types without a round trip through a duckdb_value */
    case DUCKDB_TYPE_BOOLEAN: return sl_buf_adds(out, ((bool *)d)[i] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT: return add_i64(out, ((int8_t *)d)[i]);
    case DUCKDB_TYPE_SMALLINT: return add_i64(out, ((int16_t *)d)[i]);
    case DUCKDB_TYPE_INTEGER: return add_i64(out, ((int32_t *)d)[i]);
    case DUCKDB_TYPE_BIGINT: return add_i64(out, ((int64_t *)d)[i]);
    case DUCKDB_TYPE_UTINYINT: return add_i64(out, ((uint8_t *)d)[i]);
    case DUCKDB_TYPE_USMALLINT: return add_i64(out, ((uint16_t *)d)[i]);
    case DUCKDB_TYPE_UINTEGER: return add_i64(out, ((uint32_t *)d)[i]);
    case DUCKDB_TYPE_UBIGINT: return sl_buf_printf(out, "%" PRIu64, ((uint64_t *)d)[i]);
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t *s = str_at(v, i);
        return sl_buf_add(out, duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_TIMESTAMP: {
        size_t at = out->len;
        int rc = add_timestamp(out, ((duckdb_timestamp *)d)[i]);
        if (rc <= 0)
            return rc;
        out->len = at; /* a partial date: let DuckDB write it all */
        if (out->p)
            out->p[at] = '\0';
        break;
    }
    case DUCKDB_TYPE_DATE: {
        duckdb_date dt = ((duckdb_date *)d)[i];
        if (duckdb_is_finite_date(dt)) {
            int rc = add_date(out, duckdb_from_date(dt));
            if (rc <= 0)
                return rc;
        }
        break;
    }
    default: break;
    }
    duckdb_value val = value_at(v, t, i);
    char *s = val ? duckdb_get_varchar(val) : NULL;
    int rc = sl_buf_adds(out, s ? s : "?"); /* "?": a type this code does not know */
    duckdb_free(s);
    if (val)
        duckdb_destroy_value(&val);
    return rc;
}

/* ---------------------------------------------------------------- JSON */

static int json_string(sl_buf *out, const char *s, size_t n)
{
    size_t need = json_escaped_len(s, n);
    int rc = sl_buf_reserve(out, need + 1);
    if (rc)
        return rc;
    out->len += json_escape(s, n, out->p + out->len);
    out->p[out->len] = '\0';
    return 0;
}

/* Appends the text of element i as a JSON string. */
static int json_text(duckdb_vector v, const q_type *t, idx_t i, sl_buf *out)
{
    sl_buf tmp;
    sl_buf_init(&tmp, out->max);
    int rc = text_at(v, t, i, &tmp);
    rc = rc ? rc : json_string(out, tmp.p ? tmp.p : "", tmp.len);
    sl_buf_free(&tmp);
    return rc;
}

static int json_at(duckdb_vector v, const q_type *t, idx_t i, sl_buf *out)
{
    if (!valid(v, i))
        return sl_buf_adds(out, "null");
    void *d = duckdb_vector_get_data(v);
    int rc = 0;
    switch (t->id) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL:
        return text_at(v, t, i, out); /* already JSON: true, 42, -1.50 */
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: {
        /* nan, inf and -inf have no JSON literal: they become strings */
        size_t at = out->len;
        if ((rc = text_at(v, t, i, out)))
            return rc;
        const char *p = out->p + at + (out->p[at] == '-');
        if (*p >= '0' && *p <= '9')
            return 0;
        char special[8];
        snprintf(special, sizeof special, "%s", out->p + at);
        out->len = at;
        out->p[at] = '\0';
        return json_string(out, special, strlen(special));
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        duckdb_vector ch;
        idx_t off, n;
        if (t->id == DUCKDB_TYPE_LIST) {
            duckdb_list_entry e = ((duckdb_list_entry *)d)[i];
            ch = duckdb_list_vector_get_child(v);
            off = e.offset;
            n = e.length;
        } else {
            ch = duckdb_array_vector_get_child(v);
            n = t->array_size;
            off = i * n;
        }
        rc = sl_buf_addc(out, '[');
        for (idx_t k = 0; k < n && !rc; k++) {
            rc = k ? sl_buf_addc(out, ',') : 0;
            rc = rc ? rc : json_at(ch, &t->kids[0], off + k, out);
        }
        return rc ? rc : sl_buf_addc(out, ']');
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[i];
        duckdb_vector ch = duckdb_list_vector_get_child(v);
        duckdb_vector keys = duckdb_struct_vector_get_child(ch, 0);
        duckdb_vector vals = duckdb_struct_vector_get_child(ch, 1);
        rc = sl_buf_addc(out, '{');
        for (idx_t k = 0; k < e.length && !rc; k++) {
            rc = k ? sl_buf_addc(out, ',') : 0;
            rc = rc ? rc : json_text(keys, &t->kids[0], e.offset + k, out);
            rc = rc ? rc : sl_buf_addc(out, ':');
            rc = rc ? rc : json_at(vals, &t->kids[1], e.offset + k, out);
        }
        return rc ? rc : sl_buf_addc(out, '}');
    }
    case DUCKDB_TYPE_STRUCT: {
        rc = sl_buf_addc(out, '{');
        for (size_t k = 0; k < t->nkids && !rc; k++) {
            rc = k ? sl_buf_addc(out, ',') : 0;
            rc = rc ? rc : json_string(out, t->names[k], strlen(t->names[k]));
            rc = rc ? rc : sl_buf_addc(out, ':');
            rc = rc ? rc : json_at(duckdb_struct_vector_get_child(v, k), &t->kids[k], i, out);
        }
        return rc ? rc : sl_buf_addc(out, '}');
    }
    case DUCKDB_TYPE_UNION: {
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(v, 0)))[i];
        if (tag >= t->nkids)
            return sl_buf_adds(out, "null");
        return json_at(duckdb_struct_vector_get_child(v, tag + 1), &t->kids[tag], i, out);
    }
    default: return json_text(v, t, i, out);
    }
}

/* ---------------------------------------------------------------- cells */

bool q_rows_is_null(q_rows *r, idx_t col, idx_t row)
{
    idx_t i;
    duckdb_vector v = locate(r, col, row, &i);
    return !valid(v, i);
}

int q_rows_text(q_rows *r, idx_t col, idx_t row, sl_buf *out)
{
    idx_t i;
    duckdb_vector v = locate(r, col, row, &i);
    return text_at(v, &r->types[col], i, out);
}

int q_rows_json(q_rows *r, idx_t col, idx_t row, sl_buf *out)
{
    idx_t i;
    duckdb_vector v = locate(r, col, row, &i);
    return json_at(v, &r->types[col], i, out);
}
