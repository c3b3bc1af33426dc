/*
 * ovpn_test_util.h - helpers of the OpenVPN unit tests: a state from YAML
 * text, and golden files under tests/unit/golden/ovpn/ (testutil.h).
 */
#ifndef ATLAS_OVPN_TEST_UTIL_H
#define ATLAS_OVPN_TEST_UTIL_H

#include "testutil.h"
#include "lib/fileio.h"
#include "state/commit.h"
#include "state/yaml.h"

static struct atlas_state *test_state(const char *yaml)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st = state_from_yaml(yaml, strlen(yaml), &d, NULL);

	if (!st || state_check(st, NULL, NULL, &d, &err) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "test state: %s\n", d.v[i].msg);
		fail_msg("invalid test state");
	}
	diags_clear(&d);
	return st;
}

static void golden_check(const char *name, const char *got)
{
	char *path = xasprintf("tests/unit/golden/ovpn/%s", name);

	tu_golden(path, got);
	free(path);
}

#endif
