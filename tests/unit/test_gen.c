/* test_gen.c — field generators: every kind renders valid JSON; the distributions match
 * their parameters over 10,000 draws within stated tolerances; query parameters are
 * checked; failures leave the output buffer as it was.
 *
 * Tolerances: with n = 10,000 draws, a share p has a standard error of at most 0.005, so
 * +-2% is 4 standard errors; the strength mean (sd about 3.4) has a standard error of
 * 0.034, so +-0.15 is over 4 standard errors. Seeds are fixed, so runs are reproducible. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "common/json.h"
#include "spec/gen.h"
#include "spec/spec.h"
#include "test.h"

#define DRAWS 10000
/* A fixed "now": Wednesday 2024-05-15 13:45:00.123 UTC. */
#define NOW_MS 1715780700123LL

static spec_app *load(const char *path)
{
    spec_app *app = NULL;
    sl_err err = {0};
    if (spec_load(path, &app, &err) != 0)
        fprintf(stderr, "  spec_load(%s): %s\n", path, err.msg);
    CHECK(app != NULL);
    return app;
}

static spec_app *load_mem(const char *yaml)
{
    spec_app *app = NULL;
    sl_err err = {0};
    if (spec_load_mem("t.yaml", yaml, strlen(yaml), &app, &err) != 0)
        fprintf(stderr, "  spec_load_mem: %s\n", err.msg);
    CHECK(app != NULL);
    return app;
}

static const spec_route *route(const spec_app *app, const char *path)
{
    return app ? spec_route_find(app, "GET", 3, path, strlen(path), NULL) : NULL;
}

static const spec_field *field(const spec_route *rt, const char *name)
{
    for (size_t i = 0; rt && i < rt->nfields; i++)
        if (!strcmp(rt->fields[i].name, name))
            return &rt->fields[i];
    return NULL;
}

/* Renders one field alone and returns the value text (after "name":) in a static buffer. */
static const char *value_of(const spec_field *f, spec_rng *r, const spec_kv *q, size_t nq)
{
    static char val[256];
    sl_buf b;
    sl_buf_init(&b, 4096);
    sl_err err = {0};
    int rc = spec_field_render(f, r, q, nq, NOW_MS, &b, &err);
    CHECK(rc == 0);
    val[0] = 0;
    if (rc == 0 && b.len > f->key_len) {
        CHECK(memcmp(b.p, f->key_json, f->key_len) == 0);
        snprintf(val, sizeof val, "%s", b.p + f->key_len);
    }
    sl_buf_free(&b);
    return val;
}

/* Renders a whole route as an object and checks it is one valid JSON object. */
static bool route_json_ok(const spec_route *rt, spec_rng *r, const spec_kv *q, size_t nq)
{
    sl_buf b;
    sl_buf_init(&b, 1 << 16);
    sl_err err = {0};
    bool ok = sl_buf_addc(&b, '{') == 0 &&
              spec_route_render(rt, r, q, nq, 0, &b, &err) == 0 && sl_buf_addc(&b, '}') == 0;
    json_type type = JSON_NONE;
    json_error je = {0};
    ok = ok && json_validate_whole(b.p, b.len, 8, &type, &je) == 0 && type == JSON_OBJECT;
    if (!ok)
        fprintf(stderr, "  bad route output for %s: %s (%s)\n", rt->path, b.p ? b.p : "",
                err.msg);
    /* Every field appears as a member. */
    json_iter it;
    json_member m;
    size_t n = 0;
    json_iter_init(&it, b.p, b.len);
    while (ok && json_iter_next(&it, &m))
        n++;
    ok = ok && n == rt->nfields;
    sl_buf_free(&b);
    return ok;
}

static void test_rng(void)
{
    spec_rng a, b;
    spec_rng_seed(&a, 42);
    spec_rng_seed(&b, 42);
    bool same = true;
    for (int i = 0; i < 100; i++)
        same = same && spec_rng_next(&a) == spec_rng_next(&b);
    CHECK(same);
    spec_rng_seed(&b, 43);
    CHECK(spec_rng_next(&a) != spec_rng_next(&b));
    spec_rng_seed(&a, 0); /* seed 0 must not give the all-zero state */
    CHECK(spec_rng_next(&a) != 0 || spec_rng_next(&a) != 0);
    int counts[7] = {0};
    bool in_range = true;
    for (int i = 0; i < 7 * 2000; i++) {
        double d = spec_rng_double(&a);
        in_range = in_range && d >= 0 && d < 1;
        counts[spec_rng_below(&a, 7)]++;
    }
    CHECK(in_range);
    for (int i = 0; i < 7; i++) /* expected 2000 each, sd ~41 */
        CHECK(counts[i] > 1800 && counts[i] < 2200);
    CHECK(spec_rng_below(&a, 1) == 0);
}

/* Every route of both shipped apps renders a valid JSON object, many times over. */
static void test_apps_render_valid_json(void)
{
    const char *apps[] = {"apps/game.yaml", "apps/restaurant.yaml"};
    spec_rng r;
    spec_rng_seed(&r, 7);
    spec_kv q[2] = {{"menu", 4, "Thai", 4}, {"stars", 5, "4", 1}};
    for (size_t a = 0; a < 2; a++) {
        spec_app *app = load(apps[a]);
        for (size_t i = 0; app && i < app->nroutes; i++)
            for (int k = 0; k < 200; k++)
                CHECK(route_json_ok(&app->routes[i], &r, q, 2));
        spec_free(app);
    }
}

static const char *const every_kind =
    "app: t\n"
    "routes:\n"
    "  - path: /all\n"
    "    event_type: all\n"
    "    fields:\n"
    "      c_str: \"tab\\there \\\"quoted\\\" \\u00e9\"\n"
    "      c_num: -12.5e3\n"
    "      c_bool: false\n"
    "      c_null: ~\n"
    "      \"we\\\"ird key\": 1\n"
    "      q_free: {query: {param: free, default: none}}\n"
    "      q_int: {query: {param: n, type: integer, min: -5, max: 5, default: 0}}\n"
    "      q_enum: {query: {param: e, allowed: [a, \"b\\\"c\", '12'], default: a}}\n"
    "      n_plain: {normal: {mean: 0, sigma: 1e6}}\n"
    "      n_dec: {normal: {mean: 1, sigma: 1, decimals: 3}}\n"
    "      n_floor: {normal: {mean: -3, sigma: 2, max: 0, round: floor}}\n"
    "      u_int: {uniform: {min: -3, max: 3, integer: true}}\n"
    "      u_dbl: {uniform: {min: 8, max: 60, decimals: 2}}\n"
    "      u_raw: {uniform: {min: 0, max: 1}}\n"
    "      d0: {uniform: {min: -50, max: 50, decimals: 0}}\n"
    "      d3: {normal: {mean: 0, sigma: 0.01, decimals: 3}}\n"
    "      big: {normal: {mean: 1e300, sigma: 1e290, round: true}}\n"
    "      ch_list: {choice: [x, 2, true, \"q\\\"\"]}\n"
    "      ch_map: {choice: {\"No\": 8, \"Yes\": 2}}\n"
    "      ch_vw: {choice: {values: [a, b], weights: [0, 1]}}\n"
    "      pool_gen: {pool: {prefix: \"us\\\"er_\", size: 500, width: 4}}\n"
    "      pool_list: {pool: [alice, bob, 7]}\n"
    "      ts: {timestamp: true}\n"
    "      id: {uuid: true}\n";

static void test_every_kind_valid_json(void)
{
    spec_app *app = load_mem(every_kind);
    const spec_route *rt = route(app, "/all");
    CHECK(rt != NULL);
    if (!rt) {
        spec_free(app);
        return;
    }
    spec_rng r;
    spec_rng_seed(&r, 99);
    /* Hostile free-form query value: quotes, backslash, control bytes, invalid UTF-8. */
    static const char nasty[] = "a\"b\\c\n\x01\xff\xc3(\xe2\x82";
    spec_kv q[3] = {{"free", 4, nasty, sizeof nasty - 1}, {"n", 1, "-5", 2}, {"e", 1, "b\"c", 3}};
    for (int k = 0; k < 2000; k++) {
        CHECK(route_json_ok(rt, &r, q, 3));
        CHECK(route_json_ok(rt, &r, NULL, 0));
    }
    /* Fixed-point output: exactly d decimals, no "-0", and the same text printf gives for
     * the value it denotes (so sign, zero padding and the point are right). */
    const struct {
        const char *name;
        int         d;
    } fixed[] = {{"d0", 0}, {"d3", 3}, {"u_dbl", 2}, {"n_dec", 3}};
    bool fixed_ok = true;
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        for (int i = 0; i < 2000; i++) {
            char v[64], again[64];
            snprintf(v, sizeof v, "%s", value_of(field(rt, fixed[k].name), &r, NULL, 0));
            snprintf(again, sizeof again, "%.*f", fixed[k].d, strtod(v, NULL));
            const char *dot = strchr(v, '.');
            bool ok = !strcmp(v, again) && !(v[0] == '-' && strtod(v, NULL) == 0) &&
                      (fixed[k].d == 0 ? !dot : dot && (int)strlen(dot + 1) == fixed[k].d);
            if (!ok && fixed_ok)
                fprintf(stderr, "  %s rendered '%s'\n", fixed[k].name, v);
            fixed_ok = fixed_ok && ok;
        }
    CHECK(fixed_ok);
    /* Huge rounded values stay valid integers. */
    const char *big = value_of(field(rt, "big"), &r, NULL, 0);
    CHECK(strlen(big) > 250 && strspn(big, "0123456789") == strlen(big));
    /* Some exact renderings. */
    CHECK_STR(value_of(field(rt, "c_num"), &r, NULL, 0), "-12.5e3");
    CHECK_STR(value_of(field(rt, "c_null"), &r, NULL, 0), "null");
    CHECK_STR(value_of(field(rt, "c_str"), &r, NULL, 0), "\"tab\\there \\\"quoted\\\" \xc3\xa9\"");
    CHECK_STR(field(rt, "we\"ird key")->key_json, "\"we\\\"ird key\":");
    CHECK_STR(value_of(field(rt, "q_int"), &r, q, 3), "-5");
    CHECK_STR(value_of(field(rt, "q_int"), &r, NULL, 0), "0");
    CHECK_STR(value_of(field(rt, "q_enum"), &r, q, 3), "\"b\\\"c\"");
    spec_kv q12 = {"e", 1, "12", 2};
    CHECK_STR(value_of(field(rt, "q_enum"), &r, &q12, 1), "\"12\""); /* quoted in spec: string */
    CHECK_STR(value_of(field(rt, "q_free"), &r, NULL, 0), "\"none\"");
    CHECK_STR(value_of(field(rt, "ch_vw"), &r, NULL, 0), "\"b\""); /* weight 0 never drawn */
    const char *p = value_of(field(rt, "pool_gen"), &r, NULL, 0);
    CHECK(strncmp(p, "\"us\\\"er_", 8) == 0 && strlen(p) == 13);
    spec_free(app);
}

static void test_query_errors(void)
{
    spec_app *app = load("apps/restaurant.yaml");
    const spec_field *menu = field(route(app, "/order"), "description");
    const spec_field *stars = field(route(app, "/review"), "stars");
    CHECK(menu && stars);
    if (!menu || !stars) {
        spec_free(app);
        return;
    }
    spec_rng r;
    spec_rng_seed(&r, 1);
    sl_buf b;
    sl_buf_init(&b, 1024);
    sl_buf_adds(&b, "{\"keep\":1,");
    size_t mark = b.len;
    sl_err err = {0};

    spec_kv bad_menu = {"menu", 4, "Klingon", 7};
    CHECK(spec_field_render(menu, &r, &bad_menu, 1, 0, &b, &err) == -EINVAL);
    CHECK(strstr(err.msg, "'menu'") && strstr(err.msg, "Klingon") && strstr(err.msg, "Lebanese"));
    CHECK(b.len == mark && b.p[mark] == 0);

    CHECK_STR(value_of(menu, &r, NULL, 0), "\"American\""); /* default */
    spec_kv leb = {"menu", 4, "Lebanese", 8};
    CHECK_STR(value_of(menu, &r, &leb, 1), "\"Lebanese\"");
    spec_kv lower = {"menu", 4, "lebanese", 8}; /* exact match only */
    CHECK(spec_field_render(menu, &r, &lower, 1, 0, &b, &err) == -EINVAL);

    CHECK(spec_field_render(stars, &r, NULL, 0, 0, &b, &err) == -EINVAL);
    CHECK(strstr(err.msg, "missing query parameter 'stars'") != NULL);
    const char *bad_stars[] = {"0", "6", "-1", "3.5", "", "4x", "99999999999999999999", " 3"};
    for (size_t i = 0; i < sizeof bad_stars / sizeof bad_stars[0]; i++) {
        spec_kv kv = {"stars", 5, bad_stars[i], strlen(bad_stars[i])};
        CHECK(spec_field_render(stars, &r, &kv, 1, 0, &b, &err) == -EINVAL);
        CHECK(strstr(err.msg, "'stars'") && strstr(err.msg, "1..5"));
    }
    for (int s = 1; s <= 5; s++) {
        char v[2] = {(char)('0' + s), 0};
        spec_kv kv = {"stars", 5, v, 1};
        CHECK_STR(value_of(stars, &r, &kv, 1), v); /* a number, not a string */
    }
    /* A whole route fails as a unit and restores the buffer. */
    CHECK(spec_route_render(route(app, "/review"), &r, NULL, 0, 0, &b, &err) == -EINVAL);
    CHECK(b.len == mark && b.p[mark] == 0);
    /* A value in the message is shown safely, and truncated. */
    char longv[300];
    memset(longv, 'x', sizeof longv);
    longv[0] = '\n';
    spec_kv lk = {"menu", 4, longv, sizeof longv};
    CHECK(spec_field_render(menu, &r, &lk, 1, 0, &b, &err) == -EINVAL);
    CHECK(strstr(err.msg, "\\x0a") && strstr(err.msg, "...") && !strchr(err.msg, '\n'));
    sl_buf_free(&b);
    spec_free(app);
}

static void test_buffer_cap(void)
{
    spec_app *app = load("apps/restaurant.yaml");
    const spec_route *rt = route(app, "/order");
    CHECK(rt != NULL);
    spec_rng r;
    spec_rng_seed(&r, 3);
    for (size_t cap = 1; rt && cap < 100; cap += 7) { /* the event is > 100 bytes */
        sl_buf b;
        sl_buf_init(&b, cap);
        sl_err err = {0};
        int rc = spec_route_render(rt, &r, NULL, 0, 0, &b, &err);
        CHECK(rc == -E2BIG && b.len == 0);
        sl_buf_free(&b);
    }
    spec_free(app);
}

/* P(Z <= z) for a standard normal. */
static double phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* strength: normal(5, 4), clipped to [0, 10], rounded to nearest. The exact mean of that
 * discrete distribution is computed from the normal CDF, then compared with the sample. */
static void test_strength_distribution(void)
{
    spec_app *app = load("apps/game.yaml");
    const spec_field *f = field(route(app, "/purchase_a_sword"), "strength");
    CHECK(f != NULL);
    if (!f) {
        spec_free(app);
        return;
    }
    double expect = 0;
    for (int k = 0; k <= 10; k++) {
        double lo = k == 0 ? -INFINITY : (k - 0.5 - f->mean) / f->sigma;
        double hi = k == 10 ? INFINITY : (k + 0.5 - f->mean) / f->sigma;
        expect += k * (phi(hi) - phi(lo));
    }
    spec_rng r;
    spec_rng_seed(&r, 2024);
    double sum = 0;
    int hist[11] = {0};
    bool ints = true;
    for (int i = 0; i < DRAWS; i++) {
        const char *v = value_of(f, &r, NULL, 0);
        char *end;
        long s = strtol(v, &end, 10);
        ints = ints && *end == 0 && s >= 0 && s <= 10;
        if (s >= 0 && s <= 10)
            hist[s]++;
        sum += (double)s;
    }
    double mean = sum / DRAWS;
    printf("  strength mean %.4f, exact %.4f\n", mean, expect);
    CHECK(ints);
    CHECK(fabs(mean - expect) <= 0.15);
    /* Clipping piles mass on the ends: P(0) = Phi(-1.125) ~ 0.13, far above P(1). */
    CHECK(hist[0] > hist[1] && hist[10] > hist[9]);
    spec_free(app);
}

static void test_coupon_share(void)
{
    spec_app *app = load("apps/restaurant.yaml");
    const spec_field *f = field(route(app, "/order"), "coupon");
    CHECK(f && f->nvalues == 2);
    if (!f || f->nvalues != 2) {
        spec_free(app);
        return;
    }
    size_t no = strcmp(f->values[0], "No") ? 1 : 0;
    double want = (f->cum_weights[no] - (no ? f->cum_weights[no - 1] : 0)) / f->cum_weights[1];
    spec_rng r;
    spec_rng_seed(&r, 11);
    int n_no = 0, n_yes = 0;
    for (int i = 0; i < DRAWS; i++) {
        const char *v = value_of(f, &r, NULL, 0);
        n_no += !strcmp(v, "\"No\"");
        n_yes += !strcmp(v, "\"Yes\"");
    }
    double share = (double)n_no / DRAWS;
    printf("  coupon No share %.4f, weight %.4f\n", share, want);
    CHECK(n_no + n_yes == DRAWS);
    CHECK(fabs(share - want) <= 0.02);
    CHECK(want > 0.5); /* the app weights towards "No" */
    spec_free(app);
}

/* event_timestamp: evening (18:00-23:59) and weekend shares follow the weights; every
 * timestamp is RFC 3339 UTC with milliseconds and lies in the days_back whole days
 * before "now". */
static void test_timestamp_distribution(void)
{
    spec_app *app = load("apps/restaurant.yaml");
    const spec_field *f = field(route(app, "/order"), "event_timestamp");
    CHECK(f && f->kind == SPEC_GEN_TIMESTAMP);
    if (!f) {
        spec_free(app);
        return;
    }
    double want_evening = (f->hour_cum[23] - f->hour_cum[17]) / f->hour_cum[23];
    double want_weekend = (f->wday_cum[6] - f->wday_cum[4]) / f->wday_cum[6];
    int64_t today = NOW_MS / 86400000;
    time_t lo = (time_t)((today - f->days_back) * 86400), hi = (time_t)(today * 86400);
    spec_rng r;
    spec_rng_seed(&r, 5);
    int evening = 0, weekend = 0;
    bool format_ok = true, range_ok = true;
    for (int i = 0; i < DRAWS; i++) {
        const char *v = value_of(f, &r, NULL, 0);
        struct tm tm = {0};
        int ms = -1;
        char z = 0;
        int n = sscanf(v, "\"%4d-%2d-%2dT%2d:%2d:%2d.%3d%c\"", &tm.tm_year, &tm.tm_mon,
                       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z);
        format_ok = format_ok && n == 8 && z == 'Z' && strlen(v) == 26 && ms >= 0 && ms < 1000;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        range_ok = range_ok && t >= lo && t < hi;
        struct tm back;
        gmtime_r(&t, &back);
        format_ok = format_ok && back.tm_hour == tm.tm_hour && back.tm_mday == tm.tm_mday;
        evening += back.tm_hour >= 18;
        weekend += back.tm_wday == 0 || back.tm_wday == 6;
    }
    double e = (double)evening / DRAWS, w = (double)weekend / DRAWS;
    printf("  evening share %.4f (weights %.4f), weekend share %.4f (weights %.4f)\n", e,
           want_evening, w, want_weekend);
    CHECK(format_ok);
    CHECK(range_ok);
    CHECK(fabs(e - want_evening) <= 0.02);
    CHECK(fabs(w - want_weekend) <= 0.02);
    /* The app weights towards evenings and weekends: above the uniform 6/24 and 2/7. */
    CHECK(want_evening > 0.25 + 0.1 && want_weekend > 2.0 / 7 + 0.05);
    spec_free(app);
}

static void test_pool_uniform_uuid(void)
{
    spec_app *app = load_mem(every_kind);
    const spec_route *rt = route(app, "/all");
    spec_app *rapp = load("apps/restaurant.yaml");
    const spec_field *user = field(route(rapp, "/order"), "user_id");
    CHECK(rt && user);
    if (!rt || !user) {
        spec_free(app);
        spec_free(rapp);
        return;
    }
    spec_rng r;
    spec_rng_seed(&r, 8);
    /* user_0001..user_0500: every draw well-formed, every user seen (expected misses in
     * 10,000 draws: 500 * e^-20, i.e. none). */
    static bool seen[501];
    bool fmt = true;
    for (int i = 0; i < DRAWS; i++) {
        const char *v = value_of(user, &r, NULL, 0);
        int n = -1;
        fmt = fmt && strlen(v) == 11 && sscanf(v, "\"user_%4d\"", &n) == 1 && n >= 1 && n <= 500;
        if (n >= 1 && n <= 500)
            seen[n] = true;
    }
    CHECK(fmt);
    int distinct = 0;
    for (int i = 1; i <= 500; i++)
        distinct += seen[i];
    CHECK(distinct == 500);

    int ucount[7] = {0};
    bool urange = true, drange = true;
    double dsum = 0;
    for (int i = 0; i < DRAWS; i++) {
        long u = strtol(value_of(field(rt, "u_int"), &r, NULL, 0), NULL, 10);
        urange = urange && u >= -3 && u <= 3;
        if (u >= -3 && u <= 3)
            ucount[u + 3]++;
        const char *d = value_of(field(rt, "u_dbl"), &r, NULL, 0);
        double x = strtod(d, NULL);
        const char *dot = strchr(d, '.');
        drange = drange && x >= 8 && x <= 60 && dot && strlen(dot + 1) == 2;
        dsum += x;
        long fl = strtol(value_of(field(rt, "n_floor"), &r, NULL, 0), NULL, 10);
        urange = urange && fl <= 0;
    }
    CHECK(urange && drange);
    for (int i = 0; i < 7; i++) /* expected 1429 each, sd ~35 */
        CHECK(ucount[i] > 1250 && ucount[i] < 1600);
    CHECK(fabs(dsum / DRAWS - 34.0) < 1.0); /* sd 15 / 100 = 0.15 */

    bool uuid_ok = true;
    for (int i = 0; i < 100; i++) {
        const char *v = value_of(field(rt, "id"), &r, NULL, 0);
        uuid_ok = uuid_ok && strlen(v) == 38 && v[9] == '-' && v[14] == '-' && v[15] == '4' &&
                  strchr("89ab", v[20]) && v[24] == '-';
    }
    CHECK(uuid_ok);
    spec_free(app);
    spec_free(rapp);
}

static void test_route_render_shape(void)
{
    spec_app *app = load("apps/game.yaml");
    spec_rng r;
    spec_rng_seed(&r, 4);
    sl_buf b;
    sl_buf_init(&b, 4096);
    sl_err err = {0};
    /* A route without fields appends nothing. */
    CHECK(spec_route_render(route(app, "/"), &r, NULL, 0, 0, &b, &err) == 0 && b.len == 0);
    CHECK(spec_route_render(route(app, "/purchase_a_sword"), &r, NULL, 0, 0, &b, &err) == 0);
    CHECK(strncmp(b.p, "\"description\":\"large sword\",\"strength\":", 39) == 0);
    CHECK(b.p[b.len - 1] != ',');
    sl_buf_free(&b);
    spec_free(app);
}

int main(void)
{
    RUN(test_rng);
    RUN(test_apps_render_valid_json);
    RUN(test_every_kind_valid_json);
    RUN(test_query_errors);
    RUN(test_buffer_cap);
    RUN(test_strength_distribution);
    RUN(test_coupon_share);
    RUN(test_timestamp_distribution);
    RUN(test_pool_uniform_uuid);
    RUN(test_route_render_shape);
    return test_summary();
}
