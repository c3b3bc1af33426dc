/*
 * sb_status.c - live status of sing-box and per-user traffic.
 *
 * sing-box's `api` service lists each connection with its user and byte
 * totals, the open ones and the recently closed ones. Atlas keeps, in
 * DATADIR/singbox/traffic.json, the totals per user and the last totals seen
 * per connection id (the arithmetic is sb_traffic.c); each read adds only
 * what a connection moved since the last one, so nothing is counted twice.
 * A reload starts new counters: the driver reads right before it
 * (sb_traffic_sample()). The file is locked while it is read and written
 * (traffic.lock), as `atlas serve` and a CLI apply may both sample.
 *
 * sing-box forgets its closed connections at every Go garbage collection
 * (trafficcontrol's closed list is a pool cleanup), so bytes of a connection
 * that opened and closed between two reads can be missed. Shadowsocks
 * inbounds do not have that gap: their users' bytes come from the SSM API's
 * per-user counters, read and zeroed (?clear=true) at each read, and their
 * connections are left out of the connection-based count. In `atlas serve`,
 * a thread also follows sing-box's connection stream, which tells of every
 * closed connection with its final totals at once (sb_status_json()).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "lib/fileio.h"
#include "renderers/singbox/sb_render.h"
#include "controller/singbox/sb.h"
#include "controller/singbox/sb_traffic.h"

#define API_TIMEOUT_MS 3000

/* traffic.json's read-modify-write, in this process (status and the watcher) */
static pthread_mutex_t traffic_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *load_traffic(const char *path)
{
	json_t *raw = json_load_file(path, 0, NULL), *t = sb_traffic_book(raw);

	json_decref(raw);
	return t;
}

static json_int_t ival(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static int is_ss(const struct atlas_state *st, const char *inbound)
{
	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		if (!strcmp(st->singbox.inbounds[i].name, inbound))
			return st->singbox.inbounds[i].type == SB_SHADOWSOCKS;
	return 0;
}

static int state_is_ss(const void *st, const char *inbound)
{
	return is_ss(st, inbound);
}

/*
 * traffic.json's read-modify-write across processes (`atlas serve`, a CLI
 * apply that reloads): an exclusive lock on DATADIR/singbox/traffic.lock.
 * -1 when the directory is not there (then nothing is written either).
 */
static int traffic_lock(const char *dir)
{
	char *path = xasprintf("%s/traffic.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	free(path);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void traffic_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int save_traffic(const char *path, json_t *t, struct atlas_err *err)
{
	char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	int ret = file_write_atomic(path, text, strlen(text), 0600, err);

	free(text);
	return ret;
}

/* Adds and zeroes the SSM per-user counters of every Shadowsocks inbound. */
static int ssm_account(const struct atlas_state *st, json_t *t, struct atlas_err *err)
{
	char *addr = sb_ssm_addr(st);
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < st->singbox.ninbounds; i++) {
		const struct sb_inbound *in = &st->singbox.inbounds[i];
		struct sb_ssm_users u = { 0 };
		char *prefix;

		if (in->type != SB_SHADOWSOCKS)
			continue;
		prefix = sb_ssm_prefix(in->name);
		ret = sb_ssm_stats(addr, prefix, 1, &u, err);
		for (size_t k = 0; ret == 0 && k < u.n; k++)
			sb_traffic_add(t, u.v[k].name, u.v[k].uplink, u.v[k].downlink);
		sb_ssm_users_release(&u);
		free(prefix);
	}
	free(addr);
	return ret;
}

/* Reads the connections into *c (with the closed ones) and accounts them. */
static int sample(const struct atlas_state *desired, const struct sb_files *f, json_t **t,
		  struct sb_conns *c, struct atlas_err *err)
{
	struct atlas_state view;
	const struct atlas_state *st = &view;
	char *hold, *api;
	int ret = -1;

	json_t *before;
	int lk;

	/* where the running sing-box answers, which an edit waiting to be applied may move */
	sb_running_view(desired, f, &view, &hold);
	api = sb_api_addr(st);
	pthread_mutex_lock(&traffic_mu);
	lk = traffic_lock(f->dir);
	*t = load_traffic(f->traffic);
	before = json_deep_copy(*t);
	if (sb_api_connections(api, st->singbox.api_secret, 1, API_TIMEOUT_MS, c, err) < 0)
		goto out;
	sb_traffic_conns(*t, c, 1, state_is_ss, st);
	if (ssm_account(st, *t, err) < 0)
		goto out;
	/* an idle server writes nothing */
	if (!json_equal(before, *t) && file_exists(f->dir) &&
	    save_traffic(f->traffic, *t, err) < 0)
		goto out;
	ret = 0;
out:
	traffic_unlock(lk);
	pthread_mutex_unlock(&traffic_mu);
	json_decref(before);
	free(api);
	free_secret(hold);
	return ret;
}

int sb_traffic_sample(const struct driver_ctx *ctx, const struct atlas_state *st,
		      const struct sb_files *f, struct atlas_err *err)
{
	struct sb_conns c = { 0 };
	json_t *t = NULL;
	int ret;

	(void)ctx;
	if (f->adopted_render)
		return 0; /* the adopted config counts nothing Atlas could read */
	ret = sample(st, f, &t, &c, err);
	sb_conns_release(&c);
	json_decref(t);
	return ret;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Sorts an array of {"name":..} objects by name, in place (borrowed). */
static void json_array_sort_by_name(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), by_name);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/*
 * The watcher: one thread per process, started by the first status tick of
 * `atlas serve` and told the current api address, secret and files at each
 * tick. It reconnects after every end of the stream (a reload ends it).
 */
static struct {
	pthread_mutex_t mu;
	int started, gen;	/* gen: bumped when the settings below change */
	int wanted;		/* 0: the section is gone or sing-box stopped */
	char *api, *secret, *traffic, *dir;
	char **ss;		/* Shadowsocks inbound names */
	size_t nss;
} watch = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct watch_run {
	int gen;
	char *traffic, *dir;
	char **ss;
	size_t nss;
};

static int run_is_ss(const void *arg, const char *inbound)
{
	const struct watch_run *r = arg;

	for (size_t i = 0; i < r->nss; i++)
		if (!strcmp(r->ss[i], inbound))
			return 1;
	return 0;
}

static int watch_events(void *arg, const struct sb_conns *c)
{
	const struct watch_run *r = arg;
	json_t *t, *before;
	int lk;

	pthread_mutex_lock(&traffic_mu);
	lk = traffic_lock(r->dir);
	t = load_traffic(r->traffic);
	before = json_deep_copy(t);
	sb_traffic_conns(t, c, 0, run_is_ss, r);
	if (!json_equal(before, t) && file_exists(r->dir))
		save_traffic(r->traffic, t, NULL);
	traffic_unlock(lk);
	pthread_mutex_unlock(&traffic_mu);
	json_decref(before);
	json_decref(t);
	return 0;
}

static int watch_keep_going(void *arg)
{
	const struct watch_run *r = arg;
	int go;

	pthread_mutex_lock(&watch.mu);
	go = watch.wanted && watch.gen == r->gen;
	pthread_mutex_unlock(&watch.mu);
	return go;
}

static void *watch_main(void *unused)
{
	(void)unused;
	for (;;) {
		struct watch_run r = { 0 };
		char *api = NULL, *secret = NULL;
		struct timespec ts = { 1, 0 };
		int wanted;

		pthread_mutex_lock(&watch.mu);
		wanted = watch.wanted;
		if (wanted) {
			r.gen = watch.gen;
			api = xstrdup(watch.api);
			secret = xstrdup(watch.secret);
			r.traffic = xstrdup(watch.traffic);
			r.dir = xstrdup(watch.dir);
			r.nss = watch.nss;
			r.ss = xcalloc(r.nss + 1, sizeof(*r.ss));
			for (size_t i = 0; i < r.nss; i++)
				r.ss[i] = xstrdup(watch.ss[i]);
		}
		pthread_mutex_unlock(&watch.mu);
		if (wanted)
			sb_api_watch(api, secret, watch_events, watch_keep_going, &r, NULL);
		free(api);
		free(secret);
		free(r.traffic);
		free(r.dir);
		for (size_t i = 0; i < r.nss; i++)
			free(r.ss[i]);
		free(r.ss);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Tells the watcher what to follow (starts it the first time). */
static void watch_set(const struct atlas_state *st, const struct sb_files *f, int running)
{
	char *api = sb_api_addr(st);
	int changed;

	pthread_mutex_lock(&watch.mu);
	changed = !same(watch.api, api) || !same(watch.secret, st->singbox.api_secret) ||
		  !same(watch.traffic, f->traffic) || watch.nss != st->singbox.ninbounds;
	for (size_t i = 0; !changed && i < watch.nss; i++)
		changed = strcmp(watch.ss[i], st->singbox.inbounds[i].type == SB_SHADOWSOCKS
						      ? st->singbox.inbounds[i].name
						      : "");
	watch.wanted = running && st->has_singbox && st->singbox.enabled;
	if (changed) {
		free(watch.api);
		free(watch.secret);
		free(watch.traffic);
		free(watch.dir);
		for (size_t i = 0; i < watch.nss; i++)
			free(watch.ss[i]);
		free(watch.ss);
		watch.api = api;
		api = NULL;
		watch.secret = xstrdup(st->singbox.api_secret ? st->singbox.api_secret : "");
		watch.traffic = xstrdup(f->traffic);
		watch.dir = xstrdup(f->dir);
		/* every inbound slot; non-Shadowsocks names are left empty */
		watch.nss = st->singbox.ninbounds;
		watch.ss = xcalloc(watch.nss + 1, sizeof(*watch.ss));
		for (size_t i = 0; i < watch.nss; i++)
			watch.ss[i] = xstrdup(st->singbox.inbounds[i].type == SB_SHADOWSOCKS
						      ? st->singbox.inbounds[i].name
						      : "");
		watch.gen++;
	}
	if (watch.wanted && !watch.started) {
		pthread_t th;
		pthread_attr_t at;

		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, watch_main, NULL) == 0)
			watch.started = 1;
		pthread_attr_destroy(&at);
	}
	pthread_mutex_unlock(&watch.mu);
	free(api);
}

json_t *sb_status_json(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	json_t *root = sb_status_read(ctx, desired);
	struct sb_files f;
	struct atlas_state view;
	char *hold;

	sb_files_init(&f, ctx, desired->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
	sb_files_select(&f, ctx->service_mode);
	sb_running_view(desired, &f, &view, &hold);
	/* an adopted sing-box on its own config has no api service to follow */
	watch_set(&view, &f, json_is_true(json_object_get(root, "running")) && !f.adopted_render);
	free_secret(hold);
	sb_files_release(&f);
	return root;
}

json_t *sb_status_read(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	json_t *root = json_object(), *users = json_array(), *per = json_object(), *t = NULL, *tu, *v;
	struct sb_conns c = { 0 };
	struct atlas_err e = { 0 };
	struct sb_files f;
	const char *name;
	size_t open = 0;
	pid_t pid = 0;
	int rc;

	sb_files_init(&f, ctx, desired->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
	sb_files_select(&f, ctx->service_mode);
	rc = service_running(ctx->service_mode, &f.svc, &pid, &e);
	json_object_set_new(root, "running", json_boolean(rc == 1));
	if (pid)
		json_object_set_new(root, "pid", json_integer(pid));
	if (rc == 1 && f.adopted_render) {
		json_object_set_new(root, "note",
				    json_string("adopted: runs its own config, without Atlas's api "
						"service, until a change needs a reload"));
	} else if (rc == 1 && desired->has_singbox) {
		struct atlas_state view;
		char *hold, *api;
		int64_t at = 0;

		sb_running_view(desired, &f, &view, &hold);
		api = sb_api_addr(&view);
		if (sb_api_started_at(api, view.singbox.api_secret, API_TIMEOUT_MS, &at, &e) == 0)
			json_object_set_new(root, "started_at", json_integer(at / 1000));
		free(api);
		free_secret(hold);
		if (sample(desired, &f, &t, &c, &e) < 0)
			json_object_set_new(root, "error", json_string(e.msg));
	}
	if (!t)
		t = load_traffic(f.traffic);
	/* the open connections per user, counted once (a hash, not a scan per user) */
	for (size_t i = 0; i < c.n; i++) {
		json_int_t had = json_integer_value(json_object_get(per, c.v[i].user));

		if (c.v[i].closed_at_ms)
			continue;
		open++;
		json_object_set_new(per, c.v[i].user, json_integer(had + 1));
	}
	tu = json_object_get(t, "users");
	json_object_foreach(tu, name, v) {
		json_int_t n = json_integer_value(json_object_get(per, name));

		json_array_append_new(users, json_pack("{s:s, s:I, s:I, s:I}", "name", name,
						       "connections", n, "uplink_bytes",
						       ival(v, "up"), "downlink_bytes",
						       ival(v, "down")));
	}
	json_decref(per);
	json_array_sort_by_name(users);
	json_object_set_new(root, "connections", json_integer((json_int_t)open));
	json_object_set_new(root, "users", users);
	json_decref(t);
	sb_conns_release(&c);
	sb_files_release(&f);
	return root;
}

int sb_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     const char *resource, const char *format, struct buf *out,
		     struct atlas_err *err)
{
	(void)ctx;
	if (!strcmp(format, "json"))
		return render_sb_profile(desired, resource, out, err);
	if (!strcmp(format, "links"))
		return render_sb_links(desired, resource, out, err);
	return err_set(err, ERR_UNSUPPORTED, "singbox has no client file \"%s\"", format);
}
