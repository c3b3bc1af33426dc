/*
 * udiff.c - unified diff: common prefix/suffix cut, LCS on the middle,
 * hunks with three lines of context.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/udiff.h"

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static void split(const char *t, struct lines *l)
{
	size_t cap = 16;

	l->p = xmalloc(cap * sizeof(*l->p));
	l->len = xmalloc(cap * sizeof(*l->len));
	l->n = 0;
	while (*t) {
		const char *nl = strchr(t, '\n');
		size_t len = nl ? (size_t)(nl - t) : strlen(t);

		if (l->n == cap) {
			cap *= 2;
			l->p = xrealloc(l->p, cap * sizeof(*l->p));
			l->len = xrealloc(l->len, cap * sizeof(*l->len));
		}
		l->p[l->n] = t;
		l->len[l->n++] = len;
		t += len + (nl ? 1 : 0);
	}
}

static int eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

/* ops: ' ' equal (both advance), '-' a only, '+' b only */
static char *script(const struct lines *a, const struct lines *b, size_t *nops)
{
	size_t pre = 0, suf = 0, ma, mb, k = 0;
	char *ops = xmalloc(a->n + b->n + 1);

	while (pre < a->n && pre < b->n && eq(a, pre, b, pre))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre && eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
		suf++;
	ma = a->n - pre - suf;
	mb = b->n - pre - suf;
	memset(ops, ' ', pre);
	k = pre;
	if (ma && mb && ma * mb <= 4u << 20) {
		/* L[i][j] = LCS of a[pre+i..] and b[pre+j..] */
		uint32_t *L = xcalloc((ma + 1) * (mb + 1), sizeof(uint32_t));
		size_t i, j;

#define AT(i, j) L[(i) * (mb + 1) + (j)]
		for (i = ma; i-- > 0;)
			for (j = mb; j-- > 0;)
				AT(i, j) = eq(a, pre + i, b, pre + j)	  ? AT(i + 1, j + 1) + 1
					   : AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j)
									  : AT(i, j + 1);
		i = j = 0;
		while (i < ma || j < mb) {
			if (i < ma && j < mb && eq(a, pre + i, b, pre + j)) {
				ops[k++] = ' ';
				i++;
				j++;
			} else if (i < ma && (j == mb || AT(i + 1, j) >= AT(i, j + 1))) {
				ops[k++] = '-';
				i++;
			} else {
				ops[k++] = '+';
				j++;
			}
		}
#undef AT
		free(L);
	} else {
		memset(ops + k, '-', ma);
		k += ma;
		memset(ops + k, '+', mb);
		k += mb;
	}
	memset(ops + k, ' ', suf);
	k += suf;
	*nops = k;
	return ops;
}

void udiff(const char *at, const char *bt, const char *aname, const char *bname, struct buf *out)
{
	struct lines a, b;
	size_t nops, i = 0;
	char *ops;
	/* position in a and b of each op */
	size_t *ai, *bi;

	split(at, &a);
	split(bt, &b);
	ops = script(&a, &b, &nops);
	ai = xmalloc((nops + 1) * sizeof(*ai));
	bi = xmalloc((nops + 1) * sizeof(*bi));
	{
		size_t x = 0, y = 0;

		for (size_t k = 0; k < nops; k++) {
			ai[k] = x;
			bi[k] = y;
			x += ops[k] != '+';
			y += ops[k] != '-';
		}
		ai[nops] = x;
		bi[nops] = y;
	}
	if (memchr(ops, '-', nops) || memchr(ops, '+', nops))
		buf_printf(out, "--- %s\n+++ %s\n", aname, bname);
	while (i < nops) {
		size_t start, end, k, na = 0, nb = 0;

		while (i < nops && ops[i] == ' ')
			i++;
		if (i == nops)
			break;
		start = i > 3 ? i - 3 : 0;
		end = i;
		/* extend while the next change is within 6 lines */
		for (k = i; k < nops; k++) {
			if (ops[k] != ' ')
				end = k + 1;
			else if (k - end >= 6)
				break;
		}
		end = end + 3 < nops ? end + 3 : nops;
		for (k = start; k < end; k++) {
			na += ops[k] != '+';
			nb += ops[k] != '-';
		}
		buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ai[start] + 1 : ai[start], na,
			   nb ? bi[start] + 1 : bi[start], nb);
		for (k = start; k < end; k++) {
			size_t li = ops[k] == '+' ? bi[k] : ai[k];
			const struct lines *l = ops[k] == '+' ? &b : &a;

			buf_putc(out, ops[k]);
			buf_add(out, l->p[li], l->len[li]);
			buf_putc(out, '\n');
		}
		i = end;
	}
	free(ai);
	free(bi);
	free(ops);
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
}
