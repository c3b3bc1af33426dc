/*
 * delta.h - the reverse deltas the store keeps its older generations as
 * (delta.c: the format). Pure: text in, text out.
 */
#ifndef ATLAS_DELTA_H
#define ATLAS_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"

/* Where old and next differ: old [prefix, olen - suffix) became next [prefix, nlen - suffix). */
struct history_change {
	size_t prefix, suffix;
};

struct history_change history_change_of(const char *old, size_t olen, const char *next,
					size_t nlen);

/* The reverse delta that turns next into old (appended to out); c: history_change_of both. */
void history_delta_make(const char *old, size_t olen, const struct history_change *c,
			struct buf *out);

/* Replaces *cur (generation gen + 1's text) by the text delta describes; -1
 * with err when the delta is unreadable or its checksum differs. */
int history_delta_apply(const char *delta, size_t dlen, struct buf *cur, int64_t gen,
			struct atlas_err *err);

/*
 * The length of the common prefix of a and b (n bytes each), or of their
 * common suffix when back (compared block by block).
 */
size_t history_common_len(const char *a, const char *b, size_t n, int back);

/* 1 when text is a delta (not a whole generation). */
int history_is_delta(const char *text, size_t len);

#endif
