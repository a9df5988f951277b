#include <stdio.h>

#include "cmd.h"

int cmd_up(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice up: not built yet\n");
    return 1;
}
