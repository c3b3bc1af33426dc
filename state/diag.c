/*
 * diag.c - diagnostics and the address-to-position map.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/diag.h"

static struct diag *push(struct diags *d)
{
	struct diag *g;

	/* Doubling when n reaches a power of two: a file with 10,000 errors stays linear. */
	if ((d->n & (d->n - 1)) == 0)
		d->v = xrealloc(d->v, (d->n ? d->n * 2 : 1) * sizeof(*d->v));
	g = &d->v[d->n++];
	memset(g, 0, sizeof(*g));
	return g;
}

/*
 * Messages quote values from files and requests, and end up on terminals and
 * in FILE:LINE:COL lines: a control character in a value ("\e[2J", a newline
 * that starts a fake message) is shown escaped, as \n, \t or \xNN.
 */
static char *vfmt(const char *fmt, va_list ap)
{
	char tmp[1024];
	struct buf b = BUF_INIT;

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	for (const unsigned char *p = (const unsigned char *)tmp; *p; p++) {
		if (*p == '\n')
			buf_puts(&b, "\\n");
		else if (*p == '\t')
			buf_puts(&b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(&b, "\\x%02x", *p);
		else
			buf_putc(&b, (char)*p);
	}
	return buf_detach(&b);
}

/* Adds a diagnostic at where or line:col, with field (may be NULL) and the formatted message. */
static void vadd(struct diags *d, const void *where, int line, int col, const char *field,
		 const char *fmt, va_list ap)
{
	struct diag *g = push(d);

	g->msg = vfmt(fmt, ap);
	g->where = where;
	g->line = line;
	g->col = col;
	g->field = field ? xstrdup(field) : NULL;
}

void diags_add(struct diags *d, const void *where, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, where, 0, 0, field, fmt, ap);
	va_end(ap);
}

void diags_add_at(struct diags *d, int line, int col, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, NULL, line, col, field, fmt, ap);
	va_end(ap);
}

void diags_clear(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free(d->v[i].field);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct pos_entry *)a)->p;
	uintptr_t y = (uintptr_t)((const struct pos_entry *)b)->p;

	return x < y ? -1 : x > y;
}

/* By address, then by the order of recording (qsort is not stable). */
static int cmp_entry(const void *a, const void *b)
{
	const struct pos_entry *x = a, *y = b;
	int c = cmp_ptr(a, b);

	return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

void diags_resolve(struct diags *d, struct posmap *map)
{
	if (!map || !map->n)
		return;
	if (!map->sorted) {
		qsort(map->v, map->n, sizeof(*map->v), cmp_entry);
		map->sorted = 1;
	}
	for (size_t i = 0; i < d->n; i++) {
		struct pos_entry key = { d->v[i].where, 0, 0, 0 }, *e, *end = map->v + map->n;

		if (!d->v[i].where || d->v[i].line)
			continue;
		e = bsearch(&key, map->v, map->n, sizeof(*map->v), cmp_ptr);
		/* The last recorded of equal addresses: the most specific value. */
		while (e && e + 1 < end && e[1].p == e->p)
			e++;
		if (e) {
			d->v[i].line = e->line;
			d->v[i].col = e->col;
		}
	}
}

static int cmp_diag(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line - y->line;
	return x->col - y->col;
}

void diags_format(struct diags *d, const char *file, struct buf *out)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_diag);
	for (size_t i = 0; i < d->n; i++) {
		if (file && d->v[i].line)
			buf_printf(out, "%s:%d:%d: ", file, d->v[i].line, d->v[i].col);
		else if (file)
			buf_printf(out, "%s: ", file);
		buf_printf(out, "%s\n", d->v[i].msg);
	}
}

void posmap_add(struct posmap *m, const void *p, int line, int col)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n] = (struct pos_entry){ p, m->n, line, col };
	m->n++;
	m->sorted = 0;
}

void posmap_clear(struct posmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
