/*
 * nat_render.h - the nftables NAT table of an engine as text (pure).
 */
#ifndef ATLAS_NAT_RENDER_H
#define ATLAS_NAT_RENDER_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

struct nat_net {
	const char *prefix;	/* network prefix, host bits clear: "10.8.0.0/24" */
	int v6;			/* 1 for an IPv6 prefix */
	const char *iface;	/* the tunnel interface the network lives on */
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

#endif
