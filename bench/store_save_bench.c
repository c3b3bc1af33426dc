/*
 * store_save_bench.c - times "change one peer and save" through the C API,
 * the way the API and the CLI edit (store_load, edit one field,
 * state_commit), phase by phase, on a store holding N peers. Built and run by
 * bench/core.sh; prints figures (medians of REPS edits), asserts nothing.
 *
 * Phases: load (the state to edit), load old (state_commit reloads it to keep
 * secrets), check (complete, validate, sort), store_save (the row merge, the
 * YAML of the new generation, commit), and, apart, the YAML export with
 * secrets alone, which store_save does once per new generation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/commit.h"
#include "state/store.h"
#include "state/yaml.h"

#define PHASES 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int import_peers(struct store *s, int n, struct atlas_err *err)
{
	struct buf b = BUF_INIT;
	struct diags d = { 0 };
	int64_t gen;
	double t0 = now_s();
	int ret;

	buf_puts(&b, "version: 1\nsettings: {host: vpn.example.com}\nwireguard:\n  interfaces:\n"
		     "    - name: wg0\n      listen_port: 51820\n      address: [10.100.0.1/16]\n"
		     "      peers:\n");
	for (int i = 1; i <= n; i++)
		buf_printf(&b, "        - name: peer%05d\n", i);
	ret = state_import_yaml(s, b.data, b.len, "import", &d, &gen, err);
	if (ret == 0)
		printf("  %-46s %7.3f s\n", "import through the C API (keys generated)",
		       now_s() - t0);
	diags_clear(&d);
	buf_release(&b);
	return ret;
}

int main(int argc, char **argv)
{
	static const char *const names[PHASES] = { "load", "load old (in state_commit)",
						   "check (complete, validate, sort)",
						   "store_save (rows, generation, commit)",
						   "  of which: YAML export with secrets" };
	const char *dir = argc > 1 ? argv[1] : "/tmp/atlas-bench-save";
	int n = argc > 2 ? atoi(argv[2]) : 1000, reps = argc > 3 ? atoi(argv[3]) : 7;
	double *t = calloc((size_t)PHASES * (size_t)reps, sizeof(*t));
	struct atlas_err err = { 0 };
	struct store *s = NULL;
	int ret = 1;

	if (n < 1 || reps < 1 || store_open(dir, &s, &err) < 0 ||
	    (store_generation(s) == 0 && import_peers(s, n, &err) < 0))
		goto out;
	for (int r = 0; r < reps; r++) {
		struct atlas_state *st = NULL, *old = NULL;
		struct diags d = { 0 };
		struct buf yaml = BUF_INIT;
		struct wg_peer *p;
		double t0, t1, t2, t3, t4, t5;
		int64_t gen;
		int rc;

		t0 = now_s();
		rc = store_load(s, &st, NULL, &err);
		t1 = now_s();
		if (rc == 0 && st->wireguard.ninterfaces && st->wireguard.interfaces[0].npeers) {
			p = &st->wireguard.interfaces[0].peers[st->wireguard.interfaces[0].npeers / 2];
			p->keepalive = p->keepalive == 25 ? 0 : 25;
		}
		rc = rc < 0 ? rc : store_load(s, &old, NULL, &err);
		t2 = now_s();
		rc = rc < 0 ? rc : state_check(st, old, NULL, &d, &err);
		t3 = now_s();
		rc = rc < 0 ? rc : store_save(s, st, "bench", "one peer", &gen, &err);
		t4 = now_s();
		if (rc == 0)
			state_to_yaml(st, 1, &yaml);
		t5 = now_s();
		t[0 * reps + r] = t1 - t0;
		t[1 * reps + r] = t2 - t1;
		t[2 * reps + r] = t3 - t2;
		t[3 * reps + r] = t4 - t3;
		t[4 * reps + r] = t5 - t4;
		buf_release_secure(&yaml);
		diags_clear(&d);
		state_free(st);
		state_free(old);
		if (rc < 0)
			goto out;
	}
	printf("  change one peer's keepalive and save, %d peers (median of %d):\n", n, reps);
	for (int k = 0; k < PHASES; k++) {
		qsort(t + k * reps, (size_t)reps, sizeof(*t), by_value);
		printf("    %-44s %7.1f ms\n", names[k], t[k * reps + reps / 2] * 1e3);
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "store_save_bench: %s\n", err.msg);
	store_close(s);
	free(t);
	return ret;
}
