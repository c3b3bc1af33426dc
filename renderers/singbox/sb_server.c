/*
 * sb_server.c - the sing-box server config.json.
 *
 * Built as a jansson tree, keys in insertion order, dumped with a fixed
 * indent: the same state gives the same bytes. Only options of sing-box
 * 1.14 (no legacy inbound fields such as sniff: fatal there). Values come
 * from a validated state, and JSON escaping is jansson's, so no name or
 * password can add a key.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "renderers/singbox/sb_json.h"
#include "renderers/singbox/sb_render.h"
#include "state/active.h"
#include "state/schema.h"

void sb_hostport_split(const char *hp, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(hp, ':');
	size_t n = colon ? (size_t)(colon - hp) : strlen(hp);

	*port = colon ? atoi(colon + 1) : 443;
	if (hp[0] == '[' && n >= 2) {
		hp++;
		n -= 2;
	}
	if (n >= hostlen)
		n = hostlen - 1;
	memcpy(host, hp, n);
	host[n] = '\0';
}

static json_t *server_tls(const struct sb_inbound *in)
{
	json_t *tls = json_object();
	int sec = sb_security(in);

	json_object_set_new(tls, "enabled", json_true());
	if (in->server_name)
		json_object_set_new(tls, "server_name", json_string(in->server_name));
	if (sec == SB_SEC_REALITY) {
		json_t *r = json_object(), *hs = json_object(), *sid = json_array();
		char host[256];
		int port = 443;

		if (in->reality_handshake)
			sb_hostport_split(in->reality_handshake, host, sizeof(host), &port);
		else
			snprintf(host, sizeof(host), "%s", in->server_name ? in->server_name : "");
		json_object_set_new(r, "enabled", json_true());
		json_object_set_new(hs, "server", json_string(host));
		json_object_set_new(hs, "server_port", json_integer(port));
		json_object_set_new(r, "handshake", hs);
		json_object_set_new(r, "private_key", sb_json_str(in->reality_private_key));
		json_array_append_new(sid, sb_json_str(in->reality_short_id));
		json_object_set_new(r, "short_id", sid);
		json_object_set_new(tls, "reality", r);
		return tls;
	}
	if (in->type == SB_TUIC || in->type == SB_HYSTERIA2)
		json_object_set_new(tls, "alpn", json_pack("[s]", "h3"));
	if (in->tls_certificate) {
		json_object_set_new(tls, "certificate_path", json_string(in->tls_certificate));
		json_object_set_new(tls, "key_path", sb_json_str(in->tls_key));
	} else {
		json_object_set_new(tls, "certificate", sb_json_str(in->self_signed_certificate));
		json_object_set_new(tls, "key", sb_json_str(in->self_signed_key));
	}
	return tls;
}

json_t *sb_json_transport(const struct sb_inbound *in)
{
	json_t *t = json_object();

	switch (in->transport) {
	case SB_TR_WS:
		json_object_set_new(t, "type", json_string("ws"));
		json_object_set_new(t, "path", json_string(in->path ? in->path : "/"));
		break;
	case SB_TR_HTTPUPGRADE:
		json_object_set_new(t, "type", json_string("httpupgrade"));
		json_object_set_new(t, "path", json_string(in->path ? in->path : "/"));
		break;
	case SB_TR_GRPC:
		json_object_set_new(t, "type", json_string("grpc"));
		json_object_set_new(t, "service_name", sb_json_str(in->path));
		break;
	default:
		json_decref(t);
		return NULL;
	}
	return t;
}

void sb_json_user_keys(json_t *o, const struct sb_inbound *in, const struct sb_user *u)
{
	if (in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TUIC)
		json_object_set_new(o, "uuid", sb_json_str(u->uuid));
	if (in->type == SB_TROJAN || in->type == SB_HYSTERIA2 || in->type == SB_TUIC)
		json_object_set_new(o, "password", sb_json_str(u->password));
	if (in->type == SB_VLESS && sb_security(in) == SB_SEC_REALITY)
		json_object_set_new(o, "flow", json_string("xtls-rprx-vision"));
}

static json_t *server_user(const struct sb_inbound *in, const struct sb_user *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(u->name));
	sb_json_user_keys(o, in, u);
	if (in->type == SB_VMESS)
		json_object_set_new(o, "alterId", json_integer(0));
	return o;
}

static json_t *server_inbound(const struct sb_inbound *in, const char *today, size_t *nactive)
{
	json_t *o = json_object(), *users = json_array(), *tr;

	json_object_set_new(o, "type", json_string(sb_type_names[in->type]));
	json_object_set_new(o, "tag", json_string(in->name));
	json_object_set_new(o, "listen", json_string(in->listen ? in->listen : "::"));
	json_object_set_new(o, "listen_port", json_integer(in->port));
	*nactive = 0;
	if (in->type == SB_SHADOWSOCKS) {
		/* Users come and go through the SSM API, without a reload. */
		json_object_set_new(o, "method", json_string(sb_method_names[in->method]));
		json_object_set_new(o, "password", sb_json_str(in->server_key));
		json_object_set_new(o, "managed", json_true());
		json_decref(users);
		return o;
	}
	for (size_t i = 0; i < in->nusers; i++)
		if (sb_user_active(&in->users[i], today)) {
			json_array_append_new(users, server_user(in, &in->users[i]));
			(*nactive)++;
		}
	json_object_set_new(o, "users", users);
	if (in->type == SB_TUIC)
		json_object_set_new(o, "congestion_control", json_string("bbr"));
	if (sb_security(in) != SB_SEC_NONE)
		json_object_set_new(o, "tls", server_tls(in));
	tr = sb_json_transport(in);
	if (tr)
		json_object_set_new(o, "transport", tr);
	return o;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every active user name once, sorted: the v2ray_api stats users. */
static json_t *stats_users(const struct sb_section *sb, const char *today)
{
	json_t *arr = json_array();
	const char **names;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < sb->ninbounds; i++)
		total += sb->inbounds[i].nusers;
	names = xcalloc(total + 1, sizeof(*names));
	for (size_t i = 0; i < sb->ninbounds; i++)
		for (size_t j = 0; j < sb->inbounds[i].nusers; j++)
			if (sb_user_active(&sb->inbounds[i].users[j], today))
				names[n++] = sb->inbounds[i].users[j].name;
	qsort(names, n, sizeof(*names), str_cmp);
	for (size_t i = 0; i < n; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			json_array_append_new(arr, json_string(names[i]));
	free(names);
	return arr;
}

int render_sb_server(const struct atlas_state *st, const struct sb_render_opts *opts,
		     struct buf *out, struct atlas_err *err)
{
	const struct sb_section *sb = &st->singbox;
	json_t *root = json_object(), *inbounds = json_array(), *services = json_array();
	json_t *ssm_servers = json_object(), *api, *log;
	const char *today = opts ? opts->today : NULL;
	int ret = -1;

	log = json_pack("{s:s,s:b}", "level", opts && opts->log_level ? opts->log_level : "info",
			"timestamp", 1);
	json_object_set_new(root, "log", log);
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];
		size_t nactive;
		json_t *o = server_inbound(in, today, &nactive);

		if (in->type != SB_SHADOWSOCKS && !nactive) {
			/* No one may use it: not listening beats an empty user list. */
			json_decref(o);
			continue;
		}
		if (in->type == SB_SHADOWSOCKS) {
			char path[NAME_MAX_LEN + 2];

			snprintf(path, sizeof(path), "/%s", in->name);
			json_object_set_new(ssm_servers, path, json_string(in->name));
		}
		json_array_append_new(inbounds, o);
	}
	json_object_set_new(root, "inbounds", inbounds);
	json_object_set_new(root, "outbounds",
			    json_pack("[{s:s,s:s}]", "type", "direct", "tag", "direct"));
	json_object_set_new(root, "route", json_pack("{s:s}", "final", "direct"));
	api = json_pack("{s:s,s:s,s:s,s:i,s:o}", "type", "api", "tag", "atlas-api", "listen",
			"127.0.0.1", "listen_port", sb->api_port, "secret",
			sb_json_str(sb->api_secret));
	json_array_append_new(services, api);
	if (json_object_size(ssm_servers)) {
		if (!opts || !opts->ssm_cache_path) {
			err_set(err, ERR_INVALID, "a shadowsocks inbound needs the ssm-api cache path");
			goto out;
		}
		json_array_append_new(services,
				      json_pack("{s:s,s:s,s:s,s:i,s:O,s:s}", "type", "ssm-api", "tag",
						"atlas-ssm", "listen", "127.0.0.1", "listen_port",
						sb->ssm_port, "servers", ssm_servers, "cache_path",
						opts->ssm_cache_path));
	}
	json_object_set_new(root, "services", services);
	services = NULL;
	if (opts && opts->v2ray_api) {
		char listen[32];

		snprintf(listen, sizeof(listen), "127.0.0.1:%d", sb->v2ray_api_port);
		json_object_set_new(
		    root, "experimental",
		    json_pack("{s:{s:s,s:{s:b,s:o}}}", "v2ray_api", "listen", listen, "stats",
			      "enabled", 1, "users", stats_users(sb, today)));
	}
	sb_json_dump(root, out);
	ret = 0;
out:
	json_decref(services);
	json_decref(ssm_servers);
	json_decref(root);
	return ret;
}

json_t *sb_json_str(const char *s)
{
	json_t *j = json_string(s ? s : "");

	return j ? j : json_string("");
}

void sb_json_dump(const json_t *j, struct buf *out)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	buf_puts(out, text ? text : "{}");
	buf_putc(out, '\n');
	if (text) {
		OPENSSL_cleanse(text, strlen(text));	/* it held keys */
		free(text);
	}
}

const char *sb_sni(const struct atlas_state *st, const struct sb_inbound *in)
{
	return in->server_name ? in->server_name : st->settings.host;
}
