/*
 * reply.c - what a handler reads of its request (query, headers, client
 * address, JSON body) and how it answers (JSON, an error, raw bytes), and
 * the suspension of a request that waits for the reconcile loop. It calls
 * nothing else of api/, so every handler and the server can use it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "api/api.h"

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

int req_query_flag(struct req *r, const char *key)
{
	const char *v = req_query(r, key);

	if (!v || !strcmp(v, "0") || !strcmp(v, "false"))
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		return 1;
	reply_error(r, 400, key, "%s must be 1 or 0", key);
	return -1;
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

int req_suspend(struct req *r)
{
	int stopping;

	pthread_mutex_lock(&r->app->async_mu);
	stopping = r->app->async_stopping;
	if (!stopping) {
		r->app->async_pending++;
		r->async_counted = 1; /* until req_free */
	}
	pthread_mutex_unlock(&r->app->async_mu);
	if (stopping) {
		reply_error(r, 503, NULL, "atlas is stopping: try again once it is back");
		return -1;
	}
	pthread_mutex_lock(&r->mu);
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/*
 * Once resumed, the request may be answered and freed by an HTTP thread at
 * any moment: nothing of r is touched after MHD_resume_connection (r->mu
 * was unlocked after it, and the free destroyed it under the unlock: an
 * abort or a crash of the loop thread about once in 300 quick POST /apply).
 */
void req_resume(struct req *r, json_t *result)
{
	void *conn = r->conn;
	int was;

	pthread_mutex_lock(&r->mu);
	r->async_result = result;
	r->async_done = 1;
	was = r->suspended;
	r->suspended = 0;
	pthread_mutex_unlock(&r->mu);
	if (was)
		MHD_resume_connection(conn);
}

int req_is_async(struct req *r)
{
	int v;

	pthread_mutex_lock(&r->mu);
	v = r->suspended || r->async_done;
	pthread_mutex_unlock(&r->mu);
	return v;
}

/* 1 when the If-None-Match value (may be NULL) names etag (quoted) or is "*". */
int etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = inm;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}
