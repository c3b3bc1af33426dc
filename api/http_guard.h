/*
 * http_guard.h - checks of a request before it is routed, and the guard of
 * connections that have not finished sending a request (server.c uses it).
 * The checks are pure so the unit tests reach them without a socket.
 */
#ifndef ATLAS_HTTP_GUARD_H
#define ATLAS_HTTP_GUARD_H

#include <stddef.h>
#include <time.h>

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

#endif
