/* sluice — app-event tracking pipeline: collector, durable log, stream to Parquet, SQL.
 * This file only dispatches to the subcommands (cmd.h). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "common/version.h"


struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"up",      cmd_up,      "run collector, log, stream and dashboard in one process"},
    {"serve",   cmd_serve,   "run the HTTP collector for an app spec"},
    {"stream",  cmd_stream,  "turn the log into partitioned Parquet tables, exactly once"},
    {"sql",     cmd_sql,     "query the tables (interactive, -e or -f)"},
    {"tables",  cmd_tables,  "list the tables with rows, files, bytes, partitions"},
    {"ddl",     cmd_ddl,     "print CREATE EXTERNAL TABLE statements for Hive, Trino, Spark"},
    {"export",  cmd_export,  "write a table to CSV, JSON or Parquet"},
    {"produce", cmd_produce, "append newline-delimited JSON from stdin to a topic"},
    {"tail",    cmd_tail,    "print the records of a topic, and follow it"},
    {"bench",   cmd_bench,   "load generator driven by a scenario file"},
    {"kafka-mock", cmd_kafka_mock, "run a local Kafka mock cluster (librdkafka) for tests and trials"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "sluice %s — app-event tracking pipeline\n"
            "\n"
            "Usage: sluice <command> [options]\n"
            "\n"
            "Commands:\n",
            SLUICE_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Every command takes --help. Options can also be set in the environment as\n"
            "SLUICE_<OPTION> (e.g. SLUICE_DATA_DIR=/srv/sluice for --data-dir) or in a\n"
            "config file (--config FILE, SLUICE_CONFIG, else ./sluice.conf if present;\n"
            "'data-dir = /srv/sluice', '[serve]' sections). Flags > environment > file.\n"
            "Default data directory: ./sluice-data\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
