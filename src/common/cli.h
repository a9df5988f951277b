/* cli.h — what every subcommand shares on its command line.
 *
 * Each command parses its own flags with getopt_long over a `struct option` table.
 * Before that, cli_env_args() turns the config file and SLUICE_* environment variables
 * into flags, so that a flag, the environment and the config file all set the same
 * options, with this precedence: command line > environment > config file > defaults.
 *     SLUICE_DATA_DIR=/x                 same as   --data-dir=/x
 *     data-dir = /x   (in the file)      same as   --data-dir=/x
 *
 * The config file: `--config FILE` (taken out of argv here, so no command lists it), else
 * $SLUICE_CONFIG, else ./sluice.conf when it exists (a missing default file is not an
 * error; a missing explicit one is). Format, one item a line:
 *     # comment                          comment lines and blank lines
 *     data-dir = /srv/sluice   # note    before any section: every command that has
 *                                        --data-dir; ignored by the others
 *     [serve]                  # note    from here on: only `sluice serve`
 *     listen = 127.0.0.1:5000            a key is a long option without "--"
 *     kafka-opt = compression.type=zstd  repeatable options repeat the key
 *     once = true                        switches take true/false (yes/no, 1/0)
 *     write-key = "  a #b  "   # note    double quotes keep the value as is: blanks, '#'
 *     sasl = x=a#b                       a '#' not after a blank is part of the value
 * A comment starts at a '#' that begins the line or follows a blank (space or tab); a
 * value that must hold " #" is written in double quotes. Sections are command names; an
 * unknown section, a key the command does not take inside its own section, or a
 * malformed line is an error "FILE:LINE: problem" (exit 2), and so is a value from the
 * file that the command refuses (through cli_usage_error / cli_value_error).
 * Repeatable options (--kafka-opt, --write-key) add up across the three sources.
 *
 * Exit status convention for every command: 0 success, 1 runtime failure, 2 usage error.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SLUICE_DEFAULT_DATA_DIR "./sluice-data"

#define CLI_DEFAULT_CONFIG "sluice.conf"

/* Builds a new argv: argv[0] (the command name, which selects the config file's
 * section), then the config file's options for this command, then --name=value for every
 * long option in opts (those with has_arg != no_argument) whose SLUICE_<NAME> variable is
 * set (name upper-cased, '-' as '_'), then the rest of argv without --config. The result
 * lives until exit; *argc is updated. On a config file error it prints
 * "sluice CMD: FILE:LINE: problem" and exits with status 2.
 * Main thread, before the command parses its flags. */
char **cli_env_args(int *argc, char **argv, const struct option *opts);

/* The same, returning NULL with err set instead of exiting (for tests). */
char **cli_build_args(int *argc, char **argv, const struct option *opts, sl_err *err);

/* Reads config file path for command cmd whose options are opts. *out: a NULL-terminated
 * vector of "--name=value" / "--name" strings in file order (free with cli_strv_free).
 * 0; -ENOENT etc. when the file cannot be opened; -EINVAL with "path:line: problem". */
int cli_config_read(const char *path, const char *cmd, const struct option *opts, char ***out,
                    sl_err *err);
void cli_strv_free(char **v);

/* The data directory: flag value if given, else SLUICE_DATA_DIR, else ./sluice-data. */
const char *cli_data_dir(const char *flag);

/* Where a value of the argv built by cli_env_args() came from: "FILE:LINE" for the config
 * file, "SLUICE_NAME" for the environment; NULL for the command line (or any other
 * pointer). value may point anywhere into the "--name=value" string. */
const char *cli_arg_origin(const char *value);

/* Prints "sluice CMD: <message>" and "Try 'sluice CMD --help'." to stderr; returns 2.
 * Called while getopt_long's optarg is the value of the option being handled and that
 * value came from the config file or the environment, the message is prefixed with its
 * origin: "sluice serve: sluice.conf:3: bad --bus 'x': ...". */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a value checked after the option loop (optarg is NULL by then): the
 * origin of value, if any, prefixes the message. */
int cli_value_error(const char *cmd, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses "1500", "1.5s", "250ms", "2m", "1h" into milliseconds. A bare number is in
 * default_unit_ms units (1000 for seconds). 0 on success, -EINVAL otherwise. */
int cli_parse_duration_ms(const char *s, uint64_t default_unit_ms, uint64_t *out_ms);

/* Parses "1048576", "512k", "64MiB", "1G" (powers of 1024) into bytes. */
int cli_parse_size(const char *s, uint64_t *out);

/* Parses a listen address "host:port", "[v6]:port", ":port" or "port" (host defaults to
 * 127.0.0.1: sluice binds loopback unless told otherwise). An IPv6 host needs brackets.
 * The host is written to host[cap]. 0, or -EINVAL. */
int cli_parse_addr(const char *s, char *host, size_t cap, uint16_t *port);

/* Parses a whole non-negative decimal number in [min, max]. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
