/*
 * sb_http.c - one libcurl easy handle per request to sing-box's local
 * services (sb_http.h). Requests are rare (a status tick, an apply), so no
 * connection is kept between them.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "controller/singbox/sb_http.h"

#define BODY_CAP (64u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct xfer {
	const struct sb_http_req *req;
	struct sb_http_resp *resp;
	int complete;		/* grpc_first_message: one message is in */
	int overflow;
};

/* 1 when body holds one whole gRPC message: 1 flag byte, 4 length bytes, the message. */
static int grpc_message_complete(const struct buf *b)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t n;

	if (b->len < 5)
		return 0;
	n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	return b->len >= 5 + n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->resp->body.len + n > BODY_CAP) {
		x->overflow = 1;
		return 0;
	}
	buf_add(&x->resp->body, data, n);
	while (x->req->on_message && grpc_message_complete(&x->resp->body)) {
		const unsigned char *p = (const unsigned char *)x->resp->body.data;
		size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];

		if (p[0] || x->req->on_message(x->req->arg, p + 5, len) < 0) {
			x->complete = 1;
			return 0;
		}
		memmove(x->resp->body.data, x->resp->body.data + 5 + len,
			x->resp->body.len - 5 - len);
		x->resp->body.len -= 5 + len;
		x->resp->body.data[x->resp->body.len] = '\0';
	}
	if (x->req->grpc_first_message && grpc_message_complete(&x->resp->body)) {
		x->complete = 1;
		return 0; /* the rest of the stream is not wanted: abort the transfer */
	}
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct xfer *x = arg;

	(void)a, (void)b, (void)c, (void)d;
	if (x->req->keep_going && !x->req->keep_going(x->req->arg)) {
		x->complete = 1;
		return 1;
	}
	return 0;
}

/*
 * Sockets close on exec: the watcher thread's stream must not leak into a
 * sing-box that apply starts meanwhile (it would hold the stream open).
 */
static curl_socket_t open_cloexec(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Headers and trailers both arrive here: gRPC puts its status in either. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, k, v;

	for (k = 0; k < n && data[k] != ':'; k++)
		;
	if (k == n)
		return n;
	for (v = k + 1; v < n && data[v] == ' '; v++)
		;
	while (n > v && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	if (k == 11 && !strncasecmp(data, "grpc-status", 11)) {
		char tmp[16];

		snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - v), data + v);
		x->resp->grpc_status = isdigit((unsigned char)tmp[0]) ? atoi(tmp) : 2;
	} else if (k == 12 && !strncasecmp(data, "grpc-message", 12)) {
		snprintf(x->resp->grpc_message, sizeof(x->resp->grpc_message), "%.*s",
			 (int)(n - v), data + v);
	}
	return size * nmemb;
}

int sb_http(const struct sb_http_req *req, struct sb_http_resp *resp, struct atlas_err *err)
{
	struct xfer x = { req, resp, 0, 0 };
	struct curl_slist *hdrs = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode rc;
	int ret = -1;

	memset(resp, 0, sizeof(*resp));
	resp->grpc_status = -1;
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ok || !(c = curl_easy_init()))
		return err_set(err, ERR_INTERNAL, "libcurl cannot be initialised");
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	/* libcurl adds "Expect: 100-continue" to large posts: sing-box needs none */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	if (!req->on_message)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
				 (long)(req->timeout_ms > 0 ? req->timeout_ms : 5000));
	if (req->keep_going) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (req->h2c)
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	if (req->body || !strcmp(req->method, "POST") || !strcmp(req->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc != CURLE_OK &&
	    !((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) && x.complete)) {
		err_set(err, ERR_IO, "%s %s: %s", req->method, req->url,
			x.overflow ? "response too large" : ebuf[0] ? ebuf : curl_easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

void sb_http_resp_release(struct sb_http_resp *resp)
{
	if (!resp)
		return;
	buf_release(&resp->body);
	resp->status = 0;
}
