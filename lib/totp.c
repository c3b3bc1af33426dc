/*
 * totp.c - HOTP/TOTP with HMAC-SHA-1 (OpenSSL) and base32 (RFC 4648).
 */
#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/totp.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void base32_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8 | p[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			buf_putc(out, b32[acc >> (bits - 5) & 31]);
			bits -= 5;
		}
	}
	if (bits > 0)
		buf_putc(out, b32[acc << (5 - bits) & 31]);
}

long base32_decode(const char *s, unsigned char *out, size_t cap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s; s++) {
		const char *c;

		if (*s == '=' || *s == ' ' || *s == '-')
			continue;
		c = strchr(b32, toupper((unsigned char)*s));
		if (!c || !*s)
			return -1;
		acc = (acc << 5 | (unsigned)(c - b32)) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* what is left over must be the zero bits of the padding */
	if (acc & ((1u << bits) - 1))
		return -1;
	return (long)n;
}

uint32_t hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits)
{
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	uint32_t v, mod = 1;
	int off;

	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen);
	/* dynamic truncation (RFC 4226 5.3) */
	off = mac[19] & 0xf;
	v = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	    (uint32_t)mac[off + 2] << 8 | mac[off + 3];
	OPENSSL_cleanse(mac, sizeof(mac));
	for (int i = 0; i < digits && i < 9; i++)
		mod *= 10;
	return v % mod;
}

uint64_t totp_step(int64_t t)
{
	return t < 0 ? 0 : (uint64_t)t / TOTP_STEP;
}

uint32_t totp_at(const unsigned char *key, size_t keylen, int64_t t, int digits)
{
	return hotp(key, keylen, totp_step(t), digits);
}

int totp_parse_code(const char *s, uint32_t *code)
{
	uint32_t v = 0;
	int n = 0;

	for (; *s; s++) {
		if (*s == ' ' && n > 0 && n < TOTP_DIGITS)
			continue;
		if (*s < '0' || *s > '9' || n >= TOTP_DIGITS)
			return -1;
		v = v * 10 + (uint32_t)(*s - '0');
		n++;
	}
	if (n != TOTP_DIGITS)
		return -1;
	*code = v;
	return 0;
}
