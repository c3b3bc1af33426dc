/*
 * validate_sb.c - semantic checks of the sing-box section (the shared field
 * checks are in validate.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/sb_keys.h"
#include "state/schema.h"
#include "state/validate.h"
#include "state/validate_int.h"

/* Names Atlas itself gives to sing-box tags of the client profile. */
static const char *const sb_reserved[] = { "direct", "proxy", "mixed-in", "block", "dns", NULL };

static const char *sb_proto_name(int type)
{
	return sb_type_udp(type) ? "udp" : "tcp";
}

/* "host:port" or "[v6]:port" with a valid host and port. */
static int hostport_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	char host[256];
	size_t hl;
	long port;
	char *end;

	if (!colon || colon == s)
		return 0;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		struct ipaddr ip;

		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return 0;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (ip_parse_addr(host, &ip) < 0)
			return 0;
	} else {
		if (hl >= sizeof(host))
			return 0;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (strchr(host, ':') || !hostname_valid(host))
			return 0;
	}
	port = strtol(colon + 1, &end, 10);
	return colon[1] && !*end && port >= 1 && port <= 65535;
}

/* A DNS name (not an IP address): what a TLS client sends as SNI. */
static int dnsname_valid(const char *s)
{
	struct ipaddr ip;

	return hostname_valid(s) && ip_parse_addr(s, &ip) < 0;
}

static int path_chars_valid(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return 0;
	return 1;
}

static int sb_security_allowed(int type, int sec)
{
	switch (type) {
	case SB_VLESS:
		return 1;
	case SB_VMESS:
		return sec != SB_SEC_REALITY;
	case SB_SHADOWSOCKS:
		return sec == SB_SEC_NONE;
	default:
		return sec == SB_SEC_TLS;
	}
}

static void check_sb_tls(struct vctx *c, const struct atlas_state *st, const struct sb_inbound *in)
{
	int sec = sb_security(in);

	if (in->server_name && !dnsname_valid(in->server_name))
		V(c, &in->server_name, "server_name", "server_name \"%.60s\" is not a DNS name",
		  in->server_name);
	if (in->server_name && sec == SB_SEC_NONE)
		V(c, &in->server_name, "server_name",
		  "server_name is only used with security tls or reality");
	if (sec == SB_SEC_REALITY && !in->server_name)
		V(c, in, "server_name",
		  "security reality needs server_name (the site whose TLS handshake REALITY borrows)");
	if (in->reality_handshake && sec != SB_SEC_REALITY)
		V(c, &in->reality_handshake, "reality_handshake",
		  "reality_handshake is only used with security reality");
	else if (in->reality_handshake &&
		 (has_ctl(in->reality_handshake, 0) || !hostport_valid(in->reality_handshake)))
		V(c, &in->reality_handshake, "reality_handshake",
		  "reality_handshake \"%.60s\" is not host:port", in->reality_handshake);
	if (in->reality_private_key && !sb_reality_key_valid(in->reality_private_key))
		V(c, &in->reality_private_key, "reality_private_key",
		  "reality_private_key is not a base64url X25519 key of 32 bytes");
	if (in->reality_short_id && !sb_short_id_valid(in->reality_short_id))
		V(c, &in->reality_short_id, "reality_short_id",
		  "reality_short_id \"%.40s\" is not an even number (at most 16) of lowercase hex "
		  "digits",
		  in->reality_short_id);
	if ((in->tls_certificate || in->tls_key) && sec != SB_SEC_TLS) {
		V(c, in->tls_certificate ? (const void *)&in->tls_certificate : &in->tls_key,
		  in->tls_certificate ? "tls_certificate" : "tls_key",
		  "%s is only used with security tls", in->tls_certificate ? "tls_certificate" : "tls_key");
		return;
	}
	if (!in->tls_certificate != !in->tls_key)
		V(c, in->tls_certificate ? (const void *)&in->tls_certificate : &in->tls_key,
		  in->tls_certificate ? "tls_key" : "tls_certificate",
		  "tls_certificate and tls_key go together: give both or neither (then atlas makes a "
		  "self-signed certificate)");
	if (in->tls_certificate && (in->tls_certificate[0] != '/' || has_ctl(in->tls_certificate, 0)))
		V(c, &in->tls_certificate, "tls_certificate",
		  "tls_certificate \"%.80s\" is not an absolute path", in->tls_certificate);
	if (in->tls_key && (in->tls_key[0] != '/' || has_ctl(in->tls_key, 0)))
		V(c, &in->tls_key, "tls_key", "tls_key \"%.80s\" is not an absolute path", in->tls_key);
	if (sec == SB_SEC_TLS && in->tls_certificate && !in->server_name && !st->settings.host)
		V(c, in, "server_name",
		  "security tls needs server_name or settings.host (the name clients ask for)");
}

static void check_sb_transport(struct vctx *c, const struct sb_inbound *in)
{
	int multi = in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TROJAN;

	if (in->transport != SB_TR_TCP && !multi)
		V(c, &in->transport, "transport", "transport \"%s\" is not available for %s",
		  sb_transport_names[in->transport], sb_type_names[in->type]);
	else if (in->transport != SB_TR_TCP && sb_security(in) == SB_SEC_REALITY)
		V(c, &in->transport, "transport",
		  "transport \"%s\" cannot be used with security reality (only tcp)",
		  sb_transport_names[in->transport]);
	if (in->transport == SB_TR_GRPC && !in->path)
		V(c, &in->transport, "path", "transport grpc needs path (the gRPC service name)");
	if (!in->path)
		return;
	if (in->transport == SB_TR_TCP)
		V(c, &in->path, "path", "path is only used with transport ws, grpc or httpupgrade");
	else if (strlen(in->path) > 200)
		V(c, &in->path, "path", "path is longer than 200 characters");
	else if (in->transport == SB_TR_GRPC &&
		 (!path_chars_valid(in->path, "_.-") || !in->path[0]))
		V(c, &in->path, "path",
		  "path \"%.60s\" is not a gRPC service name (letters, digits, _ . -)", in->path);
	else if (in->transport != SB_TR_GRPC &&
		 (in->path[0] != '/' || !path_chars_valid(in->path, "/_.-~")))
		V(c, &in->path, "path",
		  "path \"%.60s\" must start with / and hold only letters, digits and / _ . - ~",
		  in->path);
}

struct sb_port {
	int port, udp;
	const char *owner;	/* "inbound \"edge\"", "wireguard interface \"wg0\"" */
	const void *where;
	char buf[96];
};

/* Reports the ports of this inbound already taken by another owner in ports[0..n). */
static void check_sb_port(struct vctx *c, const struct sb_inbound *in, const struct sb_port *ports,
			  size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (ports[k].port == in->port && ports[k].udp == sb_type_udp(in->type)) {
			V(c, &in->port, "port", "port %d/%s is already used by %s", in->port,
			  sb_proto_name(in->type), ports[k].owner);
			return;
		}
}

struct sb_secret_ref {
	const char *s;
	size_t idx;
};

static int secret_ref_cmp(const void *a, const void *b)
{
	const struct sb_secret_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* UUIDs are the same whatever the case of their hex digits. */
static int uuid_ref_cmp(const void *a, const void *b)
{
	const struct sb_secret_ref *x = a, *y = b;
	int c = strcasecmp(x->s, y->s);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* The same uuid (password 0) or password (password 1) twice in one inbound, in O(n log n). */
static void check_sb_dup_secret(struct vctx *c, const struct sb_inbound *in, int password,
				size_t base)
{
	struct sb_secret_ref *refs = xcalloc(in->nusers + 1, sizeof(*refs));
	const char *field = password ? "password" : "uuid";
	size_t k = 0;

	for (size_t i = 0; i < in->nusers; i++) {
		const char *v = password ? in->users[i].password : in->users[i].uuid;

		if (v)
			refs[k++] = (struct sb_secret_ref){ v, i };
	}
	qsort(refs, k, sizeof(*refs), password ? secret_ref_cmp : uuid_ref_cmp);
	for (size_t i = 1; i < k; i++) {
		const struct sb_user *u = &in->users[refs[i].idx], *o = &in->users[refs[i - 1].idx];

		if (password ? strcmp(refs[i].s, refs[i - 1].s) : strcasecmp(refs[i].s, refs[i - 1].s))
			continue;
		snprintf(c->who + base, sizeof(c->who) - base, ": user \"%.64s\"",
			 u->name ? u->name : "?");
		V(c, password ? (const void *)&u->password : &u->uuid, field,
		  "%s is the same as user \"%s\"'s: every user needs their own", field,
		  o->name ? o->name : "?");
	}
	c->who[base] = '\0';
	free(refs);
}

static void check_sb_dup_tokens(struct vctx *c, const struct sb_section *sb)
{
	struct sb_secret_ref *refs = xcalloc(sb->nsubscriptions + 1, sizeof(*refs));
	size_t k = 0;

	for (size_t i = 0; i < sb->nsubscriptions; i++)
		if (sb->subscriptions[i].token)
			refs[k++] = (struct sb_secret_ref){ sb->subscriptions[i].token, i };
	qsort(refs, k, sizeof(*refs), secret_ref_cmp);
	for (size_t i = 1; i < k; i++) {
		const struct sb_subscription *s = &sb->subscriptions[refs[i].idx];

		if (strcmp(refs[i].s, refs[i - 1].s))
			continue;
		snprintf(c->who, sizeof(c->who), "singbox subscription \"%.64s\"",
			 s->name ? s->name : "?");
		V(c, &s->token, "token", "token is the same as subscription \"%s\"'s",
		  sb->subscriptions[refs[i - 1].idx].name ? sb->subscriptions[refs[i - 1].idx].name
							  : "?");
	}
	free(refs);
}

/* The rules of user us of inbound in on their own; c->who names the inbound up to base. */
static void check_sb_user(struct vctx *c, const struct sb_inbound *in, const struct sb_user *us,
			  size_t base)
{
	int klen = sb_method_key_len(in->method);

	snprintf(c->who + base, sizeof(c->who) - base, ": user \"%.64s\"",
		 us->name ? us->name : "?");
	check_name(c, &us->name, "user");
	check_expiry(c, &us->expires, "expires");
	check_quota(c, &us->quota);
	if (us->quota && us->quota_bytes)
		V(c, &us->quota, "quota", "quota and quota_bytes are both set: keep one");
	check_text(c, &us->note, "note", 1, 1024);
	if (us->uuid && !sb_uuid_valid(us->uuid))
		V(c, &us->uuid, "uuid", "uuid \"%.60s\" is not a UUID", us->uuid);
	if (!us->password)
		;
	else if (in->type == SB_SHADOWSOCKS && !sb_ss_key_valid(us->password, klen))
		V(c, &us->password, "password", "password is not a key for %s: base64 of %d bytes",
		  sb_method_names[in->method], klen);
	else if (!us->password[0] || strlen(us->password) > 256 || has_ctl(us->password, 0))
		V(c, &us->password, "password",
		  "password must be 1 to 256 characters without control characters");
}

static void check_sb_users(struct vctx *c, const struct sb_inbound *in)
{
	size_t base = strlen(c->who);

	if (!in->nusers)
		V(c, &in->users, "users",
		  "inbound has no users: add at least one (sing-box would run it without "
		  "authentication or refuse everyone)");
	check_dup_names(c, in->users, in->nusers, sizeof(*in->users), "user");
	for (size_t u = 0; u < in->nusers; u++)
		check_sb_user(c, in, &in->users[u], base);
	c->who[base] = '\0';
	if (in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TUIC)
		check_sb_dup_secret(c, in, 0, base);
	if (in->type != SB_VLESS && in->type != SB_VMESS)
		check_sb_dup_secret(c, in, 1, base);
}

static void check_sb_inbound(struct vctx *c, const struct atlas_state *st,
			     const struct sb_inbound *in)
{
	int sec = sb_security(in);
	struct ipaddr ip;

	check_name(c, &in->name, "inbound");
	for (int r = 0; in->name && sb_reserved[r]; r++)
		if (!strcmp(in->name, sb_reserved[r]))
			V(c, &in->name, "name",
			  "name \"%s\" is reserved (atlas uses it in client profiles)", in->name);
	if (in->listen && (has_ctl(in->listen, 0) || ip_parse_addr(in->listen, &ip) < 0))
		V(c, &in->listen, "listen", "listen \"%.60s\" is not an IPv4 or IPv6 address",
		  in->listen);
	if (!sb_security_allowed(in->type, sec))
		V(c, &in->security, "security", "security \"%s\" is not available for %s (use %s)",
		  sb_security_names[sec], sb_type_names[in->type],
		  in->type == SB_VLESS	       ? "reality, tls or none"
		  : in->type == SB_VMESS       ? "tls or none"
		  : in->type == SB_SHADOWSOCKS ? "none"
					       : "tls");
	if (in->type != SB_SHADOWSOCKS && in->method != SB_SS_AES128)
		V(c, &in->method, "method", "method is only used with type shadowsocks");
	if (in->server_key && in->type == SB_SHADOWSOCKS &&
	    !sb_ss_key_valid(in->server_key, sb_method_key_len(in->method)))
		V(c, &in->server_key, "server_key", "server_key is not a key for %s: base64 of %d bytes",
		  sb_method_names[in->method], sb_method_key_len(in->method));
	check_sb_tls(c, st, in);
	check_sb_transport(c, in);
	check_sb_users(c, in);
}

/* The rules of subscription s on its own. */
static void check_sb_subscription(struct vctx *c, const struct sb_subscription *s)
{
	snprintf(c->who, sizeof(c->who), "singbox subscription \"%.64s\"", s->name ? s->name : "?");
	check_name(c, &s->name, "subscription");
	if (s->token && (strlen(s->token) < 16 || strlen(s->token) > 128 ||
			 !path_chars_valid(s->token, "_-")))
		V(c, &s->token, "token",
		  "token must be 16 to 128 of A-Z a-z 0-9 _ - (it is part of a URL)");
}

void check_singbox(struct vctx *c, const struct atlas_state *st)
{
	const struct sb_section *sb = &st->singbox;
	size_t nports = 0, cap = sb->ninbounds + 8;
	struct sb_port *ports;
	const int local[] = { sb->api_port, sb->ssm_port, sb->v2ray_api_port };
	const char *const local_names[] = { "api_port", "ssm_port", "v2ray_api_port" };
	const void *local_where[] = { &sb->api_port, &sb->ssm_port, &sb->v2ray_api_port };

	if (st->has_wireguard)
		cap += st->wireguard.ninterfaces;
	ports = xcalloc(cap, sizeof(*ports));
	snprintf(c->who, sizeof(c->who), "singbox");
	if (sb->api_secret && (!sb->api_secret[0] || has_ctl(sb->api_secret, 0) ||
			       strlen(sb->api_secret) > 256 || strchr(sb->api_secret, ' ')))
		V(c, &sb->api_secret, "api_secret",
		  "api_secret must be 1 to 256 characters without spaces or control characters");
	/* Other engines' ports first, then the local services, then each inbound's. */
	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		struct sb_port *p = &ports[nports++];

		p->port = st->wireguard.interfaces[i].listen_port;
		p->udp = 1;
		snprintf(p->buf, sizeof(p->buf), "wireguard interface \"%.64s\"",
			 st->wireguard.interfaces[i].name ? st->wireguard.interfaces[i].name : "?");
		p->owner = p->buf;
	}
	if (st->has_openvpn) {
		struct sb_port *p = &ports[nports++];

		p->port = st->openvpn.port;
		p->udp = st->openvpn.proto == OVPN_UDP;
		p->owner = "openvpn";
	}
	for (int k = 0; k < 3; k++) {
		struct sb_port *p = &ports[nports];

		for (size_t j = 0; j < nports; j++)
			if (ports[j].port == local[k] && !ports[j].udp) {
				V(c, local_where[k], local_names[k], "%s %d is already used by %s",
				  local_names[k], local[k], ports[j].owner);
				break;
			}
		p->port = local[k];
		snprintf(p->buf, sizeof(p->buf), "singbox %s (127.0.0.1)", local_names[k]);
		p->owner = p->buf;
		nports++;
	}
	check_dup_names(c, sb->inbounds, sb->ninbounds, sizeof(*sb->inbounds), "inbound");
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];
		struct sb_port *p = &ports[nports++];

		snprintf(c->who, sizeof(c->who), "singbox inbound \"%.64s\"",
			 in->name ? in->name : "?");
		check_sb_inbound(c, st, in);
		check_sb_port(c, in, ports, nports - 1);
		p->port = in->port;
		p->udp = sb_type_udp(in->type);
		snprintf(p->buf, sizeof(p->buf), "inbound \"%.64s\"", in->name ? in->name : "?");
		p->owner = p->buf;
	}
	snprintf(c->who, sizeof(c->who), "singbox");
	check_dup_names(c, sb->subscriptions, sb->nsubscriptions, sizeof(*sb->subscriptions),
			"subscription");
	for (size_t i = 0; i < sb->nsubscriptions; i++)
		check_sb_subscription(c, &sb->subscriptions[i]);
	check_sb_dup_tokens(c, sb);
	c->who[0] = '\0';
	free(ports);
}

size_t state_validate_sb_user(const struct sb_inbound *in, const struct sb_user *u,
			      struct diags *d)
{
	struct vctx c = { d, "", NULL };
	size_t before = d->n;

	snprintf(c.who, sizeof(c.who), "singbox inbound \"%.64s\"", in->name ? in->name : "?");
	check_sb_user(&c, in, u, strlen(c.who));
	return d->n - before;
}

size_t state_validate_sb_subscription(const struct sb_subscription *s, struct diags *d)
{
	struct vctx c = { d, "", NULL };
	size_t before = d->n;

	check_sb_subscription(&c, s);
	return d->n - before;
}
