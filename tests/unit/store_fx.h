/*
 * store_fx.h - what the store tests (test_store*.c) share: an import that
 * must succeed, and a commit whose state must load back exactly.
 */
#ifndef ATLAS_STORE_FX_H
#define ATLAS_STORE_FX_H

#include "testutil.h"

#include "state/commit.h"
#include "state/store.h"
#include "state/yaml.h"

static inline void import_ok(struct store *s, const char *yaml, int64_t *gen)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };

	if (state_import_yaml(s, yaml, strlen(yaml), "test", &d, gen, &err) < 0)
		fail_msg("import: %s", err.msg);
	diags_clear(&d);
}

/* Stores st through state_commit; what loads back is exactly st. */
static inline void commit_and_check(struct store *s, struct atlas_state *st)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct buf want = BUF_INIT;
	char *got;
	int64_t gen;

	if (state_commit(s, st, NULL, "test", "test", &d, &gen, &err) < 0)
		fail_msg("commit: %s", err.msg);
	diags_clear(&d);
	state_to_yaml(st, 1, &want);
	got = tu_export_secrets(s);
	assert_string_equal(got, buf_str(&want));
	buf_release(&want);
	free(got);
}
#endif
