/*
 * usage_tick_bench.c - the cost of one accounting tick (api/usage_tick.c)
 * with N WireGuard peers that all have a quota: the first tick (every user
 * new), a tick where every counter moved, one where 1 % moved and one where
 * none did; wall time of each and the growth of the resident set. Prints
 * figures; asserts nothing. Usage: usage_tick_bench N DATADIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "state/keys.h"
#include "state/model.h"
#include "api/api.h"

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * 4;
}

/* The driver's status JSON of wg0: peer i at base + 7 i, plus bump for every every-th peer. */
static json_t *live_json(const struct wg_iface *ifc, long long base, size_t every, long long bump)
{
	json_t *peers = json_array();

	for (size_t i = 0; i < ifc->npeers; i++) {
		long long v = base + (long long)i * 7 + (every && i % every == 0 ? bump : 0);
		char key[KEY_B64];

		key_text(&ifc->peers[i].public_key, key);
		json_array_append_new(peers, json_pack("{s:s, s:I, s:I, s:I}", "public_key",
						       key, "rx_bytes",
						       (json_int_t)v, "tx_bytes", (json_int_t)(2 * v),
						       "latest_handshake", (json_int_t)0));
	}
	return json_pack("{s:[{s:s, s:b, s:o}]}", "interfaces", "name", ifc->name, "up", 1, "peers",
			 peers);
}

static void tick(struct usage_book *b, const struct atlas_state *st, json_t *wg, const char *what)
{
	struct live_wg *lw = live_wg_from_json(wg);
	json_t *live = json_object();
	long before = rss_kib();
	int64_t t0 = clock_mono_ms();

	usage_book_tick(b, st, 0, live, lw, time(NULL), NULL);
	printf("  %-34s %6lld ms   RSS %+6ld KiB (now %ld KiB)\n", what,
	       (long long)(clock_mono_ms() - t0), rss_kib() - before, rss_kib());
	live_wg_free(lw);
	json_decref(live);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	struct atlas_state *st = state_new();
	struct atlas_err err = { 0 };
	struct usage_book *b;
	struct wg_iface *ifc;
	json_t *wg;
	long start;

	if (argc < 3)
		return 2;
	st->has_wireguard = 1;
	st->wireguard.enabled = 1;
	st->wireguard.ninterfaces = 1;
	st->wireguard.interfaces = xcalloc(1, sizeof(*ifc));
	ifc = &st->wireguard.interfaces[0];
	ifc->name = xstrdup("wg0");
	ifc->npeers = n;
	ifc->peers = xcalloc(n, sizeof(*ifc->peers));
	for (size_t i = 0; i < n; i++) {
		ifc->peers[i].name = xasprintf("peer%05zu", i);
		char key[KEY_B64 + 8];

		snprintf(key, sizeof(key), "%043zuA=", i);
		key[44] = '\0';
		key_from_text(&ifc->peers[i].public_key, key);
		ifc->peers[i].quota = xstrdup("20GiB");
	}
	start = rss_kib();
	if (!(b = usage_book_new(argv[2], &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("usage tick, %zu peers with a quota (RSS at start %ld KiB)\n", n, start);
	wg = live_json(ifc, 1000, 0, 0);
	tick(b, st, wg, "first tick (every user new)");
	json_decref(wg);
	wg = live_json(ifc, 5000, 0, 0);
	tick(b, st, wg, "every counter moved");
	json_decref(wg);
	wg = live_json(ifc, 5000, 100, 4096);
	tick(b, st, wg, "1 % of the counters moved");
	tick(b, st, wg, "nothing moved");
	json_decref(wg);
	printf("  RSS growth over the run: %ld KiB\n", rss_kib() - start);
	usage_book_free(b);
	state_free(st);
	return 0;
}
