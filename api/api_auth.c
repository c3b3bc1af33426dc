/*
 * api_auth.c - login, password change, bearer-token checks and the login
 * rate limit (per client address: RL_MAX failures per RL_WINDOW seconds,
 * then 429 until the window ends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "lib/log.h"
#include "state/auth.h"
#include "api/api.h"

#define RL_MAX	  5
#define RL_WINDOW 60

/* Seconds until addr may try again, 0 when it may now. */
static int rl_blocked(struct app *a, const char *addr, time_t now)
{
	int wait = 0;

	pthread_mutex_lock(&a->rl_mu);
	for (size_t i = 0; i < sizeof(a->rl) / sizeof(a->rl[0]); i++) {
		struct ratelimit_entry *e = &a->rl[i];

		if (strcmp(e->addr, addr))
			continue;
		if (now - e->window_start >= RL_WINDOW) {
			e->failures = 0;
			e->window_start = now;
		} else if (e->failures >= RL_MAX) {
			wait = (int)(e->window_start + RL_WINDOW - now);
		}
		break;
	}
	pthread_mutex_unlock(&a->rl_mu);
	return wait;
}

static void rl_record(struct app *a, const char *addr, time_t now, int ok)
{
	struct ratelimit_entry *slot = NULL, *oldest = &a->rl[0];

	pthread_mutex_lock(&a->rl_mu);
	for (size_t i = 0; i < sizeof(a->rl) / sizeof(a->rl[0]); i++) {
		struct ratelimit_entry *e = &a->rl[i];

		if (!strcmp(e->addr, addr)) {
			slot = e;
			break;
		}
		if (e->window_start < oldest->window_start)
			oldest = e;
	}
	if (ok) {
		if (slot)
			memset(slot, 0, sizeof(*slot));
	} else {
		if (!slot) {
			/* Full table: the oldest window goes (it is the least useful). */
			slot = oldest;
			memset(slot, 0, sizeof(*slot));
			snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
			slot->window_start = now;
		}
		if (now - slot->window_start >= RL_WINDOW) {
			slot->window_start = now;
			slot->failures = 0;
		}
		slot->failures++;
	}
	pthread_mutex_unlock(&a->rl_mu);
}

void h_login(struct req *r)
{
	struct atlas_err err = {0};
	json_t *body = NULL, *claims;
	const char *user, *pw;
	char addr[64], *token;
	time_t now = time(NULL);
	int64_t epoch = 0;
	int wait, rc;

	req_client_addr(r, addr, sizeof(addr));
	wait = rl_blocked(r->app, addr, now);
	if (wait > 0) {
		snprintf(r->retry_after, sizeof(r->retry_after), "%d", wait);
		reply_error(r, 429, NULL, "too many attempts, retry in %d s", wait);
		return;
	}
	body = req_json(r);
	if (!body)
		return;
	user = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	if (!user || !pw || json_object_size(body) != 2) {
		reply_error(r, 400, NULL,
			    "the body must be {\"username\": string, \"password\": string}");
		goto out;
	}
	pthread_mutex_lock(&r->app->store_mu);
	rc = auth_check_password(r->app->store, user, pw, &epoch, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		rl_record(r->app, addr, now, 0);
		log_warn("api: failed login from %s", addr);
		reply_error(r, err.code == ERR_INVALID ? 401 : 500, NULL, "%s",
			    err.code == ERR_INVALID ? "invalid username or password" : err.msg);
		goto out;
	}
	rl_record(r->app, addr, now, 1);
	claims = json_pack("{s:s, s:I, s:I, s:I}", "sub", user, "iat", (json_int_t)now, "exp",
			   (json_int_t)(now + JWT_TTL), "ep", (json_int_t)epoch);
	token = jwt_sign(r->app->jwt_key, JWT_KEY_LEN, claims);
	reply_json(
	    r, 200,
	    json_pack("{s:s, s:I}", "token", token, "expires_at", (json_int_t)(now + JWT_TTL)));
	OPENSSL_cleanse(token, strlen(token));
	free(token);
	json_decref(claims);
out:
	json_decref(body);
}

/* The user of a valid token (copied into user), or -1 with the reason. */
static int token_user(struct app *a, const char *token, char *user, size_t len,
		      struct atlas_err *err)
{
	json_t *claims = jwt_verify(a->jwt_key, JWT_KEY_LEN, token, time(NULL), err);
	const char *sub;
	int64_t epoch;
	int ret = -1;

	if (!claims)
		return -1;
	sub = json_string_value(json_object_get(claims, "sub"));
	if (!sub || !json_is_integer(json_object_get(claims, "ep"))) {
		err_set(err, ERR_INVALID, "token without subject");
		goto out;
	}
	pthread_mutex_lock(&a->store_mu);
	epoch = auth_token_epoch(a->store, sub);
	pthread_mutex_unlock(&a->store_mu);
	if (epoch < 0 || epoch != json_integer_value(json_object_get(claims, "ep"))) {
		err_set(err, ERR_INVALID, "token no longer valid (password changed)");
		goto out;
	}
	snprintf(user, len, "%s", sub);
	ret = 0;
out:
	json_decref(claims);
	return ret;
}

int auth_request(struct req *r, int allow_query)
{
	const char *h = req_header(r, "Authorization");
	const char *token = NULL;
	struct atlas_err err = {0};
	char user[128];

	if (h && !strncasecmp(h, "Bearer ", 7))
		token = h + 7;
	else if (allow_query)
		token = req_query(r, "token");
	if (!token || !*token) {
		reply_error(r, 401, NULL, "authentication required: Authorization: Bearer TOKEN");
		return -1;
	}
	if (token_user(r->app, token, user, sizeof(user), &err) < 0) {
		reply_error(r, 401, NULL, "%s", err.msg);
		return -1;
	}
	return 0;
}

void h_password(struct req *r)
{
	struct atlas_err err = {0};
	json_t *body = req_json(r);
	const char *cur, *next;
	char user[128];
	int64_t epoch;
	const char *h = req_header(r, "Authorization");

	if (!body)
		return;
	cur = json_string_value(json_object_get(body, "current_password"));
	next = json_string_value(json_object_get(body, "new_password"));
	if (!cur || !next || json_object_size(body) != 2) {
		reply_error(r, 400, NULL,
			    "the body must be {\"current_password\": string, "
			    "\"new_password\": string}");
		goto out;
	}
	/* auth_request() accepted this token already: read its user again. */
	if (!h || token_user(r->app, h + 7, user, sizeof(user), &err) < 0) {
		reply_error(r, 401, NULL, "%s", err.msg);
		goto out;
	}
	pthread_mutex_lock(&r->app->store_mu);
	if (auth_check_password(r->app->store, user, cur, &epoch, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		reply_error(r, 422, "current_password", "the current password is wrong");
		goto out;
	}
	if (auth_set_password(r->app->store, user, next, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		reply_error(r, err.code == ERR_INVALID ? 422 : 500, "new_password", "%s", err.msg);
		goto out;
	}
	pthread_mutex_unlock(&r->app->store_mu);
	log_info("api: password of \"%s\" changed; older tokens are void", user);
	reply_data(r, 204, NULL, "", 0);
out:
	json_decref(body);
}

void h_health(struct req *r)
{
	reply_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "version", ATLAS_API_VERSION));
}
