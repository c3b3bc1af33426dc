/*
 * diag.h - a list of problems found in a desired state, each with a message
 * and, when known, where it came from (file position, field name).
 *
 * Validation reports a problem against the address of the value it is about
 * (`where`); the YAML decoder records the position of every value it decodes
 * in a posmap, and diags_resolve() turns addresses into line:column.
 */
#ifndef ATLAS_DIAG_H
#define ATLAS_DIAG_H

#include <stddef.h>

#include "lib/buf.h"

struct diag {
	char *msg;		/* owned; lowercase, names the resource, field and value */
	char *field;		/* owned; dotted path of the field ("peers.address"), or NULL */
	const void *where;	/* address of the value inside the state, or NULL */
	int line, col;		/* 1-based; 0 when unknown */
};

struct diags {
	struct diag *v;
	size_t n;
};

/*
 * Several values can share an address (a list element and its first field,
 * "name"; a mapping and its first field): the one recorded last, the most
 * specific, wins.
 */
struct posmap {
	struct pos_entry {
		const void *p;
		size_t seq;	/* order of posmap_add */
		int line, col;
	} *v;
	size_t n, cap;
	int sorted;
};

/*
 * Append a problem about the value at where (resolved later) or at line:col.
 * Control characters of the message are escaped. Cannot fail.
 */
void diags_add(struct diags *d, const void *where, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diags_add_at(struct diags *d, int line, int col, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void diags_clear(struct diags *d);
/* Fills line/col of diags that have a where found in map. */
void diags_resolve(struct diags *d, struct posmap *map);
/* Sorts d by position and appends "FILE:LINE:COL: msg\n" lines (file may be NULL). */
void diags_format(struct diags *d, const char *file, struct buf *out);

/* Records that the value at p came from line:col. Cannot fail. */
void posmap_add(struct posmap *m, const void *p, int line, int col);
void posmap_clear(struct posmap *m);

#endif
