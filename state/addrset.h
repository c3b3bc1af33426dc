/*
 * addrset.h - a set of addresses and prefixes for fast "is it taken?"
 * questions over tens of thousands of peers: host addresses (/32, /128) in a
 * sorted array searched by bisection, wider prefixes (rare) in a short list
 * checked one by one.
 */
#ifndef ATLAS_ADDRSET_H
#define ATLAS_ADDRSET_H

#include <stddef.h>

#include "lib/ipaddr.h"

#define ADDR_NO_SKIP ((size_t)-1)	/* addrset_find: every owner counts */
#define ADDR_OWNER_SELF ((size_t)-2)	/* the interface's own addresses */

struct addr_entry {
	struct ipaddr ip;
	size_t owner;		/* caller's index (a peer) */
};

struct addrset {
	struct addr_entry *hosts, *wide;
	size_t nhosts, nwide, caphosts;
	int sorted;
};

void addrset_add(struct addrset *s, const struct ipaddr *ip, size_t owner);
/* Sorts the hosts; call after the adds, before the lookups. Cannot fail. */
void addrset_sort(struct addrset *s);
/*
 * The entry that overlaps ip (borrowed), or NULL. skip_owner: an owner whose
 * entries do not count (ADDR_NO_SKIP: none).
 */
const struct addr_entry *addrset_find(const struct addrset *s, const struct ipaddr *ip,
				      size_t skip_owner);
/* Adds a host entry keeping the array sorted (O(n) move; for few inserts). */
void addrset_insert(struct addrset *s, const struct ipaddr *ip, size_t owner);
void addrset_clear(struct addrset *s);

#endif
