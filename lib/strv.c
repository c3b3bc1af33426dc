/*
 * strv.c - string vectors.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strv.h"

void strv_push_owned(struct strv *s, char *str)
{
	s->v = xrealloc(s->v, (s->n + 2) * sizeof(*s->v));
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_push(struct strv *s, const char *str)
{
	strv_push_owned(s, xstrdup(str));
}

void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void strv_copy(struct strv *dst, const struct strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

int strv_eq(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return 0;
	return 1;
}

int strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 1;
	return 0;
}

char *strv_join(const struct strv *s, const char *sep)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, s->v[i]);
	}
	return buf_detach(&b);
}

void strv_split(struct strv *s, const char *str, char sep)
{
	while (str && *str) {
		const char *end = strchr(str, sep);
		size_t len = end ? (size_t)(end - str) : strlen(str);

		if (len)
			strv_push_owned(s, xstrndup(str, len));
		str = end ? end + 1 : NULL;
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp);
}
