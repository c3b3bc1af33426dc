/*
 * server.c - the libmicrohttpd server: one access handler that reads the
 * body (with a size limit), finds the route, checks the token, runs the
 * handler and turns its answer into a response.
 *
 * Threads: MHD's internal pool (API_THREADS workers, epoll), so a slow or
 * half-open client holds only its socket, never a thread: MHD reads and
 * writes without blocking and drops a connection idle for
 * CONNECTION_TIMEOUT seconds. Handlers that wait for the reconcile loop
 * (POST /apply) suspend their connection instead of blocking a worker.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "api/api.h"
#include "state/tokens.h"
#include "api/http_guard.h"
#include "api/tls.h"

#define API_THREADS	   2
/*
 * At most PENDING_MAX of the connections are still sending a request
 * (http_guard.h): the rest of CONNECTION_LIMIT stays for requests being
 * served and SSE streams, which no longer count per address (every user
 * behind a reverse proxy is one address). 512 holds 200 open panels (SSE)
 * next to 256 busy API clients (tests/e2e/t72-soak.sh); each costs two
 * descriptors (raise_fd_limit) and a libmicrohttpd memory pool.
 */
#define CONNECTION_LIMIT   512
#define PENDING_MAX	   128
#define PER_ADDR_PENDING   32
#define HEADER_SECONDS	   10
#define REQUEST_SECONDS	   120
#define CONNECTION_TIMEOUT 30
#define STOP_GRACE_MS	   2000
/*
 * The panel's pages: its own scripts, styles and API only; no inline script
 * or style; images also from blob: (the QR code) and data: (Tailwind's
 * form icons). Alpine.js evaluates its expressions, hence 'unsafe-eval'.
 */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; "                  \
	"img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "    \
	"frame-ancestors 'none'"

struct server {
	struct MHD_Daemon *d;
	struct app *app;
	struct conn_guard *guard;
	pthread_t reaper;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, reaper_started;
};

/* The guard's clock: monotonic milliseconds. */
static int64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The guard's entry of the connection, or NULL. */
static struct guard_conn *guard_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void req_free(struct req *r)
{
	if (!r)
		return;
	if (r->async_counted || r->inflight) {
		/* answered (or its client gone): the stop no longer waits for it */
		pthread_mutex_lock(&r->app->async_mu);
		r->app->async_pending -= r->async_counted;
		r->app->inflight -= r->inflight;
		r->app->served += (unsigned long)r->inflight;
		pthread_cond_broadcast(&r->app->async_cond);
		pthread_mutex_unlock(&r->app->async_mu);
	}
	buf_release_secure(&r->body);
	buf_release(&r->out);
	json_decref(r->async_result);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;

	(void)toe;
	/* kept alive, the connection waits for its next request: pending again */
	guard_idle(s->guard, guard_of(c), mono_now());
	req_free(*con_cls);
	*con_cls = NULL;
}

static void conn_cb(void *cls, struct MHD_Connection *c, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct req tmp = { .conn = c };
		char addr[64];

		req_client_addr(&tmp, addr, sizeof(addr));
		*socket_context = fd ? guard_open(s->guard, fd->connect_fd, addr, mono_now()) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		guard_close(s->guard, *socket_context);
		*socket_context = NULL;
	}
}

/* Ends the connections past their header or request deadline, every second. */
static void *reaper_main(void *arg)
{
	struct server *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		if (!s->stop) {
			size_t n = guard_expire(s->guard, mono_now());

			if (n)
				log_info("api: closed %zu connection%s that did not send a request in "
					 "time",
					 n, n == 1 ? "" : "s");
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static enum MHD_Result send_reply(struct req *r)
{
	struct MHD_Response *resp = r->resp;
	enum MHD_Result ret;

	if (!resp) {
		if (!r->status)
			reply_error(r, 500, NULL, "no answer");
		size_t len = r->out.len;
		char *body = buf_detach(&r->out);

		/* The answer's buffer goes to libmicrohttpd as it is: no copy. */
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(body);
			return MHD_NO;
		}
		if (r->ctype)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
		if (r->disposition[0])
			MHD_add_response_header(resp, "Content-Disposition", r->disposition);
		if (r->retry_after[0])
			MHD_add_response_header(resp, "Retry-After", r->retry_after);
		MHD_add_response_header(resp, "Cache-Control", r->cache ? r->cache : "no-store");
		if (r->encoding)
			MHD_add_response_header(resp, "Content-Encoding", r->encoding);
		if (r->vary)
			MHD_add_response_header(resp, "Vary", r->vary);
		if (r->etag[0])
			MHD_add_response_header(resp, "ETag", r->etag);
		if (r->ctype && !strncmp(r->ctype, "text/html", 9))
			MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	}
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	/* On every answer, streams (SSE) included. */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	/* The panel is never framed by another site (clickjacking). */
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	/* Over HTTPS, browsers are told to never use plain HTTP here again. */
	if (r->app->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->resp = NULL;
	return ret;
}

static void dispatch(struct req *r)
{
	int path_known = 0;

	r->route = router_match(r->method, r->url, r->params, &r->nparams, &path_known);
	if (!r->route) {
		if (!strncmp(r->url, "/api/", 5) || !strcmp(r->url, "/metrics")) {
			if (path_known)
				reply_error(r, 405, NULL, "method %s not allowed on %s", r->method,
					    r->url);
			else
				reply_error(r, 404, NULL, "no such endpoint");
			return;
		}
		if ((!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) && static_serve(r))
			return;
		reply_data(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
		return;
	}
	if (!(r->route->flags & R_NOAUTH) && auth_request(r, !!(r->route->flags & R_QUERY_TOKEN)) < 0)
		return;
	/* an API token's scope against the route's row of api_route_scopes */
	if (!(r->route->flags & R_NOAUTH) && r->auth_scope < router_scope(r->route)) {
		reply_error(r, 403, NULL, "%s has scope %s; %s %s needs %s", r->auth_user,
			    token_scope_name(r->auth_scope), r->method, r->route->pattern,
			    router_scope(r->route) == SCOPE_SESSION
				? "the administrator's panel login"
				: token_scope_name(router_scope(r->route)));
		return;
	}
	if (r->too_big) {
		reply_error(r, 413, NULL, "request body larger than %zu bytes", r->body_max);
		return;
	}
	if ((r->route->flags & R_WRITE) && r->app->watch_file) {
		/* only a dry run (as its handler reads the flag) stores nothing */
		int dry = (r->route->flags & R_DRY_RUN) ? req_query_flag(r, "dry_run") : 0;

		if (dry < 0)
			return; /* 400 sent */
		if (!dry) {
			reply_error(r, 409, NULL, "state is managed by %s", r->app->watch_file);
			return;
		}
	}
	r->route->fn(r);
}

static struct req *req_new(struct app *a, struct MHD_Connection *c)
{
	struct req *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	r->app = a;
	r->conn = c;
	return r;
}

/*
 * Called with the raw request target, before libmicrohttpd decodes it (a
 * decoded "%00" would cut the path short): the request starts here, and a
 * bad target is remembered to be refused before routing.
 */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server *s = cls;
	struct req *r = req_new(s->app, c);

	if (http_uri_check(uri, r->reject, sizeof(r->reject)) == 0)
		r->reject[0] = '\0';
	return r;
}

struct header_count {
	unsigned n_cl;
	const char *cl;
	int te;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_count *h = cls;

	(void)kind;
	if (!strcasecmp(key, "Content-Length")) {
		if (!h->n_cl++)
			h->cl = value;
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		h->te = 1;
	}
	return MHD_YES;
}

/* 400 and close for a bad target or ambiguous framing; 0 when the request may go on. */
static int refuse_early(struct req *r)
{
	struct header_count h = { 0 };

	if (!r->reject[0]) {
		MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &h);
		if (http_framing_check(h.n_cl, h.cl, h.te, r->reject, sizeof(r->reject)) == 0)
			r->reject[0] = '\0';
	}
	if (!r->reject[0])
		return 0;
	reply_error(r, 400, NULL, "%s", r->reject);
	/* whatever follows on this connection is not trusted to be a request */
	r->close = 1;
	return -1;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct app *a = s->app;
	struct req *r = *con_cls;

	(void)version;
	if (!r || !r->started) {
		const char *cl;
		int dummy = 0;
		char p[3][128];
		size_t np;
		const struct route *rt;

		if (!r)
			r = req_new(a, c);
		r->started = 1;
		pthread_mutex_lock(&a->async_mu);
		a->inflight++;
		r->inflight = 1;
		pthread_mutex_unlock(&a->async_mu);
		r->method = method;
		r->url = url;
		*con_cls = r;
		/* ended by the guard as its header came in: not served (no one hears the answer) */
		if (guard_headers(s->guard, guard_of(c)) < 0)
			return MHD_NO;
		if (refuse_early(r) < 0)
			return send_reply(r);
		rt = router_match(method, url, p, &np, &dummy);
		r->body_max = rt && (rt->flags & R_BIG_BODY) ? API_STATE_BODY_MAX : API_BODY_MAX;
		/* A declared length over the limit is refused before reading it. */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > r->body_max) {
			r->too_big = 1;
			reply_error(r, 413, NULL, "request body larger than %zu bytes",
				    r->body_max);
			return send_reply(r);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && r->body.len + *upload_size <= r->body_max)
			buf_add(&r->body, upload, *upload_size);
		else
			r->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->async_done) {
		reply_json(r, 200, json_incref(r->async_result));
		return send_reply(r);
	}
	if (r->suspended)
		return MHD_YES;
	if (r->status) /* answered already (413 at the headers) */
		return MHD_YES;
	/* the whole request is in: served now, never cut by the guard */
	guard_active(s->guard, guard_of(c));
	dispatch(r);
	/*
	 * Gone asynchronous: the answer is sent by the call after the resume.
	 * The loop may have answered already (req_resume before dispatch came
	 * back: a quick POST /apply): then the request is no longer suspended,
	 * but its answer is not ours to send here either.
	 */
	if (req_is_async(r) && !r->status)
		return MHD_YES;
	return send_reply(r);
}

/* Each connection holds two descriptors (its socket and the guard's dup). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int server_parse_listen(const char *listen, struct server_addr *out, struct atlas_err *err)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
		return err_set(err, ERR_INVALID, "listen address \"%s\" is not ADDR:PORT", listen);
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return err_set(err, ERR_INVALID, "listen address \"%s\": bad port", listen);
	out->port = (uint16_t)port;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (inet_pton(AF_INET, host, &out->sa4.sin_addr) == 1) {
		out->sa4.sin_family = AF_INET;
		out->sa4.sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &out->sa6.sin6_addr) == 1) {
		out->sa6.sin6_family = AF_INET6;
		out->sa6.sin6_port = htons((uint16_t)port);
		out->v6 = 1;
		return 0;
	}
	return err_set(err, ERR_INVALID, "listen address \"%s\": \"%s\" is not an IP address",
		       listen, host);
}

struct server *server_start(struct app *a, const char *listen, struct atlas_err *err)
{
	struct server_addr addr;
	struct sockaddr *sa;
	struct server *s;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME;

	if (server_parse_listen(listen, &addr, err) < 0)
		return NULL;
	sa = addr.v6 ? (struct sockaddr *)&addr.sa6 : (struct sockaddr *)&addr.sa4;
	if (addr.v6)
		flags |= MHD_USE_IPv6;
	/* HTTPS (api/tls.c) when a certificate is loaded: TLS 1.2+ only. */
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, a->tls ? tls_cert_callback(a->tls) : NULL},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
	    {MHD_OPTION_END, 0, NULL}};
	if (a->tls)
		flags |= MHD_USE_TLS;
	s = xcalloc(1, sizeof(*s));
	s->app = a;
	{
		struct guard_limits lim = { PENDING_MAX, PER_ADDR_PENDING, HEADER_SECONDS,
					    REQUEST_SECONDS };

		s->guard = guard_new(&lim);
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	raise_fd_limit();
	s->d = MHD_start_daemon(
	    flags, addr.port, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
	    completed, s, MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_CONNECTION,
	    conn_cb, s, MHD_OPTION_ARRAY, a->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
	if (!s->d) {
		err_set(err, ERR_IO, "cannot listen on %s (in use, or not an address of this host)",
			listen);
		server_stop(s);
		return NULL;
	}
	if (pthread_create(&s->reaper, NULL, reaper_main, s) == 0)
		s->reaper_started = 1;
	return s;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	/*
	 * libmicrohttpd aborts when stopped with a connection suspended: a new
	 * POST /apply is answered 503, the ones queued in the loop are answered
	 * at once without a run, and the stop waits until the one the loop runs
	 * now has sent its answer. New connections are still accepted meanwhile
	 * (and answered): only what arrives as the daemon stops is cut.
	 */
	pthread_mutex_lock(&s->app->async_mu);
	s->app->async_stopping = 1;
	pthread_mutex_unlock(&s->app->async_mu);
	loop_cancel_requests(s->app->loop);
	pthread_mutex_lock(&s->app->async_mu);
	while (s->app->async_pending > 0)
		pthread_cond_wait(&s->app->async_cond, &s->app->async_mu);
	/* the other requests being served finish too, for STOP_GRACE_MS at most */
	{
		struct timespec ts = clock_deadline(CLOCK_MONOTONIC, STOP_GRACE_MS);

		while (s->app->inflight > 0 &&
		       pthread_cond_timedwait(&s->app->async_cond, &s->app->async_mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&s->app->async_mu);
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->reaper_started)
		pthread_join(s->reaper, NULL);
	if (s->d)
		MHD_stop_daemon(s->d);
	guard_free(s->guard);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
