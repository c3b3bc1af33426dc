/*
 * wg_status.c - live WireGuard status for the API and metrics: per peer its
 * endpoint, latest handshake and traffic, read with `wg show IF dump`.
 *
 * With 10,000 peers a tree of one JSON object per peer cost about 11 MB of
 * small allocations at every tick; the peers are handed over as one string
 * of short lines instead (api/live.c turns them into fixed-size records),
 * written over the dump's own text, so the tick allocates no memory per peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spawn.h"
#include "state/active.h"
#include "state/keys.h"
#include "controller/wireguard/wg.h"

/* Appends s and then c at *w (never past the text it was cut from). */
static void put(char **w, const char *s, char c)
{
	size_t n = strlen(s);

	memmove(*w, s, n);
	(*w)[n] = c;
	*w += n + 1;
}

long wg_status_lines(char *text, int *listen_port)
{
	char *rest = text, *line, *w = text, *f[9];
	size_t nline = 0;

	/* the output of a line is shorter than the line: w never passes rest */
	while ((line = strsep(&rest, "\n")) && *line) {
		size_t nf = wg_split_tabs(line, f, 9);

		if (nline++ == 0) {
			/* private-key public-key listen-port fwmark */
			if (nf != 4)
				return -1;
			*listen_port = atoi(f[2]);
			continue;
		}
		/* public-key psk endpoint allowed-ips handshake rx tx keepalive */
		if (nf != 8 || strlen(f[0]) != KEY_B64 - 1)
			return -1;
		put(&w, f[0], '\t');
		put(&w, strcmp(f[2], "(none)") ? f[2] : "", '\t');
		put(&w, f[4], '\t');
		put(&w, f[5], '\t');
		put(&w, f[6], '\n');
	}
	if (nline == 0)
		return -1;
	/* what is left of the dump (the secrets too) is wiped by the caller */
	return (long)(w - text);
}

static json_t *iface_status(const struct wg_iface *ifc)
{
	const char *argv[] = { "wg", "show", ifc->name, "dump", NULL };
	struct spawn_opts big = { .out_cap = WG_DUMP_CAP, .timeout_ms = WG_STATUS_TIMEOUT_MS };
	struct spawn_result res;
	json_t *j = json_pack("{s:s}", "name", ifc->name);
	long len = -1;
	int port = 0;

	if (spawn_run(argv, &big, &res, NULL) == 0 && res.exited && res.status == 0 &&
	    res.out.data)
		len = wg_status_lines(res.out.data, &port);
	if (len >= 0) {
		json_object_set_new(j, "up", json_true());
		json_object_set_new(j, "listen_port", json_integer(port));
		json_object_set_new(j, "peer_lines", json_stringn(res.out.data, (size_t)len));
	} else {
		json_object_set_new(j, "up", json_false());
	}
	if (res.out.data)
		buf_release_secure(&res.out);
	spawn_result_release(&res);
	return j;
}

static int by_key(const void *a, const void *b)
{
	const struct wg_key *x = &(*(const struct wg_peer *const *)a)->public_key;
	const struct wg_key *y = &(*(const struct wg_peer *const *)b)->public_key;

	return x->set != y->set ? x->set - y->set : key_cmp(x, y);
}

/* The desired peer of a key in idx (sorted by key), or NULL. */
static const struct wg_peer *peer_by_key(const struct wg_peer **idx, size_t n, const char *key)
{
	struct wg_peer probe;
	const struct wg_peer *pp = &probe, **hit;

	if (key_from_text(&probe.public_key, key) < 0 || !KEY_HAS(&probe.public_key))
		return NULL;
	hit = bsearch(&pp, idx, n, sizeof(*idx), by_key);
	return hit ? *hit : NULL;
}

/* The "peers" array of `atlas wg status` from an interface's peer_lines. */
static json_t *peers_json(const struct wg_iface *ifc, const char *lines, time_t now)
{
	const struct wg_peer **idx = xcalloc(ifc->npeers + 1, sizeof(*idx));
	char *text = xstrdup(lines), *rest = text, *line, *f[6];
	json_t *peers = json_array();

	for (size_t i = 0; i < ifc->npeers; i++)
		idx[i] = &ifc->peers[i];
	qsort(idx, ifc->npeers, sizeof(*idx), by_key);
	while ((line = strsep(&rest, "\n")) && *line) {
		const struct wg_peer *dp;
		long long hs;

		if (wg_split_tabs(line, f, 6) != 5)
			continue;
		dp = peer_by_key(idx, ifc->npeers, f[0]);
		hs = atoll(f[2]);
		json_array_append_new(
			peers, json_pack("{s:s?, s:s, s:s?, s:I, s:I, s:I, s:b}", "name",
					 dp ? dp->name : NULL, "public_key", f[0], "endpoint",
					 *f[1] ? f[1] : NULL, "latest_handshake", (json_int_t)hs,
					 "rx_bytes", (json_int_t)strtoull(f[3], NULL, 10), "tx_bytes",
					 (json_int_t)strtoull(f[4], NULL, 10), "connected",
					 wg_handshake_live(hs, now)));
	}
	free(text);
	free(idx);
	return peers;
}

void wg_status_named(json_t *status, const struct atlas_state *desired, time_t now)
{
	json_t *ifj;
	size_t k;

	json_array_foreach(json_object_get(status, "interfaces"), k, ifj)
	{
		const char *name = json_string_value(json_object_get(ifj, "name"));

		for (size_t i = 0; name && i < desired->wireguard.ninterfaces; i++) {
			const struct wg_iface *ifc = &desired->wireguard.interfaces[i];

			if (strcmp(ifc->name, name))
				continue;
			json_object_set_new(ifj, "peers",
					    peers_json(ifc,
						       json_string_value(json_object_get(
							       ifj, "peer_lines")) ?: "",
						       now));
			json_object_del(ifj, "peer_lines");
		}
	}
}

json_t *wg_status(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	json_t *ifaces = json_array();

	(void)ctx;
	for (size_t i = 0; desired->has_wireguard && i < desired->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &desired->wireguard.interfaces[i];

		if (desired->wireguard.enabled && !ifc->disabled)
			json_array_append_new(ifaces, iface_status(ifc));
	}
	return json_pack("{s:o}", "interfaces", ifaces);
}
