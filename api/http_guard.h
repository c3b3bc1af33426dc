/*
 * http_guard.h - checks of a request before it is routed, and the guard of
 * connections that have not finished sending a request (server.c uses it).
 * The checks are pure so the unit tests reach them without a socket.
 */
#ifndef ATLAS_HTTP_GUARD_H
#define ATLAS_HTTP_GUARD_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks the raw request target (before libmicrohttpd decodes it): every
 * "%" is followed by two hex digits; no byte, raw or decoded, is NUL or
 * another control character; in the path an encoded byte must be one a
 * name may hold anyway (A-Z a-z 0-9 . _ ~ -), so "%2F", "%00" and "%2E%2E"
 * style tricks never reach the router. Returns 0, or -1 with a reason in
 * msg.
 */
int http_uri_check(const char *raw, char *msg, size_t len);

/*
 * Checks the framing headers (RFC 9112 6.3): more than one Content-Length,
 * a Content-Length that is not only digits, or Content-Length together with
 * Transfer-Encoding is refused (request smuggling behind a proxy that
 * reads them differently). n_cl counts the Content-Length headers, cl is
 * the first (may be NULL), has_te says a Transfer-Encoding was sent.
 */
int http_framing_check(unsigned n_cl, const char *cl, int has_te, char *msg, size_t len);

/*
 * The connection guard. libmicrohttpd's timeout is idle time, so a client
 * sending a byte every few seconds held a connection for ever, and its
 * per-address limit counted every stream of every user behind one proxy.
 * The guard tracks each connection that has not yet sent a whole request
 * ("pending": accepted, or idle between keep-alive requests): its header
 * must be complete header_s seconds after it started, its body request_s
 * seconds after it started; pending connections are capped in total and per
 * address, and a new one beyond a cap ends the oldest pending one (a real
 * client sends its header within milliseconds; a slow one is the oldest).
 * Only connections still sending their header count for the caps (a sent
 * header leaves the count; the body has its deadline). The cap spares a
 * connection in its first GUARD_GRACE_MS milliseconds of waiting and one whose
 * whole header waits unread in its socket: under a burst (hundreds of
 * clients of one proxy, wrk, SSE streams opening) the server accepts faster
 * than it reads, and such a client is not slow. guard_expire() applies the
 * caps again every second, so a burst of slow clients is cut back once its
 * grace is over. Requests being served (SSE streams too) are not pending:
 * they are never cut and do not count, which keeps room for the clients
 * that got in.
 *
 * A connection is ended with shutdown() on a dup() of its socket, so the
 * number cannot be reused by another file while the guard holds it.
 */
/*
 * Times are in milliseconds of the monotonic clock: with whole seconds, a
 * connection that came at x.999 was "1 s old" a moment later, and a burst
 * that straddled a second lost connections whose request was still in
 * flight (wrk's 256 connections, opened at once, got read errors).
 */
#define GUARD_GRACE_MS 1000

struct guard_limits {
	unsigned pending_max;	   /* pending connections in total */
	unsigned per_addr_pending; /* pending connections of one address */
	unsigned header_s;	   /* start to end of header */
	unsigned request_s;	   /* start to end of body */
};

struct conn_guard;
struct guard_conn;

/* A new guard (no thread of its own: call guard_expire() every second). */
struct conn_guard *guard_new(const struct guard_limits *lim);
void guard_free(struct conn_guard *g);
/*
 * A new connection on fd from addr at now (monotonic milliseconds): pending.
 * May end the oldest pending connection (of addr, or of all). NULL when fd
 * cannot be duplicated (the connection is then not guarded).
 */
struct guard_conn *guard_open(struct conn_guard *g, int fd, const char *addr, int64_t now);
/*
 * The header is complete: the body deadline applies. -1 when the guard has
 * already ended the connection (its deadline or a cap came first, while the
 * server read the header): the request must not be served, since its client
 * gets no answer and may send it again.
 */
int guard_headers(struct conn_guard *g, struct guard_conn *c);
/* The request is being served: no longer pending. */
void guard_active(struct conn_guard *g, struct guard_conn *c);
/* The request is done, the connection kept alive: pending again from now. */
void guard_idle(struct conn_guard *g, struct guard_conn *c, int64_t now);
/* The connection closed: forgets it. Accepts NULL. */
void guard_close(struct conn_guard *g, struct guard_conn *c);
/*
 * Ends the pending connections past their deadline at now, and the oldest
 * of an address (or of all) above a cap; returns how many.
 */
size_t guard_expire(struct conn_guard *g, int64_t now);
/* Pending connections now (for /metrics and tests). */
size_t guard_pending(struct conn_guard *g);

#endif
