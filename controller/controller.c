/*
 * controller.c - observe, diff and apply over the table of drivers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "controller/controller.h"
#include "state/active.h"
#include "state/sb_people.h"
#include "state/schema.h"
#include "controller/wireguard/wg.h"
#include "state/usage_store.h"

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
	ctx->drivers = atlas_drivers;
}

void controller_ctx_release(struct driver_ctx *ctx)
{
	free((char *)ctx->rundir);
	ctx->rundir = NULL;
}

static const char *const engine_names[CONTROLLER_ENGINES + 1] = { "wireguard", "openvpn",
								   "singbox", NULL };

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

int run_outcome_failed(const struct run_outcome *o)
{
	for (size_t i = 0; i < o->nengines; i++)
		if (o->engines[i].failed)
			return 1;
	return o->unclaimed;
}

/* An outcome listing engine (or every engine when NULL), none failed yet. */
static void outcome_init(struct run_outcome *o, const char *engine)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; engine_names[i]; i++)
		if (!engine || !strcmp(engine, engine_names[i])) {
			o->engines[o->nengines].engine = engine_names[i];
			o->engines[o->nengines++].failed = 0;
		}
}

static void outcome_fail(struct run_outcome *o, const char *engine)
{
	for (size_t i = 0; i < o->nengines; i++)
		if (!strcmp(o->engines[i].engine, engine)) {
			o->engines[i].failed = 1;
			return;
		}
	o->unclaimed = 1;
}

json_t *controller_result_json(int ok, json_t *actions, size_t remaining, const char *error,
			       int64_t generation)
{
	return json_pack("{s:b, s:o, s:I, s:s?, s:I}", "ok", ok, "actions",
			 actions ? plan_results_json(actions) : json_array(), "remaining",
			 (json_int_t)remaining, "error", ok ? NULL : error, "generation",
			 (json_int_t)generation);
}

/* The result of an apply or restart, its actions as ctx wants them. */
static json_t *run_result(const struct driver_ctx *ctx, int ok, json_t *results, size_t remaining,
			  const char *error, int64_t generation)
{
	json_t *r = controller_result_json(ok, ctx->compact_results ? NULL : results, remaining,
					   error, generation);

	if (ctx->compact_results)
		json_object_set(r, "actions", results);
	return r;
}

/*
 * The state the drivers work from: desired with its users over quota at
 * ctx->now suspended (usage_suspend), a new copy, or NULL when no user is
 * (then desired itself serves). Nothing of it is stored.
 */
static struct atlas_state *effective_state(const struct driver_ctx *ctx,
					   const struct atlas_state *desired)
{
	struct usage_view own = { 0 };
	const struct usage_view *u = ctx->usage;
	struct atlas_state *eff = NULL;
	struct atlas_err e = { 0 };

	if (!u && ctx->store && usage_any_quota(desired)) {
		if (usage_store_load(ctx->store, &own, &e) < 0)
			log_warn("quotas not enforced this run: %s", e.msg);
		u = &own;
	}
	/* the copy only when someone is over quota (a state of 10,000 users is big) */
	if (u && u->n && usage_count_suspended(desired, u, ctx->now)) {
		eff = state_dup(desired);
		usage_suspend(eff, u, ctx->now);
	}
	usage_view_release(&own);
	return eff;
}

/*
 * 1 when expires (a date: through that day; or a date and time with a zone)
 * ends within the 7 days after now and has not yet passed.
 */
static int expires_soon(const char *expires, time_t now)
{
	long long end;

	return expires && expiry_parse(expires, &end) == 0 && end > (long long)now &&
	       end <= (long long)now + 7 * 86400;
}

/* The plan's warnings: users suspended within 7 days by expiry, users above 90 % of quota. */
static void quota_warnings(const struct driver_ctx *ctx, const struct atlas_state *st,
			   struct plan *plan)
{
	struct usage_view own = { 0 };
	const struct usage_view *u = ctx->usage;
	char why[128], user[2 * NAME_MAX_LEN + 2];
	struct sb_people people;

	if (!u && ctx->store && usage_any_quota(st) && usage_store_load(ctx->store, &own, NULL) == 0)
		u = &own;
	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];

		for (size_t k = 0; k < ifc->npeers; k++) {
			const struct wg_peer *p = &ifc->peers[k];
			struct quota_cfg q = quota_of_wg(p);

			if (p->disabled)
				continue;
			snprintf(user, sizeof(user), "%s/%s", ifc->name, p->name);
			if (expires_soon(p->expires, ctx->now))
				plan_warn(plan, "wireguard/%s peer %s: expires on %s", ifc->name,
					  p->name, p->expires);
			if (usage_near(&q, usage_find(u, "wireguard", user), ctx->now, why,
				       sizeof(why)))
				plan_warn(plan, "wireguard/%s peer %s: %s", ifc->name, p->name, why);
		}
	}
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++) {
		const struct ovpn_client *c = &st->openvpn.clients[i];
		struct quota_cfg q = quota_of_ovpn(c);

		if (c->disabled)
			continue;
		if (expires_soon(c->expires, ctx->now))
			plan_warn(plan, "openvpn client %s: expires on %s", c->name, c->expires);
		if (usage_near(&q, usage_find(u, "openvpn", c->name), ctx->now, why, sizeof(why)))
			plan_warn(plan, "openvpn client %s: %s", c->name, why);
	}
	sb_people_init(&people, st);
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++) {
		const struct sb_inbound *in = &st->singbox.inbounds[i];

		for (size_t k = 0; k < in->nusers; k++) {
			const struct sb_user *us = &in->users[k];
			const struct sb_person *who = sb_people_find(&people, us->name);
			struct quota_cfg q = quota_of_sb_entry(who ? who->quota : NULL);

			if (us->disabled)
				continue;
			if (expires_soon(us->expires, ctx->now))
				plan_warn(plan, "singbox/%s user %s: expires on %s", in->name,
					  us->name, us->expires);
			/* a person once, at their first inbound */
			if (who && who->first == i &&
			    usage_near(&q, usage_find(u, "singbox", us->name), ctx->now, why,
				       sizeof(why)))
				plan_warn(plan, "singbox user %s: %s", us->name, why);
		}
	}
	sb_people_release(&people);
	usage_view_release(&own);
}

/*
 * The plan's notes on engine defects a setting runs into. sing-box's
 * httpupgrade server (since 1.7, still in 1.14.1) writes its 101 response
 * before it takes the socket over from Go's HTTP server and drops the buffer
 * that holds what the client sent in between: the first byte of the tunnel
 * is lost and the connection fails (docs/singbox.md, "Engine defects").
 */
static void engine_warnings(const struct atlas_state *st, struct plan *plan)
{
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		if (st->singbox.inbounds[i].transport == SB_TR_HTTPUPGRADE)
			plan_warn(plan, "singbox/%s: sing-box's httpupgrade server loses the first "
				  "byte of a connection whose client writes before the server takes "
				  "the socket over (1 connection in 11 failed on a local link); ws has "
				  "no such loss (docs/singbox.md)",
				  st->singbox.inbounds[i].name);
}

static int plan_state(const struct driver_ctx *ctx, const struct atlas_state *desired,
		      int64_t generation, struct plan *plan);

int controller_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		    int64_t generation, struct plan *plan, struct atlas_err *err)
{
	struct usage_view own = { 0 };
	struct driver_ctx c = *ctx;
	struct atlas_state *eff;
	struct atlas_err e = { 0 };
	int ret;

	(void)err;
	/* the usage book once, for the quotas and their warnings (empty: no quota) */
	if (!c.usage && c.store) {
		if (usage_any_quota(desired) && usage_store_load(c.store, &own, &e) < 0)
			log_warn("quotas not enforced this run: %s", e.msg);
		c.usage = &own;
	}
	eff = effective_state(&c, desired);
	ret = plan_state(&c, eff ? eff : desired, generation, plan);
	quota_warnings(&c, desired, plan);
	engine_warnings(desired, plan);
	/* Its actions point into the state (eff is freed here); nothing applies them. */
	plan_drop_data(plan);
	state_free(eff);
	usage_view_release(&own);
	return ret;
}

/* controller_plan() of the effective state st. */
static int plan_state(const struct driver_ctx *ctx, const struct atlas_state *desired,
		      int64_t generation, struct plan *plan)
{
	plan_init(plan);
	plan->generation = generation;
	for (size_t i = 0; engine_names[i]; i++) {
		const char *name = engine_names[i];
		const struct driver *drv = driver_named(ctx->drivers, name);
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

/* Runs the actions of every engine; an engine whose apply fails is marked in out. */
static void apply_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       struct plan *plan, json_t *results, struct buf *errors,
		       struct run_outcome *out)
{
	for (size_t i = 0; engine_names[i]; i++) {
		const struct driver *drv = driver_named(ctx->drivers, engine_names[i]);
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
			outcome_fail(out, engine_names[i]);
			buf_printf(errors, "%s%s: %s", errors->len ? "; " : "", engine_names[i],
				   e.msg);
			log_error("apply %s: %s", engine_names[i], e.msg);
		}
	}
}

/*
 * The last plan of an apply: an engine that could not be observed (fully)
 * or still has actions planned has not converged. The message names the
 * observation problems only when nothing is left to apply (else the
 * remaining actions say it).
 */
static void check_converged(const struct plan *plan, struct buf *errors, struct run_outcome *out)
{
	for (size_t e = 0; e < plan->nengines; e++) {
		const struct engine_report *r = &plan->engines[e];
		int problem = r->status == ENGINE_ERROR || r->status == ENGINE_INCOMPLETE;

		if (problem || plan_count(plan, r->engine))
			outcome_fail(out, r->engine);
		if (problem && plan->n == 0)
			buf_printf(errors, "%s%s: %s: %s", errors->len ? "; " : "", r->engine,
				   engine_status_names[r->status], r->note ? r->note : "");
	}
}

/*
 * Records a run (apply or restart) in ctx->store when it has one: the one
 * place both kinds of run are written. error is NULL when ok.
 */
static void record_run(const struct driver_ctx *ctx, const char *trigger, int64_t generation,
		       int64_t started_at, json_t *results, int ok, char *error,
		       struct run_outcome *out)
{
	struct run_info run = { 0 };
	struct atlas_err e = { 0 };

	if (!ctx->store)
		return;
	run.started_at = started_at;
	run.finished_at = clock_wall_ms();
	snprintf(run.trigger, sizeof(run.trigger), "%s", trigger ? trigger : "");
	run.generation = generation;
	run.ok = ok;
	run.actions = plan_results_dump(results); /* no second tree of every step */
	run.error = ok ? NULL : error;
	if (store_record_run(ctx->store, &run, &e) < 0) {
		log_warn("cannot record the run: %s", e.msg);
	} else if (out) {
		out->run_id = run.id;
		out->started_at = run.started_at;
		out->finished_at = run.finished_at;
	}
	free(run.actions);
}

int controller_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     int64_t generation, const char *trigger, json_t **result,
		     struct run_outcome *out, struct atlas_err *err)
{
	json_t *results = json_array();
	struct buf errors = BUF_INIT;
	struct run_outcome local_out;
	struct atlas_err local = { 0 };
	int64_t started_at = clock_wall_ms();
	struct atlas_state *eff = NULL;
	struct plan plan;
	int ret = -1, round;
	size_t remaining = 0;

	if (!err)
		err = &local; /* the run records the message either way */
	if (!out)
		out = &local_out;
	outcome_init(out, NULL);
	/* what killed applies left (some hold keys); live writers' files stay */
	{
		size_t gone = file_clean_stale(ctx->datadir, 0);

		if (gone)
			log_info("apply: removed %zu stale temporary file%s", gone,
				 gone == 1 ? "" : "s");
	}
	/* Up to 3 applies, each followed by a plan that checks it. */
	eff = effective_state(ctx, desired);
	if (eff)
		desired = eff;
	for (round = 0; round <= 3; round++) {
		if (plan_state(ctx, desired, generation, &plan) < 0) {
			out->unclaimed = 1;
			goto out;
		}
		remaining = plan.n;
		if (plan.n == 0 || errors.len || round == 3) {
			check_converged(&plan, &errors, out);
			plan_release(&plan);
			break;
		}
		apply_plan(ctx, desired, &plan, results, &errors, out);
		plan_release(&plan);
	}
	ret = errors.len || remaining ? -1 : 0;
	if (ret < 0 && errors.len)
		err_set(err, ERR_EXEC, "%s", errors.data);
	else if (ret < 0)
		err_set(err, ERR_EXEC, "not converged: %zu action%s still planned after 3 applies",
			remaining, remaining == 1 ? "" : "s");
out:
	out->remaining = remaining;
	record_run(ctx, trigger, generation, started_at, results, ret == 0, err->msg, out);
	if (ret == 0 && ctx->store)
		store_set_applied_generation(ctx->store, generation, NULL);
	if (result)
		*result = run_result(ctx, ret == 0, results, remaining, err->msg, generation);
	json_decref(results);
	buf_release(&errors);
	state_free(eff);
	return ret;
}

int controller_restart(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       int64_t generation, const char *engine, const char *trigger,
		       json_t **result, struct run_outcome *out, struct atlas_err *err)
{
	const struct driver *drv = driver_named(ctx->drivers, engine);
	json_t *results = json_array();
	struct run_outcome local_out;
	struct atlas_err local = { 0 };
	int64_t started_at = clock_wall_ms();
	int ret;

	if (!err)
		err = &local;
	if (!out)
		out = &local_out;
	outcome_init(out, engine);
	if (drv && drv->restart)
		ret = drv->restart(ctx, desired, results, err);
	else
		ret = err_set(err, ERR_UNSUPPORTED, "%s cannot restart", engine);
	if (ret < 0)
		outcome_fail(out, engine);
	record_run(ctx, trigger, generation, started_at, results, ret == 0, err->msg, out);
	if (result)
		*result = run_result(ctx, ret == 0, results, 0, err->msg, generation);
	json_decref(results);
	return ret < 0 ? -1 : 0;
}

static struct wg_peer *peer_copy(const struct wg_peer *p)
{
	struct wg_peer *c;

	if (!p)
		return NULL;
	c = xmalloc(sizeof(*c));
	schema_copy(&schema_wg_peer, c, p);
	return c;
}

struct fast_peer *fast_peer_new(int64_t generation, const char *ifname, const struct wg_peer *old,
				const struct wg_peer *next, int auto_apply)
{
	struct fast_peer *f = xcalloc(1, sizeof(*f));

	f->generation = generation;
	f->iface = xstrdup(ifname);
	f->old = peer_copy(old);
	f->next = peer_copy(next);
	f->auto_apply = auto_apply;
	return f;
}

void fast_peer_free(struct fast_peer *f)
{
	if (!f)
		return;
	for (struct wg_peer **p = &f->old; p; p = p == &f->old ? &f->next : NULL)
		if (*p) {
			schema_release(&schema_wg_peer, *p);
			free(*p);
		}
	free(f->iface);
	free(f);
}

/* "+ wireguard/wg0 peer alice (one UAPI set; a full check follows)", as a plan line. */
static char *fast_text(const struct fast_peer *f)
{
	const struct wg_peer *p = f->next ? f->next : f->old;

	return xasprintf("%c wireguard/%s peer %s (one UAPI set of this peer; a full check "
			 "follows)",
			 !f->old ? '+' : !f->next ? '-' : '~', f->iface, p->name);
}

int controller_fast_peer(const struct driver_ctx *ctx, const struct fast_peer *f,
			 const struct fast_record *rec, const char *trigger, json_t **result,
			 struct run_outcome *out, struct atlas_err *err)
{
	int64_t started_at = clock_wall_ms();
	struct buf body = BUF_INIT;
	json_t *results;
	struct atlas_err e = { 0 };
	const struct wg_iface *ifc;
	char *text;
	int rc = 0;

	if ((f->old && f->old->quota) || (f->next && f->next->quota))
		return err_set(err, ERR_UNSUPPORTED, "a peer with a quota: the usage decides");
	if (out)
		out->fast = !f->old ? '+' : !f->next ? '-' : '~';
	if (wg_uapi_peer_change_text(&body, f->old, f->next, ctx->now) < 0)
		rc = err_set(&e, ERR_INVALID, "a key does not decode");
	else if (body.len)
		rc = wg_uapi_set(f->iface, body.data, body.len, &e);
	buf_release_secure(&body);
	if (rc < 0 && e.code == ERR_NOTFOUND)
		return err_set(err, ERR_UNSUPPORTED, "%s", e.msg);
	results = json_array();
	text = fast_text(f);
	plan_result(results, text, rc == 0, e.msg);
	free(text);
	/* the record file follows (after the set: the peer is on the interface already) */
	ifc = rc == 0 ? rec->iface(rec->cls, f->iface) : NULL;
	if (ifc) {
		text = xasprintf("~ wireguard/%s record %s.conf", f->iface, f->iface);
		rc = wg_write_record(ctx, ifc, &e);
		plan_result(results, text, rc == 0, e.msg);
		free(text);
	}
	record_run(ctx, trigger, f->generation, started_at, results, rc == 0, e.msg, out);
	if (rc == 0 && ctx->store)
		store_set_applied_generation(ctx->store, f->generation, NULL);
	if (result)
		*result = controller_result_json(rc == 0, results, 0, rc == 0 ? NULL : e.msg,
						 f->generation);
	json_decref(results);
	if (rc < 0)
		err_set(err, e.code, "%s", e.msg);
	return rc;
}
