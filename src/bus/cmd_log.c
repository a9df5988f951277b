#include <stdio.h>

#include "cmd.h"

int cmd_produce(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice produce: not built yet\n");
    return 1;
}

int cmd_tail(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice tail: not built yet\n");
    return 1;
}

