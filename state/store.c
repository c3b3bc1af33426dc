/*
 * store.c - SQLite persistence of the desired state.
 *
 * The tables mirror the field tables of schema.c, so loading and saving are
 * generic walks (store_map.c): one row per object, one table per list,
 * children linked to their parent by parent_id with ON DELETE CASCADE. A save
 * is one transaction that writes only the rows that changed, then records the
 * generation (its YAML with secrets).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/clock.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "state/backup.h"
#include "state/store.h"
#include "state/delta.h"
#include "state/store_int.h"
#include "state/store_map.h"
#include "state/store_text.h"
#include "state/sqlite_setup.h"
#include "state/yaml.h"

/* Generated from schema/NNN_*.sql by the Makefile (build/gen/migrations.c). */
extern const struct migration atlas_migrations[];
extern const int atlas_nmigrations;

/*
 * Brings the database to the last of list in one transaction: a failure at
 * any step rolls every step back, and the file stays as it was. A database
 * that has a schema already is backed up first (state/backup.h).
 */
static int migrate(struct store *s, const struct migration *list, int n, struct atlas_err *err)
{
	sqlite3_stmt *st;
	char pragma[64], *saved = NULL;
	int version = 0;
	long pid;

	if (store_prepare(s, "PRAGMA user_version", &st, "user_version", err) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > n)
		return err_set(err, ERR_UNSUPPORTED,
			       "database \"%s/atlas.db\" has schema version %d, newer than this "
			       "atlas knows (%d): upgrade atlas",
			       s->datadir, version, n);
	if (version == n)
		return 0;
	/* an older atlas still serving the directory a newer one is about to migrate */
	if (version > 0 && (pid = store_serve_pid(s->datadir)) && pid != (long)getpid())
		return err_set(err, ERR_CONFLICT,
			       "database \"%s/atlas.db\" has schema version %d and this atlas would "
			       "migrate it to %d, but atlas serve (pid %ld) runs on it with an older "
			       "atlas: stop it first (systemctl stop atlas); the new one's start "
			       "migrates",
			       s->datadir, version, n, pid);
	if (version > 0) {
		if (backup_before_migration(s->datadir, version, &saved, err) < 0)
			return err_wrap(err, "not migrating the database from schema %d without a "
					     "backup",
					version);
		log_info("database schema %d -> %d: backed up first to %s", version, n, saved);
		free(saved);
	}
	if (store_exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (int i = version; i < n; i++) {
		if (store_exec(s, list[i].sql, err) < 0) {
			store_exec(s, "ROLLBACK", NULL);
			return err_wrap(err, "migration %s (the database is unchanged)", list[i].name);
		}
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", list[n - 1].version);
	if (store_exec(s, pragma, err) < 0 || store_exec(s, "COMMIT", err) < 0) {
		store_exec(s, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

/*
 * Refuses a data directory that holds files Atlas made (keys, PKI, engine
 * configs, run records, backups) but no database, or an empty one: that is
 * a lost database, not a first start. Starting over would create a new
 * admin, forget every token epoch and remove what runs on the strength of
 * an empty state.
 */
static int check_not_lost(const char *datadir, const char *path, struct atlas_err *err)
{
	static const char *const ours[] = { "jwt.key", "pki",	  "wireguard", "openvpn",
					    "singbox", "backups", "run",      "atlas.db-wal",
					    "initial-admin-password" };
	struct stat sb;
	struct buf found = BUF_INIT;
	int ret = 0;

	if (stat(path, &sb) == 0 && sb.st_size > 0)
		return 0;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		char *p = xasprintf("%s/%s", datadir, ours[i]);

		if (lstat(p, &sb) == 0)
			buf_printf(&found, "%s%s", found.len ? ", " : "", ours[i]);
		free(p);
	}
	if (found.len)
		ret = err_set(err, ERR_CONFLICT,
			      "data directory \"%s\" holds Atlas files (%s) but its database "
			      "\"%s\" is %s: this is not a first start, nothing was changed. "
			      "Restore the database from a backup (`atlas restore FILE`, or copy a "
			      "saved atlas.db back), or move the directory away to start afresh",
			      datadir, buf_str(&found), path,
			      access(path, F_OK) == 0 ? "empty" : "missing");
	buf_release(&found);
	return ret;
}

int store_open(const char *datadir, struct store **out, struct atlas_err *err)
{
	return store_open_migrations(datadir, atlas_migrations, atlas_nmigrations, out, err);
}

/* The end of an open: s into *out when ret is 0, else closed. Returns ret. */
static int hand_over(struct store *s, int ret, struct store **out)
{
	if (ret == 0)
		*out = s;
	else
		store_close(s);
	return ret;
}

int store_open_migrations(const char *datadir, const struct migration *list, int n,
			  struct store **out, struct atlas_err *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *path = NULL;
	mode_t old;
	int ret = -1;

	*out = NULL;
	s->datadir = xstrdup(datadir);
	old = umask(077);
	if (mkdir_p(datadir, 0700, err) < 0)
		goto out;
	if (access(datadir, W_OK | X_OK) < 0) {
		err_set(err, ERR_IO, "data directory \"%s\" is not writable: %s", datadir,
			strerror(errno));
		goto out;
	}
	path = xasprintf("%s/atlas.db", datadir);
	if (check_not_lost(datadir, path, err) < 0)
		goto out;
	sqlite_setup_once();
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		err_set(err, ERR_IO, "cannot open database \"%s\": %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/*
	 * When the newest generation was one whole row (2.8 MB at 10,000
	 * peers), each edit wrote ~700 pages: checkpointed every 1,000 (SQLite's
	 * default) that was a copy to the database at nearly every edit. Every
	 * 4,000 pages (a WAL of 16 MB at most, on disk) the pages freed and
	 * reused between two checkpoints are copied once. Since the text is in
	 * pieces (store_text.c) an edit writes a few pages, and a save of the
	 * whole text (an import) still gains from it.
	 */
	if (store_exec(s, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
		    "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 4000",
		 err) < 0) {
		err_wrap(err, "database \"%s\"", path);
		goto out;
	}
	if (migrate(s, list, n, err) < 0)
		goto out;
	ret = 0;
out:
	umask(old);
	free(path);
	return hand_over(s, ret, out);
}

/* The schema version of an open database; -1 on error. */
static int schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int version = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

static int open_uri(struct store *s, const char *path, const char *mode)
{
	char *uri = xasprintf("file:%s?%s", path, mode);
	int rc;

	sqlite_setup_once();
	rc = sqlite3_open_v2(uri, &s->db,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, NULL);

	free(uri);
	if (rc == SQLITE_OK)
		rc = schema_version(s) < 0 ? SQLITE_CANTOPEN : SQLITE_OK;
	if (rc != SQLITE_OK) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	return rc;
}

int store_open_ro(const char *datadir, struct store **out, struct atlas_err *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *path = xasprintf("%s/atlas.db", datadir), *wal = xasprintf("%s-wal", path);
	struct stat sb;
	int ret = -1, version;

	*out = NULL;
	s->datadir = xstrdup(datadir);
	if (check_not_lost(datadir, path, err) < 0)
		goto out;
	if (stat(path, &sb) < 0) {
		err_set(err, ERR_NOTFOUND, "no database \"%s\": nothing to read", path);
		goto out;
	}
	/*
	 * mode=ro reads a WAL database when its -shm can be used; on a
	 * read-only disk it may not be, and immutable=1 is then exact as long
	 * as no write-ahead log holds transactions not yet in the file.
	 */
	if (open_uri(s, path, "mode=ro") != SQLITE_OK) {
		if (stat(wal, &sb) == 0 && sb.st_size > 0) {
			err_set(err, ERR_IO,
				"cannot read \"%s\" without writing: its write-ahead log \"%s\" "
				"holds changes and the directory is not writable",
				path, wal);
			goto out;
		}
		if (open_uri(s, path, "immutable=1") != SQLITE_OK) {
			err_set(err, ERR_IO, "cannot open database \"%s\" read-only", path);
			goto out;
		}
	}
	sqlite3_busy_timeout(s->db, 5000);
	version = schema_version(s);
	if (version > atlas_nmigrations) {
		err_set(err, ERR_UNSUPPORTED,
			"database \"%s\" has schema version %d, newer than this atlas knows (%d): "
			"upgrade atlas",
			path, version, atlas_nmigrations);
		goto out;
	}
	if (version < atlas_nmigrations) {
		err_set(err, ERR_UNSUPPORTED,
			"database \"%s\" has schema version %d and needs a migration to %d, which "
			"a read-only command does not do",
			path, version, atlas_nmigrations);
		goto out;
	}
	ret = 0;
out:
	free(path);
	free(wal);
	return hand_over(s, ret, out);
}

int store_load(struct store *s, struct atlas_state **out, int64_t *gen, struct atlas_err *err)
{
	struct atlas_state *st = state_new();
	int ret = -1;

	*out = NULL;
	/* One read transaction: the state and its generation agree. */
	if (store_exec(s, "BEGIN", err) < 0)
		goto out;
	if (store_map_load(s->db, st, err) < 0) {
		store_exec(s, "ROLLBACK", NULL);
		goto out;
	}
	if (gen)
		*gen = store_generation(s);
	store_exec(s, "COMMIT", NULL);
	*out = st;
	st = NULL;
	ret = 0;
out:
	state_free(st);
	return ret;
}

int store_save(struct store *s, const struct atlas_state *st, const char *trigger,
	       const char *summary, int64_t *gen, struct atlas_err *err)
{
	return store_save_edit(s, st, -1, 0, NULL, NULL, NULL, trigger, summary, gen, err);
}

static int generation_text(struct store *s, int64_t gen, struct buf *out, struct text_layout *lay,
			   struct atlas_err *err);

/*
 * A save that writes the whole text (2.8 MB, ~700 pages at 10,000 peers:
 * the first save after an upgrade from whole newest rows, an import, the
 * rare rewrite of every piece) and reads the one before dirtied more pages
 * than the page cache the server gives its connections (512 KiB, 128
 * pages), so SQLite spilled them to the WAL one by one in the middle of the
 * transaction (18 of the 48 ms of a commit of one peer when every edit
 * wrote the whole text). For the length of a save, the cache may hold twice
 * the text before it spills (the text is in memory three times over at this
 * point anyway); 1 after it, SQLite's default. The number is odd: SQLite
 * also reads it as a boolean from its low byte, and an even multiple of 256
 * would turn spilling off altogether.
 */
static void spill_room(struct store *s, size_t text_len)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_spill = %zu",
		 text_len ? (text_len / 2048 + 64) | 1 : 1);
	store_exec(s, sql, NULL);
}

int store_save_edit(struct store *s, const struct atlas_state *st, int64_t base, int64_t expect,
		    int (*yaml_of)(const char *last, size_t len, void *cls, struct buf *out),
		    int (*rows)(struct sqlite3 *db, void *cls, struct store_map_stats *stats,
				struct atlas_err *err),
		    void *cls, const char *trigger, const char *summary, int64_t *gen,
		    struct atlas_err *err)
{
	struct buf yaml = BUF_INIT, last = BUF_INIT, ref = BUF_INIT;
	struct text_layout lay = { 0 };
	struct history_change change = { 0, 0 };
	struct store_map_stats stats;
	sqlite3_stmt *ins = NULL;
	int64_t cur;
	int ret = -1, have_last = 0, spliced = 0;

	/* Encoded before the write lock is taken, unless made from the last generation. */
	if (!yaml_of)
		state_to_yaml(st, 1, &yaml);
	if (store_exec(s, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	/* under the write lock: a watch claimed meanwhile is seen */
	if (store_watch_check(s, err) < 0)
		goto rollback;
	cur = store_generation(s);
	if (expect > 0 && cur != expect) {
		err_set(err, ERR_CONFLICT,
			"the desired state changed while this edit was made (generation %lld, now "
			"%lld: another command or the API stored one): nothing was stored",
			(long long)expect, (long long)cur);
		goto rollback;
	}
	have_last = cur > 0 && generation_text(s, cur, &last, &lay, NULL) == 0;
	spill_room(s, have_last ? last.len : yaml.len);
	spliced = yaml_of && have_last && cur == base && yaml_of(last.data, last.len, cls, &yaml) == 0;
	if (yaml_of && !spliced) {
		buf_release_secure(&yaml);
		state_to_yaml(st, 1, &yaml);
	}
	/* Saving what is already stored is not a new generation (the lengths compared first). */
	if (have_last && last.len == yaml.len && !memcmp(buf_str(&last), buf_str(&yaml), yaml.len)) {
		store_exec(s, "COMMIT", NULL);
		if (gen)
			*gen = cur;
		ret = 0;
		goto out;
	}
	/* the rows of generation base are those of the edit's old state: only its change is written */
	if (spliced && rows ? rows(s->db, cls, &stats, err) < 0
			    : store_map_save(s->db, st, &stats, err) < 0)
		goto rollback;
	log_debug("store: generation %lld: %zu rows inserted, %zu updated, %zu deleted, %zu kept",
		  (long long)(cur + 1), stats.inserted, stats.updated, stats.deleted, stats.kept);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO generations (gen, created_at, trigger, summary, yaml, "
			       "actor) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &ins, NULL) != SQLITE_OK) {
		store_db_err(s, err, "generations");
		goto rollback;
	}
	sqlite3_bind_int64(ins, 1, cur + 1);
	sqlite3_bind_int64(ins, 2, clock_wall_ms() / 1000);
	sqlite3_bind_text(ins, 3, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, summary ? summary : "", -1, SQLITE_STATIC);
	store_text_ref(yaml.len, &ref); /* the text itself goes to its pieces (store_text.c) */
	sqlite3_bind_text(ins, 5, ref.data, (int)ref.len, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, *s->actor ? s->actor : trigger, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		store_db_err(s, err, "generations");
		goto rollback;
	}
	/* where the two texts differ: for the delta and for the pieces to write */
	if (last.data)
		change = history_change_of(last.data, last.len, yaml.data, yaml.len);
	/* the previous newest becomes a reverse delta against this one */
	if (cur > 0 && last.data) {
		struct buf delta = BUF_INIT;
		sqlite3_stmt *up = NULL;
		int rc = -1;

		history_delta_make(last.data, last.len, &change, &delta);
		if (sqlite3_prepare_v2(s->db, "UPDATE generations SET yaml = ? WHERE gen = ?", -1,
				       &up, NULL) == SQLITE_OK) {
			sqlite3_bind_text(up, 1, delta.data, (int)delta.len, SQLITE_STATIC);
			sqlite3_bind_int64(up, 2, cur);
			rc = sqlite3_step(up) == SQLITE_DONE ? 0 : -1;
		}
		sqlite3_finalize(up);
		buf_release_secure(&delta);
		if (rc < 0) {
			store_db_err(s, err, "generations");
			goto rollback;
		}
	}
	/* only the pieces holding what changed are written (all of them after an old whole row) */
	if (store_text_write(s->db, last.len, have_last ? &lay : NULL, &change, yaml.data, yaml.len,
			     err) < 0)
		goto rollback;
	{
		char *prune = xasprintf("DELETE FROM generations WHERE gen <= %lld",
					(long long)(cur + 1 - st->settings.history_keep));
		int rc = store_exec(s, prune, err);

		free(prune);
		if (rc < 0)
			goto rollback;
	}
	if (store_exec(s, "COMMIT", err) < 0)
		goto rollback;
	if (gen)
		*gen = cur + 1;
	ret = 0;
	goto out;
rollback:
	store_exec(s, "ROLLBACK", NULL);
out:
	spill_room(s, 0);
	sqlite3_finalize(ins);
	store_text_layout_release(&lay);
	buf_release(&ref);
	buf_release_secure(&yaml);
	buf_release_secure(&last);
	return ret;
}

/*
 * Generation gen's text into out, and, when it is the newest and kept in
 * pieces, where those lie (lay, may be NULL). In one read transaction
 * unless the caller's: the newest row and its pieces agree.
 */
static int generation_text(struct store *s, int64_t gen, struct buf *out, struct text_layout *lay,
			   struct atlas_err *err)
{
	sqlite3_stmt *st;
	struct buf cur = BUF_INIT;
	int rc, found = 0, ret = -1, own = sqlite3_get_autocommit(s->db);

	/* from the newest (whole, or in pieces) generation down to gen, undoing each delta */
	if (own && store_exec(s, "BEGIN", err) < 0)
		return -1;
	if (store_prepare(s, "SELECT gen, yaml FROM generations WHERE gen >= ? ORDER BY gen DESC", &st,
		    "generations", err) < 0)
		goto done;
	sqlite3_bind_int64(st, 1, gen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t g = sqlite3_column_int64(st, 0);
		const char *text = col_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		if (store_text_is_ref(text, len)) {
			if (cur.data) {
				err_set(err, ERR_INVALID,
					"generation %lld: a text reference below a newer generation",
					(long long)g);
				goto out;
			}
			if (store_text_read(s->db, text, len, g, &cur, g == gen ? lay : NULL, err) < 0)
				goto out;
		} else if (!history_is_delta(text, len)) {
			buf_release_secure(&cur);
			buf_add(&cur, text, len);
		} else if (!cur.data) {
			err_set(err, ERR_INVALID,
				"generation %lld: a history delta without a newer generation",
				(long long)g);
			goto out;
		} else if (history_delta_apply(text, len, &cur, g, err) < 0) {
			goto out;
		}
		found = g == gen;
	}
	if (rc != SQLITE_DONE) {
		store_db_err(s, err, "generations");
		goto out;
	}
	if (!found) {
		err_set(err, ERR_NOTFOUND, "generation %lld does not exist (or was pruned)",
			(long long)gen);
		goto out;
	}
	if (!out->data) {
		*out = cur; /* handed over, not copied and wiped (the newest is the whole text) */
		cur = (struct buf)BUF_INIT;
		if (!out->data)
			buf_add(out, "", 0);
	} else {
		buf_add(out, cur.data ? cur.data : "", cur.len);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release_secure(&cur);
done:
	if (own)
		store_exec(s, "COMMIT", NULL);
	return ret;
}

int store_generation_yaml(struct store *s, int64_t gen, struct buf *out, struct atlas_err *err)
{
	return generation_text(s, gen, out, NULL, err);
}
