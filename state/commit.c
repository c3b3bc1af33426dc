/*
 * commit.c - complete, validate, store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "state/changes.h"
#include "state/commit.h"
#include "state/complete.h"
#include "state/schema.h"
#include "state/store_map.h"
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

/* ": settings host; openvpn section removed (2 removed)" after a summary. */
static void changes_brief(const json_t *changes, struct buf *out)
{
	const json_t *settings = json_object_get(changes, "settings");
	const json_t *engines = json_object_get(changes, "engines");
	const char *sep = ": ";
	size_t i;
	json_t *v;

	if (json_array_size(settings)) {
		buf_printf(out, "%ssettings", sep);
		json_array_foreach(settings, i, v)
			buf_printf(out, "%s%s", i ? ", " : " ",
				   json_string_value(json_object_get(v, "name")));
		sep = "; ";
	}
	json_array_foreach(engines, i, v) {
		const char *sec = json_string_value(json_object_get(v, "section"));
		static const char *const words[3] = { "added", "removed", "changed" };
		int first = 1;

		buf_printf(out, "%s%s", sep, json_string_value(json_object_get(v, "engine")));
		if (sec && strcmp(sec, "changed"))
			buf_printf(out, " section %s", sec);
		for (int c = 0; c < 3; c++) {
			json_int_t n = json_integer_value(json_object_get(v, words[c]));

			if (n)
				buf_printf(out, "%s%lld %s", first ? " (" : ", ", (long long)n, words[c]);
			first = first && !n;
		}
		if (!first)
			buf_puts(out, ")");
		sep = "; ";
	}
	if (!strcmp(sep, ": "))
		buf_puts(out, ": no change");
}

/* store_save's YAML of an edit of one peer: the last generation's, spliced. */
static int splice_cb(const char *last, size_t len, void *cls, struct buf *out)
{
	const struct commit_edit *e = ((void **)cls)[0];
	const struct atlas_state *next = ((void **)cls)[1];

	return state_yaml_peer_splice(last, len, e->old, next, e->ifname, e->po, e->pn, out);
}

/* store_save's rows of an edit of one peer: that peer's row only. */
static int rows_cb(struct sqlite3 *db, void *cls, struct store_map_stats *stats,
		   struct atlas_err *err)
{
	const struct commit_edit *e = ((void **)cls)[0];

	return store_map_save_elem(db, &schema_wg_iface, e->ifname, &schema_wg_peer, e->po, e->pn,
				   stats, err);
}

/* store_save's YAML of an edit of one sing-box user: the last generation's, spliced. */
static int sb_splice_cb(const char *last, size_t len, void *cls, struct buf *out)
{
	const struct commit_edit *e = ((void **)cls)[0];
	const struct atlas_state *next = ((void **)cls)[1];

	return state_yaml_sb_splice(last, len, e->old, next, e->inbound, &e->u, out);
}

/* store_save's rows of an edit of one sing-box user: theirs, and their subscription's. */
static int sb_rows_cb(struct sqlite3 *db, void *cls, struct store_map_stats *stats,
		      struct atlas_err *err)
{
	const struct commit_edit *e = ((void **)cls)[0];
	struct store_map_stats st = { 0 };

	if (store_map_save_elem(db, &schema_sb_inbound, e->inbound, &schema_sb_user, e->u.uo,
				e->u.un, stats, err) < 0)
		return -1;
	if (!e->u.so && !e->u.sn)
		return 0;
	if (store_map_save_elem(db, NULL, NULL, &schema_sb_subscription, e->u.so, e->u.sn, &st,
				err) < 0)
		return -1;
	if (stats) {
		stats->inserted += st.inserted;
		stats->updated += st.updated;
		stats->deleted += st.deleted;
		stats->kept += st.kept;
	}
	return 0;
}

/*
 * 1 when the stored state was last checked whole under the current rules:
 * only then may an edit of one element take the rest as valid (a state
 * stored before a rule was added may break it, and the full check says so).
 */
static int rules_current(struct store *s)
{
	char *v = store_meta_get(s, "rules_version");
	int ok = v && !strcmp(v, STATE_RULES_VERSION);

	free(v);
	return ok;
}

/* After a state checked whole was stored: the rules it was checked under. */
static void rules_mark(struct store *s)
{
	if (!rules_current(s))
		store_meta_set(s, "rules_version", STATE_RULES_VERSION, NULL);
}

static int commit_on(struct store *s, struct commit_edit *e, struct atlas_state *next,
		     struct posmap *pm, const char *trigger, const char *summary, struct diags *d,
		     int64_t *gen, struct atlas_err *err)
{
	struct atlas_state *loaded = NULL;
	const struct atlas_state *old = e ? e->old : NULL;
	int ret = -1, rc, fast_ok;

	if (!old && store_load(s, &loaded, NULL, err) < 0)
		goto out;
	fast_ok = e && e->old && !pm && rules_current(s);
	if (fast_ok && e->ifname) {
		rc = state_check_edit(next, old, e->ifname, &e->po, &e->pn, d, err);
		if (rc < 0)
			goto out;
		e->one_peer = rc;
	} else if (fast_ok && e->inbound) {
		rc = state_check_sb_edit(next, old, e->inbound, &e->u, d, err);
		if (rc < 0)
			goto out;
		e->one_user = rc;
	} else if (state_check(next, old ? old : loaded, pm, d, err) < 0) {
		goto out;
	}
	if (e && (e->one_peer || e->one_user)) {
		void *cls[2] = { e, next };

		if (store_save_edit(s, next, e->old_gen, e->base, e->one_peer ? splice_cb : sb_splice_cb,
				    e->one_peer ? rows_cb : sb_rows_cb, cls, trigger, summary, gen,
				    err) < 0)
			goto out;
	} else if (store_save_edit(s, next, -1, e ? e->base : 0, NULL, NULL, NULL, trigger, summary,
				   gen, err) < 0) {
		goto out;
	} else {
		rules_mark(s);
	}
	ret = 0;
out:
	state_free(loaded);
	return ret;
}

int state_commit(struct store *s, struct atlas_state *next, struct posmap *pm,
		 const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		 struct atlas_err *err)
{
	return commit_on(s, NULL, next, pm, trigger, summary, d, gen, err);
}

int state_commit_on(struct store *s, struct commit_edit *e, struct atlas_state *next,
		    const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		    struct atlas_err *err)
{
	e->one_peer = e->one_user = 0;
	e->po = e->pn = NULL;
	memset(&e->u, 0, sizeof(e->u));
	return commit_on(s, e, next, NULL, trigger, summary, d, gen, err);
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
	if (ret == 0)
		rules_mark(s);
out:
	posmap_clear(&pm);
	state_free(st);
	state_free(old);
	return ret;
}

/*
 * A person's subscription token is the current one in a restored state: a
 * token is rotated to revoke a URL that leaked, and a restore must not make
 * it work again. A person who has no subscription now gets the restored one.
 */
static void keep_tokens(struct atlas_state *st, const struct atlas_state *cur)
{
	struct sb_section *sb = &st->singbox;

	if (!st->has_singbox || !cur->has_singbox)
		return;
	for (size_t i = 0; i < sb->nsubscriptions; i++) {
		struct sb_subscription *s = &sb->subscriptions[i];
		const struct sb_subscription *c = state_sb_subscription(cur, s->name);

		if (c && c->token && (!s->token || strcmp(s->token, c->token))) {
			if (s->token)
				OPENSSL_cleanse(s->token, strlen(s->token));
			free(s->token);
			s->token = xstrdup(c->token);
		}
	}
}

int state_restore_preview(struct store *s, int64_t gen, int with_settings,
			  struct atlas_state **target, json_t **changes, struct atlas_err *err)
{
	struct buf yaml = BUF_INIT;
	struct atlas_state *cur = NULL, *st = NULL;
	struct diags d = { 0 };
	int ret = -1;

	*target = NULL;
	if (changes)
		*changes = NULL;
	if (store_load(s, &cur, NULL, err) < 0 || store_generation_yaml(s, gen, &yaml, err) < 0)
		goto out;
	st = state_from_yaml(yaml.data, yaml.len, &d, NULL);
	if (!st) {
		err_set(err, ERR_INTERNAL, "generation %lld does not parse: %s", (long long)gen,
			d.n ? d.v[0].msg : "?");
		goto out;
	}
	/* how Atlas runs (apply mode and the like) is not part of what is restored */
	if (!with_settings)
		settings_keep_runtime(&st->settings, &cur->settings);
	keep_tokens(st, cur);
	if (state_check(st, cur, NULL, &d, err) < 0)
		goto out;
	if (changes)
		*changes = state_changes(cur, st);
	*target = st;
	st = NULL;
	ret = 0;
out:
	diags_clear(&d);
	state_free(st);
	state_free(cur);
	buf_release_secure(&yaml);
	return ret;
}

int state_restore(struct store *s, int64_t gen, int with_settings, int64_t *newgen,
		  struct atlas_err *err)
{
	struct atlas_state *st = NULL;
	json_t *changes = NULL;
	struct buf summary = BUF_INIT;
	char trigger[64];
	int ret = -1;

	if (state_restore_preview(s, gen, with_settings, &st, &changes, err) < 0)
		goto out;
	snprintf(trigger, sizeof(trigger), "restore %lld", (long long)gen);
	buf_printf(&summary, "restore generation %lld", (long long)gen);
	changes_brief(changes, &summary);
	ret = store_save(s, st, trigger, buf_str(&summary), newgen, err);
	if (ret == 0)
		rules_mark(s);
out:
	json_decref(changes);
	buf_release(&summary);
	state_free(st);
	return ret;
}
