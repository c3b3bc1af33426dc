/*
 * controller.h - plan and apply across every engine.
 *
 * controller_plan() observes each managed engine and diffs it against the
 * desired state. controller_apply() does the same and then runs the actions,
 * engine by engine; a failing engine does not stop the others. Every apply is
 * recorded in the store (time, trigger, generation, actions, result).
 */
#ifndef ATLAS_CONTROLLER_H
#define ATLAS_CONTROLLER_H

#include <stdint.h>

#include <jansson.h>

#include "state/store.h"
#include "controller/driver.h"
#include "controller/plan.h"

/* Fills ctx for a data directory (rundir = DATADIR/run, service mode resolved). */
void controller_ctx_init(struct driver_ctx *ctx, const char *datadir, struct store *store,
			 const struct atlas_state *desired);
void controller_ctx_release(struct driver_ctx *ctx);

/*
 * 1 when st manages the engine named engine: its section is present. The one
 * place of that rule (engines without a driver included). Cannot fail.
 */
int controller_managed(const struct atlas_state *st, const char *engine);

/* Observes and diffs every engine into plan (initialised here). */
int controller_plan(const struct driver_ctx *ctx, const struct atlas_state *desired,
		    int64_t generation, struct plan *plan, struct atlas_err *err);

/*
 * Plans, applies, and plans again to check convergence (up to 3 applies,
 * each checked by a new plan). Records the run in ctx->store when it is set.
 * *result (may be NULL) gets a new JSON object {ok, actions:[...], remaining,
 * error, generation}. Returns 0 when the system converged, -1 otherwise (err,
 * which may be NULL, gets the reason).
 */
int controller_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     int64_t generation, const char *trigger, json_t **result,
		     struct atlas_err *err);

#endif
