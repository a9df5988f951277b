/* test.h — minimal unit-test support. A test file defines functions and lists them:
 *
 *     static void test_roll(void) { ... CHECK(x == 1); CHECK_EQ_U64(a, b); ... }
 *     int main(void) { RUN(test_roll); RUN(test_other); return test_summary(); }
 *
 * A failed CHECK prints file:line and the expression and fails the current test but keeps
 * going. test_summary() prints "N passed, N failed" for the file and returns the exit code.
 * test_tmpdir() gives a fresh directory under $TMPDIR, removed at exit on success.
 */
#ifndef SLUICE_TEST_H
#define SLUICE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_failed_checks, test_passed, test_failed, test_keep_tmp;
static char test_tmp_root[256];

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
            test_failed_checks++;                                                          \
        }                                                                                  \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                 \
    do {                                                                                   \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
        if (a_ != b_) {                                                                    \
            fprintf(stderr, "  %s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",      \
                    __FILE__, __LINE__, #a, #b, a_, b_);                                   \
            test_failed_checks++;                                                          \
        }                                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                                \
            fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,      \
                    __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
            test_failed_checks++;                                                          \
        }                                                                                  \
    } while (0)

#define RUN(fn)                                                                            \
    do {                                                                                   \
        int before_ = test_failed_checks;                                                  \
        fn();                                                                              \
        if (test_failed_checks == before_) {                                               \
            test_passed++;                                                                 \
            printf("ok   %s\n", #fn);                                                      \
        } else {                                                                           \
            test_failed++;                                                                 \
            printf("FAIL %s\n", #fn);                                                      \
        }                                                                                  \
        fflush(stdout);                                                                    \
    } while (0)

static void test_rm_tmp(void)
{
    if (test_tmp_root[0] && !test_keep_tmp) {
        char cmd[320];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmp_root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", test_tmp_root);
    }
}

/* A new empty directory for this call, under one per-process root. */
static inline const char *test_tmpdir(void)
{
    static int seq;
    static char path[300];
    if (!test_tmp_root[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(test_tmp_root, sizeof test_tmp_root, "%s/sluice-test-XXXXXX",
                 base && *base ? base : "/tmp");
        if (!mkdtemp(test_tmp_root)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(test_rm_tmp);
    }
    snprintf(path, sizeof path, "%s/%d", test_tmp_root, ++seq);
    char cmd[340];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0)
        exit(1);
    return path;
}

static inline int test_summary(void)
{
    if (test_failed)
        test_keep_tmp = 1;
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
