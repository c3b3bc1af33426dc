/*
 * validate.c - semantic checks of a desired state.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "state/addrset.h"
#include "state/keys.h"
#include "state/validate.h"

int name_valid(const char *s)
{
	size_t n;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-");
	return n == strlen(s) && n <= NAME_MAX_LEN;
}

int date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	char tail;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return 0;
	if (strspn(s, "0123456789-") != 10 || y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

static int has_ctl(const char *s, int allow_newline)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !(allow_newline && (*s == '\n' || *s == '\t'))) ||
		    *s == 0x7f)
			return 1;
	return 0;
}

static int hostname_valid(const char *s)
{
	struct ipaddr ip;
	size_t n = strlen(s);

	if (ip_parse_addr(s, &ip) == 0)
		return 1;
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
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

struct vctx {
	struct diags *d;
	char who[256];	/* "wireguard interface \"wg0\": peer \"bob\"" */
};

#define V(c, where, field, ...)                                                         \
	do {                                                                            \
		char m_[900];                                                           \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                                   \
		diags_add((c)->d, (where), (field), "%s%s%s", (c)->who, (c)->who[0] ? ": " : "", \
			  m_);                                                          \
	} while (0)

void name_suggest(const char *s, char *out, size_t len)
{
	size_t n = 0;
	int dash = 0;

	for (; s && *s && n + 1 < len && n < NAME_MAX_LEN; s++) {
		char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    (n && (ch == '_' || ch == '.' || ch == '-'))) {
			if (dash && n && ch != '-')
				out[n++] = '-';
			dash = 0;
			if (n + 1 < len && n < NAME_MAX_LEN)
				out[n++] = ch;
		} else {
			dash = 1;	/* spaces and the rest: one dash between words */
		}
	}
	while (n && (out[n - 1] == '-' || out[n - 1] == '_' || out[n - 1] == '.'))
		n--;
	if (len)
		out[n] = '\0';
}

static void check_name(struct vctx *c, char *const *name, const char *kind)
{
	char tail[128], hint[NAME_MAX_LEN + 40] = "";
	size_t lw, lt;

	if (!*name) {
		V(c, name, "name", "%s has no name", kind);
		return;
	}
	if (name_valid(*name))
		return;
	{
		char sug[NAME_MAX_LEN + 1];

		name_suggest(*name, sug, sizeof(sug));
		if (sug[0])
			snprintf(hint, sizeof(hint), ", such as \"%s\"", sug);
	}
	/* who ends with KIND "NAME": say it once, as KIND name "NAME" */
	snprintf(tail, sizeof(tail), " \"%.80s\"", *name);
	lw = strlen(c->who);
	lt = strlen(tail);
	if (lw > lt && !strcmp(c->who + lw - lt, tail)) {
		diags_add(c->d, name, "name",
			  "%.*s name \"%.80s\" is invalid: use 1 to 63 lowercase letters, digits, "
			  "_ . - starting with a letter or digit%s",
			  (int)(lw - lt), c->who, *name, hint);
		return;
	}
	V(c, name, "name",
	  "name \"%.80s\" is invalid: use 1 to 63 lowercase letters, digits, _ . - starting with a "
	  "letter or digit%s",
	  *name, hint);
}

static void check_text(struct vctx *c, char *const *s, const char *field, int multiline,
		       size_t max)
{
	if (!*s)
		return;
	if (has_ctl(*s, multiline))
		V(c, s, field, "%s contains control characters", field);
	else if (strlen(*s) > max)
		V(c, s, field, "%s is longer than %zu characters", field, max);
}

static void check_date(struct vctx *c, char *const *s, const char *field)
{
	if (*s && !date_valid(*s))
		V(c, s, field, "%s \"%.40s\" is not a date (YYYY-MM-DD)", field, *s);
}

static void check_key(struct vctx *c, const char *key, const char *field)
{
	if (key[0] && !key_valid(key))
		V(c, key, field, "%s \"%.60s\" is not a valid key (base64 of 32 bytes)", field, key);
}

static void check_prefixes(struct vctx *c, const struct strv *sv, const char *field)
{
	struct ipaddr ip;

	for (size_t i = 0; i < sv->n; i++)
		if (has_ctl(sv->v[i], 0) || ip_parse(sv->v[i], &ip) < 0)
			V(c, &sv->v[i], field, "%s \"%.60s\" is not an IPv4 or IPv6 prefix", field,
			  sv->v[i]);
}

static void check_addrs(struct vctx *c, const struct strv *sv, const char *field)
{
	struct ipaddr ip;

	for (size_t i = 0; i < sv->n; i++)
		if (has_ctl(sv->v[i], 0) || ip_parse_addr(sv->v[i], &ip) < 0)
			V(c, &sv->v[i], field, "%s \"%.60s\" is not an IPv4 or IPv6 address", field,
			  sv->v[i]);
}

struct name_ref {
	const char *name;
	char *const *where;
	size_t idx;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* Reports duplicate names in a list whose elements start with char *name. */
static void check_dup_names(struct vctx *c, const void *arr, size_t n, size_t size,
			    const char *kind)
{
	struct name_ref *refs = xcalloc(n + 1, sizeof(*refs));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char *const *ni = (char *const *)((const char *)arr + i * size);

		if (*ni)
			refs[k++] = (struct name_ref){ *ni, ni, i };
	}
	qsort(refs, k, sizeof(*refs), name_ref_cmp);
	for (size_t i = 1; i < k; i++)
		if (!strcmp(refs[i].name, refs[i - 1].name))
			V(c, refs[i].where, "name", "%s name \"%s\" is used twice", kind,
			  refs[i].name);
	free(refs);
}

/* ---- WireGuard ---- */

static void check_peer(struct vctx *c, const struct wg_iface *ifc, const struct wg_peer *p,
		       const struct ipaddr *nets, size_t nnets)
{
	struct ipaddr ip;

	check_name(c, &p->name, "peer");
	check_prefixes(c, &p->address, "address");
	check_prefixes(c, &p->allowed_ips, "allowed_ips");
	check_date(c, &p->expires, "expires");
	check_text(c, &p->note, "note", 1, 1024);
	check_key(c, p->public_key, "public_key");
	check_key(c, p->private_key, "private_key");
	check_key(c, p->preshared_key, "preshared_key");
	if (!p->public_key[0] && !p->private_key[0])
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
	int c = strcmp(x->public_key, y->public_key);

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

		if (!p->public_key[0] || strcmp(p->public_key, q->public_key))
			continue;
		if (p < q) {
			const struct wg_peer *t = p;

			p = q;
			q = t;
		}
		snprintf(c->who + base, sizeof(c->who) - base, "%speer \"%.64s\"", base ? ": " : "",
			 p->name ? p->name : "?");
		V(c, p->public_key, "public_key", "public_key is the same as peer \"%s\"'s",
		  q->name ? q->name : "?");
	}
	addrset_clear(&used);
	free(bykey);
}

static void check_wg_iface(struct vctx *c, const struct wg_iface *ifc)
{
	struct ipaddr *nets = xcalloc(ifc->address.n + 1, sizeof(*nets));
	size_t nnets = 0, base = strlen(c->who);

	check_name(c, &ifc->name, "interface");
	if (ifc->name && !ifname_valid(ifc->name))
		V(c, &ifc->name, "name", "interface name \"%s\" is longer than 15 characters",
		  ifc->name);
	if (!ifc->address.n)
		V(c, &ifc->address, "address", "address needs at least one prefix");
	check_prefixes(c, &ifc->address, "address");
	check_addrs(c, &ifc->dns, "dns");
	check_key(c, ifc->private_key, "private_key");
	check_key(c, ifc->public_key, "public_key");
	for (size_t i = 0; i < ifc->address.n; i++)
		if (ip_parse(ifc->address.v[i], &nets[nnets]) == 0)
			nnets++;
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
	check_addrs(c, &ov->dns, "dns");
	check_prefixes(c, &ov->routes, "routes");
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
		check_date(c, &cl->expires, "expires");
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

/* ---- sing-box ---- */

static void check_singbox(struct vctx *c, const struct atlas_state *st)
{
	const struct sb_section *sb = &st->singbox;

	check_dup_names(c, sb->inbounds, sb->ninbounds, sizeof(*sb->inbounds), "inbound");
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];

		snprintf(c->who, sizeof(c->who), "singbox inbound \"%.64s\"",
			 in->name ? in->name : "?");
		check_name(c, &in->name, "inbound");
		if (in->server_name && !hostname_valid(in->server_name))
			V(c, &in->server_name, "server_name", "server_name \"%.60s\" is not a host name",
			  in->server_name);
		for (size_t j = 0; j < i; j++)
			if (sb->inbounds[j].port == in->port)
				V(c, &in->port, "port", "port %d is already used by inbound \"%s\"",
				  in->port, sb->inbounds[j].name ? sb->inbounds[j].name : "?");
		check_dup_names(c, in->users, in->nusers, sizeof(*in->users), "user");
		for (size_t u = 0; u < in->nusers; u++) {
			const struct sb_user *us = &in->users[u];

			check_name(c, &us->name, "user");
			check_date(c, &us->expires, "expires");
			check_text(c, &us->note, "note", 1, 1024);
			check_text(c, &us->uuid, "uuid", 0, 64);
			check_text(c, &us->password, "password", 0, 256);
		}
	}
	c->who[0] = '\0';
}

size_t state_validate(const struct atlas_state *st, struct diags *d)
{
	struct vctx c = { d, "" };
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
	c.who[0] = '\0';
	if (st->has_wireguard)
		check_wireguard(&c, &st->wireguard);
	if (st->has_openvpn)
		check_openvpn(&c, st);
	if (st->has_singbox)
		check_singbox(&c, st);
	return d->n - before;
}
