/*
 * store_map.c - the generic row mapper of the store: loads the tables into
 * the structs, and saves the structs back as a row-level merge.
 *
 * A save reads the stored rows of each list (sorted by name, like the
 * structs after state_sort) in one pass, compares their columns with the
 * new objects, and writes only what differs: editing one peer among 10,000
 * writes one row instead of replacing every row (figures in bench/core.sh).
 * Row ids of untouched rows stay what they were.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "state/keys.h"
#include "state/schema.h"
#include "state/store_map.h"

static int map_err(sqlite3 *db, struct atlas_err *err, const char *what)
{
	return err_set(err, ERR_IO, "database: %s: %s", what, sqlite3_errmsg(db));
}

static int is_column(const struct field *f)
{
	return f->type != F_OBJ && f->type != F_SECTION && f->type != F_LIST;
}

/* The destructor of a bound key's text: wiped, as the key may be secret. */
static void free_key_text(void *text)
{
	OPENSSL_cleanse(text, KEY_B64);
	free(text);
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
		if (KEY_HAS((const struct wg_key *)fp)) {
			char *text = xmalloc(KEY_B64);

			key_text(fp, text);
			sqlite3_bind_text(st, col, text, KEY_B64 - 1, free_key_text);
		} else {
			sqlite3_bind_null(st, col);
		}
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
	case F_STRV:
		sqlite3_bind_text(st, col, strv_join(fp, "\n"), -1, free);
		break;
	default:
		break;
	}
}

/* Binds every column field of p from column first on; the next column. */
static int bind_columns(sqlite3_stmt *st, int first, const struct schema *sc, const void *p)
{
	int col = first;

	for (size_t i = 0; i < sc->nfields; i++)
		if (is_column(&sc->fields[i]))
			bind_field(st, col++, &sc->fields[i], p);
	return col;
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
		/* stored keys were valid: anything else reads as no key */
		if (!t || key_from_text(fp, t) < 0)
			key_wipe(fp);
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

/*
 * 1 when column col of the current row holds exactly what bind_field would
 * store for f: same storage class, same value. Text is compared with
 * CRYPTO_memcmp, as some of it is keys.
 */
static int col_equal(sqlite3_stmt *st, int col, const struct field *f, const void *p)
{
	const void *fp = FIELD_CPTR(p, f);
	int type = sqlite3_column_type(st, col);
	const char *want = NULL;
	char *joined = NULL, key[KEY_B64];
	int eq;

	switch (f->type) {
	case F_INT:
	case F_BOOL:
		return type == SQLITE_INTEGER && sqlite3_column_int64(st, col) == *(const int *)fp;
	case F_I64:
		return type == SQLITE_INTEGER &&
		       sqlite3_column_int64(st, col) == *(const long long *)fp;
	case F_STR:
		want = *(char *const *)fp;
		break;
	case F_KEY:
		key_text(fp, key);
		want = key[0] ? key : NULL;
		break;
	case F_ENUM:
		want = f->enum_names[*(const int *)fp];
		break;
	case F_STRV:
		want = joined = strv_join(fp, "\n");
		break;
	default:
		return 1;
	}
	if (!want) {
		eq = type == SQLITE_NULL;
	} else if (type != SQLITE_TEXT) {
		eq = 0;
	} else {
		const unsigned char *have = sqlite3_column_text(st, col);
		size_t len = strlen(want);

		eq = have && (size_t)sqlite3_column_bytes(st, col) == len &&
		     CRYPTO_memcmp(have, want, len) == 0;
	}
	free(joined);
	OPENSSL_cleanse(key, sizeof(key));
	return eq;
}

/* The current row (id first, then the columns) equals p in every column. */
static int row_equal(sqlite3_stmt *st, const struct schema *sc, const void *p)
{
	int col = 1;

	for (size_t i = 0; i < sc->nfields; i++) {
		if (!is_column(&sc->fields[i]))
			continue;
		if (!col_equal(st, col++, &sc->fields[i], p))
			return 0;
	}
	return 1;
}

/* ---- SQL text, from the field tables ---- */

/* "INSERT INTO t (parent_id, a, b) VALUES (?, ?, ?)", or with id = 1. */
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

/* "SELECT id, a, b FROM t WHERE parent_id = ? ORDER BY name", or id = 1. */
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

/* "UPDATE t SET a = ?, b = ? WHERE id = ?". */
static char *update_sql(const struct schema *s)
{
	struct buf b = BUF_INIT;
	const char *sep = "";

	buf_printf(&b, "UPDATE %s SET ", s->table);
	for (size_t i = 0; i < s->nfields; i++)
		if (is_column(&s->fields[i])) {
			buf_printf(&b, "%s%s = ?", sep, s->fields[i].name);
			sep = ", ";
		}
	buf_puts(&b, " WHERE id = ?");
	return buf_detach(&b);
}

/* ---- load ---- */

static int load_children(sqlite3 *db, const struct schema *sc, void *p, sqlite3_int64 id,
			 struct atlas_err *err);

static int load_rows(sqlite3 *db, const struct schema *sc, int single, sqlite3_int64 parent,
		     char **arr_out, size_t *n_out, struct atlas_err *err)
{
	char *sql = select_sql(sc, single);
	sqlite3_stmt *st;
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = -1;

	*arr_out = NULL;
	*n_out = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return map_err(db, err, sc->table);
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
		if (load_children(db, sc, elem, sqlite3_column_int64(st, 0), err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		map_err(db, err, sc->table);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	*arr_out = arr;
	*n_out = n;
	return ret;
}

static int load_children(sqlite3 *db, const struct schema *sc, void *p, sqlite3_int64 id,
			 struct atlas_err *err)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];

		if (f->type != F_LIST)
			continue;
		if (load_rows(db, f->sub, 0, id, (char **)FIELD_PTR(p, f),
			      (size_t *)((char *)p + f->aux_off), err) < 0)
			return -1;
	}
	return 0;
}

int store_map_load(sqlite3 *db, struct atlas_state *st, struct atlas_err *err)
{
	for (size_t i = 0; i < schema_root.nfields; i++) {
		const struct field *f = &schema_root.fields[i];
		char *arr;
		size_t n;

		if (f->type != F_OBJ && f->type != F_SECTION)
			continue;
		if (load_rows(db, f->sub, 1, 0, &arr, &n, err) < 0) {
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

/* ---- save: a merge per table ---- */

#define MAP_TABLES 16

/* The statements of one table, prepared once per save. */
struct map_stmts {
	const struct schema *sc;
	sqlite3_stmt *sel, *ins, *upd, *del;
	int name_col;		/* the column of "name" in sel */
};

struct mapper {
	sqlite3 *db;
	struct map_stmts t[MAP_TABLES];
	size_t n;
	struct store_map_stats stats;
};

enum row_op { ROW_DELETE, ROW_KEEP, ROW_UPDATE, ROW_INSERT };

/* What the merge decided for one stored row or one new object. */
struct row_action {
	enum row_op op;
	sqlite3_int64 id;	/* the stored row (not for ROW_INSERT) */
	const void *elem;	/* the new object (not for ROW_DELETE) */
};

/* A new object and its name, for sorting when the list is not sorted. */
struct named {
	const char *name;
	const void *elem;
};

static int prepare(sqlite3 *db, char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The statements of sc's table (borrowed), prepared at first use. */
static struct map_stmts *stmts_for(struct mapper *m, const struct schema *sc, int single,
				   struct atlas_err *err)
{
	struct map_stmts *t;

	for (size_t i = 0; i < m->n; i++)
		if (m->t[i].sc == sc)
			return &m->t[i];
	if (m->n == MAP_TABLES) {
		err_set(err, ERR_INTERNAL, "database: more than %d tables", MAP_TABLES);
		return NULL;
	}
	t = &m->t[m->n++];
	t->sc = sc;
	t->name_col = 1;
	for (size_t i = 0; i < sc->nfields && strcmp(sc->fields[i].name, "name"); i++)
		t->name_col += is_column(&sc->fields[i]);
	if (prepare(m->db, select_sql(sc, single), &t->sel) < 0 ||
	    prepare(m->db, insert_sql(sc, single), &t->ins) < 0 ||
	    prepare(m->db, update_sql(sc), &t->upd) < 0 ||
	    prepare(m->db, xasprintf("DELETE FROM %s WHERE id = ?", sc->table), &t->del) < 0) {
		map_err(m->db, err, sc->table);
		return NULL;
	}
	return t;
}

/* Runs a write statement once; resets it and drops its bindings after. */
static int step_write(struct mapper *m, sqlite3_stmt *st, const char *table,
		      struct atlas_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : map_err(m->db, err, table);
}

/* Inserts p and, below it, every object of its lists. */
static int insert_tree(struct mapper *m, const struct schema *sc, int single,
		       sqlite3_int64 parent, const void *p, struct atlas_err *err)
{
	struct map_stmts *t = stmts_for(m, sc, single, err);
	sqlite3_int64 id;

	if (!t)
		return -1;
	if (!single)
		sqlite3_bind_int64(t->ins, 1, parent);
	bind_columns(t->ins, single ? 1 : 2, sc, p);
	if (step_write(m, t->ins, sc->table, err) < 0)
		return -1;
	id = sqlite3_last_insert_rowid(m->db);
	m->stats.inserted++;
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];
		const char *arr;
		size_t n;

		if (f->type != F_LIST)
			continue;
		arr = *(char *const *)FIELD_CPTR(p, f);
		n = *(const size_t *)((const char *)p + f->aux_off);
		for (size_t j = 0; j < n; j++)
			if (insert_tree(m, f->sub, 0, id, arr + j * f->sub->size, err) < 0)
				return -1;
	}
	return 0;
}

static int update_row(struct mapper *m, struct map_stmts *t, sqlite3_int64 id, const void *p,
		      struct atlas_err *err)
{
	int col = bind_columns(t->upd, 1, t->sc, p);

	sqlite3_bind_int64(t->upd, col, id);
	if (step_write(m, t->upd, t->sc->table, err) < 0)
		return -1;
	m->stats.updated++;
	return 0;
}

static int delete_row(struct mapper *m, struct map_stmts *t, sqlite3_int64 id,
		      struct atlas_err *err)
{
	sqlite3_bind_int64(t->del, 1, id);
	if (step_write(m, t->del, t->sc->table, err) < 0)
		return -1;
	m->stats.deleted++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The n objects of arr with their names, sorted by name (new array). */
static struct named *sorted_names(const struct schema *sc, const char *arr, size_t n)
{
	const struct field *nf = schema_field(sc, "name");
	struct named *v = xcalloc(n ? n : 1, sizeof(*v));
	int sorted = 1;

	for (size_t j = 0; j < n; j++) {
		const char *name = *(char *const *)FIELD_CPTR(arr + j * sc->size, nf);

		v[j].name = name ? name : "";
		v[j].elem = arr + j * sc->size;
		if (j && strcmp(v[j - 1].name, v[j].name) > 0)
			sorted = 0;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), by_name);
	return v;
}

static int merge_children(struct mapper *m, const struct schema *sc, const void *p,
			  sqlite3_int64 id, struct atlas_err *err);

/*
 * Merges list f of the object p (row parent) into its table: one pass over
 * the stored rows sorted by name against the new objects sorted by name
 * decides every action, then the actions run once the SELECT is done
 * (writing to a table while a statement reads it is not defined).
 */
static int merge_list(struct mapper *m, const struct field *f, const void *p,
		      sqlite3_int64 parent, struct atlas_err *err)
{
	const struct schema *sc = f->sub;
	const char *arr = *(char *const *)FIELD_CPTR(p, f);
	size_t n = *(const size_t *)((const char *)p + f->aux_off);
	struct map_stmts *t = stmts_for(m, sc, 0, err);
	struct named *v = NULL;
	struct row_action *acts = NULL;
	size_t nacts = 0, cap = 0, j = 0;
	int rc, ret = -1;

	if (!t)
		return -1;
	v = sorted_names(sc, arr, n);
	sqlite3_bind_int64(t->sel, 1, parent);
	for (;;) {
		const char *name = NULL;
		int c = 1;

		rc = sqlite3_step(t->sel);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			map_err(m->db, err, sc->table);
			goto out;
		}
		if (rc == SQLITE_ROW) {
			name = (const char *)sqlite3_column_text(t->sel, t->name_col);
			name = name ? name : "";
		}
		if (nacts + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			acts = xrealloc(acts, cap * sizeof(*acts));
		}
		/* new objects before this row (all that remain after the last one) */
		while (j < n && (!name || (c = strcmp(v[j].name, name)) < 0)) {
			acts[nacts++] = (struct row_action){ ROW_INSERT, 0, v[j++].elem };
			if (nacts + 2 > cap) {
				cap *= 2;
				acts = xrealloc(acts, cap * sizeof(*acts));
			}
		}
		if (!name)
			break;
		if (j < n && c == 0) {
			acts[nacts].op = row_equal(t->sel, sc, v[j].elem) ? ROW_KEEP : ROW_UPDATE;
			acts[nacts].id = sqlite3_column_int64(t->sel, 0);
			acts[nacts++].elem = v[j++].elem;
		} else {
			acts[nacts++] = (struct row_action){ ROW_DELETE,
							     sqlite3_column_int64(t->sel, 0), NULL };
		}
	}
	sqlite3_reset(t->sel);
	sqlite3_clear_bindings(t->sel);
	/* Deletions first: a name moving between parents is free again. */
	for (size_t k = 0; k < nacts; k++)
		if (acts[k].op == ROW_DELETE && delete_row(m, t, acts[k].id, err) < 0)
			goto out;
	for (size_t k = 0; k < nacts; k++) {
		const struct row_action *a = &acts[k];

		if (a->op == ROW_INSERT) {
			if (insert_tree(m, sc, 0, parent, a->elem, err) < 0)
				goto out;
			continue;
		}
		if (a->op == ROW_DELETE)
			continue;
		if (a->op == ROW_UPDATE && update_row(m, t, a->id, a->elem, err) < 0)
			goto out;
		if (a->op == ROW_KEEP)
			m->stats.kept++;
		if (merge_children(m, sc, a->elem, a->id, err) < 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_reset(t->sel);
	free(acts);
	free(v);
	return ret;
}

static int merge_children(struct mapper *m, const struct schema *sc, const void *p,
			  sqlite3_int64 id, struct atlas_err *err)
{
	for (size_t i = 0; i < sc->nfields; i++)
		if (sc->fields[i].type == F_LIST && merge_list(m, &sc->fields[i], p, id, err) < 0)
			return -1;
	return 0;
}

/* A root F_OBJ or F_SECTION: its single-row table, then its lists. */
static int merge_single(struct mapper *m, const struct field *f, const struct atlas_state *st,
			struct atlas_err *err)
{
	const struct schema *sc = f->sub;
	const void *p = FIELD_CPTR(st, f);
	int present = f->type == F_OBJ || *(const int *)((const char *)st + f->aux_off);
	struct map_stmts *t = stmts_for(m, sc, 1, err);
	int rc, exists, equal;

	if (!t)
		return -1;
	rc = sqlite3_step(t->sel);
	exists = rc == SQLITE_ROW;
	equal = exists && present && row_equal(t->sel, sc, p);
	sqlite3_reset(t->sel);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return map_err(m->db, err, sc->table);
	if (!present)
		return exists ? delete_row(m, t, 1, err) : 0;
	if (!exists)
		return insert_tree(m, sc, 1, 0, p, err);
	if (!equal && update_row(m, t, 1, p, err) < 0)
		return -1;
	if (equal)
		m->stats.kept++;
	return merge_children(m, sc, p, 1, err);
}

/* Finalizes m's statements, hands its stats over (stats may be NULL); returns ret. */
static int mapper_end(struct mapper *m, struct store_map_stats *stats, int ret)
{
	for (size_t i = 0; i < m->n; i++) {
		sqlite3_finalize(m->t[i].sel);
		sqlite3_finalize(m->t[i].ins);
		sqlite3_finalize(m->t[i].upd);
		sqlite3_finalize(m->t[i].del);
	}
	if (stats)
		*stats = m->stats;
	return ret;
}

int store_map_save(sqlite3 *db, const struct atlas_state *st, struct store_map_stats *stats,
		   struct atlas_err *err)
{
	struct mapper m = { .db = db };
	int ret = -1;

	for (size_t i = 0; i < schema_root.nfields; i++) {
		const struct field *f = &schema_root.fields[i];

		if ((f->type == F_OBJ || f->type == F_SECTION) && merge_single(&m, f, st, err) < 0)
			goto out;
	}
	ret = 0;
out:
	return mapper_end(&m, stats, ret);
}

/* The id of the row named name under parent in sc's table (0: none), or -1. */
static sqlite3_int64 row_id(sqlite3 *db, const struct schema *sc, sqlite3_int64 parent,
			    const char *name, struct atlas_err *err)
{
	sqlite3_stmt *q = NULL;
	sqlite3_int64 id = 0;
	char *sql = xasprintf("SELECT id FROM %s WHERE parent_id = ? AND name = ?", sc->table);
	int rc;

	if (prepare(db, sql, &q) < 0)
		return map_err(db, err, sc->table);
	sqlite3_bind_int64(q, 1, parent);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		id = map_err(db, err, sc->table);
	sqlite3_finalize(q);
	return id;
}

int store_map_save_elem(sqlite3 *db, const struct schema *psc, const char *pname,
			const struct schema *sc, const void *eo, const void *en,
			struct store_map_stats *stats, struct atlas_err *err)
{
	const char *on = eo ? *(char *const *)eo : NULL, *nn = en ? *(char *const *)en : NULL;
	struct mapper m = { .db = db };
	struct map_stmts *t;
	sqlite3_int64 parent = 1, id = 0;
	int ret = -1;

	for (size_t i = 0; i < sc->nfields; i++)
		if (!is_column(&sc->fields[i]))
			return err_set(err, ERR_INTERNAL, "a %s row has rows of its own", sc->table);
	/* a list of an element of a list under a single row, or of a single row itself */
	if (psc && (parent = row_id(db, psc, 1, pname, err)) <= 0)
		return parent < 0 ? -1 : err_set(err, ERR_INTERNAL, "no %s row %s", psc->table, pname);
	if (eo && (id = row_id(db, sc, parent, on, err)) <= 0)
		return id < 0 ? -1 : err_set(err, ERR_INTERNAL, "no %s row %s", sc->table, on);
	if (!(t = stmts_for(&m, sc, 0, err)))
		goto out;
	if (eo && en && !strcmp(on, nn))
		ret = update_row(&m, t, id, en, err);
	else if ((!eo || delete_row(&m, t, id, err) == 0) &&
		 (!en || insert_tree(&m, sc, 0, parent, en, err) == 0))
		ret = 0;
out:
	return mapper_end(&m, stats, ret);
}
