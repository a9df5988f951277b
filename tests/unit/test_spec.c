/* test_spec.c — the app spec loader: both shipped apps load with the agreed routes and
 * tables, every kind of mistake gives "<file>:<line>: <problem>", and the helpers
 * (spec_route_find, spec_table_matches, spec_sql_name, column types) behave. */
#include <errno.h>

#include "spec/gen.h"
#include "spec/spec.h"
#include "test.h"

static spec_app *load_ok(const char *path)
{
    spec_app *app = NULL;
    sl_err err = {0};
    int rc = spec_load(path, &app, &err);
    if (rc != 0)
        fprintf(stderr, "  spec_load(%s): %s\n", path, err.msg);
    CHECK(rc == 0);
    return app;
}

/* Loads YAML text that must load (as "ok.yaml"); NULL after a failed CHECK. */
static spec_app *load_mem_ok(const char *yaml)
{
    spec_app *app = NULL;
    sl_err err = {0};
    int rc = spec_load_mem("ok.yaml", yaml, strlen(yaml), &app, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(rc == 0);
    return rc ? NULL : app;
}

static const spec_route *find(const spec_app *app, const char *m, const char *p, bool *mm)
{
    return spec_route_find(app, m, strlen(m), p, strlen(p), mm);
}

static const spec_table *table(const spec_app *app, const char *name)
{
    for (size_t i = 0; i < app->ntables; i++)
        if (!strcmp(app->tables[i].name, name))
            return &app->tables[i];
    return NULL;
}

static const spec_column *column(const spec_table *t, const char *name)
{
    for (size_t i = 0; t && i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return &t->cols[i];
    return NULL;
}

static const spec_field *field(const spec_route *rt, const char *name)
{
    for (size_t i = 0; rt && i < rt->nfields; i++)
        if (!strcmp(rt->fields[i].name, name))
            return &rt->fields[i];
    return NULL;
}

static void test_game_app(void)
{
    spec_app *app = load_ok("apps/game.yaml");
    if (!app)
        return;
    CHECK_STR(app->name, "game");
    CHECK_STR(app->topic, "events");
    static const char *const routes[][3] = {
        {"/", "default", "This is the default response!\n"},
        {"/purchase_a_sword", "purchase_sword", "Sword Purchased!\n"},
        {"/purchase_an_axe", "purchase_axe", NULL},
        {"/purchase_a_shield", "purchase_shield", NULL},
        {"/join_a_guild", "join_guild", NULL},
        {"/declare_peace", "declare_peace", NULL},
        {"/declare_a_war", "declare_war", NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        bool mm = true;
        const spec_route *rt = find(app, "GET", routes[i][0], &mm);
        CHECK(rt != NULL);
        if (!rt)
            continue;
        CHECK_STR(rt->event_type, routes[i][1]);
        CHECK(rt->status == 200);
        CHECK_STR(rt->content_type, "text/html; charset=utf-8");
        if (routes[i][2])
            CHECK_STR(rt->body, routes[i][2]);
        if (!strncmp(routes[i][1], "purchase_", 9)) {
            const spec_field *s = field(rt, "strength");
            CHECK(s && s->kind == SPEC_GEN_NORMAL && s->mean == 5 && s->sigma == 4 &&
                  s->min == 0 && s->max == 10 && s->round == SPEC_ROUND_NEAREST);
            CHECK(field(rt, "description") != NULL);
        }
    }
    bool mm = true;
    CHECK(find(app, "GET", "/buy_a_sword", &mm) == NULL && !mm);
    CHECK(find(app, "GET", "/join_guild", &mm) == NULL && !mm);
    CHECK(find(app, "POST", "/purchase_a_sword", &mm) == NULL && mm);
    CHECK(find(app, "HEAD", "/purchase_a_sword", &mm) != NULL);
    CHECK(find(app, "GET", "/purchase_a_sword?x=1", &mm) == NULL);

    const spec_table *p = table(app, "purchases");
    CHECK(p && spec_table_matches(p, "purchase_sword") && spec_table_matches(p, "purchase_axe") &&
          !spec_table_matches(p, "join_guild"));
    const spec_column *st = column(p, "strength");
    CHECK(st && st->type == SPEC_COL_BIGINT && !st->common);
    CHECK(column(p, "description") && column(p, "description")->type == SPEC_COL_VARCHAR);
    CHECK(table(app, "joins") && spec_table_matches(table(app, "joins"), "join_guild"));
    CHECK(table(app, "declarations") &&
          spec_table_matches(table(app, "declarations"), "declare_war") &&
          spec_table_matches(table(app, "declarations"), "declare_peace"));
    CHECK(table(app, "default_hits") && spec_table_matches(table(app, "default_hits"), "default"));
    const spec_table *ev = table(app, "events");
    CHECK(ev && ev->raw_event && spec_table_matches(ev, "anything_at_all"));
    /* Every table starts with the common columns, in order, marked common. */
    for (size_t i = 0; i < app->ntables; i++) {
        const spec_table *t = &app->tables[i];
        CHECK(t->ncols >= spec_ncommon_columns);
        for (size_t j = 0; j < spec_ncommon_columns && j < t->ncols; j++) {
            CHECK_STR(t->cols[j].name, spec_common_columns[j]);
            CHECK(t->cols[j].common);
        }
        CHECK(t->cols[2].type == SPEC_COL_TIMESTAMP);
    }
    spec_free(app);
}

static void test_restaurant_app(void)
{
    spec_app *app = load_ok("apps/restaurant.yaml");
    if (!app)
        return;
    static const char *const routes[][2] = {
        {"/login0", "login"},           {"/login", "login"},
        {"/create_profile", "create_profile"}, {"/menu_search", "menu_search"},
        {"/order", "order_food"},       {"/review", "review"},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const spec_route *rt = find(app, "GET", routes[i][0], NULL);
        CHECK(rt && !strcmp(rt->event_type, routes[i][1]));
        const spec_field *u = field(rt, "user_id");
        CHECK(u && u->kind == SPEC_GEN_POOL);
        const spec_field *ts = field(rt, "event_timestamp");
        CHECK(ts && ts->kind == SPEC_GEN_TIMESTAMP);
    }
    const spec_route *order = find(app, "GET", "/order", NULL);
    const spec_field *d = field(order, "description");
    CHECK(d && d->kind == SPEC_GEN_QUERY && !strcmp(d->param, "menu") && d->nvalues == 8);
    CHECK(field(order, "coupon") && field(order, "coupon")->kind == SPEC_GEN_CHOICE);
    CHECK(field(order, "price") && field(order, "price")->kind == SPEC_GEN_UNIFORM);
    const spec_field *stars = field(find(app, "GET", "/review", NULL), "stars");
    CHECK(stars && stars->q_integer && stars->imin == 1 && stars->imax == 5);

    const spec_table *o = table(app, "menu_app_orders");
    CHECK(o && spec_table_matches(o, "order_food") && !spec_table_matches(o, "login"));
    static const char *const ocols[][2] = {{"description", "varchar"}, {"price", "double"},
                                           {"coupon", "varchar"}, {"event_timestamp", "timestamp"},
                                           {"user_id", "varchar"}};
    for (size_t i = 0; i < 5; i++) {
        const spec_column *c = column(o, ocols[i][0]);
        CHECK(c && !strcmp(spec_col_type_name(c->type), ocols[i][1]));
    }
    const spec_table *e = table(app, "menu_app_events");
    CHECK(e && spec_table_matches(e, "login") && spec_table_matches(e, "review") &&
          spec_table_matches(e, "menu_search") && !spec_table_matches(e, "order_food"));
    CHECK(column(e, "description") != NULL);
    CHECK(table(app, "events") && table(app, "events")->raw_event);
    spec_free(app);
}

/* ---- mistakes: each snippet must fail with "bad.yaml:<line>: ...<substring>..." ---- */

#define HEAD "app: t\nroutes:\n"                /* lines 1-2 */
#define ROUTE "  - path: /x\n    event_type: x\n" /* lines 3-4 */

static const struct bad_case {
    const char *yaml;
    int         line;
    const char *want;
} bad_cases[] = {
    {"app: t\nroutes: [\n", 3, "YAML syntax error"},
    {"app: t\n  bad indent: 1\n", 2, "YAML syntax error"},
    {"", 1, "empty"},
    {"- a\n- b\n", 1, "the top level must be a map"},
    {"app: t\nbogus: 1\nroutes: []\n", 2, "unknown key 'bogus' in the top level"},
    {"routes:\n" ROUTE, 1, "needs 'app"},
    {"app: t\n", 1, "neither routes nor tables"},
    {"app: 'a b'\nroutes: [{path: /x}]\n", 1, "app name 'a b'"},
    {"app: t\ntopic: 'a/b'\nroutes: [{path: /x}]\n", 2, "topic 'a/b'"},
    {"app: t\napp: u\nroutes: [{path: /x}]\n", 2, "duplicate key 'app'"},
    {HEAD ROUTE "    fields:\n      a: 1\n      b: 2\n      a: 3\n", 8,
     "duplicate key 'a' in fields (first at line 6)"},
    {"app: t\nroutes: {path: /x}\n", 2, "routes must be a list"},
    {HEAD "  - event_type: x\n", 3, "route needs 'path'"},
    {HEAD "  - path: x\n", 3, "must start with '/'"},
    {HEAD "  - path: '/a b'\n", 3, "must not contain spaces"},
    {HEAD "  - path: /a%20b\n", 3, "path '/a%20b' holds '%'"},
    {HEAD "  - path: /x/../y\n", 3, "has a '.' or '..' segment"},
    {HEAD "  - path: /x/./y\n", 3, "has a '.' or '..' segment"},
    {HEAD "  - path: /x/..\n", 3, "has a '.' or '..' segment"},
    {HEAD "  - path: /.\n", 3, "has a '.' or '..' segment"},
    {HEAD "  - path: /healthz\n", 3, "reserved"},
    {HEAD "  - path: /metrics\n", 3, "reserved"},
    {HEAD "  - path: /events\n    method: POST\n", 3, "reserved"},
    {HEAD "  - path: /_sluice/x\n", 3, "reserved"},
    {HEAD ROUTE "    colour: red\n", 5, "unknown key 'colour' in a route"},
    {HEAD "  - path: /x\n    event_type: Bad-Type\n", 4, "event_type 'Bad-Type' must match"},
    {HEAD "  - path: /x\n    event_type: 9lives\n", 4, "must match"},
    {HEAD "  - path: /x\n    event_type: [a]\n", 4, "event_type must be a scalar, not a list"},
    {HEAD ROUTE "    status: 700\n", 5, "status must be between 200 and 599"},
    {HEAD ROUTE "    status: 100\n", 5, "status 100 is an interim (1xx) response"},
    {HEAD ROUTE "    status: 101\n", 5, "use 200..599"},
    {HEAD ROUTE "    status: 204\n    body: hi\n", 6, "a 204 answer has no body"},
    {HEAD ROUTE "    status: 304\n    body: x\n", 6, "a 304 answer has no body"},
    {HEAD ROUTE "    status: ok\n", 5, "status must be an integer"},
    {HEAD ROUTE "    method: get\n", 5, "method must be an upper-case"},
    {HEAD ROUTE ROUTE, 5, "duplicate route GET /x (first at line 3)"},
    {HEAD "  - {path: /x, method: ANY}\n  - {path: /x, method: POST}\n", 4, "duplicate route"},
    {HEAD "  - path: /x\n    fields: {a: 1}\n", 4, "fields need an event_type"},
    {HEAD ROUTE "    fields:\n      event_id: 1\n", 6, "set by the collector"},
    {HEAD ROUTE "    fields:\n      a: [1, 2]\n", 6, "must be a constant or a generator map, not a list"},
    {HEAD ROUTE "    fields:\n      a: {gauss: 1}\n", 6, "unknown key 'gauss' in a field generator"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: 1, sigma: 1}, uuid: true}\n", 6,
     "exactly one generator"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: 1}}\n", 6, "normal needs 'mean' and 'sigma'"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: x, sigma: 1}}\n", 6, "normal mean must be a number"},
    {HEAD ROUTE "    fields:\n      a:\n        normal: {mean: 1, sigma: 1,\n          min: 5, max: 1}\n",
     8, "normal min (5) is greater than max (1)"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: 1, sigma: -1}}\n", 6, "sigma must not be negative"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: 1, sigma: 1, round: maybe}}\n", 6, "normal round must be"},
    {HEAD ROUTE "    fields:\n      a: {normal: {mean: 1, sigma: 1, skew: 1}}\n", 6, "unknown key 'skew' in normal"},
    {HEAD ROUTE "    fields:\n      a: {uniform: {min: 9, max: 1}}\n", 6, "uniform min (9) is greater than max (1)"},
    {HEAD ROUTE "    fields:\n      a: {uniform: {min: 0.5, max: 1, integer: true}}\n", 6, "whole min and max"},
    {HEAD ROUTE "    fields:\n      a: {uniform: {min: 1}}\n", 6, "uniform needs 'min' and 'max'"},
    {HEAD ROUTE "    fields:\n      a: {choice: {values: [a, b], weights: [1]}}\n", 6,
     "choice weights must have 2 entries, not 1"},
    {HEAD ROUTE "    fields:\n      a: {choice: {values: [a, b], weights: [1, -1]}}\n", 6,
     "must not be negative"},
    {HEAD ROUTE "    fields:\n      a: {choice: {a: 0, b: 0}}\n", 6, "add up to more than 0"},
    {HEAD ROUTE "    fields:\n      a: {choice: {a: x}}\n", 6, "choice weight must be a number"},
    {HEAD ROUTE "    fields:\n      a: {choice: []}\n", 6, "choice is empty"},
    {HEAD ROUTE "    fields:\n      a: {pool: {prefix: u_}}\n", 6, "pool needs 'size'"},
    {HEAD ROUTE "    fields:\n      a: {pool: {size: 0}}\n", 6, "pool size must be between 1"},
    {HEAD ROUTE "    fields:\n      a: {pool: {size: 5, width: 99}}\n", 6, "pool width must be between 0 and 20"},
    {HEAD ROUTE "    fields:\n      a: {timestamp: {hours: [1, 2]}}\n", 6,
     "timestamp hours must have 24 entries, not 2"},
    {HEAD ROUTE "    fields:\n      a: {timestamp: {weekdays: [1, 1, 1, 1, 1, 1]}}\n", 6,
     "weekdays (Monday..Sunday) must have 7 entries, not 6"},
    {HEAD ROUTE "    fields:\n      a: {timestamp: {days_back: 3}}\n", 6, "days_back must be between 7"},
    {HEAD ROUTE "    fields:\n      a: {uuid: nope}\n", 6, "uuid must be true or false"},
    {HEAD ROUTE "    fields:\n      a: {query: {allowed: [a]}}\n", 6, "query needs 'param'"},
    {HEAD ROUTE "    fields:\n      a: {query: {param: m, allowed: [a, b], default: c}}\n", 6,
     "query default 'c' is not one of the allowed values"},
    {HEAD ROUTE "    fields:\n      a: {query: {param: m, type: integer, min: 5, max: 1}}\n", 6,
     "query min (5) is greater than max (1)"},
    {HEAD ROUTE "    fields:\n      a: {query: {param: m, type: integer, min: 1, max: 5, default: 9}}\n",
     6, "query default must be between 1 and 5"},
    {HEAD ROUTE "    fields:\n      a: {query: {param: m, type: float}}\n", 6, "query type must be string or integer"},
    {HEAD ROUTE "    fields:\n      a: {query: {param: m, min: 1}}\n", 6, "need 'type: integer'"},
    {"app: t\ntables:\n  - name: Bad\n    events: [x]\n", 3, "table name 'Bad' must match"},
    {"app: t\ntables:\n  - name: _rejected\n    events: [x]\n", 3, "reserved"},
    {"app: t\ntables:\n  - name: t1\n", 3, "table 't1' needs 'events'"},
    {"app: t\ntables:\n  - name: t1\n    events: []\n", 4, "events is empty"},
    {"app: t\ntables:\n  - name: t1\n    events: ['Foo Bar']\n", 4, "'Foo Bar' is not an event type or glob"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      n: decimal\n", 6,
     "unknown column type 'decimal'"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      N-1: varchar\n", 6,
     "column name 'N-1' must match"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      host: varchar\n", 6,
     "duplicate column 'host' in table 't1' (it is a common column"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      raw_event: varchar\n", 6,
     "column 'raw_event' is reserved"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      a: {field: b}\n", 6,
     "column 'a' needs 'type'"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns:\n      a: {type: bigint, cast: 1}\n", 6,
     "unknown key 'cast' in a column"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    raw_event: maybe\n", 5, "raw_event must be true or false"},
    {"app: t\ntables:\n  - {name: t1, events: [x]}\n  - {name: t1, events: [y]}\n", 4,
     "duplicate table 't1' (first at line 3)"},
    {"app: t\ntables:\n  - {name: t1, events: x, partition: dt}\n", 3, "unknown key 'partition' in a table"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    partition_by: when\n", 5,
     "table 't1': partition_by 'when' is not a timestamp column"},
    {"app: t\ntables:\n  - name: t1\n    events: [x]\n    columns: {n: bigint}\n    partition_by: n\n", 6,
     "partition_by 'n' is not a timestamp column"},
    {"app: t\nroutes: [{path: /x}]\n---\napp: u\n", 4, "one YAML document"},
};

static void test_mistakes(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        spec_app *app = (spec_app *)1;
        sl_err err = {0};
        int rc = spec_load_mem("bad.yaml", c->yaml, strlen(c->yaml), &app, &err);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "bad.yaml:%d: ", c->line);
        bool ok = rc == -EINVAL && app == NULL && !strncmp(err.msg, prefix, strlen(prefix)) &&
                  strstr(err.msg, c->want) != NULL;
        if (!ok)
            fprintf(stderr, "  case %zu: rc=%d msg=\"%s\"; want \"%s...%s\"\n", i, rc, err.msg,
                    prefix, c->want);
        CHECK(ok);
        if (rc == 0)
            spec_free(app);
    }
}

/* Paths that stay as they are under the collector's request-path normalisation (only
 * '%' and "."/".." segments change) load and are found. */
static void test_paths_kept(void)
{
    static const char yaml[] = "app: t\nroutes:\n  - path: /.well-known/x\n"
                               "  - path: //x\n  - path: /a.b/..c/.\"\n  - path: /\n";
    spec_app *app = load_mem_ok(yaml);
    if (!app)
        return;
    const char *paths[] = {"/.well-known/x", "//x", "/a.b/..c/.\"", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        CHECK(find(app, "GET", paths[i], NULL) != NULL);
    spec_free(app);
}

static void test_file_errors(void)
{
    spec_app *app = NULL;
    sl_err err = {0};
    CHECK(spec_load("/nonexistent/app.yaml", &app, &err) == -ENOENT);
    CHECK(strstr(err.msg, "/nonexistent/app.yaml") != NULL);
    CHECK(app == NULL);
    CHECK(spec_load(test_tmpdir(), &app, &err) == -EINVAL); /* a directory */

    /* A file on disk gets its path in the message. */
    char path[400];
    snprintf(path, sizeof path, "%s/x.yaml", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("app: t\nroutes:\n  - path: /x\n    status: 99\n", f);
    fclose(f);
    CHECK(spec_load(path, &app, &err) == -EINVAL);
    char want[480];
    snprintf(want, sizeof want, "%s:4: status must be between 200 and 599", path);
    CHECK(strstr(err.msg, want) == err.msg);
}

static void test_defaults_and_forms(void)
{
    const char *y = "app: t\n"
                    "routes:\n"
                    "  - path: /a\n"
                    "  - path: /b\n"
                    "    method: ANY\n"
                    "    event_type: b\n"
                    "    status: 201\n"
                    "    body: ok\n"
                    "    content_type: text/plain\n"
                    "    fields:\n"
                    "      n: 12\n"
                    "      s: '12'\n"
                    "      t: true\n"
                    "      z: ~\n"
                    "      w: hello world\n"
                    "      c: {const: normal}\n"
                    "      q: {query: menu}\n"
                    "      p: {pool: [a, b]}\n"
                    "      k: {choice: [x, y]}\n"
                    "      ts: {timestamp: true}\n"
                    "      id: {uuid: true}\n"
                    "tables:\n"
                    "  - name: t1\n"
                    "    events: b\n"
                    "    infer: true\n"
                    "    columns:\n"
                    "      n: int\n"
                    "      s: {type: string, field: S-Field}\n"
                    "    partition_by: received_at\n";
    spec_app *app = load_mem_ok(y);
    if (!app)
        return;
    CHECK_STR(app->topic, "events");
    const spec_route *a = find(app, "GET", "/a", NULL);
    CHECK(a && a->event_type == NULL && a->status == 200 && !strcmp(a->body, "") &&
          !strcmp(a->method, "GET"));
    const spec_route *b = find(app, "DELETE", "/b", NULL);
    CHECK(b && b->method == NULL && b->status == 201 && !strcmp(b->content_type, "text/plain"));
    CHECK_STR(field(b, "n")->json, "12");
    CHECK_STR(field(b, "s")->json, "\"12\"");
    CHECK_STR(field(b, "t")->json, "true");
    CHECK_STR(field(b, "z")->json, "null");
    CHECK_STR(field(b, "w")->json, "\"hello world\"");
    CHECK_STR(field(b, "c")->json, "\"normal\"");
    CHECK_STR(field(b, "n")->key_json, "\"n\":");
    CHECK(field(b, "q")->kind == SPEC_GEN_QUERY && field(b, "q")->json == NULL);
    const spec_table *t = table(app, "t1");
    CHECK(t && t->infer && !t->raw_event && t->nevents == 1 && t->ncols == spec_ncommon_columns + 2);
    CHECK(t && t->partition_by && !strcmp(t->partition_by, "received_at"));
    CHECK(column(t, "n") && column(t, "n")->type == SPEC_COL_BIGINT && !column(t, "n")->field);
    CHECK(column(t, "s") && !strcmp(column(t, "s")->field, "S-Field"));
    CHECK(column(t, "n") && column(t, "n")->line == 27);
    spec_free(app);
}

static void test_helpers(void)
{
    char out[64];
    CHECK(spec_sql_name("User-Agent", 10, out, sizeof out) == 10);
    CHECK_STR(out, "user_agent");
    spec_sql_name("Host", 4, out, sizeof out);
    CHECK_STR(out, "host");
    spec_sql_name("--X  Forwarded..For--", 21, out, sizeof out);
    CHECK_STR(out, "x_forwarded_for");
    spec_sql_name("Accept", 6, out, 4);
    CHECK_STR(out, "acc");
    CHECK(spec_sql_name("", 0, out, sizeof out) == 0 && out[0] == 0);

    spec_col_type t;
    CHECK(spec_col_type_parse("integer", &t) == 0 && t == SPEC_COL_BIGINT);
    CHECK(spec_col_type_parse("float", &t) == 0 && t == SPEC_COL_DOUBLE);
    CHECK(spec_col_type_parse("bool", &t) == 0 && t == SPEC_COL_BOOLEAN);
    CHECK(spec_col_type_parse("string", &t) == 0 && t == SPEC_COL_VARCHAR);
    CHECK(spec_col_type_parse("timestamp", &t) == 0 && t == SPEC_COL_TIMESTAMP);
    CHECK(spec_col_type_parse("decimal", &t) == -EINVAL);
    for (int i = SPEC_COL_VARCHAR; i <= SPEC_COL_TIMESTAMP; i++) {
        CHECK(spec_col_type_parse(spec_col_type_name((spec_col_type)i), &t) == 0);
        CHECK(t == (spec_col_type)i);
    }
    spec_free(NULL);
}

int main(void)
{
    RUN(test_game_app);
    RUN(test_restaurant_app);
    RUN(test_mistakes);
    RUN(test_paths_kept);
    RUN(test_file_errors);
    RUN(test_defaults_and_forms);
    RUN(test_helpers);
    return test_summary();
}
