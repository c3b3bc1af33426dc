/*
 * adopt_wg.c - the server file reader of `atlas adopt wireguard`, the merge
 * with the live interface and the client files. Pure. The line reader, the
 * value checks and the names of comments are wgquick.c's.
 *
 * The format is wg-quick's: "[Section]" headers, "Key = Value" lines, "#"
 * starting a comment anywhere on a line. Keys are matched without regard to
 * case, as wg(8) does. Peer names come from the comments people and tools
 * write around a [Peer] section:
 *
 *   # Name = alice, # Name: alice, # friendly_name = alice  (wireguard-ui, hand-made)
 *   ### Client alice                                          (angristan's wireguard-install)
 *   # BEGIN_PEER alice                                        (Nyr's wireguard-install)
 *   ### begin alice ###                                       (PiVPN)
 *   # Client: alice (id)                                      (wg-easy exports)
 *   # alice                                                   (a plain comment above [Peer])
 *
 * then from the client file's name (--clients), else from the peer's first
 * address ("10.8.0.2/32" -> "peer-10.8.0.2").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lib/ipaddr.h"
#include "state/adopt_wg.h"
#include "state/schema.h"
#include "state/wgquick.h"
#include "state/keys.h"
#include "state/validate.h"

/* ---- the server file ---- */

struct unmanaged {
	const char *key;
	const char *instead;
};

static const struct unmanaged iface_unmanaged[] = {
	{ "PreUp", "Atlas runs no hooks; it brings the interface up itself" },
	{ "PostUp", "Atlas runs no hooks: it loads its own nftables NAT table (inet "
		    "atlas_wireguard) and switches on forwarding" },
	{ "PreDown", "Atlas runs no hooks" },
	{ "PostDown", "Atlas runs no hooks; it removes its own NAT table when the interface goes" },
	{ "Table", "Atlas adds no routing table entries; peers' addresses lie inside the "
		   "interface network" },
	{ "FwMark", "Atlas sets no firewall mark on the interface (the live mark is left as it is)" },
	{ "SaveConfig", "the desired state is the source of truth; Atlas writes its own copy in "
			"DATADIR/wireguard" },
	{ "DNS", "this is the server's own resolver for wg-quick; Atlas does not change the "
		 "server's resolver (clients' DNS comes from their files)" },
	{ NULL, NULL },
};

struct pending {
	char name[NAME_MAX_LEN + 1];
	int strong, line;
	char raw[128]; /* the name as the comment writes it */
};

/* A peer named p->name from the comment p: a note when the comment wrote it otherwise. */
static void pend_named(const struct pending *p, struct diags *notes)
{
	if (strcmp(p->raw, p->name))
		diags_add_at(notes, p->line, 1, NULL, "peer \"%s\" is named \"%s\" in Atlas",
			     p->raw, p->name);
}

static void pend_comment(struct pending *p, const struct wgq_line *l, int inside_peer)
{
	char name[NAME_MAX_LEN + 1], raw[128];
	int strong = 0;

	if (!l->comment ||
	    !wgq_comment_name(l->comment, name, sizeof(name), &strong, raw, sizeof(raw)))
		return;
	/* Inside a peer only the keyed forms count: a plain comment there is a remark. */
	if (inside_peer && !strong)
		return;
	if (p->strong && !strong)
		return;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->raw, sizeof(p->raw), "%s", raw);
	p->strong = strong;
	p->line = l->no;
}

static void peer_push(struct adopt_wg *a, int line)
{
	size_t n = a->ifc.npeers;

	a->ifc.peers = xrealloc(a->ifc.peers, (n + 1) * sizeof(*a->ifc.peers));
	a->peer_line = xrealloc(a->peer_line, (n + 1) * sizeof(*a->peer_line));
	a->name_from = xrealloc(a->name_from, (n + 1) * sizeof(*a->name_from));
	a->allowed_line = xrealloc(a->allowed_line, (n + 1) * sizeof(*a->allowed_line));
	/* the schema's defaults (quota_reset_day 1...): the export of the adoption imports again */
	schema_init(&schema_wg_peer, &a->ifc.peers[n]);
	a->peer_line[n] = line;
	a->name_from[n] = ADOPT_NAME_COMMENT;
	a->allowed_line[n] = 0;
	a->ifc.npeers = n + 1;
}

/* "10.8.0.2/32" -> "peer-10.8.0.2"; "fd00::2/128" -> "peer-fd00-2". */
static void name_from_address(const struct wg_peer *p, char *out, size_t len)
{
	char raw[80];

	snprintf(raw, sizeof(raw), "peer-%s", p->address.n ? p->address.v[0] : "unnamed");
	raw[strcspn(raw, "/")] = '\0';
	adopt_name_clean(raw, out, len);
}

static void iface_key(struct adopt_wg *a, struct wgq_line *l, int *seen_addr, struct diags *errs,
		      struct diags *notes)
{
	struct wg_iface *ifc = &a->ifc;

	if (wgq_key_is(l, "PrivateKey")) {
		wgq_val_wgkey(l, &ifc->private_key, errs);
	} else if (wgq_key_is(l, "ListenPort")) {
		if (wgq_val_int(l, 1, 65535, &ifc->listen_port, errs) == 0)
			a->has_port = 1;
		a->port_line = l->no;
	} else if (wgq_key_is(l, "Address")) {
		wgq_val_prefixes(l, 0, &ifc->address, errs);
		if (!*seen_addr)
			a->addr_line = l->no;
		*seen_addr = 1;
	} else if (wgq_key_is(l, "MTU")) {
		wgq_val_int(l, 576, 9000, &ifc->mtu, errs);
	} else {
		for (const struct unmanaged *u = iface_unmanaged; u->key; u++)
			if (wgq_key_is(l, u->key)) {
				diags_add_at(notes, l->no, l->keycol, NULL,
					     "%s = %.*s is not carried over: %s", u->key,
					     (int)(l->vallen > 80 ? 80 : l->vallen), l->val,
					     u->instead);
				return;
			}
		diags_add_at(errs, l->no, l->keycol, NULL,
			     "unknown key \"%.*s\" in [Interface] (wg-quick knows PrivateKey, "
			     "ListenPort, FwMark, Address, DNS, MTU, Table, PreUp, PostUp, PreDown, "
			     "PostDown, SaveConfig)",
			     (int)l->keylen, l->key);
	}
}

static void peer_key(struct adopt_wg *a, struct wgq_line *l, struct diags *errs,
		     struct diags *notes)
{
	struct wg_peer *p = &a->ifc.peers[a->ifc.npeers - 1];

	if (wgq_key_is(l, "PublicKey")) {
		wgq_val_wgkey(l, &p->public_key, errs);
	} else if (wgq_key_is(l, "PresharedKey")) {
		wgq_val_wgkey(l, &p->preshared_key, errs);
	} else if (wgq_key_is(l, "AllowedIPs")) {
		/* a value refused is told there; an empty one is no AllowedIPs */
		if (wgq_val_prefixes(l, 1, &p->address, errs) < 0)
			a->allowed_line[a->ifc.npeers - 1] = l->no;
	} else if (wgq_key_is(l, "PersistentKeepalive")) {
		if (l->vallen == 3 && !strncasecmp(l->val, "off", 3))
			p->keepalive = 0;
		else
			wgq_val_int(l, 0, 65535, &p->keepalive, errs);
	} else if (wgq_key_is(l, "Endpoint")) {
		diags_add_at(notes, l->no, l->keycol, NULL,
			     "Endpoint = %.*s is not carried over: Atlas peers are clients that "
			     "connect to the server; the live endpoint stays until they roam",
			     (int)(l->vallen > 80 ? 80 : l->vallen), l->val);
	} else {
		diags_add_at(errs, l->no, l->keycol, NULL,
			     "unknown key \"%.*s\" in [Peer] (wg-quick knows PublicKey, "
			     "PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive)",
			     (int)l->keylen, l->key);
	}
}

/* Names, duplicates, truncated peers: the checks once the whole file is read. */
static void finish(struct adopt_wg *a, struct diags *errs, struct diags *notes)
{
	struct wg_iface *ifc = &a->ifc;

	if (!a->iface_line)
		diags_add_at(errs, 1, 1, NULL, "no [Interface] section");
	else if (!ifc->address.n)
		diags_add_at(errs, a->iface_line, 1, NULL,
			     "[Interface] has no Address: Atlas needs the server's tunnel address");
	for (size_t i = 0; i < ifc->npeers; i++) {
		struct wg_peer *p = &ifc->peers[i];

		if (!KEY_HAS(&p->public_key))
			diags_add_at(errs, a->peer_line[i], 1, NULL,
				     "[Peer] has no PublicKey (truncated file?)");
		/* an AllowedIPs whose value was refused is told at its line only */
		if (!p->address.n && !a->allowed_line[i])
			diags_add_at(errs, a->peer_line[i], 1, NULL,
				     "[Peer] has no AllowedIPs: Atlas needs the peer's tunnel address");
		if (!KEY_HAS(&p->preshared_key))
			key_from_text(&p->preshared_key, ADOPT_WG_NO_PSK);
		if (!p->name) {
			char name[NAME_MAX_LEN + 1];

			name_from_address(p, name, sizeof(name));
			p->name = xstrdup(name);
			a->name_from[i] = ADOPT_NAME_ADDRESS;
		}
		for (size_t j = 0; j < i; j++) {
			const struct wg_peer *q = &ifc->peers[j];

			if (a->name_from[i] == ADOPT_NAME_COMMENT && !strcmp(p->name, q->name))
				diags_add_at(errs, a->peer_line[i], 1, NULL,
					     "peer name \"%s\" is used twice (also the peer at line %d)",
					     p->name, a->peer_line[j]);
			if (KEY_HAS(&p->public_key) && key_same(&p->public_key, &q->public_key)) {
				char pub[KEY_B64];

				key_text(&p->public_key, pub);
				diags_add_at(errs, a->peer_line[i], 1, NULL,
					     "PublicKey %s is used twice (also the peer at line %d)",
					     pub, a->peer_line[j]);
			}
		}
	}
	(void)notes;
}

int adopt_wg_parse(const char *text, size_t len, const char *ifname, struct adopt_wg *a,
		   struct diags *errs, struct diags *notes)
{
	enum { NONE, IFACE, PEER, SKIP } sec = NONE;
	struct pending pend = { "", 0, 0, "" };
	size_t before = errs->n;
	struct wgq_reader r;
	struct wgq_line l;
	int seen_addr = 0, peer_keys = 0;

	memset(a, 0, sizeof(*a));
	a->ifc.name = xstrdup(ifname);
	wgq_reader_init(&r, text, len);
	if (memchr(text, '\0', len))
		diags_add_at(errs, 1, 1, NULL, "the file holds a NUL byte: not a text file");
	while (wgq_reader_next(&r, &l)) {
		const char *h;

		if (wgq_line_parse(&l, errs) < 0)
			continue;
		if (!l.key && l.text[strspn(l.text, " \t")] == '[') {
			h = wgq_header(&l, errs);
			if (!h) {
				sec = SKIP; /* told at the header: its keys are not told again */
				continue;
			}
			if (!strcasecmp(h, "Interface")) {
				if (a->iface_line)
					diags_add_at(errs, l.no, 1, NULL,
						     "a second [Interface] section (the first is at line %d)",
						     a->iface_line);
				else
					a->iface_line = l.no;
				sec = IFACE;
			} else if (!strcasecmp(h, "Peer")) {
				peer_push(a, l.no);
				if (pend.name[0]) {
					a->ifc.peers[a->ifc.npeers - 1].name = xstrdup(pend.name);
					pend_named(&pend, notes);
					pend.line = 0;
				}
				sec = PEER;
				peer_keys = 0;
			} else {
				diags_add_at(errs, l.no, 2, NULL,
					     "unknown section [%s] (wg-quick knows [Interface] and [Peer])",
					     h);
				sec = SKIP;
			}
			memset(&pend, 0, sizeof(pend));
			continue;
		}
		if (!l.key) {
			if (!l.comment)
				continue;	/* a blank line keeps the comment block above */
			if (sec == PEER && !peer_keys) {
				struct wg_peer *p = &a->ifc.peers[a->ifc.npeers - 1];
				struct pending in = { "", 0, 0, "" };

				/* wireguard-ui writes its "# Name:" lines after [Peer] too. */
				pend_comment(&in, &l, 1);
				if (in.name[0] && in.strong && a->name_from[a->ifc.npeers - 1] ==
								  ADOPT_NAME_COMMENT) {
					free(p->name);
					p->name = xstrdup(in.name);
					pend_named(&in, notes);
					continue;
				}
			}
			pend_comment(&pend, &l, 0);
			continue;
		}
		memset(&pend, 0, sizeof(pend));
		if (sec == IFACE) {
			iface_key(a, &l, &seen_addr, errs, notes);
		} else if (sec == PEER) {
			peer_key(a, &l, errs, notes);
			peer_keys++;
		} else if (sec == NONE) {
			diags_add_at(errs, l.no, l.keycol, NULL,
				     "\"%.*s\" outside any section (before [Interface])",
				     (int)l.keylen, l.key);
		}
	}
	wgq_reader_release(&r);
	finish(a, errs, notes);
	if (errs->n > before) {
		adopt_wg_release(a);
		return -1;
	}
	return 0;
}

static void peer_release(struct wg_peer *p)
{
	free(p->name);
	strv_clear(&p->address);
	strv_clear(&p->allowed_ips);
	free(p->expires);
	free(p->note);
	key_wipe(&p->private_key);
	key_wipe(&p->preshared_key);
}

void adopt_wg_release(struct adopt_wg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ifc.npeers; i++)
		peer_release(&a->ifc.peers[i]);
	free(a->ifc.peers);
	free(a->ifc.name);
	strv_clear(&a->ifc.address);
	strv_clear(&a->ifc.dns);
	key_wipe(&a->ifc.private_key);
	free(a->peer_line);
	free(a->name_from);
	free(a->allowed_line);
	memset(a, 0, sizeof(*a));
}

/* ---- the live interface ---- */

static char *joined(const struct strv *v)
{
	return v->n ? strv_join(v, ", ") : xstrdup("(none)");
}

/* 1 when k is the key of text (a live interface's, base64). */
static int key_is(const struct wg_key *k, const char *text)
{
	struct wg_key t;
	int same = key_from_text(&t, text) == 0 && key_same(k, &t);

	key_wipe(&t);
	return same;
}

/* A live peer's preshared key, or the all-zero one of none (ADOPT_WG_NO_PSK). */
static void take_psk(struct wg_key *k, const char *live)
{
	key_from_text(k, live[0] ? live : ADOPT_WG_NO_PSK);
}

/*
 * The live list wins when it holds other entries than the file's (in any
 * order): noted at line, for the interface's Address (peer NULL) or a
 * peer's AllowedIPs, and copied over the file's.
 */
static void take_live(struct diags *notes, int line, const char *peer, struct strv *file,
		      const struct strv *live)
{
	struct strv a = STRV_INIT, b = STRV_INIT;
	int same;
	char *f, *t;

	strv_copy(&a, file);
	strv_copy(&b, live);
	strv_sort(&a);
	strv_sort(&b);
	same = strv_eq(&a, &b);
	strv_clear(&a);
	strv_clear(&b);
	if (same)
		return;
	f = joined(file);
	t = joined(live);
	if (peer)
		diags_add_at(notes, line, 1, NULL,
			     "peer \"%s\": AllowedIPs %s differ from the live %s: the live ones are "
			     "kept",
			     peer, f, t);
	else
		diags_add_at(notes, line, 1, NULL,
			     "Address %s differs from the live addresses %s: the live ones are kept",
			     f, t);
	free(f);
	free(t);
	strv_clear(file);
	strv_copy(file, live);
}

int adopt_wg_merge_live(struct adopt_wg *a, const struct adopt_wg_live *live,
			struct diags *errs, struct diags *notes)
{
	struct wg_iface *ifc = &a->ifc;
	char pub[KEY_B64];
	struct wg_key fpub;
	struct atlas_err e = { 0 };

	if (live->private_key[0]) {
		if (!KEY_HAS(&ifc->private_key)) {
			diags_add_at(notes, a->iface_line, 1, NULL,
				     "the file has no PrivateKey: the live interface's key is kept");
		} else if (!key_is(&ifc->private_key, live->private_key) &&
			   key_derive(&ifc->private_key, &fpub, &e) == 0) {
			char lpub[KEY_B64];

			key_text(&fpub, pub);
			if (key_public(live->private_key, lpub, &e) == 0 && strcmp(pub, lpub))
				diags_add_at(notes, a->iface_line, 1, NULL,
					     "PrivateKey differs from the live interface's: the live key "
					     "(public key %s) is kept",
					     lpub);
		}
		key_from_text(&ifc->private_key, live->private_key);
	}
	if (live->listen_port && live->listen_port != ifc->listen_port) {
		if (a->has_port)
			diags_add_at(notes, a->port_line, 1, NULL,
				     "ListenPort %d differs from the live port %d: %d is kept",
				     ifc->listen_port, live->listen_port, live->listen_port);
		else
			diags_add_at(notes, a->iface_line, 1, NULL,
				     "no ListenPort in the file: the live port %d is kept",
				     live->listen_port);
		ifc->listen_port = live->listen_port;
	}
	if (live->addresses.n)
		take_live(notes, a->addr_line ? a->addr_line : a->iface_line, NULL, &ifc->address,
			  &live->addresses);
	for (size_t i = 0; i < live->npeers; i++) {
		const struct adopt_wg_live_peer *lp = &live->peers[i];
		struct wg_peer *p = NULL;
		size_t k;

		for (k = 0; k < ifc->npeers; k++)
			if (key_is(&ifc->peers[k].public_key, lp->public_key)) {
				p = &ifc->peers[k];
				break;
			}
		if (!p) {
			char name[NAME_MAX_LEN + 1];

			if (!lp->allowed_ips.n) {
				diags_add_at(errs, a->iface_line, 1, NULL,
					     "live peer %s has no allowed IPs: Atlas cannot give it a "
					     "tunnel address; remove it or save it in the file",
					     lp->public_key);
				return -1;
			}
			peer_push(a, 0);
			p = &ifc->peers[ifc->npeers - 1];
			key_from_text(&p->public_key, lp->public_key);
			strv_copy(&p->address, &lp->allowed_ips);
			name_from_address(p, name, sizeof(name));
			p->name = xstrdup(name);
			a->name_from[ifc->npeers - 1] = ADOPT_NAME_ADDRESS;
			take_psk(&p->preshared_key, lp->preshared_key);
			p->keepalive = lp->keepalive;
			diags_add_at(notes, a->iface_line, 1, NULL,
				     "peer %s is on the live interface but not in the file (a `wg set` "
				     "not saved): adopted as \"%s\"",
				     lp->public_key, p->name);
			continue;
		}
		take_live(notes, a->peer_line[k], p->name, &p->address, &lp->allowed_ips);
		if (key_psk_on(&p->preshared_key) != (lp->preshared_key[0] != 0) ||
		    (lp->preshared_key[0] && !key_is(&p->preshared_key, lp->preshared_key))) {
			diags_add_at(notes, a->peer_line[k], 1, NULL,
				     "peer \"%s\": PresharedKey differs from the live one: the live "
				     "one is kept",
				     p->name);
			take_psk(&p->preshared_key, lp->preshared_key);
		}
		if (p->keepalive != lp->keepalive) {
			diags_add_at(notes, a->peer_line[k], 1, NULL,
				     "peer \"%s\": PersistentKeepalive %d differs from the live %d: "
				     "the live one is kept",
				     p->name, p->keepalive, lp->keepalive);
			p->keepalive = lp->keepalive;
		}
	}
	for (size_t k = 0; k < ifc->npeers; k++) {
		size_t i;

		for (i = 0; i < live->npeers; i++)
			if (key_is(&ifc->peers[k].public_key, live->peers[i].public_key))
				break;
		if (i == live->npeers)
			diags_add_at(notes, a->peer_line[k], 1, NULL,
				     "peer \"%s\" is in the file but not on the live interface: the "
				     "first apply adds it",
				     ifc->peers[k].name);
	}
	return 0;
}

/* ---- client files ---- */

int adopt_wg_client_parse(const char *text, size_t len, struct adopt_wg_client *c,
			  struct diags *errs)
{
	enum { NONE, IFACE, PEER, SKIP } sec = NONE;
	size_t before = errs->n;
	int npeers = 0, niface = 0;
	struct wgq_reader r;
	struct wgq_line l;

	memset(c, 0, sizeof(*c));
	wgq_reader_init(&r, text, len);
	while (wgq_reader_next(&r, &l)) {
		if (wgq_line_parse(&l, errs) < 0)
			continue;
		if (!l.key) {
			const char *h;

			if (l.text[strspn(l.text, " \t")] != '[')
				continue;
			h = wgq_header(&l, errs);
			if (!h) {
				sec = SKIP; /* told at the header: its keys are not told again */
			} else if (!strcasecmp(h, "Interface")) {
				sec = IFACE;
				niface++;
			} else if (!strcasecmp(h, "Peer")) {
				sec = PEER;
				if (++npeers == 2)
					diags_add_at(errs, l.no, 1, NULL,
						     "a client file with more than one [Peer]");
			} else {
				diags_add_at(errs, l.no, 2, NULL, "unknown section [%s]", h);
				sec = SKIP;
			}
			continue;
		}
		if (sec == IFACE) {
			if (wgq_key_is(&l, "PrivateKey"))
				wgq_val_key(&l, c->private_key, errs);
			else if (wgq_key_is(&l, "Address"))
				wgq_val_prefixes(&l, 0, &c->address, errs);
			else if (wgq_key_is(&l, "DNS")) {
				char *v = wgq_val_dup(&l);

				strv_split(&c->dns, v, ',');
				for (size_t i = 0; i < c->dns.n; i++) {
					char *s = c->dns.v[i], *e;

					while (*s == ' ')
						memmove(s, s + 1, strlen(s));
					for (e = s + strlen(s); e > s && e[-1] == ' ';)
						*--e = '\0';
				}
				free(v);
			} else if (!wgq_key_is(&l, "MTU") && !wgq_key_is(&l, "ListenPort") &&
				   !wgq_key_is(&l, "Table") && !wgq_key_is(&l, "FwMark") &&
				   !wgq_key_is(&l, "PreUp") && !wgq_key_is(&l, "PostUp") &&
				   !wgq_key_is(&l, "PreDown") && !wgq_key_is(&l, "PostDown") &&
				   !wgq_key_is(&l, "SaveConfig"))
				diags_add_at(errs, l.no, l.keycol, NULL,
					     "unknown key \"%.*s\" in [Interface]", (int)l.keylen,
					     l.key);
		} else if (sec == PEER) {
			if (wgq_key_is(&l, "PublicKey"))
				wgq_val_key(&l, c->server_key, errs);
			else if (wgq_key_is(&l, "PresharedKey"))
				wgq_val_key(&l, c->preshared_key, errs);
			else if (wgq_key_is(&l, "AllowedIPs"))
				wgq_val_prefixes(&l, 0, &c->allowed_ips, errs);
			else if (wgq_key_is(&l, "Endpoint")) {
				free(c->endpoint);
				c->endpoint = wgq_val_dup(&l);
			} else if (wgq_key_is(&l, "PersistentKeepalive")) {
				if (!(l.vallen == 3 && !strncasecmp(l.val, "off", 3)))
					wgq_val_int(&l, 0, 65535, &c->keepalive, errs);
			} else {
				diags_add_at(errs, l.no, l.keycol, NULL, "unknown key \"%.*s\" in [Peer]",
					     (int)l.keylen, l.key);
			}
		} else if (sec == NONE) {
			diags_add_at(errs, l.no, l.keycol, NULL, "\"%.*s\" outside any section",
				     (int)l.keylen, l.key);
		}
	}
	wgq_reader_release(&r);
	if (errs->n == before && (!niface || !c->private_key[0]))
		diags_add_at(errs, 1, 1, NULL, "no [Interface] PrivateKey: not a client file");
	if (errs->n == before && !c->server_key[0])
		diags_add_at(errs, 1, 1, NULL, "no [Peer] PublicKey (truncated file?)");
	if (errs->n > before) {
		adopt_wg_client_release(c);
		return -1;
	}
	return 0;
}

void adopt_wg_client_release(struct adopt_wg_client *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->private_key, KEY_B64);
	OPENSSL_cleanse(c->preshared_key, KEY_B64);
	strv_clear(&c->address);
	strv_clear(&c->dns);
	strv_clear(&c->allowed_ips);
	free(c->endpoint);
	memset(c, 0, sizeof(*c));
}

/* The host of "host:port" or "[v6]:port" (new), or NULL. */
static char *endpoint_host(const char *ep)
{
	const char *colon;

	if (!ep)
		return NULL;
	if (ep[0] == '[') {
		const char *end = strchr(ep, ']');

		return end ? xstrndup(ep + 1, (size_t)(end - ep - 1)) : NULL;
	}
	colon = strrchr(ep, ':');
	return colon ? xstrndup(ep, (size_t)(colon - ep)) : xstrdup(ep);
}

int adopt_wg_attach_client(struct adopt_wg *a, const struct adopt_wg_client *c,
			   const char *stem, char **host, struct diags *notes,
			   struct atlas_err *err)
{
	struct wg_iface *ifc = &a->ifc;
	char pub[KEY_B64], name[NAME_MAX_LEN + 1];
	struct wg_key skey;
	struct wg_peer *p = NULL;
	size_t k;

	if (key_public(c->private_key, pub, err) < 0)
		return -1;
	for (k = 0; k < ifc->npeers; k++)
		if (key_is(&ifc->peers[k].public_key, pub)) {
			p = &ifc->peers[k];
			break;
		}
	if (!p) {
		diags_add_at(notes, 0, 0, NULL,
			     "client file \"%s\": its key (public key %s) is no peer of %s: ignored",
			     stem, pub, ifc->name);
		return 0;
	}
	if (KEY_HAS(&ifc->private_key) && key_derive(&ifc->private_key, &skey, err) == 0 &&
	    !key_is(&skey, c->server_key))
		diags_add_at(notes, a->peer_line[k], 1, NULL,
			     "client file \"%s\" of peer \"%s\" names another server key (%s); its "
			     "keys are kept, the config Atlas renders uses this server's key",
			     stem, p->name, c->server_key);
	key_from_text(&p->private_key, c->private_key);
	if (c->preshared_key[0] ? !key_is(&p->preshared_key, c->preshared_key)
				: key_psk_on(&p->preshared_key))
		diags_add_at(notes, a->peer_line[k], 1, NULL,
			     "client file \"%s\": its PresharedKey differs from the server's for peer "
			     "\"%s\": the server's is kept (that client cannot connect today)",
			     stem, p->name);
	strv_clear(&p->allowed_ips);
	strv_copy(&p->allowed_ips, &c->allowed_ips);
	if (c->keepalive != p->keepalive)
		diags_add_at(notes, a->peer_line[k], 1, NULL,
			     "client file \"%s\": PersistentKeepalive %d is not carried over: Atlas "
			     "uses one keepalive for both sides, the server's (%d)",
			     stem, c->keepalive, p->keepalive);
	if (a->name_from[k] == ADOPT_NAME_ADDRESS && adopt_name_clean(stem, name, sizeof(name))) {
		int taken = 0;

		for (size_t j = 0; j < ifc->npeers; j++)
			taken |= j != k && !strcmp(ifc->peers[j].name, name);
		if (!taken) {
			free(p->name);
			p->name = xstrdup(name);
			a->name_from[k] = ADOPT_NAME_CLIENT_FILE;
		}
	}
	for (size_t i = 0; i < c->dns.n; i++)
		if (!strv_contains(&ifc->dns, c->dns.v[i]))
			strv_push(&ifc->dns, c->dns.v[i]);
	if (host && !*host)
		*host = endpoint_host(c->endpoint);
	return 1;
}

int adopt_wg_check(const struct adopt_wg *a, struct diags *errs)
{
	const struct wg_iface *ifc = &a->ifc;
	size_t before = errs->n;

	for (size_t i = 0; i < ifc->npeers; i++) {
		const struct wg_peer *p = &ifc->peers[i];

		for (size_t k = 0; k < p->address.n; k++) {
			struct ipaddr ip, net;
			int inside = 0;

			if (ip_parse(p->address.v[k], &ip) < 0)
				continue;
			for (size_t j = 0; j < ifc->address.n; j++)
				if (ip_parse(ifc->address.v[j], &net) == 0 && ip_in_net(&net, &ip) &&
				    ip.prefix >= net.prefix)
					inside = 1;
			if (!inside)
				diags_add_at(errs, a->peer_line[i] ? a->peer_line[i] : a->iface_line, 1,
					     NULL,
					     "peer \"%s\": AllowedIPs %s lies outside the interface "
					     "networks: Atlas peers are clients with tunnel addresses, it "
					     "does not route other networks to a peer",
					     p->name, p->address.v[k]);
		}
	}
	return errs->n > before ? -1 : 0;
}
