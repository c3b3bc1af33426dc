/*
 * sb_ssm.c - the SSM REST client (sb_ssm.h), over sb_http (libcurl), JSON with jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/base64.h"
#include "controller/singbox/sb_http.h"
#include "controller/singbox/sb_ssm.h"

#define SSM_TIMEOUT_MS 5000

void sb_ssm_users_release(struct sb_ssm_users *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].name);
		if (u->v[i].key) {
			memset(u->v[i].key, 0, strlen(u->v[i].key));
			free(u->v[i].key);
		}
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

int sb_ssm_key_check(const char *key, size_t key_bytes, struct atlas_err *err)
{
	unsigned char raw[64];
	long n;

	if (!key || !*key)
		return err_set(err, ERR_INVALID, "shadowsocks key is empty");
	n = base64_decode(key, strlen(key), raw, sizeof(raw));
	memset(raw, 0, sizeof(raw));
	if (n != (long)key_bytes)
		return err_set(err, ERR_INVALID,
			       "shadowsocks key is not the base64 of %zu bytes", key_bytes);
	return 0;
}

/* The URL of path under the inbound's prefix; name (may be NULL) escaped. */
static char *ssm_url(const char *addr, const char *prefix, const char *path, const char *name)
{
	char *esc = NULL, *url;

	if (name) {
		esc = sb_http_escape(name);
		url = xasprintf("http://%s%s/server/v1/%s/%s", addr, prefix ? prefix : "", path, esc);
		free(esc);
		return url;
	}
	return xasprintf("http://%s%s/server/v1/%s", addr, prefix ? prefix : "", path);
}

static int ssm_request(const char *method, const char *url, const char *body,
		       struct sb_http_resp *resp, struct atlas_err *err)
{
	const char *json_hdr[] = { "content-type: application/json", NULL };
	struct sb_http_req req = { .method = method, .url = url,
				   .headers = body ? json_hdr : NULL, .body = body,
				   .body_len = body ? strlen(body) : 0,
				   .timeout_ms = SSM_TIMEOUT_MS };

	if (sb_http(&req, resp, err) < 0)
		return err_wrap(err, "sing-box ssm-api");
	return 0;
}

/* First line of a refusal's text body, for the error message. */
static const char *why(const struct sb_http_resp *r, char *out, size_t len)
{
	const char *s = buf_str(&r->body);
	size_t n = strcspn(s, "\r\n");

	snprintf(out, len, "%.*s", (int)(n > 200 ? 200 : n), s);
	return out;
}

static int64_t int_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int get_users(const char *url, struct sb_ssm_users *out, struct atlas_err *err)
{
	struct sb_http_resp resp;
	json_error_t je;
	json_t *root = NULL, *users;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (ssm_request("GET", url, NULL, &resp, err) < 0) {
		sb_http_resp_release(&resp);
		return -1;
	}
	if (resp.status != 200) {
		err_set(err, ERR_IO, "sing-box ssm-api GET %s: HTTP status %ld", url, resp.status);
		goto out;
	}
	root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
	users = json_object_get(root, "users");
	if (!root || !(json_is_array(users) || json_is_null(users))) {
		err_set(err, ERR_IO, "sing-box ssm-api GET %s: not the expected JSON", url);
		goto out;
	}
	out->v = xcalloc(json_array_size(users) + 1, sizeof(*out->v));
	for (size_t i = 0; i < json_array_size(users); i++) {
		json_t *u = json_array_get(users, i);
		const char *name = json_string_value(json_object_get(u, "username"));
		const char *key = json_string_value(json_object_get(u, "uPSK"));
		struct sb_ssm_user *d;

		if (!name)
			continue;
		d = &out->v[out->n++];
		d->name = xstrdup(name);
		d->key = key && *key ? xstrdup(key) : NULL;
		d->uplink = int_of(u, "uplinkBytes");
		d->downlink = int_of(u, "downlinkBytes");
		d->tcp_sessions = int_of(u, "tcpSessions");
		d->udp_sessions = int_of(u, "udpSessions");
	}
	ret = 0;
out:
	json_decref(root);
	buf_release_secure(&resp.body);
	return ret;
}

int sb_ssm_list(const char *addr, const char *prefix, struct sb_ssm_users *out,
		struct atlas_err *err)
{
	char *url = ssm_url(addr, prefix, "users", NULL);
	int ret = get_users(url, out, err);

	free(url);
	return ret;
}

int sb_ssm_stats(const char *addr, const char *prefix, int clear, struct sb_ssm_users *out,
		 struct atlas_err *err)
{
	char *url = ssm_url(addr, prefix, clear ? "stats?clear=true" : "stats", NULL);
	int ret = get_users(url, out, err);

	free(url);
	return ret;
}

int sb_ssm_delete(const char *addr, const char *prefix, const char *name,
		  struct atlas_err *err)
{
	char *url = ssm_url(addr, prefix, "users", name);
	struct sb_http_resp resp;
	char msg[256];
	int ret = -1;

	if (ssm_request("DELETE", url, NULL, &resp, err) < 0)
		goto out;
	if (resp.status != 204 && resp.status != 404 && resp.status != 200) {
		err_set(err, ERR_IO, "sing-box ssm-api: delete user \"%s\": HTTP status %ld %s", name,
			resp.status, why(&resp, msg, sizeof(msg)));
		goto out;
	}
	ret = 0;
out:
	sb_http_resp_release(&resp);
	free(url);
	return ret;
}

/* POST or PUT of {"username","uPSK"}. */
static int put_user(const char *method, const char *addr, const char *prefix,
		    const char *name, const char *key, size_t key_bytes, struct atlas_err *err)
{
	int post = !strcmp(method, "POST");
	char *url = ssm_url(addr, prefix, "users", post ? NULL : name);
	json_t *o = post ? json_pack("{s:s, s:s}", "username", name, "uPSK", key)
			 : json_pack("{s:s}", "uPSK", key);
	char *body = NULL, msg[256];
	struct sb_http_resp resp = { .body = BUF_INIT };
	int ret = -1;

	if (sb_ssm_key_check(key, key_bytes, err) < 0) {
		err_wrap(err, "user \"%s\"", name);
		goto out;
	}
	body = json_dumps(o, JSON_COMPACT);
	if (ssm_request(method, url, body, &resp, err) < 0)
		goto out;
	if (resp.status != (post ? 201 : 204) && resp.status != 200) {
		err_set(err, ERR_IO, "sing-box ssm-api: %s user \"%s\": HTTP status %ld %s",
			post ? "add" : "update", name, resp.status, why(&resp, msg, sizeof(msg)));
		/* a refused add leaves a ghost that breaks every later add */
		if (resp.status == 400)
			sb_ssm_delete(addr, prefix, name, NULL);
		goto out;
	}
	ret = 0;
out:
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	json_decref(o);
	sb_http_resp_release(&resp);
	free(url);
	return ret;
}

int sb_ssm_add(const char *addr, const char *prefix, const char *name, const char *key,
	       size_t key_bytes, struct atlas_err *err)
{
	return put_user("POST", addr, prefix, name, key, key_bytes, err);
}

int sb_ssm_update(const char *addr, const char *prefix, const char *name, const char *key,
		  size_t key_bytes, struct atlas_err *err)
{
	return put_user("PUT", addr, prefix, name, key, key_bytes, err);
}
