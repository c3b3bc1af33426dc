/*
 * store_history.c - the lists of the store's history: the generations (who
 * made each, when, its summary) and the recorded apply runs. The rest of the
 * store, opening, migrations, the desired state's rows and each
 * generation's text (reverse deltas, state/delta.c), is store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "state/store.h"
#include "state/store_int.h"

/* A listing of the newest rows of a table: what list_rows() reads. */
struct listing {
	const char *sql;	/* its one parameter: LIMIT */
	const char *what;	/* for errors */
	size_t size;		/* of an element */
	void (*row)(sqlite3_stmt *st, void *el);
	void (*drop)(void *v, size_t k); /* frees k elements read */
};

/*
 * Runs the listing's query for at most max rows and reads each row into a
 * new element: the elements into *out, their number into *n. On failure
 * frees what was read; *out is NULL.
 */
static int list_rows(struct store *s, const struct listing *l, size_t max, void **out, size_t *n,
		     struct atlas_err *err)
{
	sqlite3_stmt *st;
	char *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(store_db(s), l->sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_err(s, err, l->what);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * l->size);
		l->row(st, v + k * l->size);
		k++;
	}
	if (rc != SQLITE_DONE) {
		store_db_err(s, err, l->what);
		l->drop(v, k);
	} else {
		*out = v;
		*n = k;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void gen_row(sqlite3_stmt *st, void *el)
{
	struct gen_info *g = el;

	g->gen = sqlite3_column_int64(st, 0);
	g->created_at = sqlite3_column_int64(st, 1);
	snprintf(g->trigger, sizeof(g->trigger), "%s", col_text(st, 2));
	snprintf(g->summary, sizeof(g->summary), "%s", col_text(st, 3));
	snprintf(g->actor, sizeof(g->actor), "%s", col_text(st, 4));
}

static void gens_drop(void *v, size_t k)
{
	(void)k;
	free(v);
}

static const struct listing generations_listing = {
	"SELECT gen, created_at, trigger, summary, actor FROM generations ORDER BY gen DESC LIMIT ?",
	"generations", sizeof(struct gen_info), gen_row, gens_drop,
};

int store_generations(struct store *s, size_t max, struct gen_info **out, size_t *n,
		      struct atlas_err *err)
{
	void *v;
	int rc = list_rows(s, &generations_listing, max, &v, n, err);

	*out = v;
	return rc;
}

int store_record_run(struct store *s, struct run_info *run, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int ret = -1;

	if (store_prepare(s, "INSERT INTO apply_runs (started_at, finished_at, trigger, "
		    "generation, ok, actions, error, actor) VALUES (?, ?, ?, ?, ?, ?, ?, "
		    "CASE WHEN ?8 <> '' THEN ?8 ELSE coalesce((SELECT actor FROM "
		    "generations WHERE gen = ?4), '') END)",
		    &st, "apply_runs", err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run->started_at);
	sqlite3_bind_int64(st, 2, run->finished_at);
	sqlite3_bind_text(st, 3, run->trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, run->generation);
	sqlite3_bind_int(st, 5, run->ok);
	sqlite3_bind_text(st, 6, run->actions ? run->actions : "[]", -1, SQLITE_STATIC);
	if (run->error)
		sqlite3_bind_text(st, 7, run->error, -1, SQLITE_STATIC);
	/* the run's own actor, else this connection's, else the generation's */
	sqlite3_bind_text(st, 8, *run->actor ? run->actor : store_actor(s), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE) {
		run->id = sqlite3_last_insert_rowid(store_db(s));
		ret = 0;
	} else {
		store_db_err(s, err, "apply_runs");
	}
	sqlite3_finalize(st);
	/* Runs are a log: keep the last 1000. */
	store_exec(s, "DELETE FROM apply_runs WHERE id <= (SELECT MAX(id) - 1000 FROM apply_runs)", NULL);
	return ret;
}

static void run_row(sqlite3_stmt *st, void *el)
{
	const char *e = (const char *)sqlite3_column_text(st, 7);
	struct run_info *r = el;

	r->id = sqlite3_column_int64(st, 0);
	r->started_at = sqlite3_column_int64(st, 1);
	r->finished_at = sqlite3_column_int64(st, 2);
	snprintf(r->trigger, sizeof(r->trigger), "%s", col_text(st, 3));
	r->generation = sqlite3_column_int64(st, 4);
	r->ok = sqlite3_column_int(st, 5);
	r->actions = xstrdup(col_text(st, 6));
	r->error = e ? xstrdup(e) : NULL;
	snprintf(r->actor, sizeof(r->actor), "%s", col_text(st, 8));
}

static void runs_drop(void *v, size_t k)
{
	store_runs_free(v, k);
}

static const struct listing runs_listing = {
	"SELECT id, started_at, finished_at, trigger, generation, ok, actions, error, actor "
	"FROM apply_runs ORDER BY id DESC LIMIT ?",
	"apply_runs", sizeof(struct run_info), run_row, runs_drop,
};

int store_runs(struct store *s, size_t max, struct run_info **out, size_t *n, struct atlas_err *err)
{
	void *v;
	int rc = list_rows(s, &runs_listing, max, &v, n, err);

	*out = v;
	return rc;
}

void store_runs_free(struct run_info *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(runs[i].actions);
		free(runs[i].error);
	}
	free(runs);
}
