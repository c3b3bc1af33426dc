/*
 * api_usage.c - GET /api/v1/usage: every user's traffic against its quota
 * (period total, all-time totals, a daily series), the same report as
 * `atlas usage --json`; POST /api/v1/usage/{name}/reset starts a user's
 * period at 0 and runs the loop, which brings a suspended user back.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/usage_store.h"
#include "state/validate.h"
#include "api/api.h"

#define USAGE_DAYS_DEFAULT 30

void h_usage(struct req *r)
{
	const char *q = req_query(r, "days"), *person = req_query(r, "user");
	struct atlas_err err = {0};
	const struct atlas_state *st;
	int64_t gen;
	json_t *rows;
	int days = USAGE_DAYS_DEFAULT;

	if (q) {
		char *end;
		long v = strtol(q, &end, 10);

		if (*end || end == q || v < 0 || v > USAGE_DAYS_KEPT) {
			reply_error(r, 400, "days", "days \"%.20s\" is not 0 to %d", q, USAGE_DAYS_KEPT);
			return;
		}
		days = (int)v;
	}
	if (person && !name_valid(person)) {
		reply_error(r, 400, "user", "user \"%.64s\" is not a valid name", person);
		return;
	}
	if (!(st = app_state_get(r, &gen)))
		return;
	pthread_mutex_lock(&r->app->store_mu);
	rows = usage_report(r->app->store, st, time(NULL), days, person, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	app_state_put(r->app);
	if (!rows) {
		reply_error(r, 500, NULL, "%s", err.msg);
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "users", rows));
}

void h_usage_reset(struct req *r)
{
	struct atlas_err err = {0};
	int n = 0, rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = usage_store_reset(r->app->store, r->params[0], &n, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, 500, NULL, "%s", err.msg);
		return;
	}
	if (!n) {
		reply_error(r, 404, NULL, "no usage recorded for \"%.64s\"", r->params[0]);
		return;
	}
	loop_wake(r->app->loop, "usage reset", 0);
	reply_json(r, 200, json_pack("{s:i}", "reset", n));
}
