/* auth.h — access control of the collector and the admin server.
 *
 * Write keys (ingestion). Optional: with no key configured every client may send events.
 * With keys, every app route and POST /events needs one, sent the way Segment and
 * RudderStack clients send theirs:
 *     Authorization: Basic base64("<key>:")      the key as user name, password ignored
 *     Authorization: Bearer <key>
 * Anything else answers 401 with a JSON body and WWW-Authenticate. GET /healthz stays open
 * (load balancers probe it without credentials).
 *
 * Admin token (dashboard, SQL API, the collector's /metrics). Accepted as
 *     Authorization: Bearer <token>
 *     Authorization: Basic base64("<any user>:<token>")  (what a browser's login prompt
 *                                                         sends, so the dashboard works)
 * It is required when the admin server, or a collector whose /metrics it guards, listens
 * beyond loopback; the commands refuse to start otherwise. On the collector, /metrics
 * stays open to loopback peers (Prometheus on the same host, the dashboard of `sluice up`)
 * and asks for the token from any other peer.
 *
 * Key format: 8..256 printable ASCII characters, no space and no ':' (a Basic user name
 * cannot hold one). Keys file: one key a line; blank lines and lines starting with '#'
 * are ignored; leading and trailing blanks are trimmed. A bad line is reported as
 * "file:line: problem" without echoing the line (it may hold a secret).
 *
 * Comparison never touches a key's bytes: only SHA-256 digests are kept, the presented
 * secret is hashed and looked up among them (a binary search over the sorted digests, then
 * CRYPTO_memcmp), so timing reveals neither the position of a differing byte nor a key's
 * length, only how digests compare, which is useless without a SHA-256 preimage. No
 * function here logs, and no key is ever copied into an error message.
 *
 * Threading: build the set on one thread before the server starts; afterwards it is
 * read-only and any thread may call the check functions.
 */
#ifndef SLUICE_COLL_AUTH_H
#define SLUICE_COLL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

#define COLL_AUTH_KEY_MIN    8
#define COLL_AUTH_KEY_MAX    256
#define COLL_AUTH_TOKEN_MIN  16
#define COLL_AUTH_MAX_KEYS   100000
#define COLL_AUTH_FILE_MAX   ((size_t)16 << 20)

typedef struct coll_auth coll_auth;

/* An empty set (no write keys, no admin token). NULL on out of memory. */
coll_auth *coll_auth_create(void);
/* Frees the set; NULL is fine. Digests are wiped first. */
void coll_auth_destroy(coll_auth *a);

/* Adds one write key; -EINVAL (bad format; the message does not contain the key). */
int coll_auth_add_key(coll_auth *a, const char *key, size_t len, sl_err *err);
/* Adds every key of a keys file (format above); -EINVAL with "file:line: problem", or
 * the errno of open/read. */
int coll_auth_load_file(coll_auth *a, const char *path, sl_err *err);
/* Sets the admin token (16..256 characters, same alphabet as keys). */
int coll_auth_set_token(coll_auth *a, const char *token, sl_err *err);

size_t coll_auth_nkeys(const coll_auth *a);       /* 0 for NULL */
bool   coll_auth_has_token(const coll_auth *a);   /* false for NULL */

/* True if ingestion is allowed with this Authorization header value (hdr NULL: none):
 * always when no key is configured, else when it carries one of the keys. */
bool coll_auth_check_write(const coll_auth *a, const char *hdr, size_t len);
/* True if hdr carries the admin token; false when no token is configured. */
bool coll_auth_check_token(const coll_auth *a, const char *hdr, size_t len);

/* Loopback addresses: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, and the name "localhost".
 * Anything else (0.0.0.0, ::, other names) counts as beyond loopback. */
bool coll_auth_host_is_loopback(const char *host);
bool coll_auth_sockaddr_is_loopback(const struct sockaddr *sa, socklen_t len);

#endif
