/*
 * strv.h - a NULL-terminated vector of owned strings.
 */
#ifndef ATLAS_STRV_H
#define ATLAS_STRV_H

#include <stddef.h>

struct strv {
	char **v;	/* owned strings; v[n] == NULL when v != NULL */
	size_t n;
};

#define STRV_INIT { NULL, 0 }

void strv_push(struct strv *s, const char *str);	/* copies str */
void strv_push_owned(struct strv *s, char *str);	/* steals str */
void strv_clear(struct strv *s);
void strv_copy(struct strv *dst, const struct strv *src);	/* dst must be empty */
int strv_eq(const struct strv *a, const struct strv *b);
int strv_contains(const struct strv *s, const char *str);
/* Joins with sep; new string, caller frees. */
char *strv_join(const struct strv *s, const char *sep);
/* Splits str on sep (empty fields dropped) and appends. */
void strv_split(struct strv *s, const char *str, char sep);
void strv_sort(struct strv *s);

#endif
