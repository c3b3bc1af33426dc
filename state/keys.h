/*
 * keys.h - WireGuard keys (X25519) and random secrets, with OpenSSL.
 * Keys are handled as base64 text in char[KEY_B64] arrays.
 */
#ifndef ATLAS_KEYS_H
#define ATLAS_KEYS_H

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

#endif
