/*
 * wgquick.h - the line reader and value checks of the wg-quick format
 * (wgquick.c), shared by the server and client file readers of adopt_wg.c.
 */
#ifndef ATLAS_WGQUICK_H
#define ATLAS_WGQUICK_H

#include <stddef.h>

#include "lib/strv.h"
#include "state/diag.h"
#include "state/keys.h"

/* One line of a wg-quick file. */
struct wgq_line {
	int no;
	char *text;		/* the whole line, comment and all (owned by the reader) */
	const char *key;	/* NULL: no "key = value" (a header, a comment, a blank line) */
	size_t keylen;
	const char *val;	/* trimmed value without its comment */
	size_t vallen;
	int keycol, valcol;
	const char *comment;	/* text after the first "#", or NULL */
};

/* The lines of a text, one after the other (wgq_reader_next). */
struct wgq_reader {
	char *copy;
	char *pos;
	int no;
};

/*
 * Splits one line; returns -1 (and an error) when it is neither blank, a
 * header, nor key = value.
 */
int wgq_line_parse(struct wgq_line *l, struct diags *errs);

/* Whether the line's key is name, in any case (as wg(8) matches keys). */
int wgq_key_is(const struct wgq_line *l, const char *name);

/* A header "[Name]": the name (NULL terminated in place), or NULL with an error. */
const char *wgq_header(struct wgq_line *l, struct diags *errs);

/* Reads a copy of the len bytes of text; wgq_reader_release wipes and frees it. */
void wgq_reader_init(struct wgq_reader *r, const char *text, size_t len);
void wgq_reader_release(struct wgq_reader *r);

/* The next line, or 0 at the end. Strips "\r". */
int wgq_reader_next(struct wgq_reader *r, struct wgq_line *l);

/* The value (new string). */
char *wgq_val_dup(const struct wgq_line *l);

/* A base64 WireGuard key into out; -1 with an error at its column. */
int wgq_val_key(const struct wgq_line *l, char out[KEY_B64], struct diags *errs);
/* wgq_val_key() into a raw key (model.h). */
int wgq_val_wgkey(const struct wgq_line *l, struct wg_key *out, struct diags *errs);

/* A whole number from min to max into *out; -1 with an error at its column. */
int wgq_val_int(const struct wgq_line *l, int min, int max, int *out, struct diags *errs);

/* A comma-separated list of prefixes (bare addresses get their full length). */
int wgq_val_prefixes(const struct wgq_line *l, int net, struct strv *out, struct diags *errs);

/*
 * The name a comment gives (without its "#"s), strong = 1 for the keyed
 * forms, 0 for a plain comment. Copies it to out, made a valid name, and
 * as written (control bytes as '?') to raw (raw_len bytes; may be NULL);
 * 0 when the comment names nothing.
 */
int wgq_comment_name(const char *c, char *out, size_t len, int *strong, char *raw_out,
		     size_t raw_len);

#endif
