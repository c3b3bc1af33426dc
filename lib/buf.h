/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * struct buf b = BUF_INIT; buf_puts(&b, "x"); ... buf_release(&b);
 * Allocation failure aborts the program (xmalloc policy): a 1 GB server
 * that cannot allocate a few bytes has nothing better to do.
 */
#ifndef ATLAS_BUF_H
#define ATLAS_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* owned; NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Makes room for extra more bytes (and the NUL). Cannot fail (aborts). */
void buf_grow(struct buf *b, size_t extra);
/* Append len bytes / a string / a char / formatted text. Cannot fail. */
void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties b, keeping its memory for reuse. */
void buf_reset(struct buf *b);
/* Returns the data (new, caller frees; "" when empty) and resets b. */
char *buf_detach(struct buf *b);
/* Wipes the contents before freeing: for buffers that held secrets. */
void buf_release_secure(struct buf *b);
/* Frees the contents; b is BUF_INIT again. */
void buf_release(struct buf *b);
/* Returns b->data, or "" when nothing was added. Borrowed. */
const char *buf_str(const struct buf *b);

/* xmalloc family: abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
