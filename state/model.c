/*
 * model.c - life cycle, lookups and ordering of the desired state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "state/model.h"
#include "state/schema.h"

struct atlas_state *state_new(void)
{
	struct atlas_state *st = xmalloc(sizeof(*st));

	schema_init(&schema_root, st);
	return st;
}

void state_free(struct atlas_state *st)
{
	if (!st)
		return;
	schema_release(&schema_root, st);
	for (size_t i = 0; i < st->bad_keys.n; i++)
		OPENSSL_cleanse(st->bad_keys.v[i], strlen(st->bad_keys.v[i]));
	strv_clear(&st->bad_keys);
	free(st);
}

struct atlas_state *state_dup(const struct atlas_state *st)
{
	struct atlas_state *c = xmalloc(sizeof(*c));

	schema_copy(&schema_root, c, st);
	c->bad_keys = (struct strv)STRV_INIT;
	strv_copy(&c->bad_keys, &st->bad_keys);
	return c;
}

/* A KEY_BAD key's index into bad_keys: its first four bytes (its key bytes are not one). */
void state_keep_bad_key(struct atlas_state *st, struct wg_key *k, const char *text)
{
	uint32_t i = (uint32_t)st->bad_keys.n;

	OPENSSL_cleanse(k, sizeof(*k));
	k->set = KEY_BAD;
	memcpy(k->b, &i, sizeof(i));
	strv_push(&st->bad_keys, text);
}

const char *state_bad_key(const struct atlas_state *st, const struct wg_key *k)
{
	uint32_t i;

	if (!st || k->set != KEY_BAD)
		return "?";
	memcpy(&i, k->b, sizeof(i));
	return i < st->bad_keys.n ? st->bad_keys.v[i] : "?";
}

/*
 * The element named name of the n elements of size bytes at v, or NULL:
 * every list element starts with its name (schema.c; test_model checks it).
 */
static void *find_named(const void *v, size_t n, size_t size, const char *name)
{
	for (size_t i = 0; name && i < n; i++) {
		char *const *el = (char *const *)((const char *)v + i * size);

		if (*el && !strcmp(*el, name))
			return (void *)el;
	}
	return NULL;
}

#define FIND_NAMED(v, n, name) find_named((v), (n), sizeof(*(v)), (name))

struct wg_iface *state_wg_iface(const struct atlas_state *st, const char *name)
{
	const struct wg_section *w = &st->wireguard;

	return st->has_wireguard ? FIND_NAMED(w->interfaces, w->ninterfaces, name) : NULL;
}

void *state_bisect_named(const void *v, size_t n, size_t size, const char *name)
{
	size_t lo = 0, hi = n;

	while (name && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		char *const *el = (char *const *)((const char *)v + mid * size);
		int c = strcmp(*el ? *el : "", name);

		if (c == 0)
			return (void *)el;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define BISECT_NAMED(v, n, name) state_bisect_named((v), (n), sizeof(*(v)), (name))

struct wg_peer *state_wg_peer(const struct wg_iface *ifc, const char *name)
{
	/* Stored states are sorted by name: try bisection first. */
	struct wg_peer *p = BISECT_NAMED(ifc->peers, ifc->npeers, name);

	return p ? p : FIND_NAMED(ifc->peers, ifc->npeers, name);
}

struct ovpn_client *state_ovpn_client(const struct atlas_state *st, const char *name)
{
	return st->has_openvpn ? FIND_NAMED(st->openvpn.clients, st->openvpn.nclients, name) : NULL;
}

struct sb_inbound *state_sb_inbound(const struct atlas_state *st, const char *name)
{
	return st->has_singbox ? FIND_NAMED(st->singbox.inbounds, st->singbox.ninbounds, name) : NULL;
}

struct sb_user *state_sb_user(const struct sb_inbound *in, const char *name)
{
	struct sb_user *u = BISECT_NAMED(in->users, in->nusers, name);

	return u ? u : FIND_NAMED(in->users, in->nusers, name);
}

struct sb_subscription *state_sb_subscription(const struct atlas_state *st, const char *name)
{
	const struct sb_section *sb = &st->singbox;

	return st->has_singbox ? FIND_NAMED(sb->subscriptions, sb->nsubscriptions, name) : NULL;
}

struct sb_subscription *state_sb_subscription_by_token(const struct atlas_state *st,
						       const char *token)
{
	struct sb_subscription *found = NULL;
	size_t n = token ? strlen(token) : 0;

	/* Every token is compared, found or not: no timing hint of how close a guess was. */
	for (size_t i = 0; n && st->has_singbox && i < st->singbox.nsubscriptions; i++) {
		struct sb_subscription *s = &st->singbox.subscriptions[i];

		if (s->token && strlen(s->token) == n && !CRYPTO_memcmp(s->token, token, n))
			found = s;
	}
	return found;
}

int sb_security(const struct sb_inbound *in)
{
	if (in->security != SB_SEC_AUTO)
		return in->security;
	switch (in->type) {
	case SB_VLESS:
		return SB_SEC_REALITY;
	case SB_TROJAN:
	case SB_HYSTERIA2:
	case SB_TUIC:
		return SB_SEC_TLS;
	default:
		return SB_SEC_NONE;
	}
}

int sb_type_udp(int type)
{
	return type == SB_HYSTERIA2 || type == SB_TUIC;
}

int sb_method_key_len(int method)
{
	return method == SB_SS_AES256 ? 32 : 16;
}

/* Every list element starts with its `char *name` (checked in schema tests). */
static int by_name(const void *a, const void *b)
{
	const char *na = *(char *const *)a, *nb = *(char *const *)b;

	return strcmp(na ? na : "", nb ? nb : "");
}

void state_sort_list(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *v = base, *last, *tmp;
	size_t k = 1, lo = 0, hi;

	while (k < n && cmp(v + (k - 1) * size, v + k * size) <= 0)
		k++;
	if (k >= n)
		return;
	if (k < n - 1) {
		qsort(base, n, size, cmp);
		return;
	}
	/* all but the last in order: it goes after the last element not above it */
	last = v + (n - 1) * size;
	hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(v + mid * size, last) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	tmp = xmalloc(size);
	memcpy(tmp, last, size);
	memmove(v + (lo + 1) * size, v + lo * size, (n - 1 - lo) * size);
	memcpy(v + lo * size, tmp, size);
	free(tmp);
}

static void sort_struct(const struct schema *s, void *p)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if (f->type == F_OBJ || f->type == F_SECTION) {
			sort_struct(f->sub, FIELD_PTR(p, f));
		} else if (f->type == F_LIST) {
			char *arr = *(char **)FIELD_PTR(p, f);
			size_t n = *(size_t *)((char *)p + f->aux_off);

			if (n > 1)
				state_sort_list(arr, n, f->sub->size, by_name);
			for (size_t j = 0; j < n; j++)
				sort_struct(f->sub, arr + j * f->sub->size);
		}
	}
}

void state_sort(struct atlas_state *st)
{
	sort_struct(&schema_root, st);
}
