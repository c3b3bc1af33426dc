/*
 * loop.h - the reconcile loop of `atlas serve`: one thread that applies the
 * desired state.
 *
 * It runs after every desired-state change (loop_wake, debounced so that a
 * burst of edits becomes one apply), on SIGHUP (loop_wake with no delay),
 * and every settings.resync seconds to heal drift. A failed engine is
 * retried with exponential backoff (LOOP_RETRY_BASE_MS doubling up to the
 * resync period); the other engines keep being applied. Which engine failed
 * comes from the run's struct run_outcome, never from its message. Each run
 * that changes something or fails is recorded in the store
 * (controller_apply, controller_restart); a periodic check that finds
 * nothing to do is not, so the history shows real events only.
 *
 * settings.auto_apply false (manual mode) keeps the loop's hands off: after
 * an edit, on the resync timer and on retries it only observes (plan), so
 * the drift and the pending changes show in /status and /plan; it applies
 * on a request (POST /apply) and on SIGHUP, and at start only when the
 * stored state was applied already (a restart brings back what the admin
 * approved, nothing new). See loop_decide().
 *
 * Every call into the engine drivers (apply, restart, status) happens under
 * one engine lock, so a driver never sees two of them at once (OpenVPN's
 * management socket takes one client at a time); a status that only reads
 * through a channel the engine serialises itself (driver.status_alone:
 * WireGuard's `wg show dump`) runs beside them.
 */
#ifndef ATLAS_LOOP_H
#define ATLAS_LOOP_H

#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"
#include "controller/controller.h"

/*
 * An edit while no run is pending is applied at once (leading edge: now, or
 * right after the run in progress). More edits before that run started are
 * a burst, and become one apply: it waits this long after the last edit...
 */
#define LOOP_DEBOUNCE_MS 200
/* ...but no longer than this after the first (a steady stream still applies). */
#define LOOP_DEBOUNCE_MAX_MS 1000
/* The first retry of a failed engine waits this long; each failure in a row doubles it. */
#define LOOP_RETRY_BASE_MS 1000
/*
 * The doubling stops after this many failures (an overflow guard: the
 * resync period caps the delay long before, at most 86,400 s).
 */
#define LOOP_RETRY_MAX_DOUBLINGS 16

struct loop;

/*
 * Called in the loop thread after each recorded run with the run (borrowed),
 * its actions as plan_result() keeps them: loop_run_full() expands them
 * (a first apply of 10,000 peers builds no tree of them that nobody reads).
 */
typedef void (*loop_run_cb)(void *cls, json_t *run);
/* run, or a run's result, with its actions as objects (new; the rest shared). */
json_t *loop_run_full(json_t *run);
/* Called in the loop thread when a request finished, with its result (new, steals). */
typedef void (*loop_done_cb)(void *cls, json_t *result);

/*
 * A new loop over the store of datadir (it opens its own connection).
 * on_run (may be NULL) hears about every recorded run. Starts the thread,
 * which runs a first apply at once (trigger "start").
 */
struct loop *loop_start(const char *datadir, loop_run_cb on_run, void *cls, struct atlas_err *err);
/*
 * Where a run takes its desired state from, instead of loading its own copy
 * from the loop's store connection: get returns a read-only state and its
 * generation (borrowed until put(cls, st)), or NULL with err. `atlas
 * serve` hands the loop the API's packed state (app_loop_source): one load
 * at start instead of two, and the run holds the 4 MB pack rather than a
 * 6.5 MB copy of its own at 10,000 peers.
 */
struct loop_source {
	const struct atlas_state *(*get)(void *cls, int64_t *gen, struct atlas_err *err);
	void (*put)(void *cls, const struct atlas_state *st);
	/*
	 * Optional: the state the source has at hand when it is generation
	 * min_gen or later (borrowed until put, its generation in *gen),
	 * without loading one; NULL when it has none. A fast run writes the
	 * interface's record from it instead of a copy made for it by the edit.
	 */
	const struct atlas_state *(*peek)(void *cls, int64_t min_gen, int64_t *gen);
	void *cls;
};
/* loop_start with every run's state from src (copied; NULL: loop_start). */
struct loop *loop_start_from(const char *datadir, loop_run_cb on_run, void *cls,
			     const struct loop_source *src, struct atlas_err *err);
/* Stops the thread (after the run in progress) and frees l. Accepts NULL. */
void loop_stop(struct loop *l);

/*
 * Asks for an apply: at once without debounce or when no run is pending,
 * else debounced (LOOP_DEBOUNCE_MS, loop_wake_due).
 */
void loop_wake(struct loop *l, const char *trigger, int debounce);
/*
 * loop_wake's debounce: LOOP_WAKE_NOW (SIGHUP), LOOP_WAKE_EDIT (the first
 * edit at once, a burst debounced), LOOP_WAKE_COALESCE (always debounced:
 * an edit whose apply is costly for everyone, a sing-box reload that drops
 * every connection, waits for the rest of its burst so that it is one).
 */
enum { LOOP_WAKE_NOW = 0, LOOP_WAKE_EDIT = 1, LOOP_WAKE_COALESCE = 2 };

/*
 * The fast path of one WireGuard peer edit (issue 18): when the engines are
 * known to be at the generation just before f's (the last full run
 * converged or a check found no drift, or fast applies since) and no run
 * is pending, f goes to the engine as one UAPI set of that peer, at once,
 * without loading, observing or planning the rest; the run is recorded.
 * A full check (trigger LOOP_TRIGGER_CHECK: observe, apply only on drift)
 * follows LOOP_CHECK_MS after the last fast apply, so drift is healed: a
 * stream of fast edits is checked when it pauses, and at the latest by the
 * periodic resync (settings.resync), which fast runs do not put off. Anything else (a burst, a quota, the kernel
 * module, a failed set) is loop_wake(LOOP_WAKE_EDIT). The interface's record
 * is written from the source's state at hand (peek; without a source, a
 * load): f's generation or a later one, whose run follows, as a full run
 * writes the record before its first action. Takes f.
 */
void loop_wake_fast(struct loop *l, const char *trigger, struct fast_peer *f);
#define LOOP_TRIGGER_CHECK "check after fast apply"
#define LOOP_CHECK_MS 1000
/*
 * loop_wake_fast's rule, pure: the engines at base (0: unknown), the edit
 * makes gen, and whether a run is pending (wake), a fast edit waits, a
 * retry is pending.
 */
int loop_fast_fits(int64_t base, int64_t gen, int wake, int fast_waiting, int retry);

struct atlas_state;
/*
 * 1 when live (loop_engine_status) shows an engine the desired state wants
 * running down (openvpn not running, a wireguard interface not up); what
 * names it. Pure.
 */
int loop_status_down(const struct atlas_state *desired, json_t *live, char *what, size_t len);
/*
 * The status tick saw what down (NULL: everything up): reconciles at once,
 * unless a failed run's retry is pending or a wake is queued; repeated
 * while the engine stays down, at doubling intervals up to resync.
 */
void loop_engine_down(struct loop *l, const char *what);

/*
 * When a wake-up at now (ms) runs, the burst it belongs to having started at
 * first: at once when it is the first (no run was pending: the leading
 * edge) or without debounce; else 200 ms after the last wake-up, and never
 * later than 1 s after the first (a steady stream of edits still applies).
 * The pure rule loop_wake() follows, with the clock as an argument.
 */
int64_t loop_wake_due(int64_t now, int64_t first, int debounce, int first_wake);

/*
 * How many runs the timer or a wake-up started have finished, recorded or
 * not (a quiet check is not recorded): what a test waits on before it says
 * that a run changed nothing.
 */
long loop_passes(struct loop *l);

/*
 * Queues an apply (engine NULL) or a restart of one engine's daemon, run in
 * the loop thread; done(cls, result) is called from there with the result
 * object {ok, actions, remaining, error, generation}. Returns -1 with
 * ERR_UNSUPPORTED when the engine has no driver or its driver no restart.
 */
int loop_request(struct loop *l, const char *engine, loop_done_cb done, void *cls,
		 struct atlas_err *err);
/* The same, the run recorded with actor (e.g. "token:ci"; NULL: the generation's). */
int loop_request_as(struct loop *l, const char *engine, const char *actor, loop_done_cb done,
		    void *cls, struct atlas_err *err);
/*
 * Answers every request still queued (not started) with {"ok": false,
 * "error": "atlas is stopping: ..."} now, without a run: the HTTP server's
 * stop. The request the loop runs at this moment is answered by its run.
 */
void loop_cancel_requests(struct loop *l);

/* What a run of the loop does (loop_decide). */
enum loop_action {
	LOOP_APPLY,	  /* apply (recorded) */
	LOOP_CHECK_APPLY, /* plan; apply only when there is drift */
	LOOP_OBSERVE,	  /* plan only (manual mode): nothing changes */
};

/*
 * The pure decision of a run: trigger is the run's trigger ("start",
 * "sighup", "api apply", "resync", "retry", or an edit's "api", "watch",
 * "api restore"...), auto_apply settings.auto_apply of the desired state,
 * gen and applied the desired and applied generations.
 */
enum loop_action loop_decide(const char *trigger, int auto_apply, int64_t gen, int64_t applied);

/*
 * The retry backoff: consecutive failed runs per engine, and of runs that
 * failed with no engine to blame. Zero-initialised it knows no failure.
 */
struct loop_backoff {
	struct {
		const char *engine; /* static, from a struct run_outcome */
		int fails;
	} engines[CONTROLLER_ENGINES];
	size_t n;
	int unclaimed;
};

/*
 * The pure backoff step after a run: each engine o lists counts one more
 * failure in a row when o says it failed, none when it did not (engines o
 * does not list keep their count). Returns the delay of the next retry in
 * ms, 0 for none: the shortest over the failing engines of
 * LOOP_RETRY_BASE_MS << (failures - 1), each at most resync_s seconds.
 */
int64_t loop_backoff_next(struct loop_backoff *b, const struct run_outcome *o, int resync_s);

/*
 * Changes the last observation found (plan, apply or periodic check): 0 when
 * the system matched the desired state, -1 before the first observation.
 */
long loop_drift(struct loop *l);

/* 1 when engine's driver can restart its daemon. */
int loop_can_restart(const char *engine);

/*
 * The last recorded run (new reference) or NULL: its first
 * LOOP_LAST_RUN_ACTIONS actions and "counts": {"actions", "failed"} (a first
 * apply of 10,000 peers has 10,000: the store keeps them all).
 */
#define LOOP_LAST_RUN_ACTIONS 20
json_t *loop_last_run(struct loop *l);
/* That summary of a run (borrowed): a new object. */
json_t *loop_run_summary(json_t *run);

/*
 * Live status of every engine of desired (borrowed) whose driver has
 * status(): a new object {"wireguard": {...}, "openvpn": {...}}, taken
 * under the engine lock but for the drivers whose status_alone says it
 * may run beside an apply. *overlapped (may be NULL) is 1 when a run held
 * the engines while those ran: what they saw may be a step of that run (an
 * interface not created yet), not the system's state.
 */
struct atlas_state;
json_t *loop_engine_status(struct loop *l, const struct atlas_state *desired, int *overlapped);
/* The same over the drivers of v (a NULL-ended table): for tests. */
json_t *loop_engine_status_of(struct loop *l, const struct driver *const *v,
			      const struct atlas_state *desired, int *overlapped);

/*
 * A recorded run as JSON (new): {id, started_at, finished_at (unix
 * seconds), duration_ms, trigger, generation, ok, actions, error}.
 */
struct run_info;
json_t *loop_run_json(const struct run_info *run);
/*
 * The same object for the run the controller just recorded (o->run_id and
 * times) from its result (borrowed; its actions are shared, not copied),
 * without reading it back. A run not recorded (o->run_id 0): {trigger, result}.
 */
struct run_outcome;
json_t *loop_run_of(const struct run_outcome *o, const char *trigger, json_t *result);
/*
 * 0 for a fast run that added a peer (loop_run_of says "fast": "added"):
 * the new peer has no session yet, so the live status waits for the next
 * tick; a status round at once after each (a whole `wg show dump` and its
 * parse) cost more CPU than the POST with 10,000 peers. 1 for any other run
 * (a peer renamed or removed changes whose session is whose at once).
 */
int loop_run_refreshes_status(const json_t *run);

/*
 * Observes and diffs (controller_plan) under the engine lock, for GET
 * /plan. plan is initialised here; release it with plan_release.
 */
struct plan;
struct atlas_state;
int loop_plan(struct loop *l, const struct atlas_state *desired, int64_t gen, struct plan *plan,
	      struct atlas_err *err);

#endif
