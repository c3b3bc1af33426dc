/*
 * store_fx.h - what the store tests (test_store*.c) share: an import that
 * must succeed, a commit whose state must load back exactly, and the reload
 * a commit must equal (loaded_as).
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
#include "state/changes.h"
#include "state/schema.h"

/*
 * The state a commit leaves (completed, sorted: what api/app.c installs as
 * its cache) is the one a reload from the store gives, byte for byte
 * through the encoder and field for field. Returns the reload.
 */
static inline struct atlas_state *loaded_as(struct store *s, const struct atlas_state *next, int64_t *gen)
{
	struct atlas_state *loaded = NULL;
	struct atlas_err err = { 0 };
	struct buf a = BUF_INIT, b = BUF_INIT;

	assert_int_equal(store_load(s, &loaded, gen, &err), 0);
	state_to_yaml(next, 1, &a);
	state_to_yaml(loaded, 1, &b);
	if (strcmp(buf_str(&a), buf_str(&b)))
		fail_msg("the committed state is not the one stored");
	assert_true(state_tree_same(&schema_root, next, loaded, NULL));
	buf_release_secure(&a);
	buf_release_secure(&b);
	return loaded;
}

#endif
