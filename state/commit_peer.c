/*
 * commit_peer.c - the commit of an edit that changes one WireGuard peer,
 * in time of that peer rather than of the whole state (issue 18):
 *
 * - the check: the rest of the state is the stored one (compared, not
 *   re-validated: it was valid when stored), so only the peer's own rules
 *   run, and its name, key and addresses are compared with the other peers
 *   of its interface. Any problem found sends the state through the full
 *   validation, so the messages are the very ones a full check words.
 * - the generation's YAML: the stored text of the generation before, with
 *   the peer's lines cut out and/or put in at their sorted place. The
 *   encoder's output for one peer does not depend on its neighbours, so
 *   the lines are those of a state holding that peer alone. When anything
 *   does not match what is expected, the whole state is encoded instead.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/ipaddr.h"
#include "state/changes.h"
#include "state/commit.h"
#include "state/commit_list.h"
#include "state/complete.h"
#include "state/keys.h"
#include "state/schema.h"
#include "state/validate.h"
#include "state/yaml.h"

int state_peer_edit(const struct atlas_state *old, const struct atlas_state *next,
		    const char *ifname, const struct wg_peer **po, const struct wg_peer **pn)
{
	const struct wg_iface *a, *b;
	const void *skip[] = { NULL, NULL }, *eo, *en;

	*po = *pn = NULL;
	if (!old || !old->has_wireguard || !next->has_wireguard ||
	    !(a = state_wg_iface(old, ifname)) || !(b = state_wg_iface(next, ifname)))
		return 0;
	/* everything but a's peers the same, the interface's own fields included */
	skip[0] = &a->peers;
	if (!state_tree_same(&schema_root, old, next, skip) ||
	    list_one_edit(&schema_wg_peer, a->peers, a->npeers, b->peers, b->npeers, &eo, &en) != 1)
		return 0;
	*po = eo;
	*pn = en;
	return 1;
}

/* 1 when another peer of ifc than p has p's name or public key, or an address overlapping p's. */
static int peer_conflicts(const struct wg_iface *ifc, const struct wg_peer *p)
{
	struct ipaddr *mine = xcalloc(p->address.n + 1, sizeof(*mine));
	size_t n = 0;
	int found = 0;

	for (size_t k = 0; k < p->address.n; k++)
		if (ip_parse(p->address.v[k], &mine[n]) == 0)
			n++;
	for (size_t i = 0; i < ifc->npeers && !found; i++) {
		const struct wg_peer *q = &ifc->peers[i];

		if (q == p)
			continue;
		found = !strcmp(q->name, p->name) ||
			(KEY_GIVEN(&p->public_key) && key_same(&q->public_key, &p->public_key));
		for (size_t a = 0; a < q->address.n && !found; a++) {
			struct ipaddr x;

			if (ip_parse(q->address.v[a], &x) < 0)
				continue;
			for (size_t k = 0; k < n && !found; k++)
				found = ip_overlap(&x, &mine[k]);
		}
	}
	free(mine);
	return found;
}

int state_check_edit(struct atlas_state *next, const struct atlas_state *old, const char *ifname,
		     const struct wg_peer **po, const struct wg_peer **pn, struct diags *d,
		     struct atlas_err *err)
{
	size_t before = d->n;
	struct diags scratch = { 0 };
	int fast = 0, done = 0, one;

	*po = *pn = NULL;
	/* a peer added: completed alone (the rest is old's, complete) */
	one = state_peer_edit(old, next, ifname, po, pn);
	if (one && !*po)
		done = state_complete_added_peer(state_wg_iface(next, ifname),
						 (struct wg_peer *)*pn, d, err);
	if (done < 0 || (!done && state_complete(next, old, d, err) < 0))
		return -1;
	if (!done)
		one = state_peer_edit(old, next, ifname, po, pn);
	if (d->n == before && one) {
		const struct wg_iface *b = state_wg_iface(next, ifname);

		fast = !*pn ||
		       (!state_validate_wg_peer(b, *pn, &scratch) && !peer_conflicts(b, *pn));
	}
	diags_clear(&scratch);
	if (!fast) {
		/* not one peer, or a problem: the full check words every message */
		*po = *pn = NULL;
		state_validate(next, d);
	}
	if (d->n > before)
		return err_set(err, ERR_INVALID, "%s", d->v[before].msg);
	/* sorted as state_check leaves it; the new peer found again at its place */
	if (*pn) {
		char *name = xstrdup((*pn)->name);

		state_sort(next);
		*pn = state_wg_peer(state_wg_iface(next, ifname), name);
		free(name);
		fast = *pn != NULL;
	} else {
		state_sort(next);
	}
	return fast;
}

/* ---- the YAML ---- */

static const char wg_sect[] = "\nwireguard:\n", wg_items[] = "\n  interfaces:\n",
		  wg_list[] = "    peers:\n";

/*
 * The YAML lines of peer p of interface ifc as st's encoding has them
 * (appended to chunk), and the interface's first line (to ifline).
 */
static int peer_lines(const struct atlas_state *st, const struct wg_iface *ifc,
		      const struct wg_peer *p, struct buf *chunk, struct buf *ifline)
{
	struct atlas_state mini = *st;
	struct wg_iface one = *ifc;
	struct buf y = BUF_INIT;
	int ret;

	mini.has_openvpn = mini.has_singbox = 0;
	memset(&mini.openvpn, 0, sizeof(mini.openvpn));
	memset(&mini.singbox, 0, sizeof(mini.singbox));
	mini.wireguard.interfaces = &one;
	mini.wireguard.ninterfaces = 1;
	one.peers = (struct wg_peer *)p;
	one.npeers = 1;
	state_to_yaml(&mini, 1, &y);
	ret = yaml_elem_lines(&y, wg_sect, wg_items, wg_list, chunk, ifline);
	buf_release_secure(&y);
	return ret;
}

int state_yaml_peer_splice(const char *last, size_t len, const struct atlas_state *old,
			   const struct atlas_state *next, const char *ifname,
			   const struct wg_peer *po, const struct wg_peer *pn, struct buf *out)
{
	const struct wg_iface *a = state_wg_iface(old, ifname), *b = state_wg_iface(next, ifname);
	struct buf oc = BUF_INIT, nc = BUF_INIT, sc = BUF_INIT, ifl = BUF_INIT;
	const char *from, *to;
	int ret = -1;

	if (!a || !b || !a->npeers || !b->npeers)
		goto out; /* an empty list is written [] */
	if ((po && peer_lines(old, a, po, &oc, &ifl) < 0) ||
	    (pn && peer_lines(next, b, pn, &nc, &ifl) < 0) ||
	    !(to = yaml_list_block(last, last + len, wg_sect, ifl.data, ifl.len, wg_list, &from)))
		goto out;
	/* the new lines go before those of the peer after pn */
	if (pn && (size_t)(pn - b->peers) + 1 < b->npeers &&
	    peer_lines(next, b, pn + 1, &sc, &ifl) < 0)
		goto out;
	ret = yaml_splice(last, last + len, from, to, po ? &oc : NULL, pn ? &nc : NULL,
			  sc.len ? &sc : NULL, out);
out:
	buf_release_secure(&oc);
	buf_release_secure(&nc);
	buf_release_secure(&sc);
	buf_release(&ifl);
	return ret;
}
