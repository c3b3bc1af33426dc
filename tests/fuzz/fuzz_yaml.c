/*
 * fuzz_yaml.c - libFuzzer target for the YAML importer.
 *
 * Any input must either be rejected with at least one diagnostic, or parse
 * into a state whose export parses again into the same export (the round-trip
 * property), after completion and validation ran on it. Crashes, leaks and
 * undefined behaviour are caught by the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/commit.h"
#include "state/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_state *st, *again;
	struct buf y1 = BUF_INIT, y2 = BUF_INIT;

	st = state_from_yaml((const char *)data, size, &d, &pm);
	if (!st) {
		if (d.n == 0)
			abort();	/* rejected without saying why */
		goto out;
	}
	state_to_yaml(st, 1, &y1);
	again = state_from_yaml(y1.data, y1.len, &d, NULL);
	if (!again) {
		fprintf(stderr, "export did not parse again:\n%s\n", y1.data);
		abort();
	}
	state_to_yaml(again, 1, &y2);
	if (strcmp(y1.data, y2.data))
		abort();
	state_free(again);
	/* Completion and validation must cope with anything the parser accepts. */
	state_check(st, NULL, &pm, &d, NULL);
out:
	state_free(st);
	diags_clear(&d);
	posmap_clear(&pm);
	buf_release(&y1);
	buf_release(&y2);
	return 0;
}
