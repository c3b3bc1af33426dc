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

static void to_b64(const unsigned char raw[KEY_LEN], char out[KEY_B64])
{
	struct buf b = BUF_INIT;

	base64_encode(&b, raw, KEY_LEN);
	snprintf(out, KEY_B64, "%s", b.data);
	buf_release_secure(&b);
}

int key_public(const char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err)
{
	unsigned char raw[KEY_LEN], rpub[KEY_LEN];
	size_t plen = sizeof(rpub);
	EVP_PKEY *k = NULL;
	int ret = -1;

	if (key_decode(priv, raw) < 0)
		return err_set(err, ERR_INVALID, "private key is not base64 of 32 bytes");
	/* X25519 clamps on use; the public key is that of the clamped scalar. */
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, sizeof(raw));
	if (!k || EVP_PKEY_get_raw_public_key(k, rpub, &plen) != 1 || plen != KEY_LEN) {
		err_set(err, ERR_INTERNAL, "cannot derive an X25519 public key");
		goto out;
	}
	to_b64(rpub, pub);
	ret = 0;
out:
	EVP_PKEY_free(k);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

int key_random(char out[KEY_B64], struct atlas_err *err)
{
	unsigned char raw[KEY_LEN];

	if (RAND_priv_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	to_b64(raw, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int key_generate(char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err)
{
	unsigned char raw[KEY_LEN];

	if (RAND_priv_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	/* Store the key clamped, as `wg genkey` does. */
	raw[0] &= 248;
	raw[31] = (raw[31] & 127) | 64;
	to_b64(raw, priv);
	OPENSSL_cleanse(raw, sizeof(raw));
	return key_public(priv, pub, err);
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
