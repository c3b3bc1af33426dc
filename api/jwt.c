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
#include "lib/proc.h"
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

/* The claims Atlas uses of a verified token; -1 when one is missing. */
static int claims_of(json_t *claims, struct jwt_claims *out, struct atlas_err *err)
{
	const char *sub = json_string_value(json_object_get(claims, "sub"));

	if (!sub || strlen(sub) >= sizeof(out->sub) ||
	    !json_is_integer(json_object_get(claims, "ep")))
		return err_set(err, ERR_INVALID, "token without subject");
	memcpy(out->sub, sub, strlen(sub) + 1);
	out->exp = json_integer_value(json_object_get(claims, "exp"));
	out->ep = json_integer_value(json_object_get(claims, "ep"));
	return 0;
}

/* The slot of a token: a hash of its last bytes (the signature's text). */
static size_t memo_slot(const char *token, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = len > 16 ? len - 16 : 0; i < len; i++)
		h = (h ^ (unsigned char)token[i]) * 16777619u;
	return h % JWT_MEMO_SLOTS;
}

void jwt_memo_clear(struct jwt_memo *memo)
{
	pthread_mutex_lock(&memo->mu);
	OPENSSL_cleanse(memo->slot, sizeof(memo->slot));
	pthread_mutex_unlock(&memo->mu);
}

/* 1 and *out when token is in memo (for key); 0 otherwise. Locked. */
static int memo_find(struct jwt_memo *memo, const unsigned char *key, const char *token,
		     size_t len, struct jwt_claims *out)
{
	size_t i = memo_slot(token, len);
	int found = 0;

	if (!memo->keyed || CRYPTO_memcmp(memo->key, key, JWT_KEY_LEN)) {
		OPENSSL_cleanse(memo->slot, sizeof(memo->slot));
		memcpy(memo->key, key, JWT_KEY_LEN);
		memo->keyed = 1;
		return 0;
	}
	if (memo->slot[i].len == len && !CRYPTO_memcmp(memo->slot[i].token, token, len)) {
		*out = memo->slot[i].c;
		memo->hits++;
		found = 1;
	}
	return found;
}

int jwt_check(struct jwt_memo *memo, const unsigned char key[JWT_KEY_LEN], const char *token,
	      time_t now, int64_t (*epoch_of)(void *cls, const char *sub), void *cls,
	      struct jwt_claims *out, struct atlas_err *err)
{
	size_t len = strnlen(token, JWT_MAX + 1);
	int found = 0;
	int64_t epoch;

	if (memo && len <= JWT_MEMO_TOKEN_MAX) {
		pthread_mutex_lock(&memo->mu);
		found = memo_find(memo, key, token, len, out);
		pthread_mutex_unlock(&memo->mu);
	}
	if (!found) {
		json_t *claims = jwt_verify(key, JWT_KEY_LEN, token, now, err);
		int rc = claims ? claims_of(claims, out, err) : -1;

		json_decref(claims);
		if (rc < 0)
			return -1;
		/*
		 * Once per token (later checks find it in memo): the HMAC maps
		 * about 1.3 MB of libcrypto's code, which the next tick unmaps.
		 * Only a valid token counts, so guesses cannot make it drop.
		 */
		proc_note_one_off();
		if (memo && len <= JWT_MEMO_TOKEN_MAX) {
			size_t i = memo_slot(token, len);

			pthread_mutex_lock(&memo->mu);
			if (memo->keyed && !CRYPTO_memcmp(memo->key, key, JWT_KEY_LEN)) {
				OPENSSL_cleanse(memo->slot[i].token, memo->slot[i].len);
				memcpy(memo->slot[i].token, token, len);
				memo->slot[i].len = len;
				memo->slot[i].c = *out;
			}
			pthread_mutex_unlock(&memo->mu);
		}
	}
	/* A memoised token still expires and still dies with its epoch. */
	if (out->exp <= (int64_t)now)
		return err_set(err, ERR_INVALID, "token expired");
	epoch = epoch_of(cls, out->sub);
	if (epoch < 0 || epoch != out->ep)
		return err_set(err, ERR_INVALID, "token no longer valid (password changed)");
	return 0;
}
