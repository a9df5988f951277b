#include <stdio.h>

#include "cmd.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice serve: not built yet\n");
    return 1;
}

