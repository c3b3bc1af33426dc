/*
 * base64.c - base64 encoding and strict decoding.
 */
#include <string.h>

#include "lib/base64.h"

static const char std_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void encode(struct buf *out, const unsigned char *in, size_t len, const char *alpha,
		   int pad)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		char q[4] = { alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63],
			      alpha[v & 63] };

		buf_add(out, q, 4);
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		buf_putc(out, alpha[v >> 18]);
		buf_putc(out, alpha[(v >> 12) & 63]);
		if (pad)
			buf_puts(out, "==");
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		buf_putc(out, alpha[v >> 18]);
		buf_putc(out, alpha[(v >> 12) & 63]);
		buf_putc(out, alpha[(v >> 6) & 63]);
		if (pad)
			buf_putc(out, '=');
	}
	if (!out->data)
		buf_grow(out, 0), out->data[0] = '\0';
}

void base64_encode(struct buf *out, const void *data, size_t len)
{
	encode(out, data, len, std_alpha, 1);
}

void base64url_encode(struct buf *out, const void *data, size_t len)
{
	encode(out, data, len, url_alpha, 0);
}

static int val(char c, const char *alpha)
{
	const char *p;

	if (!c)
		return -1;
	p = strchr(alpha, c);
	return p ? (int)(p - alpha) : -1;
}

static long decode(const char *s, size_t slen, unsigned char *out, size_t outcap,
		   const char *alpha, int pad)
{
	size_t i, o = 0, npad = 0;
	unsigned acc = 0;
	int bits = 0;

	if (pad) {
		if (slen % 4)
			return -1;
		while (npad < 2 && slen > 0 && s[slen - 1] == '=')
			slen--, npad++;
	} else if (slen % 4 == 1) {
		return -1;
	}
	for (i = 0; i < slen; i++) {
		int v = val(s[i], alpha);

		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero for a canonical encoding. */
	if (acc)
		return -1;
	return (long)o;
}

long base64_decode(const char *s, size_t slen, unsigned char *out, size_t outcap)
{
	return decode(s, slen, out, outcap, std_alpha, 1);
}

long base64url_decode(const char *s, size_t slen, unsigned char *out, size_t outcap)
{
	return decode(s, slen, out, outcap, url_alpha, 0);
}
