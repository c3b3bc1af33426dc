/*
 * jsonpos.h - where each value of a JSON text starts. jansson keeps no
 * positions of values, so readers that report line:col (sing-box config
 * adoption) index the text once more: every value under its path
 * ("inbounds[1].users[0].uuid"; keys with their escapes as written).
 * Pure.
 */
#ifndef ATLAS_JSONPOS_H
#define ATLAS_JSONPOS_H

#include <stddef.h>

struct posidx {
	char **path;
	int *line, *col;
	size_t n, cap;
};

/* Indexes text, which must be valid JSON (parse it first), into x (zeroed). */
void posidx_build(struct posidx *x, const char *text, size_t len);

/* The line:col where the value at path starts; 0:0 when there is none. */
void posidx_find(const struct posidx *x, const char *path, int *line, int *col);

void posidx_release(struct posidx *x);

#endif
