/*
 * keys.c - X25519 key pairs through EVP, random secrets through RAND_priv.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/base64.h"
#include "state/keys.h"

int key_decode(const char *b64, unsigned char raw[KEY_LEN])
{
	size_t len = strlen(b64);

	return len == 44 && base64_decode(b64, len, raw, KEY_LEN) == KEY_LEN ? 0 : -1;
}

int key_valid(const char *b64)
{
	unsigned char raw[KEY_LEN];
	int ok = key_decode(b64, raw) == 0;

	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

/* 32 bytes as 44 characters of base64 and a NUL: no allocation (renders call it per peer). */
static void to_b64(const unsigned char raw[KEY_LEN], char out[KEY_B64])
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;
	size_t i;

	for (i = 0; i + 3 <= KEY_LEN; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];

		*o++ = t[v >> 18];
		*o++ = t[(v >> 12) & 63];
		*o++ = t[(v >> 6) & 63];
		*o++ = t[v & 63];
	}
	/* KEY_LEN % 3 == 2: two bytes left, one '=' */
	{
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8;

		*o++ = t[v >> 18];
		*o++ = t[(v >> 12) & 63];
		*o++ = t[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
}

void key_text(const struct wg_key *k, char out[KEY_B64])
{
	if (KEY_HAS(k))
		to_b64(k->b, out);
	else
		out[0] = '\0';
}

void key_put(struct buf *out, const struct wg_key *k)
{
	char text[KEY_B64];

	key_text(k, text);
	buf_puts(out, text);
	OPENSSL_cleanse(text, sizeof(text));
}

int key_from_text(struct wg_key *k, const char *b64)
{
	key_wipe(k);
	if (!b64[0])
		return 0;
	if (key_decode(b64, k->b) < 0) {
		key_wipe(k);
		return -1;
	}
	k->set = KEY_SET;
	return 0;
}

int key_same(const struct wg_key *a, const struct wg_key *b)
{
	return a->set == b->set && !CRYPTO_memcmp(a->b, b->b, KEY_LEN);
}

int key_cmp(const struct wg_key *a, const struct wg_key *b)
{
	return memcmp(a->b, b->b, KEY_LEN);
}

void key_wipe(struct wg_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int key_derive(const struct wg_key *priv, struct wg_key *pub, struct atlas_err *err)
{
	unsigned char rpub[KEY_LEN];
	size_t plen = sizeof(rpub);
	EVP_PKEY *k = NULL;

	if (!KEY_HAS(priv))
		return err_set(err, ERR_INVALID, "private key is not base64 of 32 bytes");
	/* X25519 clamps on use; the public key is that of the clamped scalar. */
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv->b, KEY_LEN);
	if (!k || EVP_PKEY_get_raw_public_key(k, rpub, &plen) != 1 || plen != KEY_LEN) {
		EVP_PKEY_free(k);
		return err_set(err, ERR_INTERNAL, "cannot derive an X25519 public key");
	}
	EVP_PKEY_free(k);
	memcpy(pub->b, rpub, KEY_LEN);
	pub->set = KEY_SET;
	return 0;
}

int key_new_random(struct wg_key *k, struct atlas_err *err)
{
	key_wipe(k);
	if (RAND_priv_bytes(k->b, KEY_LEN) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	k->set = KEY_SET;
	return 0;
}

int key_new_pair(struct wg_key *priv, struct wg_key *pub, struct atlas_err *err)
{
	if (key_new_random(priv, err) < 0)
		return -1;
	/* Store the key clamped, as `wg genkey` does. */
	priv->b[0] &= 248;
	priv->b[31] = (priv->b[31] & 127) | 64;
	return key_derive(priv, pub, err);
}

int key_psk_on(const struct wg_key *k)
{
	static const unsigned char zero[KEY_LEN];

	return KEY_HAS(k) && memcmp(k->b, zero, KEY_LEN);
}

int key_public(const char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err)
{
	struct wg_key k, p = { { 0 }, KEY_NONE };
	int ret = -1;

	if (key_from_text(&k, priv) < 0 || !KEY_HAS(&k))
		err_set(err, ERR_INVALID, "private key is not base64 of 32 bytes");
	else if (key_derive(&k, &p, err) == 0)
		ret = 0;
	if (ret == 0)
		key_text(&p, pub);
	key_wipe(&k);
	return ret;
}

int key_random(char out[KEY_B64], struct atlas_err *err)
{
	struct wg_key k;
	int ret = key_new_random(&k, err);

	if (ret == 0)
		key_text(&k, out);
	key_wipe(&k);
	return ret;
}

int key_generate(char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err)
{
	struct wg_key k, p;
	int ret = key_new_pair(&k, &p, err);

	if (ret == 0) {
		key_text(&k, priv);
		key_text(&p, pub);
	}
	key_wipe(&k);
	return ret;
}

int uuid_random(char out[37], struct atlas_err *err)
{
	unsigned char r[16];

	if (RAND_priv_bytes(r, sizeof(r)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
	return 0;
}

int password_random(char out[25], struct atlas_err *err)
{
	unsigned char r[18];
	struct buf b = BUF_INIT;

	if (RAND_priv_bytes(r, sizeof(r)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	base64url_encode(&b, r, sizeof(r));
	snprintf(out, 25, "%s", b.data);
	buf_release_secure(&b);
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int key_psk_set(const char *b64)
{
	return b64[0] && strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
}
