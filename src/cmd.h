/* cmd.h — the subcommands of the sluice program.
 *
 * Each cmd_<name>() is called with argv[0] == "<name>" and the arguments after it, and
 * returns the process exit status: 0 success, 1 runtime failure, 2 usage error.
 * Every command answers --help (to stdout, exit 0) and rejects unknown flags with usage
 * on stderr and exit 2 (cli_usage_error()).
 */
#ifndef SLUICE_CMD_H
#define SLUICE_CMD_H

int cmd_produce(int argc, char **argv);  /* src/bus/cmd_log.c */
int cmd_tail(int argc, char **argv);     /* src/bus/cmd_log.c */
int cmd_serve(int argc, char **argv);    /* src/collector/cmd_serve.c */
int cmd_stream(int argc, char **argv);   /* src/stream/cmd_stream.c */
int cmd_sql(int argc, char **argv);      /* src/query/cmd_sql.c */
int cmd_tables(int argc, char **argv);   /* src/query/cmd_tables.c */
int cmd_ddl(int argc, char **argv);      /* src/query/cmd_ddl.c */
int cmd_export(int argc, char **argv);   /* src/query/cmd_export.c */
int cmd_bench(int argc, char **argv);    /* src/loadgen/cmd_bench.c */
int cmd_up(int argc, char **argv);       /* src/up/cmd_up.c */
int cmd_kafka_mock(int argc, char **argv); /* src/bus/cmd_kafka_mock.c */

#endif
