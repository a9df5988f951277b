/* listener.h — a listening TCP socket served by an h2o event loop: bound with errors a
 * user can act on, accepting a burst per wake-up, and pausing (instead of spinning on a
 * listener that stays readable) while the process is out of file descriptors.
 * The collector has one per event loop (SO_REUSEPORT), the admin server one.
 *
 * Threading: bind on any thread; start, close and dispose on the loop's thread.
 */
#ifndef SLUICE_LISTENER_H
#define SLUICE_LISTENER_H

#include <h2o.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

typedef struct sl_listener sl_listener;
/* A new connection: hand it to h2o (h2o_accept) or a guard in front of it. */
typedef void (*sl_accept_cb)(sl_listener *l, h2o_socket_t *sock);

struct sl_listener {
    int           fd;      /* bound; -1 once closed */
    h2o_evloop_t *loop;
    h2o_socket_t *sock;    /* on the loop after start; NULL once closed */
    sl_accept_cb  on_conn;
    void         *data;    /* the owner's */
    h2o_timeout_t pause;   /* out of descriptors: stop accepting 100 ms at a time */
    h2o_timeout_entry_t pause_entry;
    bool          pause_ready;
};

enum {
    SL_LISTEN_REUSEPORT = 1, /* SO_REUSEPORT: several sockets (loops) share the port */
    SL_LISTEN_PROBE = 2,     /* with REUSEPORT: first make sure nobody else listens there */
};

/* Binds and listens on host:port. what names the listener in messages ("" or " (admin)").
 * 0, or a negative errno with err filled ("address already in use" said so). */
int sl_listener_bind(sl_listener *l, const char *host, uint16_t port, unsigned flags,
                     const char *what, sl_err *err);

/* Starts accepting on loop: on_conn is called for each new connection. */
void sl_listener_start(sl_listener *l, h2o_evloop_t *loop, sl_accept_cb on_conn, void *data);

/* Stops accepting and closes the socket; the kernel refuses new connections from then
 * on. Idempotent. */
void sl_listener_close(sl_listener *l);

/* Closes, and releases the pause timer; before the loop is destroyed. Idempotent, and
 * fine on a listener that was only bound, or not even that if its fd was set to -1. */
void sl_listener_dispose(sl_listener *l);

#endif
