/*
 * loop_policy.c - the reconcile loop's decisions, kept apart from its
 * thread and locks (loop.c) so that unit tests call them alone: which run a
 * trigger starts, the per-engine retry backoff, when a wake-up is due and
 * whether an edit takes the fast path, whether a status tick saw an engine
 * down, and the JSON of a recorded run.
 */
#include <stdio.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/loop.h"

int loop_can_restart(const char *engine)
{
	const struct driver *d = driver_named(NULL, engine);

	return d && d->restart;
}

static int64_t retry_delay(int fails, int resync_s)
{
	int shift = fails > LOOP_RETRY_MAX_DOUBLINGS ? LOOP_RETRY_MAX_DOUBLINGS : fails - 1;
	int64_t d = (int64_t)LOOP_RETRY_BASE_MS << shift;

	if (resync_s > 0 && d > (int64_t)resync_s * 1000)
		d = (int64_t)resync_s * 1000;
	return d;
}

int64_t loop_backoff_next(struct loop_backoff *b, const struct run_outcome *o, int resync_s)
{
	int64_t delay = 0;

	for (size_t i = 0; i < o->nengines; i++) {
		size_t k = 0;

		while (k < b->n && strcmp(b->engines[k].engine, o->engines[i].engine))
			k++;
		if (k == b->n) {
			if (b->n == CONTROLLER_ENGINES)
				continue; /* cannot happen: the controller knows that many */
			b->engines[b->n].engine = o->engines[i].engine;
			b->engines[b->n++].fails = 0;
		}
		b->engines[k].fails = o->engines[i].failed ? b->engines[k].fails + 1 : 0;
	}
	b->unclaimed = o->unclaimed ? b->unclaimed + 1 : 0;
	for (size_t k = 0; k < b->n; k++)
		if (b->engines[k].fails) {
			int64_t d = retry_delay(b->engines[k].fails, resync_s);

			if (!delay || d < delay)
				delay = d;
		}
	if (b->unclaimed) {
		int64_t d = retry_delay(b->unclaimed, resync_s);

		if (!delay || d < delay)
			delay = d;
	}
	return delay;
}

enum loop_action loop_decide(const char *trigger, int auto_apply, int64_t gen, int64_t applied)
{
	int settled = gen == applied; /* nothing stored since the last apply */

	if (!strcmp(trigger, "sighup") || !strcmp(trigger, "api apply"))
		return LOOP_APPLY;
	if (!auto_apply)
		/* A restart restores what was approved; anything else waits. */
		return !strcmp(trigger, "start") && settled ? LOOP_APPLY : LOOP_OBSERVE;
	if ((!strcmp(trigger, "resync") || !strcmp(trigger, LOOP_TRIGGER_CHECK)) && settled)
		return LOOP_CHECK_APPLY;
	return LOOP_APPLY;
}

json_t *loop_run_json(const struct run_info *run)
{
	json_t *actions = json_loads(run->actions ? run->actions : "[]", 0, NULL);

	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:o, s:s?}", "id",
			 (json_int_t)run->id, "started_at", (json_int_t)(run->started_at / 1000),
			 "finished_at", (json_int_t)(run->finished_at / 1000), "duration_ms",
			 (json_int_t)(run->finished_at - run->started_at), "trigger", run->trigger,
			 "generation", (json_int_t)run->generation, "ok", run->ok, "actions",
			 actions ? actions : json_array(), "error", run->error);
}

json_t *loop_run_full(json_t *run)
{
	json_t *full = json_copy(run), *all = json_object_get(run, "actions");

	if (json_is_array(all))
		json_object_set_new(full, "actions", plan_results_json(all));
	return full;
}

int loop_run_refreshes_status(const json_t *run)
{
	const char *fast = json_string_value(json_object_get(run, "fast"));

	return !fast || strcmp(fast, "added");
}

json_t *loop_run_summary(json_t *run)
{
	json_t *kept = json_copy(run), *all = json_object_get(run, "actions"), *act, *first;
	size_t i, failed = 0;

	if (!json_is_array(all))
		return kept;
	first = json_array();
	json_array_foreach(all, i, act)
	{
		/* a step kept as its text alone went well (plan_result) */
		failed += !json_is_string(act) && !json_is_true(json_object_get(act, "ok"));
		if (i < LOOP_LAST_RUN_ACTIONS)
			json_array_append(first, act);
	}
	json_object_set_new(kept, "actions", plan_results_json(first));
	json_decref(first);
	json_object_set_new(kept, "counts", json_pack("{s:I, s:I}", "actions", (json_int_t)i,
						      "failed", (json_int_t)failed));
	return kept;
}

json_t *loop_run_of(const struct run_outcome *o, const char *trigger, json_t *result)
{
	json_t *run;

	if (!o->run_id)
		return json_pack("{s:s, s:O}", "trigger", trigger, "result", result);
	run = json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:O, s:O}", "id",
			(json_int_t)o->run_id, "started_at", (json_int_t)(o->started_at / 1000),
			"finished_at", (json_int_t)(o->finished_at / 1000), "duration_ms",
			(json_int_t)(o->finished_at - o->started_at), "trigger", trigger,
			"generation", json_integer_value(json_object_get(result, "generation")),
			"ok", json_is_true(json_object_get(result, "ok")), "actions",
			json_object_get(result, "actions"), "error",
			json_object_get(result, "error") ? json_object_get(result, "error")
							 : json_null());
	if (o->fast)
		json_object_set_new(run, "fast",
				    json_string(o->fast == '+'   ? "added"
						: o->fast == '-' ? "removed"
								 : "changed"));
	return run;
}

int64_t loop_wake_due(int64_t now, int64_t first, int debounce, int first_wake)
{
	int later = debounce == LOOP_WAKE_COALESCE || (debounce && !first_wake);
	int64_t due = later ? now + LOOP_DEBOUNCE_MS : now;

	return due > first + LOOP_DEBOUNCE_MAX_MS ? first + LOOP_DEBOUNCE_MAX_MS : due;
}

int loop_fast_fits(int64_t base, int64_t gen, int wake, int fast_waiting, int retry)
{
	return base > 0 && gen == base + 1 && !wake && !fast_waiting && !retry;
}

int loop_status_down(const struct atlas_state *desired, json_t *live, char *what, size_t len)
{
	json_t *ov = json_object_get(live, "openvpn"), *wg = json_object_get(live, "wireguard");
	json_t *ifc;
	size_t i;

	if (desired->has_openvpn && desired->openvpn.enabled && json_is_object(ov) &&
	    json_is_false(json_object_get(ov, "running"))) {
		snprintf(what, len, "openvpn down");
		return 1;
	}
	json_array_foreach(json_object_get(wg, "interfaces"), i, ifc)
		if (json_is_false(json_object_get(ifc, "up"))) {
			snprintf(what, len, "wireguard %.32s down",
				 json_string_value(json_object_get(ifc, "name")) ?: "?");
			return 1;
		}
	return 0;
}
