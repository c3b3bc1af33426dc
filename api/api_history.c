/*
 * api_history.c - /history: generations of desired state and apply runs,
 * one generation's YAML and its diff to the current one, and rollback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/udiff.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "api/api.h"

#define HISTORY_MAX 100

void h_history(struct req *r)
{
	struct atlas_err err = {0};
	struct gen_info *gens = NULL;
	struct run_info *runs = NULL;
	size_t ngens = 0, nruns = 0;
	json_t *jg, *jr;
	int64_t applied;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = store_generations(r->app->store, HISTORY_MAX, &gens, &ngens, &err);
	if (rc == 0)
		rc = store_runs(r->app->store, HISTORY_MAX, &runs, &nruns, &err);
	applied = store_applied_generation(r->app->store);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r, 500, NULL, "%s", err.msg);
		goto out;
	}
	jg = json_array();
	for (size_t i = 0; i < ngens; i++)
		json_array_append_new(jg, json_pack("{s:I, s:I, s:s, s:s}", "gen",
						    (json_int_t)gens[i].gen, "created_at",
						    (json_int_t)gens[i].created_at, "trigger",
						    gens[i].trigger, "summary", gens[i].summary));
	jr = json_array();
	for (size_t i = 0; i < nruns; i++)
		json_array_append_new(jr, loop_run_json(&runs[i]));
	reply_json(r, 200,
		   json_pack("{s:I, s:o, s:o}", "applied_generation", (json_int_t)applied,
			     "generations", jg, "runs", jr));
out:
	free(gens);
	store_runs_free(runs, nruns);
}

/* The {N} parameter as a generation number, or -1 after a 404 reply. */
static int64_t gen_param(struct req *r)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(r->params[0], &end, 10);
	if (errno || *end || n < 1 || r->params[0][0] == '+' || r->params[0][0] == '0') {
		reply_error(r, 404, NULL, "no such generation: it must be a positive number");
		return -1;
	}
	return n;
}

/* The YAML without secrets of generation gen (appended to out). */
static int gen_yaml_public(struct app *a, int64_t gen, struct buf *out, struct atlas_err *err)
{
	struct buf raw = BUF_INIT;
	struct diags d = {0};
	struct atlas_state *st;
	int rc;

	pthread_mutex_lock(&a->store_mu);
	rc = store_generation_yaml(a->store, gen, &raw, err);
	pthread_mutex_unlock(&a->store_mu);
	if (rc < 0)
		goto out;
	st = state_from_yaml(raw.data, raw.len, &d, NULL);
	if (!st) {
		rc = err_set(err, ERR_INTERNAL, "generation %lld does not parse: %s",
			     (long long)gen, d.n ? d.v[0].msg : "?");
		goto out;
	}
	state_to_yaml(st, 0, out);
	state_free(st);
out:
	diags_clear(&d);
	buf_release_secure(&raw);
	return rc;
}

void h_history_get(struct req *r)
{
	struct atlas_err err = {0};
	struct buf old = BUF_INIT, cur = BUF_INIT, diff = BUF_INIT;
	const struct atlas_state *st;
	int64_t gen, curgen;

	if ((gen = gen_param(r)) < 0)
		return;
	if (gen_yaml_public(r->app, gen, &old, &err) < 0) {
		reply_error(r, err.code == ERR_NOTFOUND ? 404 : 500, NULL, "%s", err.msg);
		goto out;
	}
	if (!(st = app_state_get(r, &curgen)))
		goto out;
	state_to_yaml(st, 0, &cur);
	app_state_put(r->app);
	{
		char an[64], bn[64];

		snprintf(an, sizeof(an), "generation %lld", (long long)gen);
		snprintf(bn, sizeof(bn), "generation %lld (current)", (long long)curgen);
		udiff(buf_str(&old), buf_str(&cur), an, bn, &diff);
	}
	reply_json(r, 200,
		   json_pack("{s:I, s:s, s:s}", "gen", (json_int_t)gen, "yaml", buf_str(&old),
			     "diff", buf_str(&diff)));
out:
	buf_release(&old);
	buf_release(&cur);
	buf_release(&diff);
}

void h_history_restore(struct req *r)
{
	struct atlas_err err = {0};
	struct diags d = {0};
	int64_t gen, newgen = 0;
	int rc;

	if ((gen = gen_param(r)) < 0)
		return;
	pthread_mutex_lock(&r->app->store_mu);
	rc = state_restore(r->app->store, gen, &d, &newgen, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		reply_error(r,
			    err.code == ERR_NOTFOUND  ? 404
			    : err.code == ERR_INVALID ? 422
						      : 500,
			    NULL, "%s", err.msg);
	} else {
		app_state_changed(r->app, newgen, "api restore");
		reply_json(r, 200, json_pack("{s:I}", "generation", (json_int_t)newgen));
	}
	diags_clear(&d);
}
