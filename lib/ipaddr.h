/*
 * ipaddr.h - IPv4/IPv6 addresses and prefixes: parse, compare, contain.
 * Pure functions on plain data.
 */
#ifndef ATLAS_IPADDR_H
#define ATLAS_IPADDR_H

#include <stddef.h>
#include <stdint.h>

struct ipaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* network byte order; v4 uses the first 4 */
	int prefix;		/* 0..32 or 0..128; the full length for a bare address */
};

/* Parses "10.0.0.1", "10.0.0.0/24", "fd00::1/64". 0 on success, -1 if invalid. */
int ip_parse(const char *s, struct ipaddr *out);
/* Parses a bare address (no "/"). */
int ip_parse_addr(const char *s, struct ipaddr *out);
/* Formats with "/prefix" when with_prefix. buf needs 50 bytes. */
void ip_format(const struct ipaddr *ip, int with_prefix, char *buf, size_t len);
/* 1 when addr lies inside net's prefix (same family). */
int ip_in_net(const struct ipaddr *net, const struct ipaddr *addr);
/* 1 when the two prefixes overlap. */
int ip_overlap(const struct ipaddr *a, const struct ipaddr *b);
/* The network address of ip (host bits cleared). */
void ip_network(const struct ipaddr *ip, struct ipaddr *out);
/* Adds n to the address (wrapping is the caller's problem). */
void ip_add(struct ipaddr *ip, uint64_t n);
int ip_addr_eq(const struct ipaddr *a, const struct ipaddr *b);
/*
 * s ("10.8.0.5/24", "FD00::1") rewritten the one way WireGuard and ip print
 * it, with its prefix length: host bits cleared when net (allowed IPs), kept
 * when not (interface addresses). buf needs 50 bytes. 0, or -1 when s is no
 * address or prefix (buf untouched).
 */
int ip_normalize(const char *s, int net, char *buf, size_t len);
/* Netmask of a v4 prefix as dotted quad. buf needs 16 bytes. */
void ip4_mask(int prefix, char *buf, size_t len);
/* Number of host addresses in a v4 net, or UINT64_MAX for large v6 nets. */
uint64_t ip_size(const struct ipaddr *net);

#endif
