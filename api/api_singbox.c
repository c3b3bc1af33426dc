/*
 * api_singbox.c - /api/v1/singbox: the section, its inbounds and their
 * users, declared as resources (resource.h), and what a person needs to
 * connect.
 *
 * An inbound is created together with its first users ("users": [...] in
 * the POST body): the validation refuses an inbound without users, so an
 * inbound cannot exist before them, and deleting its last user is refused
 * the same way (delete the inbound instead). A user of an inbound has two
 * client files, its share link for that inbound and the link as a QR code,
 * rendered straight from the state (renderers/singbox/ is pure: no driver
 * is needed). A person, one user name across inbounds, has the links of
 * every inbound they are in, a sing-box client profile and a subscription
 * URL (with a rotation that makes a new one). The JSON of an inbound or a
 * user never carries a secret (uuid, password, keys, the token): only the
 * files and the subscription URL do, since handing them over is their
 * point.
 */
#include <stdlib.h>
#include <string.h>

#include "renderers/singbox/sb_render.h"
#include "renderers/wireguard/wg_render.h"
#include "state/complete.h"
#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"
#include "api/resource.h"

static void *sb_live_acquire(struct app *a)
{
	return app_live(a, "singbox");
}

static void sb_live_release(struct app *a, void *live)
{
	(void)a;
	json_decref(live);
}

/*
 * ,"status":{...} of a user from the driver's live status: the person's
 * open connections and traffic totals (across inbounds; sing-box reports
 * connections by user name), or null without a status. The status lists
 * its users sorted by name (sb.h): one bisection per user of the list.
 */
static void user_status(struct buf *out, const void *parent, const void *item, void *live)
{
	const struct sb_user *u = item;
	json_int_t conns = 0, up = 0, down = 0;
	json_t *arr, *lu;
	size_t lo = 0, hi;

	(void)parent;
	if (!live) {
		buf_puts(out, ",\"status\":null");
		return;
	}
	arr = json_object_get(live, "users");
	hi = json_array_size(arr);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *n = json_string_value(json_object_get(json_array_get(arr, mid), "name"));
		int c = strcmp(n ? n : "", u->name);

		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			lu = json_array_get(arr, mid);
			conns = json_integer_value(json_object_get(lu, "connections"));
			up = json_integer_value(json_object_get(lu, "uplink_bytes"));
			down = json_integer_value(json_object_get(lu, "downlink_bytes"));
			break;
		}
	}
	buf_printf(out,
		   ",\"status\":{\"connections\":%lld,\"uplink_bytes\":%lld,"
		   "\"downlink_bytes\":%lld}",
		   (long long)conns, (long long)up, (long long)down);
}

/* The share link of user item of inbound parent, with a final newline. */
static int user_link(const struct atlas_state *st, const void *parent, const void *item,
		     struct buf *out, struct atlas_err *err)
{
	if (render_sb_link(st, parent, item, out, err) < 0)
		return -1;
	buf_putc(out, '\n');
	return 0;
}

static int user_qr(const struct atlas_state *st, const void *parent, const void *item,
		   struct buf *out, struct atlas_err *err)
{
	struct buf link = BUF_INIT;
	int ret = render_sb_link(st, parent, item, &link, err);

	if (ret == 0)
		ret = render_qr_svg(buf_str(&link), out, err);
	buf_release_secure(&link);
	return ret;
}

static const struct res_file user_files[] = {
    {"link", "link", "text/plain; charset=utf-8", NULL, user_link},
    {"qr.svg", "qr.svg", "image/svg+xml", NULL, user_qr},
    {NULL},
};

const struct resource res_sb_section = {
    .schema = &schema_sb_section,
    .title = "sing-box section",
    .section = "singbox",
    .unmanaged = "singbox is not managed: POST /api/v1/singbox/inbounds (an inbound with its "
		 "first users) or PATCH /api/v1/singbox to start managing it",
    .engine = "singbox",
};

const struct resource res_sb_inbound = {
    .schema = &schema_sb_inbound,
    .title = "sing-box inbound",
    .section = "singbox",
    .list = "inbounds",
    .engine = "singbox",
    .create_with = "users",
    .no_rename = "a sing-box inbound cannot be renamed: its name is its tag in every client's "
		 "profile; add a new inbound instead",
};

const struct resource res_sb_user = {
    .schema = &schema_sb_user,
    .title = "sing-box user",
    .parent = &res_sb_inbound,
    .list = "users",
    .engine = "singbox",
    .files = user_files,
    .no_rename = "a sing-box user cannot be renamed in one inbound: the name is one person "
		 "across inbounds, with one subscription; add a new user instead",
    .live_acquire = sb_live_acquire,
    .live_release = sb_live_release,
    .write_extra = user_status,
};

/* 1 when some inbound of st has a user called name. */
static int person_known(const struct atlas_state *st, const char *name)
{
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		if (state_sb_user(&st->singbox.inbounds[i], name))
			return 1;
	return 0;
}

struct membership {
	const char *user, *inbound;
};

static int membership_cmp(const void *a, const void *b)
{
	const struct membership *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : strcmp(x->inbound, y->inbound);
}

/* GET /singbox/users: every person by name, with the inbounds they are in, by name. */
void h_sb_persons(struct req *r)
{
	const struct atlas_state *st;
	struct membership *m;
	json_t *list, *ins = NULL;
	size_t n = 0, total = 0;
	int64_t gen;

	if (!(st = app_state_get(r, &gen)))
		return;
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		total += st->singbox.inbounds[i].nusers;
	m = xcalloc(total + 1, sizeof(*m));
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		for (size_t u = 0; u < st->singbox.inbounds[i].nusers; u++)
			m[n++] = (struct membership){st->singbox.inbounds[i].users[u].name,
						     st->singbox.inbounds[i].name};
	qsort(m, n, sizeof(*m), membership_cmp);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(m[i].user, m[i - 1].user)) {
			ins = json_array();
			json_array_append_new(list,
					      json_pack("{s:s, s:o}", "name", m[i].user, "inbounds", ins));
		}
		json_array_append_new(ins, json_string(m[i].inbound));
	}
	free(m);
	app_state_put(r->app);
	reply_json(r, 200, list);
}

static void reply_no_person(struct req *r)
{
	reply_error(r, 404, NULL, "no sing-box inbound has a user \"%s\"", r->params[0]);
}

static void reply_render_error(struct req *r, const struct atlas_err *err)
{
	reply_error(r,
		    err->code == ERR_NOTFOUND  ? 404
		    : err->code == ERR_INVALID ? 409
					       : 500,
		    NULL, "%s", err->msg);
}

/* GET /singbox/users/{name}/links and .../profile: every inbound of the person. */
static void person_file(struct req *r, int profile)
{
	struct atlas_err err = {0};
	const struct atlas_state *st;
	struct buf out = BUF_INIT;
	int64_t gen;

	if (app_name_param(r, 0, "user") < 0 || !(st = app_state_get(r, &gen)))
		return;
	if (!person_known(st, r->params[0])) {
		reply_no_person(r);
	} else if ((profile ? render_sb_profile(st, r->params[0], &out, &err)
			    : render_sb_links(st, r->params[0], &out, &err)) < 0) {
		reply_render_error(r, &err);
	} else if (profile) {
		reply_data(r, 200, "application/json", out.data, out.len);
		snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%s.json\"",
			 r->params[0]);
	} else {
		reply_data(r, 200, "text/plain; charset=utf-8", out.data, out.len);
	}
	buf_release_secure(&out);
	app_state_put(r->app);
}

void h_sb_person_links(struct req *r)
{
	person_file(r, 0);
}

void h_sb_person_profile(struct req *r)
{
	person_file(r, 1);
}

/* {"name":..., "url":...}: the subscription URL of the person in st, or an error reply. */
static void reply_subscription(struct req *r, int status, const struct atlas_state *st)
{
	const struct sb_subscription *sub = state_sb_subscription(st, r->params[0]);
	struct atlas_err err = {0};
	struct buf url = BUF_INIT;

	if (!person_known(st, r->params[0]))
		reply_no_person(r);
	else if (!sub || !sub->token)
		reply_error(r, 500, NULL, "user \"%s\" has no subscription token", r->params[0]);
	else if (render_sb_sub_url(&st->settings, sub->token, &url, &err) < 0)
		reply_render_error(r, &err);
	else
		reply_json(r, status,
			   json_pack("{s:s, s:s}", "name", r->params[0], "url", buf_str(&url)));
	buf_release_secure(&url);
}

void h_sb_person_subscription(struct req *r)
{
	const struct atlas_state *st;
	int64_t gen;

	if (app_name_param(r, 0, "user") < 0 || !(st = app_state_get(r, &gen)))
		return;
	reply_subscription(r, 200, st);
	app_state_put(r->app);
}

/* GET .../subscription/qr.svg: the subscription URL as a QR code (SVG). */
void h_sb_person_subscription_qr(struct req *r)
{
	const struct sb_subscription *sub;
	struct atlas_err err = {0};
	const struct atlas_state *st;
	struct buf url = BUF_INIT, svg = BUF_INIT;
	int64_t gen;

	if (app_name_param(r, 0, "user") < 0 || !(st = app_state_get(r, &gen)))
		return;
	sub = state_sb_subscription(st, r->params[0]);
	if (!person_known(st, r->params[0]))
		reply_no_person(r);
	else if (!sub || !sub->token)
		reply_error(r, 500, NULL, "user \"%s\" has no subscription token", r->params[0]);
	else if (render_sb_sub_url(&st->settings, sub->token, &url, &err) < 0 ||
		 render_qr_svg(buf_str(&url), &svg, &err) < 0)
		reply_render_error(r, &err);
	else
		reply_data(r, 200, "image/svg+xml", svg.data, svg.len);
	buf_release_secure(&url);
	buf_release_secure(&svg);
	app_state_put(r->app);
}

/* POST .../subscription/rotate: a new token; the old URL answers 404 from now on. */
void h_sb_person_rotate(struct req *r)
{
	struct atlas_err err = {0};
	struct atlas_state *st;
	char *msg;

	if (app_name_param(r, 0, "user") < 0 || !(st = app_edit_begin(r)))
		return;
	if (state_sb_rotate_token(st, r->params[0], &err) < 0) {
		if (err.code == ERR_NOTFOUND)
			reply_no_person(r);
		else
			reply_render_error(r, &err);
		app_edit_abort(r, st);
		return;
	}
	msg = xasprintf("rotate sing-box subscription %s", r->params[0]);
	if (app_edit_commit(r, st, msg) == 0)
		reply_subscription(r, 200, st);
	free(msg);
	state_free(st);
}
