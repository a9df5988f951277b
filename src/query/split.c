/* split.c — statement boundaries (rules in split.h). */
#include "query/split.h"

#include <ctype.h>
#include <string.h>

/* Skips the quoted/commented region starting at s[i] if there is one; returns the index
 * just past it (len when unterminated), or i when s[i] does not start one. */
static size_t skip(const char *s, size_t len, size_t i)
{
    char c = s[i];
    if (c == '\'' || c == '"') {
        for (size_t j = i + 1; j < len; j++) {
            if (s[j] == c) {
                if (j + 1 < len && s[j + 1] == c) { /* doubled quote: an escaped quote */
                    j++;
                    continue;
                }
                return j + 1;
            }
        }
        return len;
    }
    if (c == '-' && i + 1 < len && s[i + 1] == '-') {
        const char *nl = memchr(s + i, '\n', len - i);
        return nl ? (size_t)(nl - s) + 1 : len;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '*') {
        for (size_t j = i + 2; j + 1 < len; j++)
            if (s[j] == '*' && s[j + 1] == '/')
                return j + 2;
        return len;
    }
    if (c == '$') { /* $$...$$ or $tag$...$tag$ */
        size_t j = i + 1;
        while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_'))
            j++;
        if (j >= len || s[j] != '$')
            return i;
        if (j > i + 1 && isdigit((unsigned char)s[i + 1]))
            return i; /* $1 is a parameter */
        size_t taglen = j - i + 1;
        for (size_t k = j + 1; k + taglen <= len; k++)
            if (!memcmp(s + k, s + i, taglen))
                return k + taglen;
        return len;
    }
    return i;
}

size_t q_split(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = skip(s, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (s[i] == ';')
            return i + 1;
        i++;
    }
    return 0;
}

bool q_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (isspace((unsigned char)s[i]) || s[i] == ';') {
            i++;
            continue;
        }
        bool comment = (s[i] == '-' && i + 1 < len && s[i + 1] == '-') ||
                       (s[i] == '/' && i + 1 < len && s[i + 1] == '*');
        if (!comment)
            return false;
        i = skip(s, len, i);
    }
    return true;
}
