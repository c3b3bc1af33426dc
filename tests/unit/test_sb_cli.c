/*
 * test_sb_cli.c - `atlas singbox links|profile|sub|qr` against a store
 * holding the golden fixture: the same bytes as the renderers' golden files,
 * a rotation that really replaces the token, and the refusals.
 */
#include <fcntl.h>

#include "testutil.h"

#include "cli/cli.h"
#include "state/commit.h"

#define GOLDEN "tests/unit/golden/singbox/"

static char *tmp;

static int setup(void **s)
{
	struct store *st;
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	char *yaml = tu_read(GOLDEN "input.yaml");
	int64_t gen;

	*s = tmp = tu_tmpdir();
	cli_datadir = tmp;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	if (state_import_yaml(st, yaml, strlen(yaml), "test", &d, &gen, &err) < 0)
		fail_msg("%s", err.msg);
	store_close(st);
	free(yaml);
	return 0;
}

/* Runs `atlas singbox ARGS`; its stdout (new) in *out; the exit status. */
static int run(char **out, int argc, char **argv)
{
	int rc;

	*out = tu_cli_capture(1, tmp, cmd_singbox, argc, argv, &rc);
	return rc;
}

static void test_sb_cli__links_and_profile(void **s)
{
	char *a1[] = { "singbox", "links", "alice", NULL };
	char *a2[] = { "singbox", "profile", "bob", NULL };
	char *out, *want;

	(void)s;
	assert_int_equal(run(&out, 3, a1), 0);
	want = tu_read(GOLDEN "links-alice.txt");
	assert_string_equal(out, want);
	free(out);
	free(want);
	assert_int_equal(run(&out, 3, a2), 0);
	want = tu_read(GOLDEN "profile-bob.json");
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void test_sb_cli__qr(void **s)
{
	char *a[] = { "singbox", "qr", "alice", "edge", NULL };
	char *out;

	(void)s;
	assert_int_equal(run(&out, 4, a), 0);
	assert_true(!strncmp(out, "<svg", 4));
	assert_non_null(strstr(out, "</svg>"));
	free(out);
}

static void test_sb_cli__sub_and_rotate(void **s)
{
	char *a[] = { "singbox", "sub", "alice", NULL };
	char *r[] = { "singbox", "sub", "--rotate", "alice", NULL };
	char *before, *after, *again;

	(void)s;
	assert_int_equal(run(&before, 3, a), 0);
	assert_true(!strncmp(before, "https://vpn.example.com/sub/", 28));
	assert_true(strlen(before) > 28 + 16);
	assert_int_equal(run(&after, 4, r), 0);
	assert_string_not_equal(before, after);
	/* the new token is the one stored */
	assert_int_equal(run(&again, 3, a), 0);
	assert_string_equal(after, again);
	free(before);
	free(after);
	free(again);
}

static void test_sb_cli__refusals(void **s)
{
	/* each refused with exit 1; only the first is also checked to print nothing */
	static char *refused[][5] = {
		{ "singbox", "links", "zed", NULL },
		{ "singbox", "qr", "alice", "nope", NULL },
		{ "singbox", "qr", "bob", "ws", NULL },
		{ "singbox", "sub", "--rotate", "zed", NULL },
		{ "singbox", "links", NULL },
		{ "singbox", "frob", "alice", NULL },
	};
	char *help[] = { "singbox", "--help", NULL };
	char *out;

	(void)s;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int argc = 0;

		while (refused[i][argc])
			argc++;
		if (run(&out, argc, refused[i]) != 1)
			fail_msg("`atlas %s %s` was not refused", refused[i][0], refused[i][1]);
		if (i == 0)
			assert_string_equal(out, "");
		free(out);
	}
	assert_int_equal(run(&out, 2, help), 0);
	assert_non_null(strstr(out, "atlas singbox sub USER [--rotate]"));
	free(out);
}

TU_MAIN(setup, tu_teardown_dir,
	cmocka_unit_test(test_sb_cli__links_and_profile),
	cmocka_unit_test(test_sb_cli__qr),
	cmocka_unit_test(test_sb_cli__sub_and_rotate),
	cmocka_unit_test(test_sb_cli__refusals))
