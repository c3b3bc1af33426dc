/*
 * live.c - the live WireGuard status kept by the daemon in a compact form.
 *
 * The driver's status() answers JSON (controller/driver.h); with 10,000
 * peers a jansson tree of it costs several MB, kept for as long as the
 * next tick. The ticker turns it at once into sorted arrays of fixed-size
 * records (80 bytes a peer; the endpoints, most often none, in one pool of
 * strings per interface), which the API reads with a binary search by
 * public key.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static int peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct live_peer *)a)->key, ((const struct live_peer *)b)->key);
}

struct live_wg *live_wg_from_json(json_t *wg)
{
	json_t *ifs = json_object_get(wg, "interfaces"), *i, *p;
	struct live_wg *l;
	size_t k, m;

	if (!wg)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->n = json_array_size(ifs);
	l->ifs = l->n ? xcalloc(l->n, sizeof(*l->ifs)) : NULL;
	json_array_foreach(ifs, k, i)
	{
		struct live_iface *li = &l->ifs[k];
		json_t *peers = json_object_get(i, "peers");
		const char *name = json_string_value(json_object_get(i, "name"));
		struct buf eps = BUF_INIT;

		snprintf(li->name, sizeof(li->name), "%s", name ? name : "");
		/* wg_status.c says "up"; the first draft of driver.h said "running". */
		li->running = json_is_true(json_object_get(i, "up")) ||
			      json_is_true(json_object_get(i, "running"));
		buf_putc(&eps, '\0');
		li->peers = json_array_size(peers)
				? xcalloc(json_array_size(peers), sizeof(*li->peers))
				: NULL;
		json_array_foreach(peers, m, p)
		{
			struct live_peer *lp = &li->peers[li->n];
			const char *key = json_string_value(json_object_get(p, "public_key"));
			const char *ep = json_string_value(json_object_get(p, "endpoint"));

			if (!key)
				continue;
			snprintf(lp->key, sizeof(lp->key), "%s", key);
			if (ep && *ep) {
				/* At most 63 characters, as the fixed field of before. */
				lp->endpoint = (uint32_t)eps.len;
				buf_add(&eps, ep, strnlen(ep, 63));
				buf_putc(&eps, '\0');
			}
			lp->handshake = json_integer_value(json_object_get(p, "latest_handshake"));
			lp->rx = json_integer_value(json_object_get(p, "rx_bytes"));
			lp->tx = json_integer_value(json_object_get(p, "tx_bytes"));
			li->n++;
		}
		if (li->n) /* qsort(NULL, 0, ...) is undefined (UBSan under the API e2e tests) */
			qsort(li->peers, li->n, sizeof(*li->peers), peer_cmp);
		li->endpoints = buf_detach(&eps);
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

const struct live_peer *live_wg_peer(const struct live_iface *li, const char *key)
{
	struct live_peer k;

	if (!li || !li->n || !key || !*key) /* bsearch(.., NULL, 0, ..) is undefined */
		return NULL;
	snprintf(k.key, sizeof(k.key), "%s", key);
	return bsearch(&k, li->peers, li->n, sizeof(*li->peers), peer_cmp);
}

const char *live_peer_endpoint(const struct live_iface *li, const struct live_peer *lp)
{
	return li && lp && lp->endpoint ? li->endpoints + lp->endpoint : NULL;
}
