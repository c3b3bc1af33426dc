/*
 * commit_sb.c - the commit of an edit that changes one sing-box user of one
 * inbound, in time of that user rather than of the whole state, as
 * commit_peer.c does for a WireGuard peer (the list work is commit_list.c's):
 *
 * - what may differ: that user, and that person's subscription when it
 *   comes with a new name or goes with the name's last inbound (a
 *   subscription is per person: complete.c makes one for each user name);
 * - the check: the rest of the state is the stored one (compared, not
 *   re-validated), so only the user's own rules run, and their name and
 *   secret are compared with the inbound's other users (a new
 *   subscription's token with the other tokens). Any problem sends the
 *   state through the full validation, whose messages are the ones told;
 * - the generation's YAML: the stored text with the user's lines, and the
 *   subscription's, cut out and/or put in at their sorted place.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state/changes.h"
#include "state/commit.h"
#include "state/commit_list.h"
#include "state/complete.h"
#include "state/schema.h"
#include "state/validate.h"
#include "state/yaml.h"

int state_sb_user_edit(const struct atlas_state *old, const struct atlas_state *next,
		       const char *inbound, struct sb_user_edit *u)
{
	const struct sb_inbound *a, *b;
	const void *skip[3], *eo, *en, *so, *sn;

	memset(u, 0, sizeof(*u));
	if (!old || !old->has_singbox || !next->has_singbox ||
	    !(a = state_sb_inbound(old, inbound)) || !(b = state_sb_inbound(next, inbound)))
		return 0;
	/* everything but a's users and the subscriptions the same */
	skip[0] = &a->users;
	skip[1] = &old->singbox.subscriptions;
	skip[2] = NULL;
	if (!state_tree_same(&schema_root, old, next, skip) ||
	    list_one_edit(&schema_sb_user, a->users, a->nusers, b->users, b->nusers, &eo, &en) != 1 ||
	    list_one_edit(&schema_sb_subscription, old->singbox.subscriptions,
			  old->singbox.nsubscriptions, next->singbox.subscriptions,
			  next->singbox.nsubscriptions, &so, &sn) < 0)
		return 0;
	/* a subscription changed is that person's: gone with the old name, new with the new */
	if ((so && (!eo || strcmp(*(char *const *)so, *(char *const *)eo))) ||
	    (sn && (!en || strcmp(*(char *const *)sn, *(char *const *)en))))
		return 0;
	u->uo = eo;
	u->un = en;
	u->so = so;
	u->sn = sn;
	return 1;
}

/* 1 when another user of in than u has u's name or, as the full check compares them, secret. */
static int user_conflicts(const struct sb_inbound *in, const struct sb_user *u)
{
	int uuid = in->type == SB_VLESS || in->type == SB_VMESS || in->type == SB_TUIC;
	int password = in->type != SB_VLESS && in->type != SB_VMESS;

	for (size_t i = 0; i < in->nusers; i++) {
		const struct sb_user *q = &in->users[i];

		if (q == u)
			continue;
		if (!strcmp(q->name, u->name) ||
		    (uuid && q->uuid && u->uuid && !strcasecmp(q->uuid, u->uuid)) ||
		    (password && q->password && u->password && !strcmp(q->password, u->password)))
			return 1;
	}
	return 0;
}

/* 1 when another subscription than s has s's token. */
static int token_taken(const struct sb_section *sb, const struct sb_subscription *s)
{
	for (size_t i = 0; i < sb->nsubscriptions; i++)
		if (&sb->subscriptions[i] != s && sb->subscriptions[i].token && s->token &&
		    !strcmp(sb->subscriptions[i].token, s->token))
			return 1;
	return 0;
}

int state_check_sb_edit(struct atlas_state *next, const struct atlas_state *old,
			const char *inbound, struct sb_user_edit *u, struct diags *d,
			struct atlas_err *err)
{
	size_t before = d->n;
	struct diags scratch = { 0 };
	int fast = 0;

	memset(u, 0, sizeof(*u));
	if (state_complete(next, old, d, err) < 0)
		return -1;
	if (d->n == before && state_sb_user_edit(old, next, inbound, u)) {
		const struct sb_inbound *b = state_sb_inbound(next, inbound);

		/* an inbound left without users goes the full way, which refuses it */
		fast = b->nusers && (!u->un || (!state_validate_sb_user(b, u->un, &scratch) &&
					      !user_conflicts(b, u->un))) &&
		       (!u->sn || (!state_validate_sb_subscription(u->sn, &scratch) &&
				   !token_taken(&next->singbox, u->sn)));
	}
	diags_clear(&scratch);
	if (!fast) {
		/* not one user, or a problem: the full check words every message */
		memset(u, 0, sizeof(*u));
		state_validate(next, d);
	}
	if (d->n > before)
		return err_set(err, ERR_INVALID, "%s", d->v[before].msg);
	/* sorted as state_check leaves it; the new user and subscription found again */
	if (u->un || u->sn) {
		char *un = u->un ? xstrdup(u->un->name) : NULL, *sn = u->sn ? xstrdup(u->sn->name) : NULL;
		const struct sb_section *sb = &next->singbox;

		state_sort(next);
		if (un)
			u->un = state_sb_user(state_sb_inbound(next, inbound), un);
		if (sn)
			u->sn = state_bisect_named(sb->subscriptions, sb->nsubscriptions,
						   sizeof(*sb->subscriptions), sn);
		fast = (!un || u->un) && (!sn || u->sn);
		free(un);
		free(sn);
	} else {
		state_sort(next);
	}
	if (!fast)
		memset(u, 0, sizeof(*u));
	return fast;
}

/* ---- the YAML ---- */

static const char sb_sect[] = "\nsingbox:\n", sb_items[] = "\n  inbounds:\n",
		  sb_users[] = "    users:\n", sb_subs[] = "  subscriptions:\n";

/* st's sing-box section alone, with no inbound and no subscription: what the lines are cut from. */
static struct atlas_state mini_of(const struct atlas_state *st)
{
	struct atlas_state mini = *st;

	mini.has_wireguard = mini.has_openvpn = 0;
	memset(&mini.wireguard, 0, sizeof(mini.wireguard));
	memset(&mini.openvpn, 0, sizeof(mini.openvpn));
	mini.singbox.inbounds = NULL;
	mini.singbox.ninbounds = 0;
	mini.singbox.subscriptions = NULL;
	mini.singbox.nsubscriptions = 0;
	return mini;
}

/*
 * The YAML lines of user us of inbound in as st's encoding has them
 * (appended to chunk), and the inbound's first line (to inline).
 */
static int user_lines(const struct atlas_state *st, const struct sb_inbound *in,
		      const struct sb_user *us, struct buf *chunk, struct buf *inl)
{
	struct atlas_state mini = mini_of(st);
	struct sb_inbound one = *in;
	struct buf y = BUF_INIT;
	int ret;

	one.users = (struct sb_user *)us;
	one.nusers = 1;
	mini.singbox.inbounds = &one;
	mini.singbox.ninbounds = 1;
	state_to_yaml(&mini, 1, &y);
	ret = yaml_elem_lines(&y, sb_sect, sb_items, sb_users, chunk, inl);
	buf_release_secure(&y);
	return ret;
}

/* The YAML lines of subscription s as st's encoding has them (appended to chunk). */
static int sub_lines(const struct atlas_state *st, const struct sb_subscription *s,
		     struct buf *chunk)
{
	struct atlas_state mini = mini_of(st);
	struct buf y = BUF_INIT;
	int ret;

	mini.singbox.subscriptions = (struct sb_subscription *)s;
	mini.singbox.nsubscriptions = 1;
	state_to_yaml(&mini, 1, &y);
	ret = yaml_elem_lines(&y, sb_sect, NULL, sb_subs, chunk, NULL);
	buf_release_secure(&y);
	return ret;
}

/* The users of inbound in edited in text [t, end) (u's user lines), appended to out. */
static int splice_users(const char *t, const char *end, const struct atlas_state *old,
			const struct atlas_state *next, const char *inbound,
			const struct sb_user_edit *u, struct buf *out)
{
	const struct sb_inbound *a = state_sb_inbound(old, inbound), *b = state_sb_inbound(next, inbound);
	struct buf oc = BUF_INIT, nc = BUF_INIT, sc = BUF_INIT, inl = BUF_INIT;
	const char *from, *to;
	int ret = -1;

	if (!a || !b || !a->nusers || !b->nusers)
		goto out; /* an empty list is written [] */
	if ((u->uo && user_lines(old, a, u->uo, &oc, &inl) < 0) ||
	    (u->un && user_lines(next, b, u->un, &nc, &inl) < 0) ||
	    !(to = yaml_list_block(t, end, sb_sect, inl.data, inl.len, sb_users, &from)))
		goto out;
	if (u->un && (size_t)(u->un - b->users) + 1 < b->nusers &&
	    user_lines(next, b, u->un + 1, &sc, &inl) < 0)
		goto out;
	ret = yaml_splice(t, end, from, to, u->uo ? &oc : NULL, u->un ? &nc : NULL,
			  sc.len ? &sc : NULL, out);
out:
	buf_release_secure(&oc);
	buf_release_secure(&nc);
	buf_release_secure(&sc);
	buf_release(&inl);
	return ret;
}

/* The subscriptions edited in text [t, end) (u's subscription lines), appended to out. */
static int splice_subs(const char *t, const char *end, const struct atlas_state *old,
		       const struct atlas_state *next, const struct sb_user_edit *u,
		       struct buf *out)
{
	const struct sb_section *b = &next->singbox;
	struct buf oc = BUF_INIT, nc = BUF_INIT, sc = BUF_INIT;
	const char *from, *to;
	int ret = -1;

	if (!old->singbox.nsubscriptions || !b->nsubscriptions)
		goto out; /* an empty list is written [] */
	if ((u->so && sub_lines(old, u->so, &oc) < 0) || (u->sn && sub_lines(next, u->sn, &nc) < 0) ||
	    !(to = yaml_list_block(t, end, sb_sect, NULL, 0, sb_subs, &from)))
		goto out;
	if (u->sn && (size_t)(u->sn - b->subscriptions) + 1 < b->nsubscriptions &&
	    sub_lines(next, u->sn + 1, &sc) < 0)
		goto out;
	ret = yaml_splice(t, end, from, to, u->so ? &oc : NULL, u->sn ? &nc : NULL,
			  sc.len ? &sc : NULL, out);
out:
	buf_release_secure(&oc);
	buf_release_secure(&nc);
	buf_release_secure(&sc);
	return ret;
}

int state_yaml_sb_splice(const char *last, size_t len, const struct atlas_state *old,
			 const struct atlas_state *next, const char *inbound,
			 const struct sb_user_edit *u, struct buf *out)
{
	struct buf mid = BUF_INIT;
	int ret;

	if (!u->so && !u->sn)
		return splice_users(last, last + len, old, next, inbound, u, out);
	ret = splice_users(last, last + len, old, next, inbound, u, &mid);
	if (ret == 0)
		ret = splice_subs(mid.data, mid.data + mid.len, old, next, u, out);
	buf_release_secure(&mid);
	return ret;
}
