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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "api/api.h"
#include "api/tls.h"

#define API_THREADS	   2
#define CONNECTION_LIMIT   256
#define PER_IP_LIMIT	   64
#define CONNECTION_TIMEOUT 30
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
};

void reply_json(struct req *r, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	buf_reset(&r->out);
	if (s)
		buf_puts(&r->out, s);
	buf_putc(&r->out, '\n');
	free(s);
	json_decref(j);
	r->status = status;
	r->ctype = "application/json";
}

void reply_error(struct req *r, int status, const char *field, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(r, status, json_pack("{s:s, s:s*}", "error", msg, "field", field));
	if (!r->out.len || r->out.data[0] != '{') {
		/* msg was not UTF-8 (a bad byte quoted from input): say so plainly. */
		reply_json(r, status, json_pack("{s:s}", "error", "invalid input"));
	}
}

void reply_data(struct req *r, int status, const char *ctype, const void *data, size_t len)
{
	buf_reset(&r->out);
	buf_add(&r->out, data, len);
	r->status = status;
	r->ctype = ctype;
}

const char *req_query(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

const char *req_client_addr(struct req *r, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
	return buf;
}

json_t *req_json(struct req *r)
{
	json_error_t je;
	json_t *j;

	if (!r->body.len) {
		reply_error(r, 400, NULL, "a JSON object body is required");
		return NULL;
	}
	j = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		reply_error(r, 400, NULL, "malformed JSON at line %d column %d: %s", je.line,
			    je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, NULL, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

void req_suspend(struct req *r)
{
	pthread_mutex_lock(&r->mu);
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&r->mu);
}

void req_resume(struct req *r, json_t *result)
{
	pthread_mutex_lock(&r->mu);
	r->async_result = result;
	r->async_done = 1;
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->conn);
	}
	pthread_mutex_unlock(&r->mu);
}

static void req_free(struct req *r)
{
	if (!r)
		return;
	buf_release_secure(&r->body);
	buf_release(&r->out);
	json_decref(r->async_result);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result send_reply(struct req *r)
{
	struct MHD_Response *resp = r->resp;
	enum MHD_Result ret;

	if (!resp) {
		if (!r->status)
			reply_error(r, 500, NULL, "no answer");
		resp =
		    MHD_create_response_from_buffer(r->out.len, r->out.data, MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return MHD_NO;
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
	if (!(r->route->flags & R_NOAUTH) && auth_request(r, r->route->fn == h_events) < 0)
		return;
	if (r->too_big) {
		reply_error(r, 413, NULL, "request body larger than %zu bytes", r->body_max);
		return;
	}
	if ((r->route->flags & R_WRITE) && r->app->watch_file &&
	    !(r->route->fn == h_state_put && req_query(r, "dry_run") &&
	      strcmp(req_query(r, "dry_run"), "0"))) {
		reply_error(r, 409, NULL, "state is managed by %s", r->app->watch_file);
		return;
	}
	r->route->fn(r);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct app *a = cls;
	struct req *r = *con_cls;

	(void)version;
	if (!r) {
		const char *cl;
		int dummy = 0;
		char p[3][128];
		size_t np;
		const struct route *rt;

		r = xcalloc(1, sizeof(*r));
		pthread_mutex_init(&r->mu, NULL);
		r->app = a;
		r->conn = c;
		r->method = method;
		r->url = url;
		rt = router_match(method, url, p, &np, &dummy);
		r->body_max = rt && (rt->flags & R_BIG_BODY) ? API_STATE_BODY_MAX : API_BODY_MAX;
		*con_cls = r;
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
	dispatch(r);
	if (r->suspended && !r->status)
		return MHD_YES;
	return send_reply(r);
}

struct server *server_start(struct app *a, const char *listen, struct atlas_err *err)
{
	struct sockaddr_in6 sa6 = {0};
	struct sockaddr_in sa4 = {0};
	struct sockaddr *sa;
	struct server *s;
	char host[128];
	const char *colon = strrchr(listen, ':');
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME;
	long port;
	char *end;

	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host)) {
		err_set(err, ERR_INVALID, "listen address \"%s\" is not ADDR:PORT", listen);
		return NULL;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535) {
		err_set(err, ERR_INVALID, "listen address \"%s\": bad port", listen);
		return NULL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sa4;
	} else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		err_set(err, ERR_INVALID, "listen address \"%s\": \"%s\" is not an IP address",
			listen, host);
		return NULL;
	}
	/* HTTPS (api/tls.c) when a certificate is loaded: TLS 1.2+ only. */
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, a->tls ? tls_cert_callback(a->tls) : NULL},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
	    {MHD_OPTION_END, 0, NULL}};
	if (a->tls)
		flags |= MHD_USE_TLS;
	s = xcalloc(1, sizeof(*s));
	s->app = a;
	s->d = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, access_cb, a, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
	    completed, NULL, MHD_OPTION_ARRAY, a->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
	if (!s->d) {
		err_set(err, ERR_IO, "cannot listen on %s (in use, or not an address of this host)",
			listen);
		free(s);
		return NULL;
	}
	return s;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
