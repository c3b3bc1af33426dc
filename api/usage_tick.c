/*
 * usage_tick.c - accounting at every status tick of `atlas serve`.
 *
 * The ticker hands over the engines' live status; each desired user's
 * counters are folded into its entry (usage_fold: progress only, so a
 * recreated interface, a reconnect or a reload neither loses nor double
 * counts), the changed entries are written in one transaction on the
 * book's own store connection, and the set of users over quota is compared
 * with the last one: a change publishes "suspended" / "resumed" events and
 * tells the caller to wake the reconcile loop, which cuts or restores them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "state/sb_people.h"
#include "state/usage_store.h"
#include "api/api.h"

/* The whole view is read again this often (ticks), to see resets made by other connections. */
#define USAGE_RELOAD_TICKS 20
/*
 * A tick reads the store only when its files moved (store_stamp_moved) or
 * it wrote the tick before, and at least this often (ticks: 10 minutes).
 */
#define USAGE_QUERY_TICKS 200

struct usage_book {
	struct store *store;
	struct usage_view view;
	json_t *suspended;	/* {"wireguard/wg0/alice": "why"}; NULL before the first tick */
	long long pruned_day;
	long long resets;	/* usage_store_resets() when the view was read */
	unsigned ticks;		/* ticks that read the store */
	unsigned quiet;		/* ticks in a row that did not */
	int wrote;		/* the last tick wrote (or tried to) */
	int64_t store_gen;	/* store_generation() at the last read */
	long long store_resets; /* usage_store_resets() at the last read */
	struct store_stamp stamp;
	unsigned long store_ticks; /* ticks that read or wrote the store */
	struct usage_change *ch;
	size_t nch, capch;
};

struct usage_book *usage_book_new(const char *datadir, struct atlas_err *err)
{
	struct usage_book *b = xcalloc(1, sizeof(*b));

	if (store_open(datadir, &b->store, err) < 0 ||
	    store_set_cache_kib(b->store, 128, err) < 0 ||
	    (b->resets = usage_store_resets(b->store), usage_store_load(b->store, &b->view, err)) < 0) {
		usage_book_free(b);
		return NULL;
	}
	return b;
}

void usage_book_free(struct usage_book *b)
{
	if (!b)
		return;
	usage_view_release(&b->view);
	store_close(b->store);
	json_decref(b->suspended);
	free(b->ch);
	free(b);
}

unsigned long usage_book_store_ticks(const struct usage_book *b)
{
	return b ? b->store_ticks : 0;
}

/* Appends an entry for engine/user (counters 0) when the sorted part of the view has none. */
static void want(struct usage_book *b, size_t sorted, size_t *cap, const char *engine,
		 const char *user)
{
	struct usage_view old = { b->view.v, sorted, NULL };
	struct usage_entry *e;

	if (usage_find(&old, engine, user))
		return;
	if (b->view.n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		b->view.v = xrealloc(b->view.v, *cap * sizeof(*b->view.v));
	}
	e = &b->view.v[b->view.n++];
	memset(e, 0, sizeof(*e));
	e->engine = usage_view_engine(&b->view, engine);
	e->user = usage_view_name(&b->view, user);
}

/*
 * Gives every desired user an entry before any change points at one: the
 * new ones appended, then one sort and the duplicates dropped (10,000 new
 * users cost one sort, not one each).
 */
static void add_users(struct usage_book *b, const struct atlas_state *st)
{
	char user[2 * NAME_MAX_LEN + 2];
	size_t sorted = b->view.n, cap = b->view.n, k = 0;

	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++)
		for (size_t j = 0; j < st->wireguard.interfaces[i].npeers; j++) {
			snprintf(user, sizeof(user), "%s/%s", st->wireguard.interfaces[i].name,
				 st->wireguard.interfaces[i].peers[j].name);
			want(b, sorted, &cap, "wireguard", user);
		}
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++)
		want(b, sorted, &cap, "openvpn", st->openvpn.clients[i].name);
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		for (size_t j = 0; j < st->singbox.inbounds[i].nusers; j++)
			want(b, sorted, &cap, "singbox", st->singbox.inbounds[i].users[j].name);
	if (b->view.n == sorted)
		return;
	usage_view_sort(&b->view);
	for (size_t i = 0; i < b->view.n; i++)
		if (!k || strcmp(b->view.v[i].engine, b->view.v[k - 1].engine) ||
		    strcmp(b->view.v[i].user, b->view.v[k - 1].user))
			b->view.v[k++] = b->view.v[i];
	b->view.n = k;
}

static void fold(struct usage_book *b, const char *engine, const char *user, int present,
		 long long rx, long long tx, long long session, const struct quota_cfg *q,
		 time_t now)
{
	struct usage_entry *e = (struct usage_entry *)usage_find(&b->view, engine, user);
	long long drx, dtx;

	if (!e || !usage_fold(e, present, rx, tx, session,
			      (long long)usage_period_start(now, q->period, q->reset_day), &drx,
			      &dtx))
		return;
	if (b->nch == b->capch) {
		b->capch = b->capch ? b->capch * 2 : 32;
		b->ch = xrealloc(b->ch, b->capch * sizeof(*b->ch));
	}
	b->ch[b->nch++] = (struct usage_change){ e, drx, dtx };
}

static void read_wg(struct usage_book *b, const struct atlas_state *st, const struct live_wg *lw,
		    time_t now)
{
	char user[2 * NAME_MAX_LEN + 2];

	for (size_t i = 0; lw && st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];
		const struct live_iface *li = live_wg_iface(lw, ifc->name);

		for (size_t k = 0; k < ifc->npeers; k++) {
			const struct wg_peer *p = &ifc->peers[k];
			const struct live_peer *lp = li ? live_wg_peer(li, &p->public_key) : NULL;
			struct quota_cfg q = quota_of_wg(p);

			snprintf(user, sizeof(user), "%s/%s", ifc->name, p->name);
			fold(b, "wireguard", user, lp != NULL, lp ? lp->rx : 0, lp ? lp->tx : 0, 0, &q,
			     now);
		}
	}
}

static void read_ovpn(struct usage_book *b, const struct atlas_state *st, json_t *ov, time_t now)
{
	json_t *sessions = json_object_get(ov, "sessions"), *s, *per;
	size_t k;

	/* unreadable: nothing known, nothing changed */
	if (!st->has_openvpn || !ov || json_object_get(ov, "error"))
		return;
	/* each name's sessions summed once: [rx, tx, newest client id + 1] */
	per = json_object();
	json_array_foreach(sessions, k, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		long long cid = json_integer_value(json_object_get(s, "client_id"));
		json_t *sum;
		json_int_t rx, tx, id;

		if (!name)
			continue;
		sum = json_object_get(per, name);
		rx = json_integer_value(json_array_get(sum, 0)) +
		     json_integer_value(json_object_get(s, "bytes_received"));
		tx = json_integer_value(json_array_get(sum, 1)) +
		     json_integer_value(json_object_get(s, "bytes_sent"));
		/* client ids only grow: the newest names the sessions seen */
		id = json_integer_value(json_array_get(sum, 2));
		if (cid + 1 > id)
			id = cid + 1;
		json_object_set_new(per, name, json_pack("[I, I, I]", rx, tx, id));
	}
	for (size_t i = 0; i < st->openvpn.nclients; i++) {
		const struct ovpn_client *c = &st->openvpn.clients[i];
		struct quota_cfg q = quota_of_ovpn(c);
		json_t *sum = json_object_get(per, c->name);

		fold(b, "openvpn", c->name, sum != NULL, json_integer_value(json_array_get(sum, 0)),
		     json_integer_value(json_array_get(sum, 1)),
		     json_integer_value(json_array_get(sum, 2)), &q, now);
	}
	json_decref(per);
}

static void read_sb(struct usage_book *b, const struct atlas_state *st, json_t *sb, time_t now)
{
	json_t *users = json_object_get(sb, "users"), *u;
	struct sb_people people;
	size_t k;

	if (!st->has_singbox || !sb)
		return;
	sb_people_init(&people, st);
	/* the driver's totals survive reloads (sb_status.c): absent means no traffic yet */
	json_array_foreach(users, k, u)
	{
		const char *name = json_string_value(json_object_get(u, "name"));
		const struct sb_person *who;
		struct quota_cfg q;

		if (!name)
			continue;
		who = sb_people_find(&people, name);
		q = quota_of_sb_entry(who ? who->quota : NULL);
		fold(b, "singbox", name, 1, json_integer_value(json_object_get(u, "uplink_bytes")),
		     json_integer_value(json_object_get(u, "downlink_bytes")), 0, &q, now);
	}
	sb_people_release(&people);
}

/* Adds key: why to o when the user is over quota at now. */
static void verdict(json_t *o, const struct usage_view *u, const char *engine, const char *user,
		    const struct quota_cfg *q, time_t now)
{
	char why[SUSPENDED_LEN], key[256];

	if (q->quota && usage_verdict(q, usage_find(u, engine, user), now, why, sizeof(why))) {
		snprintf(key, sizeof(key), "%s/%s", engine, user);
		json_object_set_new(o, key, json_string(why));
	}
}

/* {"engine/user": why} of every user over quota at now (new); users without a quota cost nothing. */
static json_t *over_quota(struct usage_book *b, const struct atlas_state *st, time_t now)
{
	char user[2 * NAME_MAX_LEN + 2];
	json_t *o = json_object();
	struct sb_people people;

	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++)
		for (size_t k = 0; k < st->wireguard.interfaces[i].npeers; k++) {
			const struct wg_peer *p = &st->wireguard.interfaces[i].peers[k];
			struct quota_cfg q = quota_of_wg(p);

			if (!q.quota)
				continue;
			snprintf(user, sizeof(user), "%s/%s", st->wireguard.interfaces[i].name,
				 p->name);
			verdict(o, &b->view, "wireguard", user, &q, now);
		}
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++) {
		struct quota_cfg q = quota_of_ovpn(&st->openvpn.clients[i]);

		verdict(o, &b->view, "openvpn", st->openvpn.clients[i].name, &q, now);
	}
	sb_people_init(&people, st);
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		for (size_t k = 0; k < st->singbox.inbounds[i].nusers; k++) {
			const struct sb_user *u = &st->singbox.inbounds[i].users[k];
			const struct sb_person *who;
			struct quota_cfg q;

			if (!u->quota && !u->quota_bytes)
				continue;
			who = sb_people_find(&people, u->name);
			q = quota_of_sb_entry(who ? who->quota : NULL);
			verdict(o, &b->view, "singbox", u->name, &q, now);
		}
	sb_people_release(&people);
	return o;
}

static void publish(struct events *ev, const char *type, const char *key, const char *why)
{
	const char *slash = strchr(key, '/');
	json_t *e = json_pack("{s:s%, s:s, s:s?}", "engine", key, (size_t)(slash - key), "user",
			      slash + 1, "reason", why);

	if (ev)
		events_publish(ev, type, e);
	log_info("usage: %s %s%s%s", key, type, why ? ": " : "", why ? why : "");
	json_decref(e);
}

int usage_book_tick(struct usage_book *b, const struct atlas_state *st, int64_t gen,
		    json_t *live, const struct live_wg *lw, time_t now, struct events *ev)
{
	struct atlas_err err = { 0 };
	long long day = usage_day(now), prune = 0, resets;
	json_t *over, *v;
	const char *key;
	int changed = 0;

	/* unmoved files, not written by this book since: nothing to read again */
	if (store_stamp_moved(b->store, &b->stamp) || b->wrote || ++b->quiet >= USAGE_QUERY_TICKS) {
		b->quiet = 0;
		b->store_ticks++;
		b->store_gen = store_generation(b->store);
		b->store_resets = usage_store_resets(b->store);
		b->ticks++;
	}
	/* a state older than the store's: its names may have moved (a rename) */
	if (gen > 0 && gen < b->store_gen)
		return 0;
	/* a reset (the API's, the CLI's) makes the view stale at once: over quota is judged now */
	resets = b->store_resets;
	if ((b->quiet == 0 && b->ticks % USAGE_RELOAD_TICKS == 0) || resets != b->resets) {
		struct usage_view fresh;

		if (usage_store_load(b->store, &fresh, &err) == 0) {
			usage_view_release(&b->view);
			b->view = fresh;
			b->resets = resets;
		}
	}
	add_users(b, st);
	b->nch = 0;
	read_wg(b, st, lw, now);
	read_ovpn(b, st, json_object_get(live, "openvpn"), now);
	read_sb(b, st, json_object_get(live, "singbox"), now);
	if (b->pruned_day != day)
		prune = day - USAGE_DAYS_KEPT;
	b->wrote = b->nch > 0 || prune > 0;
	b->store_ticks += (unsigned long)b->wrote;
	if (usage_store_commit(b->store, b->ch, b->nch, day, prune, &err) < 0) {
		log_warn("usage: %s", err.msg);
		/* what is in memory is ahead of the store: read it again next tick */
		b->ticks = USAGE_RELOAD_TICKS - 1;
	} else {
		b->pruned_day = day;
	}
	/* a tick's changes are written: the room of many (a first tick: every user) goes back */
	if (b->capch > 256) {
		free(b->ch);
		b->ch = NULL;
		b->capch = b->nch = 0;
	}
	over = over_quota(b, st, now);
	if (b->suspended) {
		json_object_foreach(over, key, v)
		{
			if (!json_object_get(b->suspended, key)) {
				publish(ev, "suspended", key, json_string_value(v));
				changed = 1;
			}
		}
		json_object_foreach(b->suspended, key, v)
		{
			if (!json_object_get(over, key)) {
				publish(ev, "resumed", key, NULL);
				changed = 1;
			}
		}
	}
	json_decref(b->suspended);
	b->suspended = over;
	return changed;
}
