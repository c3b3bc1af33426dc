/*
 * commit.h - the one path by which desired state changes, for the CLI and
 * the API alike: complete against the stored state, validate, store as a new
 * generation. All or nothing.
 */
#ifndef ATLAS_COMMIT_H
#define ATLAS_COMMIT_H

#include <stdint.h>

#include <jansson.h>

#include "state/diag.h"
#include "state/model.h"
#include "state/store.h"

/*
 * Completes and validates next against the stored state and stores it.
 * pm (may be NULL) maps values of next to file positions for the messages.
 * Returns 0 when stored (*gen set; next is completed and sorted), -1 when
 * invalid (problems in d, ERR_INVALID) or on a store error. Nothing is stored
 * on failure.
 */
int state_commit(struct store *s, struct atlas_state *next, struct posmap *pm,
		 const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		 struct atlas_err *err);

/*
 * An edit of one sing-box user of an inbound: their old self (in old) and
 * new self (in next), either NULL when added or removed, a rename both;
 * and that person's subscription when it comes or goes with them (so
 * removed with the name's last inbound, sn added with a new name).
 */
struct sb_user_edit {
	const struct sb_user *uo, *un;
	const struct sb_subscription *so, *sn;
};

/*
 * An edit from the API: the state it started from and, for a route of one
 * WireGuard peer, the interface, for one of a sing-box user, the inbound;
 * what the commit found (po, pn, one_peer; u, one_user).
 */
struct commit_edit {
	const struct atlas_state *old; /* generation old_gen, sorted; NULL: loaded */
	int64_t old_gen;
	int64_t base; /* the generation next was made from: another stored since is ERR_CONFLICT; 0: none */
	const char *ifname;  /* NULL: not an edit of one peer */
	const char *inbound; /* NULL: not an edit of one sing-box user */
	/* set by state_commit_on: */
	int one_peer;	    /* only that peer changed: checked and stored as such */
	const struct wg_peer *po, *pn; /* its old (in old) and new (in next) self, or NULL */
	int one_user;	    /* only that user (and subscription) changed: the same */
	struct sb_user_edit u;
};

/*
 * state_commit for an edit e: with e->ifname, when next differs from old in
 * one peer of that interface only, only that peer is checked (against the
 * other peers) and the generation's YAML is the previous one with that
 * peer's lines changed (state_check_edit, state_yaml_peer_splice); else
 * the whole state is, as state_commit does.
 */
int state_commit_on(struct store *s, struct commit_edit *e, struct atlas_state *next,
		    const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		    struct atlas_err *err);

/*
 * 1 when next differs from old (both sorted) in one peer of interface ifname
 * only, everything else equal: *po its old self (NULL: added), *pn its new
 * self (NULL: removed); a rename is both. 0 otherwise. Pure.
 */
int state_peer_edit(const struct atlas_state *old, const struct atlas_state *next,
		    const char *ifname, const struct wg_peer **po, const struct wg_peer **pn);
/*
 * Completes next against old (valid, stored) and sorts it; when it is an
 * edit of one peer of ifname (state_peer_edit), checks only that peer and
 * returns 1; else validates it all and returns 0. -1 when invalid: every
 * problem in d, as state_check words them.
 */
int state_check_edit(struct atlas_state *next, const struct atlas_state *old, const char *ifname,
		     const struct wg_peer **po, const struct wg_peer **pn, struct diags *d,
		     struct atlas_err *err);
/*
 * The YAML of next (appended to out) made from last, old's YAML, when next
 * is old with peer po of ifname replaced by pn (either NULL): 0, or -1 when
 * last does not look as expected (then encode next whole).
 */
int state_yaml_peer_splice(const char *last, size_t len, const struct atlas_state *old,
			   const struct atlas_state *next, const char *ifname,
			   const struct wg_peer *po, const struct wg_peer *pn, struct buf *out);

/*
 * state_peer_edit, state_check_edit and state_yaml_peer_splice for an edit
 * of one user of sing-box inbound inbound (state/commit_sb.c): 1 when next
 * differs from old in that user only, and in that person's subscription
 * when it comes or goes with them; the check compares the user's name and
 * secret with the inbound's other users, and a new subscription's token
 * with the other tokens.
 */
int state_sb_user_edit(const struct atlas_state *old, const struct atlas_state *next,
		       const char *inbound, struct sb_user_edit *u);
int state_check_sb_edit(struct atlas_state *next, const struct atlas_state *old,
			const char *inbound, struct sb_user_edit *u, struct diags *d,
			struct atlas_err *err);
int state_yaml_sb_splice(const char *last, size_t len, const struct atlas_state *old,
			 const struct atlas_state *next, const char *inbound,
			 const struct sb_user_edit *u, struct buf *out);

/*
 * Completes and validates next against old without storing (validate, plan -f,
 * dry runs). Returns 0 when valid.
 */
int state_check(struct atlas_state *next, const struct atlas_state *old, struct posmap *pm,
		struct diags *d, struct atlas_err *err);

/*
 * Parses YAML text and checks it against old (NULL: nothing stored yet).
 * Every problem of the file goes to d at once, the values the decoder
 * refuses and the rules broken by the rest alike. Returns the completed,
 * sorted state, or NULL (err: the first problem, ERR_INVALID).
 */
struct atlas_state *state_parse_check(const char *text, size_t len, const struct atlas_state *old,
				      struct posmap *pm, struct diags *d, struct atlas_err *err);

/* Parses YAML text and commits it (atlas import, PUT /state, --watch). */
int state_import_yaml(struct store *s, const char *text, size_t len, const char *trigger,
		      struct diags *d, int64_t *gen, struct atlas_err *err);

/*
 * The state a restore of generation gen would store (*target, new), and
 * what it changes compared with the current state (*changes, new, see
 * changes.h; changes may be NULL). The settings about how Atlas runs (apply
 * mode, resync, history_keep, service_mode) stay the current ones unless
 * with_settings. Changes nothing.
 */
int state_restore_preview(struct store *s, int64_t gen, int with_settings,
			  struct atlas_state **target, json_t **changes, struct atlas_err *err);

/*
 * Makes generation gen the desired state again, as a new generation whose
 * summary says what it changed; runtime settings kept unless with_settings.
 */
int state_restore(struct store *s, int64_t gen, int with_settings, int64_t *newgen,
		  struct atlas_err *err);

#endif
