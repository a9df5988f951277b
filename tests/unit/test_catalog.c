/* test_catalog.c — the catalog files: write/read round trip, atomic replace, merging of
 * several writers' columns (in one process and across processes at once), listing,
 * defaults, and clear errors for broken or hostile files. */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"
#include "warehouse/catalog.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static wh_table purchases(wh_column *cols, wh_column *parts)
{
    cols[0] = (wh_column){"event_id", SPEC_COL_VARCHAR};
    cols[1] = (wh_column){"received_at", SPEC_COL_TIMESTAMP};
    cols[2] = (wh_column){"strength", SPEC_COL_BIGINT};
    cols[3] = (wh_column){"price", SPEC_COL_DOUBLE};
    cols[4] = (wh_column){"vip", SPEC_COL_BOOLEAN};
    parts[0] = (wh_column){"dt", SPEC_COL_VARCHAR};
    return (wh_table){.name = "purchases", .cols = cols, .ncols = 5, .part_cols = parts,
                      .npart_cols = 1, .schema_version = 3,
                      .created_at = "2026-11-21T10:00:00.000Z"};
}

static void test_round_trip(void)
{
    const char *dir = test_tmpdir();
    wh_column cols[5], parts[1];
    wh_table t = purchases(cols, parts);
    sl_err err = {0};
    CHECK(wh_catalog_write(dir, &t, &err) == 0);
    wh_table *r = NULL;
    CHECK(wh_catalog_read(dir, "purchases", &r, &err) == 0);
    if (!r)
        return;
    CHECK_STR(r->name, "purchases");
    CHECK_STR(r->format, "parquet");
    CHECK_STR(r->location, "warehouse/purchases");
    CHECK_EQ_U64(r->ncols, 5);
    CHECK_EQ_U64(r->npart_cols, 1);
    for (size_t i = 0; i < 5 && i < r->ncols; i++) {
        CHECK_STR(r->cols[i].name, cols[i].name);
        CHECK_EQ_U64(r->cols[i].type, cols[i].type);
    }
    CHECK_STR(r->part_cols[0].name, "dt");
    CHECK_EQ_U64(r->schema_version, 3);
    CHECK_STR(r->created_at, "2026-11-21T10:00:00.000Z");
    /* updated_at NULL means now: an RFC 3339 UTC time with milliseconds. */
    CHECK(r->updated_at && strlen(r->updated_at) == 24 && r->updated_at[23] == 'Z' &&
          r->updated_at[10] == 'T' && r->updated_at[19] == '.');
    wh_table_free(r);
}

static void test_replace_and_list(void)
{
    const char *dir = test_tmpdir();
    wh_column cols[5], parts[1];
    wh_table t = purchases(cols, parts);
    sl_err err = {0};
    CHECK(wh_catalog_write(dir, &t, &err) == 0);
    t.ncols = 2; /* a narrower schema drops nothing (files still hold the columns) ... */
    CHECK(wh_catalog_write(dir, &t, &err) == 0);
    cols[1].type = SPEC_COL_VARCHAR;  /* ... a retyped one is rewritten, one version up */
    CHECK(wh_catalog_write(dir, &t, &err) == 0);
    wh_table e = {.name = "events", .cols = cols, .ncols = 1, .location = "warehouse/events"};
    CHECK(wh_catalog_write(dir, &e, &err) == 0);
    wh_table z = {.name = "_rejected", .cols = cols, .ncols = 1};
    CHECK(wh_catalog_write(dir, &z, &err) == 0);

    /* Temporary files of an interrupted writer and stray files are not tables. */
    char p[512];
    snprintf(p, sizeof p, "%s/catalog/.purchases.json.tmp.123", dir);
    write_text(p, "{");
    snprintf(p, sizeof p, "%s/catalog/notes.txt", dir);
    write_text(p, "hello");

    wh_table **list = NULL;
    size_t n = 0;
    CHECK(wh_catalog_list(dir, &list, &n, &err) == 0);
    CHECK_EQ_U64(n, 3);
    if (n == 3) {
        CHECK_STR(list[0]->name, "_rejected");
        CHECK_STR(list[1]->name, "events");
        CHECK_STR(list[2]->name, "purchases");
        CHECK_EQ_U64(list[2]->ncols, 5);
        CHECK_EQ_U64(list[2]->cols[1].type, SPEC_COL_VARCHAR);
        CHECK_EQ_U64(list[2]->schema_version, 4);
        CHECK_EQ_U64(list[0]->schema_version, 1);
        CHECK_EQ_U64(list[0]->npart_cols, 0);
    }
    wh_catalog_free_list(list, n);
}

static void test_missing(void)
{
    const char *dir = test_tmpdir();
    sl_err err = {0};
    wh_table *r = NULL;
    CHECK(wh_catalog_read(dir, "nothing", &r, &err) == -ENOENT);
    CHECK(r == NULL);
    wh_table **list = (wh_table **)1;
    size_t n = 7;
    /* No catalog folder at all: an empty catalog, not an error. */
    CHECK(wh_catalog_list(dir, &list, &n, &err) == 0);
    CHECK_EQ_U64(n, 0);
    wh_catalog_free_list(list, n);
}

static void test_invalid_names(void)
{
    const char *dir = test_tmpdir();
    sl_err err = {0};
    wh_column cols[1] = {{"a", SPEC_COL_VARCHAR}};
    const char *bad[] = {"../etc", "Purchases", "a-b", "1abc", "", "a\"b",
                         "a2345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wh_table t = {.name = (char *)bad[i], .cols = cols, .ncols = 1};
        CHECK(wh_catalog_write(dir, &t, &err) == -EINVAL);
        wh_table *r = NULL;
        CHECK(wh_catalog_read(dir, bad[i], &r, &err) == -EINVAL);
    }
    wh_column badcol[1] = {{"drop table x", SPEC_COL_VARCHAR}};
    wh_table t = {.name = "ok", .cols = badcol, .ncols = 1};
    CHECK(wh_catalog_write(dir, &t, &err) == -EINVAL);
    CHECK(strstr(err.msg, "column") != NULL);
    wh_column badtype[1] = {{"a", (spec_col_type)42}};
    t.cols = badtype;
    CHECK(wh_catalog_write(dir, &t, &err) == -EINVAL);
    /* Nothing was written for the refused tables. */
    wh_table **list = NULL;
    size_t n = 9;
    CHECK(wh_catalog_list(dir, &list, &n, &err) == 0);
    CHECK_EQ_U64(n, 0);
    wh_catalog_free_list(list, n);
}

static wh_table *read_back(const char *dir, const char *name)
{
    sl_err err = {0};
    wh_table *r = NULL;
    if (wh_catalog_read(dir, name, &r, &err) != 0)
        fprintf(stderr, "  %s\n", err.msg);
    return r;
}

/* Two writers of one table, each with the columns it inferred (stream processes of one
 * Kafka group, one per partition): every write merges into the file by column name, so
 * neither loses the other's columns. */
static void test_writers_merge(void)
{
    const char *dir = test_tmpdir();
    sl_err err = {0};
    wh_column part[1] = {{"dt", SPEC_COL_VARCHAR}};
    wh_column a[2] = {{"event_id", SPEC_COL_VARCHAR}, {"xa", SPEC_COL_BIGINT}};
    wh_column b[2] = {{"event_id", SPEC_COL_VARCHAR}, {"yb", SPEC_COL_VARCHAR}};
    wh_table ta = {.name = "misc", .cols = a, .ncols = 2, .part_cols = part, .npart_cols = 1,
                   .schema_version = 1, .created_at = "2026-11-21T10:00:00.000Z"};
    wh_table tb = ta;
    tb.cols = b;
    tb.created_at = "2026-11-22T10:00:00.000Z";
    CHECK(wh_catalog_write(dir, &ta, &err) == 0);
    CHECK(wh_catalog_write(dir, &tb, &err) == 0);   /* B never saw xa */
    wh_table *r = read_back(dir, "misc");
    if (!r)
        return;
    CHECK_EQ_U64(r->ncols, 3);
    if (r->ncols == 3) {
        CHECK_STR(r->cols[0].name, "event_id");
        CHECK_STR(r->cols[1].name, "xa");
        CHECK_EQ_U64(r->cols[1].type, SPEC_COL_BIGINT);
        CHECK_STR(r->cols[2].name, "yb");
    }
    CHECK_EQ_U64(r->schema_version, 2);
    CHECK_STR(r->created_at, "2026-11-21T10:00:00.000Z");   /* the table's creation */
    char *updated = strdup(r->updated_at);
    wh_table_free(r);
    /* A writes again with what it knows: nothing new, the file stays as it is. */
    CHECK(wh_catalog_write(dir, &ta, &err) == 0);
    r = read_back(dir, "misc");
    if (r) {
        CHECK_EQ_U64(r->ncols, 3);
        CHECK_EQ_U64(r->schema_version, 2);
        CHECK_STR(r->updated_at, updated);
    }
    free(updated);
    wh_table_free(r);
}

/* Writers in separate processes at the same time: each adds its own columns one write at
 * a time. The lock makes read-merge-write one step: without it a writer renames a file
 * built from a stale read over another's newer one, and columns go missing. */
#define RACE_WRITERS 4
#define RACE_COLUMNS 12

static void test_concurrent_writers(void)
{
    const char *dir = test_tmpdir();
    pid_t pids[RACE_WRITERS];
    for (int w = 0; w < RACE_WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            wh_column cols[RACE_COLUMNS];
            char names[RACE_COLUMNS][32];
            int bad = 0;
            for (int i = 0; i < RACE_COLUMNS; i++) {
                snprintf(names[i], sizeof names[i], "w%d_c%d", w, i);
                cols[i] = (wh_column){names[i], SPEC_COL_BIGINT};
                wh_table t = {.name = "race", .cols = cols, .ncols = (size_t)i + 1};
                sl_err err = {0};
                if (wh_catalog_write(dir, &t, &err) != 0) {
                    fprintf(stderr, "  writer %d: %s\n", w, err.msg);
                    bad = 1;
                }
            }
            _exit(bad);
        }
    }
    for (int w = 0; w < RACE_WRITERS; w++) {
        int st = 0;
        CHECK(pids[w] > 0 && waitpid(pids[w], &st, 0) == pids[w] && WIFEXITED(st) &&
              WEXITSTATUS(st) == 0);
    }
    wh_table *r = read_back(dir, "race");
    if (!r)
        return;
    CHECK_EQ_U64(r->ncols, RACE_WRITERS * RACE_COLUMNS);
    for (int w = 0; w < RACE_WRITERS; w++)
        for (int i = 0; i < RACE_COLUMNS; i++) {
            char name[32];
            snprintf(name, sizeof name, "w%d_c%d", w, i);
            bool found = false;
            for (size_t k = 0; k < r->ncols; k++)
                found |= !strcmp(r->cols[k].name, name);
            if (!found)
                fprintf(stderr, "  column %s lost\n", name);
            CHECK(found);
        }
    /* one version per write that added something: every write of every writer did */
    CHECK_EQ_U64(r->schema_version, RACE_WRITERS * RACE_COLUMNS);
    wh_table_free(r);
}

/* A file that does not parse is an error naming the file and the problem. */
static void expect_bad(const char *text, const char *name, const char *what)
{
    const char *dir = test_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/catalog", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/catalog/%s.json", dir, name);
    write_text(p, text);
    sl_err err = {0};
    wh_table *r = NULL;
    int rc = wh_catalog_read(dir, name, &r, &err);
    CHECK(rc == -EINVAL);
    CHECK(r == NULL);
    if (!strstr(err.msg, what) || !strstr(err.msg, p))
        fprintf(stderr, "  message \"%s\" lacks \"%s\" or the path\n", err.msg, what);
    CHECK(strstr(err.msg, what) != NULL);
    CHECK(strstr(err.msg, p) != NULL);
    wh_table **list = NULL;
    size_t n = 0;
    CHECK(wh_catalog_list(dir, &list, &n, &err) == -EINVAL);
    CHECK(strstr(err.msg, p) != NULL);
}

static void test_bad_files(void)
{
    expect_bad("{\"name\": \"t\", \"columns\": [", "t", "byte");
    expect_bad("[1,2]", "t", "not a JSON object");
    expect_bad("{\"name\": \"u\", \"columns\": []}", "t", "file name says");
    expect_bad("{\"name\": \"t\"}", "t", "missing \"columns\"");
    expect_bad("{\"columns\": []}", "t", "\"name\"");
    expect_bad("{\"name\": \"t\", \"columns\": [{\"name\": \"a\", \"type\": \"blob\"}]}", "t",
               "unknown type \"blob\"");
    expect_bad("{\"name\": \"t\", \"columns\": [{\"name\": \"a b\", \"type\": \"bigint\"}]}",
               "t", "invalid or missing column name");
    expect_bad("{\"name\": \"t\", \"columns\": {}}", "t", "must be an array");
    expect_bad("{\"name\": \"t\", \"columns\": [], \"schema_version\": -1}", "t",
               "schema_version");
}

/* Defaults and unknown members: a file written by hand or by a newer version. */
static void test_defaults(void)
{
    const char *dir = test_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/catalog", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/catalog/t.json", dir);
    write_text(p, "{\"future\": {\"x\": [1]}, \"name\": \"t\", \"columns\": "
                  "[{\"name\": \"a\", \"type\": \"double\", \"comment\": \"\\u00e9\"}]}");
    sl_err err = {0};
    wh_table *r = NULL;
    CHECK(wh_catalog_read(dir, "t", &r, &err) == 0);
    if (!r) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK_STR(r->format, "parquet");
    CHECK_STR(r->location, "warehouse/t");
    CHECK_EQ_U64(r->schema_version, 1);
    CHECK_EQ_U64(r->npart_cols, 0);
    CHECK_EQ_U64(r->ncols, 1);
    CHECK_EQ_U64(r->cols[0].type, SPEC_COL_DOUBLE);
    CHECK(r->created_at == NULL);
    wh_table_free(r);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_replace_and_list);
    RUN(test_writers_merge);
    RUN(test_concurrent_writers);
    RUN(test_missing);
    RUN(test_invalid_names);
    RUN(test_bad_files);
    RUN(test_defaults);
    return test_summary();
}
