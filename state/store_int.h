/*
 * store_int.h - what the store's files (store.c, store_db.c,
 * store_history.c, store_watch.c and usage_store.c) share inside the store:
 * its handle and SQLite helpers. Not for other files.
 */
#ifndef ATLAS_STORE_INT_H
#define ATLAS_STORE_INT_H

#include <stddef.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "state/store.h"

#define STORE_STMTS 8

/* The handle: made by store.c's opens, freed by store_close (store_db.c). */
struct store {
	sqlite3 *db;
	char *datadir;
	char actor[STORE_ACTOR_MAX]; /* of the next saves and runs; "": their trigger */
	/* statements prepared once (store_stmt), by the address of their SQL */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STORE_STMTS];
	size_t nstmts;
};

/* -1 with "database: what: SQLite's message" in err. */
int store_db_err(struct store *s, struct atlas_err *err, const char *what);

/* sqlite3_prepare_v2 of sql into *st; -1 with the database's error for what. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what,
		  struct atlas_err *err);

/* sqlite3_exec of sql; -1 with its message in err. */
int store_exec(struct store *s, const char *sql, struct atlas_err *err);

/* A text column, "" for NULL (a printf %s of NULL is undefined). Borrowed. */
static inline const char *col_text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "";
}

#endif
