/*
 * http_guard.c - see http_guard.h.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"

#include "api/http_guard.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

int http_uri_check(const char *raw, char *msg, size_t len)
{
	int in_query = 0;

	for (const char *p = raw; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f) {
			snprintf(msg, len, "the request target holds a control character");
			return -1;
		}
		if (c == '?' && !in_query) {
			in_query = 1;
			continue;
		}
		if (c == '#') {
			snprintf(msg, len, "the request target holds a fragment");
			return -1;
		}
		if (c != '%')
			continue;
		if (hexval(p[1]) < 0 || hexval(p[2]) < 0) {
			snprintf(msg, len, "bad percent-encoding in the request target");
			return -1;
		}
		c = (unsigned char)(hexval(p[1]) * 16 + hexval(p[2]));
		if (c < 0x20 || c == 0x7f) {
			snprintf(msg, len, "the request target encodes the control byte %%%02X", c);
			return -1;
		}
		if (!in_query && !name_byte(c)) {
			snprintf(msg, len, "the path encodes the byte %%%02X, which no name holds", c);
			return -1;
		}
		p += 2;
	}
	return 0;
}

int http_framing_check(unsigned n_cl, const char *cl, int has_te, char *msg, size_t len)
{
	if (n_cl > 1) {
		snprintf(msg, len, "more than one Content-Length header");
		return -1;
	}
	if (n_cl && has_te) {
		snprintf(msg, len, "Content-Length together with Transfer-Encoding");
		return -1;
	}
	if (cl && (!*cl || strspn(cl, "0123456789") != strlen(cl))) {
		snprintf(msg, len, "Content-Length is not a number");
		return -1;
	}
	return 0;
}

enum { G_HEADER, G_BODY, G_ACTIVE, G_ENDED };

struct guard_conn {
	int fd; /* our dup of the socket */
	int state;
	int64_t since; /* ms: accepted, or idle since the last request */
	char addr[64];
	struct guard_conn *prev, *next;
};

struct conn_guard {
	pthread_mutex_t mu;
	struct guard_limits lim;
	struct guard_conn *head; /* every connection, newest first */
};

struct conn_guard *guard_new(const struct guard_limits *lim)
{
	struct conn_guard *g = xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->mu, NULL);
	g->lim = *lim;
	return g;
}

void guard_free(struct conn_guard *g)
{
	if (!g)
		return;
	while (g->head) {
		struct guard_conn *c = g->head;

		g->head = c->next;
		close(c->fd);
		free(c);
	}
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/*
 * Sending its header: what the caps count. A connection whose header is in
 * (G_BODY) is bounded by its request deadline instead, and one being
 * served is not pending at all.
 */
static int pending(const struct guard_conn *c)
{
	return c->state == G_HEADER;
}

/* Ends c (under g->mu): its reads and writes fail, libmicrohttpd closes it. */
static void end_conn(struct guard_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->state = G_ENDED;
}

/*
 * 1 when the end of a request header ("\r\n\r\n" or "\n\n") already waits in
 * the socket, unread: the client sent its header at once and only the server
 * has not got to it yet (a burst of connections under load). Such a
 * connection is not slow and is never the one a cap ends. A header larger
 * than the peek is treated as not ready.
 */
static int header_waiting(int fd)
{
	char b[8192];
	ssize_t n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);

	return n > 0 && (memmem(b, (size_t)n, "\r\n\r\n", 4) || memmem(b, (size_t)n, "\n\n", 2));
}

/*
 * May the cap end c at now? Not in its first GUARD_GRACE_MS of waiting (a
 * connection just accepted whose request is still in flight, or that the
 * server has read but not yet parsed; a kept-alive one between two
 * requests), and not when its whole header waits unread.
 */
static int may_end(const struct guard_conn *c, int64_t now)
{
	return now - c->since >= GUARD_GRACE_MS && !header_waiting(c->fd);
}

/*
 * Under g->mu: ends the oldest connections pending from addr (from any
 * address when NULL) that may be ended, until fewer than cap are left or
 * none may be ended; returns how many it ended.
 */
static size_t end_oldest_over(struct conn_guard *g, const char *addr, size_t cap, int64_t now)
{
	struct guard_conn *cand[512], *c;
	size_t n = 0, k, ended = 0;

	for (c = g->head; c; c = c->next)
		if (pending(c) && (!addr || !strcmp(c->addr, addr))) {
			if (n == sizeof(cand) / sizeof(cand[0]))
				memmove(cand, cand + 1, (n - 1) * sizeof(cand[0]));
			else
				n++;
			cand[n - 1] = c; /* the list is newest first: the oldest last */
		}
	for (k = n; k-- > 0 && n - ended >= cap;)
		if (may_end(cand[k], now)) {
			end_conn(cand[k]);
			ended++;
		}
	return ended;
}

struct guard_conn *guard_open(struct conn_guard *g, int fd, const char *addr, int64_t now)
{
	struct guard_conn *c;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dfd < 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->fd = dfd;
	c->since = now;
	c->state = G_HEADER;
	snprintf(c->addr, sizeof(c->addr), "%s", addr ? addr : "?");
	pthread_mutex_lock(&g->mu);
	end_oldest_over(g, c->addr, g->lim.per_addr_pending, now);
	end_oldest_over(g, NULL, g->lim.pending_max, now);
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

static void set_state(struct conn_guard *g, struct guard_conn *c, int state, int64_t since)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->state != G_ENDED) {
		c->state = state;
		if (since)
			c->since = since;
	}
	pthread_mutex_unlock(&g->mu);
}

int guard_headers(struct conn_guard *g, struct guard_conn *c)
{
	int ended;

	if (!c)
		return 0;
	pthread_mutex_lock(&g->mu);
	ended = c->state == G_ENDED;
	if (!ended)
		c->state = G_BODY;
	pthread_mutex_unlock(&g->mu);
	return ended ? -1 : 0;
}

void guard_active(struct conn_guard *g, struct guard_conn *c)
{
	set_state(g, c, G_ACTIVE, 0);
}

void guard_idle(struct conn_guard *g, struct guard_conn *c, int64_t now)
{
	set_state(g, c, G_HEADER, now);
}

void guard_close(struct conn_guard *g, struct guard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	close(c->fd);
	free(c);
}

size_t guard_expire(struct conn_guard *g, int64_t now)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (struct guard_conn *c = g->head; c; c = c->next) {
		int64_t age = now - c->since;

		if ((c->state == G_HEADER && age >= (int64_t)g->lim.header_s * 1000) ||
		    (c->state == G_BODY && age >= (int64_t)g->lim.request_s * 1000)) {
			end_conn(c);
			n++;
		}
	}
	/*
	 * The caps again, now that the grace of a burst may be over: an address
	 * above its cap (each address once, at its newest connection).
	 */
	for (struct guard_conn *c = g->head; c; c = c->next) {
		struct guard_conn *o = g->head;

		if (!pending(c))
			continue;
		while (o != c && !(pending(o) && !strcmp(o->addr, c->addr)))
			o = o->next;
		if (o == c)
			n += end_oldest_over(g, c->addr, (size_t)g->lim.per_addr_pending + 1, now);
	}
	n += end_oldest_over(g, NULL, (size_t)g->lim.pending_max + 1, now);
	pthread_mutex_unlock(&g->mu);
	return n;
}

size_t guard_pending(struct conn_guard *g)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (struct guard_conn *c = g->head; c; c = c->next)
		n += (size_t)pending(c);
	pthread_mutex_unlock(&g->mu);
	return n;
}
