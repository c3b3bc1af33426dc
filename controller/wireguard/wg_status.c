/*
 * wg_status.c - live WireGuard status for the API and metrics: per peer its
 * name, endpoint, latest handshake and traffic, read with `wg show IF dump`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spawn.h"
#include "state/active.h"
#include "controller/wireguard/wg.h"

static int by_key(const void *a, const void *b)
{
	return strcmp((*(const struct wg_peer *const *)a)->public_key,
		      (*(const struct wg_peer *const *)b)->public_key);
}

/* The desired peer of a key in idx (sorted by key), or NULL. */
static const struct wg_peer *peer_by_key(const struct wg_peer **idx, size_t n, const char *key)
{
	struct wg_peer probe;
	const struct wg_peer *pp = &probe, **hit;

	snprintf(probe.public_key, sizeof(probe.public_key), "%s", key);
	hit = bsearch(&pp, idx, n, sizeof(*idx), by_key);
	return hit ? *hit : NULL;
}

static json_t *iface_status(const struct driver_ctx *ctx, const struct wg_iface *ifc)
{
	const char *argv[] = { "wg", "show", ifc->name, "dump", NULL };
	struct spawn_opts big = { .out_cap = WG_DUMP_CAP, .timeout_ms = WG_STATUS_TIMEOUT_MS };
	struct wg_obs_iface oi = { 0 };
	struct spawn_result res;
	json_t *j = json_pack("{s:s}", "name", ifc->name), *peers = json_array();
	const struct wg_peer **idx = xcalloc(ifc->npeers + 1, sizeof(*idx));

	for (size_t i = 0; i < ifc->npeers; i++)
		idx[i] = &ifc->peers[i];
	qsort(idx, ifc->npeers, sizeof(*idx), by_key);

	if (spawn_run(argv, &big, &res, NULL) == 0 && res.exited && res.status == 0 &&
	    res.out.data && wg_parse_dump(res.out.data, &oi, NULL) == 0) {
		json_object_set_new(j, "up", json_true());
		json_object_set_new(j, "listen_port", json_integer(oi.listen_port));
		for (size_t i = 0; i < oi.npeers; i++) {
			const struct wg_obs_peer *p = &oi.peers[i];
			const struct wg_peer *dp = peer_by_key(idx, ifc->npeers, p->public_key);

			json_array_append_new(
				peers, json_pack("{s:s?, s:s, s:s?, s:I, s:I, s:I, s:b}", "name",
						 dp ? dp->name : NULL, "public_key", p->public_key,
						 "endpoint", p->endpoint, "latest_handshake",
						 (json_int_t)p->handshake, "rx_bytes",
						 (json_int_t)p->rx, "tx_bytes", (json_int_t)p->tx,
						 "connected",
						 wg_handshake_live(p->handshake, ctx->now)));
		}
	} else {
		json_object_set_new(j, "up", json_false());
	}
	json_object_set_new(j, "peers", peers);
	if (res.out.data)
		buf_release_secure(&res.out);
	spawn_result_release(&res);
	wg_obs_iface_release(&oi);
	free(idx);
	return j;
}

json_t *wg_status(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	json_t *ifaces = json_array();

	for (size_t i = 0; desired->has_wireguard && i < desired->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &desired->wireguard.interfaces[i];

		if (desired->wireguard.enabled && !ifc->disabled)
			json_array_append_new(ifaces, iface_status(ctx, ifc));
	}
	return json_pack("{s:o}", "interfaces", ifaces);
}
