/* session.h — running statements for sluice sql: one engine, one output, and the three
 * ways statements arrive (a string from -e, a file or a pipe, the interactive REPL).
 *
 * Single-threaded: a session belongs to the thread that runs cmd_sql().
 */
#ifndef SLUICE_QUERY_SESSION_H
#define SLUICE_QUERY_SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include "query/engine.h"
#include "query/format.h"

#define Q_STATEMENT_MAX (16u << 20) /* one statement's text; longer input is an error */

typedef struct q_session {
    q_engine *eng;
    q_out     out;
    int       errors;  /* statements that failed so far */
    bool      tty;     /* out.f is a terminal: out.width follows its size (read before each
                          statement, so a resized window counts) */
} q_session;

/* Runs one statement (blank ones are skipped) and prints its result to the session output
 * or its error to stderr. Returns 0, -1 when the statement failed, or -EIO (or another
 * negative errno) when the output could not be written. */
int q_session_run(q_session *s, const char *stmt, size_t len);

/* Runs every statement of text in order; the text after the last ';' is a statement too.
 * With stop_on_error the first failure ends the run. Returns 0 or the first failure. */
int q_session_run_text(q_session *s, const char *text, size_t len, bool stop_on_error);

/* Reads statements from in as they arrive (a pipe can feed one statement, wait for its
 * result, then send the next); each is run as soon as its ';' has been read. */
int q_session_run_stream(q_session *s, FILE *in, bool stop_on_error);

/* The interactive loop (libedit): prompt "sluice> ", continuation "     -> ", history in
 * ~/.sluice_history, quit/exit/Ctrl-D leave. Errors are shown and the loop continues.
 * Returns 0. */
int q_repl(q_session *s);

#endif
