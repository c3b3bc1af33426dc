/*
 * api_auth.c - login (with the second factor), password change, the checks
 * of bearer tokens (session JWTs and scoped API tokens) and the limit of
 * failed password and code attempts (below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/log.h"
#include "state/auth.h"
#include "state/tokens.h"
#include "state/totp_store.h"
#include "api/api.h"

/*
 * The login limit counts failures per user and address: RL_FREE of them
 * cost nothing, then each one doubles the wait before the next attempt of
 * that pair (2, 4, 8 ... RL_CAP seconds); a success resets it. An attempt
 * during the wait is 429 with Retry-After. Behind a reverse proxy every
 * client has the proxy's address, so a login also answers a "device"
 * value (an HMAC of the user and the password epoch under the JWT key) that
 * the panel sends with later logins: they are counted under that device,
 * not the address, and a stranger's failures cannot keep its owner out. A
 * password change voids the device values with the tokens.
 */
#define RL_FREE 3
/* the user of a request made with an API token: "token:NAME" */
#define TOKEN_ACTOR "token:"
#define RL_CAP	300

static int rl_wait_of(const struct ratelimit_entry *e, time_t now)
{
	int n = e->failures - RL_FREE - 1, delay;

	if (n < 0)
		return 0;
	delay = n >= 9 ? RL_CAP : 2 << n;
	if (delay > RL_CAP)
		delay = RL_CAP;
	return e->last + delay > now ? (int)(e->last + delay - now) : 0;
}

/* Seconds until key may try again, 0 when it may now. */
static int rl_blocked(struct app *a, const char *key, time_t now)
{
	int wait = 0;

	pthread_mutex_lock(&a->rl_mu);
	for (size_t i = 0; i < sizeof(a->rl) / sizeof(a->rl[0]); i++)
		if (!strcmp(a->rl[i].key, key)) {
			wait = rl_wait_of(&a->rl[i], now);
			break;
		}
	pthread_mutex_unlock(&a->rl_mu);
	return wait;
}

static void rl_record(struct app *a, const char *key, time_t now, int ok)
{
	struct ratelimit_entry *slot = NULL, *oldest = &a->rl[0];

	pthread_mutex_lock(&a->rl_mu);
	for (size_t i = 0; i < sizeof(a->rl) / sizeof(a->rl[0]); i++) {
		struct ratelimit_entry *e = &a->rl[i];

		if (!strcmp(e->key, key)) {
			slot = e;
			break;
		}
		if (e->last < oldest->last)
			oldest = e;
	}
	if (ok) {
		if (slot)
			memset(slot, 0, sizeof(*slot));
	} else {
		if (!slot) {
			/* full table: the entry idle longest goes */
			slot = oldest;
			memset(slot, 0, sizeof(*slot));
			snprintf(slot->key, sizeof(slot->key), "%s", key);
		}
		slot->failures++;
		slot->last = now;
	}
	pthread_mutex_unlock(&a->rl_mu);
}

/* The device value of user at epoch (43 base64url characters into out[64]). */
static void device_of(struct app *a, const char *user, int64_t epoch, char out[64])
{
	unsigned char mac[32];
	unsigned int len = sizeof(mac);
	char *msg = xasprintf("atlas-login-device\n%s\n%lld", user, (long long)epoch);
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	HMAC(EVP_sha256(), a->jwt_key, JWT_KEY_LEN, (const unsigned char *)msg, strlen(msg), mac,
	     &len);
	free(msg);
	for (size_t i = 0; i + 3 <= 30; i += 3) { /* 30 bytes: 40 characters, no padding */
		unsigned v = (unsigned)mac[i] << 16 | (unsigned)mac[i + 1] << 8 | mac[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
}

/*
 * The limiter key of an attempt by user: its device when device is the
 * right value for user's current epoch, else its address.
 */
static void rl_key(struct app *a, struct req *r, const char *user, const char *device,
		   char *key, size_t len)
{
	char addr[64];
	int64_t epoch;

	pthread_mutex_lock(&a->store_mu);
	epoch = auth_token_epoch(a->store, user);
	pthread_mutex_unlock(&a->store_mu);
	/* unknown names share one entry per address: they cannot flood the table */
	if (epoch < 0)
		user = "?";
	if (device && *device) {
		char want[64];

		if (epoch >= 0) {
			device_of(a, user, epoch, want);
			if (strlen(device) == strlen(want) &&
			    !CRYPTO_memcmp(device, want, strlen(want))) {
				snprintf(key, len, "%.120s\ndevice:%s", user, want);
				OPENSSL_cleanse(want, sizeof(want));
				return;
			}
			OPENSSL_cleanse(want, sizeof(want));
		}
	}
	req_client_addr(r, addr, sizeof(addr));
	snprintf(key, len, "%.120s\n%s", user, addr);
}

/* 429 with Retry-After when key must wait; returns 1 then. */
static int rl_refuse(struct req *r, const char *key, time_t now)
{
	int wait = rl_blocked(r->app, key, now);

	if (wait <= 0)
		return 0;
	snprintf(r->retry_after, sizeof(r->retry_after), "%d", wait);
	reply_error(r, 429, NULL, "too many failed attempts, retry in %d s", wait);
	return 1;
}

int auth_limit_refuse(struct req *r, const char *key, time_t now)
{
	return rl_refuse(r, key, now);
}

void auth_limit_record(struct app *a, const char *key, time_t now, int ok)
{
	rl_record(a, key, now, ok);
}

/*
 * The second factor of a login whose password was right: 0 when user has
 * none or code holds; else -1 after a 401 that says a code is needed
 * ("totp_required": true), counted as a failure when a code was wrong.
 */
static int login_second_factor(struct req *r, const char *user, const char *code,
			       const char *key, time_t now)
{
	struct atlas_err err = {0};
	struct totp_status st;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = totp_get_status(r->app->store, user, &st, &err);
	if (rc == 0 && st.enabled && code)
		rc = totp_verify(r->app->store, user, code, now, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0 && err.code != ERR_INVALID) {
		reply_error(r, 500, NULL, "%s", err.msg);
		return -1;
	}
	if (rc == 0 && (!st.enabled || code))
		return 0;
	if (code) {
		rl_record(r->app, key, now, 0);
		log_warn("api: wrong second factor for \"%s\"", user);
	}
	reply_json(r, 401,
		   json_pack("{s:s, s:s, s:b}", "error",
			     code ? err.msg : "a code from the authenticator app is needed",
			     "field", "totp", "totp_required", 1));
	return -1;
}

void h_login(struct req *r)
{
	struct atlas_err err = {0};
	json_t *body = NULL, *claims;
	const char *user, *pw, *device, *code;
	char addr[64], key[224], dev[64], *token;
	time_t now = time(NULL);
	int64_t epoch = 0;
	size_t nfields;
	int rc;

	req_client_addr(r, addr, sizeof(addr));
	body = req_json(r);
	if (!body)
		return;
	user = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	device = json_string_value(json_object_get(body, "device"));
	code = json_string_value(json_object_get(body, "totp"));
	nfields = 2 + (json_object_get(body, "device") != NULL) +
		  (json_object_get(body, "totp") != NULL);
	if (!user || !pw || json_object_size(body) != nfields ||
	    (json_object_get(body, "device") && !device) ||
	    (json_object_get(body, "totp") && !code)) {
		reply_error(r, 400, NULL,
			    "the body must be {\"username\": string, \"password\": string"
			    "[, \"device\": string][, \"totp\": string]}");
		goto out;
	}
	rl_key(r->app, r, user, device, key, sizeof(key));
	if (rl_refuse(r, key, now))
		goto out;
	pthread_mutex_lock(&r->app->store_mu);
	rc = auth_check_password(r->app->store, user, pw, &epoch, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		if (err.code == ERR_INVALID)
			rl_record(r->app, key, now, 0);
		log_warn("api: failed login from %s", addr);
		reply_error(r, err.code == ERR_INVALID ? 401 : 500, NULL, "%s",
			    err.code == ERR_INVALID ? "invalid username or password" : err.msg);
		goto out;
	}
	if (login_second_factor(r, user, code, key, now) < 0)
		goto out;
	rl_record(r->app, key, now, 1);
	claims = json_pack("{s:s, s:I, s:I, s:I}", "sub", user, "iat", (json_int_t)now, "exp",
			   (json_int_t)(now + JWT_TTL), "ep", (json_int_t)epoch);
	token = jwt_sign(r->app->jwt_key, JWT_KEY_LEN, claims);
	device_of(r->app, user, epoch, dev);
	reply_json(r, 200,
		   json_pack("{s:s, s:I, s:s}", "token", token, "expires_at",
			     (json_int_t)(now + JWT_TTL), "device", dev));
	OPENSSL_cleanse(dev, sizeof(dev));
	OPENSSL_cleanse(token, strlen(token));
	free(token);
	json_decref(claims);
out:
	json_decref(body);
}

/* The current token epoch of user (the kept statement), for jwt_check(). */
static int64_t stored_epoch(void *cls, const char *user)
{
	struct app *a = cls;
	int64_t epoch;

	pthread_mutex_lock(&a->store_mu);
	epoch = auth_token_epoch(a->store, user);
	pthread_mutex_unlock(&a->store_mu);
	return epoch;
}

/* Session tokens verified before (one key per process: the app's). */
static struct jwt_memo token_memo = JWT_MEMO_INIT;

/*
 * The user of a valid token (copied into user), or -1 with the reason; its
 * epoch and expiry into *epoch_out and *exp_out when not NULL. The epoch is
 * read every time: a password change (API or `atlas admin passwd`) refuses
 * the token at once.
 */
static int token_claims(struct app *a, const char *token, char *user, size_t len,
			int64_t *epoch_out, int64_t *exp_out, struct atlas_err *err)
{
	struct jwt_claims c;

	if (jwt_check(&token_memo, a->jwt_key, token, time(NULL), stored_epoch, a, &c, err) < 0)
		return -1;
	snprintf(user, len, "%s", c.sub);
	if (epoch_out)
		*epoch_out = c.ep;
	if (exp_out)
		*exp_out = c.exp;
	return 0;
}

static int token_user(struct app *a, const char *token, char *user, size_t len,
		      struct atlas_err *err)
{
	return token_claims(a, token, user, len, NULL, NULL, err);
}

int64_t auth_user_epoch(struct app *a, const char *user)
{
	if (!*user)
		return -1;
	if (!strncmp(user, TOKEN_ACTOR, strlen(TOKEN_ACTOR)))
		return auth_api_token_exists(a, user, NULL) ? 0 : -1;
	return stored_epoch(a, user);
}

static int64_t epoch_of(void *cls, const char *user)
{
	return auth_user_epoch(cls, user);
}

void auth_revalidate_streams(struct app *a)
{
	events_revalidate(a->events, epoch_of, a);
}

int auth_api_token(struct req *r, const char *token)
{
	struct atlas_err err = {0};
	struct token_info t;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = token_authenticate(r->app->store, token, time(NULL), &t, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, err.code == ERR_INVALID ? 401 : 500, NULL, "%s", err.msg);
		return -1;
	}
	snprintf(r->auth_user, sizeof(r->auth_user), TOKEN_ACTOR "%s", t.name);
	r->auth_scope = t.scope;
	r->auth_epoch = 0;
	r->auth_exp = t.expires_at ? t.expires_at : INT64_MAX;
	return 0;
}

int auth_api_token_exists(struct app *a, const char *user, int64_t *exp)
{
	int64_t e;

	if (strncmp(user, TOKEN_ACTOR, strlen(TOKEN_ACTOR)))
		return 0;
	pthread_mutex_lock(&a->store_mu);
	e = token_expiry(a->store, user + strlen(TOKEN_ACTOR));
	pthread_mutex_unlock(&a->store_mu);
	if (exp)
		*exp = e;
	return e >= 0;
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
	if (!strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)))
		return auth_api_token(r, token);
	if (token_claims(r->app, token, user, sizeof(user), &r->auth_epoch, &r->auth_exp, &err) <
	    0) {
		reply_error(r, 401, NULL, "%s", err.msg);
		return -1;
	}
	snprintf(r->auth_user, sizeof(r->auth_user), "%s", user);
	r->auth_scope = SCOPE_SESSION;
	return 0;
}

void h_password(struct req *r)
{
	struct atlas_err err = {0};
	json_t *body = req_json(r);
	const char *cur, *next;
	char user[128], addr[64], key[224];
	time_t now = time(NULL);
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
	/* a stolen token must not give unlimited guesses at the password */
	req_client_addr(r, addr, sizeof(addr));
	snprintf(key, sizeof(key), "%.120s\npassword-change", user);
	if (rl_refuse(r, key, now))
		goto out;
	pthread_mutex_lock(&r->app->store_mu);
	if (auth_check_password(r->app->store, user, cur, &epoch, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		if (err.code == ERR_INVALID)
			rl_record(r->app, key, now, 0);
		log_warn("api: wrong current password for \"%s\" from %s", user, addr);
		reply_error(r, 422, "current_password", "the current password is wrong");
		goto out;
	}
	rl_record(r->app, key, now, 1);
	if (auth_set_password(r->app->store, user, next, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		reply_error(r, err.code == ERR_INVALID ? 422 : 500, "new_password", "%s", err.msg);
		goto out;
	}
	pthread_mutex_unlock(&r->app->store_mu);
	log_info("api: password of \"%s\" changed; older tokens are void", user);
	auth_revalidate_streams(r->app); /* their streams end now, not at the next tick */
	reply_data(r, 204, NULL, "", 0);
out:
	json_decref(body);
}

void h_health(struct req *r)
{
	reply_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "version", ATLAS_API_VERSION));
}
