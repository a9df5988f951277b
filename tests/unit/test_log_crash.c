/* Crash test of the embedded log: a child process appends with --fsync always and reports
 * every acknowledged batch through a pipe; the parent SIGKILLs it at a random moment,
 * reopens the topic (recovery) and checks that every acknowledged record is present,
 * intact and in order. SLUICE_LOG_CRASH_ITERS sets the number of rounds (default 30).
 *
 * Record payloads are derived from their offset (the child is the only writer, so the
 * high watermark before an append is the batch's first offset), with varying lengths so
 * that kills land at every point of a record. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "bus/log.h"
#include "test.h"

static size_t payload_for(uint64_t off, char *out, size_t cap)
{
    size_t len = (size_t)(off * 2654435761u % 700) + 8;
    if (len > cap)
        len = cap;
    int n = snprintf(out, cap, "{\"o\":%" PRIu64 "}", off);
    for (size_t i = (size_t)n; i < len; i++)
        out[i] = (char)('a' + (off + i) % 26);
    return len > (size_t)n ? len : (size_t)n;
}

typedef struct ack {
    uint64_t first, n;
} ack;

static void child(const char *dir, int wfd, unsigned seed)
{
    log_opts o;
    log_opts_init(&o);
    o.fsync_mode = LOG_FSYNC_ALWAYS;
    o.segment_bytes = 16384; /* rolls happen too */
    log_topic *t;
    sl_err err;
    if (log_topic_open(dir, "events", LOG_OPEN_WRITE, &o, &t, &err)) {
        fprintf(stderr, "child open: %s\n", err.msg);
        _exit(3);
    }
    srand(seed);
    static char bufs[4][800];
    for (;;) {
        uint64_t first = log_high_watermark(t);
        size_t n = (size_t)(rand() % 4) + 1;
        log_entry e[4];
        for (size_t i = 0; i < n; i++)
            e[i] = (log_entry){bufs[i], (uint32_t)payload_for(first + i, bufs[i], 800), 0};
        uint64_t got;
        if (log_append(t, e, n, &got, &err)) {
            fprintf(stderr, "child append: %s\n", err.msg);
            _exit(4);
        }
        if (got != first)
            _exit(5);
        ack a = {first, n};
        if (write(wfd, &a, sizeof a) != (ssize_t)sizeof a)
            _exit(6);
    }
}

static void test_crash_loop(void)
{
    const char *dir = test_tmpdir();
    const char *env = getenv("SLUICE_LOG_CRASH_ITERS");
    int iters = env ? atoi(env) : 30;
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    printf("crash loop: %d rounds, seed %u\n", iters, seed);
    uint64_t acked_end = 0; /* every offset below this was acknowledged */
    for (int it = 0; it < iters; it++) {
        int p[2];
        CHECK(pipe(p) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            child(dir, p[1], seed + (unsigned)it);
        }
        close(p[1]);
        /* let it acknowledge a random number of batches (sometimes none), then kill it
         * wherever it is: mid-write, mid-sync, mid-roll */
        int want = rand() % 40;
        ack a;
        for (int k = 0; k < want; k++) {
            ssize_t r = read(p[0], &a, sizeof a);
            if (r != (ssize_t)sizeof a)
                break;
            CHECK_EQ_U64(a.first, acked_end); /* the child continues where we left */
            acked_end = a.first + a.n;
        }
        kill(pid, SIGKILL);
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        /* acks already in the pipe were given before the kill: they count too */
        while (read(p[0], &a, sizeof a) == (ssize_t)sizeof a) {
            CHECK_EQ_U64(a.first, acked_end);
            acked_end = a.first + a.n;
        }
        close(p[0]);

        /* reopen: recovery must succeed, and everything acknowledged must be there */
        log_topic *t;
        sl_err err;
        int rc = log_topic_open(dir, "events", LOG_OPEN_WRITE, NULL, &t, &err);
        CHECK(rc == 0);
        if (rc) {
            fprintf(stderr, "  round %d: reopen failed: %s\n", it, err.msg);
            return;
        }
        uint64_t hw = log_high_watermark(t);
        CHECK(hw >= acked_end);
        log_batch b = {0};
        uint64_t next = 0;
        char want_buf[800];
        while (next < hw) {
            rc = log_read(t, next, 500, 1 << 20, &b, &err);
            CHECK(rc == 0);
            if (rc) {
                fprintf(stderr, "  round %d: read: %s\n", it, err.msg);
                break;
            }
            CHECK(b.n > 0);
            if (!b.n)
                break;
            for (size_t i = 0; i < b.n; i++) {
                size_t wl = payload_for(next, want_buf, sizeof want_buf);
                CHECK_EQ_U64(b.recs[i].offset, next);
                CHECK(b.recs[i].len == wl && !memcmp(b.recs[i].data, want_buf, wl));
                next++;
            }
        }
        log_batch_free(&b);
        CHECK_EQ_U64(next, hw);
        /* records written but not acknowledged before the kill are legitimately kept */
        acked_end = hw;
        log_topic_close(t);
    }
}

int main(void)
{
    RUN(test_crash_loop);
    return test_summary();
}
