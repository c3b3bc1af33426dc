/*
 * wg_fixture.h - helpers shared by the WireGuard unit tests: a desired state
 * from YAML text or a fixture file, and the fixed "now" they use.
 */
#ifndef ATLAS_TEST_WG_FIXTURE_H
#define ATLAS_TEST_WG_FIXTURE_H

#include <time.h>

#include "state/yaml.h"
#include "testutil.h"

/* 2026-01-01 12:00:00 UTC */
#define FIXTURE_NOW ((time_t)1767268800)

static inline struct atlas_state *fixture_state(const char *text)
{
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(text, strlen(text), &d, NULL);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "fixture: %s\n", d.v[i].msg);
	diags_clear(&d);
	return st;
}

static inline struct atlas_state *fixture_file(const char *path)
{
	struct buf b = BUF_INIT;
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;

	if (file_read(path, 1 << 20, &b, &err) == 0)
		st = fixture_state(b.data);
	else
		fprintf(stderr, "fixture: %s\n", err.msg);
	buf_release(&b);
	return st;
}

#endif
