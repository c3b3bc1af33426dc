/*
 * sb_api.c - gRPC calls to sing-box's daemon.StartedService (sb_api.h).
 *
 * A gRPC call is an HTTP/2 POST to /SERVICE/METHOD with content-type
 * application/grpc; request and response messages are framed with one flag
 * byte (0: not compressed) and a 4-byte big-endian length. The status comes
 * in the grpc-status header or trailer. libcurl does the HTTP/2, protobuf-c
 * the messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/singbox/sb_api.h"
#include "controller/singbox/sb_api.pb-c.h"
#include "controller/singbox/sb_http.h"

#define SERVICE "daemon.StartedService"

void sb_conns_release(struct sb_conns *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct sb_conn *k = &c->v[i];

		free(k->id);
		free(k->inbound);
		free(k->inbound_type);
		free(k->user);
		free(k->network);
		free(k->source);
		free(k->destination);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static size_t frame_len(const struct sb_http_resp *resp)
{
	const unsigned char *p = (const unsigned char *)resp->body.data;

	return (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
}

/*
 * What one gRPC POST to METHOD sends: its URL, headers and the framed
 * message, set into req too (with the method and h2c).
 */
struct grpc_post {
	char *url, *auth;
	const char *headers[4];
	unsigned char *frame;
	size_t len;
};

static void grpc_post_init(struct grpc_post *g, struct sb_http_req *req, const char *addr,
			   const char *secret, const char *method, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	g->url = xasprintf("http://%s/" SERVICE "/%s", addr, method);
	g->auth = xasprintf("authorization: Bearer %s", secret ? secret : "");
	g->headers[0] = "content-type: application/grpc";
	g->headers[1] = "te: trailers";
	g->headers[2] = g->auth;
	g->headers[3] = NULL;
	g->len = 5 + n;
	g->frame = xmalloc(g->len);
	g->frame[0] = 0;
	g->frame[1] = (unsigned char)(n >> 24);
	g->frame[2] = (unsigned char)(n >> 16);
	g->frame[3] = (unsigned char)(n >> 8);
	g->frame[4] = (unsigned char)n;
	protobuf_c_message_pack(msg, g->frame + 5);
	req->method = "POST";
	req->url = g->url;
	req->headers = g->headers;
	req->body = g->frame;
	req->body_len = g->len;
	req->h2c = 1;
}

static void grpc_post_release(struct grpc_post *g)
{
	free(g->frame);
	free(g->url);
	free(g->auth);
}

/*
 * Calls METHOD with the packed message msg; on success resp->body holds the
 * first response frame (flag and length checked; payload at body + 5).
 */
static int grpc_call(const char *addr, const char *secret, const char *method,
		     const ProtobufCMessage *msg, int stream, int timeout_ms,
		     struct sb_http_resp *resp, struct atlas_err *err)
{
	struct sb_http_req req = { .timeout_ms = timeout_ms, .grpc_first_message = stream };
	struct grpc_post g;
	const unsigned char *p;
	int ret = -1;

	grpc_post_init(&g, &req, addr, secret, method, msg);
	if (sb_http(&req, resp, err) < 0) {
		err_wrap(err, "sing-box api %s", method);
		goto out;
	}
	if (resp->status != 200) {
		err_set(err, ERR_IO, "sing-box api %s: HTTP status %ld", method, resp->status);
		goto out;
	}
	if (resp->grpc_status > 0) {
		err_set(err, ERR_IO, "sing-box api %s: grpc-status %d%s%s", method,
			resp->grpc_status, resp->grpc_message[0] ? ": " : "", resp->grpc_message);
		goto out;
	}
	p = (const unsigned char *)resp->body.data;
	if (resp->body.len < 5) {
		err_set(err, ERR_IO, "sing-box api %s: no response message", method);
		goto out;
	}
	if (p[0] != 0 || resp->body.len < 5 + frame_len(resp)) {
		err_set(err, ERR_IO, "sing-box api %s: %s response frame", method,
			p[0] ? "compressed" : "truncated");
		goto out;
	}
	ret = 0;
out:
	grpc_post_release(&g);
	return ret;
}

/* grpc_call() with the first response message unpacked as desc; NULL on error (in err). */
static ProtobufCMessage *grpc_fetch(const char *addr, const char *secret, const char *method,
				    const ProtobufCMessage *msg, int stream, int timeout_ms,
				    const ProtobufCMessageDescriptor *desc, struct atlas_err *err)
{
	struct sb_http_resp resp;
	ProtobufCMessage *m = NULL;

	if (grpc_call(addr, secret, method, msg, stream, timeout_ms, &resp, err) == 0) {
		m = protobuf_c_message_unpack(desc, NULL, frame_len(&resp),
					      (const uint8_t *)resp.body.data + 5);
		if (!m)
			err_set(err, ERR_IO, "sing-box api %s: undecodable message", method);
	}
	sb_http_resp_release(&resp);
	return m;
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

/* The connections of the events of one stream message into out (initialised). */
static void events_to_conns(const AtlasSb__SbConnectionEvents *ev, int include_closed,
			    struct sb_conns *out)
{
	out->v = xcalloc(ev->n_events + 1, sizeof(*out->v));
	for (size_t i = 0; i < ev->n_events; i++) {
		const AtlasSb__SbConnection *c = ev->events[i]->connection;
		int64_t closed = c ? c->closed_at_ms : 0;
		struct sb_conn *k;

		if (!closed)
			closed = ev->events[i]->closed_at_ms;
		if (!closed && ev->events[i]->type == 2)
			closed = 1;
		/* the snapshot also lists recently closed connections */
		if (!c || (closed && !include_closed))
			continue;
		k = &out->v[out->n++];
		k->id = dup_or_empty(c->id && *c->id ? c->id : ev->events[i]->id);
		k->inbound = dup_or_empty(c->inbound);
		k->inbound_type = dup_or_empty(c->inbound_type);
		k->user = dup_or_empty(c->user);
		k->network = dup_or_empty(c->network);
		k->source = dup_or_empty(c->source);
		k->destination = dup_or_empty(c->destination);
		k->created_at_ms = c->created_at_ms;
		k->uplink = c->uplink_total;
		k->downlink = c->downlink_total;
		k->closed_at_ms = closed;
	}
}

int sb_api_connections(const char *addr, const char *secret, int include_closed,
		       int timeout_ms, struct sb_conns *out, struct atlas_err *err)
{
	AtlasSb__SbConnectionsRequest rq = ATLAS_SB__SB_CONNECTIONS_REQUEST__INIT;
	ProtobufCMessage *m;

	memset(out, 0, sizeof(*out));
	rq.interval_ns = 60LL * 1000000000LL; /* one snapshot is all Atlas reads */
	m = grpc_fetch(addr, secret, "SubscribeConnections", &rq.base, 1, timeout_ms,
		       &atlas_sb__sb_connection_events__descriptor, err);
	if (!m)
		return -1;
	events_to_conns((const AtlasSb__SbConnectionEvents *)m, include_closed, out);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

int sb_api_close(const char *addr, const char *secret, const char *id, int timeout_ms,
		 struct atlas_err *err)
{
	AtlasSb__SbCloseRequest rq = ATLAS_SB__SB_CLOSE_REQUEST__INIT;
	struct sb_http_resp resp;
	int ret;

	rq.id = (char *)id;
	ret = grpc_call(addr, secret, "CloseConnection", &rq.base, 0, timeout_ms, &resp, err);
	sb_http_resp_release(&resp);
	return ret;
}

int sb_api_started_at(const char *addr, const char *secret, int timeout_ms, int64_t *ms,
		      struct atlas_err *err)
{
	AtlasSb__SbNone rq = ATLAS_SB__SB_NONE__INIT;
	ProtobufCMessage *m;

	*ms = 0;
	m = grpc_fetch(addr, secret, "GetStartedAt", &rq.base, 0, timeout_ms,
		       &atlas_sb__sb_started_at__descriptor, err);
	if (!m)
		return -1;
	*ms = ((const AtlasSb__SbStartedAt *)m)->started_at_ms;
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

struct watch {
	int (*fn)(void *arg, const struct sb_conns *c);
	int (*keep_going)(void *arg);
	void *arg;
};

static int watch_message(void *arg, const unsigned char *msg, size_t len)
{
	struct watch *w = arg;
	AtlasSb__SbConnectionEvents *ev = atlas_sb__sb_connection_events__unpack(NULL, len, msg);
	struct sb_conns c = { 0 };
	int rc;

	if (!ev)
		return -1;
	events_to_conns(ev, 1, &c);
	atlas_sb__sb_connection_events__free_unpacked(ev, NULL);
	rc = c.n ? w->fn(w->arg, &c) : 0;
	sb_conns_release(&c);
	return rc;
}

static int watch_keep_going(void *arg)
{
	struct watch *w = arg;

	return w->keep_going(w->arg);
}

int sb_api_watch(const char *addr, const char *secret,
		 int (*fn)(void *arg, const struct sb_conns *c), int (*keep_going)(void *arg),
		 void *arg, struct atlas_err *err)
{
	AtlasSb__SbConnectionsRequest rq = ATLAS_SB__SB_CONNECTIONS_REQUEST__INIT;
	struct watch w = { fn, keep_going, arg };
	struct sb_http_req req = { .on_message = watch_message, .keep_going = watch_keep_going,
				   .arg = &w };
	struct grpc_post g;
	struct sb_http_resp resp;
	int ret = -1;

	/* only opened and closed connections matter here: rare traffic ticks */
	rq.interval_ns = 300LL * 1000000000LL;
	grpc_post_init(&g, &req, addr, secret, "SubscribeConnections", &rq.base);
	if (sb_http(&req, &resp, err) < 0)
		goto out;
	if (resp.status != 200 || resp.grpc_status > 0) {
		err_set(err, ERR_IO, "sing-box api SubscribeConnections: HTTP %ld, grpc-status %d",
			resp.status, resp.grpc_status);
		goto out;
	}
	ret = 0;
out:
	sb_http_resp_release(&resp);
	grpc_post_release(&g);
	return ret;
}
