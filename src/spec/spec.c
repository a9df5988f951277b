/* spec.c — loading and checking an app spec (YAML, through libyaml's document API).
 *
 * The format is documented in docs/spec.md. In short:
 *
 *     app: game                       # required, [A-Za-z0-9_.-]{1,64}
 *     topic: events                   # bus topic, default "events"
 *     routes:
 *       - path: /purchase_a_sword     # required, starts with '/', not a reserved path
 *         method: GET                 # default GET; ANY (or "*") accepts every method
 *         event_type: purchase_sword  # [a-z][a-z0-9_]{0,63}; absent: no event stored
 *         status: 200                 # 200..599, default 200 (204/304: no body)
 *         body: "Sword Purchased!\n"  # default ""
 *         content_type: text/html; charset=utf-8   (the default, as Flask answered)
 *         fields:                     # name -> constant scalar or one generator map
 *           description: very sharp sword
 *           strength: {normal: {mean: 5, sigma: 4, min: 0, max: 10, round: true}}
 *     tables:
 *       - name: purchases             # [a-z_][a-z0-9_]{0,63}, not _rejected
 *         events: ["purchase_*"]      # event types or fnmatch globs (or one scalar)
 *         columns: {description: varchar, strength: {type: bigint, field: strength}}
 *         raw_event: false
 *         infer: false
 *         partition_by: received_at   # a timestamp column: its UTC day is the dt= folder
 *
 * Every mistake becomes "<file>:<line>: <problem>" with -EINVAL; the first one stops the
 * load. Lines are 1-based, taken from libyaml's marks of the offending node.
 *
 * Aliases: the document API keeps an alias as a reference to the same node, and this
 * loader only walks the fixed shape above (bounded depth), so an alias bomb cannot make
 * it do more than (file size x schema depth) work. The file size itself is capped.
 */
#include "spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/json.h"
#include "spec/gen.h"

#define SPEC_FILE_MAX   (4u << 20) /* a spec is hand-written; 4 MiB is plenty */
#define SPEC_ROUTES_MAX 4096
#define SPEC_TABLES_MAX 1024
#define SPEC_FIELDS_MAX 256
#define SPEC_COLS_MAX   1024
#define SPEC_LIST_MAX   100000     /* choice values, pool lists, allowed values */
#define SPEC_NAME_MAX   128        /* field and query parameter names */
#define SPEC_PATH_MAX   1024
#define SPEC_BODY_MAX   (1u << 20)

/* ---- public helpers ---- */

const char *const spec_common_columns[] = {"event_id", "event_type", "received_at",
                                           "host",     "user_agent", "accept"};
const size_t spec_ncommon_columns = sizeof spec_common_columns / sizeof spec_common_columns[0];
static const spec_col_type common_types[] = {SPEC_COL_VARCHAR, SPEC_COL_VARCHAR,
                                             SPEC_COL_TIMESTAMP, SPEC_COL_VARCHAR,
                                             SPEC_COL_VARCHAR, SPEC_COL_VARCHAR};

const char *spec_col_type_name(spec_col_type t)
{
    switch (t) {
    case SPEC_COL_VARCHAR: return "varchar";
    case SPEC_COL_BIGINT: return "bigint";
    case SPEC_COL_DOUBLE: return "double";
    case SPEC_COL_BOOLEAN: return "boolean";
    case SPEC_COL_TIMESTAMP: return "timestamp";
    }
    return "?";
}

int spec_col_type_parse(const char *s, spec_col_type *out)
{
    static const struct {
        const char *name;
        spec_col_type t;
    } names[] = {
        {"varchar", SPEC_COL_VARCHAR}, {"string", SPEC_COL_VARCHAR}, {"text", SPEC_COL_VARCHAR},
        {"bigint", SPEC_COL_BIGINT},   {"int", SPEC_COL_BIGINT},     {"integer", SPEC_COL_BIGINT},
        {"long", SPEC_COL_BIGINT},     {"double", SPEC_COL_DOUBLE},  {"float", SPEC_COL_DOUBLE},
        {"real", SPEC_COL_DOUBLE},     {"boolean", SPEC_COL_BOOLEAN}, {"bool", SPEC_COL_BOOLEAN},
        {"timestamp", SPEC_COL_TIMESTAMP},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].t;
            return 0;
        }
    return -EINVAL;
}

bool spec_table_matches(const spec_table *t, const char *event_type)
{
    for (size_t i = 0; i < t->nevents; i++)
        if (fnmatch(t->events[i], event_type, 0) == 0)
            return true;
    return false;
}

size_t spec_sql_name(const char *field, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    bool gap = false;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = field[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (gap && o > 0 && o + 1 < cap)
                out[o++] = '_';
            gap = false;
            if (o + 1 < cap)
                out[o++] = c;
        } else {
            gap = true;
        }
    }
    out[o] = 0;
    return o;
}

/* ---- freeing ---- */

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void field_free(spec_field *f)
{
    free(f->name);
    free(f->key_json);
    free(f->json);
    free(f->param);
    free_strv(f->values, f->nvalues);
    free_strv(f->values_json, f->nvalues);
    free(f->cum_weights);
    free(f->prefix);
}

void spec_free(spec_app *app)
{
    if (!app)
        return;
    for (size_t i = 0; i < app->nroutes; i++) {
        spec_route *rt = &app->routes[i];
        free(rt->method);
        free(rt->path);
        free(rt->event_type);
        free(rt->body);
        free(rt->content_type);
        for (size_t j = 0; j < rt->nfields; j++)
            field_free(&rt->fields[j]);
        free(rt->fields);
    }
    free(app->routes);
    for (size_t i = 0; i < app->ntables; i++) {
        spec_table *t = &app->tables[i];
        free(t->name);
        free_strv(t->events, t->nevents);
        for (size_t j = 0; j < t->ncols; j++) {
            free(t->cols[j].name);
            free(t->cols[j].field);
        }
        free(t->cols);
        free(t->partition_by);
    }
    free(app->tables);
    free(app->file);
    free(app->name);
    free(app->topic);
    free(app);
}

/* ---- loader context and node helpers ---- */

typedef struct loader {
    const char      *file;
    yaml_document_t *doc;
    sl_err          *err;
} loader;

static int line_of(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

static int bad(loader *ld, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_set(ld->err, -EINVAL, false, "%s:%d: %s", ld->file, n ? line_of(n) : 1, msg);
}

static int oom(loader *ld) { return sl_err_set(ld->err, -ENOMEM, true, "%s: out of memory", ld->file); }

static yaml_node_t *node_at(loader *ld, int idx) { return yaml_document_get_node(ld->doc, idx); }

static const char *type_word(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a map";
    default: return "nothing";
    }
}

static const char *sval(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static size_t slen(const yaml_node_t *n) { return n->data.scalar.length; }
static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A scalar that is usable as a C string (no NUL inside). what names it in messages. */
static int want_scalar(loader *ld, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE)
        return bad(ld, n, "%s must be a scalar, not %s", what, type_word(n));
    if (strlen(sval(n)) != slen(n))
        return bad(ld, n, "%s contains a NUL byte", what);
    return 0;
}

static int dup_str(loader *ld, const yaml_node_t *n, const char *what, char **out)
{
    int rc = want_scalar(ld, n, what);
    if (rc < 0)
        return rc;
    free(*out);
    *out = strdup(sval(n));
    return *out ? 0 : oom(ld);
}

static int get_double(loader *ld, const yaml_node_t *n, const char *what, double *out)
{
    int rc = want_scalar(ld, n, what);
    if (rc < 0)
        return rc;
    char *end;
    errno = 0;
    double v = strtod(sval(n), &end);
    if (slen(n) == 0 || *end || errno == ERANGE || !isfinite(v) || !is_plain(n))
        return bad(ld, n, "%s must be a number, not '%s'", what, sval(n));
    *out = v;
    return 0;
}

static int get_int(loader *ld, const yaml_node_t *n, const char *what, int64_t lo, int64_t hi,
                   int64_t *out)
{
    int rc = want_scalar(ld, n, what);
    if (rc < 0)
        return rc;
    char *end;
    errno = 0;
    long long v = strtoll(sval(n), &end, 10);
    if (slen(n) == 0 || *end || errno == ERANGE || !is_plain(n))
        return bad(ld, n, "%s must be an integer, not '%s'", what, sval(n));
    if (v < lo || v > hi)
        return bad(ld, n, "%s must be between %lld and %lld, not %lld", what, (long long)lo,
                   (long long)hi, v);
    *out = v;
    return 0;
}

static int get_bool(loader *ld, const yaml_node_t *n, const char *what, bool *out)
{
    int rc = want_scalar(ld, n, what);
    if (rc < 0)
        return rc;
    const char *s = sval(n);
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no")) {
        *out = false;
        return 0;
    }
    return bad(ld, n, "%s must be true or false, not '%s'", what, s);
}

static int cmp_key(const void *a, const void *b)
{
    const yaml_node_t *x = *(yaml_node_t *const *)a, *y = *(yaml_node_t *const *)b;
    int c = strcmp(sval(x), sval(y));
    if (c)
        return c;
    /* Equal keys: document order, so the first occurrence comes first. */
    return x->start_mark.index < y->start_mark.index ? -1 : x->start_mark.index > y->start_mark.index;
}

/* Duplicate keys, which libyaml accepts silently. Sorting keeps this O(n log n): a
 * 4 MiB file can hold a map with hundreds of thousands of keys. Keys are scalars here. */
static int check_duplicate_keys(loader *ld, const yaml_node_t *n, const char *what)
{
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt < 2)
        return 0;
    yaml_node_t **keys = malloc(cnt * sizeof *keys);
    if (!keys)
        return oom(ld);
    for (size_t i = 0; i < cnt; i++)
        keys[i] = node_at(ld, n->data.mapping.pairs.start[i].key);
    qsort(keys, cnt, sizeof *keys, cmp_key);
    /* Report the duplicate that comes first in the file. */
    const yaml_node_t *dup = NULL, *orig = NULL;
    for (size_t i = 1; i < cnt; i++)
        if (!strcmp(sval(keys[i]), sval(keys[i - 1])) &&
            (!dup || keys[i]->start_mark.index < dup->start_mark.index)) {
            dup = keys[i];
            size_t j = i - 1;
            while (j > 0 && !strcmp(sval(keys[j - 1]), sval(dup)))
                j--;
            orig = keys[j];
        }
    int rc = 0;
    if (dup)
        rc = bad(ld, dup, "duplicate key '%s' in %s (first at line %d)", sval(dup), what,
                 line_of(orig));
    free(keys);
    return rc;
}

/* Checks that n is a map whose keys are unique scalars from allowed (NULL-terminated;
 * allowed == NULL accepts any key). */
static int want_map(loader *ld, const yaml_node_t *n, const char *what,
                    const char *const *allowed)
{
    if (n->type != YAML_MAPPING_NODE)
        return bad(ld, n, "%s must be a map, not %s", what, type_word(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(ld, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            return bad(ld, k ? k : n, "keys of %s must be scalars", what);
        if (strlen(sval(k)) != slen(k))
            return bad(ld, k, "a key of %s contains a NUL byte", what);
        if (!allowed)
            continue;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, sval(k));
        if (!ok) {
            char list[256];
            size_t l = 0;
            list[0] = 0;
            for (const char *const *a = allowed; *a; a++) {
                int w = snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
                if (w < 0 || (size_t)w >= sizeof list - l)
                    break;
                l += (size_t)w;
            }
            return bad(ld, k, "unknown key '%s' in %s (expected one of: %s)", sval(k), what, list);
        }
    }
    return check_duplicate_keys(ld, n, what);
}

static yaml_node_t *map_get(loader *ld, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node_at(ld, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp(sval(k), key))
            return node_at(ld, p->value);
    }
    return NULL;
}

static int want_seq(loader *ld, const yaml_node_t *n, const char *what, size_t max)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(ld, n, "%s must be a list, not %s", what, type_word(n));
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt > max)
        return bad(ld, n, "%s has %zu entries, more than the limit of %zu", what, cnt, max);
    return 0;
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_at(loader *ld, const yaml_node_t *n, size_t i)
{
    return node_at(ld, n->data.sequence.items.start[i]);
}

/* ---- names ---- */

static bool name_ok(const char *s, size_t max, bool lead_underscore)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (lead_underscore && s[0] == '_')))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool event_type_ok(const char *s) { return name_ok(s, 64, false); }
static bool sql_ident_ok(const char *s) { return name_ok(s, 64, true); }

/* ---- scalar -> JSON text ---- */

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_text(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return false;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

static char *json_string_of(const char *s, size_t n)
{
    char *out = malloc(json_escaped_len(s, n) + 1);
    if (!out)
        return NULL;
    out[json_escape(s, n, out)] = 0;
    return out;
}

/* The JSON text of a YAML scalar: a quoted scalar is always a string; a plain one is null,
 * true, false or a number when it reads as one (YAML 1.2 core schema), else a string.
 * "Yes"/"No" stay strings, so a coupon flag keeps its text. */
static char *scalar_json(const yaml_node_t *n)
{
    const char *s = sval(n);
    if (is_plain(n)) {
        if (!strcmp(s, "null") || !strcmp(s, "~") || slen(n) == 0)
            return strdup("null");
        if (!strcmp(s, "true") || !strcmp(s, "false"))
            return strdup(s);
        if (json_number_text(s))
            return strdup(s);
    }
    return json_string_of(s, slen(n));
}

/* ---- fields ---- */

/* Reads a list of scalars into values / values_json (the text and its JSON). */
static int read_values(loader *ld, const yaml_node_t *seq, const char *what, spec_field *f)
{
    int rc = want_seq(ld, seq, what, SPEC_LIST_MAX);
    if (rc < 0)
        return rc;
    size_t n = seq_len(seq);
    if (n == 0)
        return bad(ld, seq, "%s is empty", what);
    f->values = calloc(n, sizeof *f->values);
    f->values_json = calloc(n, sizeof *f->values_json);
    if (!f->values || !f->values_json)
        return oom(ld);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *v = seq_at(ld, seq, i);
        if ((rc = want_scalar(ld, v, what)) < 0)
            return rc;
        f->values[i] = strdup(sval(v));
        f->values_json[i] = scalar_json(v);
        f->nvalues = i + 1;
        if (!f->values[i] || !f->values_json[i])
            return oom(ld);
    }
    return 0;
}

/* Turns weights into cumulative weights; each >= 0, the total > 0. */
static int read_weights(loader *ld, const yaml_node_t *seq, size_t want, const char *what,
                        double *cum)
{
    int rc = want_seq(ld, seq, what, SPEC_LIST_MAX);
    if (rc < 0)
        return rc;
    if (seq_len(seq) != want)
        return bad(ld, seq, "%s must have %zu entries, not %zu", what, want, seq_len(seq));
    double total = 0;
    for (size_t i = 0; i < want; i++) {
        double w;
        yaml_node_t *v = seq_at(ld, seq, i);
        if ((rc = get_double(ld, v, what, &w)) < 0)
            return rc;
        if (w < 0)
            return bad(ld, v, "%s: a weight must not be negative", what);
        total += w;
        cum[i] = total;
    }
    if (!(total > 0) || !isfinite(total))
        return bad(ld, seq, "%s: the weights must add up to more than 0", what);
    return 0;
}

static int parse_query(loader *ld, const yaml_node_t *v, spec_field *f)
{
    static const char *const keys[] = {"param", "allowed", "default", "type", "min", "max", NULL};
    int rc;
    if (v->type == YAML_SCALAR_NODE) { /* query: menu */
        if ((rc = dup_str(ld, v, "query parameter name", &f->param)) < 0)
            return rc;
        if (!*f->param || strlen(f->param) > SPEC_NAME_MAX)
            return bad(ld, v, "query parameter name must have 1..%d bytes", SPEC_NAME_MAX);
        return 0;
    }
    if ((rc = want_map(ld, v, "query", keys)) < 0)
        return rc;
    yaml_node_t *param = map_get(ld, v, "param"), *allowed = map_get(ld, v, "allowed"),
                *def = map_get(ld, v, "default"), *type = map_get(ld, v, "type"),
                *min = map_get(ld, v, "min"), *max = map_get(ld, v, "max");
    if (!param)
        return bad(ld, v, "query needs 'param' (the query parameter's name)");
    if ((rc = dup_str(ld, param, "query parameter name", &f->param)) < 0)
        return rc;
    if (!*f->param || strlen(f->param) > SPEC_NAME_MAX)
        return bad(ld, param, "query parameter name must have 1..%d bytes", SPEC_NAME_MAX);
    if (type) {
        if ((rc = want_scalar(ld, type, "query type")) < 0)
            return rc;
        if (!strcmp(sval(type), "integer") || !strcmp(sval(type), "bigint") ||
            !strcmp(sval(type), "int"))
            f->q_integer = true;
        else if (strcmp(sval(type), "string") && strcmp(sval(type), "varchar"))
            return bad(ld, type, "query type must be string or integer, not '%s'", sval(type));
    }
    if (!f->q_integer && (min || max))
        return bad(ld, min ? min : max, "query 'min'/'max' need 'type: integer'");
    if (f->q_integer && allowed)
        return bad(ld, allowed, "query 'allowed' is for strings; use 'min'/'max' with 'type: integer'");
    f->imin = INT64_MIN;
    f->imax = INT64_MAX;
    if (min && (rc = get_int(ld, min, "query min", INT64_MIN, INT64_MAX, &f->imin)) < 0)
        return rc;
    if (max && (rc = get_int(ld, max, "query max", INT64_MIN, INT64_MAX, &f->imax)) < 0)
        return rc;
    if (f->imin > f->imax)
        return bad(ld, min, "query min (%lld) is greater than max (%lld)", (long long)f->imin,
                   (long long)f->imax);
    if (allowed && (rc = read_values(ld, allowed, "query 'allowed'", f)) < 0)
        return rc;
    if (def) {
        if ((rc = want_scalar(ld, def, "query default")) < 0)
            return rc;
        if (f->q_integer) {
            int64_t d;
            if ((rc = get_int(ld, def, "query default", f->imin, f->imax, &d)) < 0)
                return rc;
            if (asprintf(&f->json, "%lld", (long long)d) < 0) {
                f->json = NULL;
                return oom(ld);
            }
        } else {
            if (f->nvalues) {
                bool found = false;
                for (size_t i = 0; i < f->nvalues && !found; i++)
                    found = !strcmp(f->values[i], sval(def));
                if (!found)
                    return bad(ld, def, "query default '%s' is not one of the allowed values",
                               sval(def));
            }
            /* The default is what the request could have sent: always a string. */
            if (!(f->json = json_string_of(sval(def), slen(def))))
                return oom(ld);
        }
    }
    return 0;
}

static int parse_normal(loader *ld, const yaml_node_t *v, spec_field *f)
{
    static const char *const keys[] = {"mean", "sigma", "min", "max", "round", "decimals", NULL};
    int rc = want_map(ld, v, "normal", keys);
    if (rc < 0)
        return rc;
    yaml_node_t *mean = map_get(ld, v, "mean"), *sigma = map_get(ld, v, "sigma"),
                *min = map_get(ld, v, "min"), *max = map_get(ld, v, "max"),
                *round = map_get(ld, v, "round"), *dec = map_get(ld, v, "decimals");
    if (!mean || !sigma)
        return bad(ld, v, "normal needs 'mean' and 'sigma'");
    if ((rc = get_double(ld, mean, "normal mean", &f->mean)) < 0 ||
        (rc = get_double(ld, sigma, "normal sigma", &f->sigma)) < 0)
        return rc;
    if (f->sigma < 0)
        return bad(ld, sigma, "normal sigma must not be negative");
    f->min = -INFINITY;
    f->max = INFINITY;
    if (min && (rc = get_double(ld, min, "normal min", &f->min)) < 0)
        return rc;
    if (max && (rc = get_double(ld, max, "normal max", &f->max)) < 0)
        return rc;
    if (f->min > f->max)
        return bad(ld, min, "normal min (%g) is greater than max (%g)", f->min, f->max);
    f->round = SPEC_ROUND_NONE;
    if (round) {
        if ((rc = want_scalar(ld, round, "normal round")) < 0)
            return rc;
        const char *s = sval(round);
        if (!strcmp(s, "true") || !strcmp(s, "nearest"))
            f->round = SPEC_ROUND_NEAREST;
        else if (!strcmp(s, "floor"))
            f->round = SPEC_ROUND_FLOOR;
        else if (strcmp(s, "false") && strcmp(s, "none"))
            return bad(ld, round, "normal round must be true, false, nearest or floor, not '%s'", s);
    }
    f->decimals = -1;
    if (dec) {
        int64_t d;
        if ((rc = get_int(ld, dec, "decimals", 0, 15, &d)) < 0)
            return rc;
        if (f->round != SPEC_ROUND_NONE)
            return bad(ld, dec, "normal: 'decimals' and 'round' exclude each other");
        f->decimals = (int)d;
    }
    return 0;
}

#define EXACT_INT_MAX 9007199254740992.0 /* 2^53: doubles hold every integer up to here */

static int parse_uniform(loader *ld, const yaml_node_t *v, spec_field *f)
{
    static const char *const keys[] = {"min", "max", "integer", "decimals", NULL};
    int rc = want_map(ld, v, "uniform", keys);
    if (rc < 0)
        return rc;
    yaml_node_t *min = map_get(ld, v, "min"), *max = map_get(ld, v, "max"),
                *integer = map_get(ld, v, "integer"), *dec = map_get(ld, v, "decimals");
    if (!min || !max)
        return bad(ld, v, "uniform needs 'min' and 'max'");
    if ((rc = get_double(ld, min, "uniform min", &f->min)) < 0 ||
        (rc = get_double(ld, max, "uniform max", &f->max)) < 0)
        return rc;
    if (f->min > f->max)
        return bad(ld, min, "uniform min (%g) is greater than max (%g)", f->min, f->max);
    bool is_int = false;
    if (integer && (rc = get_bool(ld, integer, "uniform integer", &is_int)) < 0)
        return rc;
    f->round = is_int ? SPEC_ROUND_NEAREST : SPEC_ROUND_NONE;
    if (is_int) {
        if (f->min != floor(f->min) || f->max != floor(f->max))
            return bad(ld, min, "uniform with 'integer: true' needs whole min and max");
        if (fabs(f->min) > EXACT_INT_MAX || fabs(f->max) > EXACT_INT_MAX)
            return bad(ld, min, "uniform integer bounds must be within +-2^53");
    }
    f->decimals = -1;
    if (dec) {
        int64_t d;
        if ((rc = get_int(ld, dec, "decimals", 0, 15, &d)) < 0)
            return rc;
        if (is_int)
            return bad(ld, dec, "uniform: 'decimals' and 'integer' exclude each other");
        f->decimals = (int)d;
    }
    return 0;
}

static int parse_choice(loader *ld, const yaml_node_t *v, spec_field *f)
{
    int rc;
    if (v->type == YAML_SEQUENCE_NODE) { /* choice: [a, b, c] — equal weights */
        if ((rc = read_values(ld, v, "choice", f)) < 0)
            return rc;
        if (!(f->cum_weights = malloc(f->nvalues * sizeof *f->cum_weights)))
            return oom(ld);
        for (size_t i = 0; i < f->nvalues; i++)
            f->cum_weights[i] = (double)(i + 1);
        return 0;
    }
    if (v->type != YAML_MAPPING_NODE)
        return bad(ld, v, "choice must be a list of values, a map value -> weight, or "
                          "{values: [...], weights: [...]}, not %s", type_word(v));
    if (map_get(ld, v, "values")) {
        static const char *const keys[] = {"values", "weights", NULL};
        if ((rc = want_map(ld, v, "choice", keys)) < 0)
            return rc;
        if ((rc = read_values(ld, map_get(ld, v, "values"), "choice values", f)) < 0)
            return rc;
        if (!(f->cum_weights = malloc(f->nvalues * sizeof *f->cum_weights)))
            return oom(ld);
        yaml_node_t *w = map_get(ld, v, "weights");
        if (!w) {
            for (size_t i = 0; i < f->nvalues; i++)
                f->cum_weights[i] = (double)(i + 1);
            return 0;
        }
        return read_weights(ld, w, f->nvalues, "choice weights", f->cum_weights);
    }
    /* choice: {"No": 0.8, "Yes": 0.2} */
    if ((rc = want_map(ld, v, "choice", NULL)) < 0)
        return rc;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n == 0)
        return bad(ld, v, "choice is empty");
    if (n > SPEC_LIST_MAX)
        return bad(ld, v, "choice has more than %d values", SPEC_LIST_MAX);
    f->values = calloc(n, sizeof *f->values);
    f->values_json = calloc(n, sizeof *f->values_json);
    f->cum_weights = calloc(n, sizeof *f->cum_weights);
    if (!f->values || !f->values_json || !f->cum_weights)
        return oom(ld);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(ld, p->key), *w = node_at(ld, p->value);
        double wt;
        f->values[i] = strdup(sval(k));
        f->values_json[i] = scalar_json(k);
        f->nvalues = i + 1;
        if (!f->values[i] || !f->values_json[i])
            return oom(ld);
        if ((rc = get_double(ld, w, "choice weight", &wt)) < 0)
            return rc;
        if (wt < 0)
            return bad(ld, w, "choice weight must not be negative");
        total += wt;
        f->cum_weights[i] = total;
    }
    if (!(total > 0) || !isfinite(total))
        return bad(ld, v, "choice: the weights must add up to more than 0");
    return 0;
}

static int parse_pool(loader *ld, const yaml_node_t *v, spec_field *f)
{
    int rc;
    if (v->type == YAML_SEQUENCE_NODE)
        return read_values(ld, v, "pool", f);
    static const char *const keys[] = {"prefix", "size", "width", "start", NULL};
    if ((rc = want_map(ld, v, "pool", keys)) < 0)
        return rc;
    yaml_node_t *prefix = map_get(ld, v, "prefix"), *size = map_get(ld, v, "size"),
                *width = map_get(ld, v, "width"), *start = map_get(ld, v, "start");
    if (!size)
        return bad(ld, v, "pool needs 'size' (or give the pool as a list)");
    int64_t sz, wd = 0, st = 1;
    if ((rc = get_int(ld, size, "pool size", 1, 1000000000000LL, &sz)) < 0)
        return rc;
    if (width && (rc = get_int(ld, width, "pool width", 0, 20, &wd)) < 0)
        return rc;
    if (start && (rc = get_int(ld, start, "pool start", 0, 1000000000000LL, &st)) < 0)
        return rc;
    f->pool_size = (uint64_t)sz;
    f->pool_start = (uint64_t)st;
    f->width = (int)wd;
    const char *p = "";
    if (prefix) {
        if ((rc = want_scalar(ld, prefix, "pool prefix")) < 0)
            return rc;
        if (slen(prefix) > SPEC_NAME_MAX)
            return bad(ld, prefix, "pool prefix is longer than %d bytes", SPEC_NAME_MAX);
        p = sval(prefix);
    }
    char *quoted = json_string_of(p, strlen(p));
    if (!quoted)
        return oom(ld);
    /* Keep the escaped text without its quotes: gen.c writes "<prefix><number>". */
    size_t ql = strlen(quoted);
    memmove(quoted, quoted + 1, ql - 2);
    quoted[ql - 2] = 0;
    f->prefix = quoted;
    return 0;
}

static int parse_timestamp(loader *ld, const yaml_node_t *v, spec_field *f)
{
    int rc;
    for (int i = 0; i < 24; i++)
        f->hour_cum[i] = i + 1;
    for (int i = 0; i < 7; i++)
        f->wday_cum[i] = i + 1;
    f->days_back = 28;
    if (v->type == YAML_SCALAR_NODE) { /* timestamp: true */
        bool on;
        if ((rc = get_bool(ld, v, "timestamp", &on)) < 0)
            return rc;
        if (!on)
            return bad(ld, v, "timestamp: false makes no field; remove the field instead");
        return 0;
    }
    static const char *const keys[] = {"hours", "weekdays", "days_back", NULL};
    if ((rc = want_map(ld, v, "timestamp", keys)) < 0)
        return rc;
    yaml_node_t *hours = map_get(ld, v, "hours"), *wdays = map_get(ld, v, "weekdays"),
                *back = map_get(ld, v, "days_back");
    if (hours && (rc = read_weights(ld, hours, 24, "timestamp hours", f->hour_cum)) < 0)
        return rc;
    if (wdays && (rc = read_weights(ld, wdays, 7, "timestamp weekdays (Monday..Sunday)",
                                    f->wday_cum)) < 0)
        return rc;
    if (back) {
        int64_t b;
        if ((rc = get_int(ld, back, "timestamp days_back", 7, 36500, &b)) < 0)
            return rc;
        f->days_back = (int)b;
    }
    return 0;
}

static const char *const reserved_fields[] = {"event_type", "event_id", "received_at", NULL};

static int parse_field(loader *ld, const yaml_node_t *k, const yaml_node_t *v, spec_field *f)
{
    int rc;
    f->line = line_of(k);
    if (!(f->name = strdup(sval(k))))
        return oom(ld);
    if (!*f->name || strlen(f->name) > SPEC_NAME_MAX)
        return bad(ld, k, "field name must have 1..%d bytes", SPEC_NAME_MAX);
    for (const char *p = f->name; *p; p++)
        if ((unsigned char)*p < 0x20)
            return bad(ld, k, "field name contains a control character");
    for (const char *const *r = reserved_fields; *r; r++)
        if (!strcmp(f->name, *r))
            return bad(ld, k, "field '%s' is set by the collector; choose another name", *r);
    char *q = json_string_of(f->name, strlen(f->name));
    if (!q)
        return oom(ld);
    if (asprintf(&f->key_json, "%s:", q) < 0) {
        f->key_json = NULL;
        free(q);
        return oom(ld);
    }
    free(q);
    f->key_len = strlen(f->key_json);

    if (v->type == YAML_SCALAR_NODE) {
        if ((rc = want_scalar(ld, v, "field value")) < 0)
            return rc;
        f->kind = SPEC_GEN_CONST;
        return (f->json = scalar_json(v)) ? 0 : oom(ld);
    }
    if (v->type != YAML_MAPPING_NODE)
        return bad(ld, v, "field '%s' must be a constant or a generator map, not %s", f->name,
                   type_word(v));
    static const char *const gens[] = {"const", "query", "normal", "uniform", "choice",
                                       "pool",  "timestamp", "uuid", NULL};
    if ((rc = want_map(ld, v, "a field generator", gens)) < 0)
        return rc;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n != 1)
        return bad(ld, v, "field '%s' needs exactly one generator, not %zu", f->name, n);
    yaml_node_t *gk = node_at(ld, v->data.mapping.pairs.start[0].key);
    yaml_node_t *gv = node_at(ld, v->data.mapping.pairs.start[0].value);
    const char *g = sval(gk);
    if (!strcmp(g, "const")) {
        f->kind = SPEC_GEN_CONST;
        if ((rc = want_scalar(ld, gv, "const value")) < 0)
            return rc;
        return (f->json = scalar_json(gv)) ? 0 : oom(ld);
    }
    if (!strcmp(g, "query")) {
        f->kind = SPEC_GEN_QUERY;
        return parse_query(ld, gv, f);
    }
    if (!strcmp(g, "normal")) {
        f->kind = SPEC_GEN_NORMAL;
        return parse_normal(ld, gv, f);
    }
    if (!strcmp(g, "uniform")) {
        f->kind = SPEC_GEN_UNIFORM;
        return parse_uniform(ld, gv, f);
    }
    if (!strcmp(g, "choice")) {
        f->kind = SPEC_GEN_CHOICE;
        return parse_choice(ld, gv, f);
    }
    if (!strcmp(g, "pool")) {
        f->kind = SPEC_GEN_POOL;
        return parse_pool(ld, gv, f);
    }
    if (!strcmp(g, "timestamp")) {
        f->kind = SPEC_GEN_TIMESTAMP;
        return parse_timestamp(ld, gv, f);
    }
    f->kind = SPEC_GEN_UUID;
    bool on;
    if ((rc = get_bool(ld, gv, "uuid", &on)) < 0)
        return rc;
    if (!on)
        return bad(ld, gv, "uuid: false makes no field; remove the field instead");
    return 0;
}

/* ---- routes ---- */

/* Paths the collector answers itself; an app route there would be unreachable or would
 * shadow operations (README: "Operational paths"). */
static bool path_reserved(const char *p)
{
    return !strcmp(p, "/healthz") || !strcmp(p, "/metrics") || !strcmp(p, "/events") ||
           !strcmp(p, "/_sluice") || !strncmp(p, "/_sluice/", 9);
}

static int parse_route(loader *ld, const yaml_node_t *n, spec_route *rt)
{
    static const char *const keys[] = {"method", "path", "event_type", "status", "body",
                                       "content_type", "fields", NULL};
    int rc = want_map(ld, n, "a route", keys);
    if (rc < 0)
        return rc;
    rt->line = line_of(n);
    rt->status = 200;
    yaml_node_t *method = map_get(ld, n, "method"), *path = map_get(ld, n, "path"),
                *et = map_get(ld, n, "event_type"), *status = map_get(ld, n, "status"),
                *body = map_get(ld, n, "body"), *ct = map_get(ld, n, "content_type"),
                *fields = map_get(ld, n, "fields");
    if (!path)
        return bad(ld, n, "route needs 'path'");
    if ((rc = dup_str(ld, path, "path", &rt->path)) < 0)
        return rc;
    size_t pl = strlen(rt->path);
    if (rt->path[0] != '/' || pl > SPEC_PATH_MAX)
        return bad(ld, path, "path must start with '/' and have at most %d bytes", SPEC_PATH_MAX);
    for (const char *p = rt->path; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
            return bad(ld, path, "path '%s' must not contain spaces, control characters, "
                                 "'?' or '#'", rt->path);
    /* The collector matches the request path after libh2o's normalisation, which
     * percent-decodes it and removes "." and ".." segments: a spec path that holds
     * either could never be matched. */
    if (strchr(rt->path, '%'))
        return bad(ld, path, "path '%s' holds '%%': request paths are percent-decoded before "
                             "they are matched, so write the character itself", rt->path);
    for (const char *seg = rt->path + 1;; seg++) {
        size_t sl = strcspn(seg, "/");
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
            return bad(ld, path, "path '%s' has a '.' or '..' segment: request paths are "
                                 "normalised before they are matched, so it could never be",
                       rt->path);
        seg += sl;
        if (!*seg)
            break;
    }
    if (path_reserved(rt->path))
        return bad(ld, path, "path '%s' is reserved by the collector (/healthz, /metrics, "
                             "/events, /_sluice/...)", rt->path);

    if (method) {
        if ((rc = dup_str(ld, method, "method", &rt->method)) < 0)
            return rc;
        if (!strcmp(rt->method, "ANY") || !strcmp(rt->method, "*")) {
            free(rt->method);
            rt->method = NULL;
        } else {
            size_t ml = strlen(rt->method);
            bool ok = ml > 0 && ml <= 16;
            for (size_t i = 0; i < ml && ok; i++)
                ok = rt->method[i] >= 'A' && rt->method[i] <= 'Z';
            if (!ok)
                return bad(ld, method, "method must be an upper-case HTTP method (GET, POST, "
                                       "...) or ANY, not '%s'", rt->method);
        }
    } else if (!(rt->method = strdup("GET"))) {
        return oom(ld);
    }

    if (et) {
        if ((rc = dup_str(ld, et, "event_type", &rt->event_type)) < 0)
            return rc;
        if (!event_type_ok(rt->event_type))
            return bad(ld, et, "event_type '%s' must match [a-z][a-z0-9_]{0,63}", rt->event_type);
    }
    if (status) {
        int64_t s;
        if ((rc = get_int(ld, status, "status", 0, 999, &s)) < 0)
            return rc;
        /* 1xx is an interim response: a client would wait for the real answer */
        if (s >= 100 && s < 200)
            return bad(ld, status, "status %d is an interim (1xx) response, not an answer; "
                                   "use 200..599", (int)s);
        if (s < 200 || s > 599)
            return bad(ld, status, "status must be between 200 and 599, not %d", (int)s);
        rt->status = (int)s;
    }
    if (body) {
        if ((rc = dup_str(ld, body, "body", &rt->body)) < 0)
            return rc;
        if (strlen(rt->body) > SPEC_BODY_MAX)
            return bad(ld, body, "body is larger than %u bytes", SPEC_BODY_MAX);
        /* HTTP sends no content with these (RFC 9110 15.3.5, 15.4.5) */
        if (*rt->body && (rt->status == 204 || rt->status == 304))
            return bad(ld, body, "a %d answer has no body; remove 'body'", rt->status);
    } else if (!(rt->body = strdup(""))) {
        return oom(ld);
    }
    if (ct) {
        if ((rc = dup_str(ld, ct, "content_type", &rt->content_type)) < 0)
            return rc;
        for (const char *p = rt->content_type; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return bad(ld, ct, "content_type contains a control character");
        if (!*rt->content_type)
            return bad(ld, ct, "content_type is empty");
    } else if (!(rt->content_type = strdup("text/html; charset=utf-8"))) {
        return oom(ld);
    }

    if (fields) {
        if ((rc = want_map(ld, fields, "fields", NULL)) < 0)
            return rc;
        size_t nf = (size_t)(fields->data.mapping.pairs.top - fields->data.mapping.pairs.start);
        if (nf > SPEC_FIELDS_MAX)
            return bad(ld, fields, "a route has at most %d fields", SPEC_FIELDS_MAX);
        if (nf && !rt->event_type)
            return bad(ld, fields, "fields need an event_type on the route");
        if (nf && !(rt->fields = calloc(nf, sizeof *rt->fields)))
            return oom(ld);
        for (size_t i = 0; i < nf; i++) {
            yaml_node_pair_t *p = &fields->data.mapping.pairs.start[i];
            rt->nfields = i + 1;
            if ((rc = parse_field(ld, node_at(ld, p->key), node_at(ld, p->value),
                                  &rt->fields[i])) < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- tables ---- */

static bool glob_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '*' ||
              c == '?' || c == '[' || c == ']' || c == '!' || c == '-'))
            return false;
    }
    return true;
}

static int add_column(loader *ld, spec_table *t, const yaml_node_t *at, const char *name,
                      const char *field, spec_col_type type, bool common)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return bad(ld, at, "duplicate column '%s' in table '%s'%s", name, t->name,
                       t->cols[i].common ? " (it is a common column every table has)" : "");
    spec_column *c = &t->cols[t->ncols];
    c->type = type;
    c->common = common;
    c->line = at ? line_of(at) : 0;
    c->name = strdup(name);
    c->field = field ? strdup(field) : NULL;
    t->ncols++;
    if (!c->name || (field && !c->field))
        return oom(ld);
    return 0;
}

static int parse_column(loader *ld, spec_table *t, const yaml_node_t *k, const yaml_node_t *v)
{
    int rc;
    const char *name = sval(k);
    if (!sql_ident_ok(name))
        return bad(ld, k, "column name '%s' must match [a-z_][a-z0-9_]{0,63}", name);
    if (!strcmp(name, "raw_event"))
        return bad(ld, k, "column 'raw_event' is reserved; use 'raw_event: true' on the table");
    const yaml_node_t *tn = v, *fn = NULL;
    if (v->type == YAML_MAPPING_NODE) {
        static const char *const keys[] = {"type", "field", NULL};
        if ((rc = want_map(ld, v, "a column", keys)) < 0)
            return rc;
        tn = map_get(ld, v, "type");
        fn = map_get(ld, v, "field");
        if (!tn)
            return bad(ld, v, "column '%s' needs 'type'", name);
    }
    if ((rc = want_scalar(ld, tn, "column type")) < 0)
        return rc;
    spec_col_type type;
    if (spec_col_type_parse(sval(tn), &type) < 0)
        return bad(ld, tn, "unknown column type '%s' (expected varchar, bigint, double, "
                           "boolean or timestamp)", sval(tn));
    const char *field = NULL;
    if (fn) {
        if ((rc = want_scalar(ld, fn, "column field")) < 0)
            return rc;
        field = sval(fn);
        if (!*field || strlen(field) > SPEC_NAME_MAX)
            return bad(ld, fn, "column field must have 1..%d bytes", SPEC_NAME_MAX);
    }
    return add_column(ld, t, k, name, field, type, false);
}

static int parse_table(loader *ld, const yaml_node_t *n, spec_table *t)
{
    static const char *const keys[] = {"name",  "events",       "columns", "raw_event",
                                       "infer", "partition_by", NULL};
    int rc = want_map(ld, n, "a table", keys);
    if (rc < 0)
        return rc;
    t->line = line_of(n);
    yaml_node_t *name = map_get(ld, n, "name"), *events = map_get(ld, n, "events"),
                *cols = map_get(ld, n, "columns"), *raw = map_get(ld, n, "raw_event"),
                *infer = map_get(ld, n, "infer"), *part = map_get(ld, n, "partition_by");
    if (!name)
        return bad(ld, n, "table needs 'name'");
    if ((rc = dup_str(ld, name, "table name", &t->name)) < 0)
        return rc;
    if (!sql_ident_ok(t->name))
        return bad(ld, name, "table name '%s' must match [a-z_][a-z0-9_]{0,63}", t->name);
    if (!strcmp(t->name, "_rejected"))
        return bad(ld, name, "table name '_rejected' is reserved for events that fail");
    if (!events)
        return bad(ld, n, "table '%s' needs 'events' (event types or globs such as "
                          "\"purchase_*\")", t->name);
    if (events->type == YAML_SCALAR_NODE) {
        if (!(t->events = calloc(1, sizeof *t->events)))
            return oom(ld);
        t->nevents = 1;
        if ((rc = dup_str(ld, events, "events", &t->events[0])) < 0)
            return rc;
        if (!glob_ok(t->events[0]))
            return bad(ld, events, "'%s' is not an event type or glob", t->events[0]);
    } else {
        if ((rc = want_seq(ld, events, "events", SPEC_LIST_MAX)) < 0)
            return rc;
        size_t ne = seq_len(events);
        if (ne == 0)
            return bad(ld, events, "table '%s': events is empty", t->name);
        if (!(t->events = calloc(ne, sizeof *t->events)))
            return oom(ld);
        for (size_t i = 0; i < ne; i++) {
            yaml_node_t *e = seq_at(ld, events, i);
            t->nevents = i + 1;
            if ((rc = dup_str(ld, e, "an event type", &t->events[i])) < 0)
                return rc;
            if (!glob_ok(t->events[i]))
                return bad(ld, e, "'%s' is not an event type or glob", t->events[i]);
        }
    }
    if (raw && (rc = get_bool(ld, raw, "raw_event", &t->raw_event)) < 0)
        return rc;
    if (infer && (rc = get_bool(ld, infer, "infer", &t->infer)) < 0)
        return rc;

    size_t nown = 0;
    if (cols) {
        if ((rc = want_map(ld, cols, "columns", NULL)) < 0)
            return rc;
        nown = (size_t)(cols->data.mapping.pairs.top - cols->data.mapping.pairs.start);
        if (nown > SPEC_COLS_MAX)
            return bad(ld, cols, "a table has at most %d columns", SPEC_COLS_MAX);
    }
    if (!(t->cols = calloc(spec_ncommon_columns + nown, sizeof *t->cols)))
        return oom(ld);
    for (size_t i = 0; i < spec_ncommon_columns; i++)
        if ((rc = add_column(ld, t, NULL, spec_common_columns[i], NULL, common_types[i],
                             true)) < 0)
            return rc;
    for (size_t i = 0; i < nown; i++) {
        yaml_node_pair_t *p = &cols->data.mapping.pairs.start[i];
        if ((rc = parse_column(ld, t, node_at(ld, p->key), node_at(ld, p->value))) < 0)
            return rc;
    }
    if (part) {
        if ((rc = dup_str(ld, part, "partition_by", &t->partition_by)) < 0)
            return rc;
        size_t k = 0;
        while (k < t->ncols && strcmp(t->cols[k].name, t->partition_by))
            k++;
        if (k == t->ncols || t->cols[k].type != SPEC_COL_TIMESTAMP)
            return bad(ld, part, "table '%s': partition_by '%s' is not a timestamp column of "
                                 "the table", t->name, t->partition_by);
    }
    return 0;
}

/* ---- the document ---- */

static bool app_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

static bool same_method(const char *a, const char *b)
{
    return !a || !b || !strcmp(a, b);
}

static int parse_app(loader *ld, const yaml_node_t *root, spec_app *app)
{
    static const char *const keys[] = {"app", "description", "topic", "routes", "tables", NULL};
    int rc = want_map(ld, root, "the top level", keys);
    if (rc < 0)
        return rc;
    yaml_node_t *name = map_get(ld, root, "app"), *desc = map_get(ld, root, "description"),
                *topic = map_get(ld, root, "topic"), *routes = map_get(ld, root, "routes"),
                *tables = map_get(ld, root, "tables");
    if (!name)
        return bad(ld, root, "the spec needs 'app: <name>'");
    if ((rc = dup_str(ld, name, "app", &app->name)) < 0)
        return rc;
    if (!app_name_ok(app->name))
        return bad(ld, name, "app name '%s' must match [A-Za-z0-9_.-]{1,64}", app->name);
    if (desc && (rc = want_scalar(ld, desc, "description")) < 0)
        return rc;
    if (topic) {
        if ((rc = dup_str(ld, topic, "topic", &app->topic)) < 0)
            return rc;
        /* Kafka's topic rule, which the embedded log also uses for its directory name. */
        size_t tl = strlen(app->topic);
        bool ok = tl > 0 && tl <= 249 && strcmp(app->topic, ".") && strcmp(app->topic, "..");
        for (size_t i = 0; i < tl && ok; i++) {
            char c = app->topic[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        }
        if (!ok)
            return bad(ld, topic, "topic '%s' must match [A-Za-z0-9._-]{1,249}", app->topic);
    } else if (!(app->topic = strdup("events"))) {
        return oom(ld);
    }

    if (routes) {
        if ((rc = want_seq(ld, routes, "routes", SPEC_ROUTES_MAX)) < 0)
            return rc;
        size_t nr = seq_len(routes);
        if (nr && !(app->routes = calloc(nr, sizeof *app->routes)))
            return oom(ld);
        for (size_t i = 0; i < nr; i++) {
            yaml_node_t *rn = seq_at(ld, routes, i);
            spec_route *rt = &app->routes[i];
            app->nroutes = i + 1;
            if ((rc = parse_route(ld, rn, rt)) < 0)
                return rc;
            for (size_t j = 0; j < i; j++) {
                spec_route *o = &app->routes[j];
                if (!strcmp(o->path, rt->path) && same_method(o->method, rt->method))
                    return bad(ld, rn, "duplicate route %s %s (first at line %d)",
                               rt->method ? rt->method : "ANY", rt->path, o->line);
            }
        }
    }
    if (tables) {
        if ((rc = want_seq(ld, tables, "tables", SPEC_TABLES_MAX)) < 0)
            return rc;
        size_t nt = seq_len(tables);
        if (nt && !(app->tables = calloc(nt, sizeof *app->tables)))
            return oom(ld);
        for (size_t i = 0; i < nt; i++) {
            yaml_node_t *tn = seq_at(ld, tables, i);
            spec_table *t = &app->tables[i];
            app->ntables = i + 1;
            if ((rc = parse_table(ld, tn, t)) < 0)
                return rc;
            for (size_t j = 0; j < i; j++)
                if (!strcmp(app->tables[j].name, t->name))
                    return bad(ld, tn, "duplicate table '%s' (first at line %d)", t->name,
                               app->tables[j].line);
        }
    }
    if (!app->nroutes && !app->ntables)
        return bad(ld, root, "the spec has neither routes nor tables");
    return 0;
}

int spec_load_mem(const char *name, const char *buf, size_t len, spec_app **out, sl_err *err)
{
    *out = NULL;
    if (len > SPEC_FILE_MAX)
        return sl_err_set(err, -EINVAL, false, "%s:1: file is larger than %u bytes", name,
                          SPEC_FILE_MAX);
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    int rc = 0;
    spec_app *app = calloc(1, sizeof *app);
    if (!app || !(app->file = strdup(name))) {
        free(app);
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", name);
    }
    if (!yaml_parser_initialize(&parser)) {
        spec_free(app);
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", name);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    loader ld = {.file = name, .doc = &doc, .err = err};
    if (!yaml_parser_load(&parser, &doc)) {
        const char *ctx = parser.context ? parser.context : "";
        rc = sl_err_set(err, parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL,
                        parser.error == YAML_MEMORY_ERROR, "%s:%zu: YAML syntax error: %s%s%s",
                        name, parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "unknown problem", *ctx ? " " : "",
                        ctx);
        goto fail;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = sl_err_set(err, -EINVAL, false, "%s:1: the file is empty", name);
        goto fail;
    }
    if ((rc = parse_app(&ld, root, app)) < 0)
        goto fail;
    /* A second document in the same file is a mistake, not something to ignore. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        rc = sl_err_set(err, -EINVAL, false, "%s:%zu: YAML syntax error: %s", name,
                        parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "unknown problem");
        goto fail;
    }
    yaml_node_t *nroot = yaml_document_get_root_node(&next);
    int nline = nroot ? line_of(nroot) : 0;
    yaml_document_delete(&next);
    if (nroot) {
        rc = sl_err_set(err, -EINVAL, false, "%s:%d: a spec file holds one YAML document",
                        name, nline);
        goto fail;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    *out = app;
    return 0;
fail:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    spec_free(app);
    return rc;
}

int spec_load(const char *path, spec_app **out, sl_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_errno(err, errno, "%s", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return sl_err_errno(err, e, "%s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sl_err_set(err, -EINVAL, false, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SPEC_FILE_MAX) {
        close(fd);
        return sl_err_set(err, -EINVAL, false, "%s:1: file is larger than %u bytes", path,
                          SPEC_FILE_MAX);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return sl_err_set(err, -ENOMEM, true, "%s: out of memory", path);
    }
    /* Read until EOF (the file may change size under us; the cap still holds). */
    for (;;) {
        if (len == cap) {
            if (cap > SPEC_FILE_MAX) {
                free(buf);
                close(fd);
                return sl_err_set(err, -EINVAL, false, "%s:1: file is larger than %u bytes",
                                  path, SPEC_FILE_MAX);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return sl_err_set(err, -ENOMEM, true, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return sl_err_errno(err, e, "read %s", path);
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    int rc = spec_load_mem(path, buf, len, out, err);
    free(buf);
    return rc;
}
