/*
 * http_guard.c - see http_guard.h.
 */
#include <stdio.h>
#include <string.h>

#include "api/http_guard.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

int http_uri_check(const char *raw, char *msg, size_t len)
{
	int in_query = 0;

	for (const char *p = raw; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f) {
			snprintf(msg, len, "the request target holds a control character");
			return -1;
		}
		if (c == '?' && !in_query) {
			in_query = 1;
			continue;
		}
		if (c == '#') {
			snprintf(msg, len, "the request target holds a fragment");
			return -1;
		}
		if (c != '%')
			continue;
		if (hexval(p[1]) < 0 || hexval(p[2]) < 0) {
			snprintf(msg, len, "bad percent-encoding in the request target");
			return -1;
		}
		c = (unsigned char)(hexval(p[1]) * 16 + hexval(p[2]));
		if (c < 0x20 || c == 0x7f) {
			snprintf(msg, len, "the request target encodes the control byte %%%02X", c);
			return -1;
		}
		if (!in_query && !name_byte(c)) {
			snprintf(msg, len, "the path encodes the byte %%%02X, which no name holds", c);
			return -1;
		}
		p += 2;
	}
	return 0;
}

int http_framing_check(unsigned n_cl, const char *cl, int has_te, char *msg, size_t len)
{
	if (n_cl > 1) {
		snprintf(msg, len, "more than one Content-Length header");
		return -1;
	}
	if (n_cl && has_te) {
		snprintf(msg, len, "Content-Length together with Transfer-Encoding");
		return -1;
	}
	if (cl && (!*cl || strspn(cl, "0123456789") != strlen(cl))) {
		snprintf(msg, len, "Content-Length is not a number");
		return -1;
	}
	return 0;
}
