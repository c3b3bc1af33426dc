/*
 * sb_http.h - the HTTP requests Atlas makes to sing-box's local services,
 * through libcurl: plain HTTP/1.1 for the SSM REST API, HTTP/2 with prior
 * knowledge (h2c) for the gRPC `api` service. Only to 127.0.0.1; no proxy
 * from the environment is ever used. libcurl is not linked: the first
 * request loads it (sb_http_load()).
 */
#ifndef ATLAS_SB_HTTP_H
#define ATLAS_SB_HTTP_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

struct sb_http_req {
	const char *method;		/* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated; may be NULL */
	const void *body;		/* may be NULL */
	size_t body_len;
	int h2c;			/* 1: HTTP/2 with prior knowledge (gRPC) */
	int timeout_ms;			/* 0: 5 s */
	/*
	 * 1: stop reading once one whole gRPC message (5-byte prefix and its
	 * length) has arrived: the first message of a server stream.
	 */
	int grpc_first_message;
	/*
	 * Streaming (timeout_ms is then ignored: no time limit): each whole gRPC
	 * message is handed to on_message (payload without its 5-byte prefix)
	 * and dropped from the body; returning -1 ends the transfer. keep_going
	 * is asked about once a second, also while nothing arrives; 0 ends it.
	 */
	int (*on_message)(void *arg, const unsigned char *msg, size_t len);
	int (*keep_going)(void *arg);
	void *arg;
};

struct sb_http_resp {
	long status;		/* HTTP status, 0 when none arrived */
	struct buf body;
	int grpc_status;	/* grpc-status from headers or trailers; -1: none seen */
	char grpc_message[256];
};

/* The library sb_http() loads: the soname of Debian's libcurl4 (any TLS flavour). */
#define SB_HTTP_CURL_SONAME "libcurl.so.4"

/*
 * Loads libcurl from soname (dlopen) and initialises it, once: after a
 * success, later calls return 0 at once whatever soname is; after a failure
 * the next call tries again. -1 with ERR_UNSUPPORTED naming the library when
 * it cannot be loaded or lacks a function. Thread-safe.
 */
int sb_http_load(const char *soname, struct atlas_err *err);

/*
 * s percent-encoded for one URL path segment: all but A-Z a-z 0-9 - . _ ~
 * become %XX. New string (free it); cannot fail.
 */
char *sb_http_escape(const char *s);

/*
 * Runs one request (loading libcurl first if need be: its errors are
 * sb_http_load()'s). Returns 0 when a response arrived (whatever its status:
 * read resp), -1 with ERR_IO when the connection or transfer failed. resp is
 * initialised here; free it with sb_http_resp_release(). Thread-safe.
 */
int sb_http(const struct sb_http_req *req, struct sb_http_resp *resp, struct atlas_err *err);

void sb_http_resp_release(struct sb_http_resp *resp);

#endif
