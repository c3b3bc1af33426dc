/*
 * keys.h - WireGuard keys (X25519) and random secrets, with OpenSSL.
 * The desired state keeps keys raw (struct wg_key, model.h); the text
 * functions work on base64 in char[KEY_B64] arrays (files, UAPI replies).
 */
#ifndef ATLAS_KEYS_H
#define ATLAS_KEYS_H

#include "lib/buf.h"
#include "lib/err.h"
#include "state/model.h"

/* 1 when b64 is canonical base64 of exactly 32 bytes. */
int key_valid(const char *b64);
/* New private key and its public half. */
int key_generate(char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err);
/* The public key of a private key (clamped as wireguard does). */
int key_public(const char priv[KEY_B64], char pub[KEY_B64], struct atlas_err *err);
/* 32 random bytes as base64 (a preshared key). */
int key_random(char out[KEY_B64], struct atlas_err *err);
/* A random RFC 4122 version 4 UUID (37 bytes with NUL). */
int uuid_random(char out[37], struct atlas_err *err);
/* A random password of 24 URL-safe characters (25 bytes with NUL). */
int password_random(char out[25], struct atlas_err *err);
/*
 * 1 when a preshared key is set: not empty and not all zeros. WireGuard
 * treats an all-zero PSK as none; the desired state stores that key for a
 * peer that has no PSK on purpose (an adopted one), so that none is
 * generated for it.
 */
int key_psk_set(const char *b64);
/* Decodes a valid key to raw bytes. */
int key_decode(const char *b64, unsigned char raw[KEY_LEN]);

/* ---- raw keys (struct wg_key) ---- */

/* 1 when k holds a key (KEY_SET). */
#define KEY_HAS(k) ((k)->set == KEY_SET)
/* 1 when k was given at all, a key or text that is not one (KEY_BAD). */
#define KEY_GIVEN(k) ((k)->set != KEY_NONE)
/* The base64 text of k in out; "" when k holds no key. Cannot fail. */
void key_text(const struct wg_key *k, char out[KEY_B64]);
/* Appends the text of k to out (nothing when no key); no copy left behind. */
void key_put(struct buf *out, const struct wg_key *k);
/* k from text: "" is no key; -1 (k no key) when b64 is not a key. */
int key_from_text(struct wg_key *k, const char *b64);
/* 1 when a and b are both no key or the same key (constant time on the bytes). */
int key_same(const struct wg_key *a, const struct wg_key *b);
/* memcmp order of two keys' bytes (a key without bytes sorts as zeros). */
int key_cmp(const struct wg_key *a, const struct wg_key *b);
/* Wipes k (no key). */
void key_wipe(struct wg_key *k);
/* Like key_generate(), key_public() and key_random(), on raw keys. */
int key_new_pair(struct wg_key *priv, struct wg_key *pub, struct atlas_err *err);
int key_derive(const struct wg_key *priv, struct wg_key *pub, struct atlas_err *err);
int key_new_random(struct wg_key *k, struct atlas_err *err);
/* key_psk_set() of a raw key: set and not all zeros. */
int key_psk_on(const struct wg_key *k);

#endif
