/*
 * nat.h - IP forwarding and one nftables NAT table per engine.
 *
 * Each engine that routes clients to the internet (WireGuard, later
 * OpenVPN) owns one table, "inet TABLE", holding a postrouting nat chain
 * with one masquerade rule per client network. The table is replaced as a
 * whole in one nft transaction (create, delete, add), and only when the
 * ruleset that is there differs from the rendered one. nat_render() and
 * nat_in_sync() are pure; the rest runs programs or reads /proc.
 */
#ifndef ATLAS_NAT_H
#define ATLAS_NAT_H

#include "../lib/buf.h"
#include "../lib/err.h"

struct nat_net {
	const char *prefix;	/* network prefix, host bits clear: "10.8.0.0/24" */
	int v6;			/* 1 for an IPv6 prefix */
	const char *iface;	/* the tunnel interface the network lives on */
};

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

/*
 * The nft script replacing table "inet TABLE" with a postrouting nat chain
 * masquerading each network out of egress (or, when egress is NULL, out of
 * any interface but the network's own tunnel), appended to out. The part
 * after the first two lines is the table as `nft list` prints it. Fails
 * (ERR_INVALID) when a table or interface name holds characters nft would
 * read as syntax. Pure.
 */
int nat_render(const char *table, const struct nat_net *nets, size_t n, const char *egress,
	       struct buf *out, struct atlas_err *err);

/* 1 when obs shows exactly the table of the script rendered. Pure. */
int nat_in_sync(const char *rendered, const struct nat_obs *obs);

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
