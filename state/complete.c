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

static int complete_iface_key(struct wg_iface *ifc, const struct wg_iface *old, struct diags *d,
			      struct atlas_err *err)
{
	char pub[KEY_B64];

	if (!ifc->private_key[0] && old && old->private_key[0])
		memcpy(ifc->private_key, old->private_key, KEY_B64);
	if (!ifc->private_key[0]) {
		if (ifc->public_key[0]) {
			diags_add(d, ifc->public_key, "public_key",
				  "wireguard interface \"%s\": public_key is given but its private_key "
				  "is not known: add private_key (atlas export --secrets) or remove "
				  "public_key to generate a new key",
				  ifc->name);
			return 0;
		}
		return key_generate(ifc->private_key, ifc->public_key, err);
	}
	if (!key_valid(ifc->private_key))
		return 0;	/* validation reports it */
	if (key_public(ifc->private_key, pub, err) < 0)
		return -1;
	if (ifc->public_key[0] && strcmp(pub, ifc->public_key))
		diags_add(d, ifc->public_key, "public_key",
			  "wireguard interface \"%s\": public_key \"%s\" does not match its private "
			  "key",
			  ifc->name, ifc->public_key);
	memcpy(ifc->public_key, pub, KEY_B64);
	return 0;
}

static int complete_peer_keys(struct wg_iface *ifc, struct wg_peer *p, const struct wg_peer *old,
			      struct diags *d, struct atlas_err *err)
{
	char pub[KEY_B64];

	if (p->private_key[0]) {
		if (!key_valid(p->private_key))
			return 0;
		/* The same key as stored: its public half is known (no X25519 needed). */
		if (old && old->public_key[0] &&
		    !CRYPTO_memcmp(old->private_key, p->private_key, KEY_B64))
			memcpy(pub, old->public_key, KEY_B64);
		else if (key_public(p->private_key, pub, err) < 0)
			return -1;
		if (p->public_key[0] && strcmp(p->public_key, pub))
			diags_add(d, p->public_key, "public_key",
				  "wireguard interface \"%s\": peer \"%s\": public_key \"%s\" does not "
				  "match its private key",
				  ifc->name, p->name, p->public_key);
		memcpy(p->public_key, pub, KEY_B64);
	} else if (p->public_key[0]) {
		/* The exported public key of a known peer: keep its private key. */
		if (old && old->private_key[0] && !strcmp(old->public_key, p->public_key))
			memcpy(p->private_key, old->private_key, KEY_B64);
	} else if (old && old->public_key[0]) {
		memcpy(p->public_key, old->public_key, KEY_B64);
		memcpy(p->private_key, old->private_key, KEY_B64);
	} else if (key_generate(p->private_key, p->public_key, err) < 0) {
		return -1;
	}
	if (!p->preshared_key[0]) {
		if (old && old->preshared_key[0] && !strcmp(old->public_key, p->public_key))
			memcpy(p->preshared_key, old->preshared_key, KEY_B64);
		else if (key_random(p->preshared_key, err) < 0)
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

/*
 * The lowest free host address of net at or after *cursor (v4: not the
 * network or broadcast address). Allocation goes upwards, so the cursor
 * never moves back and the whole allocation is O(n log n).
 */
static int alloc_addr(const struct addrset *used, const struct ipaddr *net,
		      struct ipaddr *cursor, struct ipaddr *out)
{
	struct ipaddr bcast = *net;
	int host = net->family == AF_INET ? 32 : 128;

	ip_network(net, &bcast);
	ip_add(&bcast, ip_size(net) - 1);
	for (;;) {
		if (!ip_in_net(net, cursor) || (net->family == AF_INET && ip_addr_eq(cursor, &bcast)))
			return -1;
		cursor->prefix = host;
		if (!addrset_find(used, cursor, ADDR_NO_SKIP)) {
			*out = *cursor;
			ip_add(cursor, 1);
			return 0;
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
		if (complete_iface_key(ifc, oifc, d, err) < 0)
			goto out;
		name_index_release(&old_peers);
		if (oifc)
			name_index_build(&old_peers, oifc->peers, oifc->npeers, sizeof(*oifc->peers));
		for (size_t j = 0; j < ifc->npeers; j++) {
			struct wg_peer *p = &ifc->peers[j];
			const struct wg_peer *op = name_index_find(&old_peers, p->name);

			if (!p->name)
				continue;
			if (complete_peer_keys(ifc, p, op, d, err) < 0)
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

static const struct sb_inbound *old_sb_inbound(const struct atlas_state *old, const char *name)
{
	for (size_t i = 0; old && old->has_singbox && i < old->singbox.ninbounds; i++)
		if (old->singbox.inbounds[i].name && !strcmp(old->singbox.inbounds[i].name, name))
			return &old->singbox.inbounds[i];
	return NULL;
}

static int complete_sb_user(struct sb_user *u, const struct sb_user *ou, struct atlas_err *err)
{
	if (!u->uuid && ou && ou->uuid)
		u->uuid = xstrdup(ou->uuid);
	if (!u->password && ou && ou->password)
		u->password = xstrdup(ou->password);
	if (!u->uuid) {
		char id[37];

		if (uuid_random(id, err) < 0)
			return -1;
		u->uuid = xstrdup(id);
	}
	if (!u->password) {
		char pw[25];

		if (password_random(pw, err) < 0)
			return -1;
		u->password = xstrdup(pw);
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	return 0;
}

static int complete_singbox(struct atlas_state *st, const struct atlas_state *old,
			    struct atlas_err *err)
{
	struct name_index old_users = { 0 };
	int ret = -1;

	for (size_t i = 0; i < st->singbox.ninbounds; i++) {
		struct sb_inbound *in = &st->singbox.inbounds[i];
		const struct sb_inbound *oin = in->name ? old_sb_inbound(old, in->name) : NULL;

		if (!in->name)
			continue;
		name_index_release(&old_users);
		if (oin)
			name_index_build(&old_users, oin->users, oin->nusers, sizeof(*oin->users));
		for (size_t j = 0; j < in->nusers; j++)
			if (complete_sb_user(&in->users[j],
					     name_index_find(&old_users, in->users[j].name), err) < 0)
				goto out;
	}
	ret = 0;
out:
	name_index_release(&old_users);
	return ret;
}

int state_complete(struct atlas_state *st, const struct atlas_state *old, struct diags *d,
		   struct atlas_err *err)
{
	if (st->has_wireguard && complete_wireguard(st, old, d, err) < 0)
		return -1;
	if (st->has_singbox && complete_singbox(st, old, err) < 0)
		return -1;
	return 0;
}
