/* opts.c — see opts.h. */
#include "collector/opts.h"

#include <errno.h>
#include <string.h>

#include "common/cli.h"

void coll_opts_init(coll_opts *o, coll_config *cfg, coll_auth *auth, bus_spec *bus)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->auth = auth;
    o->bus = bus;
    snprintf(o->host, sizeof o->host, "%s", cfg->host);
}

/* A size or count option within [lo, hi]. */
static int size_in(const char *arg, bool size, uint64_t lo, uint64_t hi, uint64_t *out)
{
    return size ? (cli_parse_size(arg, out) < 0 || *out < lo || *out > hi ? -1 : 0)
                : cli_parse_u64(arg, lo, hi, out);
}

static int auth_opt(coll_auth *auth, int c, const char *arg, sl_err *err)
{
    int rc = c == COLL_OPT_WRITE_KEY        ? coll_auth_add_key(auth, arg, strlen(arg), err)
             : c == COLL_OPT_WRITE_KEYS_FILE ? coll_auth_load_file(auth, arg, err)
                                             : coll_auth_set_token(auth, arg, err);
    if (rc >= 0)
        return 1;
    /* name the option, as the rest of the command line does */
    sl_err_prefix(err, "%s: ", c == COLL_OPT_WRITE_KEY        ? "--write-key"
                               : c == COLL_OPT_WRITE_KEYS_FILE ? "--write-keys-file"
                                                               : "--admin-token");
    return -EINVAL;
}

int coll_opt_apply(coll_opts *o, int c, const char *arg, sl_err *err)
{
    coll_config *cfg = o->cfg;
    uint64_t v;
    const char *bad = NULL; /* the expectation, for a refused value */
    switch (c) {
    case COLL_OPT_LISTEN:
        if (cli_parse_addr(arg, o->host, sizeof o->host, &cfg->port) < 0)
            return sl_err_set(err, -EINVAL, false, "--listen: expected HOST:PORT, got '%s'", arg);
        return 1;
    case COLL_OPT_THREADS:
        if (size_in(arg, false, 1, 256, &v) < 0)
            bad = "--threads: expected 1..256";
        else
            cfg->threads = (unsigned)v;
        break;
    case COLL_OPT_MAX_BODY:
        if (size_in(arg, true, 1, (uint64_t)1 << 30, &v) < 0)
            bad = "--max-body: expected a size up to 1GiB";
        else
            cfg->max_body = v;
        break;
    case COLL_OPT_MAX_EVENTS:
        if (size_in(arg, false, 1, 1000000, &v) < 0)
            bad = "--max-events: expected 1..1000000";
        else
            cfg->limits.max_events = (size_t)v;
        break;
    case COLL_OPT_MAX_EVENT_SIZE:
        if (size_in(arg, true, 64, (uint64_t)64 << 20, &v) < 0)
            bad = "--max-event-size: expected 64..64MiB";
        else
            cfg->limits.max_event_bytes = (size_t)v;
        break;
    case COLL_OPT_MAX_HEADERS:
        if (size_in(arg, false, 1, 100, &v) < 0)
            bad = "--max-headers: expected 1..100";
        else
            cfg->max_headers = (unsigned)v;
        break;
    case COLL_OPT_MAX_HEADER_SIZE:
        if (size_in(arg, true, 256, (uint64_t)256 << 10, &v) < 0)
            bad = "--max-header-size: expected 256..256KiB";
        else
            cfg->max_header_bytes = v;
        break;
    case COLL_OPT_TIMEOUT:
        if (cli_parse_duration_ms(arg, 1000, &v) < 0 || v == 0)
            bad = "--timeout: expected a duration like 10s";
        else
            cfg->timeout_ms = v;
        break;
    case COLL_OPT_ACCESS_LOG:
        o->access_path = arg;
        return 1;
    case COLL_OPT_CORS_ORIGIN:
        /* an origin is scheme://host[:port], exactly as a browser sends it */
        if (strcmp(arg, "*") != 0 &&
            (!(strncmp(arg, "http://", 7) == 0 || strncmp(arg, "https://", 8) == 0) ||
             strchr(strstr(arg, "//") + 2, '/') || strlen(arg) > 255))
            return sl_err_set(err, -EINVAL, false,
                              "--cors-origin: expected * or scheme://host[:port] (no path), "
                              "got '%s'", arg);
        if (cfg->ncors == COLL_MAX_CORS_ORIGINS)
            return sl_err_set(err, -EINVAL, false, "--cors-origin: at most %d origins",
                              COLL_MAX_CORS_ORIGINS);
        o->cors[cfg->ncors++] = arg;
        cfg->cors_origins = o->cors;
        return 1;
    case COLL_OPT_WRITE_KEY:
    case COLL_OPT_WRITE_KEYS_FILE:
    case COLL_OPT_ADMIN_TOKEN:
        return auth_opt(o->auth, c, arg, err);
    case COLL_OPT_BUS:
        return bus_spec_parse(o->bus, arg, err) < 0 ? -EINVAL : 1;
    case COLL_OPT_KAFKA_OPT:
        return bus_spec_add_opt(o->bus, arg, err) < 0 ? -EINVAL : 1;
    case COLL_OPT_KAFKA_KEY:
        if (!*arg)
            return sl_err_set(err, -EINVAL, false, "--kafka-key: expected a field name");
        o->bus->key_field = arg;
        return 1;
    default:
        return 0;
    }
    if (bad)
        return sl_err_set(err, -EINVAL, false, "%s, got '%s'", bad, arg);
    return 1;
}

int coll_opts_check(coll_opts *o, sl_err *err)
{
    /* --kafka-opt / --kafka-key on the embedded log would be ignored: refused */
    if (o->bus && bus_spec_check(o->bus, err) < 0)
        return -EINVAL;
    if (!coll_auth_host_is_loopback(o->host) && !coll_auth_has_token(o->auth))
        return sl_err_set(err, -EINVAL, false,
                          "--listen %s is beyond loopback: the collector's /metrics then needs "
                          "--admin-token (or SLUICE_ADMIN_TOKEN)", o->host);
    o->cfg->host = o->host;
    o->cfg->auth = o->auth;
    return 0;
}

int coll_opts_open_access_log(coll_opts *o, sl_err *err)
{
    if (!o->access_path)
        return 0;
    FILE *f = stdout;
    if (strcmp(o->access_path, "-") != 0 && !(f = fopen(o->access_path, "a")))
        return sl_err_errno(err, errno, "cannot open access log %s", o->access_path);
    setvbuf(f, NULL, _IOLBF, 0);
    o->cfg->access_log = f;
    return 0;
}

void coll_opts_close_access_log(coll_opts *o)
{
    FILE *f = o->cfg->access_log;
    if (f && f != stdout)
        fclose(f);
    o->cfg->access_log = NULL;
}
