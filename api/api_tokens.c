/*
 * api_tokens.c - scoped API tokens (check, create, list, revoke) and the
 * administrator's TOTP enrolment, confirmation and removal.
 *
 * A request with "Authorization: Bearer atlas_..." is checked by
 * api_auth.c against the stored hashes; its scope then decides, by the
 * route's scope in api_routes (router.c), whether dispatch() lets it in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "lib/log.h"
#include "renderers/wireguard/wg_render.h"
#include "state/auth.h"
#include "state/tokens.h"
#include "state/totp_store.h"
#include "api/api.h"

static json_t *token_json(const struct token_info *t)
{
	/* expired: refused from now on, listed until revoked */
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "name", t->name, "scope",
			 token_scope_name(t->scope), "created_at", (json_int_t)t->created_at,
			 "expires_at", (json_int_t)t->expires_at, "last_used_at",
			 (json_int_t)t->last_used_at, "expired",
			 t->expires_at && t->expires_at <= (int64_t)time(NULL));
}

void h_tokens_list(struct req *r)
{
	struct atlas_err err = {0};
	struct token_info *v;
	size_t n;
	json_t *arr;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = token_list(r->app->store, &v, &n, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, 500, NULL, "%s", err.msg);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, token_json(&v[i]));
	free(v);
	reply_json(r, 200, json_pack("{s:o}", "tokens", arr));
}

void h_tokens_create(struct req *r)
{
	struct atlas_err err = {0};
	json_t *body = req_json(r), *jexp;
	const char *name, *scope, *expires = NULL;
	char token[TOKEN_LEN + 1];
	int64_t now = time(NULL), life = 0, expires_at = 0;
	enum token_scope sc;
	int rc;

	if (!body)
		return;
	name = json_string_value(json_object_get(body, "name"));
	scope = json_string_value(json_object_get(body, "scope"));
	jexp = json_object_get(body, "expires");
	if (jexp)
		expires = json_string_value(jexp);
	if (!name || !scope || (jexp && !expires) ||
	    json_object_size(body) != 2 + (jexp != NULL)) {
		reply_error(r, 400, NULL,
			    "the body must be {\"name\": string, \"scope\": \"read\"|\"operator\"|"
			    "\"admin\"[, \"expires\": \"90d\"|\"never\"]}");
		goto out;
	}
	if (token_check_name(name, &err) < 0) {
		reply_error(r, 422, "name", "%s", err.msg);
		goto out;
	}
	sc = token_scope_parse(scope);
	if (!sc) {
		reply_error(r, 422, "scope", "scope \"%.40s\" is not read, operator or admin", scope);
		goto out;
	}
	if (expires && (life = token_parse_duration(expires, &err)) < 0) {
		reply_error(r, 422, "expires", "%s", err.msg);
		goto out;
	}
	if (life)
		expires_at = now + life;
	pthread_mutex_lock(&r->app->store_mu);
	rc = token_create(r->app->store, name, sc, expires_at, now, token, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r,
			    err.code == ERR_CONFLICT  ? 409
			    : err.code == ERR_INVALID ? 422
						      : 500,
			    "name", "%s", err.msg);
		goto out;
	}
	log_info("api: %s created API token \"%s\" (scope %s)", r->auth_user, name, scope);
	reply_json(r, 201,
		   json_pack("{s:s, s:s, s:s, s:I}", "name", name, "scope", scope, "token", token,
			     "expires_at", (json_int_t)expires_at));
	OPENSSL_cleanse(token, sizeof(token));
out:
	json_decref(body);
}

void h_tokens_revoke(struct req *r)
{
	struct atlas_err err = {0};
	int rc;

	if (token_check_name(r->params[0], &err) < 0) {
		reply_error(r, 404, NULL, "no such token: invalid name");
		return;
	}
	pthread_mutex_lock(&r->app->store_mu);
	rc = token_revoke(r->app->store, r->params[0], &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, err.code == ERR_NOTFOUND ? 404 : 500, NULL, "%s", err.msg);
		return;
	}
	log_info("api: %s revoked API token \"%s\"", r->auth_user, r->params[0]);
	auth_revalidate_streams(r->app); /* its event streams end now */
	reply_data(r, 204, NULL, "", 0);
}

void h_totp_get(struct req *r)
{
	struct atlas_err err = {0};
	struct totp_status st;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = totp_get_status(r->app->store, r->auth_user, &st, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, err.code == ERR_NOTFOUND ? 404 : 500, NULL, "%s", err.msg);
		return;
	}
	reply_json(r, 200,
		   json_pack("{s:b, s:b, s:i}", "enabled", st.enabled, "pending", st.pending,
			     "recovery_codes_left", st.recovery_left));
}

void h_totp_enroll(struct req *r)
{
	struct atlas_err err = {0};
	struct buf secret = BUF_INIT, svg = BUF_INIT;
	char *uri = NULL;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = totp_enroll_begin(r->app->store, r->auth_user, &secret, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r,
			    err.code == ERR_CONFLICT   ? 409
			    : err.code == ERR_NOTFOUND ? 404
						       : 500,
			    NULL, "%s", err.msg);
		goto out;
	}
	uri = totp_uri(r->auth_user, buf_str(&secret));
	if (render_qr_svg(uri, &svg, &err) < 0) {
		reply_error(r, 500, NULL, "%s", err.msg);
		goto out;
	}
	log_info("api: two-factor enrolment of \"%s\" started", r->auth_user);
	reply_json(r, 200,
		   json_pack("{s:s, s:s, s:s}", "secret", buf_str(&secret), "uri", uri, "qr_svg",
			     buf_str(&svg)));
out:
	if (uri)
		OPENSSL_cleanse(uri, strlen(uri));
	free(uri);
	buf_release_secure(&secret);
	buf_release_secure(&svg);
}

/* The string field key of the body {key: string} (borrowed from *body, new), or NULL after a 400. */
static const char *one_field(struct req *r, const char *key, json_t **body)
{
	const char *v;

	*body = req_json(r);
	if (!*body)
		return NULL;
	v = json_string_value(json_object_get(*body, key));
	if (!v || json_object_size(*body) != 1) {
		reply_error(r, 400, NULL, "the body must be {\"%s\": string}", key);
		return NULL;
	}
	return v;
}

void h_totp_confirm(struct req *r)
{
	struct atlas_err err = {0};
	char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN], key[224];
	time_t now = time(NULL);
	json_t *body = NULL, *arr;
	const char *code = one_field(r, "code", &body);
	int rc;

	if (!code)
		goto out;
	snprintf(key, sizeof(key), "%.120s\ntotp-confirm", r->auth_user);
	if (auth_limit_refuse(r, key, now))
		goto out;
	pthread_mutex_lock(&r->app->store_mu);
	rc = totp_enroll_confirm(r->app->store, r->auth_user, code, now, codes, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		if (err.code == ERR_INVALID)
			auth_limit_record(r->app, key, now, 0);
		reply_error(r,
			    err.code == ERR_INVALID    ? 422
			    : err.code == ERR_NOTFOUND ? 409
						       : 500,
			    "code", "%s", err.msg);
		goto out;
	}
	auth_limit_record(r->app, key, now, 1);
	arr = json_array();
	for (int i = 0; i < TOTP_RECOVERY_CODES; i++)
		json_array_append_new(arr, json_string(codes[i]));
	OPENSSL_cleanse(codes, sizeof(codes));
	log_info("api: two-factor login of \"%s\" is on", r->auth_user);
	reply_json(r, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", arr));
out:
	json_decref(body);
}

void h_totp_disable(struct req *r)
{
	struct atlas_err err = {0};
	char key[224];
	time_t now = time(NULL);
	json_t *body = NULL;
	const char *pw = one_field(r, "password", &body);
	int64_t epoch;
	int rc;

	if (!pw)
		goto out;
	/* a stolen session must not turn the second factor off, nor guess the password */
	snprintf(key, sizeof(key), "%.120s\npassword-change", r->auth_user);
	if (auth_limit_refuse(r, key, now))
		goto out;
	pthread_mutex_lock(&r->app->store_mu);
	rc = auth_check_password(r->app->store, r->auth_user, pw, &epoch, &err);
	if (rc == 0)
		rc = totp_disable(r->app->store, r->auth_user, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		if (err.code == ERR_INVALID) {
			auth_limit_record(r->app, key, now, 0);
			reply_error(r, 422, "password", "the password is wrong");
		} else {
			reply_error(r, 500, NULL, "%s", err.msg);
		}
		goto out;
	}
	auth_limit_record(r->app, key, now, 1);
	log_info("api: two-factor login of \"%s\" is off", r->auth_user);
	reply_data(r, 204, NULL, "", 0);
out:
	json_decref(body);
}
