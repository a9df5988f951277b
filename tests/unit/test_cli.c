/* Unit tests for src/common/cli.c: SLUICE_* variables become flags that the command line
 * overrides, and the duration / size / number parsers accept and refuse what they say. */
#include "test.h"

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

int main(void)
{
    RUN(test_env_becomes_flags_and_flags_win);
    RUN(test_data_dir_default);
    RUN(test_durations);
    RUN(test_sizes_and_numbers);
    RUN(test_listen_addresses);
    return test_summary();
}
