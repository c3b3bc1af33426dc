/*
 * test_migrate.c - safe upgrades and backups: a database made by the Atlas
 * of schema 3 (tests/unit/fixtures/schema3, made by that release and never
 * regenerated) migrates to the current schema and to one more step with
 * every resource, key, generation and the admin account intact, a backup
 * taken first and only the newest 5 such backups kept; a migration that
 * fails leaves the file as it was and usable; backup archives round-trip
 * and refuse truncation, tampering, unsafe paths and a newer schema.
 */
#include <dirent.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "testutil.h"

#include "state/backup.h"
#include "state/store.h"
#include "state/yaml.h"
#include "state/tokens.h"
#include "state/totp_store.h"

#define FIXTURE "tests/unit/fixtures/schema3"

extern const struct migration atlas_migrations[];
extern const int atlas_nmigrations;

/* What a database holds that a migration must keep: every generation row and admin row. */
static char *raw_rows(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct buf b = BUF_INIT;
	const char *q[] = {"SELECT gen, created_at, trigger, summary, yaml FROM generations ORDER BY gen",
			   "SELECT username, hash, token_epoch, updated_at FROM admins ORDER BY username"};

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sqlite3_prepare_v2(db, q[i], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++)
				buf_printf(&b, "%s%c", (const char *)sqlite3_column_text(st, c),
					   c + 1 < sqlite3_column_count(st) ? '|' : '\n');
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return buf_detach(&b);
}

static int user_version(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *fixture_copy(void)
{
	char *dir = tu_tmpdir(), *db = xasprintf("%s/atlas.db", dir), *bytes;
	struct buf b = BUF_INIT;

	assert_int_equal(file_read(FIXTURE "/atlas.db", 1 << 24, &b, NULL), 0);
	assert_int_equal(file_write_atomic(db, b.data, b.len, 0600, NULL), 0);
	bytes = buf_detach(&b);
	free(bytes);
	free(db);
	return dir;
}

static size_t count_backups(const char *dir, const char *prefix)
{
	char *bd = xasprintf("%s/backups", dir);
	DIR *d = opendir(bd);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	free(bd);
	return n;
}

/* Opens dir with list (n steps) and checks everything of the fixture is there. */
static void open_and_check(const char *dir, const struct migration *list, int n)
{
	char *db = xasprintf("%s/atlas.db", dir);
	char *before = raw_rows(db), *after, *yaml, *want = tu_read(FIXTURE "/export-secrets.yaml");
	struct store *s;
	struct atlas_err err = {0};
	struct gen_info *g;
	size_t ng;

	assert_int_equal(user_version(db), 3);
	if (store_open_migrations(dir, list, n, &s, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(user_version(db), n);
	yaml = tu_export_secrets(s);
	assert_string_equal(yaml, want); /* every resource and key */
	assert_int_equal(store_generation(s), 3);
	assert_int_equal(store_generations(s, 100, &g, &ng, NULL), 0);
	assert_int_equal(ng, 3);
	free(g);
	store_close(s);
	after = raw_rows(db);
	assert_string_equal(after, before); /* every generation and the admin */
	assert_non_null(strstr(after, "peer bob disabled"));
	free(before);
	free(after);
	free(yaml);
	free(want);
	free(db);
}

/* The number a "SELECT count(*) ..." gives in the database file db, opened read-only. */
static int count_of(const char *db, const char *sql)
{
	sqlite3 *raw;
	int n;

	assert_int_equal(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	n = tu_sql_int(raw, sql);
	sqlite3_close(raw);
	return n;
}

/* A cmocka setup: *state becomes a copy of the fixture data directory (fixture_copy). */
static int fixture_setup(void **state)
{
	*state = fixture_copy();
	return 0;
}

/* A case on its own copy of the fixture, removed after it. */
#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, tu_teardown_dir)

static void test_migrate__fixture_to_current(void **x)
{
	const char *dir = *x;

	open_and_check(dir, atlas_migrations, atlas_nmigrations);
	/* A backup was taken exactly when a migration ran. */
	assert_int_equal(count_backups(dir, "pre-migration-"), atlas_nmigrations > 3 ? 1 : 0);
}

/* The current steps plus one or two more: what the next releases' migrations will meet. */
static struct migration *plus(const char *sql, const char *sql2)
{
	struct migration *l = xcalloc((size_t)atlas_nmigrations + 3, sizeof(*l));

	memcpy(l, atlas_migrations, (size_t)atlas_nmigrations * sizeof(*l));
	l[atlas_nmigrations].version = atlas_nmigrations + 1;
	l[atlas_nmigrations].name = "998_test";
	l[atlas_nmigrations].sql = sql;
	l[atlas_nmigrations + 1].version = atlas_nmigrations + 2;
	l[atlas_nmigrations + 1].name = "999_test";
	l[atlas_nmigrations + 1].sql = sql2;
	return l;
}

/* Paths made in a test, freed at its end. */
static char *kept[64];
static size_t nkept;
#define PATH(...) keep(xasprintf(__VA_ARGS__))
static char *keep(char *p)
{
	assert_true(nkept < 64);
	return kept[nkept++] = p;
}
static void keep_free(void)
{
	while (nkept)
		free(kept[--nkept]);
}

static void test_migrate__one_more_step_backs_up_first(void **x)
{
	const char *dir = *x;
	char *bk, *bf;
	struct migration *l = plus("CREATE TABLE test_next (x TEXT); "
				   "ALTER TABLE meta ADD COLUMN test_note TEXT",
				   NULL);
	struct backup_info info;
	struct atlas_err err = {0};
	DIR *d;
	struct dirent *de;

	open_and_check(dir, l, atlas_nmigrations + 1);
	assert_int_equal(count_backups(dir, "pre-migration-"), 1);
	/* The backup holds the database as it was: schema 3. */
	bk = xasprintf("%s/backups", dir);
	d = opendir(bk);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "pre-migration-", 14))
			break;
	assert_non_null(de);
	bf = xasprintf("%s/%s", bk, de->d_name);
	closedir(d);
	if (backup_verify(bf, &info, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(info.schema_version, 3);
	free(bf);
	free(bk);
	free(l);
}

static void test_migrate__failed_step_leaves_file_usable(void **x)
{
	const char *dir = *x;
	char *db = xasprintf("%s/atlas.db", dir), *before;
	/* Step 998 works, 999's first statement too, its second fails: nothing may stay. */
	struct migration *l = plus("CREATE TABLE test_half (x TEXT)",
				   "CREATE TABLE test_half2 (x TEXT); "
				   "ALTER TABLE no_such_table ADD COLUMN y TEXT");
	struct store *s = NULL;
	struct atlas_err err = {0};

	/* From schema 3 up to current + 1 in one go: the real steps roll back too. */
	before = raw_rows(db);
	assert_int_equal(store_open_migrations(dir, l, atlas_nmigrations + 2, &s, &err), -1);
	assert_null(s);
	TU_HAS(err.msg, "999_test", "unchanged");
	assert_int_equal(user_version(db), 3);
	assert_int_equal(count_of(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'test_half%'"),
			 0);
	{
		char *after = raw_rows(db);

		assert_string_equal(after, before);
		free(after);
	}
	/* ... and the usual Atlas still opens and migrates it. */
	open_and_check(dir, atlas_migrations, atlas_nmigrations);
	free(before);
	free(l);
	free(db);
}

static void test_migrate__keeps_last_five_backups(void **x)
{
	const char *dir = *x;
	struct atlas_err err = {0};

	for (int i = 0; i < 7; i++)
		if (backup_before_migration(dir, 3, NULL, &err) < 0)
			fail_msg("%s", err.msg);
	assert_int_equal(count_backups(dir, "pre-migration-"), BACKUP_AUTO_KEEP);
}

/* Archive round trip and refusals (the e2e test t26 does it with engines). */
static void test_migrate__backup_refuses_bad_archives(void **x)
{
	const char *dir = *x;
	char *file = xasprintf("%s.bk", dir), *to = xasprintf("%s.to", dir);
	char *bad = xasprintf("%s.bad", dir), *saved = NULL, *a, *b;
	struct backup_info info;
	struct atlas_err err = {0};
	struct buf raw = BUF_INIT;
	struct store *s;
	struct stat st;

	assert_int_equal(mkdir_p(PATH("%s/pki/private", dir), 0700, NULL), 0);
	assert_int_equal(file_write_atomic(PATH("%s/pki/private/ca.key", dir), "KEY\n", 4, 0600, NULL), 0);
	assert_int_equal(mkdir_p(PATH("%s/run", dir), 0700, NULL), 0);
	assert_int_equal(file_write_atomic(PATH("%s/run/x.pid", dir), "1\n", 2, 0644, NULL), 0);
	if (backup_create(dir, file, &info, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(info.members, 2); /* atlas.db and pki/private/ca.key, not run/ */
	if (backup_restore(file, to, 0, &saved, &info, &err) < 0)
		fail_msg("%s", err.msg);
	assert_null(saved);
	a = tu_read(PATH("%s/pki/private/ca.key", to));
	assert_string_equal(a, "KEY\n");
	free(a);
	assert_int_equal(stat(PATH("%s/run", to), &st), -1);
	assert_int_equal(store_open(to, &s, NULL), 0);
	b = tu_export_secrets(s);
	store_close(s);
	a = tu_read(FIXTURE "/export-secrets.yaml");
	assert_string_equal(b, a);
	free(a);
	free(b);
	/* A used directory needs --force. */
	assert_int_equal(backup_restore(file, to, 0, &saved, NULL, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);

	assert_int_equal(file_read(file, 1 << 24, &raw, NULL), 0);
	/* Truncated, by one byte or more. */
	for (size_t cut = 1; cut < raw.len; cut = cut * 3 + 1) {
		assert_int_equal(file_write_atomic(bad, raw.data, raw.len - cut, 0600, NULL), 0);
		assert_int_equal(backup_verify(bad, NULL, &err), -1);
		assert_int_equal(backup_restore(bad, PATH("%s.never", dir), 0, &saved, NULL, &err), -1);
		assert_int_equal(stat(PATH("%s.never", dir), &st), -1);
	}
	/* One byte changed anywhere: header, manifest, database, key, trailer. */
	for (size_t at = 0; at < raw.len; at += raw.len / 37 + 1) {
		raw.data[at] ^= 0x20;
		assert_int_equal(file_write_atomic(bad, raw.data, raw.len, 0600, NULL), 0);
		raw.data[at] ^= 0x20;
		if (backup_verify(bad, NULL, &err) == 0)
			fail_msg("a change at byte %zu of %zu went unnoticed", at, raw.len);
	}
	buf_release(&raw);
	keep_free();
	tu_rmrf_free(to);
	free(file);
	free(bad);
}

/* A backup taken while another connection is in the middle of a write holds
 * the last committed state: the online backup reads one snapshot. */
static void test_migrate__backup_during_write(void **x)
{
	const char *dir = *x;
	char *db = xasprintf("%s/atlas.db", dir);
	char *file = xasprintf("%s.bk", dir), *to = xasprintf("%s.to", dir), *saved = NULL;
	struct store *s;
	sqlite3 *w;
	struct atlas_err err = {0};

	assert_int_equal(store_open(dir, &s, NULL), 0); /* WAL on, as under atlas serve */
	store_close(s);
	assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "BEGIN IMMEDIATE; UPDATE wg_peers SET note = 'uncommitted'", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	if (backup_create(dir, file, NULL, &err) < 0)
		fail_msg("backup while a write is open: %s", err.msg);
	assert_int_equal(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);
	if (backup_restore(file, to, 0, &saved, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	{
		char *rdb = xasprintf("%s/atlas.db", to);

		assert_int_equal(count_of(rdb, "SELECT count(*) FROM wg_peers WHERE note = 'uncommitted'"), 0);
		free(rdb);
	}
	tu_rmrf_free(to);
	free(db);
	free(file);
}

/*
 * Schema 6 on the fixture: its generations have no actor (''), its admin no
 * second factor; tokens can be made, and a new save records its actor.
 */
static void test_migrate__fixture_gains_tokens_totp_actor(void **state)
{
	char *dir = *state, tok[TOKEN_LEN + 1];
	struct atlas_err err = {0};
	struct store *s;
	struct atlas_state *st;
	struct totp_status ts;
	struct token_info info;
	struct gen_info *g;
	size_t ng;
	int64_t gen;

	if (store_open(dir, &s, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(store_generations(s, 100, &g, &ng, NULL), 0);
	assert_int_equal(ng, 3);
	for (size_t i = 0; i < ng; i++)
		assert_string_equal(g[i].actor, "");
	free(g);
	assert_int_equal(totp_get_status(s, "admin", &ts, &err), 0);
	assert_false(ts.enabled);
	assert_int_equal(token_create(s, "ci", SCOPE_READ, 0, 1800000000, tok, &err), 0);
	assert_int_equal(token_authenticate(s, tok, 1800000000, &info, &err), 0);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->settings.auto_apply = !st->settings.auto_apply;
	store_set_actor(s, "token:ci");
	assert_int_equal(store_save(s, st, "api", "flip auto_apply", &gen, &err), 0);
	state_free(st);
	assert_int_equal(gen, 4);
	assert_int_equal(store_generations(s, 1, &g, &ng, NULL), 0);
	assert_string_equal(g[0].actor, "token:ci");
	assert_string_equal(g[0].trigger, "api");
	free(g);
	/* a run records its connection's actor, else the actor of the generation it applied */
	{
		struct run_info run = {.trigger = "start", .generation = 4, .ok = 1};
		struct run_info *runs;
		size_t nr;

		store_set_actor(s, NULL);
		assert_int_equal(store_record_run(s, &run, &err), 0);
		store_set_actor(s, "cli");
		assert_int_equal(store_record_run(s, &run, &err), 0);
		assert_int_equal(store_runs(s, 2, &runs, &nr, &err), 0);
		assert_int_equal(nr, 2);
		assert_string_equal(runs[0].actor, "cli");
		assert_string_equal(runs[1].actor, "token:ci");
		store_runs_free(runs, nr);
	}
	store_close(s);
}

TU_MAIN(NULL, NULL,
	FIXTURE_TEST(test_migrate__fixture_to_current),
	FIXTURE_TEST(test_migrate__one_more_step_backs_up_first),
	FIXTURE_TEST(test_migrate__failed_step_leaves_file_usable),
	FIXTURE_TEST(test_migrate__keeps_last_five_backups),
	FIXTURE_TEST(test_migrate__backup_refuses_bad_archives),
	FIXTURE_TEST(test_migrate__backup_during_write),
	FIXTURE_TEST(test_migrate__fixture_gains_tokens_totp_actor))
