/*
 * complete.c - keys, secrets, defaults and address allocation.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "lib/ipaddr.h"
#include "state/addrset.h"
#include "state/complete.h"
#include "state/keys.h"
#include "state/sb_keys.h"
#include "state/schema.h"

/*
 * Old resources by name: a sorted index built once per list, so that matching
 * 10,000 new names against 10,000 old ones is O(n log n) (state_wg_peer()
 * falls back to a linear scan on a miss: 4.9 s for a renamed interface).
 */
struct name_index {
	struct name_ent {
		const char *name;
		const void *p;
	} *v;
	size_t n;
};

static int name_ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ent *)a)->name, ((const struct name_ent *)b)->name);
}

/* arr: n elements of size bytes, each starting with its char *name. */
static void name_index_build(struct name_index *ix, const void *arr, size_t n, size_t size)
{
	ix->v = xcalloc(n + 1, sizeof(*ix->v));
	ix->n = 0;
	for (size_t i = 0; i < n; i++) {
		const void *e = (const char *)arr + i * size;
		const char *name = *(char *const *)e;

		if (name)
			ix->v[ix->n++] = (struct name_ent){ name, e };
	}
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), name_ent_cmp);
}

/* The element named name (borrowed), or NULL. */
static const void *name_index_find(const struct name_index *ix, const char *name)
{
	struct name_ent key = { name, NULL }, *e;

	if (!name || !ix->n)
		return NULL;
	e = bsearch(&key, ix->v, ix->n, sizeof(*ix->v), name_ent_cmp);
	return e ? e->p : NULL;
}

static void name_index_release(struct name_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

/* The text of k for a message: a key's base64, or the text kept of one that is not. */
static const char *key_shown(const struct atlas_state *st, const struct wg_key *k,
			     char buf[KEY_B64])
{
	if (k->set == KEY_BAD)
		return state_bad_key(st, k);
	key_text(k, buf);
	return buf;
}

/* st: the state of ifc (the texts of its bad keys), or NULL. */
static int complete_iface_key(const struct atlas_state *st, struct wg_iface *ifc,
			      const struct wg_iface *old, struct diags *d, struct atlas_err *err)
{
	struct wg_key pub;
	char text[KEY_B64];

	if (!KEY_GIVEN(&ifc->private_key) && old && KEY_GIVEN(&old->private_key))
		ifc->private_key = old->private_key;
	if (!KEY_GIVEN(&ifc->private_key)) {
		if (KEY_GIVEN(&ifc->public_key)) {
			diags_add(d, &ifc->public_key, "public_key",
				  "wireguard interface \"%s\": public_key is given but its private_key "
				  "is not known: add private_key (atlas export --secrets) or remove "
				  "public_key to generate a new key",
				  ifc->name);
			return 0;
		}
		return key_new_pair(&ifc->private_key, &ifc->public_key, err);
	}
	if (!KEY_HAS(&ifc->private_key))
		return 0;	/* validation reports it */
	if (key_derive(&ifc->private_key, &pub, err) < 0)
		return -1;
	if (KEY_GIVEN(&ifc->public_key) && !key_same(&pub, &ifc->public_key))
		diags_add(d, &ifc->public_key, "public_key",
			  "wireguard interface \"%s\": public_key \"%s\" does not match its private "
			  "key",
			  ifc->name, key_shown(st, &ifc->public_key, text));
	ifc->public_key = pub;
	return 0;
}

static int complete_peer_keys(const struct atlas_state *st, struct wg_iface *ifc, struct wg_peer *p,
			      const struct wg_peer *old, struct diags *d, struct atlas_err *err)
{
	struct wg_key pub;
	char text[KEY_B64];

	if (KEY_GIVEN(&p->private_key)) {
		if (!KEY_HAS(&p->private_key))
			return 0;
		/* The same key as stored: its public half is known (no X25519 needed). */
		if (old && KEY_GIVEN(&old->public_key) && key_same(&old->private_key, &p->private_key))
			pub = old->public_key;
		else if (key_derive(&p->private_key, &pub, err) < 0)
			return -1;
		if (KEY_GIVEN(&p->public_key) && !key_same(&p->public_key, &pub))
			diags_add(d, &p->public_key, "public_key",
				  "wireguard interface \"%s\": peer \"%s\": public_key \"%s\" does not "
				  "match its private key",
				  ifc->name, p->name, key_shown(st, &p->public_key, text));
		p->public_key = pub;
	} else if (KEY_GIVEN(&p->public_key)) {
		/* The exported public key of a known peer: keep its private key. */
		if (old && KEY_GIVEN(&old->private_key) && key_same(&old->public_key, &p->public_key))
			p->private_key = old->private_key;
	} else if (old && KEY_GIVEN(&old->public_key)) {
		p->public_key = old->public_key;
		p->private_key = old->private_key;
	} else if (key_new_pair(&p->private_key, &p->public_key, err) < 0) {
		return -1;
	}
	if (!KEY_GIVEN(&p->preshared_key)) {
		if (old && KEY_GIVEN(&old->preshared_key) &&
		    key_same(&old->public_key, &p->public_key))
			p->preshared_key = old->preshared_key;
		else if (key_new_random(&p->preshared_key, err) < 0)
			return -1;
	}
	return 0;
}

static void add_peer_addrs(struct addrset *used, const struct wg_peer *p, size_t owner)
{
	struct ipaddr ip;

	for (size_t j = 0; j < p->address.n; j++)
		if (ip_parse(p->address.v[j], &ip) == 0)
			addrset_add(used, &ip, owner);
}

/* 1 when ip lies inside one of the nets (as a host or a narrower prefix). */
static int in_nets(const struct ipaddr *ip, const struct ipaddr *nets, size_t nnets)
{
	for (size_t k = 0; k < nnets; k++)
		if (ip_in_net(&nets[k], ip) && ip->prefix >= nets[k].prefix)
			return 1;
	return 0;
}

/*
 * A peer re-imported without its address gets its old one back when free and
 * still inside the interface's networks (they may have changed: then it gets
 * a new one, rather than an error about an address the user never wrote).
 */
static void reuse_old_addr(struct addrset *used, struct wg_peer *p, const struct wg_peer *old,
			   size_t owner, const struct ipaddr *nets, size_t nnets)
{
	struct ipaddr ip;

	if (!old || !old->address.n)
		return;
	for (size_t i = 0; i < old->address.n; i++)
		if (ip_parse(old->address.v[i], &ip) < 0 || addrset_find(used, &ip, ADDR_NO_SKIP) ||
		    !in_nets(&ip, nets, nnets))
			return;
	strv_copy(&p->address, &old->address);
	for (size_t i = 0; i < old->address.n; i++)
		if (ip_parse(old->address.v[i], &ip) == 0)
			addrset_insert(used, &ip, owner);
}

/* The last address of prefix p (its host bits set), as a host address. */
static void prefix_last(const struct ipaddr *p, struct ipaddr *out)
{
	int bits = p->family == AF_INET ? 32 : 128;

	*out = *p;
	for (int b = p->prefix; b < bits; b++)
		out->a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	out->prefix = bits;
}

/*
 * The lowest free host address of net at or after *cursor (v4: not the
 * network or broadcast address). Allocation goes upwards, so the cursor
 * never moves back and the whole allocation is O(n log n). A taken prefix
 * (a peer's fd00::/64, even ::/0) is stepped over whole: one host at a time
 * it took for ever.
 */
static int alloc_addr(const struct addrset *used, const struct ipaddr *net,
		      struct ipaddr *cursor, struct ipaddr *out)
{
	struct ipaddr bcast = *net, end;
	int host = net->family == AF_INET ? 32 : 128;
	const struct addr_entry *e;

	ip_network(net, &bcast);
	ip_add(&bcast, ip_size(net) - 1);
	for (;;) {
		if (!ip_in_net(net, cursor) || (net->family == AF_INET && ip_addr_eq(cursor, &bcast)))
			return -1;
		cursor->prefix = host;
		e = addrset_find(used, cursor, ADDR_NO_SKIP);
		if (!e) {
			*out = *cursor;
			ip_add(cursor, 1);
			return 0;
		}
		if (e->ip.prefix < host) {
			prefix_last(&e->ip, &end);
			/* taken up to the end of net (or further): nothing is left */
			prefix_last(net, &bcast);
			if (!ip_in_net(net, &end) || ip_addr_eq(&end, &bcast))
				return -1;
			*cursor = end;
		}
		ip_add(cursor, 1);
	}
}

static int peer_ptr_cmp(const void *a, const void *b)
{
	const struct wg_peer *x = *(struct wg_peer *const *)a, *y = *(struct wg_peer *const *)b;

	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/*
 * Allocation after every explicit address is known, in name order (through
 * an index: moving peers would invalidate the positions recorded for error
 * messages).
 */
static int allocate(struct wg_iface *ifc, const struct name_index *old_peers, struct diags *d)
{
	struct wg_peer **order = xcalloc(ifc->npeers, sizeof(*order));
	struct ipaddr *nets = xcalloc(ifc->address.n + 1, sizeof(*nets));
	struct ipaddr *cursors = xcalloc(ifc->address.n + 1, sizeof(*cursors));
	struct addrset used = { 0 };
	size_t nnets = 0;

	for (size_t i = 0; i < ifc->address.n; i++)
		if (ip_parse(ifc->address.v[i], &nets[nnets]) == 0) {
			struct ipaddr self = nets[nnets];

			self.prefix = self.family == AF_INET ? 32 : 128;
			addrset_add(&used, &self, ADDR_OWNER_SELF);
			ip_network(&nets[nnets], &cursors[nnets]);
			ip_add(&cursors[nnets], 1);
			nnets++;
		}
	for (size_t j = 0; j < ifc->npeers; j++) {
		order[j] = &ifc->peers[j];
		add_peer_addrs(&used, &ifc->peers[j], j);
	}
	addrset_sort(&used);
	qsort(order, ifc->npeers, sizeof(*order), peer_ptr_cmp);
	for (size_t j = 0; j < ifc->npeers; j++) {
		struct wg_peer *p = order[j];

		if (p->name && !p->address.n)
			reuse_old_addr(&used, p, name_index_find(old_peers, p->name),
				       (size_t)(p - ifc->peers), nets, nnets);
	}
	for (size_t j = 0; j < ifc->npeers; j++) {
		struct wg_peer *p = order[j];

		if (!p->name || p->address.n)
			continue;
		for (size_t k = 0; k < nnets; k++) {
			struct ipaddr ip;
			char txt[64];

			if (alloc_addr(&used, &nets[k], &cursors[k], &ip) < 0) {
				diags_add(d, p, "address",
					  "wireguard interface \"%s\": peer \"%s\": no free address "
					  "left in \"%s\"",
					  ifc->name, p->name, ifc->address.v[k]);
				continue;
			}
			ip_format(&ip, 1, txt, sizeof(txt));
			strv_push(&p->address, txt);
		}
	}
	addrset_clear(&used);
	free(order);
	free(nets);
	free(cursors);
	return 0;
}

/*
 * How far ip lies at or above base (same family) in *off: 0, or -1 when it
 * is below base or 2^64 or more above it.
 */
static int ip_offset(const struct ipaddr *base, const struct ipaddr *ip, uint64_t *off)
{
	int len = base->family == AF_INET ? 4 : 16, borrow = 0;
	uint8_t d[16];

	for (int i = len - 1; i >= 0; i--) {
		int v = ip->a[i] - base->a[i] - borrow;

		borrow = v < 0;
		d[i] = (uint8_t)(v + (borrow ? 256 : 0));
	}
	if (borrow)
		return -1;
	*off = 0;
	for (int i = 0; i < len; i++) {
		if (i < len - 8 && d[i])
			return -1;
		*off = (*off << 8) | d[i];
	}
	return 0;
}

/*
 * alloc_addr's answer for the first peer without an address when every
 * address of used[0..n) is a host: the lowest free host above net's
 * network address. Of the n + 1 hosts from there one is free, so a bitmap
 * of those is enough. 0, or -1 when alloc_addr must tell (a wide prefix of
 * net's family taken, or net full).
 */
static int first_free(const struct ipaddr *net, const struct ipaddr *used, size_t n,
		      struct ipaddr *out)
{
	int host = net->family == AF_INET ? 32 : 128, ret = -1;
	unsigned char *taken = xcalloc(n + 1, 1);
	struct ipaddr base, bcast = *net;
	uint64_t off;
	size_t k = 0;

	ip_network(net, &base);
	ip_add(&base, 1);
	base.prefix = host;
	for (size_t i = 0; i < n; i++) {
		if (used[i].family != net->family)
			continue;
		if (used[i].prefix < host)
			goto out;
		if (ip_offset(&base, &used[i], &off) == 0 && off <= n)
			taken[off] = 1;
	}
	while (taken[k])
		k++;
	*out = base;
	ip_add(out, k);
	if (net->family == AF_INET) {
		ip_network(net, &bcast);
		ip_add(&bcast, ip_size(net) - 1);
	}
	if (ip_in_net(net, out) && !(net->family == AF_INET && ip_addr_eq(out, &bcast)))
		ret = 0;
out:
	free(taken);
	return ret;
}

int state_complete_added_peer(struct wg_iface *ifc, struct wg_peer *p, struct diags *d,
			      struct atlas_err *err)
{
	size_t nets = ifc->address.n, n = 0, cap = nets + 1;
	struct ipaddr *used, *got = xcalloc(nets + 1, sizeof(*got)), net;
	int ret = 0, alloc = !p->address.n;

	for (size_t j = 0; j < ifc->npeers; j++)
		cap += ifc->peers[j].address.n;
	used = xcalloc(cap, sizeof(*used));
	for (size_t i = 0; i < nets; i++)
		if (ip_parse(ifc->address.v[i], &used[n]) == 0) {
			used[n].prefix = used[n].family == AF_INET ? 32 : 128;
			n++;
		}
	for (size_t j = 0; j < ifc->npeers; j++)
		for (size_t k = 0; k < ifc->peers[j].address.n; k++)
			if (&ifc->peers[j] != p && ip_parse(ifc->peers[j].address.v[k], &used[n]) == 0)
				n++;
	/* every address found before p is changed: a fallback finds p as it came */
	for (size_t i = 0; i < nets && alloc; i++)
		if (ip_parse(ifc->address.v[i], &net) == 0 && first_free(&net, used, n, &got[i]) < 0)
			goto out;
	ret = -1;
	if (complete_peer_keys(NULL, ifc, p, NULL, d, err) < 0)
		goto out;
	if (!p->allowed_ips.n) {
		strv_push(&p->allowed_ips, "0.0.0.0/0");
		strv_push(&p->allowed_ips, "::/0");
	}
	for (size_t i = 0; i < nets && alloc; i++) {
		char txt[64];

		if (ip_parse(ifc->address.v[i], &net) < 0)
			continue;
		ip_format(&got[i], 1, txt, sizeof(txt));
		strv_push(&p->address, txt);
	}
	ret = 1;
out:
	free(used);
	free(got);
	return ret;
}

static int complete_wireguard(struct atlas_state *st, const struct atlas_state *old,
			      struct diags *d, struct atlas_err *err)
{
	struct name_index old_peers = { 0 };
	int ret = -1;

	for (size_t i = 0; i < st->wireguard.ninterfaces; i++) {
		struct wg_iface *ifc = &st->wireguard.interfaces[i];
		const struct wg_iface *oifc =
			old && ifc->name ? state_wg_iface(old, ifc->name) : NULL;

		if (!ifc->name)
			continue;
		if (complete_iface_key(st, ifc, oifc, d, err) < 0)
			goto out;
		name_index_release(&old_peers);
		if (oifc)
			name_index_build(&old_peers, oifc->peers, oifc->npeers, sizeof(*oifc->peers));
		for (size_t j = 0; j < ifc->npeers; j++) {
			struct wg_peer *p = &ifc->peers[j];
			const struct wg_peer *op = name_index_find(&old_peers, p->name);

			if (!p->name)
				continue;
			if (complete_peer_keys(st, ifc, p, op, d, err) < 0)
				goto out;
			if (!p->allowed_ips.n) {
				strv_push(&p->allowed_ips, "0.0.0.0/0");
				strv_push(&p->allowed_ips, "::/0");
			}
		}
		if (ifc->npeers && allocate(ifc, &old_peers, d) < 0)
			goto out;
	}
	ret = 0;
out:
	name_index_release(&old_peers);
	return ret;
}

/* ---- sing-box ---- */

static void str_drop(char **s)
{
	if (*s)
		OPENSSL_cleanse(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* *dst = a copy of src when *dst is absent and src is usable. */
static void str_keep(char **dst, const char *src)
{
	if (!*dst && src)
		*dst = xstrdup(src);
}

static int sb_needs_uuid(int type)
{
	return type == SB_VLESS || type == SB_VMESS || type == SB_TUIC;
}

static int sb_needs_password(int type)
{
	return type != SB_VLESS && type != SB_VMESS;
}

static int complete_sb_user(const struct sb_inbound *in, struct sb_user *u,
			    const struct sb_user *ou, struct atlas_err *err)
{
	int klen = sb_method_key_len(in->method);

	if (!sb_needs_uuid(in->type)) {
		str_drop(&u->uuid);
	} else {
		str_keep(&u->uuid, ou ? ou->uuid : NULL);
		if (!u->uuid) {
			char id[37];

			if (uuid_random(id, err) < 0)
				return -1;
			u->uuid = xstrdup(id);
		}
	}
	if (!sb_needs_password(in->type)) {
		str_drop(&u->password);
		return 0;
	}
	/* A Shadowsocks user key must fit the method: an old one of another
	 * length (the method or the type changed) is replaced. */
	if (ou && ou->password && (in->type != SB_SHADOWSOCKS || sb_ss_key_valid(ou->password, klen)))
		str_keep(&u->password, ou->password);
	if (u->password)
		return 0;
	if (in->type == SB_SHADOWSOCKS)
		return sb_ss_key_generate(klen, &u->password, err);
	{
		char pw[25];

		if (password_random(pw, err) < 0)
			return -1;
		u->password = xstrdup(pw);
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	return 0;
}

static const char *inbound_label(const struct sb_inbound *in)
{
	return in->name ? in->name : "?";
}

static int complete_reality(struct sb_inbound *in, const struct sb_inbound *old,
			    struct diags *d, struct atlas_err *err)
{
	char *pub = NULL;

	if (!in->reality_private_key && old && old->reality_private_key &&
	    sb_reality_key_valid(old->reality_private_key))
		in->reality_private_key = xstrdup(old->reality_private_key);
	if (!in->reality_short_id && old && old->reality_short_id)
		in->reality_short_id = xstrdup(old->reality_short_id);
	if (!in->reality_short_id && sb_short_id_generate(&in->reality_short_id, err) < 0)
		return -1;
	if (!in->reality_private_key) {
		if (in->reality_public_key) {
			diags_add(d, &in->reality_public_key, "reality_public_key",
				  "singbox inbound \"%s\": reality_public_key is given but its "
				  "reality_private_key is not known: add reality_private_key (atlas "
				  "export --secrets) or remove reality_public_key to generate a new key",
				  inbound_label(in));
			return 0;
		}
		return sb_reality_generate(&in->reality_private_key, &in->reality_public_key, err);
	}
	if (!sb_reality_key_valid(in->reality_private_key))
		return 0;	/* validation reports it */
	if (sb_reality_public(in->reality_private_key, &pub, err) < 0)
		return -1;
	if (in->reality_public_key && strcmp(pub, in->reality_public_key))
		diags_add(d, &in->reality_public_key, "reality_public_key",
			  "singbox inbound \"%s\": reality_public_key \"%.60s\" does not match its "
			  "reality_private_key",
			  inbound_label(in), in->reality_public_key);
	free(in->reality_public_key);
	in->reality_public_key = pub;
	return 0;
}

/* The host a self-signed certificate is made for: server_name, else settings.host. */
static const char *self_signed_host(const struct atlas_state *st, const struct sb_inbound *in)
{
	return in->server_name ? in->server_name : st->settings.host;
}

static int complete_self_signed(const struct atlas_state *st, struct sb_inbound *in,
				const struct sb_inbound *old, struct diags *d,
				struct atlas_err *err)
{
	const char *host = self_signed_host(st, in);
	char pin[65];

	if (!host) {
		diags_add(d, in, "server_name",
			  "singbox inbound \"%s\": security tls without tls_certificate needs "
			  "server_name or settings.host for its self-signed certificate",
			  inbound_label(in));
		return 0;
	}
	if (!in->self_signed_certificate && !in->self_signed_key && old) {
		str_keep(&in->self_signed_certificate, old->self_signed_certificate);
		str_keep(&in->self_signed_key, old->self_signed_key);
	}
	/* Given, kept or stale (another host): a certificate that does not fit is made anew. */
	if (!sb_cert_matches(in->self_signed_certificate, in->self_signed_key, host)) {
		str_drop(&in->self_signed_certificate);
		str_drop(&in->self_signed_key);
		if (sb_self_signed(host, &in->self_signed_certificate, &in->self_signed_key, err) <
		    0)
			return -1;
	}
	if (sb_cert_sha256(in->self_signed_certificate, pin, err) < 0)
		return -1;
	free(in->certificate_sha256);
	in->certificate_sha256 = xstrdup(pin);
	return 0;
}

static int complete_sb_inbound(const struct atlas_state *st, struct sb_inbound *in,
			       const struct sb_inbound *oin, struct diags *d,
			       struct atlas_err *err)
{
	struct name_index old_users = { 0 };
	int sec = sb_security(in), ret = -1;

	if (sec == SB_SEC_REALITY) {
		if (complete_reality(in, oin, d, err) < 0)
			goto out;
	} else {
		str_drop(&in->reality_private_key);
		str_drop(&in->reality_public_key);
		str_drop(&in->reality_short_id);
	}
	if (sec == SB_SEC_TLS && !in->tls_certificate && !in->tls_key) {
		if (complete_self_signed(st, in, oin, d, err) < 0)
			goto out;
	} else {
		str_drop(&in->self_signed_certificate);
		str_drop(&in->self_signed_key);
		str_drop(&in->certificate_sha256);
	}
	if (in->type == SB_SHADOWSOCKS) {
		int klen = sb_method_key_len(in->method);

		if (!in->server_key && oin && sb_ss_key_valid(oin->server_key, klen))
			in->server_key = xstrdup(oin->server_key);
		if (!in->server_key && sb_ss_key_generate(klen, &in->server_key, err) < 0)
			goto out;
	} else {
		str_drop(&in->server_key);
	}
	if (oin)
		name_index_build(&old_users, oin->users, oin->nusers, sizeof(*oin->users));
	for (size_t j = 0; j < in->nusers; j++)
		if (in->users[j].name &&
		    complete_sb_user(in, &in->users[j],
				     name_index_find(&old_users, in->users[j].name), err) < 0)
			goto out;
	ret = 0;
out:
	name_index_release(&old_users);
	return ret;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One subscription per user name found in any inbound: the given token,
 * else the stored one, else a new one. Names no inbound has any more lose
 * theirs (a deleted user's link stops working).
 */
static int complete_subscriptions(struct sb_section *sb, const struct sb_section *old,
				  struct atlas_err *err)
{
	struct name_index given = { 0 }, kept = { 0 };
	struct sb_subscription *subs = NULL;
	const char **names = NULL;
	size_t total = 0, n = 0, k = 0;
	int ret = -1;

	for (size_t i = 0; i < sb->ninbounds; i++)
		total += sb->inbounds[i].nusers;
	names = xcalloc(total + 1, sizeof(*names));
	for (size_t i = 0; i < sb->ninbounds; i++)
		for (size_t j = 0; j < sb->inbounds[i].nusers; j++)
			if (sb->inbounds[i].users[j].name)
				names[n++] = sb->inbounds[i].users[j].name;
	qsort(names, n, sizeof(*names), str_ptr_cmp);
	name_index_build(&given, sb->subscriptions, sb->nsubscriptions, sizeof(*sb->subscriptions));
	if (old)
		name_index_build(&kept, old->subscriptions, old->nsubscriptions,
				 sizeof(*old->subscriptions));
	subs = xcalloc(n + 1, sizeof(*subs));
	for (size_t i = 0; i < n; i++) {
		const struct sb_subscription *g, *o;
		struct sb_subscription *s;

		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		s = &subs[k++];
		schema_init(&schema_sb_subscription, s);
		s->name = xstrdup(names[i]);
		g = name_index_find(&given, names[i]);
		o = name_index_find(&kept, names[i]);
		if (g && g->token)
			s->token = xstrdup(g->token);
		else if (o && o->token)
			s->token = xstrdup(o->token);
		else {
			char tok[25];

			if (password_random(tok, err) < 0)
				goto out;
			s->token = xstrdup(tok);
			OPENSSL_cleanse(tok, sizeof(tok));
		}
	}
	ret = 0;
out:
	name_index_release(&given);
	name_index_release(&kept);
	for (size_t i = 0; i < sb->nsubscriptions; i++)
		schema_release(&schema_sb_subscription, &sb->subscriptions[i]);
	free(sb->subscriptions);
	sb->subscriptions = subs;
	sb->nsubscriptions = k;
	free(names);
	return ret;
}

static int complete_singbox(struct atlas_state *st, const struct atlas_state *old,
			    struct diags *d, struct atlas_err *err)
{
	struct sb_section *sb = &st->singbox;
	const struct sb_section *osb = old && old->has_singbox ? &old->singbox : NULL;

	if (!sb->api_secret && osb && osb->api_secret)
		sb->api_secret = xstrdup(osb->api_secret);
	if (!sb->api_secret) {
		char pw[25];

		if (password_random(pw, err) < 0)
			return -1;
		sb->api_secret = xstrdup(pw);
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	for (size_t i = 0; i < sb->ninbounds; i++) {
		struct sb_inbound *in = &sb->inbounds[i];

		if (in->name &&
		    complete_sb_inbound(st, in, old ? state_sb_inbound(old, in->name) : NULL, d,
					err) < 0)
			return -1;
	}
	return complete_subscriptions(sb, osb, err);
}

int state_complete(struct atlas_state *st, const struct atlas_state *old, struct diags *d,
		   struct atlas_err *err)
{
	if (st->has_wireguard && complete_wireguard(st, old, d, err) < 0)
		return -1;
	if (st->has_singbox && complete_singbox(st, old, d, err) < 0)
		return -1;
	return 0;
}

int state_sb_rotate_token(struct atlas_state *st, const char *user, struct atlas_err *err)
{
	struct sb_subscription *s = state_sb_subscription(st, user);
	int known = 0;
	char tok[25];

	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		known |= state_sb_user(&st->singbox.inbounds[i], user) != NULL;
	if (!known)
		return err_set(err, ERR_NOTFOUND, "no singbox inbound has a user \"%s\"", user);
	if (password_random(tok, err) < 0)
		return -1;
	if (!s) {
		struct sb_section *sb = &st->singbox;

		sb->subscriptions =
			xrealloc(sb->subscriptions, (sb->nsubscriptions + 1) * sizeof(*sb->subscriptions));
		s = &sb->subscriptions[sb->nsubscriptions++];
		schema_init(&schema_sb_subscription, s);
		s->name = xstrdup(user);
	}
	str_drop(&s->token);
	s->token = xstrdup(tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return 0;
}
