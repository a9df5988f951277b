/* opts.h — the command-line options `sluice serve` and `sluice up` share for access
 * control and the bus, so that both commands accept and refuse them the same way.
 * Both commands map the options to the same getopt codes:
 *     --write-key 'K', --write-keys-file 'F', --admin-token 'O',
 *     --bus 'B', --kafka-opt 'k', --kafka-key 'y'
 */
#ifndef SLUICE_COLL_OPTS_H
#define SLUICE_COLL_OPTS_H

#include "bus/bus.h"
#include "collector/auth.h"
#include "common/err.h"

/* Applies option c with its argument. Returns 1 when c is one of the shared options and
 * was applied, 0 when c is not one of them, -EINVAL with err->msg ready for
 * cli_usage_error() when the argument is refused. */
int coll_opt_apply(int c, const char *arg, coll_auth *auth, bus_spec *bus, sl_err *err);

#endif
