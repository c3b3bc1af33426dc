/*
 * ipaddr.c - address parsing with inet_pton and bit arithmetic.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/ipaddr.h"

int ip_parse_addr(const char *s, struct ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -1;
}

int ip_parse(const char *s, struct ipaddr *out)
{
	const char *slash = strchr(s, '/');
	char addr[64], *end;
	long p;

	if (!slash)
		return ip_parse_addr(s, out);
	if ((size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ip_parse_addr(addr, out) < 0)
		return -1;
	/* Digits only: strtol alone would also take " 24", "+24" and "\n24". */
	if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
		return -1;
	p = strtol(slash + 1, &end, 10);
	if (*end || p < 0 || p > (out->family == AF_INET ? 32 : 128))
		return -1;
	out->prefix = (int)p;
	return 0;
}

void ip_format(const struct ipaddr *ip, int with_prefix, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	inet_ntop(ip->family, ip->a, tmp, sizeof(tmp));
	if (with_prefix)
		snprintf(buf, len, "%s/%d", tmp, ip->prefix);
	else
		snprintf(buf, len, "%s", tmp);
}

static int bits_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full))
		return 0;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		return (a[full] & m) == (b[full] & m);
	}
	return 1;
}

int ip_in_net(const struct ipaddr *net, const struct ipaddr *addr)
{
	return net->family == addr->family && bits_eq(net->a, addr->a, net->prefix);
}

int ip_overlap(const struct ipaddr *a, const struct ipaddr *b)
{
	int p = a->prefix < b->prefix ? a->prefix : b->prefix;

	return a->family == b->family && bits_eq(a->a, b->a, p);
}

void ip_network(const struct ipaddr *ip, struct ipaddr *out)
{
	int len = ip->family == AF_INET ? 4 : 16;

	*out = *ip;
	for (int i = 0; i < len; i++) {
		int keep = ip->prefix - i * 8;

		if (keep >= 8)
			continue;
		out->a[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

void ip_add(struct ipaddr *ip, uint64_t n)
{
	int i = ip->family == AF_INET ? 3 : 15;

	while (n && i >= 0) {
		uint64_t v = ip->a[i] + (n & 0xff);

		ip->a[i] = (uint8_t)v;
		n = (n >> 8) + (v >> 8);
		i--;
	}
}

int ip_addr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family &&
	       !memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16);
}

void ip4_mask(int prefix, char *buf, size_t len)
{
	uint32_t m = prefix ? 0xffffffffu << (32 - prefix) : 0;

	snprintf(buf, len, "%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
}

uint64_t ip_size(const struct ipaddr *net)
{
	int host = (net->family == AF_INET ? 32 : 128) - net->prefix;

	return host >= 63 ? UINT64_MAX : (uint64_t)1 << host;
}

/*
 * 1 when s is "a.b.c.d/p" exactly as ip_format prints it (decimal, no
 * leading zeros) with no host bits set: its normal form is s itself. The
 * common case of a peer's address, without inet_pton and snprintf (a plan
 * of 10,000 peers normalises 20,000 of them).
 */
static int ip4_net_canonical(const char *s)
{
	uint32_t a = 0;
	unsigned v = 0;
	int prefix;

	for (int part = 0; part < 5; part++) {
		const char *d = s;

		for (v = 0; *s >= '0' && *s <= '9' && s - d < 3; s++)
			v = v * 10 + (unsigned)(*s - '0');
		if (s == d || (*d == '0' && s - d > 1) || *s != (part < 3 ? '.' : part == 3 ? '/' : '\0'))
			return 0;
		if (part < 4) {
			if (v > 255)
				return 0;
			a = a << 8 | v;
			s++;
		}
	}
	prefix = (int)v;
	return prefix <= 32 && (prefix == 32 || !(a & (0xffffffffu >> prefix)));
}

int ip_normalize(const char *s, int net, char *buf, size_t len)
{
	struct ipaddr ip, n;
	size_t l;

	if (ip4_net_canonical(s) && (l = strlen(s)) < len) {
		memcpy(buf, s, l + 1);
		return 0;
	}
	if (ip_parse(s, &ip) < 0)
		return -1;
	if (net) {
		ip_network(&ip, &n);
		n.prefix = ip.prefix;
		ip = n;
	}
	ip_format(&ip, 1, buf, len);
	return 0;
}
