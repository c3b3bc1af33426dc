/*
 * fuzz_http.c - libFuzzer target for what the API reads from the network
 * before anything is routed: the raw request target (http_uri_check), the
 * framing headers (http_framing_check) and bearer tokens (jwt_check).
 *
 * Properties:
 *  - an accepted target has no control byte, raw or percent-decoded, no
 *    '#', every '%' starts two hex digits, and what the path (before the
 *    first '?') encodes is a byte a name holds; a refused one comes with a
 *    reason;
 *  - accepted framing is at most one Content-Length, all digits, never
 *    next to Transfer-Encoding;
 *  - the input as a token is refused (it is not signed with the key);
 *  - the input as the two halves of a token's JSON (header, then payload,
 *    cut at the first newline), signed with the key: accepted only when
 *    the header says HS256 and the payload holds an integer exp in the
 *    future, a string sub shorter than 128 bytes and an integer ep equal
 *    to the user's epoch; the claims read back are the payload's; a second
 *    check of the same token through the memo gives the same claims.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "api/http_guard.h"
#include "api/jwt.h"

#define NOW 1700000000

static const unsigned char key[JWT_KEY_LEN] = "0123456789abcdef0123456789abcde";
static struct jwt_memo memo = JWT_MEMO_INIT;

static int hexv(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void check_uri(const char *s)
{
	char msg[256] = "";

	if (http_uri_check(s, msg, sizeof(msg)) < 0) {
		if (!msg[0])
			abort();
		return;
	}
	for (const char *p = s, *q = strchr(s, '?'); *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || c == '#')
			abort();
		if (c != '%')
			continue;
		if (!hexv(p[1]) || !hexv(p[2]))
			abort();
		c = (unsigned char)(hexval(p[1]) * 16 + hexval(p[2]));
		if (c < 0x20 || c == 0x7f)
			abort();
		/* in the path, only what a name holds anyway */
		if ((!q || p < q) && !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789._~-", (char)c))
			abort();
		p += 2;
	}
}

static void check_framing(const char *s, unsigned char sel)
{
	unsigned n_cl = sel & 3;
	int has_te = (sel >> 2) & 1;
	const char *cl = n_cl ? s : NULL;
	char msg[256] = "";

	if (http_framing_check(n_cl, cl, has_te, msg, sizeof(msg)) < 0) {
		if (!msg[0])
			abort();
		return;
	}
	if (n_cl > 1 || (n_cl && has_te))
		abort();
	if (cl && (!*cl || strspn(cl, "0123456789") != strlen(cl)))
		abort();
}

static int64_t epoch_of(void *cls, const char *sub)
{
	(void)cls;
	return strcmp(sub, "nobody") ? 7 : -1;
}

/* header.payload.signature of the two JSON texts, signed with key. */
static char *signed_token(const char *header, size_t hlen, const char *payload, size_t plen)
{
	struct buf out = BUF_INIT;
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);

	base64url_encode(&out, header, hlen);
	buf_putc(&out, '.');
	base64url_encode(&out, payload, plen);
	HMAC(EVP_sha256(), key, JWT_KEY_LEN, (const unsigned char *)out.data, out.len, mac,
	     &maclen);
	buf_putc(&out, '.');
	base64url_encode(&out, mac, sizeof(mac));
	return buf_detach(&out);
}

/* What jwt_check must decide about the payload and header texts. */
static int should_accept(const char *header, size_t hlen, const char *payload, size_t plen,
			 struct jwt_claims *want)
{
	json_t *h = json_loadb(header, hlen, JSON_REJECT_DUPLICATES, NULL);
	json_t *p = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, NULL);
	json_t *alg = json_object_get(h, "alg"), *exp = json_object_get(p, "exp");
	json_t *sub = json_object_get(p, "sub"), *ep = json_object_get(p, "ep");
	int ok = json_is_object(h) && json_is_object(p) && json_is_string(alg) &&
		 !strcmp(json_string_value(alg), "HS256") && json_is_integer(exp) &&
		 json_integer_value(exp) > NOW && json_is_string(sub) &&
		 strlen(json_string_value(sub)) < sizeof(want->sub) && json_is_integer(ep) &&
		 epoch_of(NULL, json_string_value(sub)) >= 0 &&
		 json_integer_value(ep) == epoch_of(NULL, json_string_value(sub));

	/* a decoded segment of zero bytes is no JSON object */
	ok = ok && hlen > 0 && plen > 0;
	if (ok) {
		snprintf(want->sub, sizeof(want->sub), "%s", json_string_value(sub));
		want->exp = json_integer_value(exp);
		want->ep = json_integer_value(ep);
	}
	json_decref(h);
	json_decref(p);
	return ok;
}

static void check_token(const char *s, size_t size)
{
	const char *nl = memchr(s, '\n', size);
	size_t hlen = nl ? (size_t)(nl - s) : 0;
	const char *payload = nl ? nl + 1 : s;
	size_t plen = nl ? size - hlen - 1 : size;
	struct jwt_claims got, again, want = { 0 };
	struct atlas_err err = { 0 };
	char *tok;
	int ok, rc;

	if (jwt_check(NULL, key, s, NOW, epoch_of, NULL, &got, &err) == 0)
		abort(); /* not signed with the key */
	if (!nl || memchr(s, 0, size))
		return;
	tok = signed_token(s, hlen, payload, plen);
	if (strlen(tok) > 4096) {
		free(tok);
		return; /* longer than a token may be */
	}
	ok = should_accept(s, hlen, payload, plen, &want);
	rc = jwt_check(&memo, key, tok, NOW, epoch_of, NULL, &got, &err);
	if ((rc == 0) != ok)
		abort();
	if (rc == 0) {
		if (strcmp(got.sub, want.sub) || got.exp != want.exp || got.ep != want.ep)
			abort();
		/* (field by field: the bytes of sub after its end are not set) */
		if (jwt_check(&memo, key, tok, NOW, epoch_of, NULL, &again, &err) < 0 ||
		    strcmp(got.sub, again.sub) || got.exp != again.exp || got.ep != again.ep)
			abort();
		/* expired once now passes its exp, memo or not */
		if (jwt_check(&memo, key, tok, (time_t)got.exp, epoch_of, NULL, &again, &err) == 0)
			abort();
	} else if (!err.msg[0]) {
		abort();
	}
	free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	check_uri(s);
	check_framing(s, size ? data[0] : 0);
	check_token(s, size);
	free(s);
	return 0;
}
