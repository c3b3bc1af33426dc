/*
 * validate.h - the rules a desired state must follow before it is stored.
 *
 * Every problem is reported (not only the first), against the address of the
 * offending value, with a message that names the resource, the field and the
 * value: `wireguard interface "wg0": peer "bob": address "10.0.0.300/32" is
 * not an IPv4 or IPv6 prefix`.
 */
#ifndef ATLAS_VALIDATE_H
#define ATLAS_VALIDATE_H

#include "lib/ipaddr.h"
#include "state/diag.h"
#include "state/model.h"

/* Checks st; appends problems to d; returns their number (0: valid). */
size_t state_validate(const struct atlas_state *st, struct diags *d);
/*
 * The version of the rules state_validate applies: one more whenever a rule
 * is added. A commit of one element checks only that element and takes the
 * rest as valid, which holds only for a state stored under these rules
 * (state/commit.c keeps the version of the last full check in the store).
 */
#define STATE_RULES_VERSION "3"
/*
 * The rules of peer p of interface ifc on its own (its fields, its
 * addresses inside the interface's networks), not those against the other
 * peers; appends problems to d as state_validate words them.
 */
size_t state_validate_wg_peer(const struct wg_iface *ifc, const struct wg_peer *p,
			      struct diags *d);
/*
 * The same for user u of sing-box inbound in (not against the inbound's
 * other users), and for subscription s (not against the other tokens).
 */
size_t state_validate_sb_user(const struct sb_inbound *in, const struct sb_user *u,
			      struct diags *d);
size_t state_validate_sb_subscription(const struct sb_subscription *s, struct diags *d);

/* [a-z0-9][a-z0-9_.-]{0,62} */
int name_valid(const char *s);
/*
 * 1 when s is a name Atlas gives a certificate of its own (the OpenVPN
 * server's): such a client name is refused wherever a state is checked.
 */
int ovpn_name_reserved(const char *s);
/*
 * A valid name made of a display name ("Alice Phone" -> "alice-phone"):
 * lowercase, one dash between words, the rest dropped; "" when nothing is
 * left. out: at least NAME_MAX_LEN + 1 bytes. The panel does the same as the
 * user types (ui/app.js slugName).
 */
void name_suggest(const char *s, char *out, size_t len);
/* YYYY-MM-DD, a real date. */
int date_valid(const char *s);

/*
 * OpenVPN address plan of an IPv4 network: the server takes the first host,
 * static addresses the lower half, the dynamic pool the upper half. Returns -1
 * when network is not an IPv4 prefix of /16 to /29.
 */
struct ovpn_plan {
	struct ipaddr net, server, static_first, static_last, pool_first, pool_last;
};
int ovpn_address_plan(const char *network, struct ovpn_plan *out);

#endif
