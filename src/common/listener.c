/* listener.c — see listener.h. */
#include "common/listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SL_ACCEPT_BURST    16
#define SL_ACCEPT_PAUSE_MS 100

/* SO_REUSEPORT lets any process of the same user join a port, so a second server on a
 * busy port would silently share it. A probe bind without SO_REUSEPORT fails with
 * EADDRINUSE if anybody listens there already. */
static bool port_in_use(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool busy = bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno == EADDRINUSE;
    close(fd);
    return busy;
}

int sl_listener_bind(sl_listener *l, const char *host, uint16_t port, unsigned flags,
                     const char *what, sl_err *err)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0)
        return sl_err_set(err, -EINVAL, false, "cannot resolve listen address%s %s: %s", what,
                          host, gai_strerror(gai));
    int e = 0;
    if ((flags & SL_LISTEN_REUSEPORT) && (flags & SL_LISTEN_PROBE) && port_in_use(ai)) {
        e = EADDRINUSE;
        goto fail;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        e = errno;
        goto fail;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        ((flags & SL_LISTEN_REUSEPORT) &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        e = errno;
        close(fd);
        goto fail;
    }
    freeaddrinfo(ai);
    l->fd = fd;
    return 0;
fail:
    freeaddrinfo(ai);
    if (e == EADDRINUSE)
        return sl_err_set(err, -e, false, "cannot listen on %s:%u%s: address already in use",
                          host, port, what);
    return sl_err_errno(err, e, "cannot listen on %s:%u%s", host, port, what);
}

static void on_accept(h2o_socket_t *sock, const char *err)
{
    sl_listener *l = sock->data;
    if (err)
        return;
    /* a burst per wake-up: with SO_REUSEPORT the kernel spreads connections over loops */
    for (int i = 0; i < SL_ACCEPT_BURST; i++) {
        errno = 0;
        h2o_socket_t *conn = h2o_evloop_socket_accept(sock);
        if (!conn) {
            /* Out of file descriptors (a connection flood past ulimit -n): the pending
             * connection stays in the backlog, so the listener stays readable and the
             * loop would spin at 100% CPU. Stop reading it for a moment instead; idle
             * clients are cut by their timeouts and free descriptors meanwhile. */
            if ((errno == EMFILE || errno == ENFILE) && !h2o_timeout_is_linked(&l->pause_entry)) {
                h2o_socket_read_stop(sock);
                h2o_timeout_link(l->loop, &l->pause, &l->pause_entry);
            }
            break;
        }
        l->on_conn(l, conn);
    }
}

static void on_pause_end(h2o_timeout_entry_t *entry)
{
    sl_listener *l = H2O_STRUCT_FROM_MEMBER(sl_listener, pause_entry, entry);
    if (l->sock) /* gone once closed */
        h2o_socket_read_start(l->sock, on_accept);
}

void sl_listener_start(sl_listener *l, h2o_evloop_t *loop, sl_accept_cb on_conn, void *data)
{
    l->loop = loop;
    l->on_conn = on_conn;
    l->data = data;
    h2o_timeout_init(loop, &l->pause, SL_ACCEPT_PAUSE_MS);
    l->pause_entry.cb = on_pause_end;
    l->pause_ready = true;
    l->sock = h2o_evloop_socket_create(loop, l->fd, H2O_SOCKET_FLAG_DONT_READ);
    l->sock->data = l;
    h2o_socket_read_start(l->sock, on_accept);
}

void sl_listener_close(sl_listener *l)
{
    if (l->sock) { /* h2o owns the descriptor now */
        h2o_socket_read_stop(l->sock);
        h2o_socket_close(l->sock);
        l->sock = NULL;
    } else if (l->fd >= 0) {
        close(l->fd);
    }
    l->fd = -1;
}

void sl_listener_dispose(sl_listener *l)
{
    sl_listener_close(l);
    if (l->pause_ready) {
        if (h2o_timeout_is_linked(&l->pause_entry))
            h2o_timeout_unlink(&l->pause_entry);
        h2o_timeout_dispose(l->loop, &l->pause);
        l->pause_ready = false;
    }
}
