/*
 * auth.h - the panel's administrator accounts, stored in SQLite (table
 * admins, schema/002_auth.sql), with scrypt password hashes (OpenSSL).
 *
 * There is no default password: auth_ensure_admin() creates user "admin"
 * with a random password the first time and hands it to the caller, who
 * prints it once. Each account has a token epoch that grows at every
 * password change; API tokens carry it, so a change invalidates them.
 */
#ifndef ATLAS_AUTH_H
#define ATLAS_AUTH_H

#include <stdint.h>

#include "lib/err.h"
#include "state/store.h"

#define AUTH_ADMIN	  "admin"
#define AUTH_PASSWORD_MAX 256
/* DATADIR/<this> (0600): the first-start password, until it is changed. */
#define AUTH_INITIAL_PW_FILE "initial-admin-password"

/*
 * Creates user "admin" with a random password when no administrator exists.
 * *created is 1 then and password (25 bytes) holds it; the caller prints it
 * once and wipes it. Returns 0, or -1 on a store or randomness error.
 */
int auth_ensure_admin(struct store *s, char password[25], int *created, struct atlas_err *err);

/*
 * Sets user's password (creating the user when missing) and bumps its token
 * epoch. The password must be 8 to AUTH_PASSWORD_MAX bytes without control
 * characters (ERR_INVALID otherwise).
 */
int auth_set_password(struct store *s, const char *user, const char *password,
		      struct atlas_err *err);

/*
 * Checks a password in constant time with respect to the stored hash.
 * Returns 0 and the user's token epoch in *epoch when it matches; -1 with
 * ERR_INVALID ("invalid username or password") when the user is unknown or
 * the password wrong; -1 with another code on a store error.
 */
int auth_check_password(struct store *s, const char *user, const char *password, int64_t *epoch,
			struct atlas_err *err);

/* The token epoch of user, or -1 when the user does not exist. */
int64_t auth_token_epoch(struct store *s, const char *user);

/*
 * Hashes a password with scrypt and a random salt into a new string
 * "scrypt$N$r$p$SALT$HASH"; NULL on failure. auth_verify_hash: 1 on a match.
 */
char *auth_hash_password(const char *password, struct atlas_err *err);
int auth_verify_hash(const char *hash, const char *password);

#endif
