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

/* A value with control characters cannot forge lines or drive the terminal. */
static void test_diag__control_chars_escaped(void **s)
{
	struct diags d = { 0 };

	(void)s;
	diags_add(&d, NULL, "host", "host \"%s\" is not a host name", "a\x1b[2Jb\nf:1:1: fake\t\x7f");
	assert_string_equal(d.v[0].msg,
			    "host \"a\\x1b[2Jb\\nf:1:1: fake\\t\\x7f\" is not a host name");
	diags_add_at(&d, 1, 1, NULL, "unknown key \"%s\"", "k\r");
	assert_string_equal(d.v[1].msg, "unknown key \"k\\x0d\"");
	diags_clear(&d);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_diag__posmap_prefers_latest),
	cmocka_unit_test(test_diag__format_sorted_by_position),
	cmocka_unit_test(test_diag__control_chars_escaped))
