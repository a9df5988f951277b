#include <stdio.h>

#include "cmd.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice bench: not built yet\n");
    return 1;
}

