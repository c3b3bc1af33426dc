/*
 * store_db.c - the store's handle and the SQLite helpers its files share:
 * errors, statements prepared once, the generation counter and the meta
 * table (key, value) that holds the applied generation and the watch claim,
 * and the reader of serve.lock (the pid of the `atlas serve` holding it).
 * Nothing here calls back into store.c, which opens and migrates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "state/store.h"
#include "state/store_int.h"

void store_set_actor(struct store *s, const char *actor)
{
	snprintf(s->actor, sizeof(s->actor), "%s", actor ? actor : "");
}

const char *store_actor(const struct store *s)
{
	return s->actor;
}

int store_db_err(struct store *s, struct atlas_err *err, const char *what)
{
	return err_set(err, ERR_IO, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

/* sqlite3_prepare_v2 of sql into *st; -1 with the database's error for what. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what,
		   struct atlas_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_err(s, err, what);
	return 0;
}

int store_exec(struct store *s, const char *sql, struct atlas_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, ERR_IO, "database: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

long store_serve_pid(const char *datadir)
{
	char *path = xasprintf("%s/serve.lock", datadir), buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long pid = 0;
	ssize_t n;

	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = atol(buf);
	}
	close(fd);
	return pid;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	sqlite3_close(s->db);
	free(s->datadir);
	free(s);
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0;

	while (i < s->nstmts && s->stmts[i].sql != sql)
		i++;
	if (i < s->nstmts) {
		sqlite3_reset(s->stmts[i].st);
		sqlite3_clear_bindings(s->stmts[i].st);
		return s->stmts[i].st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	if (s->nstmts == STORE_STMTS) /* not with today's few callers: the last one goes */
		sqlite3_finalize(s->stmts[--s->nstmts].st);
	s->stmts[s->nstmts].sql = sql;
	s->stmts[s->nstmts++].st = st;
	return st;
}

const char *store_datadir(const struct store *s)
{
	return s->datadir;
}

struct sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int64_t store_generation(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT MAX(gen) FROM generations");
	int64_t gen = 0;

	/* Asked for by every API request: prepared once. */
	if (st) {
		if (sqlite3_step(st) == SQLITE_ROW)
			gen = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return gen;
}

int store_stamp_moved(struct store *s, struct store_stamp *last)
{
	static const char *const suffix[2] = { "", "-wal" };
	struct store_stamp now;
	char path[4096];
	struct stat sb;

	memset(&now, 0, sizeof(now));
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/atlas.db%s", s->datadir, suffix[i]);
		if (stat(path, &sb) < 0)
			continue; /* no WAL (yet): zeros, which a new one moves */
		now.f[i].ino = sb.st_ino;
		now.f[i].size = (unsigned long long)sb.st_size;
		now.f[i].mtime_s = sb.st_mtim.tv_sec;
		now.f[i].mtime_ns = sb.st_mtim.tv_nsec;
	}
	if (!memcmp(&now, last, sizeof(now)))
		return 0;
	*last = now;
	return 1;
}

/*
 * Read at every status tick (the usage book's resets): prepared once, so a
 * tick runs no SQL compiler, whose code is most of SQLite's pages.
 */
static const char meta_get_sql[] = "SELECT value FROM meta WHERE key = ?";

char *store_meta_get(struct store *s, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, meta_get_sql);
	char *v = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup(col_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return v;
}

int store_meta_set(struct store *s, const char *key, const char *value, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int ret = -1;

	if (store_prepare(s, "INSERT INTO meta (key, value) VALUES (?, ?) "
		    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		    &st, "meta", err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = 0;
	else
		store_db_err(s, err, "meta");
	sqlite3_finalize(st);
	return ret;
}

int64_t store_applied_generation(struct store *s)
{
	char *v = store_meta_get(s, "applied_generation");
	int64_t g = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return g;
}

int store_set_applied_generation(struct store *s, int64_t gen, struct atlas_err *err)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)gen);
	return store_meta_set(s, "applied_generation", num, err);
}

int store_set_cache_kib(struct store *s, int kib, struct atlas_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib > 0 ? kib : 64);
	return store_exec(s, sql, err);
}
