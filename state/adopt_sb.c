/*
 * adopt_sb.c - the sing-box config.json reader of `atlas adopt singbox`.
 * Pure.
 *
 * jansson parses the file (with duplicate keys refused) and gives the
 * line:col of a syntax error; state/jsonpos.c then indexes where each value
 * starts under its path ("inbounds[1].users[0].uuid"), so every message
 * about a value carries its line:col.
 *
 * What is kept is what the clients use: port, listen address, TLS server
 * name and certificate paths, the REALITY private key, short id and target,
 * the transport and its path, the Shadowsocks method and server key, and each
 * user's UUID and password. What would make an existing client stop
 * connecting under the config Atlas renders is an error, not a note: Atlas
 * adopts all or nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "state/adopt_sb.h"
#include "state/adopt_wg.h"
#include "state/jsonpos.h"
#include "state/sb_keys.h"
#include "state/schema.h"
#include "state/validate.h"

/* ---- the reader ---- */

struct rd {
	struct posidx idx;
	struct diags *errs, *notes;
	struct sb_section *sb;
};

/* A message about the value at path: "PATH: text" at its line:col. */
static void __attribute__((format(printf, 4, 5)))
say(struct rd *r, struct diags *d, const char *path, const char *fmt, ...)
{
	char msg[512];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	posidx_find(&r->idx, path, &line, &col);
	diags_add_at(d, line, col, NULL, "%s: %s", path, msg);
}

#define ERR(path, ...) say(r, r->errs, path, __VA_ARGS__)
#define NOTE(path, ...) say(r, r->notes, path, __VA_ARGS__)

static int in_list(const char *k, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(k, list[i]))
			return 1;
	return 0;
}

/* A string member, or NULL (an error when present and not a string). */
static const char *get_str(struct rd *r, json_t *o, const char *key, const char *path)
{
	json_t *v = json_object_get(o, key);
	char p[512];

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		snprintf(p, sizeof(p), "%.240s.%.200s", path, key);
		ERR(p, "is not a string");
		return NULL;
	}
	return json_string_value(v);
}

/* 1 when a member is set to something other than false / 0 / "" / {} / []. */
static int truthy(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_string(v))
		return *json_string_value(v) != '\0';
	if (json_is_object(v))
		return json_object_size(v) != 0;
	if (json_is_array(v))
		return json_array_size(v) != 0;
	return 1;
}

static const char *const listen_notes[] = {
	"tcp_fast_open", "tcp_multi_path", "udp_fragment", "udp_timeout", "detour",
	"bind_interface", "routing_mark", "reuse_addr", "netns", "sniff",
	"sniff_override_destination", "sniff_timeout", "domain_strategy",
	"udp_disable_domain_unmapping", NULL
};

/* The keys of an inbound besides type, tag, listen, listen_port, users, tls, transport. */
static const char *const type_keys[][8] = {
	[SB_VLESS] = { "multiplex", NULL },
	[SB_VMESS] = { "multiplex", NULL },
	[SB_TROJAN] = { "multiplex", "fallback", "fallback_for_alpn", NULL },
	[SB_SHADOWSOCKS] = { "method", "password", "network", "multiplex", "managed", NULL },
	[SB_HYSTERIA2] = { "up_mbps", "down_mbps", "obfs", "ignore_client_bandwidth",
			   "masquerade", "brutal_debug", NULL },
	[SB_TUIC] = { "congestion_control", "auth_timeout", "zero_rtt_handshake", "heartbeat",
		      NULL },
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void read_reality(struct rd *r, json_t *re, const char *tp, struct sb_inbound *in)
{
	static const char *const known[] = { "enabled", "handshake", "private_key", "short_id",
					     "max_time_difference", NULL };
	json_t *hs = json_object_get(re, "handshake"), *sid = json_object_get(re, "short_id");
	const char *key, *pk;
	json_t *v;
	char p[512];

	json_object_foreach(re, key, v) {
		snprintf(p, sizeof(p), "%.240s.%.200s", tp, key);
		if (!in_list(key, known))
			ERR(p, "unknown key \"%s\" (sing-box 1.14 refuses it too)", key);
		else if (!strcmp(key, "max_time_difference"))
			NOTE(p, "max_time_difference is not carried over: Atlas renders REALITY "
				"without it");
	}
	snprintf(p, sizeof(p), "%.240s.private_key", tp);
	pk = get_str(r, re, "private_key", tp);
	if (!pk)
		ERR(p, "REALITY needs its private_key: without it the clients' public key "
		       "would no longer match");
	else if (!sb_reality_key_valid(pk))
		ERR(p, "private_key \"%.60s\" is not an X25519 key (base64url of 32 bytes)", pk);
	else
		in->reality_private_key = xstrdup(pk);
	snprintf(p, sizeof(p), "%.240s.short_id", tp);
	if (json_is_string(sid)) {
		in->reality_short_id = xstrdup(json_string_value(sid));
	} else if (json_is_array(sid) && json_array_size(sid) == 1 &&
		   json_is_string(json_array_get(sid, 0))) {
		in->reality_short_id = xstrdup(json_string_value(json_array_get(sid, 0)));
	} else if (json_is_array(sid) && json_array_size(sid) > 1) {
		ERR(p, "%zu short ids: Atlas keeps one per inbound, so the clients of the others "
		       "would stop connecting (keep the one your clients use)",
		    json_array_size(sid));
	} else {
		ERR(p, "REALITY needs one short id (a string of 0 to 16 hex digits)");
	}
	if (in->reality_short_id && !sb_short_id_valid(in->reality_short_id))
		ERR(p, "short id \"%.60s\" is not an even number of hex digits, at most 16",
		    in->reality_short_id);
	snprintf(p, sizeof(p), "%.240s.handshake", tp);
	if (!json_is_object(hs)) {
		ERR(p, "REALITY needs a handshake target {server, server_port}");
		return;
	}
	{
		const char *host = get_str(r, hs, "server", p);
		json_t *port = json_object_get(hs, "server_port");
		long long pn = json_is_integer(port) ? json_integer_value(port) : 443;
		char hp[512];

		json_object_foreach(hs, key, v)
			if (strcmp(key, "server") && strcmp(key, "server_port")) {
				char q[512];

				snprintf(q, sizeof(q), "%.240s.%.200s", p, key);
				NOTE(q, "handshake %s is not carried over: Atlas dials the target "
					"directly",
				     key);
			}
		if (!host) {
			ERR(p, "the handshake has no server");
			return;
		}
		if (port && !json_is_integer(port)) {
			char q[512];

			snprintf(q, sizeof(q), "%.240s.server_port", p);
			ERR(q, "is not a port number");
			return;
		}
		if (!in->server_name) {
			in->server_name = xstrdup(host);
			NOTE(p, "no tls.server_name: the handshake server \"%s\" becomes server_name",
			     host);
		}
		if (strcmp(host, in->server_name) || pn != 443) {
			snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%lld" : "%s:%lld", host, pn);
			in->reality_handshake = xstrdup(hp);
		}
	}
}

static void read_tls(struct rd *r, json_t *tls, const char *ip, struct sb_inbound *in)
{
	static const char *const known[] = { "enabled", "server_name", "alpn", "min_version",
					     "max_version", "cipher_suites", "certificate",
					     "certificate_path", "key", "key_path", "acme", "ech",
					     "reality", "curve_preferences", "client_authentication",
					     "client_certificate", "client_certificate_path",
					     "client_certificate_public_key_sha256",
					     "kernel_tx", "kernel_rx", "fragment", "record_fragment",
					     NULL };
	char tp[512], p[512];
	json_t *re, *v, *alpn;
	const char *key, *cert, *keyp;

	snprintf(tp, sizeof(tp), "%.240s.tls", ip);
	if (!json_is_object(tls)) {
		ERR(tp, "is not an object");
		return;
	}
	if (!json_is_true(json_object_get(tls, "enabled"))) {
		in->security = SB_SEC_NONE;
		return;
	}
	json_object_foreach(tls, key, v) {
		snprintf(p, sizeof(p), "%.240s.%.200s", tp, key);
		if (!in_list(key, known))
			ERR(p, "unknown key \"%s\" (sing-box 1.14 refuses it too)", key);
		else if (!strcmp(key, "acme") && truthy(v))
			ERR(p, "ACME certificates are not adopted: Atlas takes certificates by path "
			       "(certificate_path, key_path); point them at the files ACME renews");
		else if (!strcmp(key, "ech") && truthy(v))
			ERR(p, "ECH is not supported by Atlas: clients configured for it would stop "
			       "connecting");
		else if ((!strcmp(key, "certificate") || !strcmp(key, "key")) && truthy(v))
			ERR(p, "an inline %s: put it in a file and name it with %s_path so that "
			       "Atlas can take it over",
			    key, key);
		else if (!strncmp(key, "client_", 7) && truthy(v))
			ERR(p, "client certificates are not supported by Atlas");
		else if (in_list(key, (const char *const[]){ "min_version", "max_version",
							    "cipher_suites", "curve_preferences",
							    "kernel_tx", "kernel_rx", "fragment",
							    "record_fragment", NULL }) &&
			 truthy(v))
			NOTE(p, "%s is not carried over: Atlas renders sing-box's TLS defaults", key);
	}
	in->server_name = dup_or_null(get_str(r, tls, "server_name", tp));
	re = json_object_get(tls, "reality");
	if (json_is_object(re) && json_is_true(json_object_get(re, "enabled"))) {
		if (in->type != SB_VLESS) {
			snprintf(p, sizeof(p), "%.240s.reality", tp);
			ERR(p, "REALITY on a %s inbound: Atlas runs REALITY with VLESS only",
			    sb_type_names[in->type]);
			return;
		}
		in->security = SB_SEC_REALITY;
		snprintf(p, sizeof(p), "%.240s.reality", tp);
		read_reality(r, re, p, in);
		return;
	}
	in->security = SB_SEC_TLS;
	cert = get_str(r, tls, "certificate_path", tp);
	keyp = get_str(r, tls, "key_path", tp);
	if (cert || keyp) {
		in->tls_certificate = dup_or_null(cert);
		in->tls_key = dup_or_null(keyp);
	} else if (!truthy(json_object_get(tls, "acme")) &&
		   !truthy(json_object_get(tls, "certificate"))) {
		ERR(tp, "TLS without certificate_path and key_path");
	}
	alpn = json_object_get(tls, "alpn");
	snprintf(p, sizeof(p), "%.240s.alpn", tp);
	if (in->type == SB_HYSTERIA2 || in->type == SB_TUIC) {
		int h3 = !alpn && in->type == SB_HYSTERIA2;	/* hysteria2's default is h3 */
		size_t i;

		json_array_foreach(alpn, i, v)
			h3 |= json_is_string(v) && !strcmp(json_string_value(v), "h3");
		if (json_is_string(alpn))
			h3 |= !strcmp(json_string_value(alpn), "h3");
		if (!h3)
			ERR(alpn ? p : tp, "ALPN without h3: Atlas serves %s with ALPN h3 only, so "
					   "these clients would stop connecting",
			    sb_type_names[in->type]);
		else if (json_array_size(alpn) > 1)
			NOTE(p, "ALPN protocols other than h3 are not carried over");
	} else if (truthy(alpn)) {
		NOTE(p, "alpn is not carried over: Atlas sets no ALPN on TCP inbounds, which "
			"accepts any client ALPN");
	}
}

static void read_transport(struct rd *r, json_t *t, const char *ip, struct sb_inbound *in)
{
	char tp[512], p[512];
	const char *type, *key;
	json_t *v;

	snprintf(tp, sizeof(tp), "%.240s.transport", ip);
	if (!json_is_object(t)) {
		ERR(tp, "is not an object");
		return;
	}
	type = get_str(r, t, "type", tp);
	if (!type) {
		ERR(tp, "a transport without type");
		return;
	}
	if (!strcmp(type, "ws"))
		in->transport = SB_TR_WS;
	else if (!strcmp(type, "httpupgrade"))
		in->transport = SB_TR_HTTPUPGRADE;
	else if (!strcmp(type, "grpc"))
		in->transport = SB_TR_GRPC;
	else {
		snprintf(p, sizeof(p), "%.240s.type", tp);
		ERR(p, "transport \"%s\" is not one Atlas runs (ws, grpc, httpupgrade)", type);
		return;
	}
	in->path = dup_or_null(get_str(r, t, in->transport == SB_TR_GRPC ? "service_name" : "path",
				       tp));
	json_object_foreach(t, key, v) {
		snprintf(p, sizeof(p), "%.240s.%.200s", tp, key);
		if (!strcmp(key, "type") || !strcmp(key, "path") || !strcmp(key, "service_name"))
			continue;
		if (!strcmp(key, "max_early_data") && truthy(v))
			ERR(p, "early data is not supported by Atlas: clients that send it would "
			       "stop connecting");
		else if (in_list(key, (const char *const[]){ "headers", "host", "early_data_header_name",
							    "idle_timeout", "ping_timeout",
							    "permit_without_stream", NULL }))
			NOTE(p, "transport %s is not carried over", key);
		else
			ERR(p, "unknown key \"%s\" (sing-box 1.14 refuses it too)", key);
	}
}

/* The users of one inbound; names cleaned, unique within the inbound. */
static void read_users(struct rd *r, json_t *users, const char *ip, struct sb_inbound *in)
{
	size_t i;
	json_t *u;
	char up[512], p[512];

	snprintf(up, sizeof(up), "%.240s.users", ip);
	if (!json_is_array(users)) {
		ERR(up, "is not a list");
		return;
	}
	in->users = xcalloc(json_array_size(users) + 1, sizeof(*in->users));
	json_array_foreach(users, i, u) {
		struct sb_user *su = &in->users[in->nusers];
		const char *name, *uuid, *pw, *flow, *key;
		char clean[NAME_MAX_LEN + 1];
		json_t *v;
		int dup = 0;

		/* defaults (quota_reset_day 1...): the export of the adoption imports again */
		schema_init(&schema_sb_user, su);

		snprintf(p, sizeof(p), "%.240s[%zu]", up, i);
		if (!json_is_object(u)) {
			ERR(p, "a user is an object");
			continue;
		}
		json_object_foreach(u, key, v)
			if (!in_list(key, (const char *const[]){ "name", "uuid", "password", "flow",
								"alterId", NULL })) {
				char q[512];

				snprintf(q, sizeof(q), "%.240s.%.200s", p, key);
				ERR(q, "unknown key \"%s\" (sing-box 1.14 refuses it too)", key);
			}
		name = get_str(r, u, "name", p);
		uuid = get_str(r, u, "uuid", p);
		pw = get_str(r, u, "password", p);
		flow = get_str(r, u, "flow", p);
		if (name && !adopt_name_clean(name, clean, sizeof(clean)))
			snprintf(clean, sizeof(clean), "%s-%zu", in->name, i + 1);
		else if (!name)
			snprintf(clean, sizeof(clean), "%s-%zu", in->name, i + 1);
		if (!name || strcmp(name, clean))
			NOTE(p, "user %s%s%s is named \"%s\" in Atlas", name ? "\"" : "(no name)",
			     name ? name : "", name ? "\"" : "", clean);
		for (size_t k = 0; k < in->nusers; k++)
			dup |= !strcmp(in->users[k].name, clean);
		/* told, and the user's other problems too (all at once): nothing is adopted */
		if (dup)
			ERR(p, "user name \"%s\" is used twice in inbound \"%s\"", clean, in->name);
		if ((in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TUIC) && !uuid)
			ERR(p, "user \"%s\" has no uuid", clean);
		if (in->type != SB_VLESS && in->type != SB_VMESS && !pw)
			ERR(p, "user \"%s\" has no password", clean);
		if (uuid && !sb_uuid_valid(uuid))
			ERR(p, "user \"%s\": uuid \"%.60s\" is not a UUID", clean, uuid);
		for (size_t k = 0; uuid && k < in->nusers; k++)
			if (in->users[k].uuid && !strcasecmp(in->users[k].uuid, uuid))
				ERR(p, "user \"%s\": uuid %s is also user \"%s\"'s", clean, uuid,
				    in->users[k].name);
		if (pw && in->type == SB_SHADOWSOCKS &&
		    !sb_ss_key_valid(pw, sb_method_key_len(in->method)))
			ERR(p, "user \"%s\": password is not base64 of %d bytes (%s)", clean,
			    sb_method_key_len(in->method), sb_method_names[in->method]);
		for (size_t k = 0; pw && k < in->nusers; k++)
			if (in->users[k].password && !strcmp(in->users[k].password, pw))
				ERR(p, "user \"%s\": the same password as user \"%s\"", clean,
				    in->users[k].name);
		if (in->type == SB_VMESS) {
			json_t *aid = json_object_get(u, "alterId");

			if (aid && (!json_is_integer(aid) || json_integer_value(aid) != 0))
				ERR(p, "user \"%s\": alterId other than 0 (legacy VMess): Atlas runs "
				       "VMess AEAD only (alterId 0)",
				    clean);
		}
		if (in->type == SB_VLESS) {
			int vision = flow && !strcmp(flow, "xtls-rprx-vision");

			if (flow && *flow && !vision)
				ERR(p, "user \"%s\": flow \"%s\" is not xtls-rprx-vision", clean, flow);
			else if (sb_security(in) == SB_SEC_REALITY && !vision)
				ERR(p, "user \"%s\" has no flow: Atlas serves VLESS+REALITY with flow "
				       "xtls-rprx-vision, which this user's clients do not request",
				    clean);
			else if (sb_security(in) != SB_SEC_REALITY && vision)
				ERR(p, "user \"%s\": flow xtls-rprx-vision outside REALITY: Atlas "
				       "renders it with REALITY only",
				    clean);
		}
		su->name = xstrdup(clean);
		su->note = xstrdup("adopted");
		if (in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TUIC)
			su->uuid = dup_or_null(uuid);
		if (in->type != SB_VLESS && in->type != SB_VMESS)
			su->password = dup_or_null(pw);
		in->nusers++;
	}
}

static void read_shadowsocks(struct rd *r, json_t *o, const char *ip, struct sb_inbound *in)
{
	const char *method = get_str(r, o, "method", ip), *pw = get_str(r, o, "password", ip);
	char p[512];

	snprintf(p, sizeof(p), "%.240s.method", ip);
	if (!method) {
		ERR(ip, "a shadowsocks inbound without method");
	} else if (!strcmp(method, sb_method_names[SB_SS_AES128])) {
		in->method = SB_SS_AES128;
	} else if (!strcmp(method, sb_method_names[SB_SS_AES256])) {
		in->method = SB_SS_AES256;
	} else {
		ERR(p, "method \"%s\" is not one Atlas runs (2022-blake3-aes-128-gcm, "
		       "2022-blake3-aes-256-gcm): its clients would need new settings",
		    method);
	}
	if (truthy(json_object_get(o, "managed"))) {
		snprintf(p, sizeof(p), "%.240s.managed", ip);
		ERR(p, "a managed inbound keeps its users in the SSM API's cache, not in this "
		       "file: list them under users first");
	} else if (!truthy(json_object_get(o, "users"))) {
		ERR(ip, "a single-user Shadowsocks inbound (no users): Atlas runs Shadowsocks "
			"2022 with users, so the clients would need a user key");
	}
	snprintf(p, sizeof(p), "%.240s.password", ip);
	if (!pw)
		ERR(ip, "a shadowsocks inbound without password (the server key)");
	else if (!sb_ss_key_valid(pw, sb_method_key_len(in->method)))
		ERR(p, "the server key is not base64 of %d bytes (%s)", sb_method_key_len(in->method),
		    sb_method_names[in->method]);
	else
		in->server_key = xstrdup(pw);
	if (json_object_get(o, "network")) {
		snprintf(p, sizeof(p), "%.240s.network", ip);
		NOTE(p, "network is not carried over: Atlas serves Shadowsocks over TCP and UDP");
	}
}

static void read_inbound(struct rd *r, json_t *o, size_t idx)
{
	static const char *const base_keys[] = { "type", "tag", "listen", "listen_port", "users",
						 "tls", "transport", NULL };
	char ip[64], p[512], tag[NAME_MAX_LEN + 1];
	const char *type, *t, *listen, *key;
	struct sb_inbound *in;
	json_t *v, *port;
	int ty = -1;

	snprintf(ip, sizeof(ip), "inbounds[%zu]", idx);
	if (!json_is_object(o)) {
		ERR(ip, "an inbound is an object");
		return;
	}
	type = get_str(r, o, "type", ip);
	t = get_str(r, o, "tag", ip);
	for (int i = 0; type && sb_type_names[i]; i++)
		if (!strcmp(type, sb_type_names[i]))
			ty = i;
	if (!type) {
		ERR(ip, "an inbound without type");
		return;
	}
	if (ty < 0) {
		NOTE(ip, "inbound \"%s\" of type %s is not managed by Atlas (it runs vless, vmess, "
			 "trojan, shadowsocks, hysteria2, tuic): it is not carried over",
		     t ? t : "", type);
		return;
	}
	if (!t || !adopt_name_clean(t, tag, sizeof(tag)) ||
	    in_list(tag, (const char *const[]){ "direct", "proxy", "mixed-in", "block", "dns",
						NULL }))
		snprintf(tag, sizeof(tag), "%s-%zu", type, idx + 1);
	if (!t || strcmp(t, tag))
		NOTE(ip, "inbound %s%s%s is named \"%s\" in Atlas (the tag is not seen by clients)",
		     t ? "\"" : "(no tag)", t ? t : "", t ? "\"" : "", tag);
	/* told, and the inbound's other problems too (all at once): nothing is adopted */
	for (size_t i = 0; i < r->sb->ninbounds; i++)
		if (!strcmp(r->sb->inbounds[i].name, tag)) {
			ERR(ip, "inbound name \"%s\" is used twice", tag);
			break;
		}
	r->sb->inbounds = xrealloc(r->sb->inbounds, (r->sb->ninbounds + 1) * sizeof(*in));
	in = &r->sb->inbounds[r->sb->ninbounds++];
	memset(in, 0, sizeof(*in));
	/* the schema's defaults, as a YAML file without those keys would give */
	schema_init(&schema_sb_inbound, in);
	in->name = xstrdup(tag);
	in->type = ty;
	in->security = SB_SEC_NONE;
	json_object_foreach(o, key, v) {
		snprintf(p, sizeof(p), "%.240s.%.200s", ip, key);
		if (in_list(key, base_keys) || in_list(key, type_keys[ty]))
			continue;
		if (in_list(key, listen_notes))
			NOTE(p, "%s is not carried over: Atlas does not render it", key);
		else
			ERR(p, "unknown key \"%s\" for a %s inbound (sing-box 1.14 refuses it too)",
			    key, type);
	}
	port = json_object_get(o, "listen_port");
	snprintf(p, sizeof(p), "%.240s.listen_port", ip);
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535)
		ERR(port ? p : ip, "listen_port is missing or not a port from 1 to 65535");
	else
		in->port = (int)json_integer_value(port);
	listen = get_str(r, o, "listen", ip);
	if (!listen) {
		/* sing-box binds 127.0.0.1 then: kept, so nothing more is exposed */
		in->listen = xstrdup("127.0.0.1");
		NOTE(ip, "no listen: sing-box binds 127.0.0.1 only, and so does Atlas (set listen: "
			 "\"::\" to serve other hosts)");
	} else if (strcmp(listen, "::")) {
		in->listen = xstrdup(listen);
	}
	if (json_object_get(o, "tls"))
		read_tls(r, json_object_get(o, "tls"), ip, in);
	if (in->security == SB_SEC_NONE && (ty == SB_TROJAN || ty == SB_HYSTERIA2 || ty == SB_TUIC))
		ERR(ip, "a %s inbound without TLS: Atlas runs %s with TLS only", type, type);
	{
		/* the type's default security is written as auto (the YAML stays short) */
		int got = in->security;

		in->security = SB_SEC_AUTO;
		if (sb_security(in) != got)
			in->security = got;
	}
	if (json_object_get(o, "transport"))
		read_transport(r, json_object_get(o, "transport"), ip, in);
	if (ty == SB_SHADOWSOCKS)
		read_shadowsocks(r, o, ip, in);
	if (json_object_get(o, "users"))
		read_users(r, json_object_get(o, "users"), ip, in);
	else if (ty != SB_SHADOWSOCKS)
		ERR(ip, "an inbound without users");
	if (truthy(json_object_get(json_object_get(o, "multiplex"), "enabled"))) {
		snprintf(p, sizeof(p), "%.240s.multiplex", ip);
		NOTE(p, "multiplex is not carried over: clients that use multiplexing must turn it "
			"off");
	}
	if (ty == SB_HYSTERIA2 && truthy(json_object_get(o, "obfs"))) {
		snprintf(p, sizeof(p), "%.240s.obfs", ip);
		ERR(p, "Hysteria2 obfuscation is not supported by Atlas: its clients would stop "
		       "connecting");
	}
	if (ty == SB_TROJAN && truthy(json_object_get(o, "fallback"))) {
		snprintf(p, sizeof(p), "%.240s.fallback", ip);
		NOTE(p, "fallback is not carried over: Atlas's Trojan inbound has no fallback");
	}
	if (ty == SB_TUIC) {
		const char *cc = get_str(r, o, "congestion_control", ip);

		if (cc && strcmp(cc, "bbr")) {
			snprintf(p, sizeof(p), "%.240s.congestion_control", ip);
			NOTE(p, "congestion_control %s: Atlas's server uses bbr (the server's own "
				"choice, clients keep working)",
			     cc);
		}
	}
	if (ty == SB_HYSTERIA2)
		for (int k = 0; k < 4; k++) {
			const char *hk[] = { "up_mbps", "down_mbps", "ignore_client_bandwidth",
					     "masquerade" };

			if (truthy(json_object_get(o, hk[k]))) {
				snprintf(p, sizeof(p), "%.240s.%.200s", ip, hk[k]);
				NOTE(p, "%s is not carried over: Atlas renders Hysteria2 without it",
				     hk[k]);
			}
		}
}

int adopt_sb_parse(const char *text, size_t len, struct sb_section *sb, struct diags *errs,
		   struct diags *notes)
{
	static const char *const top_known[] = { "log", "dns", "ntp", "certificate",
						 "certificate_providers", "endpoints", "inbounds",
						 "outbounds", "route", "services", "experimental",
						 "providers", NULL };
	struct rd r = { .errs = errs, .notes = notes, .sb = sb };
	size_t before = errs->n, i;
	json_error_t je;
	json_t *root, *inb, *v;
	const char *key, *nul;

	/* jansson reads a NUL byte as white space; sing-box refuses the file */
	if ((nul = memchr(text, '\0', len))) {
		int line = 1, col = 1;

		for (const char *c = text; c < nul; c++, col++)
			if (*c == '\n')
				line++, col = 0;
		diags_add_at(errs, line, col, NULL, "a NUL byte: the file is not JSON text");
		return -1;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		diags_add_at(errs, je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1, NULL,
			     "%s", je.text);
		return -1;
	}
	posidx_build(&r.idx, text, len);
	if (!json_is_object(root)) {
		diags_add_at(errs, 1, 1, NULL, "the config is not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (!in_list(key, top_known))
			say(&r, errs, key, "unknown top-level key \"%s\" (sing-box 1.14 refuses it too)",
			    key);
		else if (!strcmp(key, "inbounds"))
			continue;
		else if (!strcmp(key, "log"))
			say(&r, notes, key, "not carried over: Atlas sets its own log level");
		else if (!strcmp(key, "outbounds") || !strcmp(key, "route") ||
			 !strcmp(key, "dns") || !strcmp(key, "endpoints"))
			say(&r, notes, key, "not carried over: Atlas sends all traffic out through "
					    "one direct outbound, without %s rules of its own",
			    key);
		else if (!strcmp(key, "services") || !strcmp(key, "experimental"))
			say(&r, notes, key, "not carried over: Atlas runs its own local api and "
					    "ssm-api services on 127.0.0.1");
		else
			say(&r, notes, key, "not carried over: Atlas does not manage it");
	}
	inb = json_object_get(root, "inbounds");
	if (!json_is_array(inb) || !json_array_size(inb)) {
		diags_add_at(errs, 1, 1, NULL, "the config has no inbounds");
		goto out;
	}
	json_array_foreach(inb, i, v)
		read_inbound(&r, v, i);
	if (!sb->ninbounds && errs->n == before)
		diags_add_at(errs, 1, 1, NULL,
			     "no inbound of a type Atlas runs (vless, vmess, trojan, shadowsocks, "
			     "hysteria2, tuic)");
out:
	json_decref(root);
	posidx_release(&r.idx);
	return errs->n > before ? -1 : 0;
}
