/* sqlapi.c — POST /api/sql: one statement through the sandboxed engine, answered as JSON.
 *
 * The engine is the one `sluice sql` uses (query/engine.h): only SELECT / EXPLAIN /
 * show tables / describe, inside the warehouse, with the statement timeout. The answer:
 *   {"columns":["a","b"],"types":["VARCHAR","BIGINT"],"rows":[["x",1],...],
 *    "row_count":N,"truncated":false,"elapsed_ms":1.2}
 * Numbers stay JSON numbers when they are finite (HUGEINT and DECIMAL too: JSON has no
 * size limit; the browser may round above 2^53), NULL is null, everything else is text.
 * At most max_rows rows are sent; row_count is the full count and truncated says so.
 * Thread: the admin thread (it owns the engine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/parts.h"
#include "query/format.h"

/* A number's text is sent bare only when it is a JSON number (not nan, inf). */
static bool json_number_text(const char *v)
{
    const char *p = v[0] == '-' ? v + 1 : v;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    for (; *p; p++)
        if (!strchr("0123456789.eE+-", *p))
            return false;
    return true;
}

static const char *type_name(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    default: return "OTHER";
    }
}

int admin_sql_json(q_engine *e, const char *sql, uint64_t max_rows, sl_buf *b)
{
    duckdb_result res;
    double ms = 0;
    if (q_engine_query(e, sql, &res, &ms) != 0) {
        const char *msg = q_engine_error(e);
        if (!msg || !*msg)
            msg = "query failed";
        int rc = sl_buf_adds(b, "{\"error\":");
        rc = rc ? rc : admin_json_str(b, msg, strlen(msg));
        rc = rc ? rc : sl_buf_printf(b, ",\"elapsed_ms\":%.3f}", ms);
        return rc ? 500 : 400;
    }
    idx_t ncols = duckdb_column_count(&res);
    idx_t nrows = duckdb_row_count(&res);
    idx_t shown = max_rows && nrows > max_rows ? max_rows : nrows;
    int rc = sl_buf_adds(b, "{\"columns\":[");
    for (idx_t c = 0; c < ncols && !rc; c++) {
        const char *name = duckdb_column_name(&res, c);
        rc = c ? sl_buf_addc(b, ',') : 0;
        rc = rc ? rc : admin_json_str(b, name ? name : "", name ? strlen(name) : 0);
    }
    rc = rc ? rc : sl_buf_adds(b, "],\"types\":[");
    for (idx_t c = 0; c < ncols && !rc; c++)
        rc = sl_buf_printf(b, "%s\"%s\"", c ? "," : "", type_name(duckdb_column_type(&res, c)));
    rc = rc ? rc : sl_buf_adds(b, "],\"rows\":[");
    for (idx_t r = 0; r < shown && !rc; r++) {
        rc = sl_buf_adds(b, r ? ",[" : "[");
        for (idx_t c = 0; c < ncols && !rc; c++) {
            rc = c ? sl_buf_addc(b, ',') : 0;
            if (rc)
                break;
            if (duckdb_value_is_null(&res, c, r)) {
                rc = sl_buf_adds(b, "null");
                continue;
            }
            duckdb_type t = duckdb_column_type(&res, c);
            char *v = duckdb_value_varchar(&res, c, r);
            if (!v) {  /* nested values have no text form through this call */
                rc = sl_buf_adds(b, "\"?\"");
                continue;
            }
            if (t == DUCKDB_TYPE_BOOLEAN)
                rc = sl_buf_adds(b, !strcmp(v, "true") ? "true" : "false");
            else if (q_type_is_numeric(t) && json_number_text(v))
                rc = sl_buf_adds(b, v);
            else
                rc = admin_json_str(b, v, strlen(v));
            duckdb_free(v);
        }
        rc = rc ? rc : sl_buf_addc(b, ']');
    }
    rc = rc ? rc : sl_buf_printf(b, "],\"row_count\":%llu,\"truncated\":%s,\"elapsed_ms\":%.3f}",
                                 (unsigned long long)nrows, shown < nrows ? "true" : "false", ms);
    duckdb_destroy_result(&res);
    if (rc) {
        sl_buf_reset(b);
        sl_buf_adds(b, "{\"error\":\"result too large for the console; add a LIMIT\"}");
        return 413;
    }
    return 200;
}
