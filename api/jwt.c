/*
 * jwt.c - HS256 JSON Web Tokens with OpenSSL's HMAC and jansson.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/fileio.h"
#include "api/jwt.h"

#define JWT_MAX 4096

int jwt_key_load(const char *datadir, unsigned char key[JWT_KEY_LEN], struct atlas_err *err)
{
	char *path = xasprintf("%s/jwt.key", datadir);
	struct buf b = BUF_INIT;
	int ret = -1;

	if (file_read(path, 1024, &b, err) == 0) {
		if (b.len != JWT_KEY_LEN) {
			err_set(err, ERR_INVALID,
				"\"%s\" is not a %d-byte key: remove it to make a "
				"new one",
				path, JWT_KEY_LEN);
			goto out;
		}
		memcpy(key, b.data, JWT_KEY_LEN);
		ret = 0;
		goto out;
	}
	if (err && err->code != ERR_NOTFOUND)
		goto out;
	if (RAND_priv_bytes(key, JWT_KEY_LEN) != 1) {
		err_set(err, ERR_INTERNAL, "no randomness for the token key");
		goto out;
	}
	if (file_write_atomic(path, key, JWT_KEY_LEN, 0600, err) < 0)
		goto out;
	ret = 0;
out:
	buf_release_secure(&b);
	free(path);
	return ret;
}

static void hs256(const unsigned char *key, size_t keylen, const char *data, size_t len,
		  unsigned char mac[32])
{
	unsigned int maclen = 32;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, mac, &maclen);
}

char *jwt_sign(const unsigned char *key, size_t keylen, json_t *claims)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	struct buf out = BUF_INIT;
	unsigned char mac[32];
	char *payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);

	base64url_encode(&out, header, strlen(header));
	buf_putc(&out, '.');
	base64url_encode(&out, payload, strlen(payload));
	hs256(key, keylen, out.data, out.len, mac);
	buf_putc(&out, '.');
	base64url_encode(&out, mac, sizeof(mac));
	free(payload);
	return buf_detach(&out);
}

/* Decodes one base64url segment as a JSON object (new) or NULL. */
static json_t *segment_json(const char *s, size_t len)
{
	unsigned char *raw = xmalloc(len + 1);
	long n = base64url_decode(s, len, raw, len);
	json_t *j = NULL;

	if (n > 0)
		j = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

json_t *jwt_verify(const unsigned char *key, size_t keylen, const char *token, time_t now,
		   struct atlas_err *err)
{
	const char *d1, *d2;
	unsigned char mac[32], got[64];
	json_t *header = NULL, *claims = NULL;
	size_t len;
	long n;

	len = strnlen(token, JWT_MAX + 1);
	if (len > JWT_MAX) {
		err_set(err, ERR_INVALID, "token too long");
		return NULL;
	}
	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.')) {
		err_set(err, ERR_INVALID, "malformed token");
		return NULL;
	}
	hs256(key, keylen, token, (size_t)(d2 - token), mac);
	n = base64url_decode(d2 + 1, strlen(d2 + 1), got, sizeof(got));
	if (n != 32 || CRYPTO_memcmp(mac, got, 32) != 0) {
		err_set(err, ERR_INVALID, "bad token signature");
		return NULL;
	}
	header = segment_json(token, (size_t)(d1 - token));
	if (!header || !json_is_string(json_object_get(header, "alg")) ||
	    strcmp(json_string_value(json_object_get(header, "alg")), "HS256")) {
		err_set(err, ERR_INVALID, "unsupported token algorithm");
		goto fail;
	}
	claims = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!claims || !json_is_integer(json_object_get(claims, "exp"))) {
		err_set(err, ERR_INVALID, "token without expiry");
		goto fail;
	}
	if (json_integer_value(json_object_get(claims, "exp")) <= (json_int_t)now) {
		err_set(err, ERR_INVALID, "token expired");
		goto fail;
	}
	json_decref(header);
	return claims;
fail:
	json_decref(header);
	json_decref(claims);
	return NULL;
}
