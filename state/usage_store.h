/*
 * usage_store.h - the accounting tables of the store (usage.h for the rules).
 */
#ifndef ATLAS_USAGE_STORE_H
#define ATLAS_USAGE_STORE_H

#include <jansson.h>

#include "lib/err.h"
#include "state/store.h"
#include "state/usage.h"

/* Every user's entry into out (new, sorted; usage_view_release). -1 with err. */
int usage_store_load(struct store *s, struct usage_view *out, struct atlas_err *err);

/* One changed entry of a tick and what it added. */
struct usage_change {
	struct usage_entry *e;	/* borrowed; its totals are read back from the store */
	long long drx, dtx;
};

/*
 * Writes v[0..n-1] in one transaction: the counters, the totals plus the
 * deltas, and the deltas into day's bucket; with prune_before > 0 removes
 * the buckets of the days before it. Each e gets the stored totals back.
 * On error nothing is written.
 */
int usage_store_commit(struct store *s, struct usage_change *v, size_t n, long long day,
		       long long prune_before, struct atlas_err *err);

/* Starts the current period of user (a name, or IF/PEER) at 0; *n entries reset. */
int usage_store_reset(struct store *s, const char *user, int *n, struct atlas_err *err);
/*
 * The usage of user from (counters, period, daily buckets) becomes to's, in
 * one transaction: a renamed user keeps their quota's count, and the
 * engine's counters go on from where they were (not counted twice). Rows of
 * to go first. Counts as a reset for the views (usage_store_resets).
 */
int usage_store_rename(struct store *s, const char *engine, const char *from, const char *to,
		       struct atlas_err *err);
/* One user's entry into *out (engine and user left NULL): 1, 0 when it has none, -1. */
int usage_store_entry(struct store *s, const char *engine, const char *user,
		      struct usage_entry *out);
/* How many resets (and renames) the store has seen, any process's: views are stale then. */
long long usage_store_resets(struct store *s);

/* [{"day": "YYYY-MM-DD", "rx_bytes", "tx_bytes"}] from day since on (new), or NULL with err. */
json_t *usage_store_daily(struct store *s, const char *engine, const char *user, long long since,
			  struct atlas_err *err);

/*
 * The usage of every user of st at now (new array): {engine, user,
 * period_start, period_bytes, rx_total, tx_total, total_bytes, quota (null:
 * unlimited), quota_text, quota_period, percent, expires, state ("active",
 * "suspended", "disabled", "expired"), reason, and with days > 0 "daily":
 * the last days buckets}; with person set, only the entries of that name
 * (a WireGuard peer of that name on any interface, the OpenVPN client, the
 * sing-box user). NULL with err when the store cannot be read.
 */
json_t *usage_report(struct store *s, const struct atlas_state *st, time_t now, int days,
		     const char *person, struct atlas_err *err);

/* How many daily buckets are kept: 400 days and today. */
#define USAGE_DAYS_KEPT 400

#endif
