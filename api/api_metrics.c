/*
 * api_metrics.c - /metrics in the Prometheus text format: traffic and
 * handshake age per WireGuard peer, traffic per OpenVPN client and per
 * sing-box user, connected counts, apply runs and failures, generations, Atlas's own RSS.
 *
 * With ATLAS_METRICS_TOKEN set (app->metrics_token), the scraper must send
 * "Authorization: Bearer TOKEN"; without it /metrics is open (bind the
 * server to 127.0.0.1 or a private address then).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/proc.h"
#include "state/active.h"
#include "api/api.h"
#include "state/usage_store.h"

/* Appends v as a Prometheus label value (escaping \ " and newline). */
static void label(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n') {
			buf_puts(b, "\\n");
			continue;
		}
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample without labels, under its HELP and TYPE lines. */
static void metric(struct buf *b, const char *name, const char *type, const char *help,
		   long long v)
{
	head(b, name, type, help);
	buf_printf(b, "%s %lld\n", name, v);
}

static int token_ok(struct req *r)
{
	const char *want = r->app->metrics_token, *h = req_header(r, "Authorization");

	if (!want)
		return 1;
	if (!h || strncasecmp(h, "Bearer ", 7) || strlen(h + 7) != strlen(want))
		return 0;
	return CRYPTO_memcmp(h + 7, want, strlen(want)) == 0;
}

/* live_mu held. */
static void wg_metrics(struct buf *b, const struct live_wg *lw, const struct atlas_state *st)
{
	static const char *const names[] = {"atlas_wireguard_peer_rx_bytes",
					    "atlas_wireguard_peer_tx_bytes",
					    "atlas_wireguard_peer_handshake_age_seconds"};
	static const char *const help[] = {"bytes received from the peer", "bytes sent to the peer",
					   "seconds since the last handshake (absent: never)"};
	time_t now = time(NULL);
	size_t connected = 0;

	for (int n = 0; n < 3; n++) {
		head(b, names[n], n < 2 ? "counter" : "gauge", help[n]);
		for (size_t i = 0; st && lw && i < st->wireguard.ninterfaces; i++) {
			const struct wg_iface *ifc = &st->wireguard.interfaces[i];
			const struct live_iface *li = live_wg_iface(lw, ifc->name);

			for (size_t q = 0; li && q < ifc->npeers; q++) {
				const struct live_peer *lp =
				    live_wg_peer(li, &ifc->peers[q].public_key);
				long long v;

				if (!lp)
					continue;
				v = n == 0 ? lp->rx : n == 1 ? lp->tx : now - lp->handshake;
				if (n == 2 && lp->handshake <= 0)
					continue;
				if (n == 2 && wg_handshake_live(lp->handshake, now))
					connected++;
				buf_printf(b, "%s{interface=", names[n]);
				label(b, ifc->name);
				buf_puts(b, ",peer=");
				label(b, ifc->peers[q].name);
				buf_printf(b, "} %lld\n", v);
			}
		}
	}
	metric(b, "atlas_wireguard_peers_connected", "gauge",
	       "peers with a handshake in the last 3 minutes", (long long)connected);
}

/*
 * The per-object metrics of an engine's live status (GET /status's shape):
 * NAME{LABEL="the object's name"} its KEY, for every object of its LIST.
 */
static const struct live_metric {
	const char *engine, *list, *lab, *name, *type, *help, *key;
} live_metrics[] = {
	{ "openvpn", "clients", "client", "atlas_openvpn_client_bytes_received", "counter",
	  "bytes received from the client", "bytes_received" },
	{ "openvpn", "clients", "client", "atlas_openvpn_client_bytes_sent", "counter",
	  "bytes sent to the client", "bytes_sent" },
	{ "singbox", "users", "user", "atlas_singbox_user_uplink_bytes", "counter",
	  "bytes the user sent through sing-box", "uplink_bytes" },
	{ "singbox", "users", "user", "atlas_singbox_user_downlink_bytes", "counter",
	  "bytes sing-box sent to the user", "downlink_bytes" },
	{ "singbox", "users", "user", "atlas_singbox_user_connections", "gauge",
	  "open sing-box connections of the user", "connections" },
};

static void engine_metrics(struct buf *b, const char *engine, json_t *live)
{
	json_t *e;
	size_t k;

	for (size_t i = 0; i < sizeof(live_metrics) / sizeof(live_metrics[0]); i++) {
		const struct live_metric *m = &live_metrics[i];

		if (strcmp(m->engine, engine))
			continue;
		head(b, m->name, m->type, m->help);
		json_array_foreach(json_object_get(live, m->list), k, e)
		{
			buf_printf(b, "%s{%s=", m->name, m->lab);
			label(b, json_string_value(json_object_get(e, "name")));
			buf_printf(b, "} %lld\n",
				   (long long)json_integer_value(json_object_get(e, m->key)));
		}
	}
}

/*
 * The persisted per-user counters (usage_tick.c): monotonic, they go on
 * across engine restarts, reloads and restarts of atlas serve.
 */
static void user_metrics(struct buf *b, const struct usage_view *u)
{
	static const char *const names[] = { "atlas_user_rx_bytes_total", "atlas_user_tx_bytes_total" };
	static const char *const help[] = { "bytes the user sent (upload), all time",
					    "bytes the user received (download), all time" };

	for (int k = 0; k < 2; k++) {
		head(b, names[k], "counter", help[k]);
		for (size_t i = 0; i < u->n; i++) {
			buf_printf(b, "%s{engine=", names[k]);
			label(b, u->v[i].engine);
			buf_puts(b, ",user=");
			label(b, u->v[i].user);
			buf_printf(b, "} %lld\n", k ? u->v[i].tx_total : u->v[i].rx_total);
		}
	}
}

void h_metrics(struct req *r)
{
	struct app *a = r->app;
	struct atlas_err err = {0};
	const struct atlas_state *st;
	json_t *ol, *sl;
	int wg_running = 0;
	struct buf b = BUF_INIT;
	int64_t gen = 0, applied;
	uint64_t runs, fails;

	if (!token_ok(r)) {
		reply_error(r, 401, NULL, "metrics token required: Authorization: Bearer TOKEN");
		return;
	}
	ol = app_live(a, "openvpn");
	sl = app_live(a, "singbox");
	st = app_state_acquire(a, &gen, &err);
	pthread_mutex_lock(&a->live_mu);
	wg_metrics(&b, a->live_wg, st);
	for (size_t i = 0; a->live_wg && i < a->live_wg->n; i++)
		wg_running |= a->live_wg->ifs[i].running;
	pthread_mutex_unlock(&a->live_mu);
	if (st)
		app_state_put(a);
	engine_metrics(&b, "openvpn", ol);
	metric(&b, "atlas_openvpn_clients_connected", "gauge", "connected OpenVPN clients",
	       (long long)json_array_size(json_object_get(ol, "clients")));
	engine_metrics(&b, "singbox", sl);
	metric(&b, "atlas_singbox_connections", "gauge", "open sing-box connections",
	       (long long)json_integer_value(json_object_get(sl, "connections")));
	pthread_mutex_lock(&a->stats_mu);
	runs = a->runs_total;
	fails = a->runs_failed;
	pthread_mutex_unlock(&a->stats_mu);
	pthread_mutex_lock(&a->store_mu);
	applied = store_applied_generation(a->store);
	{
		struct usage_view u;

		if (usage_store_load(a->store, &u, NULL) == 0) {
			user_metrics(&b, &u);
			usage_view_release(&u);
		}
	}
	pthread_mutex_unlock(&a->store_mu);
	metric(&b, "atlas_apply_runs_total", "counter", "apply runs since atlas started",
	       (long long)runs);
	metric(&b, "atlas_apply_failures_total", "counter", "failed apply runs since atlas started",
	       (long long)fails);
	metric(&b, "atlas_desired_generation", "gauge", "generation of the desired state", gen);
	metric(&b, "atlas_applied_generation", "gauge", "generation last applied successfully",
	       applied);
	head(&b, "atlas_engine_running", "gauge", "1 when the engine's daemon or interface runs");
	buf_printf(&b, "atlas_engine_running{engine=\"wireguard\"} %d\n", wg_running);
	buf_printf(&b, "atlas_engine_running{engine=\"openvpn\"} %d\n",
		   json_is_true(json_object_get(ol, "running")));
	buf_printf(&b, "atlas_engine_running{engine=\"singbox\"} %d\n",
		   json_is_true(json_object_get(sl, "running")));
	metric(&b, "atlas_resident_memory_bytes", "gauge", "resident memory of atlas serve",
	       proc_rss_bytes());
	reply_data(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_release(&b);
	json_decref(ol);
	json_decref(sl);
}
