/*
 * complete.h - filling in what a desired state leaves out, against the state
 * stored before it: secrets are kept by name, missing keys generated,
 * missing peer addresses allocated, defaults set.
 */
#ifndef ATLAS_COMPLETE_H
#define ATLAS_COMPLETE_H

#include "lib/err.h"
#include "state/diag.h"
#include "state/model.h"

/*
 * Completes st in place. old (may be NULL) is the state stored so far.
 * Conflicts that completion finds (a public key that does not match the
 * private key) are added to d. Returns -1 only when the random generator or
 * X25519 fails (err set).
 */
int state_complete(struct atlas_state *st, const struct atlas_state *old, struct diags *d,
		   struct atlas_err *err);

/*
 * Completes only p, a peer added to ifc (no peer of ifc had its name
 * before), when every other peer of ifc is complete (a stored state with
 * one peer added): the same keys, allowed_ips and addresses state_complete
 * would give it, its address the lowest free one of each network of ifc,
 * found in O(peers) without the whole allocation. Returns 1 when done, 0
 * when this cannot tell (a peer or the interface holds a wider prefix, a
 * network is full: run state_complete; p is untouched then), -1 as
 * state_complete.
 */
int state_complete_added_peer(struct wg_iface *ifc, struct wg_peer *p, struct diags *d,
			      struct atlas_err *err);

/*
 * Gives the user named user a new subscription token (the old URL stops
 * working once st is committed). ERR_NOTFOUND when no inbound has that user.
 */
int state_sb_rotate_token(struct atlas_state *st, const char *user, struct atlas_err *err);

#endif
