/* split.h — finding statement ends in SQL text (for -e, -f, stdin and the REPL).
 *
 * A ';' ends a statement unless it is inside a 'string' (with '' escapes), a "quoted
 * identifier", a -- line comment, a block comment or a $$ / $tag$ dollar-quoted string.
 * This is only a lexer for statement boundaries: the statement text goes to DuckDB as
 * written. Pure functions, thread-safe.
 */
#ifndef SLUICE_QUERY_SPLIT_H
#define SLUICE_QUERY_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the first complete statement in s[0..len), including its ';', or 0 when the
 * text holds no ';' outside quotes and comments. */
size_t q_split(const char *s, size_t len);

/* True when s[0..len) holds only whitespace, comments and ';' (nothing to run). */
bool q_blank(const char *s, size_t len);

#endif
