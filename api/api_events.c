/*
 * api_events.c - Server-Sent Events at /api/v1/events, and the ticker
 * thread that feeds them.
 *
 * Each stream is an MHD response whose content reader drains a per-client
 * queue; with nothing queued it suspends its connection (no thread waits)
 * and events_publish() resumes it. The ticker thread asks the drivers for
 * live status every TICK_SECONDS (keeping app->live fresh for the API and
 * /metrics), and sends "status", "traffic", "connect" and "disconnect"
 * events. A client that falls more than QUEUE_MAX bytes behind is dropped.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "api/api.h"

#define TICK_SECONDS 3
#define QUEUE_MAX    (1u << 20)

struct sse_client {
	struct events *hub;
	struct MHD_Connection *conn;
	struct buf q;
	size_t qpos;
	int suspended;
	int closing;
	/* the token that opened the stream (issue 16.9: it ends when that token does) */
	char user[128];
	int64_t epoch, exp;
	struct sse_client *next;
};

struct events {
	struct app *app;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct sse_client *clients;
	size_t n;
	int stop;
	int tick_now; /* refresh at once (after an apply run) */
	int ticker_started;
	pthread_t ticker;
	json_t *connected; /* {"wireguard/wg0/alice": true, "openvpn/bob": true} */
};

struct events *events_new(struct app *a)
{
	struct events *e = xcalloc(1, sizeof(*e));

	e->app = a;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cond, NULL);
	return e;
}

size_t events_clients(struct events *e)
{
	size_t n;

	pthread_mutex_lock(&e->mu);
	n = e->n;
	pthread_mutex_unlock(&e->mu);
	return n;
}

/* Wakes a suspended stream; e->mu held. */
static void kick(struct sse_client *c)
{
	if (c->suspended) {
		c->suspended = 0;
		MHD_resume_connection(c->conn);
	}
}

void events_publish(struct events *e, const char *type, json_t *data)
{
	char *s;

	if (!e)
		return;
	s = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return;
	pthread_mutex_lock(&e->mu);
	for (struct sse_client *c = e->clients; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->q.len - c->qpos > QUEUE_MAX) {
			c->closing = 1; /* too slow: its reader ends the stream */
		} else {
			buf_printf(&c->q, "event: %s\ndata: %s\n\n", type, s);
		}
		kick(c);
	}
	pthread_mutex_unlock(&e->mu);
	free(s);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse_client *c = cls;
	struct events *e = c->hub;
	ssize_t n = 0;

	(void)pos;
	pthread_mutex_lock(&e->mu);
	if (c->closing) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (c->q.len > c->qpos) {
		size_t k = c->q.len - c->qpos;

		if (k > max)
			k = max;
		memcpy(out, c->q.data + c->qpos, k);
		c->qpos += k;
		if (c->qpos == c->q.len) {
			buf_reset(&c->q);
			c->qpos = 0;
		}
		n = (ssize_t)k;
	} else {
		/* Nothing to send: park the connection until events_publish(). */
		c->suspended = 1;
		MHD_suspend_connection(c->conn);
	}
	pthread_mutex_unlock(&e->mu);
	return n;
}

static void sse_free(void *cls)
{
	struct sse_client *c = cls, **pp;
	struct events *e = c->hub;

	pthread_mutex_lock(&e->mu);
	for (pp = &e->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			e->n--;
			break;
		}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	buf_release(&c->q);
	free(c);
}

void h_events(struct req *r)
{
	struct events *e = r->app->events;
	struct sse_client *c = xcalloc(1, sizeof(*c));
	struct MHD_Response *resp;

	c->hub = e;
	c->conn = r->conn;
	snprintf(c->user, sizeof(c->user), "%s", r->auth_user);
	c->epoch = r->auth_epoch;
	c->exp = r->auth_exp;
	/* The first event comes at once: the client need not wait a tick. */
	{
		json_t *st = api_status_object(r->app);
		char *s = st ? json_dumps(st, JSON_COMPACT) : NULL;

		buf_puts(&c->q, "retry: 3000\n\n");
		if (s)
			buf_printf(&c->q, "event: status\ndata: %s\n\n", s);
		free(s);
		json_decref(st);
	}
	resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, c, sse_free);
	if (!resp) {
		buf_release(&c->q);
		free(c);
		reply_error(r, 500, NULL, "cannot create the event stream");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&e->mu);
	c->next = e->clients;
	e->clients = c;
	e->n++;
	pthread_mutex_unlock(&e->mu);
	r->resp = resp;
	r->status = 200;
}

/* ---- streams whose token ended (issue 16.9) ---- */

void events_revalidate(struct events *e)
{
	char users[16][128];
	int64_t cur[16];
	size_t nu = 0;
	time_t now = time(NULL);

	if (!e)
		return;
	/* the users of the streams (few: the panel's administrators) */
	pthread_mutex_lock(&e->mu);
	for (struct sse_client *c = e->clients; c && nu < 16; c = c->next) {
		size_t i = 0;

		while (i < nu && strcmp(users[i], c->user))
			i++;
		if (i == nu && !c->closing)
			memcpy(users[nu++], c->user, sizeof(users[0]));
	}
	pthread_mutex_unlock(&e->mu);
	/* their current token epochs, read from the store without e->mu */
	for (size_t i = 0; i < nu; i++)
		cur[i] = auth_user_epoch(e->app, users[i]);
	pthread_mutex_lock(&e->mu);
	for (struct sse_client *c = e->clients; c; c = c->next) {
		size_t i = 0;
		int dead = now >= c->exp;

		while (i < nu && strcmp(users[i], c->user))
			i++;
		if (i < nu && (cur[i] < 0 || cur[i] != c->epoch))
			dead = 1;
		if (dead && !c->closing) {
			c->closing = 1;
			kick(c);
		}
	}
	pthread_mutex_unlock(&e->mu);
}

/* ---- the ticker ---- */

/*
 * The traffic event of st's peers and clients (when traffic is not NULL)
 * and the set of connected sessions ("wireguard/IF/PEER", "openvpn/NAME")
 * into now_conn. live_mu held.
 */
static void sessions(const struct atlas_state *st, const struct live_wg *lw, json_t *live,
		     json_t *now_conn, json_t **traffic)
{
	json_t *wg = traffic ? json_array() : NULL, *ov = traffic ? json_array() : NULL, *p;
	time_t now = time(NULL);
	size_t k;

	for (size_t i = 0; st && lw && i < st->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];
		const struct live_iface *li = live_wg_iface(lw, ifc->name);

		for (size_t q = 0; li && q < ifc->npeers; q++) {
			const struct live_peer *lp = live_wg_peer(li, ifc->peers[q].public_key);

			if (!lp)
				continue;
			if (wg)
				json_array_append_new(
				    wg,
				    json_pack("{s:s, s:s, s:I, s:I, s:I}", "interface", ifc->name,
					      "peer", ifc->peers[q].name, "rx_bytes",
					      (json_int_t)lp->rx, "tx_bytes", (json_int_t)lp->tx,
					      "latest_handshake", (json_int_t)lp->handshake));
			if (lp->handshake > 0 && now - lp->handshake < WG_CONNECTED_SECONDS) {
				char *key =
				    xasprintf("wireguard/%s/%s", ifc->name, ifc->peers[q].name);

				json_object_set_new(now_conn, key, json_true());
				free(key);
			}
		}
	}
	json_array_foreach(json_object_get(json_object_get(live, "openvpn"), "clients"), k, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		char *key;

		if (!name)
			continue;
		if (ov)
			json_array_append_new(
			    ov, json_pack("{s:s, s:I, s:I}", "client", name, "bytes_received",
					  json_integer_value(json_object_get(p, "bytes_received")),
					  "bytes_sent",
					  json_integer_value(json_object_get(p, "bytes_sent"))));
		key = xasprintf("openvpn/%s", name);
		json_object_set_new(now_conn, key, json_true());
		free(key);
	}
	if (traffic)
		*traffic = json_pack("{s:o, s:o}", "wireguard", wg, "openvpn", ov);
}

/*
 * Publishes connect/disconnect for the difference between e->connected and
 * now. The first tick after start is the baseline, not a burst of
 * "connect" events.
 */
static void connections(struct events *e, json_t *now)
{
	const char *key;
	json_t *v;

	if (e->connected) {
		json_object_foreach(now, key, v)
		{
			if (!json_object_get(e->connected, key)) {
				const char *slash = strchr(key, '/');
				json_t *ev = json_pack("{s:s%, s:s}", "engine", key,
						       (size_t)(slash - key), "name", slash + 1);

				events_publish(e, "connect", ev);
				json_decref(ev);
			}
		}
		json_object_foreach(e->connected, key, v)
		{
			if (!json_object_get(now, key)) {
				const char *slash = strchr(key, '/');
				json_t *ev = json_pack("{s:s%, s:s}", "engine", key,
						       (size_t)(slash - key), "name", slash + 1);

				events_publish(e, "disconnect", ev);
				json_decref(ev);
			}
		}
	}
	json_decref(e->connected);
	e->connected = json_incref(now);
}

/* One tick: live status from the drivers; events when someone listens. */
static void tick(struct events *e)
{
	struct app *a = e->app;
	struct atlas_err err = {0};
	const struct atlas_state *st;
	struct live_wg *lw = NULL, *oldw;
	json_t *live, *oldl;
	int64_t gen;

	st = app_state_acquire(a, &gen, &err);
	live = st ? loop_engine_status(a->loop, st) : json_object();
	if (st) {
		/* issue 16.10: an engine seen down is reconciled now, not at the next resync */
		char what[64];

		loop_engine_down(a->loop, loop_status_down(st, live, what, sizeof(what)) ? what
											 : NULL);
	}
	lw = live_wg_from_json(json_object_get(live, "wireguard"));
	json_object_del(live, "wireguard");
	{
		/* The OpenVPN driver lists "sessions": the API reads "clients". */
		json_t *ov = json_object_get(live, "openvpn");

		if (ov && !json_object_get(ov, "clients") && json_object_get(ov, "sessions"))
			json_object_set(ov, "clients", json_object_get(ov, "sessions"));
	}
	pthread_mutex_lock(&a->live_mu);
	oldl = a->live;
	oldw = a->live_wg;
	a->live = json_incref(live);
	a->live_wg = lw;
	pthread_mutex_unlock(&a->live_mu);
	json_decref(oldl);
	live_wg_free(oldw);
	{
		int listeners = events_clients(e) > 0;
		json_t *now_conn = json_object(), *tr = NULL, *status;

		/* Sessions are tracked at every tick, so a connect between ticks is seen. */
		pthread_mutex_lock(&a->live_mu);
		sessions(st, a->live_wg, live, now_conn, listeners ? &tr : NULL);
		pthread_mutex_unlock(&a->live_mu);
		connections(e, now_conn);
		if (st)
			app_state_put(a);
		st = NULL;
		if (listeners) {
			status = api_status_object(a);
			if (status)
				events_publish(e, "status", status);
			events_publish(e, "traffic", tr);
			json_decref(status);
			json_decref(tr);
		}
		json_decref(now_conn);
	}
	if (st)
		app_state_put(a);
	json_decref(live);
	/*
	 * The driver's answer and an apply's observation are big and short-lived
	 * (several MB with 10,000 peers): give the freed pages back to the
	 * system now rather than keep them as a high-water mark.
	 */
	malloc_trim(0);
}

static void *ticker_main(void *arg)
{
	struct events *e = arg;

	pthread_mutex_lock(&e->mu);
	while (!e->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&e->mu);
		tick(e);
		events_revalidate(e); /* issue 16.9: streams of void tokens end */
		pthread_mutex_lock(&e->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += TICK_SECONDS;
		while (!e->stop && !e->tick_now &&
		       pthread_cond_timedwait(&e->cond, &e->mu, &ts) == 0)
			;
		e->tick_now = 0;
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

void events_tick_now(struct events *e)
{
	pthread_mutex_lock(&e->mu);
	e->tick_now = 1;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
}

int events_start_ticker(struct events *e)
{
	if (pthread_create(&e->ticker, NULL, ticker_main, e) != 0)
		return -1;
	e->ticker_started = 1;
	return 0;
}

void events_close(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_cond_broadcast(&e->cond);
	for (struct sse_client *c = e->clients; c; c = c->next) {
		c->closing = 1;
		kick(c);
	}
	pthread_mutex_unlock(&e->mu);
	if (e->ticker_started)
		pthread_join(e->ticker, NULL);
	e->ticker_started = 0;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	json_decref(e->connected);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cond);
	free(e);
}
