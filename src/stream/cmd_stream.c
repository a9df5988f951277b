#include <stdio.h>

#include "cmd.h"

int cmd_stream(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice stream: not built yet\n");
    return 1;
}

