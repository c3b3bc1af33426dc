/*
 * store.c - SQLite persistence of the desired state.
 *
 * The tables mirror the field tables of schema.c, so loading and saving are
 * generic walks: one row per object, one table per list, children linked to
 * their parent by parent_id with ON DELETE CASCADE. A save replaces every row
 * in one transaction (simple, and fast enough: see bench/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../lib/fileio.h"
#include "schema.h"
#include "store.h"
#include "yaml.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated from schema/NNN_*.sql by the Makefile (build/gen/migrations.c). */
extern const struct migration atlas_migrations[];
extern const int atlas_nmigrations;

struct store {
	sqlite3 *db;
	char *datadir;
};

static int db_err(struct store *s, struct atlas_err *err, const char *what)
{
	return err_set(err, ERR_IO, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct atlas_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, ERR_IO, "database: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int migrate(struct store *s, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int version = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > atlas_nmigrations)
		return err_set(err, ERR_UNSUPPORTED,
			       "database \"%s/atlas.db\" has schema version %d, newer than this "
			       "atlas knows (%d): upgrade atlas",
			       s->datadir, version, atlas_nmigrations);
	for (int i = version; i < atlas_nmigrations; i++) {
		char pragma[64];

		if (exec(s, "BEGIN IMMEDIATE", err) < 0)
			return -1;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 atlas_migrations[i].version);
		if (exec(s, atlas_migrations[i].sql, err) < 0 || exec(s, pragma, err) < 0) {
			exec(s, "ROLLBACK", NULL);
			return err_wrap(err, "migration %s", atlas_migrations[i].name);
		}
		if (exec(s, "COMMIT", err) < 0)
			return -1;
	}
	return 0;
}

int store_open(const char *datadir, struct store **out, struct atlas_err *err)
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
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		err_set(err, ERR_IO, "cannot open database \"%s\": %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
		    "PRAGMA synchronous = NORMAL",
		 err) < 0) {
		err_wrap(err, "database \"%s\"", path);
		goto out;
	}
	if (migrate(s, err) < 0)
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	umask(old);
	free(path);
	store_close(s);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s->datadir);
	free(s);
}

const char *store_datadir(const struct store *s)
{
	return s->datadir;
}

struct sqlite3 *store_db(struct store *s)
{
	return s->db;
}

/* A text column, "" for NULL (a printf %s of NULL is undefined). Borrowed. */
static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "";
}

/* ---- the generic row mapper ---- */

static int is_column(const struct field *f)
{
	return f->type != F_OBJ && f->type != F_SECTION && f->type != F_LIST;
}

static void bind_field(sqlite3_stmt *st, int col, const struct field *f, const void *p)
{
	const void *fp = FIELD_CPTR(p, f);

	switch (f->type) {
	case F_STR:
		if (*(char *const *)fp)
			sqlite3_bind_text(st, col, *(char *const *)fp, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, col);
		break;
	case F_KEY:
		if (*(const char *)fp)
			sqlite3_bind_text(st, col, fp, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, col);
		break;
	case F_INT:
	case F_BOOL:
		sqlite3_bind_int(st, col, *(const int *)fp);
		break;
	case F_I64:
		sqlite3_bind_int64(st, col, *(const long long *)fp);
		break;
	case F_ENUM:
		sqlite3_bind_text(st, col, f->enum_names[*(const int *)fp], -1, SQLITE_STATIC);
		break;
	case F_STRV: {
		char *j = strv_join(fp, "\n");

		sqlite3_bind_text(st, col, j, -1, free);
		break;
	}
	default:
		break;
	}
}

static void read_field(sqlite3_stmt *st, int col, const struct field *f, void *p)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	void *fp = FIELD_PTR(p, f);

	switch (f->type) {
	case F_STR:
		*(char **)fp = t ? xstrdup(t) : NULL;
		break;
	case F_KEY:
		snprintf(fp, KEY_B64, "%s", t ? t : "");
		break;
	case F_INT:
	case F_BOOL:
		*(int *)fp = sqlite3_column_int(st, col);
		break;
	case F_I64:
		*(long long *)fp = sqlite3_column_int64(st, col);
		break;
	case F_ENUM:
		for (int i = 0; t && f->enum_names[i]; i++)
			if (!strcmp(f->enum_names[i], t))
				*(int *)fp = i;
		break;
	case F_STRV:
		strv_split(fp, t, '\n');
		break;
	default:
		break;
	}
}

/* "INSERT INTO t (parent_id, a, b) VALUES (?, ?, ?)" or with id = 1. */
static char *insert_sql(const struct schema *s, int single)
{
	struct buf b = BUF_INIT, v = BUF_INIT;

	buf_printf(&b, "INSERT INTO %s (%s", s->table, single ? "id" : "parent_id");
	buf_puts(&v, single ? "1" : "?");
	for (size_t i = 0; i < s->nfields; i++)
		if (is_column(&s->fields[i])) {
			buf_printf(&b, ", %s", s->fields[i].name);
			buf_puts(&v, ", ?");
		}
	buf_printf(&b, ") VALUES (%s)", v.data);
	buf_release(&v);
	return buf_detach(&b);
}

static char *select_sql(const struct schema *s, int single)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "SELECT id");
	for (size_t i = 0; i < s->nfields; i++)
		if (is_column(&s->fields[i]))
			buf_printf(&b, ", %s", s->fields[i].name);
	buf_printf(&b, " FROM %s WHERE %s ORDER BY %s", s->table,
		   single ? "id = 1" : "parent_id = ?", single ? "id" : "name");
	return buf_detach(&b);
}

static int save_children(struct store *s, const struct schema *sc, const void *p,
			 sqlite3_int64 id, struct atlas_err *err);

static int save_object(struct store *s, const struct schema *sc, const void *p, int single,
		       sqlite3_int64 parent, sqlite3_stmt **cache, struct atlas_err *err)
{
	sqlite3_stmt *st = *cache;
	int col = 1;

	if (!st) {
		char *sql = insert_sql(sc, single);
		int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

		free(sql);
		if (rc != SQLITE_OK)
			return db_err(s, err, sc->table);
		*cache = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!single)
		sqlite3_bind_int64(st, col++, parent);
	for (size_t i = 0; i < sc->nfields; i++)
		if (is_column(&sc->fields[i]))
			bind_field(st, col++, &sc->fields[i], p);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_err(s, err, sc->table);
	return save_children(s, sc, p, sqlite3_last_insert_rowid(s->db), err);
}

static int save_children(struct store *s, const struct schema *sc, const void *p,
			 sqlite3_int64 id, struct atlas_err *err)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];
		const char *arr;
		size_t n;
		sqlite3_stmt *cache = NULL;
		int rc = 0;

		if (f->type != F_LIST)
			continue;
		arr = *(char *const *)FIELD_CPTR(p, f);
		n = *(const size_t *)((const char *)p + f->aux_off);
		for (size_t j = 0; j < n && rc == 0; j++)
			rc = save_object(s, f->sub, arr + j * f->sub->size, 0, id, &cache, err);
		sqlite3_finalize(cache);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int load_children(struct store *s, const struct schema *sc, void *p, sqlite3_int64 id,
			 struct atlas_err *err);

static int load_rows(struct store *s, const struct schema *sc, int single, sqlite3_int64 parent,
		     char **arr_out, size_t *n_out, struct atlas_err *err)
{
	char *sql = select_sql(sc, single);
	sqlite3_stmt *st;
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return db_err(s, err, sc->table);
	if (!single)
		sqlite3_bind_int64(st, 1, parent);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *elem;
		int col = 1;

		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			arr = xrealloc(arr, cap * sc->size);
		}
		elem = arr + n * sc->size;
		schema_init(sc, elem);
		n++;
		for (size_t i = 0; i < sc->nfields; i++)
			if (is_column(&sc->fields[i]))
				read_field(st, col++, &sc->fields[i], elem);
		if (load_children(s, sc, elem, sqlite3_column_int64(st, 0), err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		db_err(s, err, sc->table);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	*arr_out = arr;
	*n_out = n;
	return ret;
}

static int load_children(struct store *s, const struct schema *sc, void *p, sqlite3_int64 id,
			 struct atlas_err *err)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];

		if (f->type != F_LIST)
			continue;
		if (load_rows(s, f->sub, 0, id, (char **)FIELD_PTR(p, f),
			      (size_t *)((char *)p + f->aux_off), err) < 0)
			return -1;
	}
	return 0;
}

/* The root's F_OBJ and F_SECTION fields are single-row tables. */
static int load_state(struct store *s, struct atlas_state *st, struct atlas_err *err)
{
	for (size_t i = 0; i < schema_root.nfields; i++) {
		const struct field *f = &schema_root.fields[i];
		char *arr;
		size_t n;

		if (f->type != F_OBJ && f->type != F_SECTION)
			continue;
		if (load_rows(s, f->sub, 1, 0, &arr, &n, err) < 0) {
			for (size_t j = 0; j < n; j++)
				schema_release(f->sub, arr + j * f->sub->size);
			free(arr);
			return -1;
		}
		if (n == 1) {
			schema_release(f->sub, FIELD_PTR(st, f));
			memcpy(FIELD_PTR(st, f), arr, f->sub->size);
			if (f->type == F_SECTION)
				*(int *)((char *)st + f->aux_off) = 1;
		}
		free(arr);
	}
	return 0;
}

static int save_state(struct store *s, const struct atlas_state *st, struct atlas_err *err)
{
	for (size_t i = 0; i < schema_root.nfields; i++) {
		const struct field *f = &schema_root.fields[i];
		sqlite3_stmt *cache = NULL;
		char *del;
		int rc;

		if (f->type != F_OBJ && f->type != F_SECTION)
			continue;
		del = xasprintf("DELETE FROM %s", f->sub->table);
		rc = exec(s, del, err);
		free(del);
		if (rc < 0)
			return -1;
		if (f->type == F_SECTION && !*(const int *)((const char *)st + f->aux_off))
			continue;
		rc = save_object(s, f->sub, FIELD_CPTR(st, f), 1, 0, &cache, err);
		sqlite3_finalize(cache);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int64_t store_generation(struct store *s)
{
	sqlite3_stmt *st;
	int64_t gen = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT MAX(gen) FROM generations", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			gen = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return gen;
}

int store_load(struct store *s, struct atlas_state **out, int64_t *gen, struct atlas_err *err)
{
	struct atlas_state *st = state_new();
	int ret = -1;

	*out = NULL;
	/* One read transaction: the state and its generation agree. */
	if (exec(s, "BEGIN", err) < 0)
		goto out;
	if (load_state(s, st, err) < 0) {
		exec(s, "ROLLBACK", NULL);
		goto out;
	}
	if (gen)
		*gen = store_generation(s);
	exec(s, "COMMIT", NULL);
	*out = st;
	st = NULL;
	ret = 0;
out:
	state_free(st);
	return ret;
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int store_save(struct store *s, const struct atlas_state *st, const char *trigger,
	       const char *summary, int64_t *gen, struct atlas_err *err)
{
	struct buf yaml = BUF_INIT, last = BUF_INIT;
	sqlite3_stmt *ins = NULL;
	int64_t cur;
	int ret = -1;

	state_to_yaml(st, 1, &yaml);
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	cur = store_generation(s);
	/* Saving what is already stored is not a new generation. */
	if (cur > 0 && store_generation_yaml(s, cur, &last, NULL) == 0 &&
	    !strcmp(buf_str(&last), buf_str(&yaml))) {
		exec(s, "COMMIT", NULL);
		if (gen)
			*gen = cur;
		ret = 0;
		goto out;
	}
	if (save_state(s, st, err) < 0)
		goto rollback;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO generations (gen, created_at, trigger, summary, yaml) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &ins, NULL) != SQLITE_OK) {
		db_err(s, err, "generations");
		goto rollback;
	}
	sqlite3_bind_int64(ins, 1, cur + 1);
	sqlite3_bind_int64(ins, 2, now_ms() / 1000);
	sqlite3_bind_text(ins, 3, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, summary ? summary : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, yaml.data, (int)yaml.len, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		db_err(s, err, "generations");
		goto rollback;
	}
	{
		char *prune = xasprintf("DELETE FROM generations WHERE gen <= %lld",
					(long long)(cur + 1 - st->settings.history_keep));
		int rc = exec(s, prune, err);

		free(prune);
		if (rc < 0)
			goto rollback;
	}
	if (exec(s, "COMMIT", err) < 0)
		goto rollback;
	if (gen)
		*gen = cur + 1;
	ret = 0;
	goto out;
rollback:
	exec(s, "ROLLBACK", NULL);
out:
	sqlite3_finalize(ins);
	buf_release_secure(&yaml);
	buf_release_secure(&last);
	return ret;
}

int store_generation_yaml(struct store *s, int64_t gen, struct buf *out, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT yaml FROM generations WHERE gen = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, err, "generations");
	sqlite3_bind_int64(st, 1, gen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		buf_add(out, col_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		err_set(err, ERR_NOTFOUND, "generation %lld does not exist (or was pruned)",
			(long long)gen);
	} else {
		db_err(s, err, "generations");
	}
	sqlite3_finalize(st);
	return ret;
}

int store_generations(struct store *s, size_t max, struct gen_info **out, size_t *n,
		      struct atlas_err *err)
{
	sqlite3_stmt *st;
	struct gen_info *v = NULL;
	size_t k = 0;
	int rc, ret = -1;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT gen, created_at, trigger, summary FROM generations "
			       "ORDER BY gen DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "generations");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k].gen = sqlite3_column_int64(st, 0);
		v[k].created_at = sqlite3_column_int64(st, 1);
		snprintf(v[k].trigger, sizeof(v[k].trigger), "%s", col_text(st, 2));
		snprintf(v[k].summary, sizeof(v[k].summary), "%s", col_text(st, 3));
		k++;
	}
	if (rc != SQLITE_DONE) {
		db_err(s, err, "generations");
		free(v);
		goto out;
	}
	*out = v;
	*n = k;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int store_record_run(struct store *s, struct run_info *run, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int ret = -1;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO apply_runs (started_at, finished_at, trigger, "
			       "generation, ok, actions, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "apply_runs");
	sqlite3_bind_int64(st, 1, run->started_at);
	sqlite3_bind_int64(st, 2, run->finished_at);
	sqlite3_bind_text(st, 3, run->trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, run->generation);
	sqlite3_bind_int(st, 5, run->ok);
	sqlite3_bind_text(st, 6, run->actions ? run->actions : "[]", -1, SQLITE_STATIC);
	if (run->error)
		sqlite3_bind_text(st, 7, run->error, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE) {
		run->id = sqlite3_last_insert_rowid(s->db);
		ret = 0;
	} else {
		db_err(s, err, "apply_runs");
	}
	sqlite3_finalize(st);
	/* Runs are a log: keep the last 1000. */
	exec(s, "DELETE FROM apply_runs WHERE id <= (SELECT MAX(id) - 1000 FROM apply_runs)", NULL);
	return ret;
}

int store_runs(struct store *s, size_t max, struct run_info **out, size_t *n,
	       struct atlas_err *err)
{
	sqlite3_stmt *st;
	struct run_info *v = NULL;
	size_t k = 0;
	int rc, ret = -1;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, started_at, finished_at, trigger, generation, ok, actions, "
			       "error FROM apply_runs ORDER BY id DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "apply_runs");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *e = (const char *)sqlite3_column_text(st, 7);

		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k].id = sqlite3_column_int64(st, 0);
		v[k].started_at = sqlite3_column_int64(st, 1);
		v[k].finished_at = sqlite3_column_int64(st, 2);
		snprintf(v[k].trigger, sizeof(v[k].trigger), "%s", col_text(st, 3));
		v[k].generation = sqlite3_column_int64(st, 4);
		v[k].ok = sqlite3_column_int(st, 5);
		v[k].actions = xstrdup(col_text(st, 6));
		v[k].error = e ? xstrdup(e) : NULL;
		k++;
	}
	if (rc != SQLITE_DONE) {
		db_err(s, err, "apply_runs");
		store_runs_free(v, k);
		goto out;
	}
	*out = v;
	*n = k;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

void store_runs_free(struct run_info *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(runs[i].actions);
		free(runs[i].error);
	}
	free(runs);
}

char *store_meta_get(struct store *s, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup(col_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

int store_meta_set(struct store *s, const char *key, const char *value, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int ret = -1;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO meta (key, value) VALUES (?, ?) "
			       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = 0;
	else
		db_err(s, err, "meta");
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
	return exec(s, sql, err);
}
