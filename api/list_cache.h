/*
 * list_cache.h - the answers of list requests kept as bytes (resource.c).
 *
 * A list shows the desired state of one generation and the live status of
 * one ticker round, so its bytes stay the same until either changes: the
 * first GET serialises it, the next ones copy the bytes. Each answer has an
 * ETag (a hash of its bytes), and a request whose If-None-Match names it
 * gets 304 without the list being serialised again, even for a list too big
 * to keep (then only its key and ETag are kept).
 *
 * A key is what the answer depends on: the resource kind, the names of its
 * path, the generation, and the live status (its round and the objects the
 * handlers read). Bounded: LIST_CACHE_SLOTS answers, each at most
 * LIST_CACHE_ITEM_MAX bytes, LIST_CACHE_TOTAL_MAX bytes together; the least
 * recently used goes first.
 */
#ifndef ATLAS_LIST_CACHE_H
#define ATLAS_LIST_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define LIST_CACHE_SLOTS     8
#define LIST_CACHE_ITEM_MAX  (512u * 1024)
#define LIST_CACHE_TOTAL_MAX (1024u * 1024)

struct buf;
struct list_cache;

/* What one list answer depends on. */
struct list_key {
	const void *kind; /* the resource descriptor */
	char path[3 * 128]; /* the names of the path, '/'-joined */
	int64_t gen;
	uint64_t live_round;
	const void *live[2]; /* the live objects read (identity) */
};

/* A new, empty cache. */
struct list_cache *list_cache_new(void);
/* Frees c and its answers. Accepts NULL. */
void list_cache_free(struct list_cache *c);
/*
 * Looks k up: -1 when absent; else copies its ETag (with its quotes) into
 * etag[48] and returns 1 after appending the kept bytes to out, 0 when only
 * the ETag was kept (the answer was too big).
 */
int list_cache_get(struct list_cache *c, const struct list_key *k, char etag[48], struct buf *out);
/* Keeps the answer data of k (copied when small enough) and writes its ETag into etag[48]. */
void list_cache_put(struct list_cache *c, const struct list_key *k, const char *data, size_t len,
		    char etag[48]);
#endif
