/* thrift.h — the write half of Thrift's compact protocol, as Parquet's metadata uses it.
 *
 * Encoding (Apache Thrift, "compact protocol"):
 *   - integers: i16/i32/i64 zigzag-encoded, then ULEB128 varints;
 *   - a field: a header byte (delta << 4 | type) when the field id is 1..15 above the
 *     previous field id of the same struct, else the type byte and the id as a zigzag
 *     varint; a bool field carries its value in the type (1 true, 2 false);
 *   - binary/string: varint length, then the bytes;
 *   - list: (size << 4 | element type) for fewer than 15 elements, else (0xF0 | type)
 *     and a varint size; struct elements follow one after the other;
 *   - a struct ends with a 0 byte; field ids start again from 0 inside a nested struct.
 *
 * Usage: thrift_init(&t, &buf); thrift_i32(&t, 1, 42); thrift_struct_begin(&t, 3); ...
 * thrift_end(&t); then thrift_error(&t) is 0 or the first -errno of the buffer. Errors
 * are sticky: after one, calls do nothing. Not thread-safe (one writer per buffer).
 */
#ifndef SLUICE_PARQUET_THRIFT_H
#define SLUICE_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum {
    THRIFT_BOOL_TRUE = 1, THRIFT_BOOL_FALSE = 2, THRIFT_BYTE = 3, THRIFT_I16 = 4,
    THRIFT_I32 = 5, THRIFT_I64 = 6, THRIFT_DOUBLE = 7, THRIFT_BINARY = 8, THRIFT_LIST = 9,
    THRIFT_SET = 10, THRIFT_MAP = 11, THRIFT_STRUCT = 12,
};

#define THRIFT_MAX_DEPTH 16

typedef struct thrift_writer {
    sl_buf *b;
    int16_t last[THRIFT_MAX_DEPTH];   /* previous field id, per open struct */
    int     depth;
    int     err;                      /* first error (-errno), sticky */
} thrift_writer;

void thrift_init(thrift_writer *t, sl_buf *b);
int  thrift_error(const thrift_writer *t);

/* Fields of the current struct. */
void thrift_i32(thrift_writer *t, int16_t id, int32_t v);
void thrift_i64(thrift_writer *t, int16_t id, int64_t v);
void thrift_bool(thrift_writer *t, int16_t id, bool v);
void thrift_binary(thrift_writer *t, int16_t id, const void *p, size_t n);
void thrift_string(thrift_writer *t, int16_t id, const char *s);
/* A struct field: its fields follow, then thrift_end(). */
void thrift_struct_begin(thrift_writer *t, int16_t id);
/* Ends the innermost struct (a struct field, a list element, or the top level). */
void thrift_end(thrift_writer *t);
/* A list field of n elements of elem_type; then n elements: */
void thrift_list_begin(thrift_writer *t, int16_t id, int elem_type, size_t n);
void thrift_elem_i32(thrift_writer *t, int32_t v);
void thrift_elem_binary(thrift_writer *t, const void *p, size_t n);
void thrift_elem_struct_begin(thrift_writer *t);   /* its fields, then thrift_end() */

/* Lower-level, shared with the Parquet encodings: v as ULEB128 (7 bits a byte, low
 * first), appended to b. 0 or the buffer's -errno. */
int  thrift_uleb128(sl_buf *b, uint64_t v);
void thrift_varint(thrift_writer *t, uint64_t v);

#endif
