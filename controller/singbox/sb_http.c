/*
 * sb_http.c - one libcurl easy handle per request to sing-box's local
 * services (sb_http.h). Requests are rare (a status tick, an apply), so no
 * connection is kept between them.
 *
 * libcurl is loaded with dlopen() on the first request, not linked: it pulls
 * in about twenty libraries (Kerberos, LDAP, SASL, libssh2, OpenSSL's libssl,
 * brotli, zstd...) whose pages every `atlas serve` would map and relocate at
 * start, although only a managed sing-box needs them (docs/performance.md).
 * A failed load is tried again on the next request, so installing the
 * library later needs no restart.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "controller/singbox/sb_http.h"

#define BODY_CAP (64u << 20)

/* The libcurl functions Atlas calls, resolved from the loaded library. */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} cu;

static pthread_mutex_t curl_lock = PTHREAD_MUTEX_INITIALIZER;
static int curl_loaded;

/* Fills cu from handle: 0, or -1 naming the first symbol that is missing. */
static int curl_resolve(void *h, struct atlas_err *err, const char *soname)
{
	static const char *const names[] = {
		"curl_global_init", "curl_easy_init", "curl_easy_setopt",
		"curl_easy_perform", "curl_easy_getinfo", "curl_easy_strerror",
		"curl_easy_cleanup", "curl_slist_append", "curl_slist_free_all",
	};
	void **slot[] = {
		(void **)&cu.global_init, (void **)&cu.easy_init, (void **)&cu.easy_setopt,
		(void **)&cu.easy_perform, (void **)&cu.easy_getinfo,
		(void **)&cu.easy_strerror, (void **)&cu.easy_cleanup,
		(void **)&cu.slist_append, (void **)&cu.slist_free_all,
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(*slot[i] = dlsym(h, names[i])))
			return err_set(err, ERR_UNSUPPORTED, "%s has no %s", soname, names[i]);
	return 0;
}

int sb_http_load(const char *soname, struct atlas_err *err)
{
	void *h;
	int ret = -1;

	pthread_mutex_lock(&curl_lock);
	if (curl_loaded) {
		ret = 0;
		goto out;
	}
	if (!(h = dlopen(soname, RTLD_NOW | RTLD_LOCAL))) {
		err_set(err, ERR_UNSUPPORTED,
			"%s cannot be loaded (%s): sing-box is managed through libcurl, "
			"install it (Debian: apt-get install libcurl4)", soname, dlerror());
		goto out;
	}
	/* not closed when it fails either: the next try's dlopen gives the same handle */
	if (curl_resolve(h, err, soname) < 0)
		goto out;
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(err, ERR_INTERNAL, "%s cannot be initialised", soname);
		goto out;
	}
	curl_loaded = 1; /* never unloaded: libcurl keeps global state */
	ret = 0;
out:
	pthread_mutex_unlock(&curl_lock);
	return ret;
}

char *sb_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
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
	if (sb_http_load(SB_HTTP_CURL_SONAME, err) < 0)
		return err_wrap(err, "%s %s", req->method, req->url);
	if (!(c = cu.easy_init()))
		return err_set(err, ERR_INTERNAL, "libcurl cannot make a handle");
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		hdrs = cu.slist_append(hdrs, req->headers[i]);
	/* libcurl adds "Expect: 100-continue" to large posts: sing-box needs none */
	hdrs = cu.slist_append(hdrs, "Expect:");
	cu.easy_setopt(c, CURLOPT_URL, req->url);
	cu.easy_setopt(c, CURLOPT_PROXY, "");
	cu.easy_setopt(c, CURLOPT_NOPROXY, "*");
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	if (!req->on_message)
		cu.easy_setopt(c, CURLOPT_TIMEOUT_MS,
				 (long)(req->timeout_ms > 0 ? req->timeout_ms : 5000));
	if (req->keep_going) {
		cu.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		cu.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cu.easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	}
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &x);
	cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (req->h2c)
		cu.easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	if (req->body || !strcmp(req->method, "POST") || !strcmp(req->method, "PUT")) {
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	rc = cu.easy_perform(c);
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc != CURLE_OK &&
	    !((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) && x.complete)) {
		err_set(err, ERR_IO, "%s %s: %s", req->method, req->url,
			x.overflow ? "response too large" : ebuf[0] ? ebuf : cu.easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	cu.slist_free_all(hdrs);
	cu.easy_cleanup(c);
	return ret;
}

void sb_http_resp_release(struct sb_http_resp *resp)
{
	if (!resp)
		return;
	buf_release(&resp->body);
	resp->status = 0;
}
