/*
 * test_cli.c - the edges of the command-line commands that end-to-end tests
 * cannot reach easily: a full disk under `atlas export`, bad option values.
 */
#include <fcntl.h>

#include "testutil.h"

#include "cli/cli.h"
#include "controller/openvpn/ovpn.h"
#include "lib/fileio.h"
#include "state/store.h"
#include "state/yaml.h"

static char *tmp;

static int setup(void **s)
{
	*s = tmp = tu_tmpdir();
	cli_datadir = tmp;
	return 0;
}

/* Runs fn with stdout on /dev/full; returns its exit status. */
static int with_stdout_full(int (*fn)(int, char **), int argc, char **argv)
{
	int saved, full, rc;

	fflush(stdout);
	saved = dup(1);
	full = open("/dev/full", O_WRONLY);
	assert_true(saved >= 0 && full >= 0);
	dup2(full, 1);
	close(full);
	rc = cli_run(fn, argc, argv);
	fflush(stdout);
	clearerr(stdout);
	dup2(saved, 1);
	close(saved);
	return rc;
}

/* `atlas export > file` on a full disk: exit 1, never a silent truncation. */
static void test_cli__export_write_error(void **s)
{
	char *argv[] = { "export", NULL };

	(void)s;
	assert_int_equal(with_stdout_full(cmd_export, 1, argv), 1);
}

static void test_cli__plan_write_error(void **s)
{
	char *argv[] = { "plan", NULL };

	(void)s;
	assert_int_equal(with_stdout_full(cmd_plan, 1, argv), 1);
}

/* The check is in cli_run, so commands that never thought of it get it too. */
static void test_cli__any_command_write_error(void **s)
{
	char *argv[] = { "version", NULL };

	(void)s;
	assert_int_equal(with_stdout_full(cmd_version, 1, argv), 1);
	assert_int_equal(cli_run(cmd_version, 1, argv), 0);
}

static void test_cli__history_count(void **s)
{
	char *bad1[] = { "history", "-n", "abc", NULL };
	char *bad2[] = { "history", "-n", "-1", NULL };
	char *bad3[] = { "history", "-n", "0", NULL };
	char *good[] = { "history", "-n", "5", NULL };

	(void)s;
	assert_int_equal(cmd_history(3, bad1), 1);
	assert_int_equal(cmd_history(3, bad2), 1);
	assert_int_equal(cmd_history(3, bad3), 1);
	/* no database yet: an error, not an empty history */
	assert_int_equal(cmd_history(3, good), 1);
	store_close(cli_store());
	assert_int_equal(cmd_history(3, good), 0);
}

/* Runs fn with stderr into a file; returns what it wrote (new) and its status. */
static char *with_stderr(int (*fn)(int, char **), int argc, char **argv, int *rc)
{
	return tu_cli_capture(2, tmp, fn, argc, argv, rc);
}

/*
 * A client whose certificate is not issued yet: the engine's message names
 * no command (the panel shows it too); the CLI adds the command to run.
 */
static void test_cli__profile_before_apply(void **s)
{
	static const char yaml[] = "version: 1\nsettings: {host: vpn.example.org}\n"
				   "openvpn:\n  network: 10.9.0.0/24\n  clients:\n    - name: alice\n";
	char *file = xasprintf("%s/state.yaml", tmp), *out;
	char *imp[] = { "import", file, NULL };
	char *cfg[] = { "ovpn", "config", "alice", NULL };
	char *nobody[] = { "ovpn", "config", "nobody", NULL };
	struct atlas_state *st;
	struct atlas_err err = { 0 };
	struct buf b = BUF_INIT;
	struct diags d = { 0 };
	int rc;

	(void)s;
	assert_int_equal(file_write_atomic(file, yaml, strlen(yaml), 0600, NULL), 0);
	free(with_stderr(cmd_import, 2, imp, &rc));
	assert_int_equal(rc, 0);
	out = with_stderr(cmd_ovpn, 3, cfg, &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(out, "atlas: openvpn client \"alice\" has no certificate yet: it is issued "
				 "by the next apply (run `atlas apply`)\n");
	free(out);
	out = with_stderr(cmd_ovpn, 3, nobody, &rc);
	assert_int_equal(rc, 1);
	assert_null(strstr(out, "atlas apply"));
	free(out);
	st = state_from_yaml(yaml, strlen(yaml), &d, NULL);
	assert_non_null(st);
	assert_int_equal(ovpn_profile(tmp, st, "alice", &b, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_null(strstr(err.msg, "atlas"));
	state_free(st);
	buf_release(&b);
	free(file);
}

/* Runs fn with stdout into a file and stdin from /dev/null; returns what it printed (new). */
static char *with_stdout(int (*fn)(int, char **), int argc, char **argv, int *rc)
{
	char *path = xasprintf("%s/stdout.txt", tmp), *text;
	int saved, saved_in, fd, null;

	fflush(stdout);
	saved = dup(1);
	saved_in = dup(0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	null = open("/dev/null", O_RDONLY);
	assert_true(saved >= 0 && saved_in >= 0 && fd >= 0 && null >= 0);
	dup2(fd, 1);
	dup2(null, 0);
	close(fd);
	close(null);
	*rc = cli_run(fn, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	dup2(saved_in, 0);
	close(saved);
	close(saved_in);
	text = tu_read(path);
	free(path);
	return text;
}

/* Runs fn with its stdout (fd 1) or stderr (2) captured; wants status rc and want in the text. */
static void expect_output(int fd, int (*fn)(int, char **), int argc, char **argv, int rc,
			  const char *want)
{
	int got;
	char *out = fd == 1 ? with_stdout(fn, argc, argv, &got) : with_stderr(fn, argc, argv, &got);

	assert_int_equal(got, rc);
	TU_HAS(out, want);
	free(out);
}

/*
 * atlas history restore: says what it changes by engine and setting with
 * counts before anything is stored; without a terminal only --yes restores;
 * the apply mode stays unless --with-settings.
 */
static void test_cli__history_restore(void **s)
{
	static const char g1[] = "version: 1\nsettings: {host: a.example.org}\n"
				 "openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: alice}, {name: bob}]\n";
	static const char g2[] = "version: 1\nsettings: {host: a.example.org, auto_apply: false}\n";
	char *f1 = xasprintf("%s/g1.yaml", tmp), *f2 = xasprintf("%s/g2.yaml", tmp), *out;
	char *imp1[] = { "import", f1, NULL }, *imp2[] = { "import", f2, NULL };
	char *ask[] = { "history", "restore", "1", NULL };
	char *yes[] = { "history", "restore", "1", "--yes", NULL };
	char *withs[] = { "history", "restore", "1", "--yes", "--with-settings", NULL };
	struct atlas_state *st;
	struct store *db;
	int64_t gen;
	int rc;

	(void)s;
	/* a data directory of its own: generation numbers start at 1 */
	cli_datadir = xasprintf("%s/hist", tmp);
	assert_int_equal(mkdir_p(cli_datadir, 0700, NULL), 0);
	assert_int_equal(file_write_atomic(f1, g1, strlen(g1), 0600, NULL), 0);
	assert_int_equal(file_write_atomic(f2, g2, strlen(g2), 0600, NULL), 0);
	free(with_stdout(cmd_import, 2, imp1, &rc));
	free(with_stdout(cmd_import, 2, imp2, &rc));
	assert_int_equal(rc, 0);
	expect_output(2, cmd_history, 3, ask, 1, "pass --yes");
	out = with_stdout(cmd_history, 3, ask, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "restoring generation 1 changes 2 things:\n"
				    "openvpn: section added, 2 added\n"
				    "  + client alice\n  + client bob\n"));
	TU_HAS(out, "kept:\n  auto_apply stays false (generation 1 has true", "+openvpn:\n");
	free(out);
	assert_int_equal(store_open(cli_datadir, &db, NULL), 0);
	assert_int_equal(store_load(db, &st, &gen, NULL), 0);
	assert_int_equal(gen, 2);	/* nothing stored without a yes */
	state_free(st);
	store_close(db);
	expect_output(1, cmd_history, 4, yes, 0, "restored generation 1 as generation 3\n");
	assert_int_equal(store_open(cli_datadir, &db, NULL), 0);
	assert_int_equal(store_load(db, &st, &gen, NULL), 0);
	assert_true(st->has_openvpn);
	assert_int_equal(st->settings.auto_apply, 0);	/* the apply mode stayed */
	state_free(st);
	store_close(db);
	expect_output(1, cmd_history, 5, withs, 0, "settings: 1 change\n  ~ auto_apply: false -> true\n");
	free(f1);
	free(f2);
	free((char *)cli_datadir);
	cli_datadir = tmp;
}

/* `atlas usage`: a timed expiry and a long name keep every column in line. */
static void test_cli__usage_columns(void **s)
{
	static const char yaml[] =
		"version: 1\nsettings: {host: vpn.example.org}\n"
		"openvpn:\n  network: 10.9.0.0/24\n  clients:\n"
		"    - {name: a, expires: \"2030-12-08T09:00:00+01:00\"}\n"
		"    - {name: a-rather-long-client-name-of-31, expires: 2030-01-01}\n"
		"    - {name: c}\n";
	char *file = xasprintf("%s/state.yaml", tmp), *out, *line, *save = NULL;
	char *imp[] = { "import", file, NULL };
	char *use[] = { "usage", NULL };
	const char *st;
	int rc, lines = 0;
	ptrdiff_t col;

	(void)s;
	assert_int_equal(file_write_atomic(file, yaml, strlen(yaml), 0600, NULL), 0);
	free(with_stderr(cmd_import, 2, imp, &rc));
	assert_int_equal(rc, 0);
	out = tu_cli_capture(1, tmp, cmd_usage, 1, use, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(st = strstr(out, "STATE"));
	col = st - out;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
		if ((ptrdiff_t)strlen(line) <= col || line[col - 1] != ' ' || line[col] == ' ')
			fail_msg("column of STATE (%td) not in line: \"%s\"", col, line);
	}
	assert_int_equal(lines, 4);
	free(out);
	free(file);
}

TU_MAIN(setup, tu_teardown_dir,
	cmocka_unit_test(test_cli__export_write_error),
	cmocka_unit_test(test_cli__plan_write_error),
	cmocka_unit_test(test_cli__any_command_write_error),
	cmocka_unit_test(test_cli__history_count),
	cmocka_unit_test(test_cli__profile_before_apply),
	cmocka_unit_test(test_cli__history_restore),
	cmocka_unit_test(test_cli__usage_columns))
