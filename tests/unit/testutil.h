/*
 * testutil.h - small helpers for the cmocka tests: temporary directories,
 * file reading, golden-file comparison (ATLAS_REGEN_GOLDEN=1 rewrites them),
 * desired states from YAML text or a file, and the fixed "now" they use.
 * Header-only so each test program stays one file.
 */
#ifndef ATLAS_TESTUTIL_H
#define ATLAS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <fcntl.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/spawn.h"
#include "state/commit.h"
#include "state/keys.h"
#include "state/complete.h"
#include "state/validate.h"
#include "state/yaml.h"

/*
 * The main() of every test program: runs the listed cases as one group,
 * with group setup and teardown (NULL for none).
 *   TU_MAIN(NULL, NULL, cmocka_unit_test(test_x__a), cmocka_unit_test(test_x__b))
 */
#define TU_MAIN(setup, teardown, ...)                                  \
	int main(void)                                                 \
	{                                                              \
		const struct CMUnitTest tests[] = { __VA_ARGS__ };     \
		return cmocka_run_group_tests(tests, setup, teardown); \
	}

/* A new empty directory under /tmp; caller frees the string. */
static inline char *tu_tmpdir(void)
{
	char *d = xstrdup("/tmp/atlas-unit-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static inline void tu_rmrf(const char *dir)
{
	const char *argv[] = { "rm", "-rf", "--", dir, NULL };
	struct spawn_result r;

	if (spawn_run(argv, NULL, &r, NULL) == 0)
		spawn_result_release(&r);
}

/* tu_rmrf, then frees the string dir (from tu_tmpdir). */
static inline void tu_rmrf_free(char *dir)
{
	tu_rmrf(dir);
	free(dir);
}

/*
 * Appends a zeroed element to the vector v (a pointer lvalue) of n elements
 * (a count lvalue, incremented); evaluates to the new element.
 */
#define TU_PUSH(v, n)                                                       \
	((v) = xrealloc((v), ((n) + 1) * sizeof(*(v))),                     \
	 memset(&(v)[(n)], 0, sizeof(*(v))), &(v)[(n)++])

/* A group teardown for a group setup that left a tu_tmpdir() in *s. */
static inline int tu_teardown_dir(void **s)
{
	tu_rmrf_free(*s);
	return 0;
}

/* A cmocka setup: *state becomes a store opened (migrated) in a new temporary directory. */
static inline int tu_store_setup(void **state)
{
	char *dir = tu_tmpdir();
	struct store *s;

	assert_int_equal(store_open(dir, &s, NULL), 0);
	free(dir);
	*state = s;
	return 0;
}

/* Its teardown: the store closed, its directory removed. */
static inline int tu_store_teardown(void **state)
{
	struct store *s = *state;
	char *dir = xstrdup(store_datadir(s));

	store_close(s);
	tu_rmrf_free(dir);
	return 0;
}

/* The stored desired state as YAML with its secrets (new string). */
static inline char *tu_export_secrets(struct store *s)
{
	struct atlas_state *st;
	struct buf b = BUF_INIT;

	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	state_to_yaml(st, 1, &b);
	state_free(st);
	return buf_detach(&b);
}

/* The contents of path (new string); fails the test when unreadable. */
static inline char *tu_read(const char *path)
{
	struct buf b = BUF_INIT;
	struct atlas_err err;

	if (file_read(path, 64 << 20, &b, &err) < 0)
		fail_msg("%s", err.msg);
	return buf_detach(&b);
}

/*
 * Runs the command fn (through cli_run) with the file descriptor fd (1 or
 * 2) sent to a file in dir; returns what it wrote there (new), its exit
 * status in *rc.
 */
static inline char *tu_cli_capture(int fd, const char *dir, int (*fn)(int, char **), int argc,
				   char **argv, int *rc)
{
	FILE *stream = fd == 1 ? stdout : stderr;
	char *path = xasprintf("%s/captured-%d.txt", dir, fd), *text;
	int saved, to;

	fflush(stream);
	saved = dup(fd);
	to = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && to >= 0);
	dup2(to, fd);
	close(to);
	*rc = cli_run(fn, argc, argv);
	fflush(stream);
	dup2(saved, fd);
	close(saved);
	text = tu_read(path);
	free(path);
	return text;
}

/*
 * Compares got with the golden file (path relative to the repository root).
 * With ATLAS_REGEN_GOLDEN=1 (exactly; `make golden` sets it) the file is
 * rewritten instead; tests/run-unit.sh unsets the variable otherwise.
 */
static inline void tu_golden(const char *path, const char *got)
{
	const char *regen = getenv("ATLAS_REGEN_GOLDEN");
	char *want;

	/* Only the exact value `make golden` sets: a stray variable never rewrites. */
	if (regen && !strcmp(regen, "1")) {
		struct atlas_err err;

		if (file_write_atomic(path, got, strlen(got), 0644, &err) < 0)
			fail_msg("%s", err.msg);
		return;
	}
	want = tu_read(path);
	if (strcmp(want, got)) {
		fprintf(stderr, "golden mismatch: %s\n--- want\n%s\n--- got\n%s\n", path, want, got);
		free(want);
		fail_msg("golden file %s differs (make golden regenerates it on purpose)", path);
	}
	free(want);
}

/* Writes text to path (0600, atomically); fails the test when it cannot. */
static inline void tu_write(const char *path, const char *text)
{
	struct atlas_err err = { 0 };

	if (file_write_atomic(path, text, strlen(text), 0600, &err) < 0)
		fail_msg("%s", err.msg);
}

/*
 * Completes st (against no old state) and validates it; frees st and returns
 * the problems as diags_format prints them for file (new string, "" when
 * none), positions resolved through pm when given.
 */
static inline char *tu_problems(struct atlas_state *st, struct posmap *pm, const char *file)
{
	struct diags d = { 0 };
	struct atlas_err err;
	struct buf b = BUF_INIT;

	assert_int_equal(state_complete(st, NULL, &d, &err), 0);
	state_validate(st, &d);
	if (pm)
		diags_resolve(&d, pm);
	diags_format(&d, file, &b);
	diags_clear(&d);
	state_free(st);
	return buf_detach(&b);
}

/*
 * Validation fixtures: p is the problems a test's own checker found (new
 * string, "" when none); tu_good wants none, tu_bad wants one containing
 * want. Both free p.
 */
static inline void tu_good(char *p)
{
	if (*p)
		fail_msg("expected valid, got:\n%s", p);
	free(p);
}

static inline void tu_bad(char *p, const char *want)
{
	if (!strstr(p, want))
		fail_msg("want \"%s\" in:\n%s", want, p);
	free(p);
}

/* The sing-box binary the tests check configs with (ATLAS_SINGBOX_BIN overrides). */
static inline const char *tu_singbox_bin(void)
{
	const char *b = getenv("ATLAS_SINGBOX_BIN");

	return b && *b ? b : "/var/cache/atlas-test/sing-box-1.14.1/sing-box";
}

/*
 * `sing-box check -c path`: 0 when it accepts, -1 when not; its output goes
 * to msg. A missing binary fails the test (never a skip).
 */
static inline int tu_sb_check(const char *path, struct buf *msg)
{
	const char *argv[] = { tu_singbox_bin(), "check", "-c", path, NULL };
	struct spawn_opts so = { .timeout_ms = 60000 };
	struct spawn_result r;
	struct atlas_err err = { 0 };
	int ok;

	if (access(tu_singbox_bin(), X_OK) != 0)
		fail_msg("sing-box binary %s is missing: build it (scripts) or set ATLAS_SINGBOX_BIN",
			 tu_singbox_bin());
	if (spawn_run(argv, &so, &r, &err) < 0)
		fail_msg("%s", err.msg);
	ok = r.exited && r.status == 0;
	buf_printf(msg, "%s%s", buf_str(&r.out), buf_str(&r.errout));
	spawn_result_release(&r);
	return ok ? 0 : -1;
}

/* Fails, printing text, unless text holds every one of the NULL-ended want. */
static inline void tu_has(const char *text, const char *const *want)
{
	for (; *want; want++)
		if (!text || !strstr(text, *want))
			fail_msg("want \"%s\" in:\n%s", *want, text ? text : "(null)");
}

/* Fails, printing text, when text holds any of the NULL-ended unwanted. */
static inline void tu_lacks(const char *text, const char *const *unwanted)
{
	if (!text)
		fail_msg("no text to look for \"%s\" in", *unwanted);
	for (; *unwanted; unwanted++)
		if (strstr(text, *unwanted))
			fail_msg("do not want \"%s\" in:\n%s", *unwanted, text);
}

#define TU_HAS(text, ...) tu_has((text), (const char *const[]){ __VA_ARGS__, NULL })
#define TU_LACKS(text, ...) tu_lacks((text), (const char *const[]){ __VA_ARGS__, NULL })

/* The first column of the first row sql gives in db, as an int; fails the test without one. */
static inline int tu_sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 2026-01-01 12:00:00 UTC */
#define TU_NOW ((time_t)1767268800)

static inline void tu_diags_fail(struct diags *d, const char *what)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "test state: %s\n", d->v[i].msg);
	diags_clear(d);
	fail_msg("%s", what);
}

/* The state the YAML text parses to, as read (nothing generated nor
 * checked), positions into pm (may be NULL); fails the test, printing each
 * problem, when it does not parse. */
static inline struct atlas_state *tu_state_pm(const char *yaml, struct posmap *pm)
{
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(yaml, strlen(yaml), &d, pm);

	if (!st)
		tu_diags_fail(&d, "test state does not parse");
	diags_clear(&d);
	return st;
}

static inline struct atlas_state *tu_state(const char *yaml)
{
	return tu_state_pm(yaml, NULL);
}

/* tu_state, then completed and validated as a commit would (state_check);
 * fails the test when the state is invalid. */
static inline struct atlas_state *tu_state_checked(const char *yaml)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st = tu_state(yaml);

	if (state_check(st, NULL, NULL, &d, &err) < 0)
		tu_diags_fail(&d, "invalid test state");
	diags_clear(&d);
	return st;
}

/* tu_state of a file's contents (path relative to the repository root). */
static inline struct atlas_state *tu_state_file(const char *path)
{
	char *text = tu_read(path);
	struct atlas_state *st = tu_state(text);

	free(text);
	return st;
}

/*
 * The base64 text of a raw key ("" for none), in one of four rotating
 * buffers: enough for the keys of one assertion.
 */
static inline const char *tu_key(const struct wg_key *k)
{
	static char ring[4][KEY_B64];
	static unsigned next;
	char *out = ring[next++ % 4];

	key_text(k, out);
	return out;
}

/* Sets k from text (which must be a key, or ""). */
static inline void tu_set_key(struct wg_key *k, const char *text)
{
	assert_int_equal(key_from_text(k, text), 0);
}

#endif
