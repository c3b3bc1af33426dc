/*
 * store_text.c - the text of the newest generation, kept in pieces
 * (store_text.h).
 *
 * The newest generation's YAML was one row: with 10,000 peers every edit
 * wrote 2.8 MB (~700 pages) and freed as many when that row became a
 * reverse delta. Now the newest row of `generations` holds only a reference,
 *
 *   #atlas-text v1 len=L\n
 *
 * and its text is the concatenation of the rows of `generation_text` in seq
 * order, pieces of about PIECE bytes cut at line ends. An edit rewrites the
 * pieces that hold the bytes it changed (one, for an edit of one peer), so
 * it writes a few KB. Older generations are reverse deltas as before
 * (delta.c); a database written before keeps its newest row whole, which
 * reads as it always did; the first save after turns it into pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/delta.h"
#include "state/store_text.h"

#define TEXT_MAGIC "#atlas-text v1 "
#define PIECE 16384
#define SEQ_GAP ((int64_t)1 << 20) /* between the seqs of pieces written at once */

static int db_err(sqlite3 *db, struct atlas_err *err)
{
	return err_set(err, ERR_IO, "database: generation_text: %s", sqlite3_errmsg(db));
}

int store_text_is_ref(const char *text, size_t len)
{
	return len >= strlen(TEXT_MAGIC) && !memcmp(text, TEXT_MAGIC, strlen(TEXT_MAGIC));
}

void store_text_ref(size_t len, struct buf *out)
{
	buf_printf(out, TEXT_MAGIC "len=%zu\n", len);
}

void store_text_layout_release(struct text_layout *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_text_read(sqlite3 *db, const char *ref, size_t reflen, int64_t gen, struct buf *out,
		    struct text_layout *lay, struct atlas_err *err)
{
	sqlite3_stmt *st;
	size_t want = 0, cap = 0;
	int rc;

	if (reflen <= strlen(TEXT_MAGIC) ||
	    sscanf(ref + strlen(TEXT_MAGIC), "len=%zu", &want) != 1)
		return err_set(err, ERR_INVALID, "generation %lld: an unreadable text reference",
			       (long long)gen);
	if (sqlite3_prepare_v2(db, "SELECT seq, body FROM generation_text ORDER BY seq", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(db, err);
	buf_grow(out, want);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *body = sqlite3_column_text(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);

		if (lay) {
			if (lay->n == cap)
				lay->v = xrealloc(lay->v, (cap = cap ? cap * 2 : 256) * sizeof(*lay->v));
			lay->v[lay->n++] = (struct text_piece){ sqlite3_column_int64(st, 0), out->len, n };
		}
		buf_add(out, body ? (const char *)body : "", n);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err);
	if (out->len != want)
		return err_set(err, ERR_INVALID,
			       "generation %lld: its text is %zu bytes, not the %zu it was stored with",
			       (long long)gen, out->len, want);
	if (!out->data)
		buf_add(out, "", 0);
	return 0;
}

/* Inserts text [p, end) as pieces of about PIECE bytes cut after a newline: seq from, step apart. */
static int insert_pieces(sqlite3 *db, const char *p, const char *end, int64_t from, int64_t step,
			 struct atlas_err *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO generation_text (seq, body) VALUES (?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(db, err);
	for (int64_t seq = from; p < end && rc == 0; seq += step) {
		const char *cut = end;

		if (end - p > 2 * PIECE) {
			const char *nl = memchr(p + PIECE, '\n', (size_t)(end - p - PIECE));

			cut = nl && nl + 1 < end ? nl + 1 : end;
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, p, (int)(cut - p), SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, err);
		p = cut;
	}
	sqlite3_finalize(st);
	return rc;
}

/* How many pieces insert_pieces cuts n bytes into (at most). */
static int64_t pieces_of(size_t n)
{
	return (int64_t)(n / PIECE + 1);
}

static int delete_seqs(sqlite3 *db, int64_t lo, int64_t hi, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "DELETE FROM generation_text WHERE seq >= ? AND seq <= ?", -1,
			       &st, NULL) != SQLITE_OK)
		return db_err(db, err);
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, err);
	sqlite3_finalize(st);
	return rc;
}

/* The piece of lay holding byte at (the last one for at == the text's length). */
static size_t piece_at(const struct text_layout *lay, size_t at)
{
	size_t lo = 0, hi = lay->n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		if (lay->v[mid].off <= at)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

int store_text_write(sqlite3 *db, size_t olen, const struct text_layout *lay,
		     const struct history_change *c, const char *next, size_t nlen,
		     struct atlas_err *err)
{
	size_t p, sfx, a, b, from, to;
	int64_t lo, hi;

	if (!lay || !lay->n) {
		if (sqlite3_exec(db, "DELETE FROM generation_text", NULL, NULL, NULL) != SQLITE_OK)
			return db_err(db, err);
		return insert_pieces(db, next, next + nlen, SEQ_GAP, SEQ_GAP, err);
	}
	/* the bytes that changed: old [p, olen - sfx) became next [p, nlen - sfx) */
	p = c->prefix;
	sfx = c->suffix;
	a = piece_at(lay, p);
	b = olen - sfx > p ? piece_at(lay, olen - sfx - 1) : a;
	from = lay->v[a].off;
	to = lay->v[b].off + lay->v[b].len + nlen - olen; /* the end of those pieces, in next */
	lo = lay->v[a].seq;
	hi = b + 1 < lay->n ? lay->v[b + 1].seq : INT64_MAX;
	/* room between piece a's seq and the next kept piece's, else all pieces again */
	if ((hi - lo) / pieces_of(to - from) < 1)
		return store_text_write(db, 0, NULL, NULL, next, nlen, err);
	if (delete_seqs(db, lo, lay->v[b].seq, err) < 0)
		return -1;
	return insert_pieces(db, next + from, next + to, lo,
			     hi == INT64_MAX ? SEQ_GAP : (hi - lo) / pieces_of(to - from), err);
}
