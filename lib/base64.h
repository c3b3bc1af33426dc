/*
 * base64.h - standard base64 (RFC 4648, with padding) and a URL-safe
 * variant without padding (for JWT).
 */
#ifndef ATLAS_BASE64_H
#define ATLAS_BASE64_H

#include <stddef.h>

#include "lib/buf.h"

/* Appends the encoding of len bytes to out. Cannot fail. */
void base64_encode(struct buf *out, const void *data, size_t len);
void base64url_encode(struct buf *out, const void *data, size_t len);

/*
 * Decodes s (slen chars) into out (at most outcap bytes). Returns the number
 * of bytes written, or -1 when s is not valid base64 or does not fit. Strict:
 * no whitespace, canonical padding.
 */
long base64_decode(const char *s, size_t slen, unsigned char *out, size_t outcap);
long base64url_decode(const char *s, size_t slen, unsigned char *out, size_t outcap);

#endif
