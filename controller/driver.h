/*
 * driver.h - what every engine driver provides: observe, a pure diff, apply.
 *
 * observe() reads the real state of the engine (interfaces, daemons, files,
 * sessions) into a driver-private structure. diff() compares it with the
 * desired state and appends actions to a plan: it must not touch files,
 * clocks, randomness or programs. apply() runs the actions of its engine,
 * each idempotent, so a crash half-way is healed by the next reconcile.
 */
#ifndef ATLAS_DRIVER_H
#define ATLAS_DRIVER_H

#include <time.h>

#include <jansson.h>

#include "../lib/err.h"
#include "../state/model.h"
#include "plan.h"

struct store;

struct driver_ctx {
	const char *datadir;	/* the data directory (keys, pki/, rendered files) */
	const char *rundir;	/* sockets and pid files (DATADIR/run by default) */
	struct store *store;	/* may be NULL in pure tests */
	int service_mode;	/* resolved: SERVICE_SYSTEMD or SERVICE_DIRECT */
	time_t now;		/* "today" for expiry dates: diff() reads no clock */
};

struct driver {
	const char *name;	/* "wireguard", "openvpn", "singbox" */
	/* 1 when st manages this engine (its section is present). */
	int (*managed)(const struct atlas_state *st);
	/*
	 * Reads the real state. Returns 0 and a new observation in *obs (freed
	 * with obs_free), or -1 when nothing could be read. A partial read
	 * returns 0 and marks the observation incomplete for diff().
	 */
	int (*observe)(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
		       struct atlas_err *err);
	/* Pure. Appends actions and sets the engine's status in plan. */
	int (*diff)(const struct driver_ctx *ctx, const struct atlas_state *desired,
		    const void *obs, struct plan *plan, struct atlas_err *err);
	/*
	 * Runs the actions v[0..n-1] (all of this engine). results gets one
	 * entry per action: {"text":..,"ok":bool,"error":..}. Returns -1 when any
	 * action failed (err has the first failure).
	 */
	int (*apply)(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     struct action *v, size_t n, json_t *results, struct atlas_err *err);
	void (*obs_free)(void *obs);
	/*
	 * Optional: live status for the API and metrics (sessions, traffic),
	 * a new JSON object, or NULL.
	 */
	json_t *(*status)(const struct driver_ctx *ctx, const struct atlas_state *desired);
	/*
	 * Optional: 1 when the engine's section is absent from the desired
	 * state but Atlas left something of its own on the system that must
	 * go (a NAT table it loaded). The controller then observes and diffs
	 * the engine all the same; its diff() plans only that clean-up.
	 */
	int (*leftovers)(const struct driver_ctx *ctx);
};

/* The engine drivers, in apply order; a NULL entry ends the list. */
extern const struct driver *const atlas_drivers[];

#endif
