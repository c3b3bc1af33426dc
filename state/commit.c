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

/*
 * Drops the rule problems (from index from on) found at the position of a
 * value the decoder refused (indexes [dec, from)): the same value, told
 * twice. Also those about a value that is not in the file at all (no
 * position): a refused or missing value left its default there, and the
 * rule broken is a consequence ("listen_port 0 is already used").
 */
static void drop_repeats(struct diags *d, size_t dec, size_t from)
{
	size_t k = from;

	for (size_t i = from; i < d->n; i++) {
		int seen = !d->v[i].line;

		for (size_t j = dec; j < from && !seen; j++)
			seen = d->v[i].line && d->v[i].line == d->v[j].line &&
			       d->v[i].col == d->v[j].col;
		if (seen) {
			free(d->v[i].msg);
			free(d->v[i].field);
			continue;
		}
		d->v[k++] = d->v[i];
	}
	d->n = k;
}

struct atlas_state *state_parse_check(const char *text, size_t len, const struct atlas_state *old,
				      struct posmap *pm, struct diags *d, struct atlas_err *err)
{
	size_t before = d->n, bad = 0;
	struct atlas_state *st = state_from_yaml_partial(text, len, d, pm, &bad);
	int rc;

	if (!st) {
		err_set(err, ERR_INVALID, "%s", d->n > before ? d->v[before].msg : "invalid YAML");
		return NULL;
	}
	/* the rules run even when a value was refused: every problem at once */
	rc = state_check(st, old, pm, d, err);
	if (bad) {
		drop_repeats(d, before, before + bad);
		err_set(err, ERR_INVALID, "%s", d->v[before].msg);
	}
	if (rc < 0 || bad) {
		state_free(st);
		return NULL;
	}
	return st;
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
	struct atlas_state *old = NULL, *st = NULL;
	int ret = -1;

	if (store_load(s, &old, NULL, err) < 0)
		goto out;
	st = state_parse_check(text, len, old, &pm, d, err);
	if (!st)
		goto out;
	ret = store_save(s, st, trigger, trigger, gen, err);
out:
	posmap_clear(&pm);
	state_free(st);
	state_free(old);
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
