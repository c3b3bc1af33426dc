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

#include "lib/buf.h"
#include "lib/err.h"
#include "state/model.h"
#include "controller/plan.h"

struct store;
struct usage_view;

struct driver_ctx {
	const char *datadir;	/* the data directory (keys, pki/, rendered files) */
	const char *rundir;	/* sockets and pid files (DATADIR/run by default) */
	struct store *store;	/* may be NULL in pure tests */
	int service_mode;	/* resolved: SERVICE_SYSTEMD or SERVICE_DIRECT */
	time_t now;		/* "today" for expiry dates: diff() reads no clock */
	/*
	 * Traffic per user (state/usage.h) for quotas; NULL: the controller
	 * reads it from store. A test gives its own with an injected now.
	 */
	const struct usage_view *usage;
	/* the drivers the controller runs: atlas_drivers, or a unit test's own */
	const struct driver *const *drivers;
	/*
	 * 1: an apply's or restart's result keeps its actions as plan_result()
	 * does (the loop: expanded only where they are read, loop_run_full);
	 * 0: objects.
	 */
	int compact_results;
};

struct driver {
	const char *name;	/* "wireguard", "openvpn", "singbox" */
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
	 * Optional: live status for the API, SSE events and /metrics (sessions,
	 * traffic), a new JSON object, or NULL when nothing can be read. Called
	 * every few seconds from `atlas serve`, never at the same time as
	 * apply()/restart() (the reconcile loop serialises them) unless
	 * status_alone says it may be. Missing
	 * members are treated as absent (0, null, false). The shapes the API
	 * reads:
	 *
	 * wireguard (wg_status.c):
	 *   {"interfaces": [{"name": "wg0", "up": true, "listen_port": N,
	 *     "peer_lines": "KEY\tENDPOINT\tHANDSHAKE\tRX\tTX\n..."}]}
	 *   (one line a peer as on the interface: base64 public key, endpoint
	 *   "1.2.3.4:5678" or "" when none, latest handshake UNIX (0: never),
	 *   bytes received and sent; one string rather than an object a peer,
	 *   which cost about 1 KB each; the API matches them to desired peers
	 *   by public key, api/live.c)
	 * openvpn (ovpn_observe.c):
	 *   {"running": true, "pid": N, "error": "..." (when unreadable),
	 *    "sessions": [{"name": "CN", "real_address": "1.2.3.4:5678",
	 *                  "virtual_address": "10.9.0.2", "bytes_received": N,
	 *                  "bytes_sent": N, "connected_since": UNIX,
	 *                  "client_id": N}]}
	 * singbox (sb_status.c):
	 *   {"running": true, "pid": N, "started_at": UNIX, "connections": N,
	 *    "error": "..." (when unreadable),
	 *    "users": [{"name", "connections", "uplink_bytes", "downlink_bytes"}]}
	 *   (bytes: what Atlas has counted so far, kept across reloads)
	 */
	json_t *(*status)(const struct driver_ctx *ctx, const struct atlas_state *desired);
	/*
	 * 1: status() only reads, through a channel the engine serialises
	 * itself (wireguard: `wg show IF dump`), so it runs without the engine
	 * lock, at the same time as an apply. 0: it runs under the lock
	 * (OpenVPN's management socket takes one client at a time).
	 */
	int status_alone;
	/*
	 * Optional: restarts the engine's daemon on purpose (POST
	 * /api/v1/openvpn/restart), whatever the plan says. Appends one entry per
	 * step to results ({"text","ok","error"}); returns -1 with err on
	 * failure. NULL: the engine has no daemon to restart (the API answers
	 * 501). The call is recorded as an apply run with trigger
	 * "restart ENGINE".
	 */
	int (*restart)(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       json_t *results, struct atlas_err *err);
	/*
	 * Optional: the file a client imports, appended to out (new bytes).
	 * resource names the client: "IF/PEER" for wireguard, "NAME" for openvpn
	 * and singbox (a user). format: "conf" (wireguard: wg-quick text),
	 * "qr.svg" (wireguard: the QR code of the conf as SVG), "ovpn" (openvpn:
	 * the inline profile), "json" (singbox: the client profile), "links"
	 * (singbox: one share link per line).
	 * Returns -1 with ERR_NOTFOUND for an unknown client, ERR_UNSUPPORTED
	 * for an unknown format. May read files under ctx->datadir (the PKI)
	 * but changes nothing. NULL: the API answers 501.
	 */
	int (*client_config)(const struct driver_ctx *ctx, const struct atlas_state *desired,
			     const char *resource, const char *format, struct buf *out,
			     struct atlas_err *err);
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

/*
 * The driver of engine name in drivers (a NULL-ended table; NULL means
 * atlas_drivers), or NULL when there is none. The one lookup by name.
 */
const struct driver *driver_named(const struct driver *const *drivers, const char *name);

#endif
