/*
 * schema.c - the field tables of the desired state, and the generic
 * init/release/copy that walk them.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "state/model.h"
#include "state/schema.h"

const char *const service_mode_names[] = { "auto", "systemd", "direct", NULL };
const char *const ovpn_proto_names[] = { "udp", "tcp", NULL };
const char *const sb_type_names[] = { "vless", "vmess", "trojan", "shadowsocks",
				      "hysteria2", "tuic", NULL };
const char *const sb_security_names[] = { "auto", "none", "tls", "reality", NULL };
const char *const sb_transport_names[] = { "tcp", "ws", "grpc", "httpupgrade", NULL };
const char *const quota_period_names[] = { "monthly", "weekly", "daily", "never", NULL };
const char *const sb_method_names[] = { "2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm",
					NULL };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define O(T, m) offsetof(struct T, m)
/* The hint of every `expires` (the rules: state/active.h). */
#define EXPIRES_HINT                                                                               \
	"YYYY-MM-DD (valid through that day, UTC) or YYYY-MM-DDTHH:MM:SSZ / +HH:MM (valid until then)"

static const struct field settings_fields[] = {
	{ "host", F_STR, O(settings, host), 0, NULL, 0, 0, 0, 0, NULL,
	  "address (DNS name or IP) that clients connect to" },
	{ "service_mode", F_ENUM, O(settings, service_mode), 0, NULL, FF_ALWAYS, SERVICE_AUTO, 0, 0,
	  service_mode_names, "how daemons are run: systemd units, directly by atlas, or auto" },
	{ "egress_interface", F_STR, O(settings, egress_interface), 0, NULL, 0, 0, 0, 0, NULL,
	  "interface for NAT; default: the interface of the default route" },
	{ "resync", F_INT, O(settings, resync), 0, NULL, 0, SETTINGS_RESYNC_DEFAULT, 1, 86400, NULL,
	  "seconds between drift checks" },
	{ "history_keep", F_INT, O(settings, history_keep), 0, NULL, 0, 100, 1, 100000, NULL,
	  "generations of desired state kept for rollback" },
	{ "auto_apply", F_BOOL, O(settings, auto_apply), 0, NULL, 0, 1, 0, 0, NULL,
	  "atlas serve applies every change at once; false: only on POST /apply or SIGHUP" },
	{ "singbox_binary", F_STR, O(settings, singbox_binary), 0, NULL, 0, 0, 0, 0, NULL,
	  "path of the sing-box binary; default: sing-box on PATH" },
	{ "panel_url", F_STR, O(settings, panel_url), 0, NULL, 0, 0, 0, 0, NULL,
	  "the panel's address as users reach it, for subscription URLs; default https://HOST" },
	{ "tls_cert", F_STR, O(settings, tls_cert), 0, NULL, 0, 0, 0, 0, NULL,
	  "absolute path of the PEM certificate chain atlas serve serves (with tls_key); "
	  "--tls-cert wins" },
	{ "tls_key", F_STR, O(settings, tls_key), 0, NULL, 0, 0, 0, 0, NULL,
	  "absolute path of the PEM private key of tls_cert" },
};
const struct schema schema_settings = { "settings", "settings", sizeof(struct settings),
					settings_fields, N(settings_fields) };

static const struct field wg_peer_fields[] = {
	{ "name", F_STR, O(wg_peer, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL, "unique name" },
	{ "address", F_STRV, O(wg_peer, address), 0, NULL, 0, 0, 0, 0, NULL,
	  "tunnel addresses; allocated from the interface network when absent" },
	{ "allowed_ips", F_STRV, O(wg_peer, allowed_ips), 0, NULL, 0, 0, 0, 0, NULL,
	  "AllowedIPs of the client config; default 0.0.0.0/0, ::/0" },
	{ "keepalive", F_INT, O(wg_peer, keepalive), 0, NULL, 0, 0, 0, 65535, NULL,
	  "persistent keepalive in seconds; 0: off" },
	{ "disabled", F_BOOL, O(wg_peer, disabled), 0, NULL, 0, 0, 0, 0, NULL,
	  "a disabled peer is kept but removed from the interface" },
	{ "expires", F_STR, O(wg_peer, expires), 0, NULL, 0, 0, 0, 0, NULL, EXPIRES_HINT },
	{ "note", F_STR, O(wg_peer, note), 0, NULL, 0, 0, 0, 0, NULL, "free text" },
	{ "quota", F_STR, O(wg_peer, quota), 0, NULL, FF_NUMTEXT, 0, 0, 0, NULL,
	  "traffic quota of a period, both directions, with a unit: 500MiB, 20GiB, 1TB; absent: unlimited" },
	{ "quota_period", F_ENUM, O(wg_peer, quota_period), 0, NULL, 0, QUOTA_MONTHLY, 0, 0,
	  quota_period_names, "when the quota starts over: monthly, weekly (Monday), daily, never (UTC)" },
	{ "quota_reset_day", F_INT, O(wg_peer, quota_reset_day), 0, NULL, 0, 1, 1, 28, NULL,
	  "day of the month a monthly quota starts over" },
	{ "public_key", F_KEY, O(wg_peer, public_key), 0, NULL, 0, 0, 0, 0, NULL,
	  "bring-your-own-key peer, or the public half of the generated key" },
	{ "private_key", F_KEY, O(wg_peer, private_key), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "generated when absent" },
	{ "preshared_key", F_KEY, O(wg_peer, preshared_key), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "generated when absent" },
};
const struct schema schema_wg_peer = { "peer", "wg_peers", sizeof(struct wg_peer), wg_peer_fields,
				       N(wg_peer_fields), O(wg_peer, suspended) };

static const struct field wg_iface_fields[] = {
	{ "name", F_STR, O(wg_iface, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "interface name (at most 15 characters)" },
	{ "listen_port", F_INT, O(wg_iface, listen_port), 0, NULL, FF_REQUIRED, 0, 1, 65535, NULL,
	  "UDP port" },
	{ "address", F_STRV, O(wg_iface, address), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "server addresses with prefix, v4 and/or v6" },
	{ "dns", F_STRV, O(wg_iface, dns), 0, NULL, 0, 0, 0, 0, NULL, "DNS servers for clients" },
	{ "mtu", F_INT, O(wg_iface, mtu), 0, NULL, 0, 0, 576, 9000, NULL, "0: default" },
	{ "disabled", F_BOOL, O(wg_iface, disabled), 0, NULL, 0, 0, 0, 0, NULL,
	  "a disabled interface is removed, its state kept" },
	{ "public_key", F_KEY, O(wg_iface, public_key), 0, NULL, FF_OUTPUT, 0, 0, 0, NULL,
	  "the server's public key (computed)" },
	{ "private_key", F_KEY, O(wg_iface, private_key), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "generated when absent" },
	{ "peers", F_LIST, O(wg_iface, peers), O(wg_iface, npeers), &schema_wg_peer, FF_ALWAYS, 0, 0,
	  0, NULL, "peers" },
};
const struct schema schema_wg_iface = { "interface", "wg_interfaces", sizeof(struct wg_iface),
					wg_iface_fields, N(wg_iface_fields) };

static const struct field wg_section_fields[] = {
	{ "enabled", F_BOOL, O(wg_section, enabled), 0, NULL, 0, 1, 0, 0, NULL,
	  "false: interfaces removed, state kept" },
	{ "interfaces", F_LIST, O(wg_section, interfaces), O(wg_section, ninterfaces),
	  &schema_wg_iface, FF_ALWAYS, 0, 0, 0, NULL, "interfaces" },
};
const struct schema schema_wg_section = { "wireguard", "wireguard", sizeof(struct wg_section),
					  wg_section_fields, N(wg_section_fields) };

static const struct field ovpn_client_fields[] = {
	{ "name", F_STR, O(ovpn_client, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "unique name, the certificate CN" },
	{ "static_ip", F_STR, O(ovpn_client, static_ip), 0, NULL, 0, 0, 0, 0, NULL,
	  "fixed tunnel address outside the dynamic pool" },
	{ "disabled", F_BOOL, O(ovpn_client, disabled), 0, NULL, 0, 0, 0, 0, NULL,
	  "refused at connect (CCD disable) without revoking" },
	{ "expires", F_STR, O(ovpn_client, expires), 0, NULL, 0, 0, 0, 0, NULL, EXPIRES_HINT },
	{ "note", F_STR, O(ovpn_client, note), 0, NULL, 0, 0, 0, 0, NULL, "free text" },
	{ "quota", F_STR, O(ovpn_client, quota), 0, NULL, FF_NUMTEXT, 0, 0, 0, NULL,
	  "traffic quota of a period, both directions, with a unit: 500MiB, 20GiB, 1TB; absent: unlimited" },
	{ "quota_period", F_ENUM, O(ovpn_client, quota_period), 0, NULL, 0, QUOTA_MONTHLY, 0, 0,
	  quota_period_names, "when the quota starts over: monthly, weekly (Monday), daily, never (UTC)" },
	{ "quota_reset_day", F_INT, O(ovpn_client, quota_reset_day), 0, NULL, 0, 1, 1, 28, NULL,
	  "day of the month a monthly quota starts over" },
};
const struct schema schema_ovpn_client = { "client", "ovpn_clients", sizeof(struct ovpn_client),
					   ovpn_client_fields, N(ovpn_client_fields),
					   O(ovpn_client, suspended) };

static const struct field ovpn_section_fields[] = {
	{ "enabled", F_BOOL, O(ovpn_section, enabled), 0, NULL, 0, 1, 0, 0, NULL,
	  "false: the daemon is stopped, state kept" },
	{ "port", F_INT, O(ovpn_section, port), 0, NULL, FF_ALWAYS, 1194, 1, 65535, NULL, "port" },
	{ "proto", F_ENUM, O(ovpn_section, proto), 0, NULL, FF_ALWAYS, OVPN_UDP, 0, 0,
	  ovpn_proto_names, "udp or tcp" },
	{ "network", F_STR, O(ovpn_section, network), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "IPv4 tunnel network" },
	{ "dns", F_STRV, O(ovpn_section, dns), 0, NULL, 0, 0, 0, 0, NULL, "DNS pushed to clients" },
	{ "routes", F_STRV, O(ovpn_section, routes), 0, NULL, 0, 0, 0, 0, NULL,
	  "routes pushed to clients; empty: all traffic through the VPN" },
	{ "clients", F_LIST, O(ovpn_section, clients), O(ovpn_section, nclients),
	  &schema_ovpn_client, FF_ALWAYS, 0, 0, 0, NULL, "clients" },
};
const struct schema schema_ovpn_section = { "openvpn", "openvpn", sizeof(struct ovpn_section),
					    ovpn_section_fields, N(ovpn_section_fields) };

static const struct field sb_user_fields[] = {
	{ "name", F_STR, O(sb_user, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "a person: the same name in several inbounds is one user" },
	{ "disabled", F_BOOL, O(sb_user, disabled), 0, NULL, 0, 0, 0, 0, NULL,
	  "a disabled user is kept but refused" },
	{ "expires", F_STR, O(sb_user, expires), 0, NULL, 0, 0, 0, 0, NULL, EXPIRES_HINT },
	{ "note", F_STR, O(sb_user, note), 0, NULL, 0, 0, 0, 0, NULL, "free text" },
	{ "uuid", F_STR, O(sb_user, uuid), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "vless, vmess, tuic; generated when absent" },
	{ "password", F_STR, O(sb_user, password), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "trojan, hysteria2, tuic, shadowsocks (base64 key); generated when absent" },
	{ "quota_bytes", F_I64, O(sb_user, quota_bytes), 0, NULL, 0, 0, 0, (1LL << 62), NULL,
	  "traffic quota in bytes; 0: unlimited (quota, with a unit, is clearer)" },
	{ "quota", F_STR, O(sb_user, quota), 0, NULL, FF_NUMTEXT, 0, 0, 0, NULL,
	  "traffic quota of a period, both directions, with a unit: 500MiB, 20GiB, 1TB; absent: unlimited" },
	{ "quota_period", F_ENUM, O(sb_user, quota_period), 0, NULL, 0, QUOTA_MONTHLY, 0, 0,
	  quota_period_names, "when the quota starts over: monthly, weekly (Monday), daily, never (UTC)" },
	{ "quota_reset_day", F_INT, O(sb_user, quota_reset_day), 0, NULL, 0, 1, 1, 28, NULL,
	  "day of the month a monthly quota starts over" },
};
const struct schema schema_sb_user = { "user", "sb_users", sizeof(struct sb_user), sb_user_fields,
				       N(sb_user_fields), O(sb_user, suspended) };

static const struct field sb_inbound_fields[] = {
	{ "name", F_STR, O(sb_inbound, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "unique name, the sing-box tag" },
	{ "type", F_ENUM, O(sb_inbound, type), 0, NULL, FF_REQUIRED | FF_ALWAYS, 0, 0, 0,
	  sb_type_names, "protocol" },
	{ "port", F_INT, O(sb_inbound, port), 0, NULL, FF_REQUIRED, 0, 1, 65535, NULL,
	  "port (UDP for hysteria2 and tuic, else TCP)" },
	{ "listen", F_STR, O(sb_inbound, listen), 0, NULL, 0, 0, 0, 0, NULL,
	  "listen address; default ::" },
	{ "security", F_ENUM, O(sb_inbound, security), 0, NULL, 0, SB_SEC_AUTO, 0, 0,
	  sb_security_names,
	  "vless: reality (auto), tls or none; vmess: tls or none (auto); trojan, hysteria2, "
	  "tuic: tls; shadowsocks: none" },
	{ "server_name", F_STR, O(sb_inbound, server_name), 0, NULL, 0, 0, 0, 0, NULL,
	  "TLS SNI or REALITY server name; tls default: settings.host" },
	{ "reality_handshake", F_STR, O(sb_inbound, reality_handshake), 0, NULL, 0, 0, 0, 0, NULL,
	  "REALITY target host:port; default server_name:443" },
	{ "tls_certificate", F_STR, O(sb_inbound, tls_certificate), 0, NULL, 0, 0, 0, 0, NULL,
	  "certificate chain file; absent: a self-signed certificate" },
	{ "tls_key", F_STR, O(sb_inbound, tls_key), 0, NULL, 0, 0, 0, 0, NULL,
	  "private key file of tls_certificate" },
	{ "transport", F_ENUM, O(sb_inbound, transport), 0, NULL, 0, SB_TR_TCP, 0, 0,
	  sb_transport_names, "vless, vmess, trojan: tcp, ws, grpc or httpupgrade" },
	{ "path", F_STR, O(sb_inbound, path), 0, NULL, 0, 0, 0, 0, NULL,
	  "ws/httpupgrade path, grpc service name" },
	{ "method", F_ENUM, O(sb_inbound, method), 0, NULL, 0, SB_SS_AES128, 0, 0, sb_method_names,
	  "shadowsocks method" },
	{ "users", F_LIST, O(sb_inbound, users), O(sb_inbound, nusers), &schema_sb_user, FF_ALWAYS,
	  0, 0, 0, NULL, "users" },
	{ "reality_private_key", F_STR, O(sb_inbound, reality_private_key), 0, NULL, FF_SECRET, 0, 0,
	  0, NULL, "generated when absent" },
	{ "reality_public_key", F_STR, O(sb_inbound, reality_public_key), 0, NULL, FF_OUTPUT, 0, 0,
	  0, NULL, "the public half of reality_private_key (computed)" },
	{ "reality_short_id", F_STR, O(sb_inbound, reality_short_id), 0, NULL, 0, 0, 0, 0, NULL,
	  "REALITY short id (hex); generated when absent" },
	{ "server_key", F_STR, O(sb_inbound, server_key), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "shadowsocks server key (base64); generated when absent" },
	{ "self_signed_certificate", F_STR, O(sb_inbound, self_signed_certificate), 0, NULL,
	  FF_SECRET, 0, 0, 0, NULL, "PEM; made when tls has no tls_certificate" },
	{ "self_signed_key", F_STR, O(sb_inbound, self_signed_key), 0, NULL, FF_SECRET, 0, 0, 0,
	  NULL, "PEM; made with self_signed_certificate" },
	{ "certificate_sha256", F_STR, O(sb_inbound, certificate_sha256), 0, NULL, FF_OUTPUT, 0, 0, 0,
	  NULL, "hex SHA-256 of the self-signed certificate, the pin of links (computed)" },
};
const struct schema schema_sb_inbound = { "inbound", "sb_inbounds", sizeof(struct sb_inbound),
					  sb_inbound_fields, N(sb_inbound_fields) };

static const struct field sb_subscription_fields[] = {
	{ "name", F_STR, O(sb_subscription, name), 0, NULL, FF_REQUIRED, 0, 0, 0, NULL,
	  "the user's name" },
	{ "token", F_STR, O(sb_subscription, token), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "the secret of GET /sub/TOKEN; generated when absent" },
};
const struct schema schema_sb_subscription = { "subscription", "sb_subscriptions",
					       sizeof(struct sb_subscription),
					       sb_subscription_fields,
					       N(sb_subscription_fields) };

static const struct field sb_section_fields[] = {
	{ "enabled", F_BOOL, O(sb_section, enabled), 0, NULL, 0, 1, 0, 0, NULL,
	  "false: sing-box is stopped, state kept" },
	{ "api_port", F_INT, O(sb_section, api_port), 0, NULL, 0, 9091, 1, 65535, NULL,
	  "TCP port of the api service on 127.0.0.1" },
	{ "ssm_port", F_INT, O(sb_section, ssm_port), 0, NULL, 0, 9092, 1, 65535, NULL,
	  "TCP port of the ssm-api service on 127.0.0.1" },
	{ "v2ray_api_port", F_INT, O(sb_section, v2ray_api_port), 0, NULL, 0, 9093, 1, 65535, NULL,
	  "TCP port of v2ray_api on 127.0.0.1, used when the binary has it" },
	{ "api_secret", F_STR, O(sb_section, api_secret), 0, NULL, FF_SECRET, 0, 0, 0, NULL,
	  "bearer secret of the api service; generated when absent" },
	{ "inbounds", F_LIST, O(sb_section, inbounds), O(sb_section, ninbounds), &schema_sb_inbound,
	  FF_ALWAYS, 0, 0, 0, NULL, "inbounds" },
	{ "subscriptions", F_LIST, O(sb_section, subscriptions), O(sb_section, nsubscriptions),
	  &schema_sb_subscription, FF_SECRET, 0, 0, 0, NULL,
	  "one subscription token per user name; kept and generated by atlas" },
};
const struct schema schema_sb_section = { "singbox", "singbox", sizeof(struct sb_section),
					  sb_section_fields, N(sb_section_fields) };

static const struct field root_fields[] = {
	{ "version", F_INT, O(atlas_state, version), 0, NULL, FF_REQUIRED | FF_ALWAYS, 1, 1, 1, NULL,
	  "format version" },
	{ "settings", F_OBJ, O(atlas_state, settings), 0, &schema_settings, FF_ALWAYS, 0, 0, 0, NULL,
	  "settings" },
	{ "wireguard", F_SECTION, O(atlas_state, wireguard), O(atlas_state, has_wireguard),
	  &schema_wg_section, 0, 0, 0, 0, NULL, "WireGuard; absent: not managed" },
	{ "openvpn", F_SECTION, O(atlas_state, openvpn), O(atlas_state, has_openvpn),
	  &schema_ovpn_section, 0, 0, 0, 0, NULL, "OpenVPN; absent: not managed" },
	{ "singbox", F_SECTION, O(atlas_state, singbox), O(atlas_state, has_singbox),
	  &schema_sb_section, 0, 0, 0, 0, NULL, "sing-box; absent: not managed" },
};
const struct schema schema_root = { "state", NULL, sizeof(struct atlas_state), root_fields,
				    N(root_fields) };

const struct field *schema_field(const struct schema *s, const char *name)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (!strcmp(s->fields[i].name, name))
			return &s->fields[i];
	return NULL;
}

void schema_init(const struct schema *s, void *p)
{
	memset(p, 0, s->size);
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		switch (f->type) {
		case F_INT:
		case F_BOOL:
		case F_ENUM:
			*(int *)FIELD_PTR(p, f) = (int)f->def;
			break;
		case F_I64:
			*(long long *)FIELD_PTR(p, f) = f->def;
			break;
		case F_OBJ:
		case F_SECTION:
			schema_init(f->sub, FIELD_PTR(p, f));
			break;
		default:
			break;
		}
	}
}

void schema_release(const struct schema *s, void *p)
{
	if (!p)
		return;
	if (s->suspended_off) {
		char **why = (char **)((char *)p + s->suspended_off);

		free(*why);
		*why = NULL;
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		void *fp = FIELD_PTR(p, f);

		switch (f->type) {
		case F_STR: {
			char **sp = fp;

			if (*sp && (f->flags & FF_SECRET))
				OPENSSL_cleanse(*sp, strlen(*sp));
			free(*sp);
			*sp = NULL;
			break;
		}
		case F_STRV:
			strv_clear(fp);
			break;
		case F_KEY:
			OPENSSL_cleanse(fp, sizeof(struct wg_key));
			break;
		case F_OBJ:
		case F_SECTION:
			schema_release(f->sub, fp);
			break;
		case F_LIST: {
			char *arr = *(char **)fp;
			size_t *cnt = (size_t *)((char *)p + f->aux_off);

			for (size_t j = 0; j < *cnt; j++)
				schema_release(f->sub, arr + j * f->sub->size);
			free(arr);
			*(char **)fp = NULL;
			*cnt = 0;
			break;
		}
		default:
			break;
		}
	}
}

void schema_copy(const struct schema *s, void *dst, const void *src)
{
	memcpy(dst, src, s->size);
	if (s->suspended_off) {
		char **why = (char **)((char *)dst + s->suspended_off);

		if (*why)
			*why = xstrdup(*why);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		void *dp = FIELD_PTR(dst, f);
		const void *sp = FIELD_CPTR(src, f);

		switch (f->type) {
		case F_STR:
			if (*(char *const *)sp)
				*(char **)dp = xstrdup(*(char *const *)sp);
			break;
		case F_STRV: {
			struct strv *d = dp;

			d->v = NULL;
			d->n = 0;
			strv_copy(d, sp);
			break;
		}
		case F_OBJ:
		case F_SECTION:
			schema_copy(f->sub, dp, sp);
			break;
		case F_LIST: {
			size_t n = *(const size_t *)((const char *)src + f->aux_off);
			const char *sarr = *(char *const *)sp;
			char *darr = n ? xcalloc(n, f->sub->size) : NULL;

			for (size_t j = 0; j < n; j++)
				schema_copy(f->sub, darr + j * f->sub->size,
					    sarr + j * f->sub->size);
			*(char **)dp = darr;
			break;
		}
		default:
			break;
		}
	}
}

/* The storage size of field f's value in its struct. */
static size_t field_size(const struct field *f)
{
	switch (f->type) {
	case F_STR:
		return sizeof(char *);
	case F_INT:
	case F_BOOL:
	case F_ENUM:
		return sizeof(int);
	case F_I64:
		return sizeof(long long);
	case F_STRV:
		return sizeof(struct strv);
	case F_KEY:
		return sizeof(struct wg_key);
	case F_OBJ:
	case F_SECTION:
		return f->sub->size;
	case F_LIST:
		return sizeof(void *);
	}
	return 0;
}

int schema_value_path(const struct schema *s, const void *p, const void *where, char *buf,
		      size_t len)
{
	const char *w = where;

	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		const char *fp = FIELD_CPTR(p, f);
		int n = snprintf(buf, len, "%s", f->name);

		if (n < 0 || (size_t)n + 2 >= len)
			return -1;
		if (f->type == F_LIST) {
			const char *arr = *(char *const *)fp;
			size_t cnt = *(const size_t *)((const char *)p + f->aux_off);

			/* the elements' own lists live elsewhere: every element is searched */
			for (size_t j = 0; arr && j < cnt; j++) {
				const char *elem = arr + j * f->sub->size;
				int m = snprintf(buf, len, "%s[%zu]", f->name, j);

				if (m < 0 || (size_t)m + 2 >= len)
					return -1;
				/* the element itself, or its first field: the caller tells which */
				if (w == elem)
					return 0;
				buf[m] = '.';
				if (schema_value_path(f->sub, elem, where, buf + m + 1,
						      len - (size_t)m - 1) == 0)
					return 0;
			}
			n = snprintf(buf, len, "%s", f->name);
		} else if (f->type == F_STRV) {
			const struct strv *sv = (const struct strv *)fp;

			if (sv->v && w >= (const char *)sv->v && w < (const char *)(sv->v + sv->n)) {
				n = snprintf(buf, len, "%s[%zu]", f->name,
					     (size_t)(w - (const char *)sv->v) / sizeof(char *));
				return n < 0 || (size_t)n >= len ? -1 : 0;
			}
		} else if (f->type == F_OBJ || f->type == F_SECTION) {
			buf[n] = '.';
			if (schema_value_path(f->sub, fp, where, buf + n + 1, len - (size_t)n - 1) == 0)
				return 0;
			buf[n] = '\0';
		}
		if (w >= fp && w < fp + field_size(f))
			return 0;
	}
	return -1;
}
