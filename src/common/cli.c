#include "common/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The argument vectors built by cli_env_args() stay in use until the command returns;
 * they are freed at exit so that leak checkers see a clean process. getopt_long permutes
 * the vector, so the allocated strings are remembered by pointer, not by position. */
static struct env_argv {
    char **argv;
    char **added;   /* the strings this module allocated, NULL-terminated */
} env_argvs[4];
static int nenv_argvs;

static void env_args_free(void)
{
    for (int i = 0; i < nenv_argvs; i++) {
        for (char **a = env_argvs[i].added; a && *a; a++)
            free(*a);
        free(env_argvs[i].added);
        free(env_argvs[i].argv);
    }
    nenv_argvs = 0;
}

char **cli_env_args(int *argc, char **argv, const struct option *opts)
{
    size_t nopts = 0;
    while (opts[nopts].name)
        nopts++;
    char **out = calloc((size_t)*argc + nopts + 1, sizeof *out);
    if (!out)
        return argv;
    int n = 0;
    out[n++] = argv[0];
    for (size_t i = 0; i < nopts; i++) {
        if (opts[i].has_arg == no_argument)
            continue;
        char var[128] = "SLUICE_";
        size_t k = strlen(var);
        for (const char *c = opts[i].name; *c && k < sizeof var - 1; c++)
            var[k++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        var[k] = '\0';
        const char *val = getenv(var);
        if (!val)
            continue;
        size_t len = strlen(opts[i].name) + strlen(val) + 4;
        char *arg = malloc(len);
        if (!arg)
            continue;
        snprintf(arg, len, "--%s=%s", opts[i].name, val);
        out[n++] = arg;
    }
    int end_added = n;
    for (int i = 1; i < *argc; i++)
        out[n++] = argv[i];
    out[n] = NULL;
    *argc = n;
    if (nenv_argvs < (int)(sizeof env_argvs / sizeof env_argvs[0])) {
        char **added = calloc((size_t)end_added, sizeof *added);
        if (added) {
            for (int k = 1; k < end_added; k++)
                added[k - 1] = out[k];
            if (nenv_argvs == 0)
                atexit(env_args_free);
            env_argvs[nenv_argvs++] = (struct env_argv){out, added};
        }
    }
    return out;
}

const char *cli_data_dir(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("SLUICE_DATA_DIR");
    return env && *env ? env : SLUICE_DEFAULT_DATA_DIR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
    return 2;
}

int cli_parse_duration_ms(const char *s, uint64_t default_unit_ms, uint64_t *out_ms)
{
    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -EINVAL;
    double unit;
    if (*end == '\0')
        unit = (double)default_unit_ms;
    else if (!strcmp(end, "ms"))
        unit = 1;
    else if (!strcmp(end, "s"))
        unit = 1000;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        unit = 60000;
    else if (!strcmp(end, "h"))
        unit = 3600000;
    else if (!strcmp(end, "d"))
        unit = 86400000;
    else
        return -EINVAL;
    double ms = v * unit;
    if (ms > 1e15)
        return -EINVAL;
    *out_ms = (uint64_t)(ms + 0.5);
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -EINVAL;
    double mul = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'B': mul = 1; break;
        case 'K': mul = 1024.0; break;
        case 'M': mul = 1024.0 * 1024; break;
        case 'G': mul = 1024.0 * 1024 * 1024; break;
        case 'T': mul = 1024.0 * 1024 * 1024 * 1024; break;
        default: return -EINVAL;
        }
        const char *rest = end + 1;
        if (*end != 'B' && *end != 'b' && *rest &&
            strcasecmp(rest, "B") && strcasecmp(rest, "iB"))
            return -EINVAL;
    }
    double bytes = v * mul;
    if (bytes > 9e18)
        return -EINVAL;
    *out = (uint64_t)bytes;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_addr(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *ps = colon ? colon + 1 : s;
    uint64_t p;
    if (cli_parse_u64(ps, 1, 65535, &p) < 0)
        return -EINVAL;
    *port = (uint16_t)p;
    if (!colon || colon == s) {
        snprintf(host, cap, "127.0.0.1");
        return 0;
    }
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    bool v6 = h[0] == '[' && hl >= 2 && h[hl - 1] == ']';
    if (v6) {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap || (!v6 && memchr(h, ':', hl))) /* IPv6 needs [brackets] */
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}
