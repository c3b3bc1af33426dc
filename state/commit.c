/*
 * commit.c - complete, validate, store.
 */
#include <stdio.h>
#include <stdlib.h>

#include "state/commit.h"
#include "state/complete.h"
#include "state/validate.h"
#include "state/yaml.h"

int state_check(struct atlas_state *next, const struct atlas_state *old, struct posmap *pm,
		struct diags *d, struct atlas_err *err)
{
	size_t before = d->n;

	if (state_complete(next, old, d, err) < 0)
		return -1;
	state_validate(next, d);
	diags_resolve(d, pm);
	if (d->n > before)
		return err_set(err, ERR_INVALID, "%s", d->v[before].msg);
	state_sort(next);
	return 0;
}

int state_commit(struct store *s, struct atlas_state *next, struct posmap *pm,
		 const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		 struct atlas_err *err)
{
	struct atlas_state *old = NULL;
	int ret = -1;

	if (store_load(s, &old, NULL, err) < 0)
		goto out;
	if (state_check(next, old, pm, d, err) < 0)
		goto out;
	if (store_save(s, next, trigger, summary, gen, err) < 0)
		goto out;
	ret = 0;
out:
	state_free(old);
	return ret;
}

int state_import_yaml(struct store *s, const char *text, size_t len, const char *trigger,
		      struct diags *d, int64_t *gen, struct atlas_err *err)
{
	struct posmap pm = { 0 };
	struct atlas_state *st;
	int ret = -1;

	st = state_from_yaml(text, len, d, &pm);
	if (!st) {
		err_set(err, ERR_INVALID, "%s", d->n ? d->v[0].msg : "invalid YAML");
		goto out;
	}
	ret = state_commit(s, st, &pm, trigger, trigger, d, gen, err);
out:
	posmap_clear(&pm);
	state_free(st);
	return ret;
}

int state_restore(struct store *s, int64_t gen, struct diags *d, int64_t *newgen,
		  struct atlas_err *err)
{
	struct buf yaml = BUF_INIT;
	char trigger[64];
	int ret = -1;

	if (store_generation_yaml(s, gen, &yaml, err) < 0)
		goto out;
	snprintf(trigger, sizeof(trigger), "restore %lld", (long long)gen);
	ret = state_import_yaml(s, yaml.data, yaml.len, trigger, d, newgen, err);
out:
	buf_release_secure(&yaml);
	return ret;
}
