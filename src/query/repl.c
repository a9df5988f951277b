/* repl.c — the interactive prompt of sluice sql (libedit's readline interface).
 *
 * Lines accumulate until a ';' outside quotes and comments ends a statement (split.h);
 * the continuation prompt shows that more is expected. A whole statement is one history
 * entry. quit, exit (with or without ';'), \q and Ctrl-D leave; help prints a summary.
 * Errors are printed and the loop goes on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <editline/readline.h>

#include "common/buf.h"
#include "query/session.h"
#include "query/split.h"

#define Q_PROMPT "sluice> "
#define Q_PROMPT_MORE "     -> "
#define Q_HISTORY_MAX 1000

static bool is_word(const char *line, const char *w)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strlen(w);
    if (strncasecmp(line, w, n))
        return false;
    line += n;
    while (isspace((unsigned char)*line) || *line == ';')
        line++;
    return *line == '\0';
}

static void help(void)
{
    printf("Statements end with ';' and may span lines.\n"
           "  show tables;             the tables in the catalog\n"
           "  describe <table>;        columns, types, partition columns\n"
           "  select ... ;             any query DuckDB runs (read-only)\n"
           "  quit, exit, Ctrl-D       leave\n");
}

static void add_entry(const char *text, size_t len)
{
    char *h = strndup(text, len);
    if (!h)
        return;
    /* one line per entry: newlines in a multi-line statement become spaces */
    for (char *c = h; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    char *start = h;
    while (isspace((unsigned char)*start))
        start++;
    if (*start)
        add_history(start);
    free(h);
}

int q_repl(q_session *s)
{
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(hist, sizeof hist, "%s/.sluice_history", home);
        using_history();
        stifle_history(Q_HISTORY_MAX);
        read_history(hist); /* a missing file is fine */
    }
    printf("sluice sql — statements end with ';', 'help' for help, 'quit' or Ctrl-D to leave.\n");
    sl_buf b;
    sl_buf_init(&b, Q_STATEMENT_MAX);
    char *line;
    while ((line = readline(b.len ? Q_PROMPT_MORE : Q_PROMPT))) {
        if (!b.len && (is_word(line, "quit") || is_word(line, "exit") || is_word(line, "\\q"))) {
            free(line);
            break;
        }
        if (!b.len && (is_word(line, "help") || is_word(line, "\\?"))) {
            free(line);
            help();
            continue;
        }
        if (sl_buf_adds(&b, line) || sl_buf_addc(&b, '\n')) {
            fprintf(stderr, "Error: statement longer than %u bytes, discarded\n",
                    Q_STATEMENT_MAX);
            sl_buf_reset(&b);
        }
        free(line);
        size_t k;
        while ((k = q_split(b.p, b.len)) > 0) {
            add_entry(b.p, k);
            q_session_run(s, b.p, k);
            memmove(b.p, b.p + k, b.len - k + 1);
            b.len -= k;
        }
        if (q_blank(b.p, b.len))
            sl_buf_reset(&b);
    }
    if (!line)
        putchar('\n'); /* Ctrl-D leaves the cursor after the prompt */
    if (hist[0] && write_history(hist) != 0)
        fprintf(stderr, "warning: could not save history to %s\n", hist);
    sl_buf_free(&b);
    return 0;
}
