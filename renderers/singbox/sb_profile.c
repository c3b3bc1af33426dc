/*
 * sb_profile.c - the sing-box client profile of one user: what sing-box's
 * own apps (and `sing-box run`) import. One outbound per inbound the user
 * is in, tagged with the inbound's name. A self-signed certificate travels
 * inline, so the client verifies it instead of being told to skip checks.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "renderers/singbox/sb_json.h"
#include "renderers/singbox/sb_render.h"
#include "state/schema.h"

static json_t *client_tls(const struct atlas_state *st, const struct sb_inbound *in)
{
	json_t *tls = json_object();
	const char *sni = sb_sni(st, in);

	json_object_set_new(tls, "enabled", json_true());
	if (sni)
		json_object_set_new(tls, "server_name", json_string(sni));
	if (in->type == SB_TUIC || in->type == SB_HYSTERIA2)
		json_object_set_new(tls, "alpn", json_pack("[s]", "h3"));
	if (sb_security(in) == SB_SEC_REALITY) {
		json_object_set_new(tls, "utls", json_pack("{s:b,s:s}", "enabled", 1, "fingerprint",
							   "chrome"));
		json_object_set_new(tls, "reality",
				    json_pack("{s:b,s:o,s:o}", "enabled", 1, "public_key",
					      sb_json_str(in->reality_public_key), "short_id",
					      sb_json_str(in->reality_short_id)));
	} else if (in->self_signed_certificate) {
		json_object_set_new(tls, "certificate", json_string(in->self_signed_certificate));
	}
	return tls;
}

static json_t *client_outbound(const struct atlas_state *st, const struct sb_inbound *in,
			       const struct sb_user *u)
{
	json_t *o = json_object(), *tr;

	json_object_set_new(o, "type", json_string(sb_type_names[in->type]));
	json_object_set_new(o, "tag", json_string(in->name));
	json_object_set_new(o, "server", json_string(st->settings.host));
	json_object_set_new(o, "server_port", json_integer(in->port));
	sb_json_user_keys(o, in, u);
	switch (in->type) {
	case SB_VMESS:
		json_object_set_new(o, "security", json_string("auto"));
		json_object_set_new(o, "alter_id", json_integer(0));
		break;
	case SB_SHADOWSOCKS: {
		struct buf pw = BUF_INIT;

		json_object_set_new(o, "method", json_string(sb_method_names[in->method]));
		buf_printf(&pw, "%s:%s", in->server_key ? in->server_key : "",
			   u->password ? u->password : "");
		json_object_set_new(o, "password", sb_json_str(pw.data));
		buf_release_secure(&pw);
		break;
	}
	case SB_TUIC:
		json_object_set_new(o, "congestion_control", json_string("bbr"));
		json_object_set_new(o, "udp_relay_mode", json_string("native"));
		break;
	default: /* vless, trojan, hysteria2: their keys only */
		break;
	}
	if (sb_security(in) != SB_SEC_NONE)
		json_object_set_new(o, "tls", client_tls(st, in));
	tr = sb_json_transport(in);
	if (tr)
		json_object_set_new(o, "transport", tr);
	return o;
}

static int inbound_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct sb_inbound *const *)a)->name,
		      (*(const struct sb_inbound *const *)b)->name);
}

int render_sb_profile(const struct atlas_state *st, const char *user, struct buf *out,
		      struct atlas_err *err)
{
	const struct sb_section *sb = &st->singbox;
	const struct sb_inbound **order;
	json_t *root, *outbounds, *tags;
	size_t n = 0;
	int ret = -1;

	if (!st->settings.host || !*st->settings.host)
		return err_set(err, ERR_INVALID, "settings.host is not set: profiles need it");
	order = xcalloc(sb->ninbounds + 1, sizeof(*order));
	for (size_t i = 0; st->has_singbox && i < sb->ninbounds; i++)
		if (state_sb_user(&sb->inbounds[i], user))
			order[n++] = &sb->inbounds[i];
	if (!n) {
		free(order);
		return err_set(err, ERR_NOTFOUND, "no singbox inbound has a user \"%s\"", user);
	}
	qsort(order, n, sizeof(*order), inbound_ptr_cmp);
	root = json_object();
	outbounds = json_array();
	tags = json_array();
	json_object_set_new(root, "log", json_pack("{s:s}", "level", "warn"));
	json_object_set_new(root, "inbounds",
			    json_pack("[{s:s,s:s,s:s,s:i}]", "type", "mixed", "tag", "mixed-in",
				      "listen", "127.0.0.1", "listen_port", 2080));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(tags, json_string(order[i]->name));
	json_array_append_new(outbounds,
			      json_pack("{s:s,s:s,s:o,s:s}", "type", "selector", "tag", "proxy",
					"outbounds", tags, "default", order[0]->name));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(outbounds,
				      client_outbound(st, order[i], state_sb_user(order[i], user)));
	json_array_append_new(outbounds, json_pack("{s:s,s:s}", "type", "direct", "tag", "direct"));
	json_object_set_new(root, "outbounds", outbounds);
	json_object_set_new(root, "route", json_pack("{s:s}", "final", "proxy"));
	sb_json_dump(root, out);
	json_decref(root);
	free(order);
	ret = 0;
	return ret;
}
