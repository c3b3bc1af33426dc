/*
 * jsonpos.c - where each value of a JSON text starts (jsonpos.h): one pass
 * over text known to be valid JSON, recording each value's line:col under
 * its path. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "state/jsonpos.h"

struct scan {
	const char *s, *end;
	int line, col;
	struct posidx *idx;
};

static void scan_adv(struct scan *sc)
{
	if (*sc->s == '\n') {
		sc->line++;
		sc->col = 1;
	} else {
		sc->col++;
	}
	sc->s++;
}

static void scan_ws(struct scan *sc)
{
	while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n' ||
				   *sc->s == '\r'))
		scan_adv(sc);
}

static void idx_add(struct posidx *x, const char *path, int line, int col)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->path = xrealloc(x->path, x->cap * sizeof(*x->path));
		x->line = xrealloc(x->line, x->cap * sizeof(*x->line));
		x->col = xrealloc(x->col, x->cap * sizeof(*x->col));
	}
	x->path[x->n] = xstrdup(path);
	x->line[x->n] = line;
	x->col[x->n] = col;
	x->n++;
}

/* Skips a string, appending its raw text (escapes kept) to key when given. */
static void scan_string(struct scan *sc, char *key, size_t keylen)
{
	size_t k = 0;

	scan_adv(sc);	/* the opening quote */
	while (sc->s < sc->end && *sc->s != '"') {
		if (*sc->s == '\\' && sc->s + 1 < sc->end) {
			if (key && k + 1 < keylen)
				key[k++] = *sc->s;
			scan_adv(sc);
		}
		if (key && k + 1 < keylen)
			key[k++] = *sc->s;
		scan_adv(sc);
	}
	if (key)
		key[k] = '\0';
	if (sc->s < sc->end)
		scan_adv(sc);
}

static void scan_value(struct scan *sc, char *path, size_t plen, int depth)
{
	size_t base = strlen(path);

	scan_ws(sc);
	if (sc->s >= sc->end)
		return;
	idx_add(sc->idx, path, sc->line, sc->col);
	if (depth > 64)
		return;	/* jansson refused deeper nesting already */
	if (*sc->s == '{' || *sc->s == '[') {
		int obj = *sc->s == '{';
		char close = obj ? '}' : ']';
		const char *at;
		size_t i = 0;

		scan_adv(sc);
		for (;;) {
			scan_ws(sc);
			if (sc->s >= sc->end || *sc->s == close)
				break;
			if (obj) {
				char key[128];

				if (*sc->s != '"')
					break;
				scan_string(sc, key, sizeof(key));
				snprintf(path + base, plen - base, "%s%s", base ? "." : "", key);
				scan_ws(sc);
				if (sc->s < sc->end && *sc->s == ':')
					scan_adv(sc);
			} else {
				snprintf(path + base, plen - base, "[%zu]", i++);
			}
			at = sc->s;
			scan_value(sc, path, plen, depth + 1);
			path[base] = '\0';
			if (sc->s == at)
				break;	/* a byte no value starts with: stop, never loop */
			scan_ws(sc);
			if (sc->s < sc->end && *sc->s == ',')
				scan_adv(sc);
		}
		if (sc->s < sc->end)
			scan_adv(sc);
	} else if (*sc->s == '"') {
		scan_string(sc, NULL, 0);
	} else {
		while (sc->s < sc->end && *sc->s && !strchr(",}] \t\r\n", *sc->s))
			scan_adv(sc);
	}
}

void posidx_build(struct posidx *x, const char *text, size_t len)
{
	char path[512] = "";
	struct scan sc = { .s = text, .end = text + len, .line = 1, .col = 1, .idx = x };

	scan_value(&sc, path, sizeof(path), 0);
}

void posidx_find(const struct posidx *x, const char *path, int *line, int *col)
{
	*line = *col = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->path[i], path)) {
			*line = x->line[i];
			*col = x->col[i];
			return;
		}
}

void posidx_release(struct posidx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->path[i]);
	free(x->path);
	free(x->line);
	free(x->col);
}
