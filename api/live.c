/*
 * live.c - the live WireGuard status kept by the daemon in a compact form.
 *
 * The driver's status() answers JSON (controller/driver.h), its peers as
 * one string of lines per interface (a jansson object a peer cost about
 * 1 KB: 11 MB at every tick with 10,000 peers). The ticker turns them at
 * once into sorted arrays of fixed-size records (56 bytes a peer, the key raw; the
 * endpoints, most often none, in one pool of strings per interface), which
 * the API reads with a binary search by public key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "state/keys.h"

static int peer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct live_peer *)a)->key, ((const struct live_peer *)b)->key,
		      KEY_LEN);
}

/*
 * One line of peer_lines ("KEY\tENDPOINT\tHANDSHAKE\tRX\tTX") into lp, its
 * endpoint (at most 63 characters, as the fixed field of before) into eps.
 * 0, or -1 when the line is not of that shape (left out).
 */
static int peer_line(const char *s, const char *end, struct live_peer *lp, struct buf *eps)
{
	const char *f[5] = { s };
	char key[KEY_B64];
	size_t eplen;
	long long hs;

	memset(lp, 0, sizeof(*lp));
	for (size_t n = 1; n < 5; n++) {
		const char *tab = memchr(f[n - 1], '\t', (size_t)(end - f[n - 1]));

		if (!tab)
			return -1;
		f[n] = tab + 1;
	}
	if (f[1] - f[0] != KEY_B64 || memchr(f[4], '\t', (size_t)(end - f[4])))
		return -1;
	memcpy(key, f[0], KEY_B64 - 1);
	key[KEY_B64 - 1] = '\0';
	if (key_decode(key, lp->key) < 0)
		return -1;
	eplen = (size_t)(f[2] - f[1] - 1);
	if (eplen) {
		lp->endpoint = (uint32_t)eps->len;
		buf_add(eps, f[1], eplen < 63 ? eplen : 63);
		buf_putc(eps, '\0');
	}
	hs = strtoll(f[2], NULL, 10);
	lp->handshake = hs > 0 && hs <= (long long)UINT32_MAX ? (uint32_t)hs : 0;
	lp->rx = strtoll(f[3], NULL, 10);
	lp->tx = strtoll(f[4], NULL, 10);
	return 0;
}

/* The records of an interface's peer_lines (borrowed) into li, sorted by key. */
static void iface_peers(struct live_iface *li, const char *lines, size_t len)
{
	const char *s = lines, *end = lines + len, *nl;
	struct buf eps = BUF_INIT;
	size_t cap = 0;

	for (const char *c = s; (c = memchr(c, '\n', (size_t)(end - c))); c++)
		cap++;
	if (len && end[-1] != '\n')
		cap++;
	li->peers = cap ? xcalloc(cap, sizeof(*li->peers)) : NULL;
	buf_putc(&eps, '\0');
	for (; s < end; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		if (peer_line(s, nl, &li->peers[li->n], &eps) == 0)
			li->n++;
	}
	if (li->n) /* qsort(NULL, 0, ...) is undefined (UBSan under the API e2e tests) */
		qsort(li->peers, li->n, sizeof(*li->peers), peer_cmp);
	li->endpoints = buf_detach(&eps);
}

struct live_wg *live_wg_from_json(json_t *wg)
{
	json_t *ifs = json_object_get(wg, "interfaces"), *i;
	struct live_wg *l;
	size_t k;

	if (!wg)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->n = json_array_size(ifs);
	l->ifs = l->n ? xcalloc(l->n, sizeof(*l->ifs)) : NULL;
	json_array_foreach(ifs, k, i)
	{
		struct live_iface *li = &l->ifs[k];
		json_t *lines = json_object_get(i, "peer_lines");
		const char *name = json_string_value(json_object_get(i, "name"));

		snprintf(li->name, sizeof(li->name), "%s", name ? name : "");
		li->running = json_is_true(json_object_get(i, "up"));
		iface_peers(li, json_string_value(lines) ? json_string_value(lines) : "",
			    json_string_length(lines));
	}
	return l;
}

void live_wg_free(struct live_wg *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->ifs[i].peers);
		free(l->ifs[i].endpoints);
	}
	free(l->ifs);
	free(l);
}

const struct live_iface *live_wg_iface(const struct live_wg *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->ifs[i].name, name))
			return &l->ifs[i];
	return NULL;
}

const struct live_peer *live_wg_peer(const struct live_iface *li, const struct wg_key *key)
{
	struct live_peer k;

	if (!li || !li->n || !KEY_HAS(key)) /* bsearch(.., NULL, 0, ..) is undefined */
		return NULL;
	memcpy(k.key, key->b, KEY_LEN);
	return bsearch(&k, li->peers, li->n, sizeof(*li->peers), peer_cmp);
}

const char *live_peer_endpoint(const struct live_iface *li, const struct live_peer *lp)
{
	return li && lp && lp->endpoint ? li->endpoints + lp->endpoint : NULL;
}
