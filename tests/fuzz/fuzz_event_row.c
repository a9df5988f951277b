/* fuzz_event_row — libFuzzer target for the stream's event → row conversion
 * (src/stream/row.c): parse one untrusted record, type it against a fixed schema with
 * every column type, infer new columns, and check the invariants: every string cell lies
 * inside the record or the arena and is valid UTF-8 when it came from an escape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/row.h"

static stream_schema schema;
static stream_event *ev;

static void setup(void)
{
    sl_err err = {0};
    memset(&schema, 0, sizeof schema);
    schema.name = strdup("fuzz");
    schema.infer = true;
    stream_schema_add(&schema, "event_id", NULL, SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "received_at", NULL, SPEC_COL_TIMESTAMP, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "user_agent", NULL, SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "strength", NULL, SPEC_COL_BIGINT, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "price", NULL, SPEC_COL_DOUBLE, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "vip", NULL, SPEC_COL_BOOLEAN, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "guild", "Guild Name", SPEC_COL_VARCHAR, STREAM_COL_DECLARED, &err);
    stream_schema_add(&schema, "raw_event", NULL, SPEC_COL_VARCHAR, STREAM_COL_RAW, &err);
    ev = malloc(sizeof *ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ev)
        setup();
    /* Inferred columns accumulate across inputs; start over now and then so that the
     * column cap is reached but not forever. */
    if (schema.ncols > 200) {
        stream_schema_free(&schema);
        free(ev);
        ev = NULL;
        setup();
    }
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    sl_err err = {0};
    if (stream_event_parse(ev, buf, size, 0, &err) == 0) {
        if (!stream_event_type_valid(ev->event_type, strlen(ev->event_type)))
            abort();
        stream_arena a;
        stream_arena_init(&a, 1 << 24);
        stream_cell *cells = calloc(STREAM_MAX_COLUMNS, sizeof *cells);
        int rc = stream_row_convert(&schema, ev, cells, &a, &err);
        if (rc == 0 && stream_schema_infer(&schema, ev, &err) >= 0)
            rc = stream_row_convert(&schema, ev, cells, &a, &err);
        if (rc == 0) {
            /* The stream's cached lookup (stream_row_map) must give the same cells. */
            int16_t *map = malloc(STREAM_MAX_COLUMNS * sizeof *map);
            stream_cell *mc = calloc(STREAM_MAX_COLUMNS, sizeof *mc);
            if (map && mc) {
                stream_row_map(&schema, ev, map);
                if (stream_row_convert_mapped(&schema, ev, map, mc, &a, &err) != 0)
                    abort();
                for (size_t i = 0; i < schema.ncols; i++) {
                    if (mc[i].kind != cells[i].kind || mc[i].len != cells[i].len)
                        abort();
                    if (mc[i].kind == STREAM_CELL_STR &&
                        memcmp(mc[i].v.s, cells[i].v.s, mc[i].len))
                        abort();
                    if (mc[i].kind != STREAM_CELL_STR && mc[i].kind != STREAM_CELL_NULL &&
                        mc[i].v.i != cells[i].v.i)
                        abort();
                }
            }
            free(map);
            free(mc);
            for (size_t i = 0; i < schema.ncols; i++) {
                if (cells[i].kind != STREAM_CELL_STR)
                    continue;
                const char *p = cells[i].v.s;
                bool in_record = p >= buf && p + cells[i].len <= buf + size;
                if (!in_record && !stream_utf8_valid(p, cells[i].len))
                    abort();
                volatile char sink = 0;
                for (uint32_t k = 0; k < cells[i].len; k++)
                    sink ^= p[k];   /* touches every byte: ASan checks the bounds */
                (void)sink;
            }
        } else if (!err.msg[0]) {
            abort();   /* a refusal always says why */
        }
        free(cells);
        stream_arena_free(&a);
    } else if (!err.msg[0]) {
        abort();
    }
    free(buf);
    return 0;
}
