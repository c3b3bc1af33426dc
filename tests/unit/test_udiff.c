/*
 * test_udiff.c - the unified diff of lib/udiff.c.
 */
#include "testutil.h"

#include "lib/udiff.h"

static char *diff(const char *a, const char *b)
{
	struct buf out = BUF_INIT;

	udiff(a, b, "a", "b", &out);
	return buf_detach(&out);
}

static void test_udiff__equal_is_empty(void **ts)
{
	char *d = diff("x\ny\n", "x\ny\n");

	(void)ts;
	assert_string_equal(d, "");
	free(d);
}

static void test_udiff__one_change_with_context(void **ts)
{
	char *d = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n");

	(void)ts;
	assert_string_equal(d,
			    "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
	free(d);
}

static void test_udiff__insert_and_delete(void **ts)
{
	char *d = diff("a\nb\n", "a\nb\nc\n"), *e = diff("a\nb\nc\n", "b\nc\n");

	(void)ts;
	assert_string_equal(d, "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
	assert_string_equal(e, "--- a\n+++ b\n@@ -1,3 +1,2 @@\n-a\n b\n c\n");
	free(d);
	free(e);
}

static void test_udiff__far_changes_make_two_hunks(void **ts)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	char *d;

	(void)ts;
	for (int i = 0; i < 30; i++) {
		buf_printf(&a, "%d\n", i);
		buf_printf(&b, "%d\n", i == 2 || i == 25 ? -i : i);
	}
	d = diff(a.data, b.data);
	TU_HAS(d, "@@ -1,6 +1,6 @@", "@@ -23,7 +23,7 @@");
	free(d);
	buf_release(&a);
	buf_release(&b);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_udiff__equal_is_empty),
	cmocka_unit_test(test_udiff__one_change_with_context),
	cmocka_unit_test(test_udiff__insert_and_delete),
	cmocka_unit_test(test_udiff__far_changes_make_two_hunks))
