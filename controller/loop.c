/*
 * loop.c - the reconcile loop thread: debounced wake-ups, periodic resync,
 * per-engine retry backoff, queued requests (apply now, restart), the
 * manual mode (settings.auto_apply false: observe, apply on request), and
 * the engine lock that serialises every driver call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "state/store.h"
#include "controller/controller.h"
#include "controller/loop.h"

#define DEBOUNCE_MS	200
#define DEBOUNCE_MAX_MS 1000 /* a steady stream of edits still applies every second */
#define MAX_ENGINES	8

struct request {
	char engine[32]; /* "" : apply */
	loop_done_cb done;
	void *cls;
	struct request *next;
};

struct loop {
	pthread_t thread;
	pthread_mutex_t mu; /* guards the fields below */
	pthread_cond_t cond;
	pthread_mutex_t engine_mu; /* held around every driver call */
	struct store *store;	   /* the loop thread's own connection */
	char *datadir;
	loop_run_cb on_run;
	void *cls;
	int stop;
	int wake; /* an apply is wanted */
	char wake_trigger[64];
	int64_t wake_due, wake_first; /* ms, monotonic */
	int64_t next_resync;
	int64_t retry_due;	/* 0: no retry pending */
	int fails[MAX_ENGINES]; /* consecutive failures per engine (drivers order) */
	struct request *reqs, **reqs_tail;
	/*
	 * The last recorded run as JSON text: one block, not a tree of one
	 * object per action (10,000 after a first apply of 10,000 peers) kept
	 * between the heap pages of later work. loop_last_run() parses it.
	 */
	char *last_run;
	int resync; /* settings.resync of the last run, seconds */
	long drift; /* changes found by the last observation; -1: none yet */
	/* issue 16.10: reconciles asked for by a status tick that saw an engine down */
	int down_wakes;	   /* in a row, the engine still down after each */
	int64_t down_next; /* ms, monotonic: no such reconcile before */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct driver *driver_named(const char *engine, size_t *index)
{
	for (size_t i = 0; atlas_drivers[i]; i++)
		if (!strcmp(atlas_drivers[i]->name, engine)) {
			if (index)
				*index = i;
			return atlas_drivers[i];
		}
	return NULL;
}

int loop_can_restart(const char *engine)
{
	const struct driver *d = driver_named(engine, NULL);

	return d && d->restart;
}

/* Updates the per-engine failure counters from a run's error text. */
static int64_t schedule_retry(struct loop *l, const char *error, int resync)
{
	int64_t delay = 0;

	for (size_t i = 0; atlas_drivers[i] && i < MAX_ENGINES; i++) {
		const char *name = atlas_drivers[i]->name;
		char *pfx = xasprintf("%s: ", name);
		int failed = error && strstr(error, pfx) != NULL;

		free(pfx);
		if (!failed) {
			l->fails[i] = 0;
			continue;
		}
		l->fails[i]++;
		{
			int64_t d = 1000LL << (l->fails[i] > 16 ? 16 : l->fails[i] - 1);

			if (d > (int64_t)resync * 1000)
				d = (int64_t)resync * 1000;
			if (!delay || d < delay)
				delay = d;
		}
	}
	/* A failure no engine claims (not converged): retry like one engine. */
	if (error && !delay)
		delay = 2000;
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
	if (!strcmp(trigger, "resync") && settled)
		return LOOP_CHECK_APPLY;
	return LOOP_APPLY;
}

static void set_drift(struct loop *l, long n)
{
	pthread_mutex_lock(&l->mu);
	l->drift = n;
	pthread_mutex_unlock(&l->mu);
}

long loop_drift(struct loop *l)
{
	long n;

	pthread_mutex_lock(&l->mu);
	n = l->drift;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* Loads the desired state; replaces l->desired. Returns its generation or -1. */
static int64_t load_desired(struct loop *l, struct atlas_state **out)
{
	struct atlas_err err = {0};
	struct atlas_state *st;
	int64_t gen;

	if (store_load(l->store, &st, &gen, &err) < 0) {
		log_error("reconcile: %s", err.msg);
		return -1;
	}
	*out = st;
	return gen;
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

static void publish(struct loop *l, json_t *result, const char *trigger)
{
	struct run_info *runs = NULL;
	size_t n = 0;
	json_t *run;
	char *text;

	(void)result;
	/* The run as recorded (id, times, actions). */
	if (store_runs(l->store, 1, &runs, &n, NULL) == 0 && n == 1)
		run = loop_run_json(&runs[0]);
	else
		run = json_pack("{s:s, s:O}", "trigger", trigger, "result", result);
	store_runs_free(runs, n);
	text = json_dumps(run, JSON_COMPACT);
	pthread_mutex_lock(&l->mu);
	free(l->last_run);
	l->last_run = text;
	pthread_mutex_unlock(&l->mu);
	if (l->on_run)
		l->on_run(l->cls, run);
	json_decref(run);
}

/*
 * One run. engine NULL: what loop_decide() says (a check or an observation
 * that changes nothing returns NULL, unrecorded); else restart that engine.
 * Returns the result (new) or NULL.
 */
static json_t *run_once(struct loop *l, const char *trigger, const char *engine)
{
	enum loop_action act;
	struct atlas_err err = {0};
	struct atlas_state *desired = NULL;
	struct driver_ctx ctx;
	json_t *result = NULL;
	int64_t gen, delay;
	int rc;

	gen = load_desired(l, &desired);
	if (gen < 0)
		return json_pack("{s:b, s:[], s:i, s:s, s:I}", "ok", 0, "actions", "remaining", 0,
				 "error", "cannot load the desired state", "generation",
				 (json_int_t)0);
	pthread_mutex_lock(&l->engine_mu);
	pthread_mutex_lock(&l->mu);
	l->resync = desired->settings.resync;
	pthread_mutex_unlock(&l->mu);
	controller_ctx_init(&ctx, l->datadir, l->store, desired);
	if (engine) {
		const struct driver *drv = driver_named(engine, NULL);
		json_t *results = json_array();
		struct run_info run = {0};
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		run.started_at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		rc = drv && drv->restart
			 ? drv->restart(&ctx, desired, results, &err)
			 : err_set(&err, ERR_UNSUPPORTED, "%s cannot restart", engine);
		clock_gettime(CLOCK_REALTIME, &ts);
		run.finished_at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		snprintf(run.trigger, sizeof(run.trigger), "%s", trigger);
		run.generation = gen;
		run.ok = rc == 0;
		run.actions = json_dumps(results, JSON_COMPACT);
		run.error = rc < 0 ? err.msg : NULL;
		store_record_run(l->store, &run, NULL);
		result =
		    json_pack("{s:b, s:O, s:i, s:s?, s:I}", "ok", rc == 0, "actions", results,
			      "remaining", 0, "error", run.error, "generation", (json_int_t)gen);
		free(run.actions);
		json_decref(results);
		pthread_mutex_unlock(&l->engine_mu);
		controller_ctx_release(&ctx);
		publish(l, result, trigger);
		state_free(desired);
		return result;
	}
	act = loop_decide(trigger, desired->settings.auto_apply, gen,
			  store_applied_generation(l->store));
	if (act != LOOP_APPLY) {
		struct plan plan;
		size_t changes = 0;
		int quiet;

		rc = controller_plan(&ctx, desired, gen, &plan, &err);
		if (rc == 0)
			set_drift(l, (long)(changes = plan.n));
		else
			log_warn("observe (%s): %s", trigger, err.msg);
		quiet = rc == 0 && plan.n == 0 && !plan_has_problems(&plan);
		/* Nothing to change: the system already is this generation. */
		if (quiet && act == LOOP_OBSERVE && gen != store_applied_generation(l->store)) {
			store_set_applied_generation(l->store, gen, NULL);
			log_info("reconcile: generation %lld needs no change", (long long)gen);
		}
		plan_release(&plan);
		if (act == LOOP_OBSERVE || quiet) {
			/* A check that changes nothing is not worth a history entry. */
			pthread_mutex_unlock(&l->engine_mu);
			controller_ctx_release(&ctx);
			state_free(desired);
			if (act == LOOP_CHECK_APPLY) {
				pthread_mutex_lock(&l->mu);
				schedule_retry(l, NULL, 30);
				l->retry_due = 0;
				pthread_mutex_unlock(&l->mu);
			} else if (changes) {
				log_info(
				    "reconcile (%s): %zu change(s) wait for an apply (auto_apply "
				    "is off)",
				    trigger, changes);
			}
			return NULL;
		}
		log_info("reconcile: drift found, applying");
	}
	rc = controller_apply(&ctx, desired, gen, trigger, &result, &err);
	if (json_is_integer(json_object_get(result, "remaining")))
		set_drift(l, (long)json_integer_value(json_object_get(result, "remaining")));
	pthread_mutex_unlock(&l->engine_mu);
	controller_ctx_release(&ctx);
	if (rc < 0)
		log_warn("reconcile (%s): %s", trigger, err.msg);
	pthread_mutex_lock(&l->mu);
	delay = schedule_retry(l, rc < 0 ? err.msg : NULL, desired->settings.resync);
	l->retry_due = delay ? mono_ms() + delay : 0;
	pthread_mutex_unlock(&l->mu);
	if (!result)
		result = json_pack("{s:b, s:[], s:i, s:s, s:I}", "ok", 0, "actions", "remaining", 0,
				   "error", err.msg, "generation", (json_int_t)gen);
	publish(l, result, trigger);
	state_free(desired);
	return result;
}

static int resync_ms(struct loop *l)
{
	/* l->mu held */
	return (l->resync > 0 ? l->resync : 30) * 1000;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		int64_t now = mono_ms(), due = l->next_resync;
		struct request *rq = l->reqs;
		char trigger[64];

		if (l->wake && l->wake_due < due)
			due = l->wake_due;
		if (l->retry_due && l->retry_due < due)
			due = l->retry_due;
		if (!rq && now < due) {
			struct timespec ts;
			int64_t wait = due - now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&l->cond, &l->mu, &ts);
			continue;
		}
		if (rq) {
			l->reqs = rq->next;
			if (!l->reqs)
				l->reqs_tail = &l->reqs;
			pthread_mutex_unlock(&l->mu);
			if (rq->engine[0]) {
				char *t = xasprintf("restart %s", rq->engine);
				json_t *res = run_once(l, t, rq->engine);

				free(t);
				rq->done(rq->cls, res);
			} else {
				rq->done(rq->cls, run_once(l, "api apply", NULL));
			}
			free(rq);
			pthread_mutex_lock(&l->mu);
			continue;
		}
		if (l->wake && l->wake_due <= now) {
			snprintf(trigger, sizeof(trigger), "%s", l->wake_trigger);
		} else if (l->retry_due && l->retry_due <= now) {
			snprintf(trigger, sizeof(trigger), "retry");
		} else {
			snprintf(trigger, sizeof(trigger), "resync");
		}
		l->wake = 0;
		l->retry_due = 0;
		pthread_mutex_unlock(&l->mu);
		json_decref(run_once(l, trigger, NULL));
		pthread_mutex_lock(&l->mu);
		l->next_resync = mono_ms() + resync_ms(l);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct loop *loop_start(const char *datadir, loop_run_cb on_run, void *cls, struct atlas_err *err)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (store_open(datadir, &l->store, err) < 0) {
		free(l);
		return NULL;
	}
	/* The loop reads the whole state once a run: a small page cache will do. */
	store_set_cache_kib(l->store, 128, NULL);
	l->datadir = xstrdup(datadir);
	l->on_run = on_run;
	l->cls = cls;
	l->reqs_tail = &l->reqs;
	l->drift = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->engine_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* The first run happens at once: bring the system to the stored state. */
	l->wake = 1;
	l->wake_due = mono_ms();
	snprintf(l->wake_trigger, sizeof(l->wake_trigger), "start");
	l->next_resync = mono_ms() + 30000;
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		err_set(err, ERR_INTERNAL, "cannot start the reconcile thread");
		store_close(l->store);
		free(l->datadir);
		free(l);
		return NULL;
	}
	return l;
}

void loop_stop(struct loop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	while (l->reqs) {
		struct request *rq = l->reqs;

		l->reqs = rq->next;
		rq->done(rq->cls, json_pack("{s:b, s:s}", "ok", 0, "error", "atlas is stopping"));
		free(rq);
	}
	free(l->last_run);
	store_close(l->store);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->engine_mu);
	pthread_cond_destroy(&l->cond);
	free(l->datadir);
	free(l);
}

void loop_wake(struct loop *l, const char *trigger, int debounce)
{
	int64_t now = mono_ms();

	pthread_mutex_lock(&l->mu);
	if (!l->wake) {
		l->wake = 1;
		l->wake_first = now;
	}
	snprintf(l->wake_trigger, sizeof(l->wake_trigger), "%s", trigger);
	l->wake_due = debounce ? now + DEBOUNCE_MS : now;
	if (l->wake_due > l->wake_first + DEBOUNCE_MAX_MS)
		l->wake_due = l->wake_first + DEBOUNCE_MAX_MS;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

int loop_request(struct loop *l, const char *engine, loop_done_cb done, void *cls,
		 struct atlas_err *err)
{
	struct request *rq;

	if (engine && !driver_named(engine, NULL))
		return err_set(err, ERR_UNSUPPORTED, "this atlas has no driver for %s yet", engine);
	if (engine && !loop_can_restart(engine))
		return err_set(err, ERR_UNSUPPORTED, "the %s driver cannot restart its daemon",
			       engine);
	rq = xcalloc(1, sizeof(*rq));
	snprintf(rq->engine, sizeof(rq->engine), "%s", engine ? engine : "");
	rq->done = done;
	rq->cls = cls;
	pthread_mutex_lock(&l->mu);
	*l->reqs_tail = rq;
	l->reqs_tail = &rq->next;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

json_t *loop_last_run(struct loop *l)
{
	char *text;
	json_t *r;

	pthread_mutex_lock(&l->mu);
	text = l->last_run ? xstrdup(l->last_run) : NULL;
	pthread_mutex_unlock(&l->mu);
	r = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return r;
}

json_t *loop_engine_status(struct loop *l, const struct atlas_state *desired)
{
	json_t *out = json_object();
	struct driver_ctx ctx;

	pthread_mutex_lock(&l->engine_mu);
	controller_ctx_init(&ctx, l->datadir, NULL, desired);
	for (size_t i = 0; atlas_drivers[i]; i++) {
		const struct driver *d = atlas_drivers[i];
		json_t *st;

		if (!d->status || !controller_managed(desired, d->name))
			continue;
		st = d->status(&ctx, desired);
		if (st)
			json_object_set_new(out, d->name, st);
	}
	controller_ctx_release(&ctx);
	pthread_mutex_unlock(&l->engine_mu);
	return out;
}

int loop_plan(struct loop *l, const struct atlas_state *desired, int64_t gen, struct plan *plan,
	      struct atlas_err *err)
{
	struct driver_ctx ctx;
	int rc;

	pthread_mutex_lock(&l->engine_mu);
	controller_ctx_init(&ctx, l->datadir, NULL, desired);
	rc = controller_plan(&ctx, desired, gen, plan, err);
	controller_ctx_release(&ctx);
	pthread_mutex_unlock(&l->engine_mu);
	if (rc == 0)
		set_drift(l, (long)plan->n);
	return rc;
}

/* ---- an engine seen down by a status tick (issue 16.10) ---- */

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

void loop_engine_down(struct loop *l, const char *what)
{
	int64_t now = mono_ms();

	pthread_mutex_lock(&l->mu);
	if (!what) {
		l->down_wakes = 0; /* everything is up again */
		l->down_next = 0;
	} else if (!l->wake && !(l->retry_due && l->retry_due > now) && now >= l->down_next) {
		/*
		 * A failed run's retry backoff has the say; past that, the same
		 * doubling (1, 2, 4 ... s, at most resync) when the engine stays
		 * down after each reconcile.
		 */
		int64_t d = 1000LL << (l->down_wakes > 16 ? 16 : l->down_wakes);

		if (d > (int64_t)resync_ms(l))
			d = resync_ms(l);
		l->down_wakes++;
		l->down_next = now + d;
		l->wake = 1;
		l->wake_first = now;
		l->wake_due = now;
		snprintf(l->wake_trigger, sizeof(l->wake_trigger), "%s", what);
		pthread_cond_signal(&l->cond);
	}
	pthread_mutex_unlock(&l->mu);
}
