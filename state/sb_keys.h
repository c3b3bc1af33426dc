/*
 * sb_keys.h - the secrets Atlas generates for sing-box inbounds, with
 * OpenSSL: REALITY X25519 keys (base64url without padding, as sing-box
 * writes them), short ids, Shadowsocks 2022 keys, self-signed certificates
 * and their SHA-256 pins. Not pure (randomness, the clock): renderers only
 * read what these made and completion stored.
 */
#ifndef ATLAS_SB_KEYS_H
#define ATLAS_SB_KEYS_H

#include <stddef.h>

#include "lib/err.h"

/* A new REALITY key pair: *priv and *pub new strings (43 chars each). */
int sb_reality_generate(char **priv, char **pub, struct atlas_err *err);
/* The public key of priv (new in *pub); ERR_INVALID when priv is not a key. */
int sb_reality_public(const char *priv, char **pub, struct atlas_err *err);
/* 1 when s is base64url (no padding) of 32 bytes. */
int sb_reality_key_valid(const char *s);
/* A new random short id: 16 hex digits (new string). */
int sb_short_id_generate(char **out, struct atlas_err *err);
/* 1 when s is 0 to 16 hex digits, an even number of them. */
int sb_short_id_valid(const char *s);
/* A new Shadowsocks 2022 key: base64 of len random bytes (new string). */
int sb_ss_key_generate(int len, char **out, struct atlas_err *err);
/* 1 when s is canonical base64 of exactly len bytes. */
int sb_ss_key_valid(const char *s, int len);
/* 1 when s is an RFC 4122 UUID text (8-4-4-4-12 hex digits). */
int sb_uuid_valid(const char *s);

/*
 * A new self-signed certificate for host (a DNS name or an IP address):
 * ECDSA P-256, subjectAltName host, ten years. *cert and *key new PEM text.
 */
int sb_self_signed(const char *host, char **cert, char **key, struct atlas_err *err);
/* 1 when the PEM certificate is valid for host and key is its private key. */
int sb_cert_matches(const char *cert, const char *key, const char *host);
/* Lowercase hex SHA-256 of the DER of the PEM certificate (65 bytes). */
int sb_cert_sha256(const char *cert, char out[65], struct atlas_err *err);

#endif
