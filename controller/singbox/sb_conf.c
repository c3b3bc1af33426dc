/*
 * sb_conf.c - the server config.json the driver installs, from the desired
 * state (pure: same state and day, same bytes).
 *
 * Only active users are listed (a disabled or expired user is absent);
 * Shadowsocks inbounds are "managed" and carry no users: those are set live
 * through the SSM API, served under /TAG, its cache in DATADIR/singbox.
 * Every inbound names its listen address ("::" unless given: sing-box's
 * own default is 127.0.0.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/active.h"
#include "controller/singbox/sb.h"

static const char *const type_names[] = { "vless", "vmess", "trojan", "shadowsocks", "hysteria2",
					  "tuic" };

static int user_active(const struct sb_user *u, const char *today)
{
	return !u->disabled && !(u->expires && *u->expires && strcmp(u->expires, today) < 0);
}

/* A PEM text as the array of lines sing-box takes for inline certificates. */
static json_t *pem_lines(const char *pem)
{
	json_t *a = json_array();
	const char *s = pem;

	while (s && *s) {
		size_t n = strcspn(s, "\r\n");

		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n;
		s += strspn(s, "\r\n");
	}
	return a;
}

static json_t *tls_of(const struct sb_inbound *in, int alpn_h3)
{
	json_t *tls = json_object();

	json_object_set_new(tls, "enabled", json_true());
	if (in->server_name)
		json_object_set_new(tls, "server_name", json_string(in->server_name));
	if (sb_security(in) == SB_SEC_REALITY) {
		json_t *r = json_object(), *hs = json_object();
		const char *target = in->reality_handshake ? in->reality_handshake : NULL;
		char host[256] = "";
		int port = 443;

		if (target) {
			const char *colon = strrchr(target, ':');

			snprintf(host, sizeof(host), "%.*s",
				 (int)(colon ? (size_t)(colon - target) : strlen(target)), target);
			if (colon)
				port = atoi(colon + 1);
		} else if (in->server_name) {
			snprintf(host, sizeof(host), "%s", in->server_name);
		}
		json_object_set_new(r, "enabled", json_true());
		json_object_set_new(hs, "server", json_string(host));
		json_object_set_new(hs, "server_port", json_integer(port));
		json_object_set_new(r, "handshake", hs);
		json_object_set_new(r, "private_key", json_string(in->reality_private_key ? in->reality_private_key : ""));
		json_object_set_new(r, "short_id", json_pack("[s]", in->reality_short_id ? in->reality_short_id : ""));
		json_object_set_new(tls, "reality", r);
		return tls;
	}
	if (alpn_h3)
		json_object_set_new(tls, "alpn", json_pack("[s]", "h3"));
	if (in->tls_certificate) {
		json_object_set_new(tls, "certificate_path", json_string(in->tls_certificate));
		json_object_set_new(tls, "key_path", json_string(in->tls_key ? in->tls_key : ""));
	} else {
		json_object_set_new(tls, "certificate", pem_lines(in->self_signed_certificate));
		json_object_set_new(tls, "key", pem_lines(in->self_signed_key));
	}
	return tls;
}

static json_t *transport_of(const struct sb_inbound *in)
{
	switch (in->transport) {
	case SB_TR_WS:
		return json_pack("{s:s, s:s}", "type", "ws", "path", in->path ? in->path : "/");
	case SB_TR_HTTPUPGRADE:
		return json_pack("{s:s, s:s}", "type", "httpupgrade", "path", in->path ? in->path : "/");
	case SB_TR_GRPC:
		return json_pack("{s:s, s:s}", "type", "grpc", "service_name", in->path ? in->path : "");
	default:
		return NULL;
	}
}

static json_t *inbound_json(const struct sb_inbound *in, const char *today)
{
	json_t *o = json_object(), *users = json_array(), *tr;
	int sec = sb_security(in);

	json_object_set_new(o, "type", json_string(type_names[in->type]));
	json_object_set_new(o, "tag", json_string(in->name));
	json_object_set_new(o, "listen", json_string(in->listen ? in->listen : "::"));
	json_object_set_new(o, "listen_port", json_integer(in->port));
	if (in->type == SB_SHADOWSOCKS) {
		json_object_set_new(o, "method", json_string(in->method == SB_SS_AES256
								     ? "2022-blake3-aes-256-gcm"
								     : "2022-blake3-aes-128-gcm"));
		json_object_set_new(o, "password", json_string(in->server_key ? in->server_key : ""));
		json_object_set_new(o, "managed", json_true());
		json_decref(users);
		return o;
	}
	for (size_t i = 0; i < in->nusers; i++) {
		const struct sb_user *u = &in->users[i];
		json_t *j = json_pack("{s:s}", "name", u->name);

		if (!user_active(u, today)) {
			json_decref(j);
			continue;
		}
		switch (in->type) {
		case SB_VLESS:
			json_object_set_new(j, "uuid", json_string(u->uuid ? u->uuid : ""));
			if (sec == SB_SEC_REALITY && in->transport == SB_TR_TCP)
				json_object_set_new(j, "flow", json_string("xtls-rprx-vision"));
			break;
		case SB_VMESS:
			json_object_set_new(j, "uuid", json_string(u->uuid ? u->uuid : ""));
			json_object_set_new(j, "alterId", json_integer(0));
			break;
		case SB_TUIC:
			json_object_set_new(j, "uuid", json_string(u->uuid ? u->uuid : ""));
			json_object_set_new(j, "password", json_string(u->password ? u->password : ""));
			break;
		default:
			json_object_set_new(j, "password", json_string(u->password ? u->password : ""));
		}
		json_array_append_new(users, j);
	}
	json_object_set_new(o, "users", users);
	if (sec != SB_SEC_NONE)
		json_object_set_new(o, "tls", tls_of(in, in->type == SB_TUIC));
	if ((tr = transport_of(in)))
		json_object_set_new(o, "transport", tr);
	return o;
}

int sb_render_conf(const struct driver_ctx *ctx, const struct atlas_state *st, struct buf *out,
		   struct atlas_err *err)
{
	const struct sb_section *sb = &st->singbox;
	json_t *root = json_object(), *inbounds = json_array(), *services = json_array();
	json_t *servers = json_object();
	char today[16], *text, *cache = xasprintf("%s/singbox/ssm-cache.json", ctx->datadir);

	(void)err;
	ovpn_today((long long)ctx->now, today, sizeof(today));
	json_object_set_new(root, "log", json_pack("{s:s, s:b}", "level", "info", "timestamp", 1));
	for (size_t i = 0; i < sb->ninbounds; i++) {
		json_array_append_new(inbounds, inbound_json(&sb->inbounds[i], today));
		if (sb->inbounds[i].type == SB_SHADOWSOCKS) {
			char *key = sb_ssm_prefix(sb->inbounds[i].name);

			json_object_set_new(servers, key, json_string(sb->inbounds[i].name));
			free(key);
		}
	}
	json_object_set_new(root, "inbounds", inbounds);
	json_object_set_new(root, "outbounds", json_pack("[{s:s, s:s}]", "type", "direct", "tag", "direct"));
	json_array_append_new(services, json_pack("{s:s, s:s, s:i, s:s}", "type", "api", "listen",
						  "127.0.0.1", "listen_port", sb->api_port, "secret",
						  sb->api_secret ? sb->api_secret : ""));
	if (json_object_size(servers))
		json_array_append_new(services,
				      json_pack("{s:s, s:s, s:i, s:O, s:s}", "type", "ssm-api",
						"listen", "127.0.0.1", "listen_port", sb->ssm_port,
						"servers", servers, "cache_path", cache));
	json_decref(servers);
	json_object_set_new(root, "services", services);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	buf_puts(out, text);
	buf_putc(out, '\n');
	memset(text, 0, strlen(text));
	free(text);
	json_decref(root);
	free(cache);
	return 0;
}
