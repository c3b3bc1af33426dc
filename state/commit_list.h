/*
 * commit_list.h - what the commit of one element's edit needs whatever the
 * list (state/commit_peer.c: a WireGuard peer; state/commit_sb.c: a
 * sing-box user and their subscription), private to state/commit*.c:
 * - which one element of a named list differs between two states;
 * - where a block list is in the stored YAML text, which lines one
 *   element has there, and the text with those lines cut out and the new
 *   ones put in at their sorted place.
 * The elements are structs that start with their name (schema.c).
 */
#ifndef ATLAS_COMMIT_LIST_H
#define ATLAS_COMMIT_LIST_H

#include <stddef.h>

#include "lib/buf.h"
#include "state/schema.h"

/*
 * How list b (nb elements of schema sc, in any order) differs from list a
 * (na, sorted by name, names unique): 0 when not at all, 1 when in one
 * element (*eo its old self in a, NULL when added; *en its new self in b,
 * NULL when removed; a rename is both), -1 when in more, or when a is not
 * sorted, or a name is missing or twice. Pure.
 */
int list_one_edit(const struct schema *sc, const void *a, size_t na, const void *b, size_t nb,
		  const void **eo, const void **en);

/*
 * Where a block list is in YAML text [y, end): under the top-level section
 * line sect ("\nsingbox:\n"), in the element whose first line is item
 * (ilen bytes with its newline; NULL: the list is the section's own), the
 * list whose key line is list ("    users:\n"). Sets *from to its first
 * element's line; returns where it ends; NULL when there is none.
 */
const char *yaml_list_block(const char *y, const char *end, const char *sect, const char *item,
			    size_t ilen, const char *list, const char **from);

/*
 * The lines of the list's one element in y, the encoding of a state whose
 * list holds only that element (appended to chunk), and, with items (the
 * key line of the list the element's parent is in, "\n  inbounds:\n"), the
 * parent's first line (to itemline, replaced). -1 when not found.
 */
int yaml_elem_lines(const struct buf *y, const char *sect, const char *items, const char *list,
		    struct buf *chunk, struct buf *itemline);

/*
 * The text [last, end) with the block [from, to) edited: old's lines (oc,
 * NULL: none) cut out, new's (nc, NULL: none) put in before the lines of
 * the element that follows new (succ; NULL: at the end), appended to out in
 * a block of its size. -1 when the lines are not where expected.
 */
int yaml_splice(const char *last, const char *end, const char *from, const char *to,
		const struct buf *oc, const struct buf *nc, const struct buf *succ, struct buf *out);

#endif
