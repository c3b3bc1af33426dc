/*
 * test_store.c - the SQLite store: migrations from an empty database, the
 * tables mirror the field tables, round trips, generations and pruning, the
 * history kept in pieces, refusals (newer schema, unwritable directory),
 * all-or-nothing imports. Saves that write only the rows that changed are
 * in test_store_rows.c.
 */
#include <sys/stat.h>

#include <sqlite3.h>

#include "store_fx.h"

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

/*
 * A rotated subscription token stays rotated through a restore (the old URL
 * leaked: it must not work again); the rest comes back as it was.
 */
static void test_store__restore_keeps_rotated_tokens(void **x)
{
	static const char sb_yaml[] =
		"version: 1\nsingbox:\n  inbounds:\n"
		"  - {name: e, type: vless, port: 8443, server_name: a.example,"
		" users: [{name: alice}, {name: bob}]}\n";
	static const char tok[] = "rotated-token-0123456789";
	struct store *s = *x;
	struct atlas_state *st = NULL;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	char *old_alice, *old_bob;
	int64_t gen;

	import_ok(s, sb_yaml, &gen);
	assert_int_equal(store_load(s, &st, NULL, &err), 0);
	old_alice = xstrdup(state_sb_subscription(st, "alice")->token);
	old_bob = xstrdup(state_sb_subscription(st, "bob")->token);
	/* alice's token rotated; bob removed */
	free(state_sb_subscription(st, "alice")->token);
	state_sb_subscription(st, "alice")->token = xstrdup(tok);
	st->singbox.inbounds[0].nusers = 1;
	schema_release(&schema_sb_user, &st->singbox.inbounds[0].users[1]);
	assert_int_equal(state_commit(s, st, NULL, "test", "rotate", &d, &gen, &err), 0);
	state_free(st);
	st = NULL;
	assert_int_equal(state_restore(s, 1, 0, &gen, &err), 0);
	assert_int_equal(store_load(s, &st, NULL, &err), 0);
	assert_string_equal(state_sb_subscription(st, "alice")->token, tok);
	assert_string_not_equal(state_sb_subscription(st, "alice")->token, old_alice);
	/* bob, in no inbound before the restore, has his own back */
	assert_string_equal(state_sb_subscription(st, "bob")->token, old_bob);
	state_free(st);
	free(old_alice);
	free(old_bob);
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

/*
 * The files' stamp (store_stamp_moved) holds still while connections only
 * read, and moves when another connection commits, however small the
 * commit (one meta row), and with each of several commits in a row.
 */
static void test_store__stamp_moves_with_commits(void **x)
{
	struct store *s = *x, *other;
	struct store_stamp stamp;
	char *v;

	memset(&stamp, 0, sizeof(stamp));
	assert_int_equal(store_open(store_datadir(s), &other, NULL), 0);
	assert_int_equal(store_stamp_moved(s, &stamp), 1); /* the first look */
	assert_int_equal(store_stamp_moved(s, &stamp), 0);
	for (int i = 0; i < 3; i++) {
		store_generation(other);
		free(store_meta_get(other, "k"));
		free(store_meta_get(s, "k"));
	}
	assert_int_equal(store_stamp_moved(s, &stamp), 0);
	for (int i = 0; i < 5; i++) {
		char val[16];

		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(store_meta_set(other, "k", val, NULL), 0);
		assert_int_equal(store_stamp_moved(s, &stamp), 1);
		assert_int_equal(store_stamp_moved(s, &stamp), 0);
		v = store_meta_get(s, "k");
		assert_string_equal(v, val);
		free(v);
	}
	store_close(other);
}

/* A case on a new store. */
#define STORE_TEST(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, tu_store_teardown)

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
	STORE_TEST(test_store__restore_keeps_rotated_tokens),
	STORE_TEST(test_store__restore_preview_keeps_runtime_settings),
	cmocka_unit_test(test_store__refuses_newer_schema),
	cmocka_unit_test(test_store__refuses_unwritable_dir),
	STORE_TEST(test_store__runs_and_meta),
	STORE_TEST(test_store__stamp_moves_with_commits))
