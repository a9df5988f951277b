/* args.c — see args.h. */
#include "query/args.h"

#include <stdlib.h>

void q_args_free(char **args, int argc, char **orig, int orig_argc)
{
    if (!args || args == orig)
        return;
    for (int i = 0; i < argc; i++) {
        int mine = 1; /* the "--name=value" strings are new; the rest are orig's */
        for (int j = 0; j < orig_argc && mine; j++)
            mine = args[i] != orig[j];
        if (mine)
            free(args[i]);
    }
    free(args);
}
