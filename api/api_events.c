/*
 * api_events.c - the hub of Server-Sent Events (/api/v1/events): the open
 * streams and the fan-out of each event to all of them. What the events
 * say is decided elsewhere (ticker.c, app.c, the loop's runs); the hub
 * calls nothing of api/ but reply.c.
 *
 * Each stream is an MHD response whose content reader drains a per-client
 * queue; with nothing queued it suspends its connection (no thread waits)
 * and events_publish() resumes it. A client that falls more than QUEUE_MAX
 * bytes behind is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/api.h"

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
	pthread_mutex_t mu;
	struct sse_client *clients;
	size_t n;
	int closed;	/* events_close: a stream opened after it ends at once */
};

struct events *events_new(void)
{
	struct events *e = xcalloc(1, sizeof(*e));

	pthread_mutex_init(&e->mu, NULL);
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
	int listening;

	if (!e)
		return;
	/* no stream open: no text (a first run's apply event holds 10,000 actions) */
	pthread_mutex_lock(&e->mu);
	listening = e->clients != NULL;
	pthread_mutex_unlock(&e->mu);
	if (!listening)
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
	pthread_mutex_unlock(&e->mu);
	buf_release(&c->q);
	free(c);
}

int events_subscribe(struct events *e, struct req *r, json_t *status)
{
	struct sse_client *c = xcalloc(1, sizeof(*c));
	struct MHD_Response *resp;
	char *s = status ? json_dumps(status, JSON_COMPACT) : NULL;

	c->hub = e;
	c->conn = r->conn;
	snprintf(c->user, sizeof(c->user), "%s", r->auth_user);
	c->epoch = r->auth_epoch;
	c->exp = r->auth_exp;
	buf_puts(&c->q, "retry: 3000\n\n");
	if (s)
		buf_printf(&c->q, "event: status\ndata: %s\n\n", s);
	free(s);
	resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, c, sse_free);
	if (!resp) {
		buf_release(&c->q);
		free(c);
		return -1;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&e->mu);
	c->closing = e->closed;
	c->next = e->clients;
	e->clients = c;
	e->n++;
	pthread_mutex_unlock(&e->mu);
	r->resp = resp;
	r->status = 200;
	return 0;
}

/* ---- streams whose token ended (issue 16.9) ---- */

void events_revalidate(struct events *e, int64_t (*epoch_of)(void *cls, const char *user), void *cls)
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
		cur[i] = epoch_of(cls, users[i]);
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

void events_close(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->closed = 1;
	for (struct sse_client *c = e->clients; c; c = c->next) {
		c->closing = 1;
		kick(c);
	}
	pthread_mutex_unlock(&e->mu);
}

void events_free(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->mu);
	free(e);
}
