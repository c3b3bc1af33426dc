/*
 * api_wg.c - /api/v1/wireguard: interfaces and their peers. Reads come from
 * the cached desired state; writes decode onto a copy of the stored state
 * and go through state_commit() (app_edit_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../state/json.h"
#include "../state/schema.h"
#include "api.h"

static json_t *iface_json(const struct wg_iface *ifc)
{
	json_t *j = json_encode_struct(&schema_wg_iface, ifc, 0);

	json_object_set_new(j, "peers", json_integer((json_int_t)ifc->npeers));
	return j;
}

/* The live peers of interface name (borrowed from live), or NULL. */
static json_t *live_peers(json_t *live, const char *name)
{
	json_t *ifs = json_object_get(live, "interfaces"), *i;
	size_t k;

	json_array_foreach(ifs, k, i) {
		const char *n = json_string_value(json_object_get(i, "name"));

		if (n && !strcmp(n, name))
			return json_object_get(i, "peers");
	}
	return NULL;
}

static json_t *peer_json(const struct wg_peer *p, json_t *livepeers, int have_live)
{
	json_t *j = json_encode_struct(&schema_wg_peer, p, 0), *lp, *found = NULL;
	size_t k;

	json_array_foreach(livepeers, k, lp) {
		const char *pk = json_string_value(json_object_get(lp, "public_key"));

		if (pk && p->public_key[0] && !strcmp(pk, p->public_key)) {
			found = lp;
			break;
		}
	}
	if (!have_live) {
		json_object_set_new(j, "status", json_null());
	} else {
		json_t *ep = found ? json_object_get(found, "endpoint") : NULL;

		json_object_set_new(
			j, "status",
			json_pack("{s:b, s:O?, s:I, s:I, s:I}", "on_interface", found != NULL,
				  "endpoint", json_is_string(ep) ? ep : NULL, "latest_handshake",
				  json_integer_value(json_object_get(found, "latest_handshake")),
				  "rx_bytes", json_integer_value(json_object_get(found, "rx_bytes")),
				  "tx_bytes", json_integer_value(json_object_get(found, "tx_bytes"))));
	}
	return j;
}

static struct wg_iface *find_iface(struct req *r, const struct atlas_state *st)
{
	struct wg_iface *ifc = st->has_wireguard ? state_wg_iface(st, r->params[0]) : NULL;

	if (!ifc)
		reply_error(r, 404, NULL, "no wireguard interface \"%s\"", r->params[0]);
	return ifc;
}

void h_wg_ifaces(struct req *r)
{
	const struct atlas_state *st;
	json_t *arr = json_array();
	int64_t gen;

	st = app_state_get(r, &gen);
	if (!st) {
		json_decref(arr);
		return;
	}
	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++)
		json_array_append_new(arr, iface_json(&st->wireguard.interfaces[i]));
	app_state_put(r->app);
	reply_json(r, 200, arr);
}

void h_wg_iface_get(struct req *r)
{
	const struct atlas_state *st;
	struct wg_iface *ifc;
	int64_t gen;

	if (app_name_param(r, 0, "interface") < 0 || !(st = app_state_get(r, &gen)))
		return;
	ifc = find_iface(r, st);
	if (ifc)
		reply_json(r, 200, iface_json(ifc));
	app_state_put(r->app);
}

/* Replies with the interface name of the committed state st. */
static void reply_iface(struct req *r, int status, const struct atlas_state *st, const char *name)
{
	const struct wg_iface *ifc = state_wg_iface(st, name);

	if (ifc)
		reply_json(r, status, iface_json(ifc));
	else
		reply_error(r, 500, NULL, "interface \"%s\" vanished", name);
}

void h_wg_iface_create(struct req *r)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct wg_iface ifc;
	char field[128], *name = NULL;
	json_t *body = req_json(r);

	schema_init(&schema_wg_iface, &ifc);
	if (!body)
		goto out;
	if (json_decode_struct(&schema_wg_iface, body, &ifc, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto out;
	}
	if (!ifc.name) {
		reply_error(r, 422, "name", "interface: name is required");
		goto out;
	}
	name = xstrdup(ifc.name);
	if (!(st = app_edit_begin(r)))
		goto out;
	if (st->has_wireguard && state_wg_iface(st, name)) {
		app_edit_abort(r, st);
		st = NULL;
		reply_error(r, 409, "name", "wireguard interface \"%s\" exists already", name);
		goto out;
	}
	if (!st->has_wireguard) {
		st->has_wireguard = 1;
		schema_init(&schema_wg_section, &st->wireguard);
	}
	app_list_append(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface,
			&ifc);
	schema_init(&schema_wg_iface, &ifc);
	{
		char *summary = xasprintf("add wireguard interface %s", name);

		if (app_edit_commit(r, st, summary) == 0)
			reply_iface(r, 201, st, name);
		free(summary);
	}
out:
	state_free(st);
	schema_release(&schema_wg_iface, &ifc);
	json_decref(body);
	free(name);
}

void h_wg_iface_patch(struct req *r)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct wg_iface copy, *ifc;
	char field[128];
	json_t *body;

	schema_init(&schema_wg_iface, &copy);
	if (app_name_param(r, 0, "interface") < 0 || !(body = req_json(r)))
		return;
	if (!(st = app_edit_begin(r)))
		goto out;
	ifc = find_iface(r, st);
	if (!ifc)
		goto abort;
	schema_release(&schema_wg_iface, &copy);
	schema_copy(&schema_wg_iface, &copy, ifc);
	if (json_decode_struct(&schema_wg_iface, body, &copy, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto abort;
	}
	if (!copy.name || strcmp(copy.name, r->params[0])) {
		reply_error(r, 422, "name", "interface \"%s\": name cannot be changed",
			    r->params[0]);
		goto abort;
	}
	schema_release(&schema_wg_iface, ifc);
	*ifc = copy;
	schema_init(&schema_wg_iface, &copy);
	{
		char *summary = xasprintf("change wireguard interface %s", r->params[0]);

		if (app_edit_commit(r, st, summary) == 0)
			reply_iface(r, 200, st, r->params[0]);
		free(summary);
	}
	goto out;
abort:
	app_edit_abort(r, st);
	st = NULL;
out:
	state_free(st);
	schema_release(&schema_wg_iface, &copy);
	json_decref(body);
}

void h_wg_iface_delete(struct req *r)
{
	struct atlas_state *st;
	struct wg_iface *ifc;
	char *summary;

	if (app_name_param(r, 0, "interface") < 0 || !(st = app_edit_begin(r)))
		return;
	ifc = find_iface(r, st);
	if (!ifc) {
		app_edit_abort(r, st);
		return;
	}
	app_list_remove(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface,
			(size_t)(ifc - st->wireguard.interfaces));
	summary = xasprintf("remove wireguard interface %s", r->params[0]);
	if (app_edit_commit(r, st, summary) == 0)
		reply_data(r, 204, NULL, "", 0);
	free(summary);
	state_free(st);
}

void h_wg_peers(struct req *r)
{
	const struct atlas_state *st;
	struct wg_iface *ifc;
	json_t *live, *arr;
	int64_t gen;

	if (app_name_param(r, 0, "interface") < 0 || !(st = app_state_get(r, &gen)))
		return;
	ifc = find_iface(r, st);
	if (ifc) {
		live = app_live(r->app, "wireguard");
		arr = json_array();
		for (size_t i = 0; i < ifc->npeers; i++)
			json_array_append_new(arr, peer_json(&ifc->peers[i],
							     live_peers(live, ifc->name), !!live));
		json_decref(live);
		reply_json(r, 200, arr);
	}
	app_state_put(r->app);
}

static struct wg_peer *find_peer(struct req *r, const struct wg_iface *ifc)
{
	struct wg_peer *p = state_wg_peer(ifc, r->params[1]);

	if (!p)
		reply_error(r, 404, NULL, "no peer \"%s\" on wireguard interface \"%s\"",
			    r->params[1], ifc->name);
	return p;
}

/* Replies with peer name of interface ifname in the committed state st. */
static void reply_peer(struct req *r, int status, const struct atlas_state *st,
		       const char *ifname, const char *name)
{
	const struct wg_iface *ifc = state_wg_iface(st, ifname);
	const struct wg_peer *p = ifc ? state_wg_peer(ifc, name) : NULL;
	json_t *live;

	if (!p) {
		reply_error(r, 500, NULL, "peer \"%s\" vanished", name);
		return;
	}
	live = app_live(r->app, "wireguard");
	reply_json(r, status, peer_json(p, live_peers(live, ifname), !!live));
	json_decref(live);
}

void h_wg_peer_get(struct req *r)
{
	const struct atlas_state *st;
	struct wg_iface *ifc;
	struct wg_peer *p;
	int64_t gen;

	if (app_name_param(r, 0, "interface") < 0 || app_name_param(r, 1, "peer") < 0 ||
	    !(st = app_state_get(r, &gen)))
		return;
	ifc = find_iface(r, st);
	p = ifc ? find_peer(r, ifc) : NULL;
	if (p) {
		json_t *live = app_live(r->app, "wireguard");

		reply_json(r, 200, peer_json(p, live_peers(live, ifc->name), !!live));
		json_decref(live);
	}
	app_state_put(r->app);
}

void h_wg_peer_create(struct req *r)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct wg_iface *ifc;
	struct wg_peer peer;
	char field[128], *name = NULL;
	json_t *body = NULL;

	schema_init(&schema_wg_peer, &peer);
	if (app_name_param(r, 0, "interface") < 0 || !(body = req_json(r)))
		goto out;
	if (json_decode_struct(&schema_wg_peer, body, &peer, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto out;
	}
	if (!peer.name) {
		reply_error(r, 422, "name", "peer: name is required");
		goto out;
	}
	name = xstrdup(peer.name);
	if (!(st = app_edit_begin(r)))
		goto out;
	ifc = find_iface(r, st);
	if (ifc && state_wg_peer(ifc, name)) {
		reply_error(r, 409, "name", "peer \"%s\" exists already on \"%s\"", name,
			    ifc->name);
		ifc = NULL;
	}
	if (!ifc) {
		app_edit_abort(r, st);
		st = NULL;
		goto out;
	}
	app_list_append(&ifc->peers, &ifc->npeers, &schema_wg_peer, &peer);
	schema_init(&schema_wg_peer, &peer);
	{
		char *summary = xasprintf("add peer %s/%s", r->params[0], name);

		if (app_edit_commit(r, st, summary) == 0)
			reply_peer(r, 201, st, r->params[0], name);
		free(summary);
	}
out:
	state_free(st);
	schema_release(&schema_wg_peer, &peer);
	json_decref(body);
	free(name);
}

void h_wg_peer_patch(struct req *r)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct wg_iface *ifc;
	struct wg_peer copy, *p = NULL;
	char field[128];
	json_t *body;

	schema_init(&schema_wg_peer, &copy);
	if (app_name_param(r, 0, "interface") < 0 || app_name_param(r, 1, "peer") < 0 ||
	    !(body = req_json(r)))
		return;
	if (!(st = app_edit_begin(r)))
		goto out;
	ifc = find_iface(r, st);
	if (ifc)
		p = find_peer(r, ifc);
	if (!p)
		goto abort;
	schema_copy(&schema_wg_peer, &copy, p);
	if (json_decode_struct(&schema_wg_peer, body, &copy, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto abort;
	}
	if (!copy.name || strcmp(copy.name, r->params[1])) {
		reply_error(r, 422, "name", "peer \"%s\": name cannot be changed", r->params[1]);
		goto abort;
	}
	schema_release(&schema_wg_peer, p);
	*p = copy;
	schema_init(&schema_wg_peer, &copy);
	{
		char *summary = xasprintf("change peer %s/%s", r->params[0], r->params[1]);

		if (app_edit_commit(r, st, summary) == 0)
			reply_peer(r, 200, st, r->params[0], r->params[1]);
		free(summary);
	}
	goto out;
abort:
	app_edit_abort(r, st);
	st = NULL;
out:
	state_free(st);
	schema_release(&schema_wg_peer, &copy);
	json_decref(body);
}

void h_wg_peer_delete(struct req *r)
{
	struct atlas_state *st;
	struct wg_iface *ifc;
	struct wg_peer *p = NULL;
	char *summary;

	if (app_name_param(r, 0, "interface") < 0 || app_name_param(r, 1, "peer") < 0 ||
	    !(st = app_edit_begin(r)))
		return;
	ifc = find_iface(r, st);
	if (ifc)
		p = find_peer(r, ifc);
	if (!p) {
		app_edit_abort(r, st);
		return;
	}
	app_list_remove(&ifc->peers, &ifc->npeers, &schema_wg_peer, (size_t)(p - ifc->peers));
	summary = xasprintf("remove peer %s/%s", r->params[0], r->params[1]);
	if (app_edit_commit(r, st, summary) == 0)
		reply_data(r, 204, NULL, "", 0);
	free(summary);
	state_free(st);
}

static void peer_file(struct req *r, const char *format, const char *ctype, const char *ext)
{
	const struct atlas_state *st;
	struct wg_iface *ifc;
	int64_t gen;

	if (app_name_param(r, 0, "interface") < 0 || app_name_param(r, 1, "peer") < 0 ||
	    !(st = app_state_get(r, &gen)))
		return;
	ifc = find_iface(r, st);
	if (ifc && find_peer(r, ifc)) {
		char *res = xasprintf("%s/%s", r->params[0], r->params[1]);
		char *fname = ext ? xasprintf("%s%s", r->params[1], ext) : NULL;

		app_client_config(r, st, "wireguard", res, format, ctype, fname);
		free(res);
		free(fname);
	}
	app_state_put(r->app);
}

void h_wg_peer_config(struct req *r)
{
	peer_file(r, "conf", "text/plain; charset=utf-8", ".conf");
}

void h_wg_peer_qr(struct req *r)
{
	peer_file(r, "qr.svg", "image/svg+xml", NULL);
}
