/* args.h — freeing what cli_env_args() allocates, so the query commands stay clean under
 * LeakSanitizer (cli.h documents the array as living until exit). */
#ifndef SLUICE_QUERY_ARGS_H
#define SLUICE_QUERY_ARGS_H

/* args/argc: what cli_env_args returned; orig/orig_argc: what it was given. */
void q_args_free(char **args, int argc, char **orig, int orig_argc);

#endif
