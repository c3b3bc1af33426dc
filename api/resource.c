/*
 * resource.c - the handlers of every resource kind of the API (list, get,
 * create, patch, delete, client files), driven by its descriptor
 * (resource.h) and its field table. Reads come from the cached desired
 * state; writes decode onto a copy of the stored state and go through
 * state_commit() (app_edit_*).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"
#include "api/list_cache.h"
#include "api/resource.h"

/* How many parents d has: its own name is path parameter depth(d). */
static size_t depth(const struct resource *d)
{
	size_t k = 0;

	for (; d->parent; d = d->parent)
		k++;
	return k;
}

/* The field of schema_root that d's section is (settings are an F_OBJ, always present). */
static const struct field *section_field(const struct resource *d)
{
	const struct field *f = schema_field(&schema_root, d->section);

	assert(f && (f->type == F_SECTION || (f->type == F_OBJ && !d->list)));
	return f;
}

static int section_present(const struct atlas_state *st, const struct field *sf)
{
	return sf->type != F_SECTION || *(const int *)((const char *)st + sf->aux_off);
}

/* The F_LIST field that holds d's items, in its section or parent. */
static const struct field *list_field(const struct resource *d)
{
	const struct schema *owner = d->parent ? d->parent->schema : section_field(d)->sub;
	const struct field *f = schema_field(owner, d->list);

	assert(f && f->type == F_LIST && f->sub == d->schema);
	return f;
}

/* Every item starts with its char *name (see state/model.h). */
static const char *item_name(const void *item)
{
	return *(char *const *)item;
}

/* The item of d called name in owner's list (borrowed), or NULL. */
static char *item_in(const struct resource *d, char *owner, const char *name)
{
	const struct field *lf = list_field(d);
	char *items = *(char **)(owner + lf->off);
	size_t n = *(size_t *)(owner + lf->aux_off), size = d->schema->size, lo = 0, hi = n;

	/* Stored states are sorted by name: try bisection first. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *mn = item_name(items + mid * size);
		int c = strcmp(mn ? mn : "", name);

		if (c == 0)
			return items + mid * size;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < n; i++)
		if (item_name(items + i * size) && !strcmp(item_name(items + i * size), name))
			return items + i * size;
	return NULL;
}

/*
 * What holds d's list in st, following the names of the path: its section
 * (NULL when absent) or its parent item (NULL when absent: *missing is then
 * the first resource that is not there). Borrowed.
 */
static char *owner_of(const struct resource *d, const struct atlas_state *st,
		      const char (*names)[128], const struct resource **missing)
{
	char *po, *p;

	if (!d->parent) {
		const struct field *sf = section_field(d);

		return section_present(st, sf) ? (char *)st + sf->off : NULL;
	}
	po = owner_of(d->parent, st, names, missing);
	p = po ? item_in(d->parent, po, names[depth(d->parent)]) : NULL;
	if (!p && !*missing)
		*missing = d->parent;
	return p;
}

/* Checks the names of the path down to d (and d's own when self). */
static int names_ok(struct req *r, const struct resource *d, int self)
{
	if (d->parent && names_ok(r, d->parent, 1) < 0)
		return -1;
	return self ? app_name_param(r, depth(d), d->schema->name) : 0;
}

static void reply_missing(struct req *r, const struct resource *m)
{
	size_t k = depth(m);

	if (m->parent)
		reply_error(r, 404, NULL, "no %s \"%s\" on %s \"%s\"", m->title, r->params[k],
			    m->parent->title, r->params[k - 1]);
	else
		reply_error(r, 404, NULL, "no %s \"%s\"", m->title, r->params[k]);
}

/* The item of d named by r's path in st (borrowed) and its *owner, or NULL after a 404. */
static char *item_get(struct req *r, const struct resource *d, const struct atlas_state *st,
		      char **owner)
{
	const struct resource *missing = NULL;
	char *it = NULL;

	*owner = owner_of(d, st, (const char(*)[128])r->params, &missing);
	if (*owner)
		it = item_in(d, *owner, r->params[depth(d)]);
	if (!it)
		reply_missing(r, missing ? missing : d);
	return it;
}

/* "wg0/alice": the names of the path down to d's parent, then name (new). */
static char *id_path(struct req *r, const struct resource *d, const char *name)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < depth(d); i++)
		buf_printf(&b, "%s/", r->params[i]);
	buf_puts(&b, name);
	return buf_detach(&b);
}

/* Appends the JSON of item: its fields, the length of its lists, write_extra. */
static void item_write(struct buf *out, const struct resource *d, const void *parent,
		       const void *item, void *live)
{
	const struct schema *s = d->schema;

	buf_putc(out, '{');
	json_write_fields(s, item, out);
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].type == F_LIST) {
			buf_putc(out, ',');
			json_write_str(out, s->fields[i].name);
			buf_printf(out, ":%zu",
				   *(const size_t *)((const char *)item + s->fields[i].aux_off));
		}
	if (d->write_extra)
		d->write_extra(out, parent, item, live);
	buf_putc(out, '}');
}

/*
 * Replies with n items (from items on) of d, or one item (one: 1) as an
 * object; a list is kept in the cache under key when key is not NULL.
 */
static void reply_items(struct req *r, int status, const struct resource *d, const char *owner,
			const char *items, size_t n, int one, const struct list_key *key)
{
	const void *parent = d->parent ? owner : NULL;
	struct buf out = BUF_INIT;
	void *live = NULL;

	buf_grow(&out, 64 + n * 320);
	if (!one)
		buf_putc(&out, '[');
	if (d->live_acquire)
		live = d->live_acquire(r->app);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&out, ',');
		item_write(&out, d, parent, items + i * d->schema->size, live);
	}
	if (d->live_release)
		d->live_release(r->app, live);
	buf_puts(&out, one ? "\n" : "]\n");
	if (key)
		list_cache_put(r->app->lists, key, out.data, out.len, r->etag);
	reply_data(r, status, "application/json", out.data, out.len);
	buf_release(&out);
}

/* Replies with item name of d in the committed state st (its parents from r's path). */
static void reply_committed(struct req *r, int status, const struct resource *d,
			    const struct atlas_state *st, const char *name)
{
	const struct resource *missing = NULL;
	char names[3][128], *owner, *it = NULL;

	memcpy(names, r->params, sizeof(names));
	snprintf(names[depth(d)], sizeof(names[0]), "%s", name);
	owner = owner_of(d, st, (const char(*)[128])names, &missing);
	if (owner)
		it = item_in(d, owner, name);
	if (it)
		reply_items(r, status, d, owner, it, 1, 1, NULL);
	else
		reply_error(r, 500, NULL, "%s \"%s\" vanished", d->schema->name, name);
}

/*
 * What the list of d on r's path shows at generation gen: the live status
 * counts for a kind that shows it (list_cache.h).
 */
static void list_key_of(struct req *r, const struct resource *d, int64_t gen, struct list_key *k)
{
	size_t at = 0;

	memset(k, 0, sizeof(*k));
	k->kind = d;
	k->gen = gen;
	for (size_t i = 0; i < depth(d); i++)
		at += (size_t)snprintf(k->path + at, sizeof(k->path) - at, "%s/", r->params[i]);
	if (d->live_acquire) {
		pthread_mutex_lock(&r->app->live_mu);
		k->live_round = r->app->live_round;
		k->live[0] = r->app->live;
		k->live[1] = r->app->live_wg;
		pthread_mutex_unlock(&r->app->live_mu);
	}
}

/*
 * Answers from the list cache: 304 when If-None-Match names the ETag, else
 * the kept bytes. Returns 0 when the list must be serialised (r->etag is
 * then whatever the cache had: the serialisation sets it again).
 */
static int reply_cached(struct req *r, const struct list_key *k)
{
	int rc;

	buf_reset(&r->out);
	rc = list_cache_get(r->app->lists, k, r->etag, &r->out);
	if (rc < 0)
		return 0;
	if (r->conn && etag_matches(req_header(r, "If-None-Match"), r->etag)) {
		reply_data(r, 304, NULL, "", 0);
		return 1;
	}
	if (rc == 0)
		return 0;
	r->status = 200;
	r->ctype = "application/json";
	return 1;
}

void res_list(struct req *r)
{
	const struct resource *d = r->route->res, *missing = NULL;
	const struct atlas_state *st;
	struct list_key key;
	int64_t gen;
	char *owner;

	if (names_ok(r, d, 0) < 0 || !(st = app_state_get(r, &gen)))
		return;
	if (r->app->lists) {
		list_key_of(r, d, gen, &key);
		if (reply_cached(r, &key)) {
			app_state_put(r->app);
			return;
		}
	}
	owner = owner_of(d, st, (const char(*)[128])r->params, &missing);
	if (missing) {
		reply_missing(r, missing);
	} else if (!owner) {
		reply_data(r, 200, "application/json", "[]\n", 3);
	} else {
		const struct field *lf = list_field(d);

		reply_items(r, 200, d, owner, *(char **)(owner + lf->off),
			    *(size_t *)(owner + lf->aux_off), 0, r->app->lists ? &key : NULL);
	}
	app_state_put(r->app);
}

void res_get(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct atlas_state *st;
	char *owner, *it;
	int64_t gen;

	if (names_ok(r, d, 1) < 0 || !(st = app_state_get(r, &gen)))
		return;
	if ((it = item_get(r, d, st, &owner)))
		reply_items(r, 200, d, owner, it, 1, 1, NULL);
	app_state_put(r->app);
}

/* Where a create puts its item: replies 404 or 409 and returns NULL when nowhere. */
static char *owner_for_create(struct req *r, const struct resource *d, struct atlas_state *st)
{
	const struct resource *missing = NULL;
	const struct field *sf;
	char *owner;
	int *has;

	if (d->parent) {
		owner = owner_of(d, st, (const char(*)[128])r->params, &missing);
		if (!owner)
			reply_missing(r, missing);
		return owner;
	}
	sf = section_field(d);
	has = (int *)((char *)st + sf->aux_off);
	if (!*has) {
		if (d->unmanaged) {
			reply_error(r, 409, NULL, "%s", d->unmanaged);
			return NULL;
		}
		*has = 1;
		schema_init(sf->sub, (char *)st + sf->off);
	}
	return (char *)st + sf->off;
}

/* Commits the edit st of item name of d: the history says "<verb> <title> <path>". */
static int commit(struct req *r, const struct resource *d, struct atlas_state *st,
		  const char *verb, const char *name)
{
	char *path = id_path(r, d, name);
	char *msg = xasprintf("%s %s %s", verb, d->title, path);
	int rc = app_edit_commit(r, st, msg);

	free(msg);
	free(path);
	return rc;
}

/*
 * Decodes kids, the array of d->create_with of a create's body, into that
 * list of item. Returns 0, or -1 after replying 422 naming the element.
 */
static int decode_children(struct req *r, const struct resource *d, char *item, json_t *kids)
{
	const struct field *cf = schema_field(d->schema, d->create_with);
	const struct schema *cs = cf->sub;
	void *child = xmalloc(cs->size);
	char field[128] = "";
	size_t i;
	json_t *e;

	if (!json_is_array(kids)) {
		reply_error(r, 422, cf->name, "%s: %s must be an array of %s objects",
			    d->schema->name, cf->name, cs->name);
		free(child);
		return -1;
	}
	json_array_foreach(kids, i, e)
	{
		struct atlas_err err = {0};
		char where[64], full[200];

		snprintf(where, sizeof(where), "%s[%zu]", cf->name, i);
		schema_init(cs, child);
		snprintf(full, sizeof(full), "%s", where);
		if (!json_is_object(e)) {
			err_set(&err, ERR_INVALID, "must be a %s object", cs->name);
		} else if (json_decode_struct(cs, e, child, &err, field, sizeof(field)) < 0) {
			snprintf(full, sizeof(full), "%s.%s", where, field);
		} else if (!item_name(child)) {
			err_set(&err, ERR_INVALID, "%s: name is required", cs->name);
			snprintf(full, sizeof(full), "%s.name", where);
		}
		if (err.msg[0]) {
			reply_error(r, 422, full, "%s: %s", where, err.msg);
			schema_release(cs, child);
			free(child);
			return -1;
		}
		app_list_append(item + cf->off, (size_t *)(item + cf->aux_off), cs, child);
	}
	free(child);
	return 0;
}

void res_create(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct schema *s = d->schema;
	const struct field *lf = list_field(d);
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	char field[128], *name = NULL, *owner;
	void *item = xmalloc(s->size);
	json_t *body = NULL, *kids = NULL;

	schema_init(s, item);
	if (names_ok(r, d, 0) < 0 || !(body = req_json(r)))
		goto out;
	/* The first items of create_with are decoded apart: a PATCH refuses that list. */
	if (d->create_with && (kids = json_object_get(body, d->create_with))) {
		json_incref(kids);
		json_object_del(body, d->create_with);
	}
	if (json_decode_struct(s, body, item, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto out;
	}
	if (kids && decode_children(r, d, item, kids) < 0)
		goto out;
	if (!item_name(item)) {
		reply_error(r, 422, "name", "%s: name is required", s->name);
		goto out;
	}
	name = xstrdup(item_name(item));
	if (!(st = app_edit_begin(r)))
		goto out;
	if (!(owner = owner_for_create(r, d, st)))
		goto abort;
	if (item_in(d, owner, name)) {
		if (d->parent)
			reply_error(r, 409, "name", "%s \"%s\" exists already on \"%s\"", d->title,
				    name, r->params[depth(d) - 1]);
		else
			reply_error(r, 409, "name", "%s \"%s\" exists already", d->title, name);
		goto abort;
	}
	app_list_append(owner + lf->off, (size_t *)(owner + lf->aux_off), s, item);
	schema_init(s, item); /* its contents moved to the list */
	if (commit(r, d, st, "add", name) == 0)
		reply_committed(r, 201, d, st, name);
	goto out;
abort:
	app_edit_abort(r, st);
	st = NULL;
out:
	state_free(st);
	schema_release(s, item);
	free(item);
	json_decref(body);
	json_decref(kids);
	free(name);
}

/*
 * The new name a PATCH body asks for, or NULL when it keeps the old one (or
 * when "name" is no string: app_patch then refuses it). Replies 422 or 409
 * and sets *bad when the rename is refused.
 */
static const char *new_name(struct req *r, const struct resource *d, char *owner,
			    json_t *body, int *bad)
{
	const char *old = r->params[depth(d)];
	json_t *jn = json_object_get(body, "name");
	const char *nn = json_is_string(jn) ? json_string_value(jn) : NULL;

	*bad = 0;
	if (!nn || !strcmp(nn, old))
		return NULL;
	*bad = 1;
	if (!d->renamable) {
		if (d->no_rename)
			reply_error(r, 422, "name", "%s", d->no_rename);
		else
			reply_error(r, 422, "name", "%s \"%s\": name cannot be changed", d->title,
				    old);
	} else if (item_in(d, owner, nn)) {
		if (d->parent)
			reply_error(r, 409, "name", "%s \"%s\" exists already on \"%s\"", d->title,
				    nn, r->params[depth(d) - 1]);
		else
			reply_error(r, 409, "name", "%s \"%s\" exists already", d->title, nn);
	} else {
		*bad = 0;
		return nn;
	}
	return NULL;
}

/*
 * The usage of a renamed item goes with it (app_edit_commit moves it with
 * the commit): its quota's count, and the engine's counters it was last
 * read at (WireGuard knows the peer by its key: its counters go on, and
 * would be counted again under a new name). A peer's usage is IF/NAME.
 */
static void rename_usage(struct req *r, const struct resource *d, const char *from,
			 const char *to)
{
	if (!d->engine)
		return;
	r->usage_engine = d->engine;
	snprintf(r->usage_from, sizeof(r->usage_from), "%s%s%s", d->parent ? r->params[0] : "",
		 d->parent ? "/" : "", from);
	snprintf(r->usage_to, sizeof(r->usage_to), "%s%s%s", d->parent ? r->params[0] : "",
		 d->parent ? "/" : "", to);
}

void res_patch(struct req *r)
{
	const struct resource *d = r->route->res;
	const char *old = r->params[depth(d)];
	struct atlas_state *st;
	char *owner, *it, *to = NULL;
	json_t *body;
	int bad;

	if (names_ok(r, d, 1) < 0 || !(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		const char *nn;

		it = item_get(r, d, st, &owner);
		if (it && (nn = new_name(r, d, owner, body, &bad)))
			to = xstrdup(nn);
		/* A rename decodes the new name (app_patch checks nothing of it then). */
		if (!it || bad || app_patch(r, d->schema, it, body, d->schema->name,
					    to ? NULL : old) < 0) {
			app_edit_abort(r, st);
		} else {
			int rc;

			if (to) {
				char *msg = xasprintf("%s to %s", old, to);

				/* "rename wireguard peer wg0/alice to bob" */
				rename_usage(r, d, old, to);
				rc = commit(r, d, st, "rename", msg);
				free(msg);
			} else {
				rc = commit(r, d, st, "change", old);
			}
			if (rc == 0)
				reply_committed(r, 200, d, st, to ? to : old);
			state_free(st);
		}
	}
	free(to);
	json_decref(body);
}

void res_delete(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct field *lf = list_field(d);
	struct atlas_state *st;
	char *owner, *it;

	if (names_ok(r, d, 1) < 0 || !(st = app_edit_begin(r)))
		return;
	if (!(it = item_get(r, d, st, &owner))) {
		app_edit_abort(r, st);
		return;
	}
	app_list_remove(owner + lf->off, (size_t *)(owner + lf->aux_off), d->schema,
			(size_t)(it - *(char **)(owner + lf->off)) / d->schema->size);
	if (commit(r, d, st, "remove", r->params[depth(d)]) == 0)
		reply_data(r, 204, NULL, "", 0);
	state_free(st);
}

/* Replies with file f of item rendered from st by f->render (an attachment when fname). */
static void file_render(struct req *r, const struct res_file *f, const struct atlas_state *st,
			const void *parent, const void *item, const char *fname)
{
	struct atlas_err err = {0};
	struct buf out = BUF_INIT;

	if (f->render(st, parent, item, &out, &err) < 0) {
		reply_error(r,
			    err.code == ERR_NOTFOUND  ? 404
			    : err.code == ERR_INVALID ? 409
						      : 500,
			    NULL, "%s", err.msg);
	} else {
		reply_data(r, 200, f->ctype, out.data, out.len);
		if (fname)
			snprintf(r->disposition, sizeof(r->disposition),
				 "attachment; filename=\"%s\"", fname);
	}
	buf_release_secure(&out);
}

void res_file(struct req *r)
{
	const struct resource *d = r->route->res;
	const char *seg = strrchr(r->route->pattern, '/') + 1;
	const struct res_file *f = d->files;
	const struct atlas_state *st;
	const char *name = r->params[depth(d)];
	char *owner, *it;
	int64_t gen;

	/* The route's last segment names the file (router.c). */
	while (f && f->route && strcmp(f->route, seg))
		f++;
	assert(f && f->route);
	if (names_ok(r, d, 1) < 0 || !(st = app_state_get(r, &gen)))
		return;
	if ((it = item_get(r, d, st, &owner))) {
		char *fname = f->ext ? xasprintf("%s%s", name, f->ext) : NULL;

		if (f->render) {
			file_render(r, f, st, d->parent ? owner : NULL, it, fname);
		} else {
			char *id = id_path(r, d, name);

			app_client_config(r, st, d->engine, id, f->format, f->ctype, fname);
			free(id);
		}
		free(fname);
	}
	app_state_put(r->app);
}

void res_section_get(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct field *sf = section_field(d);
	const struct atlas_state *st;
	int64_t gen;

	if (!(st = app_state_get(r, &gen)))
		return;
	if (!section_present(st, sf))
		reply_error(r, 404, NULL, "%s", d->unmanaged);
	else
		reply_json(r, 200, json_encode_struct(d->schema, (const char *)st + sf->off, 0));
	app_state_put(r->app);
}

void res_section_patch(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct field *sf = section_field(d);
	struct atlas_state *st;
	json_t *body;

	if (!(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		char *sect = (char *)st + sf->off;

		/* An absent section holds its defaults: PATCH creates it from them. */
		if (app_patch(r, d->schema, sect, body, d->schema->name, NULL) < 0) {
			app_edit_abort(r, st);
		} else {
			char *msg = xasprintf("change %s", d->title);

			if (sf->type == F_SECTION)
				*(int *)((char *)st + sf->aux_off) = 1;
			if (app_edit_commit(r, st, msg) == 0)
				reply_json(r, 200, json_encode_struct(d->schema, sect, 0));
			free(msg);
			state_free(st);
		}
	}
	json_decref(body);
}

/*
 * POST COLLECTION:bulk {"action":"disable"|"enable"|"delete","names":[..]}:
 * one edit of many items of d under one parent, stored as one generation.
 * Every name must exist (404 naming all that do not, nothing stored).
 * Answers {"action","changed":N,"generation"}; an item already in the state
 * asked for is not counted and, when none changes, nothing is stored.
 */
void res_bulk(struct req *r)
{
	const struct resource *d = r->route->res;
	const struct field *lf = list_field(d), *df = schema_field(d->schema, "disabled");
	json_t *body, *names, *v;
	const char *action = NULL;
	struct atlas_state *st;
	struct buf missing = BUF_INIT;
	char *owner;
	size_t i, nmiss = 0, changed = 0;
	int del;

	if (names_ok(r, d, 0) < 0 || !(body = req_json(r)))
		return;
	{
		const char *key;

		json_object_foreach(body, key, v)
			if (strcmp(key, "action") && strcmp(key, "names")) {
				reply_error(r, 422, key,
					    "unknown field \"%.64s\": a bulk edit takes action and names",
					    key);
				goto out;
			}
	}
	names = json_object_get(body, "names");
	if (json_unpack(body, "{s:s}", "action", &action) < 0 ||
	    (strcmp(action, "disable") && strcmp(action, "enable") && strcmp(action, "delete"))) {
		reply_error(r, 422, "action", "action must be \"disable\", \"enable\" or \"delete\"");
		goto out;
	}
	if (!json_is_array(names) || json_array_size(names) == 0) {
		reply_error(r, 422, "names", "names must be a non-empty array of %s names", d->title);
		goto out;
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			reply_error(r, 422, "names", "names[%zu] is not a string", i);
			goto out;
		}
	}
	del = !strcmp(action, "delete");
	if (!(st = app_edit_begin(r)))
		goto out;
	{
		const struct resource *miss = NULL;

		owner = owner_of(d, st, (const char(*)[128])r->params, &miss);
		if (miss || !owner) {
			app_edit_abort(r, st);
			if (miss)
				reply_missing(r, miss);
			else
				reply_error(r, 404, "names", "no %s at all", d->title);
			goto out;
		}
	}
	json_array_foreach(names, i, v) {
		char *it = item_in(d, owner, json_string_value(v));

		if (!it) {
			buf_printf(&missing, "%s\"%s\"", nmiss++ ? ", " : "", json_string_value(v));
		} else if (del) {
			app_list_remove(owner + lf->off, (size_t *)(owner + lf->aux_off), d->schema,
					(size_t)(it - *(char **)(owner + lf->off)) / d->schema->size);
			changed++;
		} else if (*(int *)(it + df->off) != (action[0] == 'd')) {
			*(int *)(it + df->off) = action[0] == 'd';
			changed++;
		}
	}
	if (nmiss) {
		app_edit_abort(r, st);
		if (d->parent)
			reply_error(r, 404, "names", "no %s %s on \"%s\"", d->title, missing.data,
				    r->params[depth(d) - 1]);
		else
			reply_error(r, 404, "names", "no %s %s", d->title, missing.data);
	} else if (changed == 0) {
		app_edit_abort(r, st);
		reply_json(r, 200, json_pack("{s:s,s:i,s:I}", "action", action, "changed", 0, "generation",
					     (json_int_t)store_generation(r->app->store)));
	} else {
		/* "disable 50 peers wg0/..." style: one history entry */
		char *what = id_path(r, d, "*");
		char *msg = xasprintf("%s %zu %s%s %s", action, changed, d->title,
				      changed == 1 ? "" : "s", what);
		int rc;

		rc = app_edit_commit(r, st, msg);
		free(msg);
		free(what);
		if (rc == 0)
			reply_json(r, 200, json_pack("{s:s,s:i,s:I}", "action", action, "changed", (int)changed,
						     "generation", (json_int_t)store_generation(r->app->store)));
		state_free(st);
	}
out:
	buf_release(&missing);
	json_decref(body);
}
