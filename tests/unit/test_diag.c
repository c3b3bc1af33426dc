/*
 * test_diag.c - diagnostics: positions resolved from the address map, and
 * their formatting.
 */
#include "testutil.h"

#include "state/diag.h"

/*
 * A list element and its first field ("name") share an address: the position
 * of the field, recorded last, must win whatever order qsort leaves them in
 * (t01 under ASan got the element's column instead of the name's).
 */
static void test_diag__posmap_prefers_latest(void **s)
{
	struct posmap pm = { 0 };
	struct diags d = { 0 };
	int a = 0;

	(void)s;
	posmap_add(&pm, &a, 3, 1);	/* the list element */
	posmap_add(&pm, &a, 3, 5);	/* a mapping inside it */
	posmap_add(&pm, &a, 3, 11);	/* its name */
	diags_add(&d, &a, "name", "x");
	diags_resolve(&d, &pm);
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 11);
	diags_clear(&d);
	posmap_clear(&pm);
}

static void test_diag__format_sorted_by_position(void **s)
{
	struct diags d = { 0 };
	struct buf b = BUF_INIT;

	(void)s;
	diags_add_at(&d, 4, 2, NULL, "second");
	diags_add_at(&d, 1, 7, NULL, "first");
	diags_format(&d, "f.yaml", &b);
	assert_string_equal(b.data, "f.yaml:1:7: first\nf.yaml:4:2: second\n");
	buf_release(&b);
	diags_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag__posmap_prefers_latest),
		cmocka_unit_test(test_diag__format_sorted_by_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
