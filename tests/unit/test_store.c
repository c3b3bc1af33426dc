/*
 * test_store.c - the SQLite store: migrations from an empty database, the
 * tables mirror the field tables, round trips, generations and pruning,
 * refusals (newer schema, unwritable directory), all-or-nothing imports, and
 * saves that write only the rows that changed (row ids of the others kept).
 */
#include <sys/stat.h>

#include <sqlite3.h>

#include "testutil.h"

#include "state/changes.h"

#include "state/commit.h"
#include "state/schema.h"
#include "state/store.h"
#include "state/yaml.h"

static const char base_yaml[] =
	"version: 1\nsettings:\n  host: vpn.example.com\n  history_keep: 3\n"
	"wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
	"      address: [10.8.0.1/24]\n      peers:\n        - name: alice\n        - name: bob\n"
	"openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: carol, static_ip: 10.9.0.10}]\n";

static void import_ok(struct store *s, const char *yaml, int64_t *gen)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };

	if (state_import_yaml(s, yaml, strlen(yaml), "test", &d, gen, &err) < 0)
		fail_msg("import: %s", err.msg);
	diags_clear(&d);
}

extern const int atlas_nmigrations;

static int pragma_int(sqlite3 *db, const char *name)
{
	char *q = xasprintf("PRAGMA %s", name);
	int v = tu_sql_int(db, q);

	free(q);
	return v;
}

static void test_store__migrates_empty_database(void **x)
{
	char *dir = tu_tmpdir();
	struct store *s;
	sqlite3_stmt *st;
	struct atlas_state *state;
	int64_t gen = -1;
	struct stat sb;
	char *db;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(store_db(s), "PRAGMA user_version", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int(st, 0) >= 1);
	sqlite3_finalize(st);
	assert_int_equal(store_load(s, &state, &gen, NULL), 0);
	assert_int_equal(gen, 0);
	assert_int_equal(state->has_wireguard, 0);
	assert_int_equal(state->settings.resync, 30);
	state_free(state);
	store_close(s);
	db = xasprintf("%s/atlas.db", dir);
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/*
	 * Opening again does not re-run migrations: the schema cookie (bumped
	 * by every CREATE/ALTER/DROP) and user_version stay the same.
	 */
	{
		int cookie0, cookie1;

		assert_int_equal(store_open(dir, &s, NULL), 0);
		cookie0 = pragma_int(store_db(s), "schema_version");
		assert_int_equal(pragma_int(store_db(s), "user_version"), atlas_nmigrations);
		store_close(s);
		assert_int_equal(store_open(dir, &s, NULL), 0);
		cookie1 = pragma_int(store_db(s), "schema_version");
		assert_int_equal(pragma_int(store_db(s), "user_version"), atlas_nmigrations);
		store_close(s);
		assert_int_equal(cookie1, cookie0);
	}
	free(db);
	tu_rmrf_free(dir);
}

static void check_columns(sqlite3 *db, const struct schema *sc)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];

		if (f->type == F_LIST || f->type == F_OBJ || f->type == F_SECTION) {
			check_columns(db, f->sub);
			continue;
		}
		{
			char *sql = xasprintf("SELECT %s FROM %s LIMIT 0", f->name, sc->table);
			sqlite3_stmt *st = NULL;

			if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
				fail_msg("field %s.%s has no column: %s", sc->table, f->name,
					 sqlite3_errmsg(db));
			sqlite3_finalize(st);
			free(sql);
		}
	}
}

static void test_store__tables_mirror_schema(void **x)
{
	struct store *s = *x;

	for (size_t i = 0; i < schema_root.nfields; i++)
		if (schema_root.fields[i].sub)
			check_columns(store_db(s), schema_root.fields[i].sub);
}

static void test_store__round_trip_and_generations(void **x)
{
	struct store *s = *x;
	char *y1, *y2;
	struct gen_info *gens;
	size_t n;
	int64_t gen;

	import_ok(s, base_yaml, &gen);
	assert_int_equal(gen, 1);
	y1 = tu_export_secrets(s);
	assert_non_null(strstr(y1, "private_key"));
	/* The same state again is not a new generation. */
	import_ok(s, y1, &gen);
	assert_int_equal(gen, 1);
	y2 = tu_export_secrets(s);
	assert_string_equal(y1, y2);
	free(y2);
	/* Changes are; history_keep: 3 prunes the oldest. */
	for (int i = 0; i < 4; i++) {
		char *t = xasprintf("version: 1\nsettings:\n  history_keep: 3\n  resync: %d\n", 10 + i);
		import_ok(s, t, &gen);
		free(t);
	}
	assert_int_equal(gen, 5);
	assert_int_equal(store_generations(s, 100, &gens, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(gens[0].gen, 5);
	assert_int_equal(gens[2].gen, 3);
	assert_string_equal(gens[0].trigger, "test");
	free(gens);
	free(y1);
}

static void test_store__bad_import_changes_nothing(void **x)
{
	struct store *s = *x;
	char *before, *after;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	int64_t gen;
	const char *bad[] = {
		"version: 1\nsettings: {hots: 1}\n",
		"version: 1\nwireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [bad]}\n",
		"version: 1\nopenvpn: {network: 10.9.0.0/24, clients: [{name: a}, {name: a}]}\n",
		"version: 1\nsettings: [\n",
		"\x01\x02\x03",
	};

	import_ok(s, base_yaml, &gen);
	before = tu_export_secrets(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(state_import_yaml(s, bad[i], strlen(bad[i]), "test", &d, &gen, &err),
				 -1);
		assert_true(d.n > 0);
		diags_clear(&d);
	}
	after = tu_export_secrets(s);
	assert_string_equal(before, after);
	assert_int_equal(store_generation(s), 1);
	free(before);
	free(after);
}

/*
 * A restore keeps how Atlas runs (apply mode, history kept) unless asked,
 * says beforehand what it changes by engine with counts, and its
 * generation's summary says the same.
 */
static void test_store__restore_preview_keeps_runtime_settings(void **x)
{
	struct store *s = *x;
	struct atlas_state *target = NULL, *st = NULL;
	struct gen_info *gens = NULL;
	struct buf text = BUF_INIT;
	json_t *changes = NULL;
	size_t ngens = 0;
	int64_t gen;

	import_ok(s, base_yaml, &gen);
	import_ok(s, "version: 1\nsettings: {host: vpn2.example.com, auto_apply: false}\n", &gen);
	assert_int_equal(state_restore_preview(s, 1, 0, &target, &changes, NULL), 0);
	assert_int_equal(target->settings.auto_apply, 0);
	assert_int_not_equal(target->settings.history_keep, 3);
	state_changes_text(changes, &text);
	assert_string_equal(text.data, "settings: 1 change\n"
				       "  ~ host: vpn2.example.com -> vpn.example.com\n"
				       "wireguard: section added, 3 added\n"
				       "  + interface wg0\n"
				       "  + peer wg0/alice\n"
				       "  + peer wg0/bob\n"
				       "openvpn: section added, 1 added\n"
				       "  + client carol\n");
	assert_int_equal(json_integer_value(json_object_get(changes, "total")), 5);
	json_decref(changes);
	state_free(target);
	buf_reset(&text);
	/* asked for: the restored apply mode and history_keep too */
	assert_int_equal(state_restore_preview(s, 1, 1, &target, &changes, NULL), 0);
	assert_int_equal(target->settings.auto_apply, 1);
	assert_int_equal(target->settings.history_keep, 3);
	state_changes_text(changes, &text);
	TU_HAS(text.data, "settings: 3 changes\n", "  ~ auto_apply: false -> true\n");
	json_decref(changes);
	state_free(target);
	/* the restore itself: apply mode kept, the summary names the change */
	assert_int_equal(state_restore(s, 1, 0, &gen, NULL), 0);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	assert_int_equal(st->settings.auto_apply, 0);
	assert_true(st->has_openvpn && st->has_wireguard);
	assert_int_equal(store_generations(s, 1, &gens, &ngens, NULL), 0);
	assert_int_equal(ngens, 1);
	assert_string_equal(gens[0].summary, "restore generation 1: settings host; wireguard section "
					     "added (3 added); openvpn section added (1 added)");
	free(gens);
	state_free(st);
	buf_release(&text);
}

static void test_store__restore_brings_back_keys(void **x)
{
	struct store *s = *x;
	char *y1, *y3;
	int64_t gen;

	import_ok(s, base_yaml, &gen);
	y1 = tu_export_secrets(s);
	import_ok(s, "version: 1\nsettings: {}\n", &gen);
	assert_int_equal(gen, 2);
	/* with its settings too: byte for byte the same state */
	assert_int_equal(state_restore(s, 1, 1, &gen, NULL), 0);
	assert_int_equal(gen, 3);
	y3 = tu_export_secrets(s);
	assert_string_equal(y1, y3);
	assert_int_equal(state_restore(s, 99, 1, &gen, NULL), -1);
	free(y1);
	free(y3);
}

static void test_store__refuses_newer_schema(void **x)
{
	char *dir = tu_tmpdir();
	struct atlas_err err = { 0 };
	struct store *s;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	assert_int_equal(sqlite3_exec(store_db(s), "PRAGMA user_version = 999", NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(s);
	assert_int_equal(store_open(dir, &s, &err), -1);
	assert_non_null(strstr(err.msg, "has schema version 999, newer than this atlas knows"));
	tu_rmrf_free(dir);
}

/*
 * issue 16.2: a data directory with Atlas's files but an emptied or missing
 * database is refused (with how to restore), and no empty database is
 * created; a directory with nothing of Atlas's is a first start.
 */
static void test_store__refuses_lost_database(void **x)
{
	char *dir = tu_tmpdir(), *db = xasprintf("%s/atlas.db", dir);
	char *pki = xasprintf("%s/pki", dir), *jwt = xasprintf("%s/jwt.key", dir);
	struct atlas_err err = { 0 };
	struct store *s;
	struct stat sb;
	int64_t gen = 0;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	import_ok(s, base_yaml, &gen);
	store_close(s);
	assert_int_equal(file_write_atomic(jwt, "k", 1, 0600, &err), 0);
	assert_int_equal(mkdir(pki, 0700), 0);
	assert_int_equal(truncate(db, 0), 0);
	assert_int_equal(store_open(dir, &s, &err), -1);
	TU_HAS(err.msg, "holds Atlas files (jwt.key, pki", "is empty: this is not a first start",
	       "atlas restore");
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_size, 0); /* nothing written over it */
	assert_int_equal(unlink(db), 0);
	assert_int_equal(store_open(dir, &s, &err), -1);
	assert_non_null(strstr(err.msg, "is missing"));
	assert_int_not_equal(stat(db, &sb), 0);
	/* nothing of Atlas's: a first start */
	assert_int_equal(unlink(jwt), 0);
	assert_int_equal(rmdir(pki), 0);
	assert_int_equal(store_open(dir, &s, &err), 0);
	store_close(s);
	free(db);
	free(pki);
	free(jwt);
	tu_rmrf_free(dir);
}

/*
 * issue 16.13: 100 generations of 300 peers, one peer edited each time,
 * take little more than one copy of the state (every edit used to store the
 * whole state again), and every generation reads back byte for byte, keys
 * included.
 */
/* Imports wg0 with n peers p000.. (no keys: generated) and history_keep keep. */
static void import_peers(struct store *s, int keep, int n, int64_t *gen)
{
	struct buf y = BUF_INIT;

	buf_printf(&y, "version: 1\nsettings:\n  host: vpn.example.com\n  history_keep: %d\n"
		       "wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
		       "      address: [10.8.0.1/16]\n      peers:\n",
		   keep);
	for (int i = 0; i < n; i++)
		buf_printf(&y, "        - name: p%03d\n", i);
	import_ok(s, buf_str(&y), gen);
	buf_release(&y);
}

static void test_store__history_compact_and_exact(void **x)
{
	struct store *s = *x;
	struct buf *texts = xcalloc(101, sizeof(*texts));
	struct atlas_state *st;
	sqlite3_stmt *q;
	int64_t gen = 0, first, total = 0;

	import_peers(s, 100, 300, &first);
	for (int i = 0; i < 99; i++) {
		struct diags d = { 0 };
		struct atlas_err err = { 0 };

		assert_int_equal(store_load(s, &st, NULL, NULL), 0);
		st->wireguard.interfaces[0].peers[(i * 37) % 300].keepalive = 10 + i;
		if (state_commit(s, st, NULL, "test", "edit", &d, &gen, &err) < 0)
			fail_msg("commit: %s", err.msg);
		diags_clear(&d);
		state_free(st);
		assert_int_equal(store_generation_yaml(s, gen, &texts[i + 1], NULL), 0);
	}
	assert_int_equal(store_generation_yaml(s, first, &texts[0], NULL), 0);
	assert_int_equal(gen, first + 99);
	assert_int_equal(sqlite3_prepare_v2(store_db(s),
					    "SELECT SUM(LENGTH(yaml)) FROM generations", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	total = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	/* one whole state plus 99 small deltas, not 100 whole states */
	if ((size_t)total > texts[99].len * 2)
		fail_msg("100 generations take %lld bytes; one state is %zu", (long long)total,
			 texts[99].len);
	/* every generation reads back exactly as it was saved (after all 100 saves) */
	for (int i = 0; i < 100; i++) {
		struct buf again = BUF_INIT;

		assert_int_equal(store_generation_yaml(s, first + i, &again, NULL), 0);
		assert_string_equal(buf_str(&again), buf_str(&texts[i]));
		assert_non_null(strstr(buf_str(&again), "private_key:"));
		buf_release(&again);
	}
	for (int i = 0; i < 101; i++)
		buf_release(&texts[i]);
	free(texts);
}

static void test_store__refuses_unwritable_dir(void **x)
{
	struct atlas_err err = { 0 };
	struct store *s;

	(void)x;
	if (getuid() == 0) {
		/* root writes anywhere: a path under a regular file cannot be created */
		assert_int_equal(store_open("/etc/hostname/data", &s, &err), -1);
		assert_non_null(strstr(err.msg, "cannot create directory"));
	} else {
		assert_int_equal(store_open("/proc/atlas-data", &s, &err), -1);
	}
}

static void test_store__runs_and_meta(void **x)
{
	struct store *s = *x;
	char *v;
	struct run_info run = { 0 }, *runs;
	size_t n;

	run.started_at = 1000;
	run.finished_at = 1500;
	snprintf(run.trigger, sizeof(run.trigger), "cli");
	run.generation = 4;
	run.ok = 1;
	run.actions = "[{\"text\":\"+ x\"}]";
	assert_int_equal(store_record_run(s, &run, NULL), 0);
	assert_int_equal(store_runs(s, 10, &runs, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(runs[0].actions, "[{\"text\":\"+ x\"}]");
	assert_int_equal(runs[0].finished_at - runs[0].started_at, 500);
	store_runs_free(runs, n);
	assert_int_equal(store_applied_generation(s), 0);
	assert_int_equal(store_set_applied_generation(s, 7, NULL), 0);
	assert_int_equal(store_applied_generation(s), 7);
	assert_null(store_meta_get(s, "nope"));
	assert_int_equal(store_meta_set(s, "k", "v1", NULL), 0);
	assert_int_equal(store_meta_set(s, "k", "v2", NULL), 0);
	v = store_meta_get(s, "k");
	assert_string_equal(v, "v2");
	free(v);
}

/* ---- a save writes only the rows that changed ---- */

static const char merge_yaml[] =
	"version: 1\nsettings: {host: vpn.example.com}\n"
	"wireguard:\n  interfaces:\n"
	"    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24],\n"
	"       peers: [{name: alice}, {name: bob}, {name: dave}]}\n"
	"    - {name: wg1, listen_port: 51821, address: [10.7.0.1/24],\n"
	"       peers: [{name: alice}, {name: erin}]}\n"
	"openvpn:\n  network: 10.9.0.0/24\n"
	"  clients: [{name: carol, static_ip: 10.9.0.10}, {name: frank}]\n"
	"singbox:\n  inbounds: [{name: in1, type: vless, port: 8443, server_name: example.com,\n"
	"              users: [{name: u1}, {name: u2}]}]\n";

/*
 * Every row of the state tables as "table parent/name id", one a line,
 * sorted: the ids show which rows were rewritten.
 */
static char *rows_of(struct store *s)
{
	static const char sql[] =
		"SELECT 'settings', '-', id FROM settings UNION ALL "
		"SELECT 'wireguard', '-', id FROM wireguard UNION ALL "
		"SELECT 'openvpn', '-', id FROM openvpn UNION ALL "
		"SELECT 'singbox', '-', id FROM singbox UNION ALL "
		"SELECT 'wg_interfaces', name, id FROM wg_interfaces UNION ALL "
		"SELECT 'wg_peers', i.name || '/' || p.name, p.id FROM wg_peers p "
		"  LEFT JOIN wg_interfaces i ON i.id = p.parent_id UNION ALL "
		"SELECT 'ovpn_clients', name, id FROM ovpn_clients UNION ALL "
		"SELECT 'sb_inbounds', name, id FROM sb_inbounds UNION ALL "
		"SELECT 'sb_users', i.name || '/' || u.name, u.id FROM sb_users u "
		"  LEFT JOIN sb_inbounds i ON i.id = u.parent_id "
		"ORDER BY 1, 2";
	struct buf b = BUF_INIT;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	buf_puts(&b, "\n");
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* an orphan (parent gone without its children) has a NULL name */
		assert_int_equal(sqlite3_column_type(st, 1), SQLITE_TEXT);
		buf_printf(&b, "%s %s %lld\n", sqlite3_column_text(st, 0),
			   sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	return buf_detach(&b);
}

/* The line of key ("wg_peers wg0/alice") in rows, or NULL. */
static const char *row_line(const char *rows, const char *key)
{
	char *pat = xasprintf("\n%s ", key);
	const char *p = strstr(rows, pat);

	free(pat);
	return p ? p + 1 : NULL;
}

/*
 * Every row of before is in after with the same id, except the keys listed
 * in changed (NULL-terminated; "table name"), which are not checked here.
 */
static void assert_rows_kept(const char *before, const char *after, const char *const *changed)
{
	const char *line = before + 1;

	while (*line) {
		const char *end = strchr(line, '\n');
		char *l = xstrndup(line, (size_t)(end - line)), *pat = xasprintf("\n%s\n", l);
		int skip = 0;

		for (size_t i = 0; changed && changed[i]; i++)
			if (!strncmp(l, changed[i], strlen(changed[i])) &&
			    l[strlen(changed[i])] == ' ')
				skip = 1;
		if (!skip && !strstr(after, pat))
			fail_msg("row \"%s\" was rewritten or removed; rows now:%s", l, after);
		free(l);
		free(pat);
		line = end + 1;
	}
}

/* Stores st through state_commit; what loads back is exactly st. */
static void commit_and_check(struct store *s, struct atlas_state *st)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct buf want = BUF_INIT;
	char *got;
	int64_t gen;

	if (state_commit(s, st, NULL, "test", "test", &d, &gen, &err) < 0)
		fail_msg("commit: %s", err.msg);
	diags_clear(&d);
	state_to_yaml(st, 1, &want);
	got = tu_export_secrets(s);
	assert_string_equal(got, buf_str(&want));
	buf_release(&want);
	free(got);
}

/* Appends an object named name to a list (defaults everywhere else). */
static void *list_add(void *arr_p, size_t *n, const struct schema *sc, const char *name)
{
	char **arr = arr_p;
	char *elem;

	*arr = xrealloc(*arr, (*n + 1) * sc->size);
	elem = *arr + *n * sc->size;
	schema_init(sc, elem);
	*(char **)FIELD_PTR(elem, schema_field(sc, "name")) = xstrdup(name);
	(*n)++;
	return elem;
}

/* Removes the object named name from a list. */
static void list_remove(void *arr_p, size_t *n, const struct schema *sc, const char *name)
{
	char *arr = *(char **)arr_p;
	const struct field *nf = schema_field(sc, "name");

	for (size_t i = 0; i < *n; i++) {
		char *elem = arr + i * sc->size;

		if (strcmp(*(char **)FIELD_PTR(elem, nf), name))
			continue;
		schema_release(sc, elem);
		memmove(elem, elem + sc->size, (*n - i - 1) * sc->size);
		(*n)--;
		return;
	}
	fail_msg("no \"%s\" to remove", name);
}

static void rename_to(char **name, const char *to)
{
	free(*name);
	*name = xstrdup(to);
}

/* A case on a new store (STORE_TEST), or on one holding merge_yaml (MERGE_TEST). */
#define STORE_TEST(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, tu_store_teardown)
#define MERGE_TEST(f) cmocka_unit_test_setup_teardown(f, merge_setup, tu_store_teardown)

/* A cmocka setup: tu_store_setup, merge_yaml imported. */
static int merge_setup(void **x)
{
	int64_t gen;

	tu_store_setup(x);
	import_ok(*x, merge_yaml, &gen);
	return 0;
}

static void test_store__save_one_field_writes_one_row(void **x)
{
	struct store *s = *x;
	char *before, *after;
	struct atlas_state *st;
	int before_changes;

	before = rows_of(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->wireguard.interfaces[0].peers[1].keepalive = 25;	/* wg0/bob */
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	/*
	 * the peer's row, the new generation, the previous one turned into a
	 * delta against it, and the one piece of the text holding the change
	 * (deleted, written again): nothing else was written
	 */
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 5);
	assert_int_equal(store_generation(s), 2);
	after = rows_of(s);
	assert_string_equal(before, after);
	/* the same state again writes nothing at all */
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 0);
	assert_int_equal(store_generation(s), 2);
	/* a settings field: the settings row, updated in place (and the same three more) */
	st->settings.resync = 60;
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 5);
	free(after);
	after = rows_of(s);
	assert_string_equal(before, after);
	state_free(st);
	free(before);
	free(after);
}

static void test_store__save_adds_removes_renames(void **x)
{
	struct store *s = *x;
	char *before, *after;
	struct atlas_state *st;
	struct wg_iface *wg0, *wg1;
	struct sb_inbound *in1;

	/* peers: wg0/alice renamed, wg0/dave removed, wg1/zed added */
	before = rows_of(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	wg0 = state_wg_iface(st, "wg0");
	wg1 = state_wg_iface(st, "wg1");
	rename_to(&state_wg_peer(wg0, "alice")->name, "alicia");
	list_remove(&wg0->peers, &wg0->npeers, &schema_wg_peer, "dave");
	list_add(&wg1->peers, &wg1->npeers, &schema_wg_peer, "zed");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_peers wg0/alice", "wg_peers wg0/dave", NULL });
	assert_null(row_line(after, "wg_peers wg0/alice"));
	assert_null(row_line(after, "wg_peers wg0/dave"));
	assert_non_null(row_line(after, "wg_peers wg0/alicia"));
	assert_non_null(row_line(after, "wg_peers wg1/zed"));
	assert_non_null(row_line(after, "wg_peers wg1/alice"));
	free(before);
	before = after;

	/* clients: frank removed, gina added, carol's address changed (in place) */
	list_remove(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "frank");
	list_add(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "gina");
	rename_to(&state_ovpn_client(st, "carol")->static_ip, "10.9.0.11");
	/* sing-box users: u1 removed, u3 added; the inbound's port changed */
	in1 = &st->singbox.inbounds[0];
	list_remove(&in1->users, &in1->nusers, &schema_sb_user, "u1");
	list_add(&in1->users, &in1->nusers, &schema_sb_user, "u3");
	in1->port = 9443;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "ovpn_clients frank", "sb_users in1/u1", NULL });
	assert_null(row_line(after, "ovpn_clients frank"));
	assert_non_null(row_line(after, "ovpn_clients gina"));
	assert_null(row_line(after, "sb_users in1/u1"));
	assert_non_null(row_line(after, "sb_users in1/u3"));
	free(before);
	before = after;

	/* an interface renamed: it and its peers are new rows, wg0's untouched */
	wg1 = state_wg_iface(st, "wg1");
	rename_to(&wg1->name, "wg2");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_interfaces wg1", "wg_peers wg1/alice",
						"wg_peers wg1/erin", "wg_peers wg1/zed", NULL });
	assert_null(row_line(after, "wg_interfaces wg1"));
	assert_null(row_line(after, "wg_peers wg1/alice"));
	assert_non_null(row_line(after, "wg_peers wg2/alice"));
	assert_non_null(row_line(after, "wg_peers wg2/zed"));
	free(before);
	before = after;

	/* an interface added and one removed in the same save */
	list_remove(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface, "wg2");
	wg1 = list_add(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface,
		       "wg9");
	wg1->listen_port = 51829;
	strv_push(&wg1->address, "10.6.0.1/24");
	list_add(&wg1->peers, &wg1->npeers, &schema_wg_peer, "ivan");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_interfaces wg2", "wg_peers wg2/alice",
						"wg_peers wg2/erin", "wg_peers wg2/zed", NULL });
	assert_null(row_line(after, "wg_peers wg2/alice"));
	assert_non_null(row_line(after, "wg_peers wg9/ivan"));
	state_free(st);
	free(before);
	free(after);
}

static void test_store__save_removes_and_readds_sections(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1;
	struct atlas_state *st;
	int64_t gen;

	before = rows_of(s);
	y1 = tu_export_secrets(s);
	/* openvpn gone: its row and its clients (cascade), nothing else */
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->has_openvpn = 0;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn -", "ovpn_clients carol",
						"ovpn_clients frank", NULL });
	assert_null(row_line(after, "openvpn -"));
	assert_null(row_line(after, "ovpn_clients carol"));
	free(after);
	/* wireguard gone too: interfaces and peers with it */
	st->has_wireguard = 0;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_null(row_line(after, "wireguard -"));
	assert_null(row_line(after, "wg_interfaces wg0"));
	assert_null(row_line(after, "wg_peers wg0/bob"));
	assert_non_null(row_line(after, "sb_users in1/u2"));
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn", "ovpn_clients", "wireguard",
						"wg_interfaces", "wg_peers", NULL });
	state_free(st);
	free(after);
	/* both re-added, by importing the first generation's YAML: equal again */
	import_ok(s, y1, &gen);
	after = tu_export_secrets(s);
	assert_string_equal(y1, after);
	free(after);
	after = rows_of(s);
	assert_non_null(row_line(after, "ovpn_clients carol"));
	assert_non_null(row_line(after, "wg_peers wg1/erin"));
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn", "ovpn_clients", "wireguard",
						"wg_interfaces", "wg_peers", NULL });
	free(after);
	free(before);
	free(y1);
}

/* A failure in the middle of a save leaves every table and the generation as they were. */
static void test_store__failed_save_rolls_back(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1, *y2;
	struct atlas_state *st;
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	int64_t gen;

	assert_int_equal(sqlite3_exec(store_db(s),
				      "CREATE TRIGGER boom BEFORE INSERT ON ovpn_clients "
				      "WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	before = rows_of(s);
	y1 = tu_export_secrets(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	/* written before the failing insert: a peer, settings, a removed client */
	st->wireguard.interfaces[0].peers[0].keepalive = 15;
	st->settings.resync = 99;
	list_remove(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "carol");
	list_add(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "boom");
	assert_int_equal(state_commit(s, st, NULL, "test", "test", &d, &gen, &err), -1);
	assert_non_null(strstr(err.msg, "boom"));
	diags_clear(&d);
	after = rows_of(s);
	assert_string_equal(before, after);
	y2 = tu_export_secrets(s);
	assert_string_equal(y1, y2);
	assert_int_equal(store_generation(s), 1);
	state_free(st);
	free(before);
	free(after);
	free(y1);
	free(y2);
}

/* store_save() does not rely on the lists being sorted by name. */
static void test_store__save_unsorted_lists(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1, *y2;
	struct atlas_state *st;
	struct wg_iface *wg0;
	struct wg_peer tmp;
	int64_t gen;

	before = rows_of(s);
	y1 = tu_export_secrets(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	wg0 = &st->wireguard.interfaces[0];
	tmp = wg0->peers[0];
	wg0->peers[0] = wg0->peers[2];
	wg0->peers[2] = tmp;
	assert_int_equal(store_save(s, st, "test", "test", &gen, NULL), 0);
	after = rows_of(s);
	assert_string_equal(before, after);
	y2 = tu_export_secrets(s);
	assert_string_equal(y1, y2);
	state_free(st);
	free(before);
	free(after);
	free(y1);
	free(y2);
}

/* One number a query on the store gives (its first column, first row). */
static long long query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *q;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/*
 * The newest generation's text is kept in pieces (state/store_text.c): its
 * row is a short reference; an edit in the middle rewrites one piece; texts
 * that grow (peers added at the end, long notes) and shrink (peers removed)
 * keep every generation exact; and a database whose newest row is the whole
 * text (written before) reads as it did and is put in pieces at the next save.
 */
static void test_store__history_in_pieces(void **x)
{
	struct store *s = *x;
	struct buf *texts = xcalloc(200, sizeof(*texts));
	struct atlas_state *st;
	sqlite3_stmt *q;
	int64_t gen = 0, first;
	int n = 0, changes;

	import_peers(s, 1000, 600, &first);
	assert_int_equal(store_generation_yaml(s, first, &texts[n++], NULL), 0);
	assert_true(query_int(s, "SELECT COUNT(*) FROM generation_text") >= 4);
	/* one field of a peer in the middle: its row, two generation rows, one piece */
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->wireguard.interfaces[0].peers[300].keepalive = 25;
	changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	assert_int_equal(sqlite3_total_changes(store_db(s)) - changes, 5);
	state_free(st);
	for (int i = 0; i < 120; i++) {
		struct diags d = { 0 };
		struct atlas_err err = { 0 };
		struct wg_iface *ifc;

		assert_int_equal(store_load(s, &st, NULL, NULL), 0);
		ifc = &st->wireguard.interfaces[0];
		if (i < 80) { /* grows at the end: the last piece is cut again */
			ifc->peers = xrealloc(ifc->peers, (ifc->npeers + 1) * sizeof(*ifc->peers));
			schema_init(&schema_wg_peer, &ifc->peers[ifc->npeers]);
			ifc->peers[ifc->npeers].name = xasprintf("z%03d", i);
			ifc->peers[ifc->npeers++].note = xasprintf("%0400d", i);
		} else if (i < 100) { /* shrinks in the middle */
			schema_release(&schema_wg_peer, &ifc->peers[200 + i]);
			memmove(&ifc->peers[200 + i], &ifc->peers[201 + i],
				(ifc->npeers-- - 201 - i) * sizeof(*ifc->peers));
		} else { /* the first peer, then the settings: the first piece */
			ifc->peers[0].keepalive = i;
			st->settings.resync = 30 + i;
		}
		if (state_commit(s, st, NULL, "test", "edit", &d, &gen, &err) < 0)
			fail_msg("commit %d: %s", i, err.msg);
		diags_clear(&d);
		state_free(st);
		assert_int_equal(store_generation_yaml(s, gen, &texts[n++], NULL), 0);
	}
	/* the newest row is a reference; its pieces are the text */
	assert_true(query_int(s, "SELECT LENGTH(yaml) FROM generations ORDER BY gen DESC LIMIT 1") <
		    64);
	assert_true(query_int(s, "SELECT MAX(LENGTH(body)) FROM generation_text") < 3 * 16384);
	/* as a database written before holds it: the newest row whole, no pieces */
	assert_int_equal(sqlite3_prepare_v2(store_db(s),
					    "UPDATE generations SET yaml = ? WHERE gen = ?", -1, &q,
					    NULL),
			 SQLITE_OK);
	sqlite3_bind_text(q, 1, texts[n - 1].data, (int)texts[n - 1].len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, gen);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_exec(store_db(s), "DELETE FROM generation_text", NULL, NULL, NULL),
			 SQLITE_OK);
	for (int pass = 0; pass < 2; pass++) {
		/* every generation reads back exactly as it was saved */
		for (int i = 0; i < n; i++) {
			struct buf again = BUF_INIT;
			int64_t g = i == 0 ? first : first + 1 + i;

			assert_int_equal(store_generation_yaml(s, g, &again, NULL), 0);
			if (strcmp(buf_str(&again), buf_str(&texts[i])))
				fail_msg("pass %d: generation %lld differs", pass, (long long)g);
			buf_release(&again);
		}
		if (pass)
			break;
		/* the next save: in pieces again */
		assert_int_equal(store_load(s, &st, NULL, NULL), 0);
		st->settings.resync = 7;
		commit_and_check(s, st);
		state_free(st);
		assert_true(query_int(s, "SELECT COUNT(*) FROM generation_text") >= 4);
	}
	for (int i = 0; i < n; i++)
		buf_release(&texts[i]);
	free(texts);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_store__migrates_empty_database),
	cmocka_unit_test(test_store__refuses_lost_database),
	STORE_TEST(test_store__history_compact_and_exact),
	STORE_TEST(test_store__history_in_pieces),
	STORE_TEST(test_store__tables_mirror_schema),
	STORE_TEST(test_store__round_trip_and_generations),
	STORE_TEST(test_store__bad_import_changes_nothing),
	STORE_TEST(test_store__restore_brings_back_keys),
	STORE_TEST(test_store__restore_preview_keeps_runtime_settings),
	cmocka_unit_test(test_store__refuses_newer_schema),
	cmocka_unit_test(test_store__refuses_unwritable_dir),
	STORE_TEST(test_store__runs_and_meta),
	MERGE_TEST(test_store__save_one_field_writes_one_row),
	MERGE_TEST(test_store__save_adds_removes_renames),
	MERGE_TEST(test_store__save_removes_and_readds_sections),
	MERGE_TEST(test_store__failed_save_rolls_back),
	MERGE_TEST(test_store__save_unsorted_lists))
