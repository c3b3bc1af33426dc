/*
 * usage_store.c - the accounting tables of the store (schema/005_usage.sql):
 * load every user's entry, write one tick's changed entries and daily
 * buckets in one transaction, reset a user's period, read a daily series.
 *
 * The totals are added in SQL (x = x + delta) and read back: a reset made
 * by another connection (`atlas usage reset` while `atlas serve` runs) is
 * kept, not overwritten by a stale copy in memory.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "state/active.h"
#include "state/sb_people.h"
#include "state/store_int.h"
#include "state/usage_store.h"

static int db_fail(sqlite3 *db, struct atlas_err *err, const char *what)
{
	return err_set(err, ERR_IO, "database: %s: %s", what, sqlite3_errmsg(db));
}

/* The eight counter columns of a usage_counters row, from column c on, into e. */
static void read_counters(sqlite3_stmt *st, int c, struct usage_entry *e)
{
	long long *const f[] = { &e->last_rx,	   &e->last_tx,	     &e->last_session,
				 &e->rx_total,	   &e->tx_total,     &e->period_start,
				 &e->period_rx,	   &e->period_tx };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = sqlite3_column_int64(st, c + (int)i);
}

int usage_store_load(struct store *s, struct usage_view *out, struct atlas_err *err)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, ret = -1;

	out->v = NULL;
	out->n = 0;
	out->names = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT engine, user, last_rx, last_tx, last_session, rx_total, "
			       "tx_total, period_start, period_rx, period_tx FROM usage_counters",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct usage_entry *e;

		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		e = &out->v[out->n++];
		memset(e, 0, sizeof(*e));
		e->engine = usage_view_engine(out, col_text(st, 0));
		e->user = usage_view_name(out, col_text(st, 1));
		read_counters(st, 2, e);
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, err, "usage");
		goto out;
	}
	usage_view_sort(out);
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		usage_view_release(out);
	return ret;
}

static const char upsert_sql[] =
	"INSERT INTO usage_counters (engine, user, last_rx, last_tx, last_session, rx_total, "
	"tx_total, period_start, period_rx, period_tx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6, ?7) "
	"ON CONFLICT (engine, user) DO UPDATE SET last_rx = ?3, last_tx = ?4, last_session = ?5, "
	"rx_total = rx_total + ?6, tx_total = tx_total + ?7, "
	"period_rx = CASE WHEN period_start = ?8 THEN period_rx + ?6 ELSE ?6 END, "
	"period_tx = CASE WHEN period_start = ?8 THEN period_tx + ?7 ELSE ?7 END, "
	"period_start = ?8 RETURNING rx_total, tx_total, period_rx, period_tx";
static const char daily_sql[] =
	"INSERT INTO usage_daily (engine, user, day, rx, tx) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (engine, user, day) DO UPDATE SET rx = rx + ?4, tx = tx + ?5";

int usage_store_commit(struct store *s, struct usage_change *v, size_t n, long long day,
		       long long prune_before, struct atlas_err *err)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *up = NULL, *dy = NULL;
	int ret = -1;

	if (!n && prune_before <= 0)
		return 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, "usage: begin");
	if (sqlite3_prepare_v2(db, upsert_sql, -1, &up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, daily_sql, -1, &dy, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct usage_entry *e = v[i].e;
		int rc;

		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, e->engine, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, e->user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, e->last_rx);
		sqlite3_bind_int64(up, 4, e->last_tx);
		sqlite3_bind_int64(up, 5, e->last_session);
		sqlite3_bind_int64(up, 6, v[i].drx);
		sqlite3_bind_int64(up, 7, v[i].dtx);
		sqlite3_bind_int64(up, 8, e->period_start);
		if ((rc = sqlite3_step(up)) != SQLITE_ROW) {
			db_fail(db, err, "usage: write");
			goto out;
		}
		e->rx_total = sqlite3_column_int64(up, 0);
		e->tx_total = sqlite3_column_int64(up, 1);
		e->period_rx = sqlite3_column_int64(up, 2);
		e->period_tx = sqlite3_column_int64(up, 3);
		while (rc == SQLITE_ROW)
			rc = sqlite3_step(up);
		if (!v[i].drx && !v[i].dtx)
			continue;
		sqlite3_reset(dy);
		sqlite3_bind_text(dy, 1, e->engine, -1, SQLITE_STATIC);
		sqlite3_bind_text(dy, 2, e->user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(dy, 3, day);
		sqlite3_bind_int64(dy, 4, v[i].drx);
		sqlite3_bind_int64(dy, 5, v[i].dtx);
		if (sqlite3_step(dy) != SQLITE_DONE) {
			db_fail(db, err, "usage: daily");
			goto out;
		}
	}
	if (prune_before > 0) {
		char sql[96];

		snprintf(sql, sizeof(sql), "DELETE FROM usage_daily WHERE day < %lld", prune_before);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			db_fail(db, err, "usage: prune");
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(up);
	sqlite3_finalize(dy);
	if (sqlite3_exec(db, ret == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK &&
	    ret == 0) {
		db_fail(db, err, "usage: commit");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		ret = -1;
	}
	/*
	 * The pages the write brought into the connection's cache are given back:
	 * a first tick of 10,000 users filled it, then an idle server kept it.
	 */
	sqlite3_db_release_memory(db);
	return ret;
}

int usage_store_reset(struct store *s, const char *user, int *n, struct atlas_err *err)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*n = 0;
	/* the reset and its count together: a view never misses a reset it did not see */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, "usage reset");
	if (sqlite3_prepare_v2(db,
			       "UPDATE usage_counters SET period_rx = 0, period_tx = 0 WHERE user = ?1 "
			       "OR (engine = 'wireguard' AND instr(user, '/') > 0 AND "
			       "substr(user, instr(user, '/') + 1) = ?1)",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage reset");
		goto out;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, err, "usage reset");
		goto out;
	}
	*n = sqlite3_changes(db);
	/* counted, for the accounting of a running server to read its view again (usage_tick.c) */
	if (*n && sqlite3_exec(db,
			       "INSERT INTO meta (key, value) VALUES ('usage_resets', '1') "
			       "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
			       NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage reset");
		goto out;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage reset");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		*n = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int usage_store_rename(struct store *s, const char *engine, const char *from, const char *to,
		       struct atlas_err *err)
{
	static const char *const sql[] = {
		/* rows the new name had (a user gone before) or that a tick made meanwhile go */
		"DELETE FROM usage_counters WHERE engine = ?1 AND user = ?3",
		"DELETE FROM usage_daily WHERE engine = ?1 AND user = ?3",
		"UPDATE usage_counters SET user = ?3 WHERE engine = ?1 AND user = ?2",
		"UPDATE usage_daily SET user = ?3 WHERE engine = ?1 AND user = ?2",
		"INSERT INTO meta (key, value) VALUES ('usage_resets', '1') "
		"ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
	};
	sqlite3 *db = store_db(s);
	int ret = -1;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, "usage rename");
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);

		if (rc == SQLITE_OK && i < 4) {
			sqlite3_bind_text(st, 1, engine, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			db_fail(db, err, "usage rename");
			goto out;
		}
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage rename");
		goto out;
	}
	return 0;
out:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int usage_store_entry(struct store *s, const char *engine, const char *user,
		      struct usage_entry *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT last_rx, last_tx, last_session, rx_total, tx_total, "
			       "period_start, period_rx, period_tx FROM usage_counters "
			       "WHERE engine = ?1 AND user = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, engine, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_counters(st, 0, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

long long usage_store_resets(struct store *s)
{
	char *v = store_meta_get(s, "usage_resets");
	long long n = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return n;
}

#define DAILY_SQL \
	"SELECT day, rx, tx FROM usage_daily WHERE engine = ?1 AND user = ?2 AND day >= ?3 " \
	"ORDER BY day"

/* The daily buckets of one user from statement st (DAILY_SQL, reset after), or NULL. */
static json_t *daily_of(sqlite3 *db, sqlite3_stmt *st, const char *engine, const char *user,
			long long since, struct atlas_err *err)
{
	json_t *arr = json_array();
	int rc;

	sqlite3_bind_text(st, 1, engine, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(st, 0) * 86400;
		struct tm tm;
		char d[40];

		gmtime_r(&t, &tm);
		snprintf(d, sizeof(d), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "day", d, "rx_bytes",
						     (json_int_t)sqlite3_column_int64(st, 1),
						     "tx_bytes",
						     (json_int_t)sqlite3_column_int64(st, 2)));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		db_fail(db, err, "usage daily");
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *usage_store_daily(struct store *s, const char *engine, const char *user, long long since,
			  struct atlas_err *err)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	json_t *arr;

	if (sqlite3_prepare_v2(db, DAILY_SQL, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, err, "usage daily");
		return NULL;
	}
	arr = daily_of(db, st, engine, user, since, err);
	sqlite3_finalize(st);
	return arr;
}

/* The daily series of a report: one statement for every row (prepared once, not per user). */
struct daily_q {
	sqlite3 *db;
	int want;		/* the rows have a series */
	sqlite3_stmt *st;	/* NULL: none could be read */
	long long since;
};

/* One row of the report (usage_report). */
static void report_row(json_t *arr, const struct daily_q *dq, const struct usage_view *u,
		       const char *engine, const char *user, const struct quota_cfg *q,
		       const char *expires, int disabled, int active, const char *suspended,
		       time_t now)
{
	const struct usage_entry *e = usage_find(u, engine, user);
	long long used = usage_period_used(q, e, now);
	const char *state = disabled ? "disabled" : suspended ? "suspended" : !active ? "expired"
											  : "active";
	char qtext[32] = "";
	json_t *row;

	if (q->quota)
		quota_format(q->quota, qtext, sizeof(qtext));
	row = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s?, s:s?, s:s?}", "engine",
			engine, "user", user, "period_start",
			(json_int_t)usage_period_start(now, q->period, q->reset_day), "period_bytes",
			(json_int_t)used, "rx_total", (json_int_t)(e ? e->rx_total : 0), "tx_total",
			(json_int_t)(e ? e->tx_total : 0), "total_bytes",
			(json_int_t)(e ? e->rx_total + e->tx_total : 0), "state", state, "reason",
			suspended, "expires", expires, "quota_text",
			q->quota ? qtext : NULL);
	json_object_set_new(row, "quota", q->quota ? json_integer(q->quota) : json_null());
	json_object_set_new(row, "percent",
			    q->quota ? json_real((double)used * 100.0 / (double)q->quota)
				     : json_null());
	json_object_set_new(row, "quota_period", json_string(quota_period_names[q->period]));
	if (dq->want) {
		json_t *d = dq->st ? daily_of(dq->db, dq->st, engine, user, dq->since, NULL) : NULL;

		json_object_set_new(row, "daily", d ? d : json_array());
	}
	json_array_append_new(arr, row);
}

json_t *usage_report(struct store *s, const struct atlas_state *st, time_t now, int days,
		     const char *person, struct atlas_err *err)
{
	struct sb_people people;
	struct usage_view u;
	struct atlas_state *eff;
	char user[2 * NAME_MAX_LEN + 2], today[MOMENT_LEN];
	struct daily_q dq = { store_db(s), days > 0, NULL, usage_day(now) - days + 1 };
	json_t *arr;

	if (usage_store_load(s, &u, err) < 0)
		return NULL;
	/* a failed prepare leaves the rows without their series, as a failed read did */
	if (days > 0 && sqlite3_prepare_v2(dq.db, DAILY_SQL, -1, &dq.st, NULL) != SQLITE_OK)
		dq.st = NULL;
	eff = state_dup(st);
	usage_suspend(eff, &u, now);
	arr = json_array();
	moment_text((long long)now, today, sizeof(today));
	for (size_t i = 0; eff->has_wireguard && i < eff->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &eff->wireguard.interfaces[i];

		for (size_t k = 0; k < ifc->npeers; k++) {
			const struct wg_peer *p = &ifc->peers[k];
			struct quota_cfg q = quota_of_wg(p);

			if (person && strcmp(person, p->name))
				continue;
			snprintf(user, sizeof(user), "%s/%s", ifc->name, p->name);
			report_row(arr, &dq, &u, "wireguard", user, &q, p->expires, p->disabled,
				   wg_peer_active(p, now), p->suspended, now);
		}
	}
	for (size_t i = 0; eff->has_openvpn && i < eff->openvpn.nclients; i++) {
		const struct ovpn_client *c = &eff->openvpn.clients[i];
		struct quota_cfg q = quota_of_ovpn(c);

		if (person && strcmp(person, c->name))
			continue;
		report_row(arr, &dq, &u, "openvpn", c->name, &q, c->expires, c->disabled,
			   ovpn_client_active(c, today), c->suspended, now);
	}
	sb_people_init(&people, eff);
	for (size_t i = 0; eff->has_singbox && i < eff->singbox.ninbounds; i++)
		for (size_t k = 0; k < eff->singbox.inbounds[i].nusers; k++) {
			const struct sb_user *us = &eff->singbox.inbounds[i].users[k];
			const struct sb_person *who = sb_people_find(&people, us->name);
			struct quota_cfg q;

			/* a person in several inbounds is one row, at the first */
			if (!who || who->first != i || (person && strcmp(person, us->name)))
				continue;
			q = quota_of_sb_entry(who->quota);
			report_row(arr, &dq, &u, "singbox", us->name, &q, us->expires, us->disabled,
				   sb_user_active(us, today), us->suspended, now);
		}
	sb_people_release(&people);
	sqlite3_finalize(dq.st);
	state_free(eff);
	usage_view_release(&u);
	return arr;
}
