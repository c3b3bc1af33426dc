/*
 * api_state.c - /status, /settings, /plan, /state (YAML export and import
 * with a dry run), and the status object shared with the SSE ticker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "controller/controller.h"
#include "lib/proc.h"
#include "lib/udiff.h"
#include "state/active.h"
#include "state/commit.h"
#include "state/json.h"
#include "state/schema.h"
#include "state/yaml.h"
#include "api/api.h"

static json_t *host_json(void)
{
	double load[3] = {0, 0, 0};
	struct sysinfo si;

	if (getloadavg(load, 3) < 0)
		load[0] = load[1] = load[2] = 0;
	memset(&si, 0, sizeof(si));
	sysinfo(&si);
	return json_pack("{s:[f,f,f], s:I, s:I, s:I}", "load", load[0], load[1], load[2],
			 "mem_total", (json_int_t)si.totalram * si.mem_unit, "mem_available",
			 (json_int_t)proc_mem_available(), "uptime", (json_int_t)si.uptime);
}

/* Peers seen on wireguard interfaces with a recent handshake; live_mu held. */
static long wg_connected(const struct live_wg *lw, int *running)
{
	time_t now = time(NULL);
	long n = 0;

	*running = 0;
	for (size_t i = 0; lw && i < lw->n; i++) {
		*running |= lw->ifs[i].running;
		for (size_t k = 0; k < lw->ifs[i].n; k++) {
			n += wg_handshake_live(lw->ifs[i].peers[k].handshake, now);
		}
	}
	return n;
}

/* Users with at least one open connection in the sing-box status. */
static long sb_connected(json_t *sl)
{
	json_t *u;
	size_t k;
	long n = 0;

	json_array_foreach(json_object_get(sl, "users"), k, u)
		n += json_integer_value(json_object_get(u, "connections")) > 0;
	return n;
}

static json_t *engines_json(struct app *a, const struct atlas_state *st)
{
	json_t *ol = app_live(a, "openvpn"), *sl = app_live(a, "singbox");
	size_t peers = 0, users = 0;
	int wg_running = 0;
	long wg_conn;
	json_t *e;

	pthread_mutex_lock(&a->live_mu);
	wg_conn = wg_connected(a->live_wg, &wg_running);
	pthread_mutex_unlock(&a->live_mu);
	for (size_t i = 0; i < st->wireguard.ninterfaces; i++)
		peers += st->wireguard.interfaces[i].npeers;
	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		users += st->singbox.inbounds[i].nusers;
	e = json_pack("{s:{s:b, s:b, s:b, s:I, s:I, s:I},"
		      " s:{s:b, s:b, s:b, s:I, s:I},"
		      " s:{s:b, s:b, s:b, s:I, s:I, s:I, s:I}}",
		      "wireguard", "managed", st->has_wireguard, "enabled",
		      st->has_wireguard && st->wireguard.enabled, "running", wg_running,
		      "interfaces", (json_int_t)st->wireguard.ninterfaces, "peers",
		      (json_int_t)peers, "connected", (json_int_t)wg_conn, "openvpn", "managed",
		      st->has_openvpn, "enabled", st->has_openvpn && st->openvpn.enabled, "running",
		      json_is_true(json_object_get(ol, "running")), "clients",
		      (json_int_t)st->openvpn.nclients, "connected",
		      (json_int_t)json_array_size(json_object_get(ol, "clients")), "singbox",
		      "managed", st->has_singbox, "enabled", st->has_singbox && st->singbox.enabled,
		      "running", json_is_true(json_object_get(sl, "running")), "inbounds",
		      (json_int_t)st->singbox.ninbounds, "users", (json_int_t)users, "connected",
		      (json_int_t)sb_connected(sl), "connections",
		      json_integer_value(json_object_get(sl, "connections")));
	json_decref(ol);
	json_decref(sl);
	return e;
}

json_t *api_status_object(struct app *a)
{
	struct atlas_err err = {0};
	const struct atlas_state *st;
	json_t *o, *watch = json_null(), *last, *engines;
	int64_t gen = 0, applied;
	int auto_apply;

	st = app_state_acquire(a, &gen, &err);
	if (!st)
		return NULL;
	engines = engines_json(a, st);
	auto_apply = st->settings.auto_apply;
	app_state_put(a);
	pthread_mutex_lock(&a->store_mu);
	applied = store_applied_generation(a->store);
	pthread_mutex_unlock(&a->store_mu);
	if (a->watch_file) {
		pthread_mutex_lock(&a->live_mu);
		watch = json_pack("{s:s, s:s?}", "file", a->watch_file, "error", a->watch_error);
		pthread_mutex_unlock(&a->live_mu);
	}
	last = loop_last_run(a->loop);
	/* Pending: a generation not applied yet, or drift the last look found. */
	o = json_pack("{s:I, s:I, s:b, s:b, s:o, s:o, s:{s:I, s:s, s:o, s:I}, s:o}", "generation",
		      (json_int_t)gen, "applied_generation", (json_int_t)applied, "pending",
		      gen != applied || loop_drift(a->loop) > 0, "auto_apply", auto_apply,
		      "engines", engines, "host", host_json(), "atlas", "rss_bytes",
		      (json_int_t)proc_rss_bytes(), "version", ATLAS_API_VERSION, "watch", watch,
		      "uptime", (json_int_t)(time(NULL) - a->started), "last_run",
		      last ? last : json_null());
	return o;
}

void h_status(struct req *r)
{
	json_t *o = api_status_object(r->app);

	if (!o)
		reply_error(r, 500, NULL, "cannot read the desired state");
	else
		reply_json(r, 200, o);
}

/* GET /events: the stream starts with the status, so the panel need not wait a tick. */
void h_events(struct req *r)
{
	json_t *st = api_status_object(r->app);

	if (events_subscribe(r->app->events, r, st) < 0)
		reply_error(r, 500, NULL, "cannot create the event stream");
	json_decref(st);
}

void h_settings_get(struct req *r)
{
	const struct atlas_state *st;
	int64_t gen;

	if (!(st = app_state_get(r, &gen)))
		return;
	reply_json(r, 200, json_encode_struct(&schema_settings, &st->settings, 0));
	app_state_put(r->app);
}

void h_settings_patch(struct req *r)
{
	struct atlas_state *st;
	json_t *body;

	if (!(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		if (app_patch(r, &schema_settings, &st->settings, body, "settings", NULL) < 0) {
			app_edit_abort(r, st);
		} else {
			if (app_edit_commit(r, st, "change settings") == 0)
				reply_json(r, 200, json_encode_struct(&schema_settings, &st->settings, 0));
			state_free(st);
		}
	}
	json_decref(body);
}

void h_plan(struct req *r)
{
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	struct plan plan;
	int64_t gen = 0;

	pthread_mutex_lock(&r->app->store_mu);
	if (store_load(r->app->store, &st, &gen, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		reply_error(r, 500, NULL, "%s", err.msg);
		return;
	}
	pthread_mutex_unlock(&r->app->store_mu);
	if (loop_plan(r->app->loop, st, gen, &plan, &err) < 0) {
		reply_error(r, 500, NULL, "%s", err.msg);
	} else {
		reply_json(r, 200, plan_to_json(&plan));
		plan_release(&plan);
	}
	state_free(st);
}

void h_state_get(struct req *r)
{
	struct buf out = BUF_INIT;
	const struct atlas_state *st;
	int64_t gen;

	if (!(st = app_state_get(r, &gen)))
		return;
	state_to_yaml(st, 0, &out);
	app_state_put(r->app);
	reply_data(r, 200, "text/yaml; charset=utf-8", out.data, out.len);
	buf_release(&out);
}

static json_t *diags_json(struct diags *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(arr, json_pack("{s:i, s:i, s:s, s:s?}", "line", d->v[i].line,
						     "col", d->v[i].col, "message", d->v[i].msg,
						     "field", d->v[i].field));
	return arr;
}

static void reply_invalid(struct req *r, struct diags *d, const char *msg)
{
	json_t *j =
	    json_pack("{s:s, s:o}", "error", d->n ? d->v[0].msg : msg, "errors", diags_json(d));

	if (!j)
		reply_error(r, 422, NULL, "invalid state (messages not UTF-8)");
	else
		reply_json(r, 422, j);
}

static void state_dry_run(struct req *r)
{
	struct atlas_err err = {0};
	struct atlas_state *old = NULL, *next = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT, diff = BUF_INIT;
	struct posmap pm = {0};
	struct diags d = {0};
	int64_t gen = 0;

	pthread_mutex_lock(&r->app->store_mu);
	if (store_load(r->app->store, &old, &gen, &err) < 0) {
		pthread_mutex_unlock(&r->app->store_mu);
		reply_error(r, 500, NULL, "%s", err.msg);
		goto out;
	}
	pthread_mutex_unlock(&r->app->store_mu);
	/* every problem of the body at once, refused values and broken rules alike */
	next = state_parse_check(r->body.data ? r->body.data : "", r->body.len, old, &pm, &d, &err);
	if (!next) {
		reply_invalid(r, &d, err.msg);
		goto out;
	}
	state_to_yaml(old, 0, &a);
	state_to_yaml(next, 0, &b);
	udiff(buf_str(&a), buf_str(&b), "current", "new", &diff);
	reply_json(r, 200,
		   json_pack("{s:b, s:s, s:I}", "valid", 1, "diff", buf_str(&diff), "generation",
			     (json_int_t)gen));
out:
	state_free(old);
	state_free(next);
	posmap_clear(&pm);
	diags_clear(&d);
	buf_release(&a);
	buf_release(&b);
	buf_release(&diff);
}

void h_state_put(struct req *r)
{
	struct atlas_err err = {0};
	int dry = req_query_flag(r, "dry_run");
	struct diags d = {0};
	int64_t gen = 0;
	int rc;

	if (dry < 0)
		return;
	if (dry) {
		state_dry_run(r);
		return;
	}
	pthread_mutex_lock(&r->app->store_mu);
	app_set_actor(r);
	rc = state_import_yaml(r->app->store, r->body.data ? r->body.data : "", r->body.len,
			       "api import", &d, &gen, &err);
	pthread_mutex_unlock(&r->app->store_mu);
	if (rc < 0) {
		if (err.code == ERR_INVALID)
			reply_invalid(r, &d, err.msg);
		else
			reply_error(r, 500, NULL, "%s", err.msg);
	} else {
		app_state_changed(r->app, gen, "api");
		reply_json(r, 200, json_pack("{s:I}", "generation", (json_int_t)gen));
	}
	diags_clear(&d);
}
