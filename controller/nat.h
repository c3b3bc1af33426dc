/*
 * nat.h - IP forwarding and one nftables NAT table per engine.
 *
 * Each engine that routes clients to the internet (WireGuard, OpenVPN)
 * owns one table, "inet TABLE", holding a postrouting nat chain with one
 * masquerade rule per client network. The table is replaced as a whole in
 * one nft transaction (create, delete, add), and only when the ruleset that
 * is there differs from the rendered one. Every engine plans forwarding and
 * its table with the same nat_plan() and runs those actions with the same
 * nat_run(). nat_render(), nat_in_sync() and nat_plan() are pure; the rest
 * runs programs or reads /proc.
 */
#ifndef ATLAS_NAT_H
#define ATLAS_NAT_H

#include "lib/buf.h"
#include "lib/err.h"
#include "controller/plan.h"
#include "renderers/nat_render.h"

/*
 * What the live system holds for one table: the listing of
 * `nft list table inet TABLE` (exists = 0 when there is no table), plus the
 * copies recorded by the last nat_apply() (what was loaded, and how nft
 * listed it right after), so a version of nft that prints rules differently
 * from how Atlas writes them is still recognised as in sync.
 */
struct nat_obs {
	int readable;		/* 0: nft failed for a reason other than "no table" */
	int exists;
	struct buf listing;
	struct buf rec_rendered;
	struct buf rec_listing;
};

/* 1 when obs shows exactly the table of the script rendered. Pure. */
int nat_in_sync(const char *rendered, const struct nat_obs *obs);

/* The NAT actions: nat_plan() plans them, nat_run() runs them. */
enum nat_kind {
	NAT_FORWARD,	/* switch forwarding of one family on */
	NAT_REPLACE,	/* load the rendered script: the table replaced as a whole */
	NAT_DELETE,	/* delete the table and forget its recorded copies */
};

/* What one engine wants: its table, its networks, and how it wraps actions. */
struct nat_want {
	const char *engine;		/* the plan's engine name: "wireguard" */
	const char *table;		/* "atlas_wireguard" */
	const struct nat_net *nets;	/* none: the table goes */
	size_t n;
	const char *egress;		/* settings.egress_interface; NULL: the default route */
	int recorded_only;		/* delete the table only when Atlas recorded loading it */
	/*
	 * The engine's data for one action (what its apply() reads): family is
	 * 4 or 6 for NAT_FORWARD, script (owned from then on) the nft script of
	 * NAT_REPLACE, NULL otherwise. act_free releases it.
	 */
	void *(*act_new)(enum nat_kind kind, int family, char *script);
	void (*act_free)(void *);
};

/* What the system showed besides the table. */
struct nat_sys {
	int forward4, forward6;		/* 1, 0, or -1 unreadable */
	const char *egress4, *egress6;	/* the default routes' interfaces, NULL: none */
};

/*
 * Plans forwarding (each family a network needs, when not on) and the
 * table (replaced when not in sync; deleted when no network is left),
 * egress being w->egress, else the IPv4 default route, else the IPv6 one,
 * else "any interface but the tunnel". Returns 0, or 1 when the plan is
 * incomplete: the table could not be read or rendered (why is appended to
 * notes, "; "-separated). Pure.
 */
int nat_plan(struct plan *plan, const struct nat_want *w, const struct nat_sys *sys,
	     const struct nat_obs *obs, struct buf *notes);

/*
 * Runs one action planned by nat_plan(): family for NAT_FORWARD, script
 * for NAT_REPLACE; statedir holds the recorded copies of table.
 */
int nat_run(enum nat_kind kind, int family, const char *table, const char *statedir,
	    const char *script, struct atlas_err *err);

/*
 * Reads the table and the copies recorded in statedir/TABLE.nft and
 * statedir/TABLE.list. Fills obs (release with nat_obs_release). Returns
 * -1 only when nft cannot be run at all.
 */
int nat_observe(const char *table, const char *statedir, struct nat_obs *obs,
		struct atlas_err *err);
void nat_obs_release(struct nat_obs *obs);

/*
 * Loads the rendered script with `nft -f /dev/stdin` (one transaction: the
 * old table stays when it fails) and records the copies in statedir.
 */
int nat_apply(const char *table, const char *statedir, const char *rendered,
	      struct atlas_err *err);

/* Deletes the table when it exists and forgets the recorded copies. */
int nat_remove(const char *table, const char *statedir, struct atlas_err *err);

/*
 * The interface of the default route of a family (4 or 6), from
 * `ip -j route show default`. Returns a new string, or NULL when there is
 * no default route (or ip failed).
 */
char *nat_default_egress(int family);

/*
 * Forwarding switch of a family: /proc/sys/net/ipv4/ip_forward or
 * /proc/sys/net/ipv6/conf/all/forwarding. Read returns 0/1, or -1 when
 * unreadable. Enable writes "1" (only call it when read said 0).
 */
int nat_forwarding_read(int family);
int nat_forwarding_enable(int family, struct atlas_err *err);

#endif
