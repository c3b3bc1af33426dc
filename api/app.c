/*
 * app.c - the daemon's shared state seen from the handlers: the cached
 * desired state, the write path through state_commit(), the live status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controller/controller.h"
#include "api/resource.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "state/changes.h"
#include "state/commit.h"
#include "state/json.h"
#include "state/pack.h"
#include "state/schema.h"
#include "state/usage_store.h"
#include "state/validate.h"
#include "api/api.h"

/* 1 when a holder other than except borrows st (cache_mu write locked). */
static int held_by_other(const struct app *a, const struct atlas_state *st, int except)
{
	for (int i = 0; i < APP_HOLDERS; i++)
		if (i != except && a->held[i] == st)
			return 1;
	return 0;
}

/* The cache goes (cache_mu write locked): freed unless a holder has it. */
static void cache_drop(struct app *a)
{
	if (!held_by_other(a, a->cache, -1))
		state_pack_free(a->cache);
	a->cache = NULL;
}

/* Waits while generation g is being installed as the cache (no lock held). */
static void install_wait(struct app *a, int64_t g)
{
	pthread_mutex_lock(&a->install_mu);
	while (g > 0 && a->installing == g)
		pthread_cond_wait(&a->install_cond, &a->install_mu);
	pthread_mutex_unlock(&a->install_mu);
}

/*
 * The stored generation, read again only when the database's files moved
 * (a commit of any process: state/store.h) or the last read is older than
 * GEN_READ_MS: every request and every status tick ask, and an idle server
 * then runs no SQLite code between its commits. store_mu held.
 */
#define GEN_READ_MS (600 * 1000)
static int64_t app_generation(struct app *a)
{
	int64_t now = clock_mono_ms();

	if (store_stamp_moved(a->store, &a->gen_stamp) || !a->gen_read_ms ||
	    now - a->gen_read_ms > GEN_READ_MS) {
		a->gen_seen = store_generation(a->store);
		a->gen_read_ms = now;
	}
	return a->gen_seen;
}

const struct atlas_state *app_state_acquire(struct app *a, int64_t *gen, struct atlas_err *err)
{
	int64_t g;

	pthread_mutex_lock(&a->store_mu);
	g = app_generation(a);
	pthread_mutex_unlock(&a->store_mu);
	pthread_rwlock_rdlock(&a->cache_mu);
	if (a->cache && a->cache_gen == g) {
		*gen = g;
		return a->cache;
	}
	pthread_rwlock_unlock(&a->cache_mu);
	install_wait(a, g); /* an edit's own install of g: no load here */
	pthread_rwlock_wrlock(&a->cache_mu);
	if (!a->cache || a->cache_gen != g) {
		struct atlas_state *st = NULL;
		int64_t lg = 0;
		int rc;

		pthread_mutex_lock(&a->store_mu);
		rc = store_load(a->store, &st, &lg, err);
		/* the pages the load read (the whole cache at 10,000 peers) are not kept */
		sqlite3_db_release_memory(store_db(a->store));
		pthread_mutex_unlock(&a->store_mu);
		if (rc < 0) {
			pthread_rwlock_unlock(&a->cache_mu);
			return NULL;
		}
		/* One block: see state/pack.h. */
		cache_drop(a);
		a->cache = state_pack(st);
		a->cache_gen = lg;
		state_free(st);
	}
	/* Downgrade: readers encode under the read lock, in parallel. */
	pthread_rwlock_unlock(&a->cache_mu);
	pthread_rwlock_rdlock(&a->cache_mu);
	if (!a->cache) {
		pthread_rwlock_unlock(&a->cache_mu);
		err_set(err, ERR_INTERNAL, "state cache lost");
		return NULL;
	}
	*gen = a->cache_gen;
	return a->cache;
}

const struct atlas_state *app_state_get(struct req *r, int64_t *gen)
{
	struct atlas_err err = {0};
	const struct atlas_state *st = app_state_acquire(r->app, gen, &err);

	if (!st)
		reply_error(r, 500, NULL, "%s", err.msg);
	return st;
}

void app_state_put(struct app *a)
{
	pthread_rwlock_unlock(&a->cache_mu);
}

const struct atlas_state *app_state_share(struct app *a, int holder, int64_t *gen,
					  struct atlas_err *err)
{
	const struct atlas_state *st = app_state_acquire(a, gen, err);

	if (st) {
		a->held[holder] = st; /* under the read lock: no writer reads it now */
		app_state_put(a);
	}
	return st;
}

void app_state_unshare(struct app *a, int holder, const struct atlas_state *st)
{
	pthread_rwlock_wrlock(&a->cache_mu);
	/* the cache moved on while it was held, and nobody else holds it */
	if (st != a->cache && !held_by_other(a, st, holder))
		state_pack_free((struct atlas_state *)st);
	a->held[holder] = NULL;
	pthread_rwlock_unlock(&a->cache_mu);
}

const struct atlas_state *app_state_peek(struct app *a, int holder, int64_t min_gen, int64_t *gen)
{
	const struct atlas_state *st = NULL;

	install_wait(a, min_gen); /* the edit of min_gen is still making the cache */
	pthread_rwlock_rdlock(&a->cache_mu);
	if (a->cache && a->cache_gen >= min_gen) {
		st = a->cache;
		*gen = a->cache_gen;
		a->held[holder] = st; /* under the read lock, as app_state_share */
	}
	pthread_rwlock_unlock(&a->cache_mu);
	return st;
}

static const struct atlas_state *source_get(void *cls, int64_t *gen, struct atlas_err *err)
{
	return app_state_share(cls, APP_HOLD_LOOP, gen, err);
}

static const struct atlas_state *source_peek(void *cls, int64_t min_gen, int64_t *gen)
{
	return app_state_peek(cls, APP_HOLD_LOOP, min_gen, gen);
}

static void source_put(void *cls, const struct atlas_state *st)
{
	app_state_unshare(cls, APP_HOLD_LOOP, st);
}

struct loop_source app_loop_source(struct app *a)
{
	struct loop_source src = {
		.get = source_get, .put = source_put, .peek = source_peek, .cls = a
	};

	return src;
}

void app_set_actor(struct req *r)
{
	store_set_actor(r->app->store, *r->auth_user ? r->auth_user : "api");
}

/* SSE "state": generation gen is stored. */
static void state_event(struct app *a, int64_t gen)
{
	json_t *ev = json_pack("{s:I}", "generation", (json_int_t)gen);

	events_publish(a->events, "state", ev);
	json_decref(ev);
}

/*
 * The start of an edit: the desired state to change (new). It is copied
 * from the cache when that is the stored generation (no SQLite read), and
 * the cache, read locked, is what the commit checks against (edit_old).
 * The cache lock is taken before store_mu, as app_state_acquire does.
 */
struct atlas_state *app_edit_begin(struct req *r)
{
	struct app *a = r->app;
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	const struct atlas_state *cache;
	int64_t cg = 0;

	cache = app_state_acquire(a, &cg, &err);
	pthread_mutex_lock(&a->store_mu);
	app_set_actor(r);
	a->edit_old = NULL;
	if (cache && store_generation(a->store) == cg) {
		a->edit_old = cache;
		a->edit_gen = cg;
		return state_dup(cache);
	}
	if (cache)
		app_state_put(a);
	if (store_load(a->store, &st, &a->edit_gen, &err) < 0) {
		pthread_mutex_unlock(&a->store_mu);
		reply_error(r, 500, NULL, "%s", err.msg);
		return NULL;
	}
	return st;
}

/* The end of an edit: store_mu and the cache's read lock (when held) released. */
static void edit_end(struct app *a)
{
	const struct atlas_state *held = a->edit_old;

	a->edit_old = NULL;
	pthread_mutex_unlock(&a->store_mu);
	if (held)
		app_state_put(a);
}

void app_edit_abort(struct req *r, struct atlas_state *next)
{
	edit_end(r->app);
	state_free(next);
}

/*
 * After a commit: the state just stored (next, completed and sorted) becomes
 * the cache of generation gen, instead of a reload from SQLite at the next
 * read. It is what a reload gives (test_commit_peer compares the two through
 * the YAML encoder); a later generation stored meanwhile keeps the reload.
 * Ends the install app_install_begin announced: its waiters go on.
 */
void app_cache_install(struct app *a, const struct atlas_state *next, int64_t gen)
{
	struct atlas_state *packed = state_pack(next);
	int current;

	pthread_rwlock_wrlock(&a->cache_mu);
	pthread_mutex_lock(&a->store_mu);
	current = store_generation(a->store) == gen;
	pthread_mutex_unlock(&a->store_mu);
	if (current && (!a->cache || a->cache_gen != gen)) {
		cache_drop(a);
		a->cache = packed;
		a->cache_gen = gen;
		packed = NULL;
	}
	pthread_rwlock_unlock(&a->cache_mu);
	state_pack_free(packed);
	pthread_mutex_lock(&a->install_mu);
	if (a->installing == gen)
		a->installing = 0;
	pthread_cond_broadcast(&a->install_cond);
	pthread_mutex_unlock(&a->install_mu);
}

void app_install_begin(struct app *a, int64_t gen)
{
	pthread_mutex_lock(&a->install_mu);
	a->installing = gen;
	pthread_mutex_unlock(&a->install_mu);
}

/*
 * The fast edit of a commit e of one WireGuard peer (state_commit_on
 * found only that peer changed) on an interface that is applied, or NULL.
 */
static struct fast_peer *fast_of(const struct commit_edit *e, const struct atlas_state *next,
				 int64_t gen)
{
	const struct wg_iface *ifc = e->one_peer ? state_wg_iface(next, e->ifname) : NULL;

	if (!ifc || ifc->disabled || !next->wireguard.enabled)
		return NULL;
	return fast_peer_new(gen, ifc->name, e->po, e->pn, next->settings.auto_apply);
}

/*
 * The field a refused edit's first problem is about, as the API names it:
 * relative to the resource the route edits ("users[1].name" in an inbound
 * created with its users; "address" of a peer, not "address[0]"); the
 * problem's own field when its value cannot be placed.
 */
static void problem_field(const struct req *r, const struct atlas_state *next,
			  const struct diag *dg, char *buf, size_t len)
{
	const char *list = r->route && r->route->res ? r->route->res->list : NULL;
	const char *field = dg->field ? dg->field : "";
	char path[512], pat[80];
	const char *at = NULL, *p, *last;
	size_t n;

	snprintf(buf, len, "%s", field);
	if (!list || !dg->where ||
	    schema_value_path(&schema_root, next, dg->where, path, sizeof(path)) < 0)
		return;
	snprintf(pat, sizeof(pat), "%s[", list);
	for (p = path; (p = strstr(p, pat)); p++)
		if (p == path || p[-1] == '.')
			at = p;
	if (!at || !(p = strchr(at, ']')))
		return;
	if (!*++p)
		return; /* the resource itself: the problem's own field */
	if (*p++ != '.')
		return;
	n = strlen(p);
	last = strrchr(p, '.');
	last = last ? last + 1 : p;
	if (!n || p[n - 1] != ']') {
		snprintf(buf, len, "%s", p);
	} else if (!strncmp(last, field, strlen(field)) && last[strlen(field)] == '[') {
		/* an entry of a list of strings is the list's field */
		snprintf(buf, len, "%.*s", (int)(last + strlen(field) - p), p);
	} else {
		/* a child element (or its name, at the same address): the problem's field of it */
		snprintf(buf, len, "%s.%s", p, field);
	}
}

int app_edit_commit(struct req *r, struct atlas_state *next, const char *summary)
{
	struct app *a = r->app;
	struct atlas_err err = {0};
	struct diags d = {0};
	struct commit_edit e = { .old = a->edit_old, .old_gen = a->edit_gen, .base = a->edit_gen };
	struct fast_peer *fast = NULL;
	int64_t gen = 0;
	int rc;

	/* a route of one WireGuard peer: /wireguard/interfaces/{IF}/peers... */
	if (r->route && r->route->res && r->route->res->schema == &schema_wg_peer && r->nparams > 0)
		e.ifname = r->params[0];
	/* and of one sing-box user: /singbox/inbounds/{IN}/users... */
	if (r->route && r->route->res && r->route->res->schema == &schema_sb_user && r->nparams > 0)
		e.inbound = r->params[0];
	rc = state_commit_on(a->store, &e, next, "api", summary, &d, &gen, &err);
	if (rc == 0) {
		app_install_begin(a, gen); /* store_mu still held: before anyone sees gen */
		fast = fast_of(&e, next, gen);
		/* a rename's usage moves before the new state is seen (the ticker's rounds) */
		if (r->usage_engine && usage_store_rename(a->store, r->usage_engine, r->usage_from,
							  r->usage_to, &err) < 0)
			log_warn("api: the usage of %s stays under its old name: %s", r->usage_from,
				 err.msg);
	}
	edit_end(a);
	if (rc < 0) {
		if (d.n) {
			char field[256];

			problem_field(r, next, &d.v[0], field, sizeof(field));
			reply_error(r, 422, field[0] ? field : NULL, "%s", d.v[0].msg);
		}
		else if (err.code == ERR_CONFLICT) /* another process stored a generation meanwhile */
			reply_error(r, 409, NULL, "%s: send the request again", err.msg);
		else
			reply_error(r, err.code == ERR_INVALID ? 422 : 500, NULL, "%s", err.msg);
		diags_clear(&d);
		return -1;
	}
	diags_clear(&d);
	/* the set first: the fast run's record waits for this install (app_state_peek) */
	if (fast)
		loop_wake_fast(a->loop, "api", fast);
	app_cache_install(a, next, gen);
	log_info("api: %s (generation %lld)", summary, (long long)gen);
	if (fast) {
		state_event(a, gen);
		return 0;
	}
	/*
	 * A sing-box edit may reload sing-box, which drops every user's
	 * connections: a burst of them waits to be one reload (coalesced);
	 * other edits apply at once (leading edge).
	 */
	app_wake(a, gen, "api",
		 r->route && r->route->res && r->route->res->engine &&
				 !strcmp(r->route->res->engine, "singbox")
			 ? LOOP_WAKE_COALESCE
			 : LOOP_WAKE_EDIT);
	return 0;
}

void app_state_changed(struct app *a, int64_t gen, const char *trigger)
{
	app_wake(a, gen, trigger, LOOP_WAKE_EDIT);
}

void app_wake(struct app *a, int64_t gen, const char *trigger, int debounce)
{
	loop_wake(a->loop, trigger, debounce);
	state_event(a, gen);
}

json_t *app_live(struct app *a, const char *engine)
{
	json_t *j = NULL;

	pthread_mutex_lock(&a->live_mu);
	if (a->live)
		j = json_incref(json_object_get(a->live, engine));
	pthread_mutex_unlock(&a->live_mu);
	return j;
}

int app_name_param(struct req *r, size_t i, const char *what)
{
	if (i < r->nparams && name_valid(r->params[i]))
		return 0;
	reply_error(r, 404, NULL, "no such %s: invalid name", what);
	return -1;
}

void app_client_config(struct req *r, const struct atlas_state *st, const char *engine,
		       const char *resource, const char *format, const char *ctype,
		       const char *filename)
{
	const struct driver *drv = NULL;
	struct atlas_err err = {0};
	struct buf out = BUF_INIT;
	struct driver_ctx ctx;

	drv = driver_named(NULL, engine);
	if (!drv || !drv->client_config) {
		reply_error(r, 501, NULL,
			    "this atlas cannot render %s client files yet (no %s "
			    "driver with client_config)",
			    engine, engine);
		return;
	}
	controller_ctx_init(&ctx, r->app->datadir, NULL, st);
	if (drv->client_config(&ctx, st, resource, format, &out, &err) < 0) {
		/* ERR_INVALID: the state lacks what the file needs (settings.host). */
		reply_error(r,
			    err.code == ERR_NOTFOUND	  ? 404
			    : err.code == ERR_UNSUPPORTED ? 501
			    : err.code == ERR_INVALID	  ? 409
							  : 500,
			    NULL, "%s", err.msg);
	} else {
		reply_data(r, 200, ctype, out.data, out.len);
		if (filename)
			snprintf(r->disposition, sizeof(r->disposition),
				 "attachment; filename=\"%s\"", filename);
	}
	controller_ctx_release(&ctx);
	buf_release_secure(&out);
}

void app_list_remove(void *arrp, size_t *n, const struct schema *s, size_t idx)
{
	char *arr = *(char **)arrp;

	schema_release(s, arr + idx * s->size);
	memmove(arr + idx * s->size, arr + (idx + 1) * s->size, (*n - idx - 1) * s->size);
	(*n)--;
}

int app_patch(struct req *r, const struct schema *s, void *target, json_t *body,
	      const char *kind, const char *name)
{
	struct atlas_err err = {0};
	char field[128];
	void *copy = xmalloc(s->size);

	schema_copy(s, copy, target);
	if (json_decode_struct(s, body, copy, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto fail;
	}
	/* Every resource starts with its char *name (see state/model.c). */
	if (name && (!*(char **)copy || strcmp(*(char **)copy, name))) {
		reply_error(r, 422, "name", "%s \"%s\": name cannot be changed", kind, name);
		goto fail;
	}
	schema_release(s, target);
	memcpy(target, copy, s->size);
	free(copy);
	return 0;
fail:
	schema_release(s, copy);
	free(copy);
	return -1;
}

void *app_list_append(void *arrp, size_t *n, const struct schema *s, const void *item)
{
	char *arr = xrealloc(*(char **)arrp, (*n + 1) * s->size);

	memcpy(arr + *n * s->size, item, s->size);
	*(char **)arrp = arr;
	return arr + (*n)++ * s->size;
}
