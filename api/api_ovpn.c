/*
 * api_ovpn.c - /api/v1/openvpn: the server section and its clients,
 * declared as resources (resource.h): a client shows its live status from
 * the management interface and has its .ovpn profile as a client file;
 * and a restart of the daemon on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"
#include "api/resource.h"

/*
 * The connected clients of the live status by name (new; NULL without a
 * status): a list of every client looks each one up once, not by a scan of
 * the sessions. A name with several sessions shows its first, as listed.
 */
static void *ovpn_live_acquire(struct app *a)
{
	json_t *live = app_live(a, "openvpn"), *by_name, *lc;
	size_t k;

	if (!live)
		return NULL;
	by_name = json_object();
	json_array_foreach(json_object_get(live, "clients"), k, lc)
	{
		const char *n = json_string_value(json_object_get(lc, "name"));

		if (n && !json_object_get(by_name, n))
			json_object_set(by_name, n, lc);
	}
	json_decref(live);
	return by_name;
}

static void ovpn_live_release(struct app *a, void *live)
{
	(void)a;
	json_decref(live);
}

/* ,"status":{...} of client item from the connected clients by name (NULL: null). */
static void client_status(struct buf *out, const void *parent, const void *item, void *live)
{
	const struct ovpn_client *c = item;
	json_t *found, *ra, *va, *status;
	char *s;

	(void)parent;
	if (!live) {
		buf_puts(out, ",\"status\":null");
		return;
	}
	found = json_object_get(live, c->name);
	ra = json_object_get(found, "real_address");
	va = json_object_get(found, "virtual_address");
	status = json_pack(
	    "{s:b, s:O?, s:O?, s:I, s:I, s:I}", "connected", found != NULL, "real_address",
	    json_is_string(ra) ? ra : NULL, "virtual_address", json_is_string(va) ? va : NULL,
	    "bytes_received", json_integer_value(json_object_get(found, "bytes_received")),
	    "bytes_sent", json_integer_value(json_object_get(found, "bytes_sent")),
	    "connected_since", json_integer_value(json_object_get(found, "connected_since")));
	s = json_dumps(status, JSON_COMPACT);
	buf_puts(out, ",\"status\":");
	buf_puts(out, s ? s : "null");
	free(s);
	json_decref(status);
}

static const struct res_file client_files[] = {
    {"config", "ovpn", "application/x-openvpn-profile", ".ovpn"},
    {NULL},
};

const struct resource res_ovpn_server = {
    .schema = &schema_ovpn_section,
    .title = "openvpn server",
    .section = "openvpn",
    .unmanaged = "openvpn is not managed: PATCH /api/v1/openvpn with a network to start "
		 "managing it",
    .engine = "openvpn",
};

const struct resource res_ovpn_client = {
    .schema = &schema_ovpn_client,
    .title = "openvpn client",
    .section = "openvpn",
    .list = "clients",
    .unmanaged = "openvpn is not managed: PATCH /api/v1/openvpn with a network first",
    .engine = "openvpn",
    .files = client_files,
    .no_rename = "an OpenVPN client cannot be renamed: its name is its certificate's; "
		 "add a new client instead",
    .live_acquire = ovpn_live_acquire,
    .live_release = ovpn_live_release,
    .write_extra = client_status,
};

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
	if (req_suspend(r) < 0)
		return;
	/* cannot fail now (the engine has a restart hook); if it did, the answer says why */
	if (loop_request_as(r->app->loop, "openvpn", r->auth_user, async_done, r, &err) < 0)
		req_resume(r, json_pack("{s:b, s:s}", "ok", 0, "error", err.msg));
}

void h_apply(struct req *r)
{
	struct atlas_err err = {0};

	if (req_suspend(r) < 0)
		return;
	if (loop_request_as(r->app->loop, NULL, r->auth_user, async_done, r, &err) < 0)
		req_resume(r, json_pack("{s:b, s:s}", "ok", 0, "error", err.msg));
}
