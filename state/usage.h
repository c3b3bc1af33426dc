/*
 * usage.h - traffic accounting and quotas: the pure rules.
 *
 * Engines report byte counters that start over whenever an interface is
 * recreated, a peer re-added, a session reconnects or sing-box reloads.
 * Atlas folds each reading into a persisted entry per user (usage_fold):
 * only the progress since the last reading is added, so a counter that went
 * backwards or a new session never loses nor double-counts what was already
 * recorded. The total of the current quota period decides whether a user is
 * suspended (usage_verdict); usage_suspend() marks the suspended users of a
 * copy of the desired state (struct wg_peer.suspended and its kin, never
 * stored), which the diffs and renderers then leave off their engine.
 *
 * Users are named per engine: "IF/PEER" for wireguard, the client name for
 * openvpn, the person's name for singbox. rx is what the user sent (upload),
 * tx what the user received (download); a quota counts both. Every function
 * here is pure: the clock comes in as an argument. Days and periods are UTC.
 */
#ifndef ATLAS_USAGE_H
#define ATLAS_USAGE_H

#include <stddef.h>
#include <time.h>

#include "state/model.h"

extern const char *const quota_period_names[];

/* "500MiB", "20GiB", "1TB", "1.5GiB", "1048576" (bytes). 0, or -1 when s is not a size. */
int bytes_parse(const char *s, long long *out);
/* "20 GiB", "20.1 GiB", "512 B" into buf. Cannot fail. */
void bytes_format(long long n, char *buf, size_t len);
/*
 * A quota as it was most likely written: in powers of 1000 when it is a
 * whole number of one and that is the shorter ("5 MB", "1 TB"), else as
 * bytes_format ("2 MiB").
 */
void quota_format(long long n, char *buf, size_t len);

/*
 * The start of the quota period that holds now (UTC midnight): monthly on
 * reset_day (1-28) of this or the previous month, weekly on Monday, daily
 * today; 0 for QUOTA_NEVER.
 */
time_t usage_period_start(time_t now, int period, int reset_day);
/* Days since the epoch of t (UTC). */
long long usage_day(time_t t);

/* One user's persisted accounting. */
struct usage_entry {
	const char *engine;		/* "wireguard", "openvpn", "singbox" (interned) */
	char *user;			/* "wg0/alice", "alice": the view's (usage_view_name) */
	long long last_rx, last_tx;	/* the engine's counters at the last reading */
	long long last_session;		/* openvpn client id of that reading; 0: none */
	long long rx_total, tx_total;	/* all time */
	long long period_start;		/* unix seconds of the period period_* count */
	long long period_rx, period_tx;
};

/*
 * Folds one reading into e. present 0: the engine was read but does not
 * have the user now (peer off the interface, no session): its counters are
 * gone, the next ones start from 0. A new session id or a counter below the
 * last one means the counter started over: all of it is new traffic.
 * period_start is the period the user's quota counts now: a different one
 * starts the period total at 0. *drx, *dtx get what was added. Returns 1
 * when e changed (a row to write), 0 otherwise.
 */
int usage_fold(struct usage_entry *e, int present, long long rx, long long tx, long long session,
	       long long period_start, long long *drx, long long *dtx);

struct usage_names;

/* Entries sorted by engine then user. */
struct usage_view {
	struct usage_entry *v;
	size_t n;
	struct usage_names *names;	/* blocks holding the entries' users; NULL: none owned */
};

/*
 * A copy of name kept by u until usage_view_release(): packed into blocks
 * that never move (entries point into them), not one allocation a user
 * (10,000 small strings pinned the heap pages around them). A block is
 * 256 KiB, above the mmap threshold: a mapping of its own, outside the heap,
 * resident only as far as names fill it. Cannot fail.
 */
char *usage_view_name(struct usage_view *u, const char *name);

/*
 * engine as an entry keeps it: the one static text of each engine Atlas
 * knows (not 12 bytes in every entry), any other name (an older store's)
 * a copy kept by u as usage_view_name() does. Cannot fail.
 */
const char *usage_view_engine(struct usage_view *u, const char *engine);

void usage_view_sort(struct usage_view *u);
/* The entry of engine/user (borrowed) or NULL; u sorted. */
const struct usage_entry *usage_find(const struct usage_view *u, const char *engine,
				     const char *user);
void usage_view_release(struct usage_view *u);

/* A user's quota settings (quota 0: unlimited). */
struct quota_cfg {
	long long quota;
	int period;		/* enum quota_period */
	int reset_day;
};

/* The quota of a user of each engine; sing-box: the first of the person's inbounds that has one. */
struct quota_cfg quota_of_wg(const struct wg_peer *p);
struct quota_cfg quota_of_ovpn(const struct ovpn_client *c);
struct quota_cfg quota_of_sb(const struct atlas_state *st, const char *person);
/* The quota of the sing-box user entry whose quota counts (sb_person.quota; NULL: none). */
struct quota_cfg quota_of_sb_entry(const struct sb_user *u);

/* What e counted in the period of q that holds now (0 when e counts an older one). */
long long usage_period_used(const struct quota_cfg *q, const struct usage_entry *e, time_t now);

/*
 * 1 when the user is over quota at now; why gets
 * "quota 20 GiB used (20.1 GiB since 1 Dec)". 0 otherwise (why empty).
 */
int usage_verdict(const struct quota_cfg *q, const struct usage_entry *e, time_t now, char *why,
		  size_t len);

/*
 * 1 when the user is active but above 90 % of its quota at now; why gets
 * "91 % of quota 20 GiB used". For the plan's warnings.
 */
int usage_near(const struct quota_cfg *q, const struct usage_entry *e, time_t now, char *why,
	       size_t len);

/*
 * Marks every user of st over quota at now (its suspended text set, the
 * others cleared). st is a working copy: nothing of this is stored.
 * Returns the number of suspended users.
 */
size_t usage_suspend(struct atlas_state *st, const struct usage_view *u, time_t now);
/* How many users of st are over quota at now (what usage_suspend would mark). Pure. */
size_t usage_count_suspended(const struct atlas_state *st, const struct usage_view *u, time_t now);
/*
 * 1 when some user of st has a quota: only then does a plan or a run need
 * the usage book (no user without one is suspended or warned of by usage).
 */
int usage_any_quota(const struct atlas_state *st);

#endif
