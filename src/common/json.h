/* json.h — strict JSON (RFC 8259) validation and zero-copy walking.
 *
 * sluice never builds a DOM: the collector validates a body and splices fields into it,
 * the stream walks the top-level members of each event. Values are spans into the
 * caller's buffer. Input is untrusted: nesting depth is capped, strings must be valid
 * UTF-8 with valid escapes, numbers follow the JSON grammar, and NUL bytes outside
 * escapes are errors.
 *
 * All functions are pure: thread-safe, no allocation.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSON_NONE = 0,
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type;

#define JSON_DEFAULT_MAX_DEPTH 64

typedef struct json_span {
    const char *p;     /* for strings: includes the quotes */
    size_t      len;
} json_span;

typedef struct json_error {
    size_t      pos;   /* byte offset of the problem in the input */
    const char *what;  /* static text: "unterminated string", "nesting too deep", ... */
} json_error;

/* Validates one JSON value starting at buf (leading whitespace allowed). On success
 * returns 0, sets *type and *end (offset just past the value; trailing bytes are not
 * looked at). On failure returns -1 and fills *e. */
int json_validate(const char *buf, size_t len, int max_depth, json_type *type, size_t *end,
                  json_error *e);

/* Validates that buf holds exactly one value, with only whitespace around it. */
int json_validate_whole(const char *buf, size_t len, int max_depth, json_type *type,
                        json_error *e);

/* One top-level member as json_parse_object() records it. */
typedef struct json_field {
    json_span key;            /* the key's string token, with quotes */
    json_span value;          /* the whole value token */
    json_type type;
    bool      key_escaped;    /* the key has a backslash escape (else its bytes are its text) */
    bool      value_escaped;  /* a string value has a backslash escape */
} json_field;

/* json_validate_whole() and, when the value is an object, the walk over its top-level
 * members, in one pass: the members are recorded while they are validated. On success
 * returns 0 and sets *type; for an object *nfields is the number of members (it may exceed
 * max_fields: only the first max_fields are stored, the rest are validated and counted).
 * On failure returns -1 and fills *e, exactly as json_validate_whole() would. */
int json_parse_object(const char *buf, size_t len, int max_depth, json_field *fields,
                      size_t max_fields, size_t *nfields, json_type *type, json_error *e);

/* Iterating the members of an object that json_validate() accepted.
 *     json_iter it; json_member m;
 *     json_iter_init(&it, obj.p, obj.len);
 *     while (json_iter_next(&it, &m)) ...
 * Also iterates the elements of an array (m.key is then empty). */
typedef struct json_iter {
    const char *p, *end;
    bool        array;
    bool        done;
} json_iter;

typedef struct json_member {
    json_span key;     /* the key's string token, with quotes (empty for arrays) */
    json_span value;   /* the whole value token, e.g. "abc" with quotes, 12.5, {...} */
    json_type type;
} json_member;

void json_iter_init(json_iter *it, const char *p, size_t len);
bool json_iter_next(json_iter *it, json_member *m);

/* True when the string token s (with quotes) decodes to exactly the bytes of name. */
bool json_str_eq(json_span s, const char *name, size_t name_len);

/* Decodes the string token s (with quotes) into out (UTF-8, no NUL added). Returns the
 * decoded length, which is never more than s.len - 2; out must have that much room. */
size_t json_str_decode(json_span s, char *out);

/* Writes the JSON string token for bytes p[0..n) into out, which must have room for
 * json_escaped_len(p, n) bytes. Invalid UTF-8 bytes are written as \ufffd. Returns bytes
 * written. Control characters are escaped. */
size_t json_escaped_len(const char *p, size_t n);
size_t json_escape(const char *p, size_t n, char *out);

/* Number token to integer / double. Returns false if it does not fit (integer: not a
 * whole number in int64 range). */
bool json_num_to_i64(json_span num, int64_t *out);
bool json_num_to_double(json_span num, double *out);

#endif
