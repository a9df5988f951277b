#include <stdio.h>

#include "cmd.h"

int cmd_sql(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice sql: not built yet\n");
    return 1;
}

int cmd_tables(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice tables: not built yet\n");
    return 1;
}

int cmd_ddl(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice ddl: not built yet\n");
    return 1;
}

int cmd_export(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice export: not built yet\n");
    return 1;
}

