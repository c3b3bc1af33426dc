/*
 * test_cli.c - the edges of the command-line commands that end-to-end tests
 * cannot reach easily: a full disk under `atlas export`, bad option values.
 */
#include <fcntl.h>

#include "testutil.h"

#include "cli/cli.h"

static char *tmp;

static int setup(void **s)
{
	(void)s;
	tmp = tu_tmpdir();
	cli_datadir = tmp;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	tu_rmrf(tmp);
	free(tmp);
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
	assert_int_equal(cmd_history(3, good), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli__export_write_error),
		cmocka_unit_test(test_cli__plan_write_error),
		cmocka_unit_test(test_cli__any_command_write_error),
		cmocka_unit_test(test_cli__history_count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
