/* Crash test of the exactly-once protocol: a stream process (a forked child running
 * stream_run) is killed with SIGKILL at random moments while it works through a backlog,
 * many times; then a last run finishes the backlog and every event_id of the log must be
 * in `events` exactly once, each routed table must hold exactly its expected count, and
 * no temporary file may be left.
 *
 * Sizes: SLUICE_CRASH_EVENTS (default 50000; the full run is 200000) and
 * SLUICE_CRASH_KILLS (default 8). SLUICE_CRASH_SEED fixes the random kill moments.
 * The random delay before each kill is the point of the test (a kill "at a random
 * moment"), not a wait for a condition. */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "test.h"
#include "test_stream_support.h"

static const char *spec_yaml =
    "app: crash\n"
    "tables:\n"
    "  - name: purchases\n"
    "    events: [\"purchase_*\"]\n"
    "    columns: {description: varchar, strength: bigint}\n"
    "  - name: joins\n"
    "    events: [join_guild]\n"
    "    columns: {guild_name: varchar}\n"
    "  - name: events\n"
    "    events: [\"*\"]\n"
    "    raw_event: true\n";

static size_t env_size(const char *name, size_t def)
{
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : def;
}

static int count_temps(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s/warehouse' -name '.tmp-*' | grep -q .", dir);
    return system(cmd) == 0;
}

static void run_child(const char *dir, const char *spec, size_t max_batch)
{
    spec_app *app = NULL;
    sl_err err = {0};
    if (spec_load(spec, &app, &err) < 0)
        _exit(3);
    stream_opts o;
    ts_opts(&o, dir);
    o.max_batch = max_batch;
    int rc = stream_run(app, &o, NULL, &err);
    if (rc < 0)
        fprintf(stderr, "  child: %s\n", err.msg);
    spec_free(app);
    _exit(rc < 0 ? 1 : 0);
}

static void test_kill9_exactly_once(void)
{
    size_t n = env_size("SLUICE_CRASH_EVENTS", 50000);
    size_t kills = env_size("SLUICE_CRASH_KILLS", 8);
    unsigned seed = (unsigned)env_size("SLUICE_CRASH_SEED", (size_t)time(NULL));
    srand(seed);
    printf("crash test: %zu events, %zu kills, seed %u\n", n, kills, seed);
    const char *dir = test_tmpdir();
    const char *spec = ts_write_spec(dir, spec_yaml);

    /* The backlog: a purchase, a join and a default event in turn, plus some that are
     * routed only to `events`. */
    char **lines = calloc(n, sizeof *lines);
    size_t want_purchases = 0, want_joins = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[512];
        int k = (int)(i % 3);
        if (k == 0) {
            snprintf(buf, sizeof buf,
                     "{\"event_type\":\"purchase_sword\",\"event_id\":\"id-%zu\","
                     "\"received_at\":\"2026-11-21T10:%02zu:00.000Z\",\"Host\":\"h\","
                     "\"description\":\"large sword\",\"strength\":%zu}", i, (i / 1000) % 60, i % 11);
            want_purchases++;
        } else if (k == 1) {
            snprintf(buf, sizeof buf,
                     "{\"event_type\":\"join_guild\",\"event_id\":\"id-%zu\","
                     "\"received_at\":\"2026-11-21T10:00:00.000Z\",\"guild_name\":\"ni\"}", i);
            want_joins++;
        } else {
            snprintf(buf, sizeof buf,
                     "{\"event_type\":\"default\",\"event_id\":\"id-%zu\","
                     "\"received_at\":\"2026-11-21T10:00:00.000Z\"}", i);
        }
        lines[i] = strdup(buf);
    }
    CHECK(ts_fill(dir, (const char *const *)lines, n) == 0);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);

    /* Small batches, so that kills land in every phase of many batches. */
    size_t max_batch = n / 20 > 100 ? n / 20 : 100;
    size_t killed = 0, finished_early = 0;
    for (size_t k = 0; k < kills; k++) {
        pid_t pid = fork();
        if (pid == 0)
            run_child(dir, spec, max_batch);
        CHECK(pid > 0);
        long delay_ms = 30 + rand() % 600;
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            finished_early++;   /* the backlog was done before this kill */
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            continue;
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        killed++;
    }
    printf("killed %zu times, %zu runs finished before their kill\n", killed, finished_early);

    /* The last run finishes the backlog; afterwards nothing is left to do. */
    stream_stats st;
    CHECK(ts_run_once(dir, spec, &st) == 0);
    CHECK(!count_temps(dir));
    char expect[128];
    snprintf(expect, sizeof expect, "%zu|%zu|%zu\n", n, n, n);
    CHECK_Q("SELECT count(*), count(DISTINCT event_id), max(CAST(substr(event_id, 4) AS BIGINT)) + 1 "
            "FROM %T", dir, "events", expect);
    snprintf(expect, sizeof expect, "%zu|%zu\n", want_purchases, want_purchases);
    CHECK_Q("SELECT count(*), count(DISTINCT event_id) FROM %T", dir, "purchases", expect);
    snprintf(expect, sizeof expect, "%zu\n", want_joins);
    CHECK_Q("SELECT count(*) FROM %T", dir, "joins", expect);
    char rej[1024];
    snprintf(rej, sizeof rej, "%s/warehouse/_rejected", dir);
    DIR *d = opendir(rej);
    CHECK(d == NULL);   /* nothing was rejected */
    if (d)
        closedir(d);
}

int main(void)
{
    RUN(test_kill9_exactly_once);
    return test_summary();
}
