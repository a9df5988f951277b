/* bench/spec_gen.c — cost of rendering a route's fields from the app spec, against the
 * hand-written C a programmer would write for the same fields (the reference: no spec, no
 * interpretation). Same random generator on both sides, so the ratio is the price of
 * driving the fields from a YAML file.
 *
 *   build/bench/spec_gen [EVENTS]       (default 2,000,000 per route; run from the repo root)
 *
 * Prints events/s for sluice's spec_route_render and for the reference, and the ratio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/gen.h"
#include "spec/spec.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reference for /purchase_a_sword: description constant, strength normal(5,4) clipped
 * 0..10 and rounded. */
static size_t ref_sword(spec_rng *r, char *out, size_t cap)
{
    double u1 = 1.0 - spec_rng_double(r), u2 = spec_rng_double(r);
    double v = 5 + 4 * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    v = v < 0 ? 0 : v > 10 ? 10 : v;
    return (size_t)snprintf(out, cap, "\"description\":\"large sword\",\"strength\":%d",
                            (int)lround(v));
}

/* Reference for /order?menu=Lebanese: the query value checked against the cuisines,
 * price uniform 8..60 with 2 decimals, coupon 80/20, user from a pool of 500, and a
 * weighted timestamp (simplified: hour weights only, today). */
static size_t ref_order(spec_rng *r, const char *menu, int64_t now_ms, char *out, size_t cap)
{
    static const char *const cuisines[] = {"Mexican", "Lebanese", "Italian", "Chinese",
                                           "Indian",  "Thai",     "Japanese", "American"};
    static const double hours[24] = {2, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 6,
                                     8, 6, 4, 4, 5, 7, 12, 14, 14, 12, 7, 4};
    const char *c = NULL;
    for (size_t i = 0; i < 8 && !c; i++)
        if (!strcmp(menu, cuisines[i]))
            c = cuisines[i];
    if (!c)
        return 0;
    double price = 8 + 52 * spec_rng_double(r);
    const char *coupon = spec_rng_double(r) < 0.8 ? "No" : "Yes";
    unsigned user = 1 + (unsigned)spec_rng_below(r, 500);
    double x = spec_rng_double(r) * 116, acc = 0;
    int h = 0;
    while (h < 23 && (acc += hours[h]) <= x)
        h++;
    time_t day = (time_t)(now_ms / 86400000 - 1 - (int64_t)spec_rng_below(r, 28)) * 86400;
    struct tm tm;
    gmtime_r(&day, &tm);
    uint64_t ms = spec_rng_below(r, 3600000);
    return (size_t)snprintf(out, cap,
                            "\"description\":\"%s\",\"price\":%.2f,\"coupon\":\"%s\","
                            "\"user_id\":\"user_%04u\",\"event_timestamp\":"
                            "\"%04d-%02d-%02dT%02d:%02u:%02u.%03uZ\"",
                            c, price, coupon, user, tm.tm_year + 1900, tm.tm_mon + 1,
                            tm.tm_mday, h, (unsigned)(ms / 60000), (unsigned)(ms / 1000 % 60),
                            (unsigned)(ms % 1000));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0) {
        fprintf(stderr, "usage: spec_gen [EVENTS]\n");
        return 2;
    }
    spec_app *game = NULL, *rest = NULL;
    sl_err err = {0};
    if (spec_load("apps/game.yaml", &game, &err) || spec_load("apps/restaurant.yaml", &rest, &err)) {
        fprintf(stderr, "spec_gen: %s (run from the repository root)\n", err.msg);
        return 1;
    }
    const spec_route *sword = spec_route_find(game, "GET", 3, "/purchase_a_sword", 17, NULL);
    const spec_route *order = spec_route_find(rest, "GET", 3, "/order", 6, NULL);
    spec_kv q = {"menu", 4, "Lebanese", 8};
    int64_t now_ms = 1715780700123LL;
    sl_buf b;
    sl_buf_init(&b, 1 << 16);
    char ref[512];
    size_t sink = 0;
    spec_rng r;

    printf("%-28s %14s %14s %8s\n", "route", "sluice ev/s", "reference ev/s", "ratio");
    for (int which = 0; which < 2; which++) {
        const spec_route *rt = which ? order : sword;
        spec_rng_seed(&r, 1);
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            sl_buf_reset(&b);
            if (spec_route_render(rt, &r, &q, 1, now_ms, &b, &err) < 0) {
                fprintf(stderr, "spec_gen: %s\n", err.msg);
                return 1;
            }
            sink += b.len;
        }
        double ts = now_s() - t0;
        spec_rng_seed(&r, 1);
        t0 = now_s();
        for (long i = 0; i < n; i++)
            sink += which ? ref_order(&r, "Lebanese", now_ms, ref, sizeof ref)
                          : ref_sword(&r, ref, sizeof ref);
        double tr = now_s() - t0;
        printf("%-28s %14.0f %14.0f %8.2f\n", which ? "/order?menu=Lebanese" : "/purchase_a_sword",
               n / ts, n / tr, tr / ts);
    }
    printf("(ratio = sluice rate / reference rate; %ld events each; checksum %zu)\n", n, sink);
    sl_buf_free(&b);
    spec_free(game);
    spec_free(rest);
    return 0;
}
