/* Unit tests for src/common/cli.c: the config file and SLUICE_* variables become flags with
 * the precedence command line > environment > config file, config file errors name
 * file:line, trailing comments and quoted values, each added value knows its origin, the
 * docs' config examples parse, and the duration / size / number parsers accept and refuse
 * what they say. */
#include "test.h"

#include <errno.h>

#include "common/cli.h"

static const struct option opts[] = {
    {"data-dir", required_argument, NULL, 'd'},
    {"fsync", required_argument, NULL, 'f'},
    {"once", no_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

static void parse(int argc, char **argv, const char **dd, const char **fs, int *once)
{
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            *dd = optarg;
        else if (c == 'f')
            *fs = optarg;
        else if (c == 'o')
            (*once)++;
    }
}

static void test_env_becomes_flags_and_flags_win(void)
{
    setenv("SLUICE_DATA_DIR", "/from/env", 1);
    setenv("SLUICE_FSYNC", "always", 1);
    setenv("SLUICE_ONCE", "1", 1); /* no_argument options are not taken from the env */
    char *argv0[] = {"stream", "positional", "--fsync", "never", NULL};
    int argc = 4;
    char **argv = cli_env_args(&argc, argv0, opts);
    CHECK_EQ_U64(argc, 6);
    const char *dd = NULL, *fs = NULL;
    int once = 0;
    parse(argc, argv, &dd, &fs, &once);
    CHECK_STR(dd, "/from/env");
    CHECK_STR(fs, "never"); /* the command line wins */
    CHECK(once == 0);
    /* getopt permuted the vector: the positional argument is now after the options */
    CHECK_STR(argv[optind], "positional");
    unsetenv("SLUICE_DATA_DIR");
    unsetenv("SLUICE_FSYNC");
    unsetenv("SLUICE_ONCE");
}

static void test_data_dir_default(void)
{
    unsetenv("SLUICE_DATA_DIR");
    CHECK_STR(cli_data_dir(NULL), "./sluice-data");
    CHECK_STR(cli_data_dir("x"), "x");
    setenv("SLUICE_DATA_DIR", "/srv/s", 1);
    CHECK_STR(cli_data_dir(NULL), "/srv/s");
    CHECK_STR(cli_data_dir("x"), "x");
    unsetenv("SLUICE_DATA_DIR");
}

static void test_durations(void)
{
    uint64_t ms = 0;
    CHECK(cli_parse_duration_ms("1s", 1000, &ms) == 0 && ms == 1000);
    CHECK(cli_parse_duration_ms("250ms", 1000, &ms) == 0 && ms == 250);
    CHECK(cli_parse_duration_ms("1.5", 1000, &ms) == 0 && ms == 1500);
    CHECK(cli_parse_duration_ms("2m", 1000, &ms) == 0 && ms == 120000);
    CHECK(cli_parse_duration_ms("1h", 1000, &ms) == 0 && ms == 3600000);
    CHECK(cli_parse_duration_ms("7", 1, &ms) == 0 && ms == 7);
    CHECK(cli_parse_duration_ms("", 1000, &ms) != 0);
    CHECK(cli_parse_duration_ms("-1s", 1000, &ms) != 0);
    CHECK(cli_parse_duration_ms("5parsecs", 1000, &ms) != 0);
}

static void test_sizes_and_numbers(void)
{
    uint64_t v = 0;
    CHECK(cli_parse_size("1048576", &v) == 0 && v == 1048576);
    CHECK(cli_parse_size("512k", &v) == 0 && v == 512 * 1024);
    CHECK(cli_parse_size("64MiB", &v) == 0 && v == 64ull << 20);
    CHECK(cli_parse_size("1G", &v) == 0 && v == 1ull << 30);
    CHECK(cli_parse_size("1GB", &v) == 0 && v == 1ull << 30);
    CHECK(cli_parse_size("-1", &v) != 0);
    CHECK(cli_parse_size("12Q", &v) != 0);
    CHECK(cli_parse_size("1Mx", &v) != 0);
    CHECK(cli_parse_u64("42", 1, 100, &v) == 0 && v == 42);
    CHECK(cli_parse_u64("0", 1, 100, &v) != 0);
    CHECK(cli_parse_u64("101", 1, 100, &v) != 0);
    CHECK(cli_parse_u64("4x", 1, 100, &v) != 0);
    CHECK(cli_parse_u64("-4", 0, 100, &v) != 0);
}

static void test_listen_addresses(void)
{
    char host[64];
    uint16_t port = 0;
    CHECK(cli_parse_addr("127.0.0.1:5000", host, sizeof host, &port) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(port == 5000);
    CHECK(cli_parse_addr("8089", host, sizeof host, &port) == 0);
    CHECK_STR(host, "127.0.0.1"); /* loopback unless told otherwise */
    CHECK(port == 8089);
    CHECK(cli_parse_addr(":81", host, sizeof host, &port) == 0 && port == 81);
    CHECK_STR(host, "127.0.0.1");
    CHECK(cli_parse_addr("[::1]:9000", host, sizeof host, &port) == 0 && port == 9000);
    CHECK_STR(host, "::1");
    CHECK(cli_parse_addr("0.0.0.0:1", host, sizeof host, &port) == 0);
    CHECK_STR(host, "0.0.0.0");
    CHECK(cli_parse_addr("::1:9000", host, sizeof host, &port) != 0); /* v6 needs [] */
    CHECK(cli_parse_addr("host:0", host, sizeof host, &port) != 0);
    CHECK(cli_parse_addr("host:65536", host, sizeof host, &port) != 0);
    CHECK(cli_parse_addr("host:", host, sizeof host, &port) != 0);
    CHECK(cli_parse_addr("[]:80", host, sizeof host, &port) != 0);
    char tiny[4];
    CHECK(cli_parse_addr("localhost:80", tiny, sizeof tiny, &port) != 0);
}


/* ---- config file */

static const struct option serve_like[] = {
    {"listen", required_argument, NULL, 'l'},
    {"data-dir", required_argument, NULL, 'd'},
    {"kafka-opt", required_argument, NULL, 'k'},
    {"bus", required_argument, NULL, 'B'},
    {"once", no_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *write_conf(const char *name, const char *text)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

/* The options of a built argv, as "name=value|name=value" in order, for comparisons. */
static void collect(int argc, char **argv, const struct option *o, char *out, size_t cap)
{
    optind = 1;
    opterr = 0;
    int c, idx;
    size_t n = 0;
    out[0] = '\0';
    while ((c = getopt_long(argc, argv, "", o, &idx)) != -1) {
        if (c == '?' || c == ':') {
            n += (size_t)snprintf(out + n, cap - n, "%s?", n ? "|" : "");
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s%s%s", n ? "|" : "", o[idx].name,
                              optarg ? "=" : "", optarg ? optarg : "");
        if (n >= cap)
            break;
    }
    for (; optind < argc && n < cap; optind++)
        n += (size_t)snprintf(out + n, cap - n, "%s@%s", n ? "|" : "", argv[optind]);
}

static void test_config_sections_and_globals(void)
{
    const char *path = write_conf("a.conf",
                                  "# a comment\n"
                                  "\n"
                                  "data-dir = /srv/data   \n"
                                  "  threads = 4\n"        /* serve_like has none: ignored */
                                  "bus = kafka://b1:9092/events\n"
                                  "[stream]\n"
                                  "listen = 1.2.3.4:1\n"   /* another command's section */
                                  "nonsense-for-stream = 1\n"
                                  "[serve]\n"
                                  "listen = 127.0.0.1:5000\n"
                                  "kafka-opt = compression.type=zstd\n"
                                  "\t kafka-opt=linger.ms=20\n"
                                  "--once = true\n"
                                  "data-dir = \"/with # hash \"\n"
                                  "[serve]   # again, with a comment\n"
                                  "listen = 127.0.0.1:5001   # a trailing comment\n"
                                  "kafka-opt = sasl.password=a#b\t# '#' after a blank only\n"
                                  "bus = \"kafka://h:1/t #x\" # quoted, then a comment\n"
                                  "data-dir = /x#y#\n");
    char **v = NULL;
    sl_err err = {0};
    CHECK(cli_config_read(path, "serve", serve_like, &v, &err) == 0);
    size_t n = 0;
    while (v && v[n])
        n++;
    CHECK_EQ_U64(n, 11);
    if (n == 11) {
        CHECK_STR(v[0], "--data-dir=/srv/data");
        CHECK_STR(v[1], "--bus=kafka://b1:9092/events");
        CHECK_STR(v[2], "--listen=127.0.0.1:5000");
        CHECK_STR(v[3], "--kafka-opt=compression.type=zstd");
        CHECK_STR(v[4], "--kafka-opt=linger.ms=20");
        CHECK_STR(v[5], "--once");
        CHECK_STR(v[6], "--data-dir=/with # hash ");
        CHECK_STR(v[7], "--listen=127.0.0.1:5001");
        CHECK_STR(v[8], "--kafka-opt=sasl.password=a#b");
        CHECK_STR(v[9], "--bus=kafka://h:1/t #x");
        CHECK_STR(v[10], "--data-dir=/x#y#");
    }
    cli_strv_free(v);
    /* the stream section is checked only against stream's options */
    CHECK(cli_config_read(path, "stream", serve_like, &v, &err) == -EINVAL);
    CHECK(strstr(err.msg, "a.conf:8: sluice stream does not take --nonsense-for-stream") != NULL);
    /* a command without a section gets the globals only */
    CHECK(cli_config_read(path, "tail", serve_like, &v, &err) == 0);
    CHECK(v && v[0] && v[1] && !v[2]);
    cli_strv_free(v);
}

static void expect_conf_error(const char *text, const char *cmd, const char *want)
{
    const char *path = write_conf("bad.conf", text);
    char **v = (char **)1;
    sl_err err = {0};
    int rc = cli_config_read(path, cmd, serve_like, &v, &err);
    CHECK(rc == -EINVAL);
    CHECK(v == NULL);
    if (!strstr(err.msg, want) || !strstr(err.msg, "bad.conf:")) {
        fprintf(stderr, "  want '%s' in '%s'\n", want, err.msg);
        CHECK(!"error message");
    }
}

static void test_config_errors_name_file_and_line(void)
{
    expect_conf_error("listen = :1\n[serv]\n", "serve", "bad.conf:2: unknown section [serv]");
    expect_conf_error("[serve]\nlisten\n", "serve", "bad.conf:2: expected 'key = value'");
    expect_conf_error("\n\n[serve]\nbogus = 1\n", "serve",
                      "bad.conf:4: sluice serve does not take --bogus");
    expect_conf_error("Listen = x\n", "serve", "bad.conf:1: 'Listen' is not an option name");
    expect_conf_error("= x\n", "serve", "bad.conf:1: '' is not an option name");
    expect_conf_error("[serve\n", "serve", "bad.conf:1: section header without ']'");
    expect_conf_error("[serve] x\n", "serve", "bad.conf:1: text after the section header");
    expect_conf_error("listen = \"a\" b\n", "serve", "bad.conf:1: text after the closing '\"'");
    expect_conf_error("\nlisten = \"a # b\n", "serve", "bad.conf:2: no closing '\"'");
    expect_conf_error("listen =   # only a comment\n", "serve", "bad.conf:1: 'listen' needs a value");
    expect_conf_error("[serve]\nonce = maybe\n", "serve",
                      "bad.conf:2: --once is a switch: want true or false, got 'maybe'");
    expect_conf_error("listen =\n", "serve", "bad.conf:1: 'listen' needs a value");
    expect_conf_error("config = other.conf\n", "serve",
                      "bad.conf:1: 'config' cannot be set in a config file");
    char big[5000];
    memset(big, 'x', sizeof big);
    memcpy(big, "bus = ", 6);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    expect_conf_error(big, "serve", "bad.conf:1: line longer than");
    /* a global key no command knows is not an error: some other command may have it */
    const char *ok = write_conf("ok.conf", "no-such-option = 1\nonce = false\n");
    char **v = NULL;
    sl_err err = {0};
    CHECK(cli_config_read(ok, "serve", serve_like, &v, &err) == 0);
    CHECK(v && !v[0]);
    cli_strv_free(v);
}

static void test_config_precedence_flags_env_file(void)
{
    unsetenv("SLUICE_LISTEN");
    unsetenv("SLUICE_DATA_DIR");
    unsetenv("SLUICE_KAFKA_OPT");
    const char *path = write_conf("p.conf", "listen = :1\ndata-dir = /file\nbus = log\n"
                                            "kafka-opt = a=file\n");
    char conf_arg[420];
    snprintf(conf_arg, sizeof conf_arg, "--config=%s", path);
    setenv("SLUICE_DATA_DIR", "/env", 1);
    setenv("SLUICE_KAFKA_OPT", "a=env", 1);
    char *argv0[] = {"serve", "pos", conf_arg, "--data-dir", "/flag", "--kafka-opt", "a=flag",
                     NULL};
    int argc = 7;
    sl_err err = {0};
    char **argv = cli_build_args(&argc, argv0, serve_like, &err);
    CHECK(argv != NULL);
    char got[1024];
    if (argv) {
        collect(argc, argv, serve_like, got, sizeof got);
        /* file, then environment, then command line: the last of each single-valued option
         * is what the command keeps; --config itself is gone */
        CHECK_STR(got, "listen=:1|data-dir=/file|bus=log|kafka-opt=a=file|data-dir=/env|"
                       "kafka-opt=a=env|data-dir=/flag|kafka-opt=a=flag|@pos");
    }
    /* "--config FILE" as two words, and SLUICE_CONFIG when there is no --config */
    char *argv1[] = {"serve", "--config", (char *)path, NULL};
    argc = 3;
    unsetenv("SLUICE_DATA_DIR");
    unsetenv("SLUICE_KAFKA_OPT");
    argv = cli_build_args(&argc, argv1, serve_like, &err);
    CHECK(argv != NULL && argc == 5);
    if (argv) {
        collect(argc, argv, serve_like, got, sizeof got);
        CHECK_STR(got, "listen=:1|data-dir=/file|bus=log|kafka-opt=a=file");
    }
    setenv("SLUICE_CONFIG", path, 1);
    char *argv2[] = {"serve", NULL};
    argc = 1;
    argv = cli_build_args(&argc, argv2, serve_like, &err);
    CHECK(argv != NULL && argc == 5);
    unsetenv("SLUICE_CONFIG");
    /* the value of another option that happens to read "--config" is left alone */
    char *argv3[] = {"serve", "--bus", "--config", NULL};
    argc = 3;
    argv = cli_build_args(&argc, argv3, serve_like, &err);
    CHECK(argv != NULL && argc == 3);
}

/* Every option the built argv has from the file or the environment knows where it came
 * from, so that a value the command refuses is reported as FILE:LINE (or the variable). */
static void test_config_value_origins(void)
{
    unsetenv("SLUICE_CONFIG");
    unsetenv("SLUICE_DATA_DIR");
    unsetenv("SLUICE_KAFKA_OPT");
    const char *path = write_conf("o.conf", "# origins\nbus = kafka://nohost\n\n[serve]\n"
                                            "listen = :1   # here\n");
    setenv("SLUICE_KAFKA_OPT", "a=env", 1);
    char conf_arg[420];
    snprintf(conf_arg, sizeof conf_arg, "--config=%s", path);
    char *argv0[] = {"serve", conf_arg, "--data-dir", "/flag", NULL};
    int argc = 4;
    sl_err err = {0};
    char **argv = cli_build_args(&argc, argv0, serve_like, &err);
    unsetenv("SLUICE_KAFKA_OPT");
    CHECK(argv != NULL && argc == 6);
    if (!argv || argc != 6)
        return;
    char want[440];
    CHECK_STR(argv[1], "--bus=kafka://nohost");
    snprintf(want, sizeof want, "%s:2", path);
    CHECK_STR(cli_arg_origin(argv[1] + 6), want);   /* optarg points after the '=' */
    CHECK_STR(argv[2], "--listen=:1");
    snprintf(want, sizeof want, "%s:5", path);
    CHECK_STR(cli_arg_origin(argv[2] + 9), want);
    CHECK_STR(argv[3], "--kafka-opt=a=env");
    CHECK_STR(cli_arg_origin(argv[3] + 12), "SLUICE_KAFKA_OPT");
    CHECK_STR(argv[5], "/flag");
    CHECK(cli_arg_origin(argv[5]) == NULL);          /* the command line */
    CHECK(cli_arg_origin(NULL) == NULL);
    CHECK(cli_arg_origin("elsewhere") == NULL);
}

/* The config-file examples of README.md, docs/kafka.md and docs/operations.md parse, and their comments are not
 * part of any value. (Update the expectations with the examples.) */
static void test_config_examples_in_docs(void)
{
    static const struct option doc_opts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"bus", required_argument, NULL, 'B'},
        {"kafka-opt", required_argument, NULL, 'k'}, {"kafka-key", required_argument, NULL, 'y'},
        {"listen", required_argument, NULL, 'l'}, {"admin-token", required_argument, NULL, 'a'},
        {"trigger", required_argument, NULL, 't'}, {"once", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        const char *doc, *cmd, *want;
    } ex[] = {
        {"README.md", "serve", "--data-dir=/srv/sluice|--bus=kafka://b1:9092/events|"
                               "--listen=127.0.0.1:5000|--kafka-opt=compression.codec=zstd"},
        {"README.md", "tail", "--data-dir=/srv/sluice|--bus=kafka://b1:9092/events"},
        {"docs/kafka.md", "serve", "--bus=kafka://b1:9092,b2:9092/events|"
                                   "--kafka-opt=security.protocol=ssl|"
                                   "--kafka-opt=compression.codec=zstd|--kafka-key=user_id"},
        {"docs/operations.md", "serve",
         "--data-dir=/srv/sluice|--bus=kafka://b1:9092,b2:9092/events|"
         "--kafka-opt=security.protocol=ssl|--listen=0.0.0.0:5000|"
         "--admin-token=a token with spaces|--kafka-opt=compression.codec=zstd"},
        {"docs/operations.md", "stream", "--data-dir=/srv/sluice|"
                                         "--bus=kafka://b1:9092,b2:9092/events|"
                                         "--kafka-opt=security.protocol=ssl|--trigger=2s"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        /* the doc's first ```ini block (run from the repository root, as tests/run.sh does) */
        FILE *f = fopen(ex[i].doc, "r");
        if (!f) {
            fprintf(stderr, "  cannot read %s: run from the repository root\n", ex[i].doc);
            CHECK(f != NULL);
            continue;
        }
        char text[8192] = "", line[1024];
        int in = 0;
        while (fgets(line, sizeof line, f)) {
            if (in && !strncmp(line, "```", 3))
                break;
            if (in && strlen(text) + strlen(line) < sizeof text)
                strcat(text, line);
            in |= !strncmp(line, "```ini", 6);
        }
        fclose(f);
        CHECK(text[0] != '\0');
        char **v = NULL;
        sl_err err = {0};
        int rc = cli_config_read(write_conf("doc.conf", text), ex[i].cmd, doc_opts, &v, &err);
        if (rc != 0)
            fprintf(stderr, "  %s: %s\n", ex[i].doc, err.msg);
        CHECK(rc == 0);
        char got[1024] = "";
        for (size_t k = 0; v && v[k]; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? "|" : "", v[k]);
        if (strcmp(got, ex[i].want))
            fprintf(stderr, "  %s, %s:\n", ex[i].doc, ex[i].cmd);
        CHECK_STR(got, ex[i].want);
        cli_strv_free(v);
    }
}

static void test_config_file_which_one(void)
{
    unsetenv("SLUICE_CONFIG");
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    const char *dir = test_tmpdir();
    CHECK(chdir(dir) == 0);
    sl_err err = {0};
    /* no ./sluice.conf: no error, nothing added */
    char *argv0[] = {"serve", "--once", NULL};
    int argc = 2;
    char **argv = cli_build_args(&argc, argv0, serve_like, &err);
    CHECK(argv != NULL && argc == 2);
    /* an explicit file that does not exist is an error, from the flag or the environment */
    char *argv1[] = {"serve", "--config", "missing.conf", NULL};
    argc = 3;
    CHECK(cli_build_args(&argc, argv1, serve_like, &err) == NULL);
    CHECK(strstr(err.msg, "missing.conf") != NULL && err.code == -ENOENT);
    setenv("SLUICE_CONFIG", "missing.conf", 1);
    argc = 2;
    CHECK(cli_build_args(&argc, argv0, serve_like, &err) == NULL);
    unsetenv("SLUICE_CONFIG");
    char *argv2[] = {"serve", "--config", NULL};
    argc = 2;
    CHECK(cli_build_args(&argc, argv2, serve_like, &err) == NULL);
    CHECK(strstr(err.msg, "--config needs a file name") != NULL);
    /* ./sluice.conf is read when present */
    FILE *f = fopen("sluice.conf", "w");
    CHECK(f != NULL);
    if (f) {
        fputs("[serve]\nlisten = :7\n", f);
        fclose(f);
    }
    argc = 2;
    argv = cli_build_args(&argc, argv0, serve_like, &err);
    CHECK(argv != NULL && argc == 3 && !strcmp(argv[1], "--listen=:7"));
    /* a broken file still lets --help through */
    f = fopen("sluice.conf", "w");
    CHECK(f != NULL);
    if (f) {
        fputs("[serve]\nbroken\n", f);
        fclose(f);
    }
    argc = 2;
    CHECK(cli_build_args(&argc, argv0, serve_like, &err) == NULL);
    CHECK(strstr(err.msg, "sluice.conf:2:") != NULL);
    char *argv3[] = {"serve", "--help", NULL};
    argc = 2;
    CHECK(cli_build_args(&argc, argv3, serve_like, &err) != NULL);
    CHECK(chdir(cwd) == 0);
}

int main(void)
{
    RUN(test_env_becomes_flags_and_flags_win);
    RUN(test_data_dir_default);
    RUN(test_durations);
    RUN(test_sizes_and_numbers);
    RUN(test_listen_addresses);
    RUN(test_config_sections_and_globals);
    RUN(test_config_errors_name_file_and_line);
    RUN(test_config_precedence_flags_env_file);
    RUN(test_config_value_origins);
    RUN(test_config_examples_in_docs);
    RUN(test_config_file_which_one);
    return test_summary();
}
