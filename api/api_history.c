/*
 * api_history.c - /history: generations of desired state and apply runs,
 * one generation's YAML, what it changed (against the generation before it),
 * its diff to the current one, what restoring it would change, and the
 * restore itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/udiff.h"
#include "state/changes.h"
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
		json_array_append_new(jg, json_pack("{s:I, s:I, s:s, s:s, s:s}", "gen",
						    (json_int_t)gens[i].gen, "created_at",
						    (json_int_t)gens[i].created_at, "trigger",
						    gens[i].trigger, "summary", gens[i].summary,
						    "actor", gens[i].actor));
	jr = json_array();
	for (size_t i = 0; i < nruns; i++) {
		json_t *jrun = loop_run_json(&runs[i]);

		json_object_set_new(jrun, "actor", json_string(runs[i].actor));
		json_array_append_new(jr, jrun);
	}
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


/*
 * The restore preview of generation gen: {"with_settings", "changes",
 * "text", "diff", "kept_settings": [{"name", "from" (current, kept), "to"
 * (what the generation has)}]}, or NULL with err.
 */
static json_t *restore_preview(struct req *r, int64_t gen, int with_settings,
			       struct atlas_err *err)
{
	struct atlas_state *target = NULL, *cur = NULL, *full = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT, diff = BUF_INIT, text = BUF_INIT;
	json_t *changes = NULL, *kept = NULL, *j = NULL;
	int rc;

	pthread_mutex_lock(&r->app->store_mu);
	rc = state_restore_preview(r->app->store, gen, with_settings, &target, &changes, err);
	if (rc == 0)
		rc = store_load(r->app->store, &cur, NULL, err);
	if (rc == 0 && !with_settings)
		rc = state_restore_preview(r->app->store, gen, 1, &full, NULL, err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0)
		goto out;
	/* the runtime settings kept: where the restored ones would differ */
	if (full) {
		json_t *c = state_changes(target, full);

		kept = json_incref(json_object_get(c, "settings"));
		json_decref(c);
	} else {
		kept = json_array();
	}
	state_to_yaml(cur, 0, &a);
	state_to_yaml(target, 0, &b);
	udiff(buf_str(&a), buf_str(&b), "current", "after the restore", &diff);
	state_changes_text(changes, &text);
	j = json_pack("{s:b, s:O, s:s, s:s, s:o}", "with_settings", with_settings, "changes",
		      changes, "text", buf_str(&text), "diff", buf_str(&diff), "kept_settings",
		      kept);
out:
	json_decref(changes);
	state_free(target);
	state_free(cur);
	state_free(full);
	buf_release(&a);
	buf_release(&b);
	buf_release(&diff);
	buf_release(&text);
	return j;
}

/*
 * What generation gen changed compared with the one before it: {"previous",
 * "previous_diff", "changes"}. previous is null for the first generation or
 * when the one before is no longer kept (then the changes are counted from
 * nothing and previous_diff is the whole generation).
 */
static int own_change(struct req *r, int64_t gen, const struct buf *yaml, json_t *out,
		      struct atlas_err *err)
{
	struct buf prev = BUF_INIT, diff = BUF_INIT, text = BUF_INIT;
	struct atlas_state *a = NULL, *b = NULL;
	struct diags d = {0};
	int has_prev = 0, ret = -1;
	char an[64], bn[64];
	json_t *changes;

	if (gen > 1) {
		struct atlas_err e = {0};

		if (gen_yaml_public(r->app, gen - 1, &prev, &e) == 0)
			has_prev = 1;
		else if (e.code != ERR_NOTFOUND)
			return err_set(err, e.code, "%s", e.msg);
	}
	b = state_from_yaml(yaml->data, yaml->len, &d, NULL);
	if (has_prev)
		a = state_from_yaml(prev.data, prev.len, &d, NULL);
	if (!b || (has_prev && !a)) {
		err_set(err, ERR_INTERNAL, "a generation does not parse: %s", d.n ? d.v[0].msg : "?");
		goto out;
	}
	snprintf(an, sizeof(an), "generation %lld", (long long)gen - 1);
	snprintf(bn, sizeof(bn), "generation %lld", (long long)gen);
	udiff(buf_str(&prev), buf_str(yaml), has_prev ? an : "nothing", bn, &diff);
	changes = state_changes(a, b);
	state_changes_text(changes, &text);
	json_object_set_new(out, "previous", has_prev ? json_integer(gen - 1) : json_null());
	json_object_set_new(out, "previous_diff", json_string(buf_str(&diff)));
	json_object_set_new(out, "changes", changes);
	json_object_set_new(out, "changes_text", json_string(buf_str(&text)));
	ret = 0;
out:
	diags_clear(&d);
	state_free(a);
	state_free(b);
	buf_release(&prev);
	buf_release(&diff);
	buf_release(&text);
	return ret;
}

void h_history_get(struct req *r)
{
	struct atlas_err err = {0};
	struct buf old = BUF_INIT, cur = BUF_INIT, diff = BUF_INIT;
	const struct atlas_state *st;
	json_t *j, *restore;
	int64_t gen, curgen;
	int with;

	if ((gen = gen_param(r)) < 0 || (with = req_query_flag(r, "with_settings")) < 0)
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
	j = json_pack("{s:I, s:s, s:s, s:I}", "gen", (json_int_t)gen, "yaml", buf_str(&old), "diff",
		      buf_str(&diff), "current", (json_int_t)curgen);
	if (own_change(r, gen, &old, j, &err) < 0 ||
	    !(restore = restore_preview(r, gen, with, &err))) {
		json_decref(j);
		reply_error(r, 500, NULL, "%s", err.msg);
		goto out;
	}
	json_object_set_new(j, "restore", restore);
	reply_json(r, 200, j);
out:
	buf_release(&old);
	buf_release(&cur);
	buf_release(&diff);
}

void h_history_restore(struct req *r)
{
	struct atlas_err err = {0};
	int64_t gen, newgen = 0;
	int rc, with;

	if ((gen = gen_param(r)) < 0 || (with = req_query_flag(r, "with_settings")) < 0)
		return;
	pthread_mutex_lock(&r->app->store_mu);
	app_set_actor(r);
	rc = state_restore(r->app->store, gen, with, &newgen, &err);
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
}
