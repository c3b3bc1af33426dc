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
#include "state/complete.h"
#include "state/keys.h"
#include "state/schema.h"
#include "state/validate.h"
#include "state/yaml.h"

static int peer_name_cmp(const void *x, const void *y)
{
	return strcmp((*(const struct wg_peer *const *)x)->name,
		      (*(const struct wg_peer *const *)y)->name);
}

/* The merge of state_peer_edit: a sorted, bp the peers of b by name. */
static int peer_merge(const struct wg_iface *a, const struct wg_peer *const *bp, size_t nb,
		      const struct wg_peer **po, const struct wg_peer **pn)
{
	size_t i = 0, j = 0;

	while (i < a->npeers || j < nb) {
		int c = i == a->npeers ? 1 : j == nb ? -1 : strcmp(a->peers[i].name, bp[j]->name);

		if ((i + 1 < a->npeers && strcmp(a->peers[i].name, a->peers[i + 1].name) >= 0) ||
		    (j + 1 < nb && !strcmp(bp[j]->name, bp[j + 1]->name)))
			return 0; /* not sorted, or a name twice: no merge */
		if (c == 0 && state_tree_same(&schema_wg_peer, &a->peers[i], bp[j], NULL)) {
			i++;
			j++;
			continue;
		}
		if ((c <= 0 && *po) || (c >= 0 && *pn))
			return 0; /* a second peer differs */
		if (c <= 0)
			*po = &a->peers[i++];
		if (c >= 0)
			*pn = bp[j++];
	}
	return *po || *pn;
}

int state_peer_edit(const struct atlas_state *old, const struct atlas_state *next,
		    const char *ifname, const struct wg_peer **po, const struct wg_peer **pn)
{
	const struct wg_iface *a, *b;
	const struct wg_peer **bp;
	int ret = 0;

	*po = *pn = NULL;
	if (!old || !old->has_wireguard || !next->has_wireguard ||
	    !(a = state_wg_iface(old, ifname)) || !(b = state_wg_iface(next, ifname)))
		return 0;
	/* everything but a's peers the same, the interface's own fields included */
	if (!state_tree_same(&schema_root, old, next, &a->peers))
		return 0;
	/* next's peers in name order, next left as it is (its problems are told in its order) */
	bp = xcalloc(b->npeers + 1, sizeof(*bp));
	for (size_t j = 0; j < b->npeers; j++) {
		if (!b->peers[j].name)
			goto out;
		bp[j] = &b->peers[j];
	}
	state_sort_list(bp, b->npeers, sizeof(*bp), peer_name_cmp);
	ret = peer_merge(a, bp, b->npeers, po, pn);
out:
	free(bp);
	return ret;
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

/* The end of the block of lines from p on that start with ind spaces or more, or with pfx. */
static const char *block_end(const char *p, const char *end, int ind, const char *pfx)
{
	size_t lp = strlen(pfx);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int k = 0;

		while (p + k < end && p[k] == ' ' && k < ind)
			k++;
		if (k < ind && ((size_t)(end - p) < lp || memcmp(p, pfx, lp)))
			break;
		p = nl ? nl + 1 : end;
	}
	return p;
}

/* The first line at a line start in [p, end) equal to line (with its newline), or NULL. */
static const char *find_line(const char *p, const char *end, const char *line, size_t len)
{
	while (p && p + len <= end) {
		const char *hit = memmem(p, (size_t)(end - p), line, len);

		if (!hit || hit == p || hit[-1] == '\n')
			return hit;
		p = hit + 1;
	}
	return NULL;
}

/*
 * The text of the peers of interface ifc in yaml [y, end): *from set to
 * where the first peer's line starts, return: where the list ends. NULL
 * when there is no such block list.
 */
static const char *peers_of(const char *y, const char *end, const char *ifline, size_t iflen,
			    const char **from)
{
	static const char sect[] = "\nwireguard:\n", list[] = "    peers:\n";
	const char *w = memmem(y, (size_t)(end - y), sect, strlen(sect)), *wend, *i, *iend, *p;

	if (!w)
		return NULL;
	w += strlen(sect);
	wend = block_end(w, end, 1, "\x01");
	if (!(i = find_line(w, wend, ifline, iflen)))
		return NULL;
	iend = block_end(i + iflen, wend, 4, "\x01");
	if (!(p = find_line(i + iflen, iend, list, strlen(list))))
		return NULL;
	*from = p + strlen(list);
	return block_end(*from, iend, 6, "    - ");
}

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
	const char *from, *to, *il;
	int ret = -1;

	mini.has_openvpn = mini.has_singbox = 0;
	memset(&mini.openvpn, 0, sizeof(mini.openvpn));
	memset(&mini.singbox, 0, sizeof(mini.singbox));
	mini.wireguard.interfaces = &one;
	mini.wireguard.ninterfaces = 1;
	one.peers = (struct wg_peer *)p;
	one.npeers = 1;
	state_to_yaml(&mini, 1, &y);
	il = strstr(buf_str(&y), "\n  interfaces:\n  - ");
	if (il) {
		il += strlen("\n  interfaces:\n");
		ifline->len = 0;
		buf_add(ifline, il, (size_t)(strchr(il, '\n') + 1 - il));
		to = peers_of(y.data, y.data + y.len, ifline->data, ifline->len, &from);
		if (to && to > from) {
			buf_add(chunk, from, (size_t)(to - from));
			ret = 0;
		}
	}
	buf_release_secure(&y);
	return ret;
}

/* [a, b), then ins (may be NULL), then [c, d) */
static void splice_add(struct buf *out, const char *a, const char *b, const struct buf *ins,
		       const char *c, const char *d)
{
	buf_add(out, a, (size_t)(b - a));
	if (ins)
		buf_add(out, ins->data, ins->len);
	buf_add(out, c, (size_t)(d - c));
}

int state_yaml_peer_splice(const char *last, size_t len, const struct atlas_state *old,
			   const struct atlas_state *next, const char *ifname,
			   const struct wg_peer *po, const struct wg_peer *pn, struct buf *out)
{
	const struct wg_iface *a = state_wg_iface(old, ifname), *b = state_wg_iface(next, ifname);
	struct buf oc = BUF_INIT, nc = BUF_INIT, sc = BUF_INIT, ifl = BUF_INIT;
	const char *end = last + len, *from, *to, *cut = NULL, *at = NULL;
	int ret = -1;

	if (!a || !b || !a->npeers || !b->npeers)
		goto out; /* an empty list is written [] */
	if ((po && peer_lines(old, a, po, &oc, &ifl) < 0) ||
	    (pn && peer_lines(next, b, pn, &nc, &ifl) < 0) ||
	    !(to = peers_of(last, end, ifl.data, ifl.len, &from)))
		goto out;
	if (po) {
		cut = find_line(from, to, oc.data, (size_t)(strchr(oc.data, '\n') + 1 - oc.data));
		if (!cut || (size_t)(to - cut) < oc.len || memcmp(cut, oc.data, oc.len))
			goto out;
	}
	if (pn) {
		size_t k = (size_t)(pn - b->peers);

		at = to;
		if (k + 1 < b->npeers) {
			if (peer_lines(next, b, &b->peers[k + 1], &sc, &ifl) < 0)
				goto out;
			at = find_line(from, to, sc.data,
				       (size_t)(strchr(sc.data, '\n') + 1 - sc.data));
			if (!at || (cut && at > cut && at < cut + oc.len))
				goto out;
		}
	}
	/*
	 * The text with the old lines cut out and the new ones put in at their
	 * place, in a buffer of that size: grown by doubling, 2.8 MB of text at
	 * 10,000 peers took a 5.6 MB block, whose wipe touched every page.
	 */
	buf_grow(out, len - (cut ? oc.len : 0) + (at ? nc.len : 0));
	if (!cut) {
		splice_add(out, last, at, &nc, at, end);
	} else if (!at) {
		splice_add(out, last, cut, NULL, cut + oc.len, end);
	} else if (at <= cut) {
		splice_add(out, last, at, &nc, at, cut);
		buf_add(out, cut + oc.len, (size_t)(end - cut - oc.len));
	} else {
		splice_add(out, last, cut, NULL, cut + oc.len, at);
		splice_add(out, at, at, &nc, at, end);
	}
	ret = 0;
out:
	buf_release_secure(&oc);
	buf_release_secure(&nc);
	buf_release_secure(&sc);
	buf_release(&ifl);
	return ret;
}
