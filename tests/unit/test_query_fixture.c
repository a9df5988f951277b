/* test_query_fixture.c — builds the query tests' fixed warehouse (test_query_fixture.h).
 *
 *   test_query_fixture            self-test: build it in a temporary dir and check it
 *   test_query_fixture DIR        build it in DIR (used by tests/e2e/sql_*.sh and docs)
 */
#include "test.h"
#include "test_query_fixture.h"

static void test_build(void)
{
    const char *dir = test_tmpdir();
    CHECK(fx_build(dir) == 0);
    wh_table **list = NULL;
    size_t n = 0;
    sl_err err = {0};
    CHECK(wh_catalog_list(dir, &list, &n, &err) == 0);
    CHECK_EQ_U64(n, 7);
    if (n == 7) {
        CHECK_STR(list[0]->name, "declarations");
        CHECK_STR(list[6]->name, "reviews");
        CHECK_EQ_U64(list[4]->ncols, 10); /* menu_app_orders: 6 common + 4 */
    }
    wh_catalog_free_list(list, n);
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/warehouse/purchases/dt=2026-11-22/part-0-16-23.parquet", dir);
    CHECK(stat(p, &st) == 0 && st.st_size > 0);
}

int main(int argc, char **argv)
{
    if (argc == 2) {
        if (fx_mkdirs(argv[1]) || fx_build(argv[1])) {
            fprintf(stderr, "could not build the fixture in %s\n", argv[1]);
            return 1;
        }
        return 0;
    }
    RUN(test_build);
    return test_summary();
}
