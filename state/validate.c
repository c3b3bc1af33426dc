/*
 * validate.c - semantic checks of a desired state.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "state/active.h"
#include "state/addrset.h"
#include "state/keys.h"
#include "state/sb_keys.h"
#include "state/schema.h"
#include "state/usage.h"
#include "state/validate.h"
#include "state/validate_int.h"

int ovpn_name_reserved(const char *s)
{
	/* the CN of the server certificate Atlas issues (PKI_SERVER_CN) */
	static const char *const reserved[] = { "atlas-server" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return 1;
	return 0;
}

/* http(s)://host[:port][/path], printable, no query or fragment. */
static int panel_url_valid(const char *s)
{
	const char *rest = !strncmp(s, "https://", 8) ? s + 8 : !strncmp(s, "http://", 7) ? s + 7 : NULL;

	if (!rest || !*rest || *rest == '/' || strlen(s) > 200)
		return 0;
	for (; *rest; rest++)
		if ((unsigned char)*rest <= 0x20 || (unsigned char)*rest >= 0x7f ||
		    strchr("?#\"'<>\\`{}|^", *rest))
			return 0;
	return 1;
}

static int ifname_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 15 && s[0] != '-' && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int ovpn_address_plan(const char *network, struct ovpn_plan *out)
{
	uint64_t size;

	if (!network || ip_parse(network, &out->net) < 0 || out->net.family != AF_INET ||
	    out->net.prefix < 16 || out->net.prefix > 29)
		return -1;
	ip_network(&out->net, &out->net);
	size = ip_size(&out->net);
	out->server = out->net;
	ip_add(&out->server, 1);
	out->static_first = out->net;
	ip_add(&out->static_first, 2);
	out->static_last = out->net;
	ip_add(&out->static_last, size / 2 - 1);
	out->pool_first = out->net;
	ip_add(&out->pool_first, size / 2);
	out->pool_last = out->net;
	ip_add(&out->pool_last, size - 2);
	out->server.prefix = out->static_first.prefix = out->static_last.prefix = 32;
	out->pool_first.prefix = out->pool_last.prefix = 32;
	return 0;
}

static int ip_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	return memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16);
}

/* ---- checks shared by several resources ---- */

/* A key the YAML decoder could not read (KEY_BAD), named with its text as given. */
static void check_key(struct vctx *c, const struct wg_key *key, const char *field)
{
	if (key->set == KEY_BAD)
		V(c, key, field, "%s \"%.60s\" is not a valid key (base64 of 32 bytes)", field,
		  state_bad_key(c->st, key));
}

/* Every entry of sv is an IPv4 or IPv6 prefix, or with addr an address. */
/* Each entry of sv an address (addr) or a prefix, none the same as one before it. */
static void check_ips(struct vctx *c, const struct strv *sv, const char *field, int addr)
{
	struct ipaddr small[8], *ips = sv->n <= 8 ? small : xcalloc(sv->n, sizeof(*ips));
	int oks[8], *ok = sv->n <= 8 ? oks : xcalloc(sv->n, sizeof(*ok));

	for (size_t i = 0; i < sv->n; i++) {
		ok[i] = !has_ctl(sv->v[i], 0) && (addr ? ip_parse_addr : ip_parse)(sv->v[i], &ips[i]) == 0;
		if (!ok[i]) {
			V(c, &sv->v[i], field, "%s \"%.60s\" is not an IPv4 or IPv6 %s", field,
			  sv->v[i], addr ? "address" : "prefix");
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (ok[j] && ips[j].prefix == ips[i].prefix && ip_addr_eq(&ips[j], &ips[i])) {
				V(c, &sv->v[i], field, "%s \"%.60s\" is listed twice (as \"%.60s\")",
				  field, sv->v[i], sv->v[j]);
				break;
			}
	}
	if (ips != small)
		free(ips);
	if (ok != oks)
		free(ok);
}

/* ---- WireGuard ---- */

static void check_peer(struct vctx *c, const struct wg_iface *ifc, const struct wg_peer *p,
		       const struct ipaddr *nets, size_t nnets)
{
	struct ipaddr ip;

	check_name(c, &p->name, "peer");
	check_ips(c, &p->address, "address", 0);
	check_ips(c, &p->allowed_ips, "allowed_ips", 0);
	check_expiry(c, &p->expires, "expires");
	check_quota(c, &p->quota);
	check_text(c, &p->note, "note", 1, 1024);
	check_key(c, &p->public_key, "public_key");
	check_key(c, &p->private_key, "private_key");
	check_key(c, &p->preshared_key, "preshared_key");
	if (!KEY_GIVEN(&p->public_key) && !KEY_GIVEN(&p->private_key))
		V(c, p, "public_key", "peer has neither a public nor a private key");
	for (size_t i = 0; i < p->address.n; i++) {
		int inside = 0;

		if (ip_parse(p->address.v[i], &ip) < 0)
			continue;
		for (size_t k = 0; k < nnets; k++) {
			if (ip_in_net(&nets[k], &ip) && ip.prefix >= nets[k].prefix)
				inside = 1;
			if (ip_addr_eq(&nets[k], &ip))
				V(c, &p->address.v[i], "address",
				  "address \"%s\" is the interface's own address", p->address.v[i]);
			else if (ip.family == AF_INET && ip.prefix == 32 && nets[k].prefix <= 30 &&
				 ip_in_net(&nets[k], &ip)) {
				/* the kernel takes these two for the network itself and for broadcast */
				uint32_t a = (uint32_t)ip.a[0] << 24 | (uint32_t)ip.a[1] << 16 |
					     (uint32_t)ip.a[2] << 8 | ip.a[3];
				uint32_t host = 0xffffffffu >> nets[k].prefix;
				struct ipaddr net;
				char nb[64];

				ip_network(&nets[k], &net);
				ip_format(&net, 1, nb, sizeof(nb));
				if ((a & host) == 0 || (a & host) == host)
					V(c, &p->address.v[i], "address",
					  "address \"%s\" is the %s address of network %s: a peer "
					  "needs a host address",
					  p->address.v[i], (a & host) ? "broadcast" : "network", nb);
			}
		}
		if (!inside)
			V(c, &p->address.v[i], "address",
			  "address \"%s\" is outside the networks of interface \"%s\"",
			  p->address.v[i], ifc->name ? ifc->name : "?");
	}
}

static int key_ptr_cmp(const void *a, const void *b)
{
	const struct wg_peer *x = *(struct wg_peer *const *)a, *y = *(struct wg_peer *const *)b;
	int c = x->public_key.set != y->public_key.set ? x->public_key.set - y->public_key.set
						       : key_cmp(&x->public_key, &y->public_key);

	return c ? c : (x < y ? -1 : x > y);
}

/*
 * Addresses and public keys used twice within an interface, in O(n log n):
 * 10,000 peers must not take seconds.
 */
static void check_peer_conflicts(struct vctx *c, const struct wg_iface *ifc, size_t base)
{
	struct wg_peer **bykey = xcalloc(ifc->npeers + 1, sizeof(*bykey));
	struct addrset used = { 0 };

	for (size_t i = 0; i < ifc->npeers; i++) {
		bykey[i] = &ifc->peers[i];
		for (size_t a = 0; a < ifc->peers[i].address.n; a++) {
			struct ipaddr x;

			if (ip_parse(ifc->peers[i].address.v[a], &x) == 0)
				addrset_add(&used, &x, i);
		}
	}
	addrset_sort(&used);
	for (size_t i = 0; i < ifc->npeers; i++) {
		const struct wg_peer *p = &ifc->peers[i];

		snprintf(c->who + base, sizeof(c->who) - base, "%speer \"%.64s\"", base ? ": " : "",
			 p->name ? p->name : "?");
		for (size_t a = 0; a < p->address.n; a++) {
			const struct addr_entry *e;
			struct ipaddr x;

			if (ip_parse(p->address.v[a], &x) < 0)
				continue;
			/* Report on the later peer of each pair only. */
			e = addrset_find(&used, &x, i);
			if (e && e->owner < i)
				V(c, &p->address.v[a], "address",
				  "address \"%s\" is already used by peer \"%s\"", p->address.v[a],
				  ifc->peers[e->owner].name ? ifc->peers[e->owner].name : "?");
		}
	}
	qsort(bykey, ifc->npeers, sizeof(*bykey), key_ptr_cmp);
	for (size_t i = 1; i < ifc->npeers; i++) {
		const struct wg_peer *p = bykey[i], *q = bykey[i - 1];

		if (!KEY_HAS(&p->public_key) || !key_same(&p->public_key, &q->public_key))
			continue;
		if (p < q) {
			const struct wg_peer *t = p;

			p = q;
			q = t;
		}
		snprintf(c->who + base, sizeof(c->who) - base, "%speer \"%.64s\"", base ? ": " : "",
			 p->name ? p->name : "?");
		V(c, &p->public_key, "public_key", "public_key is the same as peer \"%s\"'s",
		  q->name ? q->name : "?");
	}
	addrset_clear(&used);
	free(bykey);
}

/*
 * An interface's IPv4 address that is its network's own (10.8.0.0/24) or
 * broadcast address: the kernel takes it, but the network then routes as
 * if the interface had none of its own (and the first peer was given .1).
 */
static void check_iface_host(struct vctx *c, char *const *text, const struct ipaddr *ip)
{
	uint32_t a, host, first;
	struct ipaddr net;
	char nb[64], sug[64];

	if (ip->family != AF_INET || ip->prefix > 30)
		return;
	a = (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 | (uint32_t)ip->a[2] << 8 | ip->a[3];
	host = 0xffffffffu >> ip->prefix;
	if ((a & host) != 0 && (a & host) != host)
		return;
	ip_network(ip, &net);
	ip_format(&net, 1, nb, sizeof(nb));
	first = (a & ~host) + 1;
	snprintf(sug, sizeof(sug), "%u.%u.%u.%u/%d", first >> 24, first >> 16 & 255,
		 first >> 8 & 255, first & 255, ip->prefix);
	V(c, text, "address",
	  "address \"%s\" is the %s address of network %s: the interface needs a host address "
	  "of it, such as \"%s\"",
	  *text, (a & host) ? "broadcast" : "network", nb, sug);
}

static void check_wg_iface(struct vctx *c, const struct wg_iface *ifc)
{
	struct ipaddr *nets = xcalloc(ifc->address.n + 1, sizeof(*nets));
	size_t nnets = 0, base = strlen(c->who);

	/* the kernel's limit: IFNAMSIZ less its NUL */
	check_name_max(c, &ifc->name, "interface", 15);
	if (!ifc->address.n)
		V(c, &ifc->address, "address", "address needs at least one prefix");
	check_ips(c, &ifc->address, "address", 0);
	check_ips(c, &ifc->dns, "dns", 1);
	check_key(c, &ifc->private_key, "private_key");
	check_key(c, &ifc->public_key, "public_key");
	for (size_t i = 0; i < ifc->address.n; i++)
		if (ip_parse(ifc->address.v[i], &nets[nnets]) == 0)
			check_iface_host(c, &ifc->address.v[i], &nets[nnets++]);
	check_dup_names(c, ifc->peers, ifc->npeers, sizeof(*ifc->peers), "peer");
	for (size_t i = 0; i < ifc->npeers; i++) {
		const struct wg_peer *p = &ifc->peers[i];

		snprintf(c->who + base, sizeof(c->who) - base, "%speer \"%.64s\"", base ? ": " : "",
			 p->name ? p->name : "?");
		check_peer(c, ifc, p, nets, nnets);
	}
	check_peer_conflicts(c, ifc, base);
	c->who[base] = '\0';
	free(nets);
}

size_t state_validate_wg_peer(const struct wg_iface *ifc, const struct wg_peer *p,
			      struct diags *d)
{
	struct ipaddr *nets = xcalloc(ifc->address.n + 1, sizeof(*nets));
	struct vctx c = { d, "" };
	size_t nnets = 0, before = d->n;

	for (size_t i = 0; i < ifc->address.n; i++)
		if (ip_parse(ifc->address.v[i], &nets[nnets]) == 0)
			nnets++;
	snprintf(c.who, sizeof(c.who), "wireguard interface \"%.64s\": peer \"%.64s\"",
		 ifc->name ? ifc->name : "?", p->name ? p->name : "?");
	check_peer(&c, ifc, p, nets, nnets);
	free(nets);
	return d->n - before;
}

static void check_wireguard(struct vctx *c, const struct wg_section *wg)
{
	check_dup_names(c, wg->interfaces, wg->ninterfaces, sizeof(*wg->interfaces), "interface");
	for (size_t i = 0; i < wg->ninterfaces; i++) {
		const struct wg_iface *ifc = &wg->interfaces[i];

		snprintf(c->who, sizeof(c->who), "wireguard interface \"%.64s\"",
			 ifc->name ? ifc->name : "?");
		check_wg_iface(c, ifc);
		for (size_t j = 0; j < i; j++) {
			const struct wg_iface *o = &wg->interfaces[j];

			if (o->listen_port == ifc->listen_port)
				V(c, &ifc->listen_port, "listen_port",
				  "listen_port %d is already used by interface \"%s\"",
				  ifc->listen_port, o->name ? o->name : "?");
			for (size_t a = 0; a < ifc->address.n; a++) {
				struct ipaddr x, y;

				if (ip_parse(ifc->address.v[a], &x) < 0)
					continue;
				for (size_t b = 0; b < o->address.n; b++)
					if (ip_parse(o->address.v[b], &y) == 0 && ip_overlap(&x, &y))
						V(c, &ifc->address.v[a], "address",
						  "network \"%s\" overlaps interface \"%s\"'s \"%s\"",
						  ifc->address.v[a], o->name ? o->name : "?",
						  o->address.v[b]);
			}
		}
	}
	c->who[0] = '\0';
}

/* ---- OpenVPN ---- */

struct ip_ref {
	struct ipaddr ip;
	size_t idx;
};

static int ip_ref_cmp(const void *a, const void *b)
{
	const struct ip_ref *x = a, *y = b;
	int c = memcmp(x->ip.a, y->ip.a, 4);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* static_ip used twice, in O(n log n): reported on each later client. */
static void check_static_ips(struct vctx *c, const struct ovpn_section *ov)
{
	struct ip_ref *refs = xcalloc(ov->nclients + 1, sizeof(*refs));
	size_t k = 0, first = 0;

	for (size_t i = 0; i < ov->nclients; i++) {
		const char *s = ov->clients[i].static_ip;

		if (s && !has_ctl(s, 0) && ip_parse_addr(s, &refs[k].ip) == 0 &&
		    refs[k].ip.family == AF_INET)
			refs[k++].idx = i;
	}
	qsort(refs, k, sizeof(*refs), ip_ref_cmp);
	for (size_t i = 1; i < k; i++) {
		const struct ovpn_client *cl = &ov->clients[refs[i].idx], *o;

		if (memcmp(refs[i].ip.a, refs[i - 1].ip.a, 4)) {
			first = i;
			continue;
		}
		o = &ov->clients[refs[first].idx];
		snprintf(c->who, sizeof(c->who), "openvpn client \"%.64s\"",
			 cl->name ? cl->name : "?");
		V(c, &cl->static_ip, "static_ip", "static_ip \"%s\" is already used by client \"%s\"",
		  cl->static_ip, o->name ? o->name : "?");
	}
	free(refs);
}

static void check_openvpn(struct vctx *c, const struct atlas_state *st)
{
	const struct ovpn_section *ov = &st->openvpn;
	struct ovpn_plan plan;
	int have_plan;

	snprintf(c->who, sizeof(c->who), "openvpn");
	have_plan = ovpn_address_plan(ov->network, &plan) == 0;
	if (ov->network && !have_plan)
		V(c, &ov->network, "network",
		  "network \"%.60s\" is not an IPv4 prefix between /16 and /29", ov->network);
	/* the two tunnels' networks apart, or each takes the other's routes */
	for (size_t i = 0; have_plan && st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];

		for (size_t a = 0; a < ifc->address.n; a++) {
			struct ipaddr y;

			if (ip_parse(ifc->address.v[a], &y) == 0 && ip_overlap(&plan.net, &y))
				V(c, &ov->network, "network",
				  "network \"%s\" overlaps wireguard interface \"%s\"'s \"%s\"",
				  ov->network, ifc->name ? ifc->name : "?", ifc->address.v[a]);
		}
	}
	check_ips(c, &ov->dns, "dns", 1);
	check_ips(c, &ov->routes, "routes", 0);
	/* the tunnel Atlas renders carries IPv4 only (no server-ipv6) */
	for (size_t i = 0; i < ov->routes.n; i++) {
		struct ipaddr r;

		if (ip_parse(ov->routes.v[i], &r) == 0 && r.family != AF_INET)
			V(c, &ov->routes.v[i], "routes",
			  "routes \"%.60s\" is IPv6: the openvpn tunnel carries IPv4 only",
			  ov->routes.v[i]);
	}
	if (st->has_wireguard && ov->proto == OVPN_UDP)
		for (size_t i = 0; i < st->wireguard.ninterfaces; i++)
			if (st->wireguard.interfaces[i].listen_port == ov->port)
				V(c, &ov->port, "port",
				  "port %d is already used by wireguard interface \"%s\"", ov->port,
				  st->wireguard.interfaces[i].name ? st->wireguard.interfaces[i].name
								   : "?");
	check_dup_names(c, ov->clients, ov->nclients, sizeof(*ov->clients), "client");
	for (size_t i = 0; i < ov->nclients; i++) {
		const struct ovpn_client *cl = &ov->clients[i];
		struct ipaddr ip;

		snprintf(c->who, sizeof(c->who), "openvpn client \"%.64s\"",
			 cl->name ? cl->name : "?");
		check_name(c, &cl->name, "client");
		if (cl->name && ovpn_name_reserved(cl->name))
			V(c, &cl->name, "name",
			  "name \"%s\" is reserved: Atlas issues a certificate of that name for "
			  "itself",
			  cl->name);
		check_expiry(c, &cl->expires, "expires");
		check_quota(c, &cl->quota);
		check_text(c, &cl->note, "note", 1, 1024);
		if (!cl->static_ip)
			continue;
		if (has_ctl(cl->static_ip, 0) || ip_parse_addr(cl->static_ip, &ip) < 0 ||
		    ip.family != AF_INET) {
			V(c, &cl->static_ip, "static_ip", "static_ip \"%.60s\" is not an IPv4 address",
			  cl->static_ip);
			continue;
		}
		if (!have_plan)
			continue;
		if (ip_cmp(&ip, &plan.static_first) < 0 || ip_cmp(&ip, &plan.static_last) > 0) {
			char a[64], b[64];

			ip_format(&plan.static_first, 0, a, sizeof(a));
			ip_format(&plan.static_last, 0, b, sizeof(b));
			V(c, &cl->static_ip, "static_ip",
			  "static_ip \"%s\" is outside the static range %s-%s of network \"%s\" "
			  "(the upper half is the dynamic pool)",
			  cl->static_ip, a, b, ov->network);
		}
	}
	check_static_ips(c, ov);
	c->who[0] = '\0';
}

/* ---- the whole state (sing-box: validate_sb.c) ---- */

size_t state_validate(const struct atlas_state *st, struct diags *d)
{
	struct vctx c = { d, "", st };
	size_t before = d->n;

	if (st->version != 1)
		V(&c, &st->version, "version", "version %d is not supported (this atlas reads 1)",
		  st->version);
	snprintf(c.who, sizeof(c.who), "settings");
	if (st->settings.host && !hostname_valid(st->settings.host))
		V(&c, &st->settings.host, "host", "host \"%.80s\" is not a host name or IP address",
		  st->settings.host);
	if (st->settings.egress_interface && !ifname_valid(st->settings.egress_interface))
		V(&c, &st->settings.egress_interface, "egress_interface",
		  "egress_interface \"%.60s\" is not an interface name", st->settings.egress_interface);
	if (st->settings.panel_url && !panel_url_valid(st->settings.panel_url))
		V(&c, &st->settings.panel_url, "panel_url",
		  "panel_url \"%.80s\" is not an http:// or https:// URL without query or fragment",
		  st->settings.panel_url);
	if (st->settings.tls_cert && (st->settings.tls_cert[0] != '/' || has_ctl(st->settings.tls_cert, 0)))
		V(&c, &st->settings.tls_cert, "tls_cert", "tls_cert \"%.80s\" is not an absolute path",
		  st->settings.tls_cert);
	if (st->settings.tls_key && (st->settings.tls_key[0] != '/' || has_ctl(st->settings.tls_key, 0)))
		V(&c, &st->settings.tls_key, "tls_key", "tls_key \"%.80s\" is not an absolute path",
		  st->settings.tls_key);
	if (!st->settings.tls_cert != !st->settings.tls_key)
		V(&c, st->settings.tls_cert ? (void *)&st->settings.tls_cert : (void *)&st->settings.tls_key,
		  st->settings.tls_cert ? "tls_cert" : "tls_key",
		  "tls_cert and tls_key go together: %s is missing",
		  st->settings.tls_cert ? "tls_key" : "tls_cert");
	if (st->settings.singbox_binary &&
	    (st->settings.singbox_binary[0] != '/' || has_ctl(st->settings.singbox_binary, 0)))
		V(&c, &st->settings.singbox_binary, "singbox_binary",
		  "singbox_binary \"%.80s\" is not an absolute path", st->settings.singbox_binary);
	c.who[0] = '\0';
	if (st->has_wireguard)
		check_wireguard(&c, &st->wireguard);
	if (st->has_openvpn)
		check_openvpn(&c, st);
	if (st->has_singbox)
		check_singbox(&c, st);
	return d->n - before;
}
