/*
 * udiff.h - a unified diff of two texts, line by line (as `diff -u`), for
 * showing what a YAML import or a rollback would change.
 */
#ifndef ATLAS_UDIFF_H
#define ATLAS_UDIFF_H

#include "lib/buf.h"

/*
 * Appends the unified diff (3 lines of context) of a to b to out, with
 * "--- aname" / "+++ bname" headers; nothing when the texts are equal.
 * The changed middle is matched with an LCS when small enough (up to 4M
 * line pairs after common prefix and suffix are cut), else shown as one
 * replaced block. Cannot fail.
 */
void udiff(const char *a, const char *b, const char *aname, const char *bname, struct buf *out);

#endif
