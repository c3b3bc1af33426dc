/*
 * totp.h - one-time passwords of RFC 4226 (HOTP) and RFC 6238 (TOTP) with
 * HMAC-SHA-1, and the base32 alphabet of RFC 4648 their secrets are written
 * in (otpauth:// URIs, authenticator apps). Pure: the time is a parameter,
 * so the RFC's test vectors run against any instant.
 */
#ifndef ATLAS_TOTP_H
#define ATLAS_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define TOTP_STEP   30 /* seconds */
#define TOTP_DIGITS 6

/* Appends the base32 of len bytes (upper case, no padding). Cannot fail. */
void base32_encode(struct buf *out, const void *data, size_t len);
/*
 * Decodes base32 text s (case-insensitive; '=' padding, spaces and '-'
 * ignored) into out (at most cap bytes). Returns the number of bytes, or -1
 * on another character, on leftover bits that are not zero or when it does
 * not fit.
 */
long base32_decode(const char *s, unsigned char *out, size_t cap);

/* The HOTP value of counter: the low `digits` (1..9) decimal digits. Cannot fail. */
uint32_t hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits);
/* The time step of unix time t (t / TOTP_STEP; 0 before 1970). */
uint64_t totp_step(int64_t t);
/* The TOTP value at unix time t with `digits` digits. Cannot fail. */
uint32_t totp_at(const unsigned char *key, size_t keylen, int64_t t, int digits);
/*
 * Parses a code of exactly TOTP_DIGITS decimal digits (spaces allowed
 * between them) into *code; -1 when code is anything else.
 */
int totp_parse_code(const char *s, uint32_t *code);

#endif
