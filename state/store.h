/*
 * store.h - the SQLite store of desired state, generations and apply runs.
 *
 * Only state/ talks to SQLite. The database lives in DATADIR/atlas.db (WAL,
 * foreign keys, 0600). Migrations from schema/NNN_name.sql are embedded in the
 * binary and applied in order; PRAGMA user_version is the number of the last
 * one. A database from a newer Atlas is refused.
 */
#ifndef ATLAS_STORE_H
#define ATLAS_STORE_H

#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "state/model.h"

struct store;

/* "admin", "token:NAME", "cli", "watch:FILE", "adopt" (docs/security.md) */
#define STORE_ACTOR_MAX 160

struct gen_info {
	int64_t gen;
	int64_t created_at;	/* unix seconds */
	char trigger[64];	/* "import", "api", "cli", "restore 12", "watch" */
	char summary[256];
	char actor[STORE_ACTOR_MAX]; /* "" for generations older than schema 6 */
};

struct run_info {
	int64_t id;
	int64_t started_at, finished_at;	/* unix milliseconds */
	char trigger[64];
	int64_t generation;
	int ok;
	char *actions;		/* JSON array text; owned */
	char *error;		/* owned or NULL */
	char actor[STORE_ACTOR_MAX]; /* "" when recording: the store's, else the generation's */
};

/* Opens (creating and migrating) DATADIR/atlas.db. */
int store_open(const char *datadir, struct store **out, struct atlas_err *err);
/*
 * Opens the store of datadir for reading only (export, plan, history,
 * client files): nothing is created or migrated, so a read-only data
 * directory (a disk remounted read-only) still works. A database that needs
 * a migration, or a missing one, is an error saying so.
 */
int store_open_ro(const char *datadir, struct store **out, struct atlas_err *err);

/* One schema step (schema/NNN_name.sql, embedded by the Makefile). */
struct migration {
	int version;
	const char *name;
	const char *sql;
};
/*
 * store_open with the n migrations of list instead of the built-in ones
 * (tests give one that fails). All pending steps run in one transaction;
 * a database with a schema already is backed up first
 * (DATADIR/backups/pre-migration-*, the newest 5 kept) and left unchanged
 * when a step fails.
 */
int store_open_migrations(const char *datadir, const struct migration *list, int n,
			  struct store **out, struct atlas_err *err);
/* Closes the database and frees s. Accepts NULL. */
/*
 * The pid the atlas serve of datadir wrote into DATA/serve.lock while it
 * holds the lock; 0 when no serve holds it (or the file is missing).
 */
long store_serve_pid(const char *datadir);
void store_close(struct store *s);
/* The data directory s was opened with (borrowed). */
const char *store_datadir(const struct store *s);

/*
 * Loads the current desired state (new, caller frees) and its generation
 * (0 when nothing was ever stored: then a default state is returned).
 */
int store_load(struct store *s, struct atlas_state **out, int64_t *gen, struct atlas_err *err);

/*
 * Replaces the whole desired state with st in one transaction and records a
 * new generation (its YAML with secrets) when it differs from the current
 * one. Only rows that differ are written (matched by parent and name; the
 * ids of the others are kept); on any error nothing is. *gen gets the
 * generation now current. st must be validated (its lists need not be
 * sorted).
 */
int store_save(struct store *s, const struct atlas_state *st, const char *trigger,
	       const char *summary, int64_t *gen, struct atlas_err *err);

/*
 * store_save of an edit of st against generation base: when that is the
 * current generation, the YAML is made by yaml(last, len, cls, out) from
 * the current one's (last), and the rows are written by rows(db, cls,
 * stats, err) (NULL: merged as store_save does): writing an edit costs its
 * change, not an encoding and a merge of the whole state. When the current
 * generation is another, or yaml() returns -1, it is store_save. With
 * expect > 0, a current generation other than expect (another process
 * committed since st was read) stores nothing: ERR_CONFLICT, so an edit
 * made from an older state cannot undo what came after it.
 */
struct sqlite3;
struct store_map_stats;
int store_save_edit(struct store *s, const struct atlas_state *st, int64_t base, int64_t expect,
		    int (*yaml)(const char *last, size_t len, void *cls, struct buf *out),
		    int (*rows)(struct sqlite3 *db, void *cls, struct store_map_stats *stats,
				struct atlas_err *err),
		    void *cls, const char *trigger, const char *summary, int64_t *gen,
		    struct atlas_err *err);

/* The current generation, 0 when none (or when it cannot be read). */
int64_t store_generation(struct store *s);

/*
 * What the database's files (atlas.db and its WAL) look like: inode, size
 * and modification time of each. Every commit, of any process, writes the
 * WAL (a checkpoint writes atlas.db), so an equal stamp says that nothing
 * was committed since, without a query: an idle server's ticks then run no
 * SQLite code at all. A commit in the same clock tick as the last look and
 * of the same size could pass unseen on kernels without fine-grained
 * timestamps (before 6.13): callers still query now and then.
 */
struct store_stamp {
	struct store_file_stamp {
		unsigned long long ino, size;
		long long mtime_s, mtime_ns;
	} f[2];
};

/* 1 when the files moved since *last (then *last is the new stamp), else 0. */
int store_stamp_moved(struct store *s, struct store_stamp *last);

/* The YAML (with secrets) of generation gen, appended to out. ERR_NOTFOUND. */
int store_generation_yaml(struct store *s, int64_t gen, struct buf *out, struct atlas_err *err);

/* Newest first, at most max. *out new (free with free()). */
int store_generations(struct store *s, size_t max, struct gen_info **out, size_t *n,
		      struct atlas_err *err);

/*
 * Who the following saves and apply runs of this connection are made by
 * (copied; NULL or "": each save's trigger, each run's generation's actor).
 * The API sets it under its store lock before each save.
 */
void store_set_actor(struct store *s, const char *actor);
const char *store_actor(const struct store *s); /* borrowed */

/* Records an apply run; run->id is set. */
int store_record_run(struct store *s, struct run_info *run, struct atlas_err *err);
/* Newest first, at most max. Free with store_runs_free. */
int store_runs(struct store *s, size_t max, struct run_info **out, size_t *n,
	       struct atlas_err *err);
void store_runs_free(struct run_info *runs, size_t n);

/* The generation last applied successfully (meta "applied_generation"). */
int64_t store_applied_generation(struct store *s);
int store_set_applied_generation(struct store *s, int64_t gen, struct atlas_err *err);

/*
 * GitOps: `atlas serve --watch FILE` keeps the desired state in FILE and
 * says so in the store (claim, released when it stops). While that process
 * lives, every save by another process is refused (ERR_CONFLICT naming the
 * file and the pid): an edit through the CLI would be applied and then
 * stand against the file until its next change. A claim left by a process
 * that is gone (or whose pid now belongs to another process, or was of an
 * earlier boot) is ignored. claim: refused (ERR_CONFLICT) while another
 * live process holds one; checked and made under one write lock. check: 0
 * when this process may save (store_save checks under its write lock).
 */
int store_watch_claim(struct store *s, const char *file, struct atlas_err *err);
void store_watch_release(struct store *s);
int store_watch_check(struct store *s, struct atlas_err *err);

/* Small key/value settings of Atlas itself. get: new string or NULL. */
char *store_meta_get(struct store *s, const char *key);
int store_meta_set(struct store *s, const char *key, const char *value, struct atlas_err *err);

/*
 * Caps SQLite's page cache of this connection at kib KiB (the default is
 * 2 MiB per connection; the daemon keeps two connections open and reads
 * the whole state rarely, so it asks for less).
 */
int store_set_cache_kib(struct store *s, int kib, struct atlas_err *err);

/* The raw handle, for state/ modules that own further tables (auth). */
struct sqlite3 *store_db(struct store *s);
/*
 * The statement of sql prepared once for s (borrowed; reset, bindings
 * cleared), or NULL: for the queries of every request. sql is known by its
 * address (a string literal). sqlite3_reset() it when done, so it holds no
 * read transaction open.
 */
struct sqlite3_stmt;
struct sqlite3_stmt *store_stmt(struct store *s, const char *sql);

#endif
