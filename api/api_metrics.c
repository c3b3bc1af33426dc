/*
 * api_metrics.c - /metrics in the Prometheus text format: traffic and
 * handshake age per WireGuard peer, traffic per OpenVPN client, connected
 * counts, apply runs and failures, generations, Atlas's own RSS.
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

#include "api.h"

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

static int token_ok(struct req *r)
{
	const char *want = r->app->metrics_token, *h = req_header(r, "Authorization");

	if (!want)
		return 1;
	if (!h || strncasecmp(h, "Bearer ", 7) || strlen(h + 7) != strlen(want))
		return 0;
	return CRYPTO_memcmp(h + 7, want, strlen(want)) == 0;
}

static long long self_rss(void)
{
	long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lld %lld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * sysconf(_SC_PAGESIZE);
}

static void wg_metrics(struct buf *b, json_t *wl, const struct atlas_state *st)
{
	static const char *const names[] = { "atlas_wireguard_peer_rx_bytes",
					     "atlas_wireguard_peer_tx_bytes",
					     "atlas_wireguard_peer_handshake_age_seconds" };
	static const char *const keys[] = { "rx_bytes", "tx_bytes", "latest_handshake" };
	time_t now = time(NULL);
	json_t *i, *p;
	size_t k, m;

	for (int n = 0; n < 3; n++) {
		head(b, names[n], n < 2 ? "counter" : "gauge",
		     n == 0 ? "bytes received from the peer"
		     : n == 1 ? "bytes sent to the peer"
			      : "seconds since the last handshake (absent: never)");
		json_array_foreach(json_object_get(wl, "interfaces"), k, i) {
			const char *ifname = json_string_value(json_object_get(i, "name"));
			const struct wg_iface *ifc = st && ifname ? state_wg_iface(st, ifname) : NULL;

			json_array_foreach(json_object_get(i, "peers"), m, p) {
				const char *pk = json_string_value(json_object_get(p, "public_key"));
				const char *name = NULL;
				json_int_t v = json_integer_value(json_object_get(p, keys[n]));

				for (size_t q = 0; ifc && pk && q < ifc->npeers; q++)
					if (!strcmp(ifc->peers[q].public_key, pk))
						name = ifc->peers[q].name;
				if (n == 2) {
					if (v <= 0)
						continue;
					v = now - v;
				}
				buf_printf(b, "%s{interface=", names[n]);
				label(b, ifname);
				buf_puts(b, ",peer=");
				label(b, name ? name : pk);
				buf_printf(b, "} %lld\n", (long long)v);
			}
		}
	}
}

static void ovpn_metrics(struct buf *b, json_t *ol)
{
	json_t *c;
	size_t k;

	head(b, "atlas_openvpn_client_bytes_received", "counter", "bytes received from the client");
	json_array_foreach(json_object_get(ol, "clients"), k, c) {
		buf_puts(b, "atlas_openvpn_client_bytes_received{client=");
		label(b, json_string_value(json_object_get(c, "name")));
		buf_printf(b, "} %lld\n",
			   (long long)json_integer_value(json_object_get(c, "bytes_received")));
	}
	head(b, "atlas_openvpn_client_bytes_sent", "counter", "bytes sent to the client");
	json_array_foreach(json_object_get(ol, "clients"), k, c) {
		buf_puts(b, "atlas_openvpn_client_bytes_sent{client=");
		label(b, json_string_value(json_object_get(c, "name")));
		buf_printf(b, "} %lld\n",
			   (long long)json_integer_value(json_object_get(c, "bytes_sent")));
	}
	head(b, "atlas_openvpn_clients_connected", "gauge", "connected OpenVPN clients");
	buf_printf(b, "atlas_openvpn_clients_connected %zu\n",
		   json_array_size(json_object_get(ol, "clients")));
}

void h_metrics(struct req *r)
{
	struct app *a = r->app;
	struct atlas_err err = { 0 };
	const struct atlas_state *st;
	json_t *wl, *ol;
	struct buf b = BUF_INIT;
	int64_t gen = 0, applied;
	uint64_t runs, fails;
	size_t connected = 0;

	if (!token_ok(r)) {
		reply_error(r, 401, NULL, "metrics token required: Authorization: Bearer TOKEN");
		return;
	}
	wl = app_live(a, "wireguard");
	ol = app_live(a, "openvpn");
	st = app_state_acquire(a, &gen, &err);
	wg_metrics(&b, wl, st);
	{
		json_t *i, *p;
		size_t k, m;
		time_t now = time(NULL);

		json_array_foreach(json_object_get(wl, "interfaces"), k, i)
			json_array_foreach(json_object_get(i, "peers"), m, p) {
				json_int_t hs = json_integer_value(json_object_get(p, "latest_handshake"));

				connected += hs > 0 && now - hs < 180;
			}
	}
	if (st)
		app_state_put(a);
	head(&b, "atlas_wireguard_peers_connected", "gauge",
	     "peers with a handshake in the last 3 minutes");
	buf_printf(&b, "atlas_wireguard_peers_connected %zu\n", connected);
	ovpn_metrics(&b, ol);
	pthread_mutex_lock(&a->stats_mu);
	runs = a->runs_total;
	fails = a->runs_failed;
	pthread_mutex_unlock(&a->stats_mu);
	pthread_mutex_lock(&a->store_mu);
	applied = store_applied_generation(a->store);
	pthread_mutex_unlock(&a->store_mu);
	head(&b, "atlas_apply_runs_total", "counter", "apply runs since atlas started");
	buf_printf(&b, "atlas_apply_runs_total %llu\n", (unsigned long long)runs);
	head(&b, "atlas_apply_failures_total", "counter", "failed apply runs since atlas started");
	buf_printf(&b, "atlas_apply_failures_total %llu\n", (unsigned long long)fails);
	head(&b, "atlas_desired_generation", "gauge", "generation of the desired state");
	buf_printf(&b, "atlas_desired_generation %lld\n", (long long)gen);
	head(&b, "atlas_applied_generation", "gauge", "generation last applied successfully");
	buf_printf(&b, "atlas_applied_generation %lld\n", (long long)applied);
	head(&b, "atlas_engine_running", "gauge", "1 when the engine's daemon or interface runs");
	{
		json_t *i;
		size_t k;
		int wr = 0;

		json_array_foreach(json_object_get(wl, "interfaces"), k, i)
			wr |= json_is_true(json_object_get(i, "running"));
		buf_printf(&b, "atlas_engine_running{engine=\"wireguard\"} %d\n", wr);
		buf_printf(&b, "atlas_engine_running{engine=\"openvpn\"} %d\n",
			   json_is_true(json_object_get(ol, "running")));
	}
	head(&b, "atlas_resident_memory_bytes", "gauge", "resident memory of atlas serve");
	buf_printf(&b, "atlas_resident_memory_bytes %lld\n", self_rss());
	reply_data(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_release(&b);
	json_decref(wl);
	json_decref(ol);
}
