/*
 * test_delta.c - the reverse deltas of the store's history (state/delta.c):
 * the delta found block by block is the one of the byte-by-byte definition
 * (the longest common prefix, then the longest common suffix of what is
 * left), and it rebuilds the older text byte for byte.
 */
#include "testutil.h"

#include "state/delta.h"

/* The definition: byte by byte, as the delta was first made. */
static void reference(const char *old, size_t olen, const char *next, size_t nlen, size_t *p,
		      size_t *sfx)
{
	*p = *sfx = 0;
	while (*p < olen && *p < nlen && old[*p] == next[*p])
		(*p)++;
	while (*sfx < olen - *p && *sfx < nlen - *p &&
	       old[olen - 1 - *sfx] == next[nlen - 1 - *sfx])
		(*sfx)++;
}

/* A text of n bytes, lines of a repeated pattern (many equal blocks). */
static char *text_of(size_t n, char fill)
{
	char *t = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		t[i] = i % 40 == 39 ? '\n' : (char)(fill + (char)(i % 7));
	t[n] = '\0';
	return t;
}

static void test_delta__blocks_match_the_definition(void **x)
{
	/* old's length, next's length, where next differs (or is cut/grown), how */
	static const struct {
		size_t olen, nlen, at;
	} cases[] = {
		{ 0, 0, 0 },	     { 0, 10, 0 },	     { 10, 0, 0 },
		{ 100, 100, 50 },    { 4096, 4096, 4095 },   { 4096, 4096, 0 },
		{ 8192, 8193, 4096 }, { 8193, 8192, 4097 },  { 20000, 20000, 20000 },
		{ 20000, 20040, 8191 }, { 20040, 20000, 12288 }, { 300000, 300080, 150001 },
		{ 300080, 300000, 4095 }, { 5000, 9096, 5000 }, { 9096, 5000, 0 },
	};

	(void)x;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t ol = cases[c].olen, nl = cases[c].nlen, at = cases[c].at, p, sfx, gp, gs;
		char *old = text_of(ol, 'a'), *next = text_of(nl, 'a');
		struct buf d = BUF_INIT, cur = BUF_INIT;
		struct atlas_err err = { 0 };
		char sha[80];

		/* next: old's text up to at, then a changed byte, then the same pattern */
		if (at < nl && at < ol)
			next[at] = 'Z';
		{
			struct history_change ch = history_change_of(old, ol, next, nl);

			history_delta_make(old, ol, &ch, &d);
		}
		assert_true(history_is_delta(d.data, d.len));
		assert_int_equal(sscanf(d.data, "#atlas-delta v1 prefix=%zu suffix=%zu sha256=%64s",
					&gp, &gs, sha),
				 3);
		reference(old, ol, next, nl, &p, &sfx);
		assert_int_equal(gp, p);
		assert_int_equal(gs, sfx);
		buf_add(&cur, next, nl);
		assert_int_equal(history_delta_apply(d.data, d.len, &cur, 1, &err), 0);
		assert_int_equal(cur.len, ol);
		assert_memory_equal(buf_str(&cur), old, ol);
		buf_release(&cur);
		buf_release(&d);
		free(old);
		free(next);
	}
}

TU_MAIN(NULL, NULL, cmocka_unit_test(test_delta__blocks_match_the_definition))
