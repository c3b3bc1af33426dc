/*
 * list_cache.c - list answers kept as bytes, keyed by what they depend on
 * (list_cache.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "api/list_cache.h"

struct slot {
	struct list_key key;
	int used;	/* the slot holds an answer */
	uint64_t touched; /* the cache's clock at the last use: the smallest goes first */
	char etag[48];
	char *data; /* NULL: too big to keep, only the ETag */
	size_t len;
};

struct list_cache {
	pthread_mutex_t mu;
	uint64_t clock;
	size_t bytes; /* kept in every slot's data */
	struct slot s[LIST_CACHE_SLOTS];
};

struct list_cache *list_cache_new(void)
{
	struct list_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void slot_clear(struct list_cache *c, struct slot *s)
{
	c->bytes -= s->data ? s->len : 0;
	free(s->data);
	memset(s, 0, sizeof(*s));
}

void list_cache_free(struct list_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < LIST_CACHE_SLOTS; i++)
		slot_clear(c, &c->s[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int same_key(const struct list_key *a, const struct list_key *b)
{
	return a->kind == b->kind && a->gen == b->gen && a->live_round == b->live_round &&
	       a->live[0] == b->live[0] && a->live[1] == b->live[1] && !strcmp(a->path, b->path);
}

/* The slot of k, or NULL. c->mu held. */
static struct slot *find(struct list_cache *c, const struct list_key *k)
{
	for (size_t i = 0; i < LIST_CACHE_SLOTS; i++)
		if (c->s[i].used && same_key(&c->s[i].key, k))
			return &c->s[i];
	return NULL;
}

int list_cache_get(struct list_cache *c, const struct list_key *k, char etag[48], struct buf *out)
{
	struct slot *s;
	int rc = -1;

	pthread_mutex_lock(&c->mu);
	s = find(c, k);
	if (s) {
		s->touched = ++c->clock;
		memcpy(etag, s->etag, 48);
		rc = s->data != NULL;
		if (s->data)
			buf_add(out, s->data, s->len);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* FNV-1a, 64 bits: an ETag only has to change with the bytes. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

void list_cache_put(struct list_cache *c, const struct list_key *k, const char *data, size_t len,
		    char etag[48])
{
	int keep = len <= LIST_CACHE_ITEM_MAX;
	struct slot *s;

	snprintf(etag, 48, "\"l%016llx-%zx\"", (unsigned long long)fnv1a(data, len), len);
	pthread_mutex_lock(&c->mu);
	s = find(c, k);
	if (s)
		slot_clear(c, s);
	/* Room: the least recently used answers go until this one fits. */
	for (;;) {
		struct slot *old = NULL, *fr = NULL;

		for (size_t i = 0; i < LIST_CACHE_SLOTS; i++) {
			struct slot *x = &c->s[i];

			if (!x->used && !fr)
				fr = x;
			else if (x->used && (!old || x->touched < old->touched))
				old = x;
		}
		if (fr && (!keep || c->bytes + len <= LIST_CACHE_TOTAL_MAX)) {
			s = fr;
			break;
		}
		slot_clear(c, old);
	}
	s->key = *k;
	s->used = 1;
	s->touched = ++c->clock;
	memcpy(s->etag, etag, 48);
	if (keep) {
		s->data = xmalloc(len ? len : 1);
		memcpy(s->data, data, len);
		s->len = len;
		c->bytes += len;
	}
	pthread_mutex_unlock(&c->mu);
}
