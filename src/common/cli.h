/* cli.h — what every subcommand shares on its command line.
 *
 * Each command parses its own flags with getopt_long over a `struct option` table.
 * Before that, cli_env_args() turns SLUICE_* environment variables into flags, so that a
 * flag, the environment and (later) the config file all set the same options:
 *     SLUICE_DATA_DIR=/x        same as   --data-dir=/x
 *     SLUICE_FSYNC=always       same as   --fsync=always
 * Flags given on the command line win over the environment.
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

/* Builds a new argv: argv[0], then --name=value for every long option in opts (those
 * with has_arg != no_argument) whose SLUICE_<NAME> variable is set (name upper-cased,
 * '-' as '_'), then the rest of argv. The result lives until exit; *argc is updated. */
char **cli_env_args(int *argc, char **argv, const struct option *opts);

/* The data directory: flag value if given, else SLUICE_DATA_DIR, else ./sluice-data. */
const char *cli_data_dir(const char *flag);

/* Prints "sluice CMD: <message>" and "Try 'sluice CMD --help'." to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
