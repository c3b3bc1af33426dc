/*
 * store_text.h - the text of the newest generation, kept in pieces in the
 * generation_text table (store_text.c), so that an edit writes the pieces
 * it changed instead of the whole YAML. Inside the store only (store.c).
 */
#ifndef ATLAS_STORE_TEXT_H
#define ATLAS_STORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "state/delta.h"

/* Where each piece of the text read lies: its seq, offset and length. */
struct text_piece {
	int64_t seq;
	size_t off, len;
};
struct text_layout {
	struct text_piece *v;
	size_t n;
};
void store_text_layout_release(struct text_layout *l);

/* 1 when a generation row holds a reference to the pieces, not a text. */
int store_text_is_ref(const char *text, size_t len);
/* The reference of a text of len bytes (appended to out). */
void store_text_ref(size_t len, struct buf *out);

/*
 * Appends the text of reference ref (generation gen's row) to out, with
 * where its pieces lie into lay (may be NULL). -1 with err when the pieces
 * are not the text the reference was written with (its length).
 */
int store_text_read(sqlite3 *db, const char *ref, size_t reflen, int64_t gen, struct buf *out,
		    struct text_layout *lay, struct atlas_err *err);

/*
 * Makes the pieces hold next: only those holding the bytes c says differ
 * from the old text (olen bytes, read with layout lay) are written again;
 * all of them when lay is NULL or empty (c unused). In the caller's
 * transaction.
 */
int store_text_write(sqlite3 *db, size_t olen, const struct text_layout *lay,
		     const struct history_change *c, const char *next, size_t nlen,
		     struct atlas_err *err);

#endif
