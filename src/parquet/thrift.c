/* thrift.c — Thrift compact protocol, write side (see thrift.h). */
#include "parquet/thrift.h"

#include <errno.h>
#include <string.h>

void thrift_init(thrift_writer *t, sl_buf *b)
{
    memset(t, 0, sizeof *t);
    t->b = b;
}

int thrift_error(const thrift_writer *t)
{
    if (t->err)
        return t->err;
    return t->depth == 0 ? 0 : -EINVAL;   /* a struct left open is a bug of the caller */
}

static void put(thrift_writer *t, const void *p, size_t n)
{
    if (t->err)
        return;
    int rc = sl_buf_add(t->b, p, n);
    if (rc < 0)
        t->err = rc;
}

int thrift_uleb128(sl_buf *b, uint64_t v)
{
    uint8_t out[10];
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return sl_buf_add(b, out, n);
}

void thrift_varint(thrift_writer *t, uint64_t v)
{
    if (t->err)
        return;
    int rc = thrift_uleb128(t->b, v);
    if (rc < 0)
        t->err = rc;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field_header(thrift_writer *t, int16_t id, int type)
{
    int16_t *last = &t->last[t->depth];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        uint8_t h = (uint8_t)(delta << 4 | type);
        put(t, &h, 1);
    } else {
        uint8_t h = (uint8_t)type;
        put(t, &h, 1);
        thrift_varint(t, zigzag(id));
    }
    *last = id;
}

static void push(thrift_writer *t)
{
    if (t->depth + 1 >= THRIFT_MAX_DEPTH) {
        if (!t->err)
            t->err = -E2BIG;
        return;
    }
    t->last[++t->depth] = 0;
}

void thrift_i32(thrift_writer *t, int16_t id, int32_t v)
{
    field_header(t, id, THRIFT_I32);
    thrift_varint(t, zigzag(v));
}

void thrift_i64(thrift_writer *t, int16_t id, int64_t v)
{
    field_header(t, id, THRIFT_I64);
    thrift_varint(t, zigzag(v));
}

void thrift_bool(thrift_writer *t, int16_t id, bool v)
{
    field_header(t, id, v ? THRIFT_BOOL_TRUE : THRIFT_BOOL_FALSE);
}

void thrift_binary(thrift_writer *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, THRIFT_BINARY);
    thrift_elem_binary(t, p, n);
}

void thrift_string(thrift_writer *t, int16_t id, const char *s)
{
    thrift_binary(t, id, s, strlen(s));
}

void thrift_struct_begin(thrift_writer *t, int16_t id)
{
    field_header(t, id, THRIFT_STRUCT);
    push(t);
}

void thrift_end(thrift_writer *t)
{
    uint8_t stop = 0;
    put(t, &stop, 1);
    if (t->depth > 0)
        t->depth--;
}

void thrift_list_begin(thrift_writer *t, int16_t id, int elem_type, size_t n)
{
    field_header(t, id, THRIFT_LIST);
    if (n < 15) {
        uint8_t h = (uint8_t)(n << 4 | (size_t)elem_type);
        put(t, &h, 1);
    } else {
        uint8_t h = (uint8_t)(0xF0 | elem_type);
        put(t, &h, 1);
        thrift_varint(t, n);
    }
}

void thrift_elem_i32(thrift_writer *t, int32_t v)
{
    thrift_varint(t, zigzag(v));
}

void thrift_elem_binary(thrift_writer *t, const void *p, size_t n)
{
    thrift_varint(t, n);
    put(t, p, n);
}

void thrift_elem_struct_begin(thrift_writer *t)
{
    push(t);
}
