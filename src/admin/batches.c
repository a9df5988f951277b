/* batches.c — ring of the stream's recent batches (batches.h). */
#include "admin/batches.h"

#include "common/clock.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct admin_batches {
    pthread_mutex_t mu;
    admin_batch     ring[ADMIN_BATCH_RING];
    size_t          head, n;      /* next slot to write, filled slots */
    uint64_t        total_batches, total_events;
};

/* The text after needle in s[0..len), or NULL. */
static const char *after(const char *s, size_t len, const char *needle)
{
    const char *p = memmem(s, len, needle, strlen(needle));
    return p ? p + strlen(needle) : NULL;
}

bool admin_batch_parse(const char *line, size_t len, admin_batch *b)
{
    char tmp[2048];
    if (len >= sizeof tmp)
        len = sizeof tmp - 1;
    memcpy(tmp, line, len);
    tmp[len] = '\0';
    memset(b, 0, sizeof *b);
    /* a progress line may precede the batch line on the same row ("\r\033[K") */
    const char *s = strstr(tmp, "stream: batch ");
    if (!s)
        return false;
    size_t sl = strlen(s);
    if (sscanf(s, "stream: batch %" SCNu64 "-%" SCNu64, &b->first, &b->last) != 2)
        return false;
    b->replay = strstr(s, "(replay)") != NULL;
    const char *p = after(s + 14, sl - 14, ": ");  /* past "stream: batch " */
    if (!p || sscanf(p, "%" SCNu64 " events in", &b->events) != 1)
        return false;
    if (!(p = after(s, sl, "; rejected ")) ||
        sscanf(p, "%" SCNu64 "; %" SCNu64 " files", &b->rejected, &b->files) != 2)
        return false;
    if (!(p = after(s, sl, "; lag ")) ||
        sscanf(p, "%" SCNu64 "; %" SCNd64 " ms (read+route %" SCNd64 ", write %" SCNd64 ")",
               &b->lag, &b->ms, &b->route_ms, &b->write_ms) != 4)
        return false;
    return true;
}

admin_batches *admin_batches_create(void)
{
    admin_batches *r = calloc(1, sizeof *r);
    if (r)
        pthread_mutex_init(&r->mu, NULL);
    return r;
}

void admin_batches_destroy(admin_batches *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void admin_batches_feed(admin_batches *r, const char *line, size_t len)
{
    admin_batch b;
    if (!r || !admin_batch_parse(line, len, &b))
        return;
    b.at_ms = sl_wall_ms();
    pthread_mutex_lock(&r->mu);
    r->ring[r->head] = b;
    r->head = (r->head + 1) % ADMIN_BATCH_RING;
    if (r->n < ADMIN_BATCH_RING)
        r->n++;
    r->total_batches++;
    r->total_events += b.events;
    pthread_mutex_unlock(&r->mu);
}

size_t admin_batches_snapshot(admin_batches *r, admin_batch *out, size_t max,
                              uint64_t *total_batches, uint64_t *total_events)
{
    if (!r) {
        if (total_batches)
            *total_batches = 0;
        if (total_events)
            *total_events = 0;
        return 0;
    }
    pthread_mutex_lock(&r->mu);
    size_t k = r->n < max ? r->n : max;
    for (size_t i = 0; i < k; i++) {
        size_t idx = (r->head + ADMIN_BATCH_RING - k + i) % ADMIN_BATCH_RING;
        out[i] = r->ring[idx];
    }
    if (total_batches)
        *total_batches = r->total_batches;
    if (total_events)
        *total_events = r->total_events;
    pthread_mutex_unlock(&r->mu);
    return k;
}
