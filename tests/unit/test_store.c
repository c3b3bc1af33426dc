/*
 * test_store.c - the SQLite store: migrations from an empty database, the
 * tables mirror the field tables, round trips, generations and pruning,
 * refusals (newer schema, unwritable directory) and all-or-nothing imports.
 */
#include <sys/stat.h>

#include <sqlite3.h>

#include "testutil.h"

#include "state/commit.h"
#include "state/schema.h"
#include "state/store.h"
#include "state/yaml.h"

static const char base_yaml[] =
	"version: 1\nsettings:\n  host: vpn.example.com\n  history_keep: 3\n"
	"wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
	"      address: [10.8.0.1/24]\n      peers:\n        - name: alice\n        - name: bob\n"
	"openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: carol, static_ip: 10.9.0.10}]\n";

static char *export_secrets(struct store *s)
{
	struct atlas_state *st;
	struct buf b = BUF_INIT;

	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	state_to_yaml(st, 1, &b);
	state_free(st);
	return buf_detach(&b);
}

static void import_ok(struct store *s, const char *yaml, int64_t *gen)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };

	if (state_import_yaml(s, yaml, strlen(yaml), "test", &d, gen, &err) < 0)
		fail_msg("import: %s", err.msg);
	diags_clear(&d);
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
	/* Opening again does not re-run migrations. */
	assert_int_equal(store_open(dir, &s, NULL), 0);
	store_close(s);
	free(db);
	tu_rmrf(dir);
	free(dir);
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
	char *dir = tu_tmpdir();
	struct store *s;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	for (size_t i = 0; i < schema_root.nfields; i++)
		if (schema_root.fields[i].sub)
			check_columns(store_db(s), schema_root.fields[i].sub);
	store_close(s);
	tu_rmrf(dir);
	free(dir);
}

static void test_store__round_trip_and_generations(void **x)
{
	char *dir = tu_tmpdir(), *y1, *y2;
	struct gen_info *gens;
	struct store *s;
	size_t n;
	int64_t gen;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	import_ok(s, base_yaml, &gen);
	assert_int_equal(gen, 1);
	y1 = export_secrets(s);
	assert_non_null(strstr(y1, "private_key"));
	/* The same state again is not a new generation. */
	import_ok(s, y1, &gen);
	assert_int_equal(gen, 1);
	y2 = export_secrets(s);
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
	store_close(s);
	tu_rmrf(dir);
	free(dir);
}

static void test_store__bad_import_changes_nothing(void **x)
{
	char *dir = tu_tmpdir(), *before, *after;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct store *s;
	int64_t gen;
	const char *bad[] = {
		"version: 1\nsettings: {hots: 1}\n",
		"version: 1\nwireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [bad]}\n",
		"version: 1\nopenvpn: {network: 10.9.0.0/24, clients: [{name: a}, {name: a}]}\n",
		"version: 1\nsettings: [\n",
		"\x01\x02\x03",
	};

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	import_ok(s, base_yaml, &gen);
	before = export_secrets(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(state_import_yaml(s, bad[i], strlen(bad[i]), "test", &d, &gen, &err),
				 -1);
		assert_true(d.n > 0);
		diags_clear(&d);
	}
	after = export_secrets(s);
	assert_string_equal(before, after);
	assert_int_equal(store_generation(s), 1);
	free(before);
	free(after);
	store_close(s);
	tu_rmrf(dir);
	free(dir);
}

static void test_store__restore_brings_back_keys(void **x)
{
	char *dir = tu_tmpdir(), *y1, *y3;
	struct diags d = { 0 };
	struct store *s;
	int64_t gen;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
	import_ok(s, base_yaml, &gen);
	y1 = export_secrets(s);
	import_ok(s, "version: 1\nsettings: {}\n", &gen);
	assert_int_equal(gen, 2);
	assert_int_equal(state_restore(s, 1, &d, &gen, NULL), 0);
	assert_int_equal(gen, 3);
	y3 = export_secrets(s);
	assert_string_equal(y1, y3);
	assert_int_equal(state_restore(s, 99, &d, &gen, NULL), -1);
	free(y1);
	free(y3);
	store_close(s);
	tu_rmrf(dir);
	free(dir);
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
	tu_rmrf(dir);
	free(dir);
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
	char *dir = tu_tmpdir(), *v;
	struct run_info run = { 0 }, *runs;
	struct store *s;
	size_t n;

	(void)x;
	assert_int_equal(store_open(dir, &s, NULL), 0);
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
	store_close(s);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__migrates_empty_database),
		cmocka_unit_test(test_store__tables_mirror_schema),
		cmocka_unit_test(test_store__round_trip_and_generations),
		cmocka_unit_test(test_store__bad_import_changes_nothing),
		cmocka_unit_test(test_store__restore_brings_back_keys),
		cmocka_unit_test(test_store__refuses_newer_schema),
		cmocka_unit_test(test_store__refuses_unwritable_dir),
		cmocka_unit_test(test_store__runs_and_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
