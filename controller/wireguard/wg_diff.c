/*
 * wg_diff.c - the WireGuard plan, pure: desired interfaces and peers
 * against what observe() saw.
 *
 * Peers are matched as wireguard-tools' syncconf does: both sides sorted by
 * public key, one merge pass. A changed peer gets only the fields that
 * differ, with explicit clears (keepalive 0, PSK removed); an unchanged peer
 * gets nothing. A disabled or expired peer is absent from the interface, a
 * peer nobody asked for (added by hand) is removed, and nothing at all is
 * removed from an interface that could not be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/ipaddr.h"
#include "state/keys.h"
#include "renderers/wireguard/wg_render.h"
#include "state/active.h"
#include "controller/wireguard/wg.h"

void wg_act_free(void *p)
{
	struct wg_act *a = p;

	if (!a)
		return;
	if (a->own) {
		strv_clear(a->own);
		free(a->own);
	}
	free(a->text);
	free(a);
}

/* An action on iface, a name in the desired state (or NULL): not copied. */
static struct wg_act *act_new(enum wg_act_type type, const char *iface)
{
	struct wg_act *a = xcalloc(1, sizeof(*a));

	a->type = type;
	a->iface = iface;
	return a;
}

/* An action on an interface only observed: its name is kept (the observation is freed first). */
static struct wg_act *act_observed(enum wg_act_type type, const char *iface)
{
	size_t len = strlen(iface) + 1;
	struct wg_act *a = xcalloc(1, sizeof(*a) + len);

	a->type = type;
	memcpy(a->name, iface, len);
	a->iface = a->name;
	return a;
}

void wg_act_key(const struct wg_act *a, char out[KEY_B64])
{
	if (a->peer)
		key_text(&a->peer->public_key, out);
	else
		snprintf(out, KEY_B64, "%s", a->text ? a->text : "");
}

void wg_act_psk(const struct wg_act *a, char out[KEY_B64])
{
	if (a->peer && (a->set & WG_SET_PSK))
		key_text(&a->peer->preshared_key, out);
	else
		out[0] = '\0';
}

int wg_act_keepalive(const struct wg_act *a)
{
	return a->peer ? a->peer->keepalive : 0;
}

/* A desired peer with its server-side AllowedIPs normalised as wg prints them. */
struct dpeer {
	const struct wg_peer *p;
	const struct wg_obs_peer *op;	/* the device's peer of that key, when it is active there */
	char key[KEY_B64];	/* its public key as the device shows it (merged by text) */
	int active;
	const struct strv *allowed;	/* &own, or the peer's own list when already so */
	struct strv own;
};

static int dpeer_cmp(const void *a, const void *b)
{
	return wg_key_cmp(((const struct dpeer *)a)->key, ((const struct dpeer *)b)->key);
}

static void norm_list(const struct strv *in, int net, struct strv *out)
{
	char buf[64];

	for (size_t i = 0; i < in->n; i++)
		if (ip_normalize(in->v[i], net, buf, sizeof(buf)) == 0 &&
		    !strv_contains(out, buf))
			strv_push(out, buf);
	strv_sort(out);
}

/*
 * Sets d->allowed: the peer's addresses as norm_list() makes them. When every
 * one is valid, already normal and they are sorted without repeats, that is
 * the peer's own list, used as it is (no copy for each of 10,000 peers).
 */
static void dpeer_allowed(struct dpeer *d)
{
	const struct strv *in = &d->p->address;
	char buf[64];
	size_t i;

	for (i = 0; i < in->n; i++)
		if (ip_normalize(in->v[i], 1, buf, sizeof(buf)) < 0 || strcmp(buf, in->v[i]) ||
		    (i && strcmp(in->v[i - 1], in->v[i]) >= 0))
			break;
	if (i == in->n) {
		d->allowed = in;
		return;
	}
	norm_list(in, 1, &d->own);
	d->allowed = &d->own;
}

static char *joined(const struct strv *v)
{
	return v->n ? strv_join(v, ", ") : xstrdup("(none)");
}

/* A new create or update of d's peer: it points at the peer and takes d's normalised list. */
static struct wg_act *peer_act(enum wg_act_type type, const char *ifname, struct dpeer *d,
			       unsigned set)
{
	struct wg_act *a = act_new(type, ifname);

	a->peer = d->p;
	a->set = set;
	a->allowed = d->allowed;
	if (d->allowed == &d->own) {
		a->own = xmalloc(sizeof(*a->own));
		*a->own = d->own;
		memset(&d->own, 0, sizeof(d->own));
		a->allowed = d->allowed = a->own;
	}
	return a;
}

static void peer_create(struct plan *plan, const char *ifname, struct dpeer *d)
{
	char *res = xasprintf("%s/%s", ifname, d->p->name), *ips = joined(d->allowed);
	struct wg_act *a = peer_act(WG_PEER_CREATE, ifname, d,
				    WG_SET_ALLOWED |
					    (key_psk_on(&d->p->preshared_key) ? WG_SET_PSK : 0) |
					    (d->p->keepalive ? WG_SET_KEEPALIVE : 0));

	plan_add(plan, "wireguard", ACT_CREATE, res, a, wg_act_free, "+ wireguard/%s peer %s (%s)",
		 ifname, d->p->name, ips);
	free(ips);
	free(res);
}

static void peer_update(struct plan *plan, const char *ifname, struct dpeer *d,
			const struct wg_obs_peer *op)
{
	const struct wg_peer *p = d->p;
	struct buf what = BUF_INIT;
	unsigned set = 0;
	char *res, psk[KEY_B64];

	if (!strv_eq(d->allowed, &op->allowed_ips)) {
		char *from = joined(&op->allowed_ips), *to = joined(d->allowed);

		set |= WG_SET_ALLOWED;
		buf_printf(&what, "allowed ips %s -> %s", from, to);
		free(from);
		free(to);
	}
	/* An all-zero desired PSK is "none" (an adopted peer without one). */
	key_text(&p->preshared_key, psk);
	if (key_psk_on(&p->preshared_key) &&
	    (!op->preshared_key[0] || CRYPTO_memcmp(psk, op->preshared_key, KEY_B64))) {
		set |= WG_SET_PSK;
		buf_printf(&what, "%spreshared key %s", what.len ? "; " : "",
			   op->preshared_key[0] ? "changed" : "set");
	} else if (!key_psk_on(&p->preshared_key) && op->preshared_key[0]) {
		set |= WG_CLEAR_PSK;
		buf_printf(&what, "%spreshared key removed", what.len ? "; " : "");
	}
	if (p->keepalive != op->keepalive) {
		set |= WG_SET_KEEPALIVE;
		buf_printf(&what, "%skeepalive ", what.len ? "; " : "");
		buf_printf(&what, op->keepalive ? "%d" : "off", op->keepalive);
		buf_printf(&what, p->keepalive ? " -> %d" : " -> off", p->keepalive);
	}
	if (set) {
		res = xasprintf("%s/%s", ifname, p->name);
		plan_add(plan, "wireguard", ACT_UPDATE, res,
			 peer_act(WG_PEER_UPDATE, ifname, d, set), wg_act_free,
			 "~ wireguard/%s peer %s: %s", ifname, p->name, buf_str(&what));
		free(res);
	}
	OPENSSL_cleanse(psk, sizeof(psk));
	buf_release(&what);
}

/*
 * The name the record file gave the peer of key: its "# peer NAME" line
 * right above "[Peer]" and "PublicKey = KEY". 1 when found.
 */
static int recorded_name(const char *conf, const char *key, char *name, size_t len)
{
	char pat[KEY_B64 + 32];
	const char *k, *line, *end;

	snprintf(pat, sizeof(pat), "\n[Peer]\nPublicKey = %s\n", key);
	k = conf ? strstr(conf, pat) : NULL;
	if (!k)
		return 0;
	for (line = k; line > conf && line[-1] != '\n'; line--)
		;
	end = k;
	if (strncmp(line, "# peer ", 7) || (size_t)(end - line - 7) >= len)
		return 0;
	memcpy(name, line + 7, (size_t)(end - line - 7));
	name[end - line - 7] = '\0';
	return 1;
}

static void peer_remove(struct plan *plan, const char *ifname, const struct wg_obs_peer *op,
			const struct wg_peer *known, const char *conf, time_t now)
{
	struct wg_act *a = act_new(WG_PEER_REMOVE, ifname);
	char *res, name[NAME_MAX_LEN + 1];

	a->text = xstrdup(op->public_key);
	if (known) {
		res = xasprintf("%s/%s", ifname, known->name);
		if (known->suspended && !known->disabled)
			plan_add(plan, "wireguard", ACT_DELETE, res, a, wg_act_free,
				 "- wireguard/%s peer %s: %s", ifname, known->name, known->suspended);
		else
			plan_add(plan, "wireguard", ACT_DELETE, res, a, wg_act_free,
				 "- wireguard/%s peer %s (%s)", ifname, known->name,
				 known->disabled		 ? "disabled"
				 : wg_peer_active(known, now) ? ""
							      : "expired");
	} else if (recorded_name(conf, op->public_key, name, sizeof(name))) {
		/* Gone from the desired state; the record still knows its name. */
		res = xasprintf("%s/%s", ifname, name);
		plan_add(plan, "wireguard", ACT_DELETE, res, a, wg_act_free,
			 "- wireguard/%s peer %s (removed from the desired state)", ifname, name);
	} else {
		res = xasprintf("%s/%s", ifname, op->public_key);
		plan_add(plan, "wireguard", ACT_DELETE, res, a, wg_act_free,
			 "- wireguard/%s foreign peer %s (not in the desired state)", ifname,
			 op->public_key);
	}
	plan->v[plan->n - 1].drops = wg_handshake_live(op->handshake, now);
	free(res);
}

static int action_by_resource(const void *a, const void *b)
{
	return strcmp(((const struct action *)a)->resource, ((const struct action *)b)->resource);
}

/* The actions of plan from first on, by resource. */
static void sort_from(struct plan *plan, size_t first)
{
	if (plan->n - first > 1)
		qsort(&plan->v[first], plan->n - first, sizeof(*plan->v), action_by_resource);
}

/* The sort-merge of the desired peers of ifc with the observed ones. */
static void diff_peers(const struct driver_ctx *ctx, const struct wg_iface *ifc,
		       const struct wg_obs_iface *oi, struct plan *plan)
{
	struct dpeer *d = xcalloc(ifc->npeers + 1, sizeof(*d));
	size_t nd = 0, i = 0, j = 0, first;

	for (size_t k = 0; k < ifc->npeers; k++) {
		if (!KEY_HAS(&ifc->peers[k].public_key))
			continue;
		d[nd].p = &ifc->peers[k];
		key_text(&ifc->peers[k].public_key, d[nd].key);
		d[nd].active = wg_peer_active(&ifc->peers[k], ctx->now);
		nd++;
	}
	qsort(d, nd, sizeof(*d), dpeer_cmp);
	for (size_t k = 0; k < nd; k++)
		dpeer_allowed(&d[k]);	/* after the sort: it may point into d[k] */
	/*
	 * Removals first (a freed address may go to another peer), in key
	 * order, then updates, then additions, each listed by peer name as the
	 * export lists them (the merge goes by key): sorted where they are
	 * added, no second list of 10,000 actions.
	 */
	while (i < nd || j < oi->npeers) {
		int c = i == nd ? 1 : j == oi->npeers ? -1
						      : wg_key_cmp(d[i].key, oi->peers[j].public_key);

		if (c > 0 || (c == 0 && !d[i].active))
			peer_remove(plan, ifc->name, &oi->peers[j], c ? NULL : d[i].p, oi->conf.data,
				    ctx->now);
		else if (c == 0)
			d[i].op = &oi->peers[j];
		i += c <= 0;
		j += c >= 0;
	}
	first = plan->n;
	for (size_t k = 0; k < nd; k++)
		if (d[k].op)
			peer_update(plan, ifc->name, &d[k], d[k].op);
	sort_from(plan, first);
	first = plan->n;
	for (size_t k = 0; k < nd; k++)
		if (d[k].active && !d[k].op)
			peer_create(plan, ifc->name, &d[k]);
	sort_from(plan, first);
	for (size_t k = 0; k < nd; k++)
		strv_clear(&d[k].own);
	free(d);
}

static void diff_addresses(const struct wg_iface *ifc, const struct wg_obs_iface *oi,
			   struct plan *plan)
{
	struct strv want = STRV_INIT;
	size_t i = 0, j = 0;

	norm_list(&ifc->address, 0, &want);
	while (i < want.n || j < oi->addresses.n) {
		int c = i == want.n ? 1 : j == oi->addresses.n ? -1
							       : strcmp(want.v[i], oi->addresses.v[j]);
		struct wg_act *a;

		if (c == 0) {
			i++, j++;
			continue;
		}
		a = act_new(c < 0 ? WG_IF_ADDR_ADD : WG_IF_ADDR_DEL, ifc->name);
		a->text = xstrdup(c < 0 ? want.v[i++] : oi->addresses.v[j++]);
		plan_add(plan, "wireguard", c < 0 ? ACT_CREATE : ACT_DELETE, ifc->name, a,
			 wg_act_free, "%c wireguard/%s address %s", c < 0 ? '+' : '-', ifc->name,
			 a->text);
	}
	strv_clear(&want);
}

static void diff_iface_live(const struct driver_ctx *ctx, const struct wg_iface *ifc,
			    const struct wg_obs_iface *oi, struct plan *plan);

/* The part of a record compared so far (record_differs). */
struct record_cmp {
	const struct buf *file;
	size_t at;
};

static int record_cmp_put(void *cls, const char *data, size_t len)
{
	struct record_cmp *c = cls;

	if (len > c->file->len - c->at || memcmp(c->file->data + c->at, data, len))
		return -1;
	c->at += len;
	return 0;
}

/*
 * 1 when the record's bytes (file) are not what ifc renders to: compared
 * a piece of the render at a time, so the render (1.3 MB at 10,000 peers)
 * is never held whole, and it stops at the first piece that differs.
 */
static int record_differs(const struct wg_iface *ifc, time_t now, const struct buf *file)
{
	struct record_cmp c = { .file = file };
	struct buf piece = BUF_INIT;
	int differs = render_wg_server_to(ifc, now, &piece, record_cmp_put, &c) < 0 ||
		      c.at != file->len;

	buf_release_secure(&piece);
	return differs;
}

/* One desired, enabled interface. Returns 0, or 1 when it could not be read. */
static int diff_iface(const struct driver_ctx *ctx, const struct wg_obs *o,
		      const struct wg_iface *ifc, const struct wg_obs_iface *oi, struct plan *plan)
{
	size_t first = plan->n;
	int stale;

	/* A link of that name that wg cannot read (not WireGuard?): hands off, not even the record. */
	if (oi->exists && !oi->readable)
		return 1;
	/* No record: stale without rendering it (10,000 peers are 1.3 MB of text). */
	stale = !oi->recorded || record_differs(ifc, ctx->now, &oi->conf);
	diff_iface_live(ctx, ifc, oi, plan);
	/*
	 * The record is an implementation step: apply() rewrites it before the
	 * first action on the interface (the record first: an interface Atlas
	 * creates is known as its own from then on). Only a record that differs
	 * while the interface itself is as desired gets a line of its own.
	 */
	if (stale && plan->n == first)
		plan_add(plan, "wireguard", ACT_WRITE, ifc->name, act_new(WG_CONF_WRITE, ifc->name),
			 wg_act_free, "%c wireguard/%s record %s.conf (%s)", oi->recorded ? '~' : '+',
			 ifc->name, ifc->name, oi->recorded ? "out of date" : "missing");
	(void)o;
	return 0;
}

/* The live side of one desired interface: link, key, port, addresses, MTU, peers. */
static void diff_iface_live(const struct driver_ctx *ctx, const struct wg_iface *ifc,
			    const struct wg_obs_iface *oi, struct plan *plan)
{
	struct wg_act *a;
	char pub[KEY_B64];

	if (!oi->exists) {
		char *addrs = joined(&ifc->address);

		a = act_new(WG_IF_CREATE, ifc->name);
		a->port = ifc->listen_port;
		plan_add(plan, "wireguard", ACT_START, ifc->name, a, wg_act_free,
			 "+ wireguard/%s interface (listen port %d, address %s)", ifc->name,
			 ifc->listen_port, addrs);
		free(addrs);
		diff_peers(ctx, ifc, oi, plan);
		return;
	}
	key_text(&ifc->public_key, pub);
	if (strcmp(pub, oi->public_key)) {
		plan_add(plan, "wireguard", ACT_UPDATE, ifc->name, act_new(WG_IF_KEY, ifc->name),
			 wg_act_free, "~ wireguard/%s private key (public key %s -> %s)", ifc->name,
			 oi->public_key, pub);
		plan->v[plan->n - 1].drops = (int)oi->npeers;
	}
	if (ifc->listen_port != oi->listen_port) {
		a = act_new(WG_IF_PORT, ifc->name);
		a->port = ifc->listen_port;
		plan_add(plan, "wireguard", ACT_UPDATE, ifc->name, a, wg_act_free,
			 "~ wireguard/%s listen port %d -> %d", ifc->name, oi->listen_port,
			 ifc->listen_port);
	}
	diff_addresses(ifc, oi, plan);
	if (ifc->mtu && ifc->mtu != oi->mtu) {
		a = act_new(WG_IF_MTU, ifc->name);
		a->port = ifc->mtu;
		plan_add(plan, "wireguard", ACT_UPDATE, ifc->name, a, wg_act_free,
			 "~ wireguard/%s mtu %d -> %d", ifc->name, oi->mtu, ifc->mtu);
	}
	if (!oi->up)
		plan_add(plan, "wireguard", ACT_START, ifc->name, act_new(WG_IF_UP, ifc->name),
			 wg_act_free, "+ wireguard/%s link up", ifc->name);
	diff_peers(ctx, ifc, oi, plan);
}

/* An interface Atlas made that is no longer wanted (removed, disabled, engine off). */
static void diff_gone(const struct wg_obs_iface *oi, const struct wg_obs *o, struct plan *plan)
{
	if (!oi->recorded)
		return;	/* not Atlas's: never touched */
	if (oi->exists) {
		plan_add(plan, "wireguard", ACT_STOP, oi->name, act_observed(WG_IF_DELETE, oi->name),
			 wg_act_free, "- wireguard/%s interface (%zu peer%s) and %s/%s.conf",
			 oi->name, oi->npeers, oi->npeers == 1 ? "" : "s", o->confdir, oi->name);
		plan->v[plan->n - 1].drops = (int)oi->npeers;
	} else {
		plan_add(plan, "wireguard", ACT_DELETE, oi->name,
			 act_observed(WG_CONF_FORGET, oi->name), wg_act_free,
			 "- wireguard/%s remove %s/%s.conf", oi->name, o->confdir, oi->name);
	}
}

/* The data of a NAT action planned by nat_plan(): a wg_act of the matching type. */
static void *nat_act(enum nat_kind kind, int family, char *script)
{
	struct wg_act *a = act_new(kind == NAT_FORWARD ? WG_FORWARD
				   : kind == NAT_REPLACE ? WG_NAT_REPLACE : WG_NAT_DELETE, NULL);

	a->port = family;
	a->text = script;
	return a;
}

static void diff_nat(const struct atlas_state *st, const struct wg_obs *o, struct plan *plan,
		     struct buf *notes, int *incomplete)
{
	struct nat_net *nets = NULL;
	struct strv pfx = STRV_INIT;
	size_t n = 0;
	struct nat_want w = { .engine = "wireguard",
			      .table = WG_NAT_TABLE,
			      .egress = st->settings.egress_interface,
			      .act_new = nat_act,
			      .act_free = wg_act_free };
	struct nat_sys sys = { o->forward4, o->forward6, o->egress4, o->egress6 };

	for (size_t i = 0; st->has_wireguard && st->wireguard.enabled && i < st->wireguard.ninterfaces;
	     i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];
		struct strv nv = STRV_INIT;

		if (ifc->disabled)
			continue;
		norm_list(&ifc->address, 1, &nv);
		for (size_t k = 0; k < nv.n; k++) {
			nets = xrealloc(nets, (n + 1) * sizeof(*nets));
			strv_push(&pfx, nv.v[k]);
			nets[n].iface = ifc->name;
			nets[n].v6 = strchr(nv.v[k], ':') != NULL;
			n++;
		}
		strv_clear(&nv);
	}
	for (size_t k = 0; k < n; k++)
		nets[k].prefix = pfx.v[k];
	w.nets = nets;
	w.n = n;
	if (nat_plan(plan, &w, &sys, &o->nat, notes))
		*incomplete = 1;
	free(nets);
	strv_clear(&pfx);
}

int wg_diff(const struct driver_ctx *ctx, const struct atlas_state *desired, const void *obsv,
	    struct plan *plan, struct atlas_err *err)
{
	const struct wg_obs *o = obsv;
	struct buf notes = BUF_INIT;
	int incomplete = 0;

	(void)err;
	for (size_t i = 0; i < o->n; i++) {
		const struct wg_obs_iface *oi = &o->ifaces[i];
		const struct wg_iface *ifc =
			desired->has_wireguard && desired->wireguard.enabled
				? state_wg_iface(desired, oi->name)
				: NULL;

		if (ifc && ifc->disabled)
			ifc = NULL;
		if (!ifc) {
			diff_gone(oi, o, plan);
		} else if (diff_iface(ctx, o, ifc, oi, plan)) {
			buf_printf(&notes, "%sinterface %s: %s", notes.len ? "; " : "", oi->name,
				   oi->error ? oi->error : "cannot be read");
			incomplete = 1;
		}
	}
	diff_nat(desired, o, plan, &notes, &incomplete);
	if (incomplete)
		plan_engine(plan, "wireguard", ENGINE_INCOMPLETE, notes.data);
	buf_release(&notes);
	return 0;
}
