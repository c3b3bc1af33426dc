/*
 * controller.h - plan and apply across every engine.
 *
 * controller_plan() observes each managed engine and diffs it against the
 * desired state. controller_apply() does the same and then runs the actions,
 * engine by engine; a failing engine does not stop the others. Every apply
 * and every restart is recorded in the store (time, trigger, generation,
 * actions, result), and says in a struct run_outcome which engines failed,
 * so that the reconcile loop's backoff never reads an error message.
 */
#ifndef ATLAS_CONTROLLER_H
#define ATLAS_CONTROLLER_H

#include <stdint.h>

#include <jansson.h>

#include "state/store.h"
#include "controller/driver.h"
#include "controller/plan.h"

/* The engines the controller knows, in apply order (with or without a driver). */
#define CONTROLLER_ENGINES 3

/*
 * What a run did, engine by engine: the reconcile loop's backoff reads it.
 * engines[] lists the engines the run was about, in apply order (every
 * engine for an apply, the one engine for a restart).
 */
struct run_outcome {
	struct {
		const char *engine; /* static: "wireguard", "openvpn", "singbox" */
		int failed;	    /* its apply or restart failed, or it did not converge */
	} engines[CONTROLLER_ENGINES];
	size_t nengines;
	int unclaimed;	  /* the run failed but no engine is to blame */
	size_t remaining; /* actions still planned at the end (apply) */
	/* the run as the store recorded it: run_id 0 when it was not (no store, a failed write) */
	int64_t run_id, started_at, finished_at; /* unix milliseconds */
	/* one UAPI set of one peer (controller_fast_peer): '+' added, '~' changed, '-' removed; 0 */
	int fast;
};

/* 1 when the run failed: an engine failed, or unclaimed. Cannot fail. */
int run_outcome_failed(const struct run_outcome *o);

/* Fills ctx for a data directory (rundir = DATADIR/run, service mode resolved). */
void controller_ctx_init(struct driver_ctx *ctx, const char *datadir, struct store *store,
			 const struct atlas_state *desired);
void controller_ctx_release(struct driver_ctx *ctx);

/*
 * 1 when st manages the engine named engine: its section is present. The one
 * place of that rule (engines without a driver included). Cannot fail.
 */
int controller_managed(const struct atlas_state *st, const char *engine);

/*
 * Observes and diffs every engine into plan (initialised here). The plan is
 * to be read, not applied: its actions carry no driver data (theirs may
 * point into a state freed here).
 */
int controller_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		    int64_t generation, struct plan *plan, struct atlas_err *err);

/*
 * Plans, applies, and plans again to check convergence (up to 3 applies,
 * each checked by a new plan). Records the run in ctx->store when it is set.
 * *result (may be NULL) gets a new JSON object {ok, actions:[...], remaining,
 * error, generation}; *out (may be NULL) which engines failed: an engine
 * whose apply failed, that could not be observed (fully) at the end, or that
 * still has actions planned after the last apply. Returns 0 when the system
 * converged, -1 otherwise (err, which may be NULL, gets the reason).
 */
int controller_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     int64_t generation, const char *trigger, json_t **result,
		     struct run_outcome *out, struct atlas_err *err);

/*
 * Restarts engine's daemon (its driver's restart()), whatever the plan says,
 * and records it like an apply run with trigger (may be NULL). *result and
 * *out (each may be NULL) as for controller_apply; an engine without a
 * driver or without restart() fails with ERR_UNSUPPORTED. Returns 0 or -1.
 */
int controller_restart(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       int64_t generation, const char *engine, const char *trigger,
		       json_t **result, struct run_outcome *out, struct atlas_err *err);

/*
 * The result object of a run that did not get to the controller (the
 * desired state could not be loaded): {ok: false, actions: [], remaining:
 * 0, error: msg, generation}, new. Also the shape of every run's result:
 * actions (borrowed, may be NULL) are plan_result()'s, expanded to objects.
 */
json_t *controller_result_json(int ok, json_t *actions, size_t remaining, const char *error,
			       int64_t generation);

/*
 * One WireGuard peer changed by an edit (added: old NULL, removed: next
 * NULL, or changed), for the fast path of the loop: the interface got
 * exactly generation - 1 by the last apply, and nothing else changed.
 * Owns copies of both peers (fast_peer_free); not of the interface (10,000
 * peers): its record is written from the state of the run (loop.c).
 */
struct fast_peer {
	int64_t generation;
	char *iface;
	struct wg_peer *old, *next;
	int auto_apply; /* settings.auto_apply of that generation */
};
void fast_peer_free(struct fast_peer *f);
/* A new fast_peer of interface ifname with copies of old, next (each may be NULL). */
struct fast_peer *fast_peer_new(int64_t generation, const char *ifname, const struct wg_peer *old,
				const struct wg_peer *next, int auto_apply);

/*
 * Where a fast run takes the interface of its record from, asked after the
 * set (the edit may still be making the state it comes from): f's
 * interface in f's generation or a later one (borrowed), or NULL: no record
 * step, the later generation's run writes it.
 */
struct fast_record {
	const struct wg_iface *(*iface)(void *cls, const char *ifname);
	void *cls;
};

/*
 * Applies f as one UAPI set of that peer on the wireguard-go interface, no
 * observation and no plan of the others, then rewrites the interface's
 * record file from rec's interface, and records the run (trigger) as an
 * apply of f->generation. ERR_UNSUPPORTED, nothing done, when the fast
 * path does not fit: a peer with a quota (the usage decides whether it is
 * suspended), or no UAPI socket (the kernel module). Any other error: the
 * set failed and a full reconcile must follow. *result as for
 * controller_apply; out (may be NULL) gets the recorded run's id and times.
 */
int controller_fast_peer(const struct driver_ctx *ctx, const struct fast_peer *f,
			 const struct fast_record *rec, const char *trigger, json_t **result,
			 struct run_outcome *out, struct atlas_err *err);

#endif
