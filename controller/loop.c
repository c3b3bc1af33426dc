/*
 * loop.c - the reconcile loop thread: wake-ups (an edit while no run is
 * pending runs at once, the edits of a burst become one run), periodic resync,
 * per-engine retry backoff, queued requests (apply now, restart), the
 * manual mode (settings.auto_apply false: observe, apply on request), and
 * the engine lock that serialises every driver call (but the statuses that
 * run alone, driver.status_alone). The decisions it takes (which run a
 * trigger starts, the backoff, when a wake-up is due) are in loop_policy.c;
 * the queue of requests is loop_requests.c.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "state/store.h"
#include "controller/controller.h"
#include "controller/loop.h"
#include "controller/loop_requests.h"

struct loop {
	pthread_t thread;
	pthread_mutex_t mu; /* guards the fields below */
	pthread_cond_t cond;
	pthread_mutex_t engine_mu; /* held around every driver call */
	struct store *store;	   /* the loop thread's own connection */
	char *datadir;
	loop_run_cb on_run;
	void *cls;
	struct loop_source src; /* get NULL: each run loads its own copy */
	int stop;
	int wake; /* an apply is wanted */
	char wake_trigger[64];
	int64_t wake_due, wake_first; /* ms, monotonic */
	int64_t next_resync;
	int64_t retry_due; /* 0: no retry pending */
	struct loop_backoff backoff;
	struct request_queue reqs;
	/*
	 * The last recorded run as JSON text: one block, not a tree of one
	 * object per action (10,000 after a first apply of 10,000 peers) kept
	 * between the heap pages of later work. loop_last_run() parses it.
	 */
	char *last_run;
	int resync; /* settings.resync of the last run, seconds */
	long drift; /* changes found by the last observation; -1: none yet */
	long passes; /* runs finished by the timer or a wake-up (loop_passes) */
	/* issue 16.10: reconciles asked for by a status tick that saw an engine down */
	int down_wakes;	   /* in a row, the engine still down after each */
	int64_t down_next; /* ms, monotonic: no such reconcile before */
	/*
	 * The fast path (loop_wake_fast): the generation the engines are known
	 * to be at (a converged apply or a quiet check found it so, or fast
	 * applies since; 0: unknown), the one fast edit waiting, and the full
	 * check that follows fast applies (0: none due).
	 */
	int64_t fast_base;
	struct fast_peer *fast;
	int64_t check_due;
	/*
	 * Counts the starts and ends of every run that holds the engine lock
	 * (odd while one does): a status round taken without the lock
	 * (driver.status_alone) compares it before and after, and a round
	 * that a run overlapped may have seen an interface half made.
	 */
	unsigned long engine_epoch;
};

/* A run takes or gives back the engine lock (held): engine_epoch moves. */
static void engine_mark(struct loop *l)
{
	pthread_mutex_lock(&l->mu);
	l->engine_epoch++;
	pthread_mutex_unlock(&l->mu);
}

static unsigned long engine_epoch(struct loop *l)
{
	unsigned long e;

	pthread_mutex_lock(&l->mu);
	e = l->engine_epoch;
	pthread_mutex_unlock(&l->mu);
	return e;
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

/*
 * The run just recorded becomes the last run, made from its result (the
 * actions shared): reading 10,000 actions back from the store and parsing
 * them again was most of the start-up peak.
 */
static void publish(struct loop *l, const struct run_outcome *o, json_t *result,
		    const char *trigger)
{
	json_t *run = loop_run_of(o, trigger, result);
	json_t *kept = loop_run_summary(run); /* the store has every action */
	char *text = json_dumps(kept, JSON_COMPACT);

	json_decref(kept);
	pthread_mutex_lock(&l->mu);
	free(l->last_run);
	l->last_run = text;
	pthread_mutex_unlock(&l->mu);
	if (l->on_run)
		l->on_run(l->cls, run);
	json_decref(run);
}

/*
 * The end of every run the controller recorded, apply or restart: the
 * backoff reads the run's outcome, and the run becomes the last run.
 */
static void record(struct loop *l, const struct run_outcome *o, int resync_s, json_t *result,
		   const char *trigger)
{
	int64_t delay;

	pthread_mutex_lock(&l->mu);
	delay = loop_backoff_next(&l->backoff, o, resync_s);
	/* + 1: the clock is read in whole ms, and the wait must be the whole delay */
	l->retry_due = delay ? clock_mono_ms() + delay + 1 : 0;
	pthread_mutex_unlock(&l->mu);
	publish(l, o, result, trigger);
}

/* The desired state of a run (borrowed until state_put), or NULL with err. */
static const struct atlas_state *state_get(struct loop *l, int64_t *gen, struct atlas_err *err)
{
	struct atlas_state *st = NULL;

	if (l->src.get)
		return l->src.get(l->src.cls, gen, err);
	return store_load(l->store, &st, gen, err) < 0 ? NULL : st;
}

static void state_put(struct loop *l, const struct atlas_state *st)
{
	if (st && l->src.get)
		l->src.put(l->src.cls, st);
	else
		state_free((struct atlas_state *)st); /* our own load */
}

/*
 * The start of every run: the desired state into *desired (state_put it),
 * takes the engine lock and fills ctx for it (engines_end releases both
 * but *desired). Returns the generation, or -1 when the state cannot be
 * had: then *result is the run's (failed) result and nothing is held.
 */
static int64_t engines_begin(struct loop *l, const struct atlas_state **desired,
			     struct driver_ctx *ctx, json_t **result)
{
	struct atlas_err err = {0};
	int64_t gen = 0;

	if (!(*desired = state_get(l, &gen, &err))) {
		log_error("reconcile: %s", err.msg);
		*result = controller_result_json(0, NULL, 0, "cannot load the desired state", 0);
		return -1;
	}
	pthread_mutex_lock(&l->engine_mu);
	pthread_mutex_lock(&l->mu);
	l->resync = (*desired)->settings.resync;
	l->engine_epoch++;
	pthread_mutex_unlock(&l->mu);
	controller_ctx_init(ctx, l->datadir, l->store, *desired);
	ctx->compact_results = 1; /* expanded where read: loop_run_full */
	return gen;
}

static void engines_end(struct loop *l, struct driver_ctx *ctx)
{
	controller_ctx_release(ctx);
	engine_mark(l);
	pthread_mutex_unlock(&l->engine_mu);
}

/*
 * The first half of a run that observes first (loop_decide said
 * LOOP_CHECK_APPLY or LOOP_OBSERVE), under the engine lock. Returns 1 when
 * an apply follows (a check found drift), 0 when the run ends here,
 * unrecorded: an observation changes nothing, nor does a check that finds
 * nothing to do.
 */
static int observe_first(struct loop *l, const struct driver_ctx *ctx,
			 const struct atlas_state *desired, int64_t gen, enum loop_action act,
			 const char *trigger)
{
	struct atlas_err err = {0};
	struct plan plan;
	size_t changes = 0;
	int quiet, rc;

	rc = controller_plan(ctx, desired, gen, &plan, &err);
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
	if (act == LOOP_CHECK_APPLY && !quiet) {
		log_info("reconcile: drift found, applying");
		return 1;
	}
	if (act == LOOP_CHECK_APPLY) {
		/* Every engine checked out fine: no failure is left to retry. */
		pthread_mutex_lock(&l->mu);
		memset(&l->backoff, 0, sizeof(l->backoff));
		l->retry_due = 0;
		pthread_mutex_unlock(&l->mu);
	} else if (changes) {
		log_info("reconcile (%s): %zu change(s) wait for an apply (auto_apply is off)",
			 trigger, changes);
	}
	return 0;
}

/*
 * A full run ended: the engines are at generation gen (0: not known to be
 * at any). A fast edit queued while it ran (it set a later base) goes on
 * from there; after a failure it joins the full run that follows instead.
 */
static void fast_settled(struct loop *l, int64_t gen)
{
	pthread_mutex_lock(&l->mu);
	if (!gen && l->fast) {
		fast_peer_free(l->fast);
		l->fast = NULL;
		l->wake = 1;
		l->wake_first = l->wake_due = clock_mono_ms();
		snprintf(l->wake_trigger, sizeof(l->wake_trigger), "api");
	}
	if (!gen || l->fast_base < gen)
		l->fast_base = gen;
	if (!l->fast)
		l->check_due = 0; /* a full run is the check */
	pthread_mutex_unlock(&l->mu);
}

/*
 * The state a fast run of generation gen writes the record from (borrowed
 * until state_put): the source's at hand when it is gen or later (the
 * edit makes it the API's cache while the set runs), else a load; NULL
 * when none is gen or later.
 */
static const struct atlas_state *fast_state(struct loop *l, int64_t gen)
{
	struct atlas_err err = {0};
	const struct atlas_state *st;
	int64_t g = 0;

	if (l->src.peek)
		return l->src.peek(l->src.cls, gen, &g);
	st = state_get(l, &g, &err);
	if (st && g < gen) {
		state_put(l, st);
		st = NULL;
	}
	return st;
}

/* A fast run's record source (struct fast_record): the state it got, to state_put. */
struct fast_state_of {
	struct loop *l;
	int64_t gen;
	const struct atlas_state *st;
};

/* Interface name of that state when a run writes its record, else NULL (as record_first). */
static const struct wg_iface *fast_record_iface(void *cls, const char *name)
{
	struct fast_state_of *fs = cls;
	const struct atlas_state *st = fs->st ? fs->st : (fs->st = fast_state(fs->l, fs->gen));
	const struct wg_iface *ifc = st && st->has_wireguard && st->wireguard.enabled
					     ? state_wg_iface(st, name)
					     : NULL;

	return ifc && !ifc->disabled ? ifc : NULL;
}

/*
 * A fast edit (loop_wake_fast): one UAPI set of one peer, recorded as a
 * run; the full check is due LOOP_CHECK_MS later. Returns 0, or -1 when the fast
 * path did not fit or failed: then a full reconcile is due at once.
 */
static int run_fast(struct loop *l, struct fast_peer *f)
{
	struct atlas_err err = {0};
	struct driver_ctx ctx;
	struct run_outcome o = { .nengines = 1 };
	struct fast_state_of fs = { .l = l, .gen = f->generation };
	struct fast_record rec = { .iface = fast_record_iface, .cls = &fs };
	json_t *result = NULL;
	int rc, unrecorded = 0;

	pthread_mutex_lock(&l->engine_mu);
	engine_mark(l);
	controller_ctx_init(&ctx, l->datadir, l->store, NULL);
	rc = controller_fast_peer(&ctx, f, &rec, "api", &result, &o, &err);
	controller_ctx_release(&ctx);
	engine_mark(l);
	pthread_mutex_unlock(&l->engine_mu);
	if (fs.st)
		state_put(l, fs.st);
	else if (rc == 0)
		unrecorded = 1; /* no state to write the record from: the full run writes it */
	if (rc < 0)
		log_info("reconcile: no fast apply of generation %lld (%s): a full run follows",
			 (long long)f->generation, err.msg);
	else if (unrecorded)
		log_info("reconcile: generation %lld set, no state at hand for its record: a full "
			 "run follows",
			 (long long)f->generation);
	if (result) {
		o.engines[0].engine = "wireguard";
		o.engines[0].failed = rc < 0;
		record(l, &o, l->resync, result, "api");
		json_decref(result);
	}
	pthread_mutex_lock(&l->mu);
	if (rc < 0 || unrecorded) {
		l->fast_base = 0;
		l->wake = 1;
		l->wake_first = l->wake_due = clock_mono_ms();
		snprintf(l->wake_trigger, sizeof(l->wake_trigger), "api");
	} else {
		/* debounced: a stream of fast edits is checked when it pauses, or by the resync */
		l->check_due = clock_mono_ms() + LOOP_CHECK_MS;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/*
 * A reconcile run: what loop_decide() says. Returns the result (new) of
 * the apply it recorded, or NULL when it only observed or checked.
 */
static json_t *run_reconcile(struct loop *l, const char *trigger)
{
	struct atlas_err err = {0};
	const struct atlas_state *desired = NULL;
	struct driver_ctx ctx;
	struct run_outcome o;
	json_t *result = NULL;
	enum loop_action act;
	int64_t gen, gen_ok = 0;
	int resync;

	gen = engines_begin(l, &desired, &ctx, &result);
	if (gen < 0) {
		fast_settled(l, 0);
		goto out;
	}
	act = loop_decide(trigger, desired->settings.auto_apply, gen,
			  store_applied_generation(l->store));
	if (act != LOOP_APPLY && !observe_first(l, &ctx, desired, gen, act, trigger)) {
		/* a quiet check: the engines are at gen (an observation only is no proof of it) */
		fast_settled(l, act == LOOP_CHECK_APPLY ? gen : 0);
		engines_end(l, &ctx);
		goto out;
	}
	if (controller_apply(&ctx, desired, gen, trigger, &result, &o, &err) < 0)
		log_warn("reconcile (%s): %s", trigger, err.msg);
	else
		gen_ok = gen;
	fast_settled(l, gen_ok);
	set_drift(l, (long)o.remaining);
	engines_end(l, &ctx);
	resync = desired->settings.resync;
	state_put(l, desired); /* not kept while the run is published */
	desired = NULL;
	record(l, &o, resync, result, trigger);
out:
	state_put(l, desired);
	return result;
}

/* A restart of engine's daemon (a request). Returns its result (new). */
static json_t *run_restart(struct loop *l, const char *trigger, const char *engine)
{
	struct atlas_err err = {0};
	const struct atlas_state *desired = NULL;
	struct driver_ctx ctx;
	struct run_outcome o;
	json_t *result = NULL;
	int64_t gen;

	gen = engines_begin(l, &desired, &ctx, &result);
	if (gen < 0)
		goto out;
	if (controller_restart(&ctx, desired, gen, engine, trigger, &result, &o, &err) < 0)
		log_warn("%s: %s", trigger, err.msg);
	engines_end(l, &ctx);
	record(l, &o, desired->settings.resync, result, trigger);
out:
	state_put(l, desired);
	return result;
}

static int resync_ms(struct loop *l)
{
	/* l->mu held */
	return (l->resync > 0 ? l->resync : SETTINGS_RESYNC_DEFAULT) * 1000;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		int64_t now = clock_mono_ms(), due = l->next_resync;
		struct request *rq = l->reqs.head;
		char trigger[64];

		if (l->wake && l->wake_due < due)
			due = l->wake_due;
		if (l->retry_due && l->retry_due < due)
			due = l->retry_due;
		if (l->check_due && l->check_due < due)
			due = l->check_due;
		if (!rq && !l->fast && now < due) {
			struct timespec ts = clock_deadline(CLOCK_MONOTONIC, due - now);

			pthread_cond_timedwait(&l->cond, &l->mu, &ts);
			continue;
		}
		if (rq) {
			reqq_pop(&l->reqs);
			pthread_mutex_unlock(&l->mu);
			/* the run is recorded as the asker's (POST /apply by token:NAME) */
			store_set_actor(l->store, rq->actor);
			if (rq->engine[0]) {
				char *t = xasprintf("restart %s", rq->engine);
				json_t *res = run_restart(l, t, rq->engine);

				free(t);
				request_answer(rq, res);
			} else {
				request_answer(rq, run_reconcile(l, "api apply"));
			}
			store_set_actor(l->store, NULL);
			pthread_mutex_lock(&l->mu);
			continue;
		}
		if (l->fast) {
			struct fast_peer *f = l->fast;

			l->fast = NULL;
			pthread_mutex_unlock(&l->mu);
			run_fast(l, f);
			fast_peer_free(f);
			/* the trigger is the edit's, as for a full run (tests wait for it) */
			log_debug("loop: api run finished (fast: one UAPI set)");
			pthread_mutex_lock(&l->mu);
			l->passes++;
			continue;
		}
		if (l->wake && l->wake_due <= now) {
			snprintf(trigger, sizeof(trigger), "%s", l->wake_trigger);
		} else if (l->retry_due && l->retry_due <= now) {
			snprintf(trigger, sizeof(trigger), "retry");
		} else if (l->check_due && l->check_due <= now) {
			snprintf(trigger, sizeof(trigger), LOOP_TRIGGER_CHECK);
		} else {
			snprintf(trigger, sizeof(trigger), "resync");
		}
		l->wake = 0;
		l->retry_due = 0;
		l->check_due = 0;
		pthread_mutex_unlock(&l->mu);
		json_decref(run_reconcile(l, trigger));
		/*
		 * A run loads the whole state and observes every engine (MBs with
		 * 10,000 peers), all freed by now: give the pages back.
		 */
		malloc_trim(0);
		/* Recorded or not: an event a test can wait for (ATLAS_LOG=debug). */
		log_debug("loop: %s run finished", trigger);
		pthread_mutex_lock(&l->mu);
		l->passes++;
		l->next_resync = clock_mono_ms() + resync_ms(l);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct loop *loop_start(const char *datadir, loop_run_cb on_run, void *cls, struct atlas_err *err)
{
	return loop_start_from(datadir, on_run, cls, NULL, err);
}

struct loop *loop_start_from(const char *datadir, loop_run_cb on_run, void *cls,
			     const struct loop_source *src, struct atlas_err *err)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	if (src)
		l->src = *src;

	if (store_open(datadir, &l->store, err) < 0) {
		free(l);
		return NULL;
	}
	/* The loop reads the whole state once a run: a small page cache will do. */
	store_set_cache_kib(l->store, 128, NULL);
	l->datadir = xstrdup(datadir);
	l->on_run = on_run;
	l->cls = cls;
	reqq_init(&l->reqs);
	l->drift = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->engine_mu, NULL);
	clock_cond_init(&l->cond);
	/* The first run happens at once: bring the system to the stored state. */
	l->wake = 1;
	l->wake_due = clock_mono_ms();
	snprintf(l->wake_trigger, sizeof(l->wake_trigger), "start");
	l->next_resync = clock_mono_ms() + SETTINGS_RESYNC_DEFAULT * 1000;
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		err_set(err, ERR_INTERNAL, "cannot start the reconcile thread");
		store_close(l->store);
		free(l->datadir);
		free(l);
		return NULL;
	}
	return l;
}

void loop_cancel_requests(struct loop *l)
{
	struct request *rq;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	rq = reqq_take_all(&l->reqs);
	pthread_mutex_unlock(&l->mu);
	request_refuse_all(rq, "atlas is stopping: this request was not run");
}

void loop_stop(struct loop *l)
{
	struct request *rq;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	pthread_mutex_lock(&l->mu);
	rq = reqq_take_all(&l->reqs);
	pthread_mutex_unlock(&l->mu);
	request_refuse_all(rq, "atlas is stopping");
	fast_peer_free(l->fast);
	free(l->last_run);
	store_close(l->store);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->engine_mu);
	pthread_cond_destroy(&l->cond);
	free(l->datadir);
	free(l);
}

static void loop_wake_locked(struct loop *l, const char *trigger, int debounce, int64_t now)
{
	int first;

	/* the engines are behind now: the fast path waits for a full run */
	l->fast_base = 0;
	if (l->fast) {
		/* the waiting fast edit joins this run */
		fast_peer_free(l->fast);
		l->fast = NULL;
	}
	snprintf(l->wake_trigger, sizeof(l->wake_trigger), "%s", trigger);
	/*
	 * The first edit while no run is pending is due at once (leading
	 * edge): the loop runs it now, or right after the run in progress.
	 * One more edit before that run started is a burst: debounced.
	 */
	first = !l->wake;
	if (first) {
		l->wake = 1;
		l->wake_first = now;
	}
	l->wake_due = loop_wake_due(now, l->wake_first, debounce, first);
	pthread_cond_signal(&l->cond);
}

void loop_wake(struct loop *l, const char *trigger, int debounce)
{
	pthread_mutex_lock(&l->mu);
	loop_wake_locked(l, trigger, debounce, clock_mono_ms());
	pthread_mutex_unlock(&l->mu);
}

void loop_wake_fast(struct loop *l, const char *trigger, struct fast_peer *f)
{
	pthread_mutex_lock(&l->mu);
	if (!f->auto_apply ||
	    !loop_fast_fits(l->fast_base, f->generation, l->wake, l->fast != NULL, l->retry_due != 0)) {
		fast_peer_free(f);
		loop_wake_locked(l, trigger, LOOP_WAKE_EDIT, clock_mono_ms());
	} else {
		/* the engines will be at f's generation: the next edit may follow it */
		l->fast_base = f->generation;
		l->fast = f;
		pthread_cond_signal(&l->cond);
	}
	pthread_mutex_unlock(&l->mu);
}

long loop_passes(struct loop *l)
{
	long n;

	pthread_mutex_lock(&l->mu);
	n = l->passes;
	pthread_mutex_unlock(&l->mu);
	return n;
}

int loop_request(struct loop *l, const char *engine, loop_done_cb done, void *cls,
		 struct atlas_err *err)
{
	return loop_request_as(l, engine, NULL, done, cls, err);
}

int loop_request_as(struct loop *l, const char *engine, const char *actor, loop_done_cb done,
		    void *cls, struct atlas_err *err)
{
	struct request *rq = request_new(engine, actor, done, cls, err);

	if (!rq)
		return -1;
	pthread_mutex_lock(&l->mu);
	reqq_push(&l->reqs, rq);
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

/*
 * The status of the drivers of v that run alone (alone 1: without the
 * engine lock) or under it (alone 0), into out.
 */
static void status_of(struct loop *l, const struct driver *const *v,
		      const struct atlas_state *desired, int alone, json_t *out)
{
	struct driver_ctx ctx;
	int locked = 0;

	for (size_t i = 0; v[i]; i++) {
		const struct driver *d = v[i];
		json_t *st;

		if (!d->status || !controller_managed(desired, d->name) ||
		    (d->status_alone != 0) != alone)
			continue;
		if (!alone && !locked) {
			pthread_mutex_lock(&l->engine_mu);
			locked = 1;
		}
		controller_ctx_init(&ctx, l->datadir, NULL, desired);
		st = d->status(&ctx, desired);
		controller_ctx_release(&ctx);
		if (st)
			json_object_set_new(out, d->name, st);
	}
	if (locked)
		pthread_mutex_unlock(&l->engine_mu);
}

json_t *loop_engine_status_of(struct loop *l, const struct driver *const *v,
			      const struct atlas_state *desired, int *overlapped)
{
	json_t *out = json_object();
	unsigned long e0 = engine_epoch(l);

	status_of(l, v, desired, 1, out);
	/* the statuses under the lock cannot overlap a run */
	if (overlapped)
		*overlapped = (e0 & 1) || engine_epoch(l) != e0;
	status_of(l, v, desired, 0, out);
	return out;
}

json_t *loop_engine_status(struct loop *l, const struct atlas_state *desired, int *overlapped)
{
	return loop_engine_status_of(l, atlas_drivers, desired, overlapped);
}

int loop_plan(struct loop *l, const struct atlas_state *desired, int64_t gen, struct plan *plan,
	      struct atlas_err *err)
{
	struct driver_ctx ctx;
	int rc;

	pthread_mutex_lock(&l->engine_mu);
	/* the loop's store, under the engine lock: the plan reads the usage for quotas */
	controller_ctx_init(&ctx, l->datadir, l->store, desired);
	rc = controller_plan(&ctx, desired, gen, plan, err);
	controller_ctx_release(&ctx);
	pthread_mutex_unlock(&l->engine_mu);
	if (rc == 0)
		set_drift(l, (long)plan->n);
	return rc;
}

/* ---- an engine seen down by a status tick (issue 16.10) ---- */

void loop_engine_down(struct loop *l, const char *what)
{
	int64_t now = clock_mono_ms();

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
