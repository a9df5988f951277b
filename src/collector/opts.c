/* opts.c — see opts.h. */
#include "collector/opts.h"

#include <errno.h>
#include <string.h>

int coll_opt_apply(int c, const char *arg, coll_auth *auth, bus_spec *bus, sl_err *err)
{
    switch (c) {
    case 'K':
        if (coll_auth_add_key(auth, arg, strlen(arg), err) < 0)
            break;
        return 1;
    case 'F':
        if (coll_auth_load_file(auth, arg, err) < 0)
            break;
        return 1;
    case 'O':
        if (coll_auth_set_token(auth, arg, err) < 0)
            break;
        return 1;
    case 'B':
        return bus_spec_parse(bus, arg, err) < 0 ? -EINVAL : 1;
    case 'k':
        return bus_spec_add_opt(bus, arg, err) < 0 ? -EINVAL : 1;
    case 'y':
        if (!*arg)
            return sl_err_set(err, -EINVAL, false, "--kafka-key: expected a field name");
        bus->key_field = arg;
        return 1;
    default:
        return 0;
    }
    /* an auth option was refused: name it, as the rest of the command line does */
    sl_err_prefix(err, "%s: ", c == 'K' ? "--write-key" : c == 'F' ? "--write-keys-file"
                                                                  : "--admin-token");
    return -EINVAL;
}
