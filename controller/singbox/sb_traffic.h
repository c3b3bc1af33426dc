/*
 * sb_traffic.h - per-user traffic from sing-box's counters: the arithmetic,
 * pure (no file, no clock; sb_status.c reads and persists).
 *
 * The book is a JSON object, persisted as DATADIR/singbox/traffic.json:
 *   {"users": {NAME: {"up": N, "down": N}},      totals counted so far
 *    "seen":  {CONN_ID: [UP, DOWN, MISSED]}}     last totals seen per connection
 * A connection's totals only grow, so each reading adds what it moved since
 * the last one seen: an open connection is counted as deltas, a closed one
 * (listed with its final totals) once. sing-box starts new connection ids
 * after a reload, so a reload neither loses what was counted nor counts it
 * again. MISSED counts the full snapshots in a row that did not list the
 * id: an id is forgotten after two (one could predate a connection the
 * stream already told of), which bounds the book by what sing-box lists.
 */
#ifndef ATLAS_SB_TRAFFIC_H
#define ATLAS_SB_TRAFFIC_H

#include <jansson.h>

#include "controller/singbox/sb_api.h"

/* t (borrowed, may be NULL or garbage) as a book: a new reference. */
json_t *sb_traffic_book(json_t *t);

/* Adds up/down bytes (negative values count as 0) to NAME's totals. */
void sb_traffic_add(json_t *book, const char *name, long long up, long long down);

/*
 * Counts connections c into book. full: c is a whole snapshot (the first
 * message of the connection stream: the open and recently closed
 * connections), so ids it does not list age and are forgotten; otherwise
 * c are events of the stream. Connections without a user and those skip()
 * says are counted elsewhere (Shadowsocks: SSM's per-user counters) only
 * update "seen". skip may be NULL.
 */
void sb_traffic_conns(json_t *book, const struct sb_conns *c, int full,
		      int (*skip)(const void *arg, const char *inbound), const void *arg);

/* NAME's totals in book (0 when unknown). */
void sb_traffic_user(json_t *book, const char *name, long long *up, long long *down);

#endif
