/* fuzz_spec.c — libFuzzer target for the app spec loader (spec_load_mem). Any input must
 * either load or fail with a "<name>:<line>: " message, never crash or leak; a spec that
 * loads must render every route into valid JSON. Seeds: tests/fuzz/corpus/fuzz_spec/. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "spec/gen.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spec_app *app = NULL;
    sl_err err = {0};
    int rc = spec_load_mem("f.yaml", (const char *)data, size, &app, &err);
    if (rc < 0) {
        if (rc == -EINVAL && strncmp(err.msg, "f.yaml:", 7) != 0)
            abort(); /* every spec mistake names file and line */
        return 0;
    }
    spec_rng r;
    spec_rng_seed(&r, size);
    spec_kv q[2] = {{"menu", 4, "Thai", 4}, {"stars", 5, "3", 1}};
    sl_buf b;
    sl_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < app->nroutes; i++) {
        const spec_route *rt = &app->routes[i];
        bool mm;
        const char *m = rt->method ? rt->method : "GET";
        if (spec_route_find(app, m, strlen(m), rt->path, strlen(rt->path), &mm) == NULL)
            abort(); /* every route can be found */
        for (int k = 0; k < 3; k++) {
            sl_buf_reset(&b);
            sl_buf_addc(&b, '{');
            if (spec_route_render(rt, &r, q, 2, 1715780700123LL, &b, &err) < 0)
                continue; /* a required query parameter was missing or not allowed */
            sl_buf_addc(&b, '}');
            json_type t;
            json_error je;
            if (json_validate_whole(b.p, b.len, 8, &t, &je) != 0)
                abort();
        }
    }
    for (size_t i = 0; i < app->ntables; i++)
        (void)spec_table_matches(&app->tables[i], "purchase_sword");
    sl_buf_free(&b);
    spec_free(app);
    return 0;
}
