/*
 * addrset.c - sorted address sets.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "state/addrset.h"

static int is_host(const struct ipaddr *ip)
{
	return ip->prefix == (ip->family == AF_INET ? 32 : 128);
}

static int cmp_ip(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->a, b->a, 16);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct addr_entry *x = a, *y = b;
	int c = cmp_ip(&x->ip, &y->ip);

	if (c)
		return c;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

void addrset_add(struct addrset *s, const struct ipaddr *ip, size_t owner)
{
	struct addr_entry e = { *ip, owner };

	if (ip->family == AF_INET)
		memset(e.ip.a + 4, 0, 12);
	if (!is_host(ip)) {
		s->wide = xrealloc(s->wide, (s->nwide + 1) * sizeof(*s->wide));
		s->wide[s->nwide++] = e;
		return;
	}
	if (s->nhosts == s->caphosts) {
		s->caphosts = s->caphosts ? s->caphosts * 2 : 64;
		s->hosts = xrealloc(s->hosts, s->caphosts * sizeof(*s->hosts));
	}
	s->hosts[s->nhosts++] = e;
	s->sorted = 0;
}

void addrset_sort(struct addrset *s)
{
	if (s->nhosts > 1)
		qsort(s->hosts, s->nhosts, sizeof(*s->hosts), cmp_entry);
	s->sorted = 1;
}

/* Index of the first host entry >= ip. */
static size_t lower_bound(const struct addrset *s, const struct ipaddr *ip)
{
	size_t lo = 0, hi = s->nhosts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_ip(&s->hosts[mid].ip, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct addr_entry *addrset_find(const struct addrset *s, const struct ipaddr *ip,
				      size_t skip_owner)
{
	struct ipaddr key = *ip;

	if (key.family == AF_INET)
		memset(key.a + 4, 0, 12);
	for (size_t i = 0; i < s->nwide; i++)
		if (s->wide[i].owner != skip_owner && ip_overlap(&s->wide[i].ip, &key))
			return &s->wide[i];
	if (is_host(&key)) {
		for (size_t i = lower_bound(s, &key);
		     i < s->nhosts && !cmp_ip(&s->hosts[i].ip, &key); i++)
			if (s->hosts[i].owner != skip_owner)
				return &s->hosts[i];
		return NULL;
	}
	/* A wide prefix: every host inside it is a range of the sorted array. */
	{
		struct ipaddr net;
		size_t i;

		ip_network(&key, &net);
		for (i = lower_bound(s, &net); i < s->nhosts && ip_in_net(&key, &s->hosts[i].ip);
		     i++)
			if (s->hosts[i].owner != skip_owner)
				return &s->hosts[i];
	}
	return NULL;
}

void addrset_insert(struct addrset *s, const struct ipaddr *ip, size_t owner)
{
	size_t pos;

	if (!is_host(ip)) {
		addrset_add(s, ip, owner);
		return;
	}
	addrset_add(s, ip, owner);
	/* move the new last entry into place */
	{
		struct addr_entry e = s->hosts[--s->nhosts];

		pos = lower_bound(s, &e.ip);
		memmove(&s->hosts[pos + 1], &s->hosts[pos], (s->nhosts - pos) * sizeof(e));
		s->hosts[pos] = e;
		s->nhosts++;
	}
	s->sorted = 1;
}

void addrset_clear(struct addrset *s)
{
	free(s->hosts);
	free(s->wide);
	memset(s, 0, sizeof(*s));
}
