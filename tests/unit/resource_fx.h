/*
 * resource_fx.h - the fixture of the resource tests (test_resource*.c): a
 * store in a temporary directory and a reconcile loop on a second, empty
 * one (nothing is ever applied to this machine); a route run as the server
 * runs it, its answer, the checks of a status and an error message, the
 * history's newest summaries, and the stored state.
 */
#ifndef ATLAS_RESOURCE_FX_H
#define ATLAS_RESOURCE_FX_H

#include <pthread.h>
#include <sqlite3.h>

#include "testutil.h"

#include "api/api.h"
#include "api/list_cache.h"
#include "api/resource.h"
#include "state/pack.h"
#include "state/schema.h"
#include "state/store.h"

struct fx {
	char *dir, *loopdir;
	struct app app;
};

static inline int setup(void **ts)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct atlas_err err = {0};

	f->dir = tu_tmpdir();
	f->loopdir = tu_tmpdir();
	f->app.datadir = f->dir;
	pthread_mutex_init(&f->app.store_mu, NULL);
	pthread_rwlock_init(&f->app.cache_mu, NULL);
	pthread_mutex_init(&f->app.install_mu, NULL);
	pthread_cond_init(&f->app.install_cond, NULL);
	pthread_mutex_init(&f->app.live_mu, NULL);
	pthread_mutex_init(&f->app.rl_mu, NULL);
	pthread_mutex_init(&f->app.stats_mu, NULL);
	if (store_open(f->dir, &f->app.store, &err) < 0)
		fail_msg("%s", err.msg);
	f->app.loop = loop_start(f->loopdir, NULL, NULL, &err);
	if (!f->app.loop)
		fail_msg("%s", err.msg);
	*ts = f;
	return 0;
}

static inline int teardown(void **ts)
{
	struct fx *f = *ts;

	loop_stop(f->app.loop);
	store_close(f->app.store);
	state_pack_free(f->app.cache);
	list_cache_free(f->app.lists);
	live_wg_free(f->app.live_wg);
	json_decref(f->app.live);
	tu_rmrf(f->dir);
	tu_rmrf(f->loopdir);
	free(f->dir);
	free(f->loopdir);
	free(f);
	return 0;
}

/* A live status round of wg0 with one peer: KEY, endpoint 192.0.2.7:51820, then "HS\tRX\tTX". */
static inline void live_set(struct fx *f, const char *key, const char *counters)
{
	char lines[160];
	json_t *wg;

	snprintf(lines, sizeof(lines), "%s\t192.0.2.7:51820\t%s\n", key, counters);
	wg = json_pack("{s:[{s:s, s:b, s:s}]}", "interfaces", "name", "wg0", "up", 1, "peer_lines",
		       lines);
	live_wg_free(f->app.live_wg);
	f->app.live_wg = live_wg_from_json(wg);
	json_decref(wg);
}

struct answer {
	int status;
	const char *ctype;
	char disposition[160];
	char etag[48];
	char *text; /* the body (new) */
	json_t *json; /* the body parsed, or NULL */
};

static inline void answer_release(struct answer *a)
{
	free(a->text);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

/* Runs route rt with the path parameters params (np of them) as the server would. */
static inline struct answer run(struct fx *f, const struct route *rt, char params[3][128], size_t np,
			 const char *method, const char *path, const char *body)
{
	struct req r = {0};
	struct answer a = {0};

	r.app = &f->app;
	r.method = method;
	r.url = path;
	r.body_max = API_BODY_MAX;
	pthread_mutex_init(&r.mu, NULL);
	r.route = rt;
	memcpy(r.params, params, sizeof(r.params));
	r.nparams = np;
	if (body)
		buf_puts(&r.body, body);
	r.route->fn(&r);
	a.status = r.status;
	a.ctype = r.ctype;
	memcpy(a.disposition, r.disposition, sizeof(a.disposition));
	memcpy(a.etag, r.etag, sizeof(a.etag));
	a.text = xstrdup(r.out.len ? r.out.data : "");
	a.json = r.out.len ? json_loadb(r.out.data, r.out.len, 0, NULL) : NULL;
	buf_release(&r.body);
	buf_release(&r.out);
	pthread_mutex_destroy(&r.mu);
	return a;
}

/* Runs method path with body (may be NULL) through the router, after authentication. */
static inline struct answer call(struct fx *f, const char *method, const char *path, const char *body)
{
	const struct route *rt;
	char params[3][128] = {{0}};
	size_t np = 0;
	int known = 0;

	rt = router_match(method, path, params, &np, &known);
	if (!rt)
		fail_msg("no route for %s %s", method, path);
	return run(f, rt, params, np, method, path, body);
}

/* Calls and checks the status; with error, the answer's error message and field. */
static inline void expect(struct fx *f, const char *method, const char *path, const char *body,
		   int status, const char *error, const char *field)
{
	struct answer a = call(f, method, path, body);

	if (a.status != status)
		fail_msg("%s %s: status %d, want %d: %s", method, path, a.status, status, a.text);
	if (error || field) {
		const char *got = json_string_value(json_object_get(a.json, "error"));
		const char *gotf = json_string_value(json_object_get(a.json, "field"));

		if (error && (!got || strcmp(got, error)))
			fail_msg("%s %s: error \"%s\", want \"%s\"", method, path,
				 got ? got : "(none)", error);
		/* with an error: the field exactly (none when NULL); without: the field given */
		if (field ? !gotf || strcmp(gotf, field) : gotf != NULL)
			fail_msg("%s %s: field \"%s\", want \"%s\"", method, path,
				 gotf ? gotf : "(none)", field ? field : "(none)");
	}
	answer_release(&a);
}

/* The history's newest summaries are the arguments (NULL-ended), newest first. */
static inline void expect_history(struct fx *f, ...)
{
	struct gen_info *gi = NULL;
	struct atlas_err err = {0};
	const char *want;
	size_t n = 0, i = 0;
	va_list ap;

	if (store_generations(f->app.store, 100, &gi, &n, &err) < 0)
		fail_msg("%s", err.msg);
	va_start(ap, f);
	for (; (want = va_arg(ap, const char *)); i++) {
		if (i >= n)
			fail_msg("history: %zu entries, want \"%s\" too", n, want);
		if (strcmp(gi[i].summary, want) || strcmp(gi[i].trigger, "api"))
			fail_msg("history %zu: \"%s\" (%s), want \"%s\" (api)", i, gi[i].summary,
				 gi[i].trigger, want);
	}
	va_end(ap);
	free(gi);
}

static inline const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("no string \"%s\"", key);
	return s;
}

static inline size_t count_braces(const char *pattern)
{
	size_t n = 0;

	for (; *pattern; pattern++)
		n += *pattern == '{';
	return n;
}

#define IF  "/api/v1/wireguard/interfaces"
#define WG0 "{\"name\":\"wg0\",\"listen_port\":51820,\"address\":[\"10.0.0.1/24\"]}"

/* The stored state (new). */
static inline struct atlas_state *stored(struct fx *f)
{
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;

	if (store_load(f->app.store, &st, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	return st;
}

#endif
