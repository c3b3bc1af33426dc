/*
 * jwt.h - JSON Web Tokens signed with HMAC-SHA256 (HS256), the API's bearer
 * tokens. Claims used by Atlas: sub (user), iat, exp (unix seconds), ep (the
 * user's token epoch: a password change makes older tokens invalid).
 *
 * The key is 32 random bytes in DATADIR/jwt.key (0600), created on first use.
 */
#ifndef ATLAS_JWT_H
#define ATLAS_JWT_H

#include <pthread.h>
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

/* What Atlas reads from a session token. */
struct jwt_claims {
	char sub[128];
	int64_t exp, ep;
};

/*
 * Tokens verified before, by their bytes: a panel polling a list sends the
 * same token with every request, and its signature and JSON are checked
 * once. A small direct-mapped table (tokens of up to JWT_MEMO_TOKEN_MAX
 * bytes); filled only with tokens that passed jwt_verify(), for one key (a
 * lookup with another key empties it first). Static storage is fine:
 * JWT_MEMO_INIT.
 */
#define JWT_MEMO_SLOTS	   64
#define JWT_MEMO_TOKEN_MAX 512

struct jwt_memo {
	pthread_mutex_t mu;
	unsigned char key[JWT_KEY_LEN];
	int keyed;
	unsigned long hits;	/* lookups answered from the table (tests) */
	struct {
		size_t len;	/* 0: free */
		char token[JWT_MEMO_TOKEN_MAX];
		struct jwt_claims c;
	} slot[JWT_MEMO_SLOTS];
};

#define JWT_MEMO_INIT { .mu = PTHREAD_MUTEX_INITIALIZER }

/*
 * The claims of a valid session token into out: signature, algorithm and
 * the claims sub (a string shorter than out->sub), exp and ep, through memo
 * when not NULL; then, every time, exp against now and ep against
 * epoch_of(cls, sub) (the user's current token epoch, -1 for no such user),
 * so a password change (API or CLI) refuses a memoised token at once. 0, or -1
 * with the reason in err (ERR_INVALID).
 */
int jwt_check(struct jwt_memo *memo, const unsigned char key[JWT_KEY_LEN], const char *token,
	      time_t now, int64_t (*epoch_of)(void *cls, const char *sub), void *cls,
	      struct jwt_claims *out, struct atlas_err *err);

/* Forgets every memoised token (wiped). */
void jwt_memo_clear(struct jwt_memo *memo);

#endif
