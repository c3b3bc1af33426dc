/*
 * jwt.h - JSON Web Tokens signed with HMAC-SHA256 (HS256), the API's bearer
 * tokens. Claims used by Atlas: sub (user), iat, exp (unix seconds), ep (the
 * user's token epoch: a password change makes older tokens invalid).
 *
 * The key is 32 random bytes in DATADIR/jwt.key (0600), created on first use.
 */
#ifndef ATLAS_JWT_H
#define ATLAS_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "lib/err.h"

#define JWT_KEY_LEN 32
#define JWT_TTL	    (12 * 3600)

/* Loads DATADIR/jwt.key, creating it (random, 0600, atomically) when missing. */
int jwt_key_load(const char *datadir, unsigned char key[JWT_KEY_LEN], struct atlas_err *err);

/* A new token string "header.payload.signature" for claims (borrowed). */
char *jwt_sign(const unsigned char *key, size_t keylen, json_t *claims);

/*
 * Checks the signature (constant time), the header (alg HS256 only) and exp
 * against now. Returns the claims (new) or NULL with a reason in err
 * (ERR_INVALID). Accepts tokens of up to 4 KiB.
 */
json_t *jwt_verify(const unsigned char *key, size_t keylen, const char *token, time_t now,
		   struct atlas_err *err);

#endif
