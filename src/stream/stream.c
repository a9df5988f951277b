/* stream.c — the micro-batch loop (protocol in stream.h and docs/stream.md).
 *
 * A batch is processed in two passes so that schema inference can add a column in the
 * middle of a batch: pass 1 parses, routes and types every event into each of its
 * tables' column arrays (cols.h; a table's schema may grow meanwhile: the rows before a
 * new column are NULL in it), pass 2 writes one file per (table, dt) with the final
 * schema. Replaying a batch
 * gives the same rows and names, because the schema it starts from (spec + catalog) and
 * its offset range are the same.
 *
 * Pipelining: the calling thread reads and routes batch N+1 and hands its files to the
 * lane pool at once; the lanes encode files of batches N and N+1 (oldest first) into
 * temporary files; a commit thread waits for all of batch N's files, then records N's
 * range, renames N's files and writes N's checkpoint (in batch order). Each batch carries
 * a snapshot of the schemas its rows were built with, so inference during routing never
 * races the lanes. Ownership: tbl.schema and the routing scratch belong to the router;
 * tbl catalog fields, the checkpoint, the stats and the log output to the commit stage;
 * a task's result fields to its lane until the commit stage has seen tasks_done.
 *
 * Rejection is per event, not per table: an event that does not fit one of its tables is
 * in no table and only in _rejected, so counts stay consistent across tables.
 */
#include "stream/stream.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/log.h"
#include "common/hash.h"
#include "stream/checkpoint.h"
#include "stream/row.h"
#include "stream/writer.h"
#include "warehouse/catalog.h"

const char *const stream_rejected_columns[] = {"reason", "topic", "partition", "offset",
                                                "event_type", "raw", "received_at", NULL};

void stream_opts_init(stream_opts *o)
{
    memset(o, 0, sizeof *o);
    o->job = "stream";
    o->trigger_ms = 1000;
    o->max_batch = 100000;
    o->max_batch_bytes = 256u << 20;
    o->compression = "snappy";
    o->row_group_size = 122880;
}

typedef struct tbl {
    stream_schema     schema;
    const spec_table *spec;           /* NULL for _rejected */
    size_t            catalog_ncols;  /* columns the catalog file has; 0 = no file yet */
    int               schema_version;
    char             *created_at;
    int               part_col;       /* spec partition_by: its schema column, or -1 for
                                         received_at */
} tbl;

/* One table's rows in one batch, with the schema they were built with (a snapshot: the
 * router may grow the live schema while the writer works on this batch). */
typedef struct brows {
    stream_cols   cols;   /* the rows, by column, with their dts */
    stream_schema snap;
} brows;

/* Batches in flight: the router fills one while the lanes encode and the commit thread
 * commits the others (see pipeline below). */
#define NBUF 3

/* A batch in flight. */
typedef struct batch {
    uint64_t     first, last;
    bool         replay;
    int32_t      partition;    /* 0 for the embedded log */
    stream_ckpt *ck;           /* the partition's checkpoint files */
    size_t       nrecs;
    log_batch   *bs;           /* the log reads of the batch: bs[0..nb) */
    size_t       nb, bs_cap;   /* bs[nb..bs_cap) keep their buffers for the next batch */
    size_t       nbytes;       /* the records' bytes */
    stream_arena arena;        /* decoded strings, reasons of rejected events */
    brows       *t;            /* per table, same order as ctx tables */
    stream_arena xarena;       /* the second router's strings */
    brows       *xt;           /* the second router's rows, appended to t after routing */
    struct write_task *tasks;  /* the batch's files, handed to the lanes at submission */
    size_t       ntasks, tcap;
    size_t       next_task;    /* next task a lane takes; guarded by the pool lock */
    size_t       tasks_done;   /* tasks finished; guarded by the pool lock */
    int64_t      t0, t_routed;
    uint64_t     backlog_end;  /* --once progress: the end of the backlog, else 0 */
    int          rc;           /* result of the writer stage */
    sl_err       err;
} batch;

/* Key layouts seen: events of one type carry the same keys in the same order, and which
 * field a column reads depends only on those keys (row.h), so the column → field lookup
 * is done once per (layout, table) and reused. Direct-mapped by a hash of the keys and
 * verified byte for byte; only small layouts are kept, so the cache is bounded whatever
 * the input (a miss just does the lookup). Router thread only. */
#define LAYOUT_SLOTS     64
#define LAYOUT_MAX_KEYS  64
#define LAYOUT_MAX_BYTES 2048

typedef struct layout {
    bool      used;
    uint64_t  hash;
    uint32_t  nf;
    uint32_t  klen[LAYOUT_MAX_KEYS];
    char      keys[LAYOUT_MAX_BYTES];   /* the key tokens, concatenated */
    int16_t **map;                      /* per table; NULL until first needed */
    size_t   *map_ncols;                /* per table: schema columns of its map */
} layout;

/* The state of one routing thread. A large batch is routed by two routers at once, each
 * taking one half of the records into its own rows and arena (merged afterwards, in
 * offset order); the caches are per router, so routers share nothing they write. */
#define ROUTERS          2
#define PARALLEL_MIN     8192   /* records in a batch before a second router helps */

typedef struct router {
    stream_event  *ev;
    stream_cell   *scratch;    /* STREAM_MAX_COLUMNS cells per table */
    stream_cell  **cellptr;    /* per table: this event's cells, or NULL */
    /* Routing cache: event types seen → which tables take them (fnmatch per event and
     * table was a visible cost). Filled up to 64 entries, then fnmatch again. */
    char           route_type[64][65];
    uint8_t        route_len[64];
    size_t         route_last;    /* the entry that matched last */
    bool          *route_match;   /* [64][ntables] */
    size_t         nroute;
    layout        *layouts;       /* [LAYOUT_SLOTS] */
    /* what it routes into: set for each batch */
    stream_arena  *arena;
    brows         *t;             /* per table */
    int32_t        partition;
} router;

typedef struct stream_ctx {
    const spec_app    *app;
    const stream_opts *o;
    const char        *topic;
    log_topic         *log;
    stream_ckpt        ckpt;
    stream_writer     *writer;
    int                lanes;      /* files written at once */
    struct lane_pool  *pool;       /* the lane threads that encode files */
    tbl               *tables;     /* app tables, then _rejected last */
    size_t             ntables;
    batch              bufs[NBUF];
    router             rt[ROUTERS];
    bool               parallel;   /* route large batches with two routers (no inference) */
    double             rec_bytes_avg;   /* bytes a log record took in the last read */
    char              *warehouse;
    stream_stats      *st;
    bool               progress_shown;
    char               kpart_label[32];   /* Kafka: "p<P> " for batch lines */
} stream_ctx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(const stream_ctx *c)
{
    return c->o->stop && *c->o->stop;
}

/* ---- tables and catalog ---- */

static void tbl_free(tbl *t)
{
    stream_schema_free(&t->schema);
    free(t->created_at);
}

static int rejected_schema(stream_schema *s, sl_err *err)
{
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup("_rejected")))
        return sl_err_errno(err, ENOMEM, "schema");
    static const spec_col_type types[] = {SPEC_COL_VARCHAR, SPEC_COL_VARCHAR, SPEC_COL_BIGINT,
                                          SPEC_COL_BIGINT,  SPEC_COL_VARCHAR, SPEC_COL_VARCHAR,
                                          SPEC_COL_TIMESTAMP};
    for (size_t i = 0; stream_rejected_columns[i]; i++) {
        int rc = stream_schema_add(s, stream_rejected_columns[i], NULL, types[i],
                                   STREAM_COL_DECLARED, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Brings back the columns a previous run inferred (they are in the catalog, not in the
 * spec), so that later files and replayed batches keep them. */
static int tbl_load_catalog(stream_ctx *c, tbl *t, sl_err *err)
{
    wh_table *wt = NULL;
    sl_err e2 = {0};
    int rc = wh_catalog_read(c->o->data_dir, t->schema.name, &wt, &e2);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        *err = e2;
        return rc;
    }
    t->schema_version = wt->schema_version;
    t->catalog_ncols = wt->ncols;
    if (wt->created_at && !(t->created_at = strdup(wt->created_at)))
        rc = sl_err_errno(err, ENOMEM, "catalog");
    for (size_t i = 0; rc == 0 && i < wt->ncols; i++)
        if (t->schema.infer && stream_schema_find(&t->schema, wt->cols[i].name) < 0)
            rc = stream_schema_add(&t->schema, wt->cols[i].name, NULL, wt->cols[i].type,
                                   STREAM_COL_INFERRED, err);
    bool same = wt->ncols == t->schema.ncols;
    for (size_t i = 0; same && i < wt->ncols; i++)
        same = !strcmp(t->schema.cols[i].name, wt->cols[i].name) &&
               t->schema.cols[i].type == wt->cols[i].type;
    /* A spec change (new or retyped column) is a schema change too: write it at the next
     * file. */
    if (!same)
        t->catalog_ncols = (size_t)-1;
    wh_table_free(wt);
    return rc;
}

static int tbl_write_catalog(stream_ctx *c, tbl *t, const stream_schema *snap, sl_err *err)
{
    wh_table wt;
    memset(&wt, 0, sizeof wt);
    wh_column part = {.name = "dt", .type = SPEC_COL_VARCHAR};
    char loc[256];
    snprintf(loc, sizeof loc, "warehouse/%s", snap->name);
    wt.name = snap->name;
    wt.format = "parquet";
    wt.location = loc;
    wt.cols = calloc(snap->ncols, sizeof *wt.cols);
    if (!wt.cols)
        return sl_err_errno(err, ENOMEM, "catalog");
    for (size_t i = 0; i < snap->ncols; i++) {
        wt.cols[i].name = snap->cols[i].name;
        wt.cols[i].type = snap->cols[i].type;
    }
    wt.ncols = snap->ncols;
    wt.part_cols = &part;
    wt.npart_cols = 1;
    wt.schema_version = t->catalog_ncols == 0 ? 1 : t->schema_version + 1;
    if (t->schema_version == 0)
        wt.schema_version = 1;
    wt.created_at = t->created_at;
    int rc = wh_catalog_write(c->o->data_dir, &wt, err);
    free(wt.cols);
    if (rc < 0)
        return rc;
    t->schema_version = wt.schema_version;
    t->catalog_ncols = snap->ncols;
    if (!t->created_at) {
        /* Keep the creation time the catalog chose for later rewrites. */
        wh_table *back = NULL;
        if (wh_catalog_read(c->o->data_dir, snap->name, &back, NULL) == 0 &&
            back->created_at)
            t->created_at = strdup(back->created_at);
        wh_table_free(back);
    }
    return 0;
}

/* ---- pass 1: events → cells ---- */

static int reject(stream_ctx *c, router *rt, const log_record *r, const char *reason,
                  const char *event_type, int64_t received_us)
{
    brows *t = &rt->t[c->ntables - 1];
    stream_cell cells[7];
    size_t rlen = strlen(reason);
    char *rs = stream_arena_alloc(rt->arena, rlen + 1);
    if (!rs)
        return -ENOMEM;
    memcpy(rs, reason, rlen + 1);
    memset(cells, 0, sizeof cells);
    cells[0] = (stream_cell){.kind = STREAM_CELL_STR, .len = (uint32_t)rlen, .v.s = rs};
    cells[1] = (stream_cell){.kind = STREAM_CELL_STR, .len = (uint32_t)strlen(c->topic),
                             .v.s = c->topic};
    cells[2] = (stream_cell){.kind = STREAM_CELL_I64, .v.i = rt->partition};
    cells[3] = (stream_cell){.kind = STREAM_CELL_I64, .v.i = (int64_t)r->offset};
    if (event_type && *event_type) {
        size_t n = strlen(event_type);
        char *et = stream_arena_alloc(rt->arena, n + 1);
        if (!et)
            return -ENOMEM;
        memcpy(et, event_type, n + 1);
        cells[4] = (stream_cell){.kind = STREAM_CELL_STR, .len = (uint32_t)n, .v.s = et};
    }
    cells[5] = (stream_cell){.kind = STREAM_CELL_STR, .len = r->len, .v.s = r->data};
    if (!stream_utf8_valid(r->data, r->len)) {
        const char *p = stream_utf8_clean(rt->arena, r->data, r->len, &cells[5].len);
        if (!p)
            return -ENOMEM;
        cells[5].v.s = p;
    }
    cells[6] = (stream_cell){.kind = STREAM_CELL_TS, .v.i = received_us};
    return stream_cols_push(&t->cols, &c->tables[c->ntables - 1].schema, cells, 7,
                            stream_us_to_days(received_us));
}

/* The cache slot holding this event's key layout (filled on a miss), or NULL when the
 * layout is too big to cache. */
static layout *layout_of(const stream_ctx *c, router *rt, const stream_event *ev)
{
    if (ev->nf > LAYOUT_MAX_KEYS)
        return NULL;
    /* The hash only picks the slot; a hit is verified byte for byte. So a key's length
     * and up to 16 of its bytes (sl_word_of: most keys whole) are enough to hash. */
    uint64_t h = 1469598103934665603ULL;
    size_t total = 0;
    for (size_t i = 0; i < ev->nf; i++) {
        total += ev->f[i].key.len;
        h = sl_hash_mix(h, sl_word_of(ev->f[i].key.p, ev->f[i].key.len) + ev->f[i].key.len);
    }
    if (total > LAYOUT_MAX_BYTES)
        return NULL;
    layout *l = &rt->layouts[h % LAYOUT_SLOTS];
    if (l->used && l->hash == h && l->nf == ev->nf) {
        const char *p = l->keys;
        size_t i = 0;
        for (; i < ev->nf; i++) {
            if (l->klen[i] != ev->f[i].key.len || !sl_bytes_equal(p, ev->f[i].key.p, l->klen[i]))
                break;
            p += l->klen[i];
        }
        if (i == ev->nf)
            return l;
    }
    /* Miss: take the slot over. */
    l->used = true;
    l->hash = h;
    l->nf = (uint32_t)ev->nf;
    char *p = l->keys;
    for (size_t i = 0; i < ev->nf; i++) {
        l->klen[i] = (uint32_t)ev->f[i].key.len;
        memcpy(p, ev->f[i].key.p, ev->f[i].key.len);
        p += ev->f[i].key.len;
    }
    for (size_t i = 0; i < c->ntables; i++)
        l->map_ncols[i] = 0;
    return l;
}

/* Column → field map of table i for the event's layout l (NULL: no cache). */
static const int16_t *layout_map(stream_ctx *c, layout *l, size_t i, stream_event *ev)
{
    if (!l)
        return NULL;
    const stream_schema *s = &c->tables[i].schema;
    if (l->map_ncols[i] != s->ncols) {
        if (!l->map[i] && !(l->map[i] = malloc(STREAM_MAX_COLUMNS * sizeof *l->map[i])))
            return NULL;   /* no memory for the cache: look up directly */
        stream_row_map(s, ev, l->map[i]);
        l->map_ncols[i] = s->ncols;
    }
    return l->map[i];
}

/* Kafka records from other producers (kcat, kafka-python) often lack event_id and
 * received_at. The stream fills them from the record: event_id "<topic>-<partition>-
 * <offset>" (unique and stable across replays) and received_at = the record timestamp
 * (RFC 3339, ms, UTC). The filled fields are put at the front of the object and the
 * result is what the tables store as raw_event, so raw_event always carries the id the
 * row has. Returns 1 and sets *out (text in the batch arena) when it filled something,
 * 0 when the event had both, < 0 out of memory. */
static int kafka_fill(stream_ctx *c, router *rt, const stream_event *ev, const log_record *r,
                      int64_t ts_us, log_record *out)
{
    bool has_id = false;
    for (size_t i = 0; i < ev->nf && !has_id; i++)
        has_id = json_str_eq(ev->f[i].key, "event_id", 8);
    if (has_id && ev->has_received)
        return 0;
    char head[512];
    size_t k = 0;
    k += (size_t)snprintf(head + k, sizeof head - k, "{");
    if (!has_id)
        k += (size_t)snprintf(head + k, sizeof head - k, "\"event_id\":\"%s-%d-%" PRIu64 "\",",
                              c->topic, (int)rt->partition, r->offset);
    if (!ev->has_received) {
        time_t secs = (time_t)(ts_us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        k += (size_t)snprintf(head + k, sizeof head - k,
                              "\"received_at\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min, tm.tm_sec, (int)((ts_us / 1000) % 1000));
    }
    /* the rest of the object after its '{' (the parse succeeded, so it is an object) */
    const char *p = r->data, *end = r->data + r->len;
    while (p < end && *p != '{')
        p++;
    p++;
    const char *q = p;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
        q++;
    if (q < end && *q == '}')
        k--;   /* empty object: no comma after the filled members */
    size_t rest = (size_t)(end - p);
    char *text = stream_arena_alloc(rt->arena, k + rest + 1);
    if (!text)
        return -ENOMEM;
    memcpy(text, head, k);
    memcpy(text + k, p, rest);
    text[k + rest] = '\0';
    *out = *r;
    out->data = text;
    out->len = (uint32_t)(k + rest);
    return 1;
}

static int route_one(stream_ctx *c, router *rt, const log_record *r, sl_err *err)
{
    int64_t ts_us = (r->ts_ms > 0 ? r->ts_ms : now_ms()) * 1000;
    stream_event *ev = rt->ev;
    sl_err why;
    sl_err_clear(&why);   /* not `= {0}`: zeroing 520 bytes per event showed in the profile */
    if (stream_event_parse(ev, r->data, r->len, ts_us, &why) < 0)
        return reject(c, rt, r, why.msg, NULL, ts_us);
    log_record filled;
    if (c->o->bus) {
        int f = kafka_fill(c, rt, ev, r, ts_us, &filled);
        if (f < 0)
            return sl_err_set(err, -ENOMEM, true, "batch memory cap reached");
        if (f > 0) {
            if (stream_event_parse(ev, filled.data, filled.len, ts_us, &why) < 0)
                return reject(c, rt, r, why.msg, NULL, ts_us);
            r = &filled;
        }
    }
    int64_t day = stream_us_to_days(ev->received_us);

    size_t napp = c->ntables - 1;
    stream_cell **cells = rt->cellptr;
    bool matched_any = false;
    const bool *match = NULL;
    /* the entry that matched last first (the same type often comes in runs), then all;
     * the type's length was found while parsing */
    size_t tl = ev->event_type_len;
    for (size_t j = 0; j <= rt->nroute && !match; j++) {
        size_t k = j == 0 ? rt->route_last : j - 1;
        if (k < rt->nroute && rt->route_len[k] == tl &&
            sl_bytes_equal(rt->route_type[k], ev->event_type, tl)) {
            match = &rt->route_match[k * c->ntables];
            rt->route_last = k;
        }
    }
    if (!match && rt->nroute < 64) {
        bool *m = &rt->route_match[rt->nroute * c->ntables];
        for (size_t i = 0; i < napp; i++)
            m[i] = spec_table_matches(c->tables[i].spec, ev->event_type);
        rt->route_len[rt->nroute] = (uint8_t)tl;
        strcpy(rt->route_type[rt->nroute++], ev->event_type);
        match = m;
    }
    layout *lay = layout_of(c, rt, ev);
    for (size_t i = 0; i < napp; i++) {
        tbl *t = &c->tables[i];
        cells[i] = NULL;
        if (match ? !match[i] : !spec_table_matches(t->spec, ev->event_type))
            continue;
        matched_any = true;
        /* the row is built in the scratch row (it stays in the cache), then scattered
         * into the table's columns once every table took the event */
        stream_cell *cl = &rt->scratch[i * STREAM_MAX_COLUMNS];
        const int16_t *map = layout_map(c, lay, i, ev);
        int rc = map ? stream_row_convert_mapped(&t->schema, ev, map, cl, rt->arena, &why)
                     : stream_row_convert(&t->schema, ev, cl, rt->arena, &why);
        if (rc == -ENOMEM)
            return sl_err_set(err, rc, true, "batch memory cap reached");
        if (rc < 0) {
            char reason[SL_ERR_MSG_MAX + 80];
            snprintf(reason, sizeof reason, "table %s: %s", t->schema.name, why.msg);
            return reject(c, rt, r, reason, ev->event_type, ev->received_us);
        }
        cells[i] = cl;
    }
    if (!matched_any) {
        char reason[160];
        snprintf(reason, sizeof reason, "no table takes event_type %s", ev->event_type);
        return reject(c, rt, r, reason, ev->event_type, ev->received_us);
    }
    for (size_t i = 0; i < napp; i++) {
        if (!cells[i])
            continue;
        tbl *t = &c->tables[i];
        if (t->schema.infer) {
            int added = stream_schema_infer(&t->schema, ev, err);
            if (added < 0)
                return added;
            if (added > 0 &&
                stream_row_convert(&t->schema, ev, cells[i], rt->arena, &why) < 0)
                return sl_err_set(err, -EIO, false, "table %s: inferred column: %s",
                                  t->schema.name, why.msg);
        }
        const stream_cell *row = cells[i];
        /* the row's dt: the partition column's day, received_at's when it is NULL */
        int64_t tday = day;
        if (t->part_col >= 0 && row[t->part_col].kind == STREAM_CELL_TS)
            tday = stream_us_to_days(row[t->part_col].v.i);
        if (stream_cols_push(&rt->t[i].cols, &t->schema, row, t->schema.ncols, tday) < 0)
            return sl_err_errno(err, ENOMEM, "batch rows");
    }
    return 0;
}

static void router_target(router *rt, stream_arena *arena, brows *t, int32_t partition)
{
    rt->arena = arena;
    rt->t = t;
    rt->partition = partition;
}

static int router_init(stream_ctx *c, router *rt)
{
    memset(rt, 0, sizeof *rt);
    if (!(rt->ev = malloc(sizeof *rt->ev)) ||
        !(rt->scratch = malloc(c->ntables * STREAM_MAX_COLUMNS * sizeof *rt->scratch)) ||
        !(rt->cellptr = calloc(c->ntables, sizeof *rt->cellptr)) ||
        !(rt->route_match = calloc(64 * c->ntables, sizeof *rt->route_match)) ||
        !(rt->layouts = calloc(LAYOUT_SLOTS, sizeof *rt->layouts)))
        return -ENOMEM;
    for (size_t k = 0; k < LAYOUT_SLOTS; k++)
        if (!(rt->layouts[k].map = calloc(c->ntables, sizeof *rt->layouts[k].map)) ||
            !(rt->layouts[k].map_ncols = calloc(c->ntables, sizeof *rt->layouts[k].map_ncols)))
            return -ENOMEM;
    return 0;
}

static void router_free(stream_ctx *c, router *rt)
{
    free(rt->ev);
    free(rt->scratch);
    free(rt->cellptr);
    free(rt->route_match);
    for (size_t k = 0; rt->layouts && k < LAYOUT_SLOTS; k++) {
        for (size_t i = 0; rt->layouts[k].map && i < c->ntables; i++)
            free(rt->layouts[k].map[i]);
        free(rt->layouts[k].map);
        free(rt->layouts[k].map_ncols);
    }
    free(rt->layouts);
    memset(rt, 0, sizeof *rt);
}

/* Routes records [from, to) of the batch's reads (counted across b->bs) with rt. */
static int route_range(stream_ctx *c, router *rt, const log_batch *bs, size_t nb, size_t from,
                       size_t to, sl_err *err)
{
    int rc = 0;
    size_t base = 0;
    for (size_t k = 0; k < nb && rc == 0 && base < to; k++) {
        size_t n = bs[k].n;
        for (size_t i = from > base ? from - base : 0; i < n && base + i < to && rc == 0; i++)
            rc = route_one(c, rt, &bs[k].recs[i], err);
        base += n;
    }
    return rc;
}

/* A second router's share of a batch: records [from, to) of the reads bs[0..nb) (its own
 * copy of the read descriptors: the calling thread may add reads to the batch meanwhile,
 * which can move the batch's array). */
typedef struct route_job {
    stream_ctx *c;
    router     *rt;
    log_batch  *bs;
    size_t      nb;
    size_t      from, to;
    int         rc;
    sl_err      err;
} route_job;

static void *route_helper(void *arg)
{
    route_job *j = arg;
    sl_err_clear(&j->err);
    j->rc = route_range(j->c, j->rt, j->bs, j->nb, j->from, j->to, &j->err);
    return NULL;
}

/* ---- pass 2: cells → files ----
 *
 * A batch's files are encoded by a pool of lane threads (one Parquet writer each) into
 * temporary files as soon as the batch is routed, while the batch before it may still be
 * encoding or committing: the lanes take tasks in batch order, so a lane that is done
 * with batch N's small tables starts on batch N+1 instead of waiting for N's largest file.
 * This is safe because a temporary file is invisible and removed at the next start:
 * nothing of batch N+1 becomes visible before the commit stage has recorded its range in
 * the offset log, and that happens only after batch N's checkpoint (write_stage). */

/* One file to write: the rows of one table for one dt. */
enum { TASK_PENDING = 0, TASK_ENCODED = 1, TASK_PUBLISHED = 2 };

typedef struct write_task {
    brows         *t;
    const stream_cols *rows;   /* &t->cols, or an owned selection (several dts) */
    stream_cols   *owned;      /* that selection, freed with the task */
    char           dir[4096];
    uint64_t       bytes;
    int            state;      /* TASK_*, or < 0: failed (err) */
    bool           finished;   /* the lane is done with it (under the pool lock) */
    sl_err         err;
} write_task;

/* The lanes: lane k runs stream_writer_encode() with lane k's Parquet writer, taking tasks from
 * the batches queued by submit_tasks(), oldest first. */
#define POOL_QUEUE 4

typedef struct lane_pool {
    stream_ctx     *c;
    pthread_mutex_t lock;
    pthread_cond_t  work;      /* a batch was queued, or stop */
    pthread_cond_t  done;      /* a task finished */
    batch          *queue[POOL_QUEUE];   /* batches with tasks not yet taken */
    size_t          nq;
    bool            stop;
    pthread_t       th[16];
    int             lane_of[16];
    int             nth;
} lane_pool;

typedef struct lane_arg {
    lane_pool *pool;
    int        lane;
} lane_arg;

static void run_task(stream_ctx *c, batch *b, write_task *wt, int lane)
{
    sl_err_clear(&wt->err);
    int rc = stream_writer_encode(c->writer, lane, &wt->t->snap, wt->rows, wt->dir,
                                  (uint64_t)b->partition, b->first, b->last, &wt->bytes,
                                  &wt->err);
    wt->state = rc < 0 ? rc : TASK_ENCODED;
}

static void *lane_main(void *arg)
{
    lane_arg *la = arg;
    lane_pool *pl = la->pool;
    pthread_mutex_lock(&pl->lock);
    while (true) {
        while (!pl->stop && pl->nq == 0)
            pthread_cond_wait(&pl->work, &pl->lock);
        if (pl->stop)
            break;
        batch *b = pl->queue[0];
        write_task *wt = &b->tasks[b->next_task++];
        if (b->next_task == b->ntasks) {
            memmove(pl->queue, pl->queue + 1, (pl->nq - 1) * sizeof *pl->queue);
            pl->nq--;
        }
        pthread_mutex_unlock(&pl->lock);
        run_task(pl->c, b, wt, la->lane);
        pthread_mutex_lock(&pl->lock);
        wt->finished = true;
        b->tasks_done++;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->lock);
    free(la);
    return NULL;
}

/* Starts the lane threads. With none (thread creation failed) the commit stage encodes
 * the files itself, on lane 0. */
static int pool_start(stream_ctx *c, sl_err *err)
{
    lane_pool *pl = calloc(1, sizeof *pl);
    if (!pl)
        return sl_err_errno(err, ENOMEM, "stream");
    pl->c = c;
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->work, NULL);
    pthread_cond_init(&pl->done, NULL);
    c->pool = pl;
    for (int k = 0; k < c->lanes && k < 16; k++) {
        lane_arg *la = malloc(sizeof *la);
        if (!la)
            break;
        *la = (lane_arg){.pool = pl, .lane = k};
        if (pthread_create(&pl->th[pl->nth], NULL, lane_main, la) != 0) {
            free(la);
            break;
        }
        pl->nth++;
    }
    return 0;
}

/* Stops the lanes after the task each is running (queued tasks are not started). */
static void pool_stop(stream_ctx *c)
{
    lane_pool *pl = c->pool;
    if (!pl)
        return;
    pthread_mutex_lock(&pl->lock);
    pl->stop = true;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&pl->lock);
    for (int k = 0; k < pl->nth; k++)
        pthread_join(pl->th[k], NULL);
    pthread_mutex_destroy(&pl->lock);
    pthread_cond_destroy(&pl->work);
    pthread_cond_destroy(&pl->done);
    free(pl);
    c->pool = NULL;
}

static int task_cmp(const void *a, const void *b)
{
    const write_task *x = a, *y = b;
    size_t wx = x->rows->nrows * x->t->snap.ncols, wy = y->rows->nrows * y->t->snap.ncols;
    return wx < wy ? 1 : wx > wy ? -1 : 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Splits a table's rows by dt into tasks (almost always one dt per batch: then the task
 * takes the batch's columns as they are; else each dt's rows are copied out). */
static int add_tasks(stream_ctx *c, batch *b, brows *t, sl_err *err)
{
    const stream_cols *all = &t->cols;
    int64_t one = all->days[0], *days = &one;
    size_t ndays = 1;
    for (size_t r = 1; r < all->nrows; r++)
        if (all->days[r] != one) {
            ndays = 0;
            break;
        }
    if (ndays == 0) {   /* several dts: the distinct ones, in order */
        if (!(days = malloc(all->nrows * sizeof *days)))
            return sl_err_errno(err, ENOMEM, "batch");
        memcpy(days, all->days, all->nrows * sizeof *days);
        qsort(days, all->nrows, sizeof *days, cmp_i64);
        for (size_t r = 0; r < all->nrows; r++)
            if (ndays == 0 || days[ndays - 1] != days[r])
                days[ndays++] = days[r];
    }
    int rc = 0;
    for (size_t d = 0; d < ndays && rc == 0; d++) {
        if (b->ntasks == b->tcap) {
            size_t nc = b->tcap ? b->tcap * 2 : 16;
            write_task *nt = realloc(b->tasks, nc * sizeof *nt);
            if (!nt) {
                rc = sl_err_errno(err, ENOMEM, "batch");
                break;
            }
            b->tasks = nt;
            b->tcap = nc;
        }
        write_task *wt = &b->tasks[b->ntasks];
        memset(wt, 0, sizeof *wt);
        wt->t = t;
        wt->rows = all;
        if (ndays > 1) {
            if (!(wt->owned = calloc(1, sizeof *wt->owned)) ||
                stream_cols_select(wt->owned, all, &t->snap, days[d]) < 0) {
                if (wt->owned)
                    stream_cols_free(wt->owned);
                free(wt->owned);
                rc = sl_err_errno(err, ENOMEM, "batch");
                break;
            }
            wt->rows = wt->owned;
        }
        b->ntasks++;
        char date[11];
        stream_format_date(days[d], date);
        snprintf(wt->dir, sizeof wt->dir, "%s/%s/dt=%s", c->warehouse, t->snap.name, date);
        rc = stream_mkdirs(wt->dir, err);
    }
    if (days != &one)
        free(days);
    return rc;
}

/* Router stage, after routing: makes b's tasks (largest first, so that the long file
 * starts early) and hands them to the lanes. */
static int submit_tasks(stream_ctx *c, batch *b, sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < c->ntables && rc == 0; i++)
        if (b->t[i].cols.nrows)
            rc = add_tasks(c, b, &b->t[i], err);
    if (rc < 0)
        return rc;
    qsort(b->tasks, b->ntasks, sizeof *b->tasks, task_cmp);
    lane_pool *pl = c->pool;
    pthread_mutex_lock(&pl->lock);
    b->next_task = 0;
    b->tasks_done = 0;
    if (b->ntasks && pl->nth > 0) {
        /* nq < POOL_QUEUE: a batch is queued only while it is one of the two batch
         * buffers, and leaves the queue when its last task is taken */
        pl->queue[pl->nq++] = b;
        pthread_cond_broadcast(&pl->work);
    }
    pthread_mutex_unlock(&pl->lock);
    return 0;
}

/* Commit stage: waits until the lanes are done with task i of b (with no lane thread,
 * encodes it here, once). */
static void wait_task(stream_ctx *c, batch *b, size_t i)
{
    lane_pool *pl = c->pool;
    if (pl->nth == 0) {
        if (!b->tasks[i].finished) {
            run_task(c, b, &b->tasks[i], 0);
            b->tasks[i].finished = true;
            b->tasks_done = b->next_task = i + 1;
        }
        return;
    }
    pthread_mutex_lock(&pl->lock);
    while (!b->tasks[i].finished)
        pthread_cond_wait(&pl->done, &pl->lock);
    pthread_mutex_unlock(&pl->lock);
}

static void wait_tasks(stream_ctx *c, batch *b)
{
    for (size_t i = 0; i < b->ntasks; i++)
        wait_task(c, b, i);
}

/* Removes the temporary files of b that were encoded but not published, and frees the
 * tasks' row selections. Only when no lane works on b (its commit stage is over). */
static void tasks_clear(batch *b)
{
    for (size_t i = 0; i < b->ntasks; i++) {
        write_task *wt = &b->tasks[i];
        if (wt->state == TASK_ENCODED)
            stream_writer_discard(wt->dir, (uint64_t)b->partition, b->first, b->last);
        if (wt->owned) {
            stream_cols_free(wt->owned);
            free(wt->owned);
        }
    }
    b->ntasks = 0;
    b->next_task = b->tasks_done = 0;
}

/* Publishes every encoded file of b (after its range is recorded): catalog first for a
 * table whose schema grew, then the renames. */
static int publish_all(stream_ctx *c, batch *b, uint64_t *files, uint64_t *bytes, sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < c->ntables && rc == 0; i++) {
        brows *br = &b->t[i];
        tbl *t = &c->tables[i];
        if (br->cols.nrows && t->catalog_ncols != br->snap.ncols)
            rc = tbl_write_catalog(c, t, &br->snap, err);
    }
    for (size_t i = 0; i < b->ntasks && rc == 0; i++) {
        write_task *wt = &b->tasks[i];
        rc = stream_writer_publish(c->writer, wt->dir, (uint64_t)b->partition, b->first,
                                   b->last, err);
        if (rc == 0) {
            wt->state = TASK_PUBLISHED;
            *bytes += wt->bytes;
            (*files)++;
        }
    }
    return rc;
}

/* Adds to b's reads the records from `first`: exactly up to `last`, or, when last is
 * UINT64_MAX, up to max_recs records and the batch's byte cap. Sets b->last to the last
 * offset read. 0, 1 when there was nothing to read, or < 0. */
static int read_more(stream_ctx *c, batch *b, uint64_t first, uint64_t last, size_t max_recs,
                     sl_err *err)
{
    /* The log_batch entries, with their read buffers, are reused from batch to batch:
     * fresh 16 MiB buffers for every read cost a page fault per 4 KiB (measured: more
     * than half of the stream's page faults). */
    uint64_t from = first, got_last = 0;
    size_t got = 0;
    bool exact = last != UINT64_MAX;
    while (true) {
        if (exact && from > last)
            break;
        if (!exact && (got >= max_recs || b->nbytes >= c->o->max_batch_bytes))
            break;
        size_t want = exact ? (size_t)(last - from + 1) : max_recs - got;
        if (want > 65536)
            want = 65536;
        if (b->nb == b->bs_cap) {
            size_t nc = b->bs_cap ? b->bs_cap * 2 : 8;
            log_batch *nbs = realloc(b->bs, nc * sizeof *nbs);
            if (!nbs)
                return sl_err_errno(err, ENOMEM, "batch");
            memset(nbs + b->bs_cap, 0, (nc - b->bs_cap) * sizeof *nbs);
            b->bs = nbs;
            b->bs_cap = nc;
        }
        log_batch *r = &b->bs[b->nb];
        /* Read about the bytes `want` records take (log_read reads that much whatever the
         * count; reading 16 MiB for 30,000 records copied a third more than needed). A
         * short estimate only means one more read. */
        size_t max_bytes = 16u << 20;
        if (c->rec_bytes_avg > 0) {
            double est = (double)want * c->rec_bytes_avg * 1.05 + 65536;
            if (est < (double)max_bytes)
                max_bytes = (size_t)est;
        }
        int rc = log_read(c->log, from, want, max_bytes, r, err);
        if (rc < 0)
            return rc;
        if (r->n == 0)
            break;
        b->nb++;
        uint64_t read_bytes = 0;
        for (size_t i = 0; i < r->n; i++)
            read_bytes += r->recs[i].len + LOG_RECORD_HEADER_BYTES;
        c->rec_bytes_avg = (double)read_bytes / (double)r->n;
        size_t keep = r->n;
        if (exact)
            while (keep > 0 && r->recs[keep - 1].offset > last)
                keep--;
        r->n = keep;
        for (size_t i = 0; i < keep; i++)
            b->nbytes += r->recs[i].len;
        got += keep;
        if (keep == 0)
            break;
        got_last = r->recs[keep - 1].offset;
        from = got_last + 1;
    }
    if (exact && (got == 0 || got_last != last))
        return sl_err_set(err, -EIO, false,
                          "the offset log asks to replay %" PRIu64 "-%" PRIu64
                          " but the log has %s up to %" PRIu64 " (was it deleted or cut?)",
                          first, last, got ? "records only" : "no records", got ? got_last : first);
    if (got == 0)
        return 1;
    b->nrecs += got;
    b->last = got_last;
    return 0;
}

static void human_bytes(uint64_t b, char *out, size_t cap)
{
    if (b >= (1u << 20))
        snprintf(out, cap, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 1024)
        snprintf(out, cap, "%.1f KiB", (double)b / 1024);
    else
        snprintf(out, cap, "%" PRIu64 " B", b);
}

static void batch_clear(stream_ctx *c, batch *b)
{
    tasks_clear(b);
    b->nb = 0;   /* the reads' buffers stay for the next batch (batch_free frees them) */
    b->nrecs = 0;
    b->nbytes = 0;
    for (size_t i = 0; b->t && i < c->ntables; i++) {
        stream_cols_clear(&b->t[i].cols);
        stream_schema_free(&b->t[i].snap);
    }
    for (size_t i = 0; b->xt && i < c->ntables; i++)
        stream_cols_clear(&b->xt[i].cols);
    stream_arena_reset(&b->arena);
    stream_arena_reset(&b->xarena);
}

static void batch_free(stream_ctx *c, batch *b)
{
    batch_clear(c, b);
    for (size_t i = 0; b->t && i < c->ntables; i++) {
        stream_cols_free(&b->t[i].cols);
    }
    free(b->t);
    b->t = NULL;
    for (size_t i = 0; b->xt && i < c->ntables; i++) {
        stream_cols_free(&b->xt[i].cols);
    }
    free(b->xt);
    b->xt = NULL;
    stream_arena_free(&b->xarena);
    free(b->tasks);
    b->tasks = NULL;
    b->tcap = 0;
    for (size_t i = 0; i < b->bs_cap; i++)
        log_batch_free(&b->bs[i]);
    free(b->bs);
    b->bs = NULL;
    b->bs_cap = 0;
    stream_arena_free(&b->arena);
}

static int schema_copy(stream_schema *dst, const stream_schema *src, sl_err *err)
{
    memset(dst, 0, sizeof *dst);
    if (!(dst->name = strdup(src->name)))
        return sl_err_errno(err, ENOMEM, "schema");
    dst->infer = src->infer;
    for (size_t i = 0; i < src->ncols; i++) {
        int rc = stream_schema_add(dst, src->cols[i].name, src->cols[i].field, src->cols[i].type,
                                   src->cols[i].role, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* After routing: each table's schema as its rows were built (the snapshot its files are
 * written with), and a column array for each of its columns. */
static int snap_tables(stream_ctx *c, batch *b, sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < c->ntables && rc == 0; i++)
        if ((rc = schema_copy(&b->t[i].snap, &c->tables[i].schema, err)) == 0 &&
            stream_cols_fit(&b->t[i].cols, &b->t[i].snap) < 0)
            rc = sl_err_errno(err, ENOMEM, "batch rows");
    return rc;
}

/* Of a batch routed by two routers, the share of the one that does not read: reading
 * (decoding and checking the records) costs the reading router about a tenth of what
 * routing them does, so the other one takes a little more than half. */
#define HELPER_SHARE 0.53

/* Router stage (calling thread): reads [first, last] when replaying, otherwise from
 * `first` up to the caps, and routes every record into b. Returns 1 when there was
 * nothing to read. */
static int route_batch(stream_ctx *c, batch *b, uint64_t first, uint64_t replay_last,
                       sl_err *err)
{
    batch_clear(c, b);
    b->t0 = mono_ms();
    b->first = first;
    b->replay = replay_last != UINT64_MAX;
    b->partition = 0;
    b->ck = &c->ckpt;
    bool exact = b->replay;
    size_t total = exact ? (size_t)(replay_last - first + 1) : c->o->max_batch;
    /* A large batch is routed by two routers at once. The second router takes the first
     * part as soon as it is read, while this thread reads the rest and routes it; the
     * first part's rows (table t) come before the rest's (xt, appended after), so every
     * table keeps the offset order and the rows are the same as with one router (replays
     * give the same files). */
    bool two = c->parallel && total >= PARALLEL_MIN;
    size_t n1 = two ? (size_t)((double)total * HELPER_SHARE) : total;
    int rc = read_more(c, b, first, exact ? first + n1 - 1 : UINT64_MAX, n1, err);
    if (rc != 0)
        return rc;
    /* The second router's part: the first n1 records when more may follow; when the log
     * ended before n1, the first half of what there is. */
    bool more = two && b->nrecs == n1;
    size_t k = more ? n1 : b->nrecs / 2;
    router *r0 = &c->rt[0], *r1 = &c->rt[1];
    router_target(r0, &b->arena, b->t, b->partition);
    route_job job;
    pthread_t th;
    bool helper = false;
    log_batch *copy = NULL;   /* the second router's read descriptors */
    if (more || (c->parallel && b->nrecs >= PARALLEL_MIN)) {
        if ((copy = malloc(b->nb * sizeof *copy))) {
            memcpy(copy, b->bs, b->nb * sizeof *copy);
            router_target(r1, &b->arena, b->t, b->partition);
            router_target(r0, &b->xarena, b->xt, b->partition);
            job = (route_job){.c = c, .rt = r1, .bs = copy, .nb = b->nb, .from = 0, .to = k};
            helper = pthread_create(&th, NULL, route_helper, &job) == 0;
            if (!helper)   /* no second thread: this one routes everything into t */
                router_target(r0, &b->arena, b->t, b->partition);
        }
    }
    if (more && (!exact || b->last < replay_last))
        rc = read_more(c, b, b->last + 1, exact ? replay_last : UINT64_MAX, total - n1, err);
    if (rc >= 0)
        rc = route_range(c, r0, b->bs, b->nb, helper ? k : 0, b->nrecs, err);
    if (helper) {
        pthread_join(th, NULL);
        if (rc == 0 && job.rc < 0) {
            rc = job.rc;
            *err = job.err;
        }
        for (size_t i = 0; i < c->ntables && rc == 0; i++)
            if (stream_cols_append(&b->t[i].cols, &b->xt[i].cols, &c->tables[i].schema) < 0)
                rc = sl_err_errno(err, ENOMEM, "batch rows");
    }
    free(copy);
    if (rc == 0)
        rc = snap_tables(c, b, err);
    b->t_routed = mono_ms();
    return rc;
}

/* Writer stage (writer thread, one batch at a time, in batch order): offset log, files,
 * checkpoint, group offset, statistics, log line. */
static int write_stage(stream_ctx *c, batch *b, sl_err *err)
{
    /* "write" in the log line: from the hand-over to the lanes to the checkpoint. */
    int64_t t_start = b->t_routed;
    int rc = 0;
    /* The lanes encode; this thread fsyncs each file as soon as it is encoded, while the
     * lanes go on with the next files (a lane blocked in fsync was a core doing nothing
     * whenever the router had nothing to give it). */
    uint64_t files = 0, bytes = 0, fsync_ns = 0;
    for (size_t i = 0; i < b->ntasks; i++) {
        write_task *wt = &b->tasks[i];
        wait_task(c, b, i);
        if (rc == 0 && wt->state < 0) {
            rc = wt->state;
            *err = wt->err;
        }
        if (rc == 0)
            rc = stream_writer_sync_file(wt->dir, (uint64_t)b->partition, b->first, b->last,
                                         &fsync_ns, err);
    }
    if (rc < 0) {
        if (c->pool->nth > 0)
            wait_tasks(c, b);   /* no lane may still write into this batch's files */
        return rc;
    }
    /* The offset log, directories and checkpoint are synced by this thread too (timed
     * around the calls). */
    int64_t t_sync = mono_ms();
    /* From here on this range is *the* batch; only now may its files become visible. */
    if (!b->replay && (rc = stream_offsets_write(b->ck, b->first, b->last, err)) < 0)
        return rc;
    if ((rc = publish_all(c, b, &files, &bytes, err)) < 0)
        return rc;
    if ((rc = stream_writer_sync_dirs(c->writer, err)) < 0)
        return rc;
    /* Every file is in place: now, and only now, the checkpoint moves. */
    if ((rc = stream_ckpt_write(b->ck, b->last + 1, err)) < 0)
        return rc;
    uint64_t fsync_ms = fsync_ns / 1000000 + (uint64_t)(mono_ms() - t_sync);
    sl_err cerr = {0};
    /* Kafka: the caller commits the group offset (kafka_flush). */
    if (c->log && log_commit_offset(c->log, c->o->job, b->last + 1, &cerr) < 0)
        fprintf(c->o->log, "stream: warning: committing group offset: %s\n", cerr.msg);

    brows *rej = &b->t[c->ntables - 1];
    c->st->batches++;
    c->st->events += b->nrecs;
    c->st->rejected += rej->cols.nrows;
    c->st->files += files;
    c->st->bytes += bytes;
    for (size_t i = 0; i + 1 < c->ntables; i++)
        c->st->rows += b->t[i].cols.nrows;
    if (!c->o->quiet) {
        char line[2048], hb[32];
        size_t k = 0;
        uint64_t hw = c->log ? log_high_watermark(c->log) : 0;
        int64_t now = mono_ms();
        human_bytes(bytes, hb, sizeof hb);
        k += (size_t)snprintf(line + k, sizeof line - k,
                              "stream: batch %s%" PRIu64 "-%" PRIu64 "%s: %zu events in;",
                              c->log ? "" : c->kpart_label, b->first, b->last, b->replay ? " (replay)" : "", b->nrecs);
        for (size_t i = 0; i + 1 < c->ntables && k < sizeof line - 100; i++)
            if (b->t[i].cols.nrows)
                k += (size_t)snprintf(line + k, sizeof line - k, " %s=%zu", b->t[i].snap.name,
                                      b->t[i].cols.nrows);
        snprintf(line + k, sizeof line - k,
                 "; rejected %zu; %" PRIu64 " files, %s; lag %" PRIu64 "; %" PRId64
                 " ms (read+route %" PRId64 ", write %" PRId64 ", of which fsync %" PRIu64 ")",
                 rej->cols.nrows, files, hb, hw > b->last + 1 ? hw - b->last - 1 : 0, now - b->t0,
                 b->t_routed - b->t0, now - t_start, fsync_ms);
        fprintf(c->o->log, "%s%s\n", c->progress_shown ? "\r\033[K" : "", line);
        c->progress_shown = false;
    }
    if (c->o->progress && b->backlog_end > 0) {
        uint64_t total = b->backlog_end;
        fprintf(c->o->log, "stream: %" PRIu64 " / %" PRIu64 " (%.0f%%)", b->last + 1, total,
                100.0 * (double)(b->last + 1) / (double)total);
        fflush(c->o->log);
        c->progress_shown = true;
    }
    return 0;
}

/* The commit stage: one thread that takes submitted batches in order and runs
 * write_stage() on each (wait for its files, record its range, rename, checkpoint). The
 * router hands a batch over and goes on routing the next one into a free buffer: with
 * NBUF buffers it waits only when NBUF - 1 batches are still uncommitted. (With two
 * buffers, the router waited for the previous batch's commit, fsyncs included, before
 * each batch: a tenth of a run's time, measured.) After a failed batch no later batch is
 * committed: the checkpoint must not pass a batch whose files are missing. */
typedef struct pipeline {
    stream_ctx     *c;
    pthread_t       th;
    bool            started;   /* the thread runs; else batches commit in submit */
    pthread_mutex_t lock;
    pthread_cond_t  cv;        /* a batch was queued or committed, or stop */
    batch          *q[NBUF];   /* submitted, not yet committed, oldest first */
    size_t          nq;
    bool            stop;
    int             rc;        /* the first failure; then nothing more is committed */
    sl_err          err;
} pipeline;

static void *commit_main(void *arg)
{
    pipeline *pl = arg;
    pthread_mutex_lock(&pl->lock);
    while (true) {
        while (!pl->stop && (pl->nq == 0 || pl->rc < 0))
            pthread_cond_wait(&pl->cv, &pl->lock);
        if (pl->stop && (pl->nq == 0 || pl->rc < 0))
            break;
        batch *b = pl->q[0];
        pthread_mutex_unlock(&pl->lock);
        sl_err_clear(&b->err);
        b->rc = write_stage(pl->c, b, &b->err);
        pthread_mutex_lock(&pl->lock);
        if (b->rc < 0 && pl->rc == 0) {
            pl->rc = b->rc;
            pl->err = b->err;
        }
        memmove(pl->q, pl->q + 1, (pl->nq - 1) * sizeof *pl->q);
        pl->nq--;
        pthread_cond_broadcast(&pl->cv);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

static void pipeline_start(pipeline *pl, stream_ctx *c)
{
    memset(pl, 0, sizeof *pl);
    pl->c = c;
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->cv, NULL);
    pl->started = pthread_create(&pl->th, NULL, commit_main, pl) == 0;
}

/* The first failure of the commit stage, if any. */
static int pipeline_failed(pipeline *pl, sl_err *err)
{
    pthread_mutex_lock(&pl->lock);
    int rc = pl->rc;
    if (rc < 0)
        *err = pl->err;
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* Waits until b is committed (or the stage failed): then its buffer may be routed into. */
static int pipeline_wait_free(pipeline *pl, const batch *b, sl_err *err)
{
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        bool queued = false;
        for (size_t i = 0; i < pl->nq; i++)
            queued |= pl->q[i] == b;
        if (!queued || pl->rc < 0)
            break;
        pthread_cond_wait(&pl->cv, &pl->lock);
    }
    int rc = pl->rc;
    if (rc < 0)
        *err = pl->err;
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* Hands b's files to the lanes at once (they may start on them while earlier batches are
 * still encoding or committing), then b to the commit thread, which commits batches in
 * submission order. */
static int pipeline_submit(pipeline *pl, stream_ctx *c, batch *b, sl_err *err)
{
    int rc = submit_tasks(c, b, err);
    if (rc < 0)
        return rc;
    if (!pl->started) {   /* no thread: commit it here */
        b->rc = write_stage(c, b, err);
        return b->rc;
    }
    pthread_mutex_lock(&pl->lock);
    rc = pl->rc;
    if (rc < 0) {
        *err = pl->err;
    } else {
        pl->q[pl->nq++] = b;   /* nq < NBUF: the router waited for b's buffer to be free */
        pthread_cond_broadcast(&pl->cv);
    }
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* Waits until every submitted batch is committed (or one failed), then stops the thread.
 * Returns the first failure. */
static int pipeline_finish(pipeline *pl, sl_err *err)
{
    if (pl->started) {
        pthread_mutex_lock(&pl->lock);
        pl->stop = true;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->lock);
        pthread_join(pl->th, NULL);
        pl->started = false;
    }
    int rc = pl->rc;
    if (rc < 0)
        *err = pl->err;
    return rc;
}

static void pipeline_free(pipeline *pl)
{
    pthread_mutex_destroy(&pl->lock);
    pthread_cond_destroy(&pl->cv);
}

static void ctx_free(stream_ctx *c)
{
    pool_stop(c);   /* before the batches (their tasks) and the writer (its lanes) */
    for (size_t i = 0; i < c->ntables; i++)
        tbl_free(&c->tables[i]);
    free(c->tables);
    stream_writer_close(c->writer);
    log_topic_close(c->log);
    stream_ckpt_close(&c->ckpt);
    for (int i = 0; i < NBUF; i++)
        batch_free(c, &c->bufs[i]);
    for (int k = 0; k < ROUTERS; k++)
        router_free(c, &c->rt[k]);
    free(c->warehouse);
}

/* ---- Kafka: one batch per assigned partition, fed by the consumer group ---- */

#define KAFKA_MAX_PARTITIONS 4096

typedef struct kpart {
    bool        known;        /* ckpt opened */
    bool        owned;
    stream_ckpt ck;
    uint64_t    next;         /* next offset the tables do not have */
    bool        have_next;    /* false: no checkpoint yet, start at the first record */
    bool        replay;       /* a recorded batch [rfirst, rlast] must be rebuilt as is */
    uint64_t    rfirst, rlast;
    bool        rpast;        /* a record past rlast came: the range is complete */
    bool        rwait_said;   /* "waiting for the rest of the range" was logged */
    log_record *recs;         /* pending records (data owned) */
    size_t      n, cap;
    uint64_t    bytes;
    int64_t     since_ms;     /* when the first pending record arrived */
} kpart;

typedef struct kstate {
    stream_ctx   *c;
    bus_consumer *cons;
    kpart        *parts;      /* [KAFKA_MAX_PARTITIONS] */
    int32_t       nparts;     /* 1 + the highest partition ever assigned */
    int           rc;         /* error from the assignment callback */
    sl_err        err;
} kstate;

static void kpart_drop(kpart *k)
{
    for (size_t i = 0; i < k->n; i++)
        free((void *)k->recs[i].data);
    k->n = 0;
    k->bytes = 0;
}

/* Called inside bus_consumer_poll (this thread). */
static void kafka_on_assign(void *ud, bool assigned, const int32_t *parts, size_t n,
                            int64_t *start)
{
    kstate *ks = ud;
    stream_ctx *c = ks->c;
    for (size_t i = 0; i < n; i++) {
        int32_t p = parts[i];
        if (p < 0 || p >= KAFKA_MAX_PARTITIONS) {
            if (assigned && !ks->rc)
                ks->rc = sl_err_set(&ks->err, -ERANGE, false,
                                    "kafka partition %d: at most %d partitions", (int)p,
                                    KAFKA_MAX_PARTITIONS);
            continue;
        }
        kpart *k = &ks->parts[p];
        if (p >= ks->nparts)
            ks->nparts = p + 1;
        kpart_drop(k);   /* assigned or revoked: uncommitted work is replayed from the ckpt */
        k->replay = k->rpast = k->rwait_said = false;
        k->owned = assigned;
        if (!assigned) {
            fprintf(c->o->log, "stream: partition %d revoked\n", (int)p);
            continue;
        }
        sl_err e = {0};
        int rc = 0;
        if (!k->known) {
            char job[160];
            snprintf(job, sizeof job, "%s-p%d", c->o->job, (int)p);
            if ((rc = stream_ckpt_open(&k->ck, c->o->data_dir, job, c->topic, &e)) == 0) {
                k->ck.partition = p;
                k->known = true;
            }
        }
        uint64_t next = 0, pf = 0, pl = 0;
        bool have = false, pending = false;
        if (rc == 0)
            rc = stream_ckpt_read(&k->ck, &next, &have, &e);
        if (rc == 0)
            rc = stream_offsets_read(&k->ck, &pf, &pl, &pending, &e);
        if (rc == 0 && pending && pf > next)
            rc = sl_err_set(&e, -EINVAL, false,
                            "%s/%s.offsets starts at %" PRIu64 " beyond the checkpoint %" PRIu64,
                            k->ck.dir, k->ck.job, pf, next);
        if (rc < 0) {
            k->owned = false;
            if (!ks->rc) {
                ks->rc = rc;
                ks->err = e;
            }
            continue;
        }
        k->next = next;
        k->have_next = have || (pending && pf == next);
        if (pending && pf == next) {
            k->replay = true;
            k->rfirst = pf;
            k->rlast = pl;
            fprintf(c->o->log, "stream: partition %d: replaying batch %" PRIu64 "-%" PRIu64
                               " recorded before an interruption\n", (int)p, pf, pl);
        }
        start[i] = k->have_next ? (int64_t)k->next : -1;
        fprintf(c->o->log, "stream: partition %d assigned, from %s%" PRIu64 "\n", (int)p,
                k->have_next ? "offset " : "the group offset / earliest, checkpoint ",
                k->next);
    }
}

/* Whether partition p's replay range [rfirst, rlast] is all here: 1 when its last record
 * came, or a record past it (a gap at its end: compaction, transaction markers), or the
 * partition's end past rlast was reached; 0 while records are still to be fetched (a slow
 * broker delivers a range in many fetches: the trigger must not cut it short); < 0 when
 * the partition ends before rlast or holds none of the range (the records were deleted). */
static int kafka_replay_ready(kstate *ks, int32_t p, sl_err *err)
{
    kpart *k = &ks->parts[p];
    if (k->n && (k->rpast || k->recs[k->n - 1].offset >= k->rlast))
        return 1;
    int64_t end;
    if (!k->rpast && !bus_consumer_at_end(ks->cons, p, &end))
        return 0;
    if (k->rpast || end > (int64_t)k->rlast)
        return k->n ? 1
                    : sl_err_set(err, -EIO, false,
                                 "partition %d: the offset log asks to replay %" PRIu64 "-%" PRIu64
                                 " but the topic has none of these records any more (removed "
                                 "by retention?)", (int)p, k->rfirst, k->rlast);
    return sl_err_set(err, -EIO, false,
                      "partition %d: the offset log asks to replay %" PRIu64 "-%" PRIu64
                      " but the topic ends before %" PRIu64 ", at %" PRId64 " (was it deleted?)",
                      (int)p, k->rfirst, k->rlast, k->rlast, end);
}

/* Writes partition p's pending batch (steps 2-4), then commits the group offset (5). A
 * replay is written only once complete (kafka_replay_ready); until then this returns 0
 * and writes nothing. */
static int kafka_flush(kstate *ks, int32_t p, sl_err *err)
{
    stream_ctx *c = ks->c;
    kpart *k = &ks->parts[p];
    if (!k->owned || (!k->n && !k->replay))
        return 0;
    if (k->replay) {
        int ready = kafka_replay_ready(ks, p, err);
        if (ready <= 0)
            return ready;
    }
    batch *b = &c->bufs[0];
    batch_clear(c, b);
    b->t0 = mono_ms();
    b->replay = k->replay;
    b->first = k->replay ? k->rfirst : k->next;
    b->last = k->replay ? k->rlast : k->recs[k->n - 1].offset;
    b->partition = p;
    b->ck = &k->ck;
    b->nrecs = k->n;
    snprintf(c->kpart_label, sizeof c->kpart_label, "p%d ", (int)p);
    router_target(&c->rt[0], &b->arena, b->t, p);
    int rc = 0;
    for (size_t i = 0; i < k->n && rc == 0; i++)
        rc = route_one(c, &c->rt[0], &k->recs[i], err);
    if (rc == 0)
        rc = snap_tables(c, b, err);
    b->t_routed = mono_ms();
    if (rc == 0 && (rc = submit_tasks(c, b, err)) == 0)
        rc = write_stage(c, b, err);
    batch_clear(c, b);
    if (rc < 0)
        return rc;
    k->next = b->last + 1;
    k->have_next = true;
    k->replay = k->rpast = k->rwait_said = false;
    kpart_drop(k);
    sl_err ce = {0};
    if (bus_consumer_commit(ks->cons, p, (int64_t)k->next, &ce) < 0)
        fprintf(c->o->log, "stream: warning: %s (the checkpoint has it)\n", ce.msg);
    return 0;
}

/* Which batches kafka_flush_all writes. */
typedef enum {
    KFLUSH_DUE,    /* running: batches whose --trigger has passed, complete replays */
    KFLUSH_END,    /* --once at the end of every partition: all; a replay must be complete */
    KFLUSH_STOP,   /* stopping: all but an incomplete replay, which the next run redoes */
} kflush_mode;

static int kafka_flush_all(kstate *ks, kflush_mode mode, sl_err *err)
{
    stream_ctx *c = ks->c;
    int64_t now = mono_ms();
    for (int32_t p = 0; p < ks->nparts; p++) {
        kpart *k = &ks->parts[p];
        if (!k->owned || (!k->n && !k->replay))
            continue;
        if (k->replay) {
            /* the range was recorded whole: write it only when it is all here */
            int ready = kafka_replay_ready(ks, p, err);
            if (ready < 0 && mode != KFLUSH_STOP)
                return ready;
            if (ready <= 0) {
                if (mode == KFLUSH_STOP)
                    fprintf(c->o->log,
                            "stream: partition %d: stopping with %zu records of the replay "
                            "%" PRIu64 "-%" PRIu64 "; it is replayed at the next start\n",
                            (int)p, k->n, k->rfirst, k->rlast);
                else if (k->n && !k->rwait_said &&
                         now - k->since_ms >= (int64_t)c->o->trigger_ms) {
                    fprintf(c->o->log,
                            "stream: partition %d: replay %" PRIu64 "-%" PRIu64 " has %zu "
                            "of its records so far; waiting for the rest\n",
                            (int)p, k->rfirst, k->rlast, k->n);
                    k->rwait_said = true;
                }
                continue;
            }
        } else if (mode == KFLUSH_DUE && now - k->since_ms < (int64_t)c->o->trigger_ms) {
            continue;
        }
        int rc = kafka_flush(ks, p, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Takes one consumed record into its partition's batch. */
static int kafka_take(kstate *ks, const bus_msg *m, sl_err *err)
{
    if (m->partition < 0 || m->partition >= KAFKA_MAX_PARTITIONS || m->offset < 0)
        return 0;
    kpart *k = &ks->parts[m->partition];
    uint64_t off = (uint64_t)m->offset;
    if (!k->owned || (k->have_next && off < k->next))
        return 0;   /* not ours, or already in the tables */
    if (k->replay && off > k->rlast) {
        /* the recorded range is complete (a gap at its end): write it as recorded */
        k->rpast = true;
        int rc = kafka_flush(ks, m->partition, err);
        if (rc < 0)
            return rc;
    }
    if (!k->have_next) {
        k->next = off;
        k->have_next = true;
    }
    if (m->len > UINT32_MAX - 1)
        return 0;
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 1024;
        log_record *nr = realloc(k->recs, nc * sizeof *nr);
        if (!nr)
            return sl_err_errno(err, ENOMEM, "kafka batch");
        k->recs = nr;
        k->cap = nc;
    }
    char *d = malloc(m->len + 1);
    if (!d)
        return sl_err_errno(err, ENOMEM, "kafka batch");
    memcpy(d, m->data, m->len);
    d[m->len] = '\0';
    if (!k->n)
        k->since_ms = mono_ms();
    k->recs[k->n++] = (log_record){.offset = off, .ts_ms = m->ts_ms, .data = d,
                                   .len = (uint32_t)m->len};
    k->bytes += m->len;
    if ((k->replay && off >= k->rlast) ||
        (!k->replay && (k->n >= ks->c->o->max_batch || k->bytes >= ks->c->o->max_batch_bytes)))
        return kafka_flush(ks, m->partition, err);
    return 0;
}

static int kafka_run(stream_ctx *c, sl_err *err)
{
    kstate ks = {.c = c};
    char group[160];
    snprintf(group, sizeof group, "sluice-%s", c->o->job);
    int rc = 0;
    if (!(ks.parts = calloc(KAFKA_MAX_PARTITIONS, sizeof *ks.parts)))
        return sl_err_errno(err, ENOMEM, "kafka partitions");
    bus_consumer_opts co = {.group = group, .report_eof = c->o->once,
                            .on_assign = kafka_on_assign, .ud = &ks};
    if ((rc = bus_consumer_new(c->o->bus, &co, &ks.cons, err)) < 0)
        goto out;
    int64_t t_start = mono_ms();
    bool any_assigned = false;
    while (!stopping(c)) {
        bus_msg m;
        sl_err pe = {0};
        int got = bus_consumer_poll(ks.cons, 100, &m, &pe);
        if (ks.rc) {
            rc = ks.rc;
            *err = ks.err;
            goto out;
        }
        if (got < 0) {
            if (!pe.retriable) {
                rc = got;
                *err = pe;
                goto out;
            }
            fprintf(c->o->log, "stream: warning: %s\n", pe.msg);
            continue;
        }
        if (got == 1) {
            rc = kafka_take(&ks, &m, err);
            bus_msg_release(&m);
            if (rc < 0)
                goto out;
            any_assigned = true;
        }
        if (got == 2) {   /* --once: every assigned partition is at its end */
            rc = kafka_flush_all(&ks, KFLUSH_END, err);
            goto out;
        }
        for (int32_t p = 0; !any_assigned && p < ks.nparts; p++)
            any_assigned = ks.parts[p].owned;
        if (c->o->once && !any_assigned && mono_ms() - t_start > 30000) {
            rc = sl_err_set(err, -ETIMEDOUT, true,
                            "no partition of kafka topic %s assigned within 30 s", c->topic);
            goto out;
        }
        if (!c->o->once && (rc = kafka_flush_all(&ks, KFLUSH_DUE, err)) < 0)
            goto out;
    }
    /* stopped: what was consumed is written, so a restart does not reread it (but not
     * an incomplete replay: its range must be written whole, by the next run) */
    rc = kafka_flush_all(&ks, KFLUSH_STOP, err);
out:
    /* leaving the group runs the revoke callback: ks must still be alive */
    bus_consumer_destroy(ks.cons);
    for (int32_t p = 0; p < ks.nparts; p++) {
        kpart_drop(&ks.parts[p]);
        free(ks.parts[p].recs);
        if (ks.parts[p].known)
            stream_ckpt_close(&ks.parts[p].ck);
    }
    free(ks.parts);
    return rc;
}

/* Opens the topic; in continuous mode waits for it to be created. 1 = stopped first. */
static int open_topic(stream_ctx *c, sl_err *err)
{
    bool said = false;
    while (true) {
        sl_err e2 = {0};
        int rc = log_topic_open(c->o->data_dir, c->topic, LOG_OPEN_READ, NULL, &c->log, &e2);
        if (rc == 0)
            return 0;
        if (rc != -ENOENT || c->o->once) {
            *err = e2;
            return rc;
        }
        if (!said) {
            fprintf(c->o->log, "stream: waiting for topic '%s' in %s/log\n", c->topic,
                    c->o->data_dir);
            said = true;
        }
        for (int i = 0; i < 10; i++) {
            if (stopping(c))
                return 1;
            struct timespec ts = {0, 50 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

int stream_run(const spec_app *app, const stream_opts *o, stream_stats *st, sl_err *err)
{
    stream_ctx c;
    memset(&c, 0, sizeof c);
    stream_stats local = {0};
    c.app = app;
    c.o = o;
    c.st = st ? st : &local;
    memset(c.st, 0, sizeof *c.st);
    c.topic = app->topic ? app->topic : "events";
    if (o->bus)
        c.topic = o->bus->topic;
    int rc = 0;
    pipeline pl;
    pipeline_start(&pl, &c);

    if (!(c.tables = calloc(app->ntables + 1, sizeof *c.tables)) ||
        !(c.bufs[0].t = calloc(app->ntables + 1, sizeof *c.bufs[0].t)) ||
        !(c.bufs[1].t = calloc(app->ntables + 1, sizeof *c.bufs[1].t)) ||
        !(c.bufs[2].t = calloc(app->ntables + 1, sizeof *c.bufs[2].t)) ||
        !(c.bufs[0].xt = calloc(app->ntables + 1, sizeof *c.bufs[0].xt)) ||
        !(c.bufs[1].xt = calloc(app->ntables + 1, sizeof *c.bufs[1].xt)) ||
        !(c.bufs[2].xt = calloc(app->ntables + 1, sizeof *c.bufs[2].xt)) ||
        asprintf(&c.warehouse, "%s/warehouse", o->data_dir) < 0) {
        c.warehouse = NULL;
        rc = sl_err_errno(err, ENOMEM, "stream");
        goto out;
    }
    for (size_t i = 0; i < app->ntables; i++) {
        c.tables[i].spec = &app->tables[i];
        c.ntables = i + 1;
        if ((rc = stream_schema_from_spec(&c.tables[i].schema, &app->tables[i], err)) < 0)
            goto out;
        c.tables[i].part_col = app->tables[i].partition_by
                                   ? stream_schema_find(&c.tables[i].schema,
                                                        app->tables[i].partition_by)
                                   : -1;
    }
    c.ntables = app->ntables + 1;
    for (int k = 0; k < ROUTERS; k++)
        if (router_init(&c, &c.rt[k]) < 0) {
            rc = sl_err_errno(err, ENOMEM, "stream");
            goto out;
        }
    /* Inference changes a schema while routing: such a job routes on one thread. */
    c.parallel = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    for (size_t i = 0; i < app->ntables; i++)
        c.parallel &= !c.tables[i].schema.infer;
    if ((rc = rejected_schema(&c.tables[app->ntables].schema, err)) < 0)
        goto out;
    c.tables[app->ntables].part_col = -1;
    for (size_t i = 0; i < c.ntables; i++)
        if ((rc = tbl_load_catalog(&c, &c.tables[i], err)) < 0)
            goto out;

    if ((rc = stream_ckpt_open(&c.ckpt, o->data_dir, o->job, c.topic, err)) < 0)
        goto out;
    if ((rc = stream_mkdirs(c.warehouse, err)) < 0)
        goto out;
    int removed = stream_writer_remove_temps(c.warehouse, err);
    if (removed < 0) {
        rc = removed;
        goto out;
    }
    if (removed > 0)
        fprintf(o->log, "stream: removed %d temporary file(s) left by an interrupted batch\n",
                removed);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.lanes = o->lanes > 0 ? o->lanes : ncpu < 1 ? 1 : ncpu > 4 ? 4 : (int)ncpu;
    if ((rc = stream_writer_open(&c.writer, o->compression, o->row_group_size, c.lanes,
                                 err)) < 0 ||
        (rc = pool_start(&c, err)) < 0)
        goto out;
    for (int i = 0; i < NBUF; i++) {
        stream_arena_init(&c.bufs[i].arena, 0);
        stream_arena_init(&c.bufs[i].xarena, 0);
    }
    if (o->bus) {
        rc = kafka_run(&c, err);
        goto out;
    }
    if ((rc = open_topic(&c, err)) != 0) {
        if (rc == 1)
            rc = 0;
        goto out;
    }

    uint64_t next = 0, pfirst = 0, plast = 0;
    bool have_ckpt = false, have_pending = false;
    if ((rc = stream_ckpt_read(&c.ckpt, &next, &have_ckpt, err)) < 0 ||
        (rc = stream_offsets_read(&c.ckpt, &pfirst, &plast, &have_pending, err)) < 0)
        goto out;
    int which = 0;
    if (have_pending && pfirst == next) {
        fprintf(o->log, "stream: replaying batch %" PRIu64 "-%" PRIu64
                        " recorded before an interruption\n", pfirst, plast);
        batch *b = &c.bufs[which];
        if ((rc = route_batch(&c, b, pfirst, plast, err)) != 0) {
            if (rc > 0)
                rc = sl_err_set(err, -EIO, false, "replay %" PRIu64 "-%" PRIu64 ": no records",
                                pfirst, plast);
            goto out;
        }
        b->backlog_end = 0;
        if ((rc = pipeline_submit(&pl, &c, b, err)) < 0)
            goto out;
        next = b->last + 1;
        which = (which + 1) % NBUF;
    } else if (have_pending && pfirst > next) {
        rc = sl_err_set(err, -EINVAL, false,
                        "%s/%s.offsets starts at %" PRIu64 " beyond the checkpoint %" PRIu64,
                        c.ckpt.dir, o->job, pfirst, next);
        goto out;
    }

    /* `next` is the router's position: it runs one batch ahead of the checkpoint while the
     * writer thread commits the previous batch. */
    uint64_t backlog_end = log_high_watermark(c.log);
    int64_t last_batch_ms = mono_ms();
    while (!stopping(&c)) {
        uint64_t start = log_start_offset(c.log);
        if (next < start) {
            fprintf(o->log, "stream: warning: offsets %" PRIu64 "-%" PRIu64
                            " were removed by retention before being read\n", next, start - 1);
            next = start;
        }
        uint64_t hw = log_high_watermark(c.log);
        if (o->once) {
            if (next >= backlog_end)
                break;
        } else {
            /* Wait for the trigger or for a full batch, whichever comes first; wake up
             * regularly to notice a stop request (log_wait is not interrupted by it) or a
             * failed write. */
            while (!stopping(&c)) {
                if ((rc = pipeline_failed(&pl, err)) < 0)
                    goto out;
                hw = log_high_watermark(c.log);
                int64_t left = last_batch_ms + (int64_t)o->trigger_ms - mono_ms();
                if (hw - next >= o->max_batch || (left <= 0 && hw > next))
                    break;
                int64_t slice = left > 0 && left < 200 ? left : 200;
                uint64_t want = left > 0 ? next + o->max_batch - 1 : next;
                log_wait(c.log, want, (int)slice);
            }
            if (stopping(&c))
                break;
            last_batch_ms = mono_ms();
        }
        batch *b = &c.bufs[which];
        /* The buffer was last used NBUF batches ago: wait until that batch is committed. */
        if ((rc = pipeline_wait_free(&pl, b, err)) < 0)
            goto out;
        rc = route_batch(&c, b, next, UINT64_MAX, err);
        if (rc > 0) {
            rc = 0;
            if (o->once)
                break;
            continue;
        }
        if (rc < 0)
            goto out;
        b->backlog_end = o->once && o->progress ? backlog_end : 0;
        if ((rc = pipeline_submit(&pl, &c, b, err)) < 0)
            goto out;
        next = b->last + 1;
        which = (which + 1) % NBUF;
    }
    rc = pipeline_finish(&pl, err);
    if (c.progress_shown)
        fprintf(o->log, "\n");
out:;
    /* Stop the commit thread before the lanes and the batches go (ctx_free). */
    sl_err e2 = {0};
    int rc2 = pipeline_finish(&pl, &e2);
    if (rc == 0 && rc2 < 0) {
        rc = rc2;
        *err = e2;
    }
    pipeline_free(&pl);
    ctx_free(&c);
    return rc < 0 ? rc : 0;
}
