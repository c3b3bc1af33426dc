/*
 * sub.c - GET /sub/{token}: a person's sing-box subscription, with no login.
 *
 * The token is the only credential (24 random characters, kept secret in
 * the state; state_sb_subscription_by_token() compares in constant time).
 * The body is what subscription clients read: the share links joined by
 * newlines, in base64; ?format=singbox gives the sing-box client profile.
 * Two headers that clients show:
 *   Subscription-Userinfo: upload=U; download=D; total=T; expire=E
 *     U, D: what the person sent and received in the quota's current
 *     period, from the usage book the quota is enforced by; T: that quota
 *     (the first of the person's inbounds that gives one, quota or
 *     quota_bytes), 0 when unlimited; E: the latest expiry (unix seconds:
 *     the end of an expires day UTC, or its date and time), 0 when any
 *     inbound has no expiry;
 *   Profile-Update-Interval: hours between two fetches.
 * An unknown (or rotated away) token answers 404 and counts as a miss of
 * the client address; SUB_RL_MAX misses within SUB_RL_WINDOW seconds block
 * the address (429, Retry-After) until the window ends, for any token, so
 * guessing costs a minute per ten tries. The table is this file's own,
 * apart from the login limiter: a subscriber's misses never lock the
 * admin out of the panel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "renderers/singbox/sb_render.h"
#include "api/api.h"
#include "api/singbox.h"
#include "state/active.h"
#include "state/usage_store.h"

#define SUB_RL_SLOTS 256

struct miss {
	char addr[64];
	time_t window_start;
	int n;
};

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct miss rl[SUB_RL_SLOTS];

/* Seconds until addr may fetch again, 0 when it may now. */
static int blocked(const char *addr, time_t now)
{
	int wait = 0;

	pthread_mutex_lock(&rl_mu);
	for (size_t i = 0; i < SUB_RL_SLOTS; i++) {
		struct miss *m = &rl[i];

		if (strcmp(m->addr, addr))
			continue;
		if (now - m->window_start >= SUB_RL_WINDOW)
			memset(m, 0, sizeof(*m));
		else if (m->n >= SUB_RL_MAX)
			wait = (int)(m->window_start + SUB_RL_WINDOW - now);
		break;
	}
	pthread_mutex_unlock(&rl_mu);
	return wait;
}

static void record_miss(const char *addr, time_t now)
{
	struct miss *slot = NULL, *oldest = &rl[0];

	pthread_mutex_lock(&rl_mu);
	for (size_t i = 0; i < SUB_RL_SLOTS && !slot; i++) {
		if (!strcmp(rl[i].addr, addr))
			slot = &rl[i];
		else if (rl[i].window_start < oldest->window_start)
			oldest = &rl[i];
	}
	if (!slot) {
		/* A full table gives up its oldest window. */
		slot = oldest;
		memset(slot, 0, sizeof(*slot));
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
	}
	if (!slot->n || now - slot->window_start >= SUB_RL_WINDOW) {
		slot->window_start = now;
		slot->n = 0;
	}
	slot->n++;
	pthread_mutex_unlock(&rl_mu);
}

/* Unix seconds of the end of day "YYYY-MM-DD" (UTC), 0 when it is not one. */
/*
 * The Subscription-Userinfo value of the person name: what the quota counts
 * this period (upload: the bytes the person sent, download: received) out of
 * the quota that is enforced (the first of the person's inbounds that gives
 * one, as usage.md says), from the usage book Atlas cuts by; the expiry.
 */
static void userinfo(struct app *a, const struct atlas_state *st, const char *name, time_t now,
		     char *out, size_t len)
{
	struct quota_cfg q = quota_of_sb(st, name);
	struct usage_entry ue;
	long long up = 0, down = 0, expire = 0;
	int forever = 0;

	for (size_t i = 0; i < st->singbox.ninbounds; i++) {
		const struct sb_user *su = state_sb_user(&st->singbox.inbounds[i], name);
		long long e;

		if (!su)
			continue;
		forever |= !su->expires;
		if (!su->expires || expiry_parse(su->expires, &e) < 0)
			e = 0;
		if (e > expire)
			expire = e;
	}
	/* one row, not the whole book: a fetch holds the store for a moment only */
	pthread_mutex_lock(&a->store_mu);
	/* a count of an older period is none of this one's */
	if (usage_store_entry(a->store, "singbox", name, &ue) == 1 &&
	    usage_period_used(&q, &ue, now) > 0) {
		up = ue.period_rx;
		down = ue.period_tx;
	}
	pthread_mutex_unlock(&a->store_mu);
	snprintf(out, len, "upload=%lld; download=%lld; total=%lld; expire=%lld", up, down, q.quota,
		 forever ? 0 : expire);
}

/* Answers with body and the subscription headers (a response of our own: r->resp). */
static void reply_sub(struct req *r, const char *ctype, const struct buf *body,
		      const char *info)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_COPY);
	char hours[16];

	if (!resp) {
		reply_error(r, 500, NULL, "out of memory");
		return;
	}
	snprintf(hours, sizeof(hours), "%d", SUB_UPDATE_HOURS);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Subscription-Userinfo", info);
	MHD_add_response_header(resp, "Profile-Update-Interval", hours);
	r->resp = resp;
	r->status = 200;
}

void h_sub(struct req *r)
{
	const char *format = req_query(r, "format");
	const struct sb_subscription *sub;
	const struct atlas_state *st;
	struct atlas_err err = {0};
	struct buf out = BUF_INIT;
	time_t now = time(NULL);
	char addr[64], info[160];
	int64_t gen;
	int wait;

	req_client_addr(r, addr, sizeof(addr));
	if ((wait = blocked(addr, now)) > 0) {
		snprintf(r->retry_after, sizeof(r->retry_after), "%d", wait);
		reply_error(r, 429, NULL, "too many unknown subscription tokens, retry in %d s",
			    wait);
		return;
	}
	if (format && *format && strcmp(format, "singbox")) {
		reply_error(r, 400, NULL, "format must be \"singbox\" or absent");
		return;
	}
	if (!(st = app_state_get(r, &gen)))
		return;
	sub = state_sb_subscription_by_token(st, r->params[0]);
	if (!sub) {
		record_miss(addr, now);
		log_warn("api: unknown subscription token from %s", addr);
		reply_data(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
	} else if ((format && *format ? render_sb_profile(st, sub->name, &out, &err)
				       : render_sb_subscription(st, sub->name, &out, &err)) < 0) {
		reply_error(r, err.code == ERR_NOTFOUND ? 404 : err.code == ERR_INVALID ? 409 : 500,
			    NULL, "%s", err.msg);
	} else {
		userinfo(r->app, st, sub->name, now, info, sizeof(info));
		reply_sub(r, format && *format ? "application/json" : "text/plain; charset=utf-8",
			  &out, info);
	}
	buf_release_secure(&out);
	app_state_put(r->app);
}
