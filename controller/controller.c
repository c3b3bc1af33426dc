/*
 * controller.c - observe, diff and apply over the table of drivers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "controller/controller.h"

void controller_ctx_init(struct driver_ctx *ctx, const char *datadir, struct store *store,
			 const struct atlas_state *desired)
{
	const char *env = getenv("ATLAS_SERVICE_MODE");
	int mode = desired ? desired->settings.service_mode : SERVICE_AUTO;

	memset(ctx, 0, sizeof(*ctx));
	ctx->datadir = datadir;
	ctx->rundir = xasprintf("%s/run", datadir);
	ctx->store = store;
	ctx->now = time(NULL);
	if (env && !strcmp(env, "direct"))
		mode = SERVICE_DIRECT;
	else if (env && !strcmp(env, "systemd"))
		mode = SERVICE_SYSTEMD;
	if (mode == SERVICE_AUTO)
		/* systemd when it is PID 1: /run/systemd/system exists then. */
		mode = file_exists("/run/systemd/system") ? SERVICE_SYSTEMD : SERVICE_DIRECT;
	ctx->service_mode = mode;
}

void controller_ctx_release(struct driver_ctx *ctx)
{
	free((char *)ctx->rundir);
	ctx->rundir = NULL;
}

static const char *const engine_names[] = { "wireguard", "openvpn", "singbox", NULL };

int controller_managed(const struct atlas_state *st, const char *engine)
{
	if (!strcmp(engine, "wireguard"))
		return st->has_wireguard;
	if (!strcmp(engine, "openvpn"))
		return st->has_openvpn;
	if (!strcmp(engine, "singbox"))
		return st->has_singbox;
	return 0;
}

static const struct driver *find_driver(const char *engine)
{
	for (size_t i = 0; atlas_drivers[i]; i++)
		if (!strcmp(atlas_drivers[i]->name, engine))
			return atlas_drivers[i];
	return NULL;
}

int controller_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		    int64_t generation, struct plan *plan, struct atlas_err *err)
{
	(void)err;
	plan_init(plan);
	plan->generation = generation;
	for (size_t i = 0; engine_names[i]; i++) {
		const char *name = engine_names[i];
		const struct driver *drv = find_driver(name);
		struct atlas_err e = { 0 };
		void *obs = NULL;
		size_t before;

		/*
		 * An absent section: Atlas leaves that engine alone, but for
		 * removing what it set up itself (the driver's leftovers).
		 */
		if (!controller_managed(desired, name)) {
			plan_engine(plan, name, ENGINE_UNMANAGED, NULL);
			if (!drv || !drv->leftovers || !drv->leftovers(ctx))
				continue;
			/*
			 * Generation 0: no desired state was ever stored (a new or
			 * lost database). Its emptiness is no reason to remove
			 * anything that runs.
			 */
			if (generation <= 0) {
				plan_engine(plan, name, ENGINE_UNMANAGED,
					    "no desired state stored yet: Atlas removes nothing");
				continue;
			}
		}
		if (!drv) {
			plan_engine(plan, name, ENGINE_NOT_IMPLEMENTED,
				    "this atlas has no driver for this engine yet");
			continue;
		}
		if (controller_managed(desired, name))
			plan_engine(plan, name, ENGINE_OK, NULL);
		/* diff() downgrades the status when the observation was partial. */
		if (drv->observe(ctx, desired, &obs, &e) < 0) {
			plan_engine(plan, name, ENGINE_ERROR, e.msg);
			continue;
		}
		before = plan->n;
		if (drv->diff(ctx, desired, obs, plan, &e) < 0) {
			/* A diff that failed half-way is no plan: apply nothing of it. */
			plan_truncate(plan, before);
			plan_engine(plan, name, ENGINE_ERROR, e.msg);
		}
		drv->obs_free(obs);
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Runs the actions of every engine; returns the number of failed engines. */
static int apply_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		      struct plan *plan, json_t *results, struct buf *errors)
{
	int failed = 0;

	for (size_t i = 0; engine_names[i]; i++) {
		const struct driver *drv = find_driver(engine_names[i]);
		struct atlas_err e = { 0 };
		size_t first = plan->n, n = 0;

		for (size_t k = 0; k < plan->n; k++)
			if (!strcmp(plan->v[k].engine, engine_names[i])) {
				if (first == plan->n)
					first = k;
				n++;
			}
		if (!drv || !n)
			continue;
		/* Drivers emit their actions contiguously; apply them as one batch. */
		if (drv->apply(ctx, desired, &plan->v[first], n, results, &e) < 0) {
			failed++;
			buf_printf(errors, "%s%s: %s", errors->len ? "; " : "", engine_names[i],
				   e.msg);
			log_error("apply %s: %s", engine_names[i], e.msg);
		}
	}
	return failed;
}

int controller_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     int64_t generation, const char *trigger, json_t **result,
		     struct atlas_err *err)
{
	json_t *results = json_array();
	struct buf errors = BUF_INIT;
	struct run_info run = { 0 };
	struct atlas_err local = { 0 };
	struct plan plan;
	int ret = -1, round;
	size_t remaining = 0;

	if (!err)
		err = &local;	/* the run records the message either way */
	run.started_at = now_ms();
	/* what killed applies left (some hold keys); live writers' files stay */
	{
		size_t gone = file_clean_stale(ctx->datadir, 0);

		if (gone)
			log_info("apply: removed %zu stale temporary file%s", gone,
				 gone == 1 ? "" : "s");
	}
	/* Up to 3 applies, each followed by a plan that checks it. */
	for (round = 0; round <= 3; round++) {
		if (controller_plan(ctx, desired, generation, &plan, err) < 0)
			goto out;
		remaining = plan.n;
		/* An engine that cannot be observed (fully) has not converged. */
		for (size_t e = 0; plan.n == 0 && e < plan.nengines; e++)
			if (plan.engines[e].status == ENGINE_ERROR ||
			    plan.engines[e].status == ENGINE_INCOMPLETE)
				buf_printf(&errors, "%s%s: %s: %s", errors.len ? "; " : "",
					   plan.engines[e].engine,
					   engine_status_names[plan.engines[e].status],
					   plan.engines[e].note ? plan.engines[e].note : "");
		if (plan.n == 0 || errors.len || round == 3) {
			plan_release(&plan);
			break;
		}
		apply_plan(ctx, desired, &plan, results, &errors);
		plan_release(&plan);
	}
	ret = errors.len || remaining ? -1 : 0;
	if (ret < 0 && errors.len)
		err_set(err, ERR_EXEC, "%s", errors.data);
	else if (ret < 0)
		err_set(err, ERR_EXEC, "not converged: %zu action%s still planned after 3 applies",
			remaining, remaining == 1 ? "" : "s");
out:
	run.finished_at = now_ms();
	snprintf(run.trigger, sizeof(run.trigger), "%s", trigger ? trigger : "");
	run.generation = generation;
	run.ok = ret == 0;
	run.actions = json_dumps(results, JSON_COMPACT);
	run.error = ret < 0 ? err->msg : NULL;
	if (ctx->store) {
		struct atlas_err e2;

		if (store_record_run(ctx->store, &run, &e2) < 0)
			log_warn("cannot record the apply run: %s", e2.msg);
		if (ret == 0)
			store_set_applied_generation(ctx->store, generation, NULL);
	}
	if (result) {
		*result = json_pack("{s:b, s:O, s:I, s:s?, s:I}", "ok", ret == 0, "actions", results,
				    "remaining", (json_int_t)remaining, "error", run.error,
				    "generation", (json_int_t)generation);
	}
	free(run.actions);
	json_decref(results);
	buf_release(&errors);
	return ret;
}
