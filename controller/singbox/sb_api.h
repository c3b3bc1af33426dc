/*
 * sb_api.h - a client of sing-box 1.14's `api` service: the gRPC service
 * daemon.StartedService over h2c on 127.0.0.1, authenticated with
 * "authorization: Bearer SECRET". Messages are encoded with protobuf-c from
 * sb_api.proto (generated at build time).
 *
 * addr is "127.0.0.1:PORT". Every call opens one connection and closes it.
 */
#ifndef ATLAS_SB_API_H
#define ATLAS_SB_API_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* One open connection as sing-box tracks it. */
struct sb_conn {
	char *id;		/* a UUID: what CloseConnection takes */
	char *inbound;		/* the inbound's tag */
	char *inbound_type;
	char *user;		/* the user's name; "" when the inbound has none */
	char *network;		/* "tcp", "udp" */
	char *source, *destination;
	int64_t created_at_ms;
	int64_t uplink, downlink;	/* bytes so far */
	int64_t closed_at_ms;		/* 0: open */
};

struct sb_conns {
	struct sb_conn *v;
	size_t n;
};

void sb_conns_release(struct sb_conns *c);

/*
 * The open connections (SubscribeConnections: the first message of the
 * stream, then the stream is dropped), and with include_closed also the
 * recently closed ones it lists (closed_at_ms set, final byte totals). out is
 * initialised here. Returns -1 with err when the service cannot be reached,
 * refuses the secret or answers garbage.
 */
int sb_api_connections(const char *addr, const char *secret, int include_closed,
		       int timeout_ms, struct sb_conns *out, struct atlas_err *err);

/* Closes one connection by id (an id already gone is no error). */
int sb_api_close(const char *addr, const char *secret, const char *id, int timeout_ms,
		 struct atlas_err *err);

/* When the running configuration started (unix ms): it changes on every reload. */
int sb_api_started_at(const char *addr, const char *secret, int timeout_ms, int64_t *ms,
		      struct atlas_err *err);

/*
 * Follows the connection stream until it ends (sing-box reloads or stops),
 * fn returns -1, or keep_going (asked about once a second) returns 0. fn
 * gets, for each message, the connections its events carry: the open ones
 * of the first message, then each new and each closed one (closed_at_ms
 * set, final byte totals). Returns 0 when the stream ended normally or was
 * stopped, -1 with err when it could not be followed.
 */
int sb_api_watch(const char *addr, const char *secret,
		 int (*fn)(void *arg, const struct sb_conns *c), int (*keep_going)(void *arg),
		 void *arg, struct atlas_err *err);

#endif
