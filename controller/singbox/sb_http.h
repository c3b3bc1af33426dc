/*
 * sb_http.h - the HTTP requests Atlas makes to sing-box's local services,
 * through libcurl: plain HTTP/1.1 for the SSM REST API, HTTP/2 with prior
 * knowledge (h2c) for the gRPC `api` service. Only to 127.0.0.1; no proxy
 * from the environment is ever used.
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

/*
 * Runs one request. Returns 0 when a response arrived (whatever its status:
 * read resp), -1 with ERR_IO when the connection or transfer failed. resp is
 * initialised here; free it with sb_http_resp_release(). Thread-safe.
 */
int sb_http(const struct sb_http_req *req, struct sb_http_resp *resp, struct atlas_err *err);

void sb_http_resp_release(struct sb_http_resp *resp);

#endif
