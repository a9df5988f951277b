/* Unit tests for src/loadgen/hist.c: bucket layout, precision, quantiles, merging. */
#include <stdint.h>

#include "loadgen/hist.h"
#include "test.h"

static void test_index_covers_value(void)
{
    /* every value lies within its bucket, and the bucket is at most 1/1024 of it wide */
    uint64_t vals[] = {0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 123456,
                       999999, 1000000, 5000000000ull, (1ull << 40) - 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint64_t v = vals[i];
        uint32_t ix = lg_hist_index(v);
        CHECK(ix < LG_HIST_COUNTS);
        CHECK(lg_hist_lowest(ix) <= v);
        CHECK(lg_hist_highest(ix) >= v);
        uint64_t width = lg_hist_highest(ix) - lg_hist_lowest(ix) + 1;
        CHECK(width == 1 || width * 1024 <= v + width);
    }
    /* exact below 2048, and adjacent indexes never overlap */
    CHECK_EQ_U64(lg_hist_index(2047), 2047);
    for (uint32_t ix = 1; ix < LG_HIST_COUNTS; ix++)
        if (lg_hist_lowest(ix) != lg_hist_highest(ix - 1) + 1) {
            CHECK(lg_hist_lowest(ix) == lg_hist_highest(ix - 1) + 1);
            break;
        }
    /* values beyond the range are clamped into the last bucket */
    CHECK_EQ_U64(lg_hist_index(UINT64_MAX), LG_HIST_COUNTS - 1);
}

static void test_quantiles(void)
{
    lg_hist h;
    CHECK(lg_hist_init(&h) == 0);
    CHECK_EQ_U64(lg_hist_quantile(&h, 0.5), 0);
    /* 1..10000 microseconds, one each */
    for (uint64_t us = 1; us <= 10000; us++)
        lg_hist_record(&h, us * 1000);
    CHECK_EQ_U64(h.total, 10000);
    CHECK_EQ_U64(h.min, 1000);
    CHECK_EQ_U64(h.max, 10000000);
    struct { double q; uint64_t want; } cases[] = {
        {0.5, 5000000}, {0.9, 9000000}, {0.99, 9900000}, {0.999, 9990000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t got = lg_hist_quantile(&h, cases[i].q);
        /* three significant digits: within 0.1% above the true value, never below */
        CHECK(got >= cases[i].want);
        CHECK(got - cases[i].want <= cases[i].want / 1000);
    }
    CHECK_EQ_U64(lg_hist_quantile(&h, 1.0), 10000000);
    double mean = lg_hist_mean(&h);
    CHECK(mean > 5000499.0 && mean < 5000501.0);
    lg_hist_free(&h);
}

static void test_merge_and_reset(void)
{
    lg_hist a, b;
    CHECK(lg_hist_init(&a) == 0);
    CHECK(lg_hist_init(&b) == 0);
    for (int i = 0; i < 99; i++)
        lg_hist_record(&a, 100000);   /* 0.1 ms */
    lg_hist_record(&b, 250000000);    /* one 250 ms outlier */
    lg_hist_merge(&a, &b);
    CHECK_EQ_U64(a.total, 100);
    CHECK_EQ_U64(a.max, 250000000);
    CHECK_EQ_U64(a.min, 100000);
    uint64_t p50 = lg_hist_quantile(&a, 0.5);
    CHECK(p50 >= 100000 && p50 <= 100100);
    uint64_t p999 = lg_hist_quantile(&a, 0.999);
    CHECK(p999 >= 250000000 - 250000 && p999 <= 250000000);
    lg_hist_reset(&a);
    CHECK_EQ_U64(a.total, 0);
    CHECK_EQ_U64(lg_hist_quantile(&a, 0.99), 0);
    lg_hist_free(&a);
    lg_hist_free(&b);
    lg_hist_free(&b);   /* freeing twice is harmless */
}

int main(void)
{
    RUN(test_index_covers_value);
    RUN(test_quantiles);
    RUN(test_merge_and_reset);
    return test_summary();
}
