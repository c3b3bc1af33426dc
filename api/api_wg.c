/*
 * api_wg.c - /api/v1/wireguard: interfaces and their peers. Reads come from
 * the cached desired state; writes decode onto a copy of the stored state
 * and go through state_commit() (app_edit_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"

static json_t *iface_json(const struct wg_iface *ifc)
{
	json_t *j = json_encode_struct(&schema_wg_iface, ifc, 0);

	json_object_set_new(j, "peers", json_integer((json_int_t)ifc->npeers));
	return j;
}

/* Appends the JSON of peer p with its live status (li may be NULL). */
static void peer_write(struct buf *out, const struct wg_peer *p, const struct live_wg *lw,
		       const char *ifname)
{
	const struct live_iface *li = live_wg_iface(lw, ifname);
	const struct live_peer *lp = live_wg_peer(li, p->public_key);

	buf_putc(out, '{');
	json_write_fields(&schema_wg_peer, p, out);
	if (!lw) {
		buf_puts(out, ",\"status\":null}");
		return;
	}
	buf_printf(out, ",\"status\":{\"on_interface\":%s,\"endpoint\":", lp ? "true" : "false");
	json_write_str(out, live_peer_endpoint(li, lp));
	buf_printf(out, ",\"latest_handshake\":%lld,\"rx_bytes\":%lld,\"tx_bytes\":%lld}}",
		   lp ? lp->handshake : 0, lp ? lp->rx : 0, lp ? lp->tx : 0);
}

/* Replies with the JSON of one peer. */
static void reply_peer_obj(struct req *r, int status, const struct wg_peer *p, const char *ifname)
{
	struct buf out = BUF_INIT;

	pthread_mutex_lock(&r->app->live_mu);
	peer_write(&out, p, r->app->live_wg, ifname);
	pthread_mutex_unlock(&r->app->live_mu);
	buf_putc(&out, '\n');
	reply_data(r, status, "application/json", out.data, out.len);
	buf_release(&out);
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
	struct atlas_err err = {0};
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
	struct atlas_state *st;
	struct wg_iface *ifc;
	json_t *body;

	if (app_name_param(r, 0, "interface") < 0 || !(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		ifc = find_iface(r, st);
		if (!ifc || app_patch(r, &schema_wg_iface, ifc, body, "interface", r->params[0]) < 0) {
			app_edit_abort(r, st);
		} else {
			char *summary = xasprintf("change wireguard interface %s", r->params[0]);

			if (app_edit_commit(r, st, summary) == 0)
				reply_iface(r, 200, st, r->params[0]);
			free(summary);
			state_free(st);
		}
	}
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
	struct buf out = BUF_INIT;
	int64_t gen;

	if (app_name_param(r, 0, "interface") < 0 || !(st = app_state_get(r, &gen)))
		return;
	ifc = find_iface(r, st);
	if (ifc) {
		buf_grow(&out, 64 + ifc->npeers * 320);
		buf_putc(&out, '[');
		pthread_mutex_lock(&r->app->live_mu);
		for (size_t i = 0; i < ifc->npeers; i++) {
			if (i)
				buf_putc(&out, ',');
			peer_write(&out, &ifc->peers[i], r->app->live_wg, ifc->name);
		}
		pthread_mutex_unlock(&r->app->live_mu);
		buf_puts(&out, "]\n");
		reply_data(r, 200, "application/json", out.data, out.len);
		buf_release(&out);
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
static void reply_peer(struct req *r, int status, const struct atlas_state *st, const char *ifname,
		       const char *name)
{
	const struct wg_iface *ifc = state_wg_iface(st, ifname);
	const struct wg_peer *p = ifc ? state_wg_peer(ifc, name) : NULL;

	if (!p)
		reply_error(r, 500, NULL, "peer \"%s\" vanished", name);
	else
		reply_peer_obj(r, status, p, ifname);
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
	if (p)
		reply_peer_obj(r, 200, p, ifc->name);
	app_state_put(r->app);
}

void h_wg_peer_create(struct req *r)
{
	struct atlas_err err = {0};
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
	struct atlas_state *st;
	struct wg_iface *ifc;
	struct wg_peer *p = NULL;
	json_t *body;

	if (app_name_param(r, 0, "interface") < 0 || app_name_param(r, 1, "peer") < 0 ||
	    !(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		ifc = find_iface(r, st);
		if (ifc)
			p = find_peer(r, ifc);
		if (!p || app_patch(r, &schema_wg_peer, p, body, "peer", r->params[1]) < 0) {
			app_edit_abort(r, st);
		} else {
			char *summary = xasprintf("change peer %s/%s", r->params[0], r->params[1]);

			if (app_edit_commit(r, st, summary) == 0)
				reply_peer(r, 200, st, r->params[0], r->params[1]);
			free(summary);
			state_free(st);
		}
	}
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
