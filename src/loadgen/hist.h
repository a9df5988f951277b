/* hist.h — latency histogram with HdrHistogram-style precision.
 *
 * Values are nanoseconds. Buckets are log-linear: the range [2^k, 2^(k+1)) is cut into
 * 1024 equal sub-buckets (2048 below 2^11), so every recorded value is known to within
 * 1/1024 of itself — three significant decimal digits — from 1 ns up to 2^40 ns (about
 * 18 minutes); larger values are clamped to that maximum (the exact maximum is kept
 * separately). Recording is a shift and an increment: no allocation, no floating point.
 *
 * One histogram per thread (not thread-safe); merge them with lg_hist_merge() at the end.
 * lg_hist_init() allocates the counters (256 KiB); lg_hist_free() releases them and
 * accepts a zeroed or half-initialised histogram.
 */
#ifndef SLUICE_LOADGEN_HIST_H
#define SLUICE_LOADGEN_HIST_H

#include <stdint.h>

#define LG_HIST_SUB_BITS   11                       /* 2048 sub-buckets in bucket 0 */
#define LG_HIST_HALF       (1u << (LG_HIST_SUB_BITS - 1))
#define LG_HIST_MAX_BITS   40                       /* largest trackable value: 2^40-1 ns */
#define LG_HIST_BUCKETS    (LG_HIST_MAX_BITS - LG_HIST_SUB_BITS + 1)
#define LG_HIST_COUNTS     ((LG_HIST_BUCKETS + 1) * LG_HIST_HALF)

typedef struct lg_hist {
    uint64_t *counts;    /* LG_HIST_COUNTS counters */
    uint64_t  total;     /* number of values recorded */
    uint64_t  min, max;  /* exact extremes (min is UINT64_MAX when empty) */
    long double sum;     /* for the mean */
} lg_hist;

int  lg_hist_init(lg_hist *h);   /* 0 or -ENOMEM */
void lg_hist_free(lg_hist *h);
void lg_hist_reset(lg_hist *h);
void lg_hist_record(lg_hist *h, uint64_t ns);
void lg_hist_merge(lg_hist *into, const lg_hist *from);

/* The value below which fraction q (0..1) of the recorded values lie, reported as the
 * highest value equivalent to its bucket (so p100 == max bucket, never below the true
 * quantile by more than the bucket width). 0 when empty. q >= 1 returns the exact max. */
uint64_t lg_hist_quantile(const lg_hist *h, double q);
double   lg_hist_mean(const lg_hist *h);

/* Index and bucket bounds, exposed for the tests. */
uint32_t lg_hist_index(uint64_t ns);
uint64_t lg_hist_lowest(uint32_t index);
uint64_t lg_hist_highest(uint32_t index);

#endif
