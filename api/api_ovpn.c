/*
 * api_ovpn.c - /api/v1/openvpn: the server section, its clients, their
 * .ovpn profiles, and a restart on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"

static json_t *client_json(const struct ovpn_client *c, json_t *live)
{
	json_t *j = json_encode_struct(&schema_ovpn_client, c, 0), *lc, *found = NULL;
	size_t k;

	json_array_foreach(json_object_get(live, "clients"), k, lc)
	{
		const char *n = json_string_value(json_object_get(lc, "name"));

		if (n && !strcmp(n, c->name)) {
			found = lc;
			break;
		}
	}
	if (!live) {
		json_object_set_new(j, "status", json_null());
	} else {
		json_t *ra = json_object_get(found, "real_address");
		json_t *va = json_object_get(found, "virtual_address");

		json_object_set_new(
		    j, "status",
		    json_pack(
			"{s:b, s:O?, s:O?, s:I, s:I, s:I}", "connected", found != NULL,
			"real_address", json_is_string(ra) ? ra : NULL, "virtual_address",
			json_is_string(va) ? va : NULL, "bytes_received",
			json_integer_value(json_object_get(found, "bytes_received")), "bytes_sent",
			json_integer_value(json_object_get(found, "bytes_sent")), "connected_since",
			json_integer_value(json_object_get(found, "connected_since"))));
	}
	return j;
}

void h_ovpn_get(struct req *r)
{
	const struct atlas_state *st;
	int64_t gen;

	if (!(st = app_state_get(r, &gen)))
		return;
	if (!st->has_openvpn)
		reply_error(r, 404, NULL,
			    "openvpn is not managed: PATCH /api/v1/openvpn with a "
			    "network to start managing it");
	else
		reply_json(r, 200, json_encode_struct(&schema_ovpn_section, &st->openvpn, 0));
	app_state_put(r->app);
}

void h_ovpn_patch(struct req *r)
{
	struct atlas_state *st;
	json_t *body;

	if (!(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		/* An absent section holds its defaults: PATCH creates it from them. */
		if (app_patch(r, &schema_ovpn_section, &st->openvpn, body, "openvpn", NULL) < 0) {
			app_edit_abort(r, st);
		} else {
			st->has_openvpn = 1;
			if (app_edit_commit(r, st, "change openvpn server") == 0)
				reply_json(r, 200,
					   json_encode_struct(&schema_ovpn_section, &st->openvpn, 0));
			state_free(st);
		}
	}
	json_decref(body);
}

void h_ovpn_clients(struct req *r)
{
	const struct atlas_state *st;
	json_t *arr = json_array(), *live;
	int64_t gen;

	if (!(st = app_state_get(r, &gen))) {
		json_decref(arr);
		return;
	}
	live = app_live(r->app, "openvpn");
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++)
		json_array_append_new(arr, client_json(&st->openvpn.clients[i], live));
	json_decref(live);
	app_state_put(r->app);
	reply_json(r, 200, arr);
}

static struct ovpn_client *find_client(struct req *r, const struct atlas_state *st)
{
	struct ovpn_client *c = st->has_openvpn ? state_ovpn_client(st, r->params[0]) : NULL;

	if (!c)
		reply_error(r, 404, NULL, "no openvpn client \"%s\"", r->params[0]);
	return c;
}

static void reply_client(struct req *r, int status, const struct atlas_state *st, const char *name)
{
	const struct ovpn_client *c = state_ovpn_client(st, name);
	json_t *live;

	if (!c) {
		reply_error(r, 500, NULL, "client \"%s\" vanished", name);
		return;
	}
	live = app_live(r->app, "openvpn");
	reply_json(r, status, client_json(c, live));
	json_decref(live);
}

void h_ovpn_client_get(struct req *r)
{
	const struct atlas_state *st;
	struct ovpn_client *c;
	int64_t gen;

	if (app_name_param(r, 0, "client") < 0 || !(st = app_state_get(r, &gen)))
		return;
	c = find_client(r, st);
	if (c) {
		json_t *live = app_live(r->app, "openvpn");

		reply_json(r, 200, client_json(c, live));
		json_decref(live);
	}
	app_state_put(r->app);
}

void h_ovpn_client_create(struct req *r)
{
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	struct ovpn_client c;
	char field[128], *name = NULL;
	json_t *body = req_json(r);

	schema_init(&schema_ovpn_client, &c);
	if (!body)
		goto out;
	if (json_decode_struct(&schema_ovpn_client, body, &c, &err, field, sizeof(field)) < 0) {
		reply_error(r, 422, field, "%s", err.msg);
		goto out;
	}
	if (!c.name) {
		reply_error(r, 422, "name", "client: name is required");
		goto out;
	}
	name = xstrdup(c.name);
	if (!(st = app_edit_begin(r)))
		goto out;
	if (!st->has_openvpn || state_ovpn_client(st, name)) {
		if (!st->has_openvpn)
			reply_error(r, 409, NULL,
				    "openvpn is not managed: PATCH /api/v1/openvpn "
				    "with a network first");
		else
			reply_error(r, 409, "name", "openvpn client \"%s\" exists already", name);
		app_edit_abort(r, st);
		st = NULL;
		goto out;
	}
	app_list_append(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, &c);
	schema_init(&schema_ovpn_client, &c);
	{
		char *summary = xasprintf("add openvpn client %s", name);

		if (app_edit_commit(r, st, summary) == 0)
			reply_client(r, 201, st, name);
		free(summary);
	}
out:
	state_free(st);
	schema_release(&schema_ovpn_client, &c);
	json_decref(body);
	free(name);
}

void h_ovpn_client_patch(struct req *r)
{
	struct atlas_state *st;
	struct ovpn_client *c;
	json_t *body;

	if (app_name_param(r, 0, "client") < 0 || !(body = req_json(r)))
		return;
	if ((st = app_edit_begin(r))) {
		c = find_client(r, st);
		if (!c || app_patch(r, &schema_ovpn_client, c, body, "client", r->params[0]) < 0) {
			app_edit_abort(r, st);
		} else {
			char *summary = xasprintf("change openvpn client %s", r->params[0]);

			if (app_edit_commit(r, st, summary) == 0)
				reply_client(r, 200, st, r->params[0]);
			free(summary);
			state_free(st);
		}
	}
	json_decref(body);
}

void h_ovpn_client_delete(struct req *r)
{
	struct atlas_state *st;
	struct ovpn_client *c;
	char *summary;

	if (app_name_param(r, 0, "client") < 0 || !(st = app_edit_begin(r)))
		return;
	c = find_client(r, st);
	if (!c) {
		app_edit_abort(r, st);
		return;
	}
	app_list_remove(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client,
			(size_t)(c - st->openvpn.clients));
	summary = xasprintf("remove openvpn client %s", r->params[0]);
	if (app_edit_commit(r, st, summary) == 0)
		reply_data(r, 204, NULL, "", 0);
	free(summary);
	state_free(st);
}

void h_ovpn_client_config(struct req *r)
{
	const struct atlas_state *st;
	int64_t gen;

	if (app_name_param(r, 0, "client") < 0 || !(st = app_state_get(r, &gen)))
		return;
	if (find_client(r, st)) {
		char *fname = xasprintf("%s.ovpn", r->params[0]);

		app_client_config(r, st, "openvpn", r->params[0], "ovpn",
				  "application/x-openvpn-profile", fname);
		free(fname);
	}
	app_state_put(r->app);
}

static void async_done(void *cls, json_t *result)
{
	req_resume(cls, result);
}

void h_ovpn_restart(struct req *r)
{
	struct atlas_err err = {0};

	if (!loop_can_restart("openvpn")) {
		reply_error(r, 501, NULL,
			    "this atlas's openvpn driver cannot restart the daemon "
			    "(no restart hook)");
		return;
	}
	req_suspend(r);
	/* Cannot fail now: the engine has a restart hook. */
	loop_request(r->app->loop, "openvpn", async_done, r, &err);
}

void h_apply(struct req *r)
{
	struct atlas_err err = {0};

	req_suspend(r);
	loop_request(r->app->loop, NULL, async_done, r, &err);
}
