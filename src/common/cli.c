#include "common/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* The argument vectors built by cli_env_args() stay in use until the command returns;
 * they are freed at exit so that leak checkers see a clean process. getopt_long permutes
 * the vector, so the allocated strings are remembered by pointer, not by position. */
static struct env_argv {
    char **argv;
    char **added;   /* the strings this module allocated, NULL-terminated */
    char **origin;  /* [i]: where added[i] came from, "FILE:LINE" or "SLUICE_NAME" */
} *env_argvs;
static size_t nenv_argvs;

static void env_args_free(void)
{
    for (size_t i = 0; i < nenv_argvs; i++) {
        cli_strv_free(env_argvs[i].added);
        cli_strv_free(env_argvs[i].origin);
        free(env_argvs[i].argv);
    }
    free(env_argvs);
    env_argvs = NULL;
    nenv_argvs = 0;
}

void cli_strv_free(char **v)
{
    for (char **a = v; a && *a; a++)
        free(*a);
    free(v);
}

/* A growable NULL-terminated vector of strings. */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static int strv_push(strv *s, char *str)
{
    if (!str)
        return -ENOMEM;
    if (s->n + 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) {
            free(str);
            return -ENOMEM;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

static char *flag_arg(const char *name, const char *val)
{
    size_t len = strlen(name) + (val ? strlen(val) + 1 : 0) + 3;
    char *arg = malloc(len);
    if (arg) {
        if (val)
            snprintf(arg, len, "--%s=%s", name, val);
        else
            snprintf(arg, len, "--%s", name);
    }
    return arg;
}

static const struct option *opt_find(const struct option *opts, const char *name)
{
    for (; opts->name; opts++)
        if (!strcmp(opts->name, name))
            return opts;
    return NULL;
}

/* ------------------------------------------------------------------ config file */

/* The section names a config file may use: the commands of main.c. A section for a
 * command other than the running one is skipped, but its name must be one of these, so a
 * typo ([serv]) is an error rather than settings silently ignored. */
static const char *const config_sections[] = {
    "up", "serve", "stream", "sql", "tables", "ddl", "export", "produce", "tail", "bench",
    "kafka-mock", NULL,
};

#define CONFIG_LINE_MAX 4096

static bool name_valid(const char *s)
{
    if (!*s || strlen(s) > 64 || !islower((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
            return false;
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* One "key = value" line that applies to this command: appended to out as a flag. */
static int config_key(const char *path, unsigned line, const char *cmd, bool in_section,
                      const struct option *opts, const char *key, const char *val, strv *out,
                      sl_err *err)
{
    if (!strcmp(key, "config") || !strcmp(key, "help"))
        return sl_err_set(err, -EINVAL, false, "%s:%u: '%s' cannot be set in a config file",
                          path, line, key);
    const struct option *o = opt_find(opts, key);
    if (!o) {
        if (!in_section)  /* a global key for other commands */
            return 0;
        return sl_err_set(err, -EINVAL, false,
                          "%s:%u: sluice %s does not take --%s from a config file", path, line,
                          cmd, key);
    }
    if (o->has_arg == no_argument) {
        bool on;
        if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1"))
            on = true;
        else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0"))
            on = false;
        else
            return sl_err_set(err, -EINVAL, false,
                              "%s:%u: --%s is a switch: want true or false, got '%s'", path,
                              line, key, val);
        if (on && strv_push(out, flag_arg(key, NULL)) < 0)
            return sl_err_set(err, -ENOMEM, true, "out of memory");
        return 0;
    }
    if (!*val && o->has_arg == required_argument)
        return sl_err_set(err, -EINVAL, false, "%s:%u: '%s' needs a value", path, line, key);
    if (strv_push(out, flag_arg(key, val)) < 0)
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    return 0;
}

/* The value of a "key = value" line, s pointing after the '=': blanks around it and a
 * trailing comment (a '#' after a blank) are cut; a value in double quotes is taken as it
 * is between them (blanks and '#' included), and only a comment may follow it. NULL with
 * err set when the quotes are not closed or text follows them. */
static char *config_value(char *s, const char *path, unsigned line, sl_err *err)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '"') {
        char *close = strchr(s + 1, '"');
        if (!close) {
            sl_err_set(err, -EINVAL, false, "%s:%u: no closing '\"' in the value", path, line);
            return NULL;
        }
        char *rest = close + 1;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (*rest && *rest != '#') {
            sl_err_set(err, -EINVAL, false,
                       "%s:%u: text after the closing '\"' (a comment starts with '#')", path,
                       line);
            return NULL;
        }
        *close = '\0';
        return s + 1;
    }
    for (char *p = s; *p; p++)
        if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    return trim(s);
}

static int config_read(const char *path, const char *cmd, const struct option *opts,
                       char ***out, unsigned **lines_out, sl_err *err)
{
    *out = NULL;
    if (lines_out)
        *lines_out = NULL;
    unsigned *lines = NULL;
    size_t nlines = 0, lines_cap = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return sl_err_errno(err, errno, "config file %s", path);
    strv res = {0};
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t len;
    unsigned line = 0;
    const char *section = NULL;   /* NULL: before any section */
    bool ours = true;             /* keys here apply to cmd */
    int rc = 0;
    while (rc == 0 && (len = getline(&buf, &bcap, f)) >= 0) {
        line++;
        if (len > CONFIG_LINE_MAX) {
            rc = sl_err_set(err, -EINVAL, false, "%s:%u: line longer than %d bytes", path, line,
                            CONFIG_LINE_MAX);
            break;
        }
        if (memchr(buf, '\0', (size_t)len)) {
            rc = sl_err_set(err, -EINVAL, false, "%s:%u: NUL byte (not a text file?)", path,
                            line);
            break;
        }
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        if (*s == '[') {
            char *name = s + 1, *close = strchr(s, ']');
            if (!close) {
                rc = sl_err_set(err, -EINVAL, false, "%s:%u: section header without ']'", path,
                                line);
                break;
            }
            char *rest = close + 1;
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (*rest && *rest != '#') {
                rc = sl_err_set(err, -EINVAL, false,
                                "%s:%u: text after the section header (a comment starts with "
                                "'#')", path, line);
                break;
            }
            *close = '\0';
            name = trim(name);
            size_t i = 0;
            while (config_sections[i] && strcmp(config_sections[i], name))
                i++;
            if (!config_sections[i]) {
                rc = sl_err_set(err, -EINVAL, false,
                                "%s:%u: unknown section [%s]: sections are command names "
                                "(up, serve, stream, sql, tables, ddl, export, produce, tail, "
                                "bench, kafka-mock)",
                                path, line, name);
                break;
            }
            section = config_sections[i];
            ours = !strcmp(section, cmd);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = sl_err_set(err, -EINVAL, false,
                            "%s:%u: expected 'key = value', '[command]' or a '#' comment", path,
                            line);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = config_value(eq + 1, path, line, err);
        if (!val) {
            rc = err->code;
            break;
        }
        if (key[0] == '-' && key[1] == '-')
            key += 2;   /* "--listen = ..." is read as "listen = ..." */
        if (!name_valid(key)) {
            rc = sl_err_set(err, -EINVAL, false,
                            "%s:%u: '%s' is not an option name (the long option without '--', "
                            "e.g. 'listen')",
                            path, line, key);
            break;
        }
        size_t before = res.n;
        if (ours)
            rc = config_key(path, line, cmd, section != NULL, opts, key, val, &res, err);
        if (rc == 0 && res.n > before) {   /* the line of the flag just added */
            if (nlines == lines_cap) {
                size_t nc = lines_cap ? lines_cap * 2 : 16;
                unsigned *nl = realloc(lines, nc * sizeof *nl);
                if (!nl) {
                    rc = sl_err_set(err, -ENOMEM, true, "out of memory");
                    break;
                }
                lines = nl;
                lines_cap = nc;
            }
            lines[nlines++] = line;
        }
    }
    if (rc == 0 && ferror(f))
        rc = sl_err_errno(err, errno ? errno : EIO, "read %s", path);
    free(buf);
    fclose(f);
    if (rc < 0) {
        cli_strv_free(res.v);
        free(lines);
        return rc;
    }
    if (!res.v && !(res.v = calloc(1, sizeof *res.v))) {
        free(lines);
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    }
    *out = res.v;
    if (lines_out)
        *lines_out = lines;
    else
        free(lines);
    return 0;
}

int cli_config_read(const char *path, const char *cmd, const struct option *opts, char ***out,
                    sl_err *err)
{
    return config_read(path, cmd, opts, out, NULL, err);
}

/* Finds --config FILE / --config=FILE in argv (up to "--"), skipping the values of the
 * command's own options so that `-e --config` style values are not mistaken for it.
 * Returns the index of the option (or -1); *val and *nargs (1 or 2) describe it. */
static int find_config_flag(int argc, char **argv, const struct option *opts,
                            const char **val, int *nargs)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            return -1;
        if (!strncmp(a, "--config", 8) && (a[8] == '\0' || a[8] == '=')) {
            *nargs = a[8] ? 1 : 2;
            *val = a[8] ? a + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
            return i;
        }
        if (a[0] == '-' && a[1] == '-' && !strchr(a, '=')) {
            const struct option *o = opt_find(opts, a + 2);
            if (o && o->has_arg == required_argument)
                i++;
        }
    }
    return -1;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

char **cli_build_args(int *argc, char **argv, const struct option *opts, sl_err *err)
{
    const char *cfg_val = NULL;
    int cfg_nargs = 0;
    int cfg_at = find_config_flag(*argc, argv, opts, &cfg_val, &cfg_nargs);
    if (cfg_at >= 0 && (!cfg_val || !*cfg_val)) {
        sl_err_set(err, -EINVAL, false, "--config needs a file name");
        return NULL;
    }
    /* which file: --config, else SLUICE_CONFIG, else ./sluice.conf if there is one */
    const char *path = cfg_val;
    bool explicit = path != NULL;
    if (!path) {
        const char *env = getenv("SLUICE_CONFIG");
        explicit = env && *env;
        path = explicit ? env : CLI_DEFAULT_CONFIG;
    }
    /* added: every string this module allocates, config file first, then environment;
     * that is also their order in the new argv, before the command line: getopt lets the
     * last occurrence of an option win, so flags > environment > config file */
    strv added = {0}, out = {0}, origin = {0};
    if (!wants_help(*argc, argv)) {   /* --help works even with a broken file */
        sl_err e;
        sl_err_clear(&e);
        unsigned *lines = NULL;
        int rc = config_read(path, argv[0], opts, &added.v, &lines, &e);
        if (rc < 0 && !(rc == -ENOENT && !explicit)) {
            *err = e;
            return NULL;
        }
        for (added.n = 0; added.v && added.v[added.n]; added.n++) {
            char *o = NULL;
            if (asprintf(&o, "%s:%u", path, lines[added.n]) < 0)
                o = NULL;
            if (strv_push(&origin, o) < 0) {
                free(lines);
                goto nomem;
            }
        }
        free(lines);
        added.cap = added.n + 1;
    }
    for (const struct option *o = opts; o->name; o++) {
        if (o->has_arg == no_argument)
            continue;
        char var[128] = "SLUICE_";
        size_t k = strlen(var);
        for (const char *c = o->name; *c && k < sizeof var - 1; c++)
            var[k++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        var[k] = '\0';
        const char *val = getenv(var);
        if (val && (strv_push(&added, flag_arg(o->name, val)) < 0 ||
                    strv_push(&origin, strdup(var)) < 0))
            goto nomem;
    }
    if ((!added.v && !(added.v = calloc(1, sizeof *added.v))) ||
        (!origin.v && !(origin.v = calloc(1, sizeof *origin.v))))
        goto nomem;
    size_t need = 1 + added.n + (size_t)*argc + 1;
    if (!(out.v = calloc(need, sizeof *out.v)))
        goto nomem;
    out.v[out.n++] = argv[0];
    for (size_t i = 0; i < added.n; i++)
        out.v[out.n++] = added.v[i];
    for (int i = 1; i < *argc; i++)
        if (cfg_at < 0 || i < cfg_at || i >= cfg_at + cfg_nargs)  /* --config is not the command's */
            out.v[out.n++] = argv[i];
    out.v[out.n] = NULL;
    struct env_argv *na = realloc(env_argvs, (nenv_argvs + 1) * sizeof *na);
    if (!na)
        goto nomem;
    env_argvs = na;
    if (nenv_argvs == 0)
        atexit(env_args_free);
    env_argvs[nenv_argvs++] = (struct env_argv){out.v, added.v, origin.v};
    *argc = (int)out.n;
    return out.v;
nomem:
    cli_strv_free(added.v);
    cli_strv_free(origin.v);
    free(out.v);
    sl_err_set(err, -ENOMEM, true, "out of memory");
    return NULL;
}

char **cli_env_args(int *argc, char **argv, const struct option *opts)
{
    sl_err err;
    sl_err_clear(&err);
    char **args = cli_build_args(argc, argv, opts, &err);
    if (!args) {
        fprintf(stderr, "sluice %s: %s\n", argv[0], err.msg);
        exit(err.code == -ENOMEM ? 1 : 2);
    }
    return args;
}

const char *cli_data_dir(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("SLUICE_DATA_DIR");
    return env && *env ? env : SLUICE_DEFAULT_DATA_DIR;
}

const char *cli_arg_origin(const char *value)
{
    if (!value)
        return NULL;
    for (size_t i = 0; i < nenv_argvs; i++)
        for (size_t k = 0; env_argvs[i].added[k]; k++) {
            const char *a = env_argvs[i].added[k];
            if (value >= a && value <= a + strlen(a))
                return env_argvs[i].origin[k];
        }
    return NULL;
}

static int usage_error(const char *cmd, const char *value, const char *fmt, va_list ap)
{
    const char *origin = cli_arg_origin(value);
    fprintf(stderr, "sluice %s: ", cmd);
    if (origin)
        fprintf(stderr, "%s: ", origin);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
    return 2;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* getopt_long sets optarg for an option with a value and NULL otherwise, also when it
     * returns -1: an error raised while handling an option names where its value came
     * from, one raised after the loop does not guess */
    int rc = usage_error(cmd, optarg, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_value_error(const char *cmd, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = usage_error(cmd, value, fmt, ap);
    va_end(ap);
    return rc;
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
