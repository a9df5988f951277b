/* hist.c — log-linear latency histogram (see hist.h for the bucket layout).
 *
 * Index of value v: let b = max(0, msb(v) - 10) (the bucket), s = v >> b (the sub-bucket,
 * 0..2047 in bucket 0 and 1024..2047 in the others, since the top bit is then set);
 * index = b * 1024 + s. Bucket 0 uses indexes 0..2047, bucket b > 0 uses
 * (b+1)*1024 .. (b+1)*1024+1023. The value range of an index is [s << b, ((s+1) << b) - 1].
 */
#include "loadgen/hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACKABLE ((UINT64_C(1) << LG_HIST_MAX_BITS) - 1)

int lg_hist_init(lg_hist *h)
{
    memset(h, 0, sizeof *h);
    h->counts = calloc(LG_HIST_COUNTS, sizeof *h->counts);
    if (!h->counts)
        return -ENOMEM;
    h->min = UINT64_MAX;
    return 0;
}

void lg_hist_free(lg_hist *h)
{
    if (!h)
        return;
    free(h->counts);
    h->counts = NULL;
}

void lg_hist_reset(lg_hist *h)
{
    if (h->counts)
        memset(h->counts, 0, LG_HIST_COUNTS * sizeof *h->counts);
    h->total = 0;
    h->max = 0;
    h->min = UINT64_MAX;
    h->sum = 0;
}

static unsigned bucket_of(uint64_t v)
{
    /* msb of (v | 2047) is at least 10, so buckets start at 0 */
    unsigned msb = 63u - (unsigned)__builtin_clzll(v | (LG_HIST_HALF * 2 - 1));
    return msb - (LG_HIST_SUB_BITS - 1);
}

uint32_t lg_hist_index(uint64_t ns)
{
    if (ns > MAX_TRACKABLE)
        ns = MAX_TRACKABLE;
    unsigned b = bucket_of(ns);
    return (uint32_t)(b * LG_HIST_HALF + (ns >> b));
}

static void index_split(uint32_t index, unsigned *b, uint64_t *s)
{
    if (index < 2 * LG_HIST_HALF) {
        *b = 0;
        *s = index;
    } else {
        *b = index / LG_HIST_HALF - 1;
        *s = index % LG_HIST_HALF + LG_HIST_HALF;
    }
}

uint64_t lg_hist_lowest(uint32_t index)
{
    unsigned b;
    uint64_t s;
    index_split(index, &b, &s);
    return s << b;
}

uint64_t lg_hist_highest(uint32_t index)
{
    unsigned b;
    uint64_t s;
    index_split(index, &b, &s);
    return ((s + 1) << b) - 1;
}

void lg_hist_record(lg_hist *h, uint64_t ns)
{
    h->counts[lg_hist_index(ns)]++;
    h->total++;
    h->sum += ns;
    if (ns > h->max)
        h->max = ns;
    if (ns < h->min)
        h->min = ns;
}

void lg_hist_merge(lg_hist *into, const lg_hist *from)
{
    if (!from->total)
        return;
    for (size_t i = 0; i < LG_HIST_COUNTS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
    if (from->min < into->min)
        into->min = from->min;
}

uint64_t lg_hist_quantile(const lg_hist *h, double q)
{
    if (!h->total)
        return 0;
    if (q >= 1.0)
        return h->max;
    if (q < 0)
        q = 0;
    /* rank of the wanted value, 1-based: the smallest count that covers q of the total */
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < LG_HIST_COUNTS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = lg_hist_highest(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

double lg_hist_mean(const lg_hist *h)
{
    return h->total ? (double)(h->sum / h->total) : 0.0;
}
