/*
 * tokens.h - scoped API tokens (table api_tokens, schema/006_tokens.sql).
 *
 * A token is "atlas_" and 43 base64url characters (32 random bytes); it is
 * shown once when created and only its SHA-256 (hex) is stored. The prefix
 * tells it apart from a panel session token (a JWT, "eyJ..."). Its scope
 * says what it may do: read < operator < admin (docs/security.md).
 */
#ifndef ATLAS_TOKENS_H
#define ATLAS_TOKENS_H

#include <stdint.h>

#include "lib/err.h"
#include "state/store.h"

#define TOKEN_PREFIX	"atlas_"
#define TOKEN_LEN	(6 + 43)
#define TOKEN_NAME_MAX	64
#define TOKEN_HASH_HEX	65

/*
 * Scopes in order of power. SCOPE_SESSION is what a route needs when only
 * the administrator's panel session (password, and code when TOTP is on)
 * may call it: no token reaches it.
 */
enum token_scope {
	SCOPE_READ = 1,
	SCOPE_OPERATOR = 2,
	SCOPE_ADMIN = 3,
	SCOPE_SESSION = 4,
};

struct token_info {
	char name[TOKEN_NAME_MAX + 1];
	enum token_scope scope;
	int64_t created_at, expires_at, last_used_at; /* unix seconds; expires_at 0: never */
};

/* "read", "operator", "admin" (and "session") or NULL; the scope of a name, 0 when none. */
const char *token_scope_name(enum token_scope s);
enum token_scope token_scope_parse(const char *name);
/* 1 when s has the form of an API token (prefix, length, alphabet). */
int token_looks_like(const char *s);
/* The hex SHA-256 of token into out. Cannot fail. */
void token_hash(const char *token, char out[TOKEN_HASH_HEX]);
/*
 * Parses a lifetime "90d", "12h", "30m", "3600s" or "never" (0) into
 * seconds; -1 with ERR_INVALID naming the value otherwise.
 */
int64_t token_parse_duration(const char *s, struct atlas_err *err);
/* 0 when name is 1 to 64 of [A-Za-z0-9._-] starting with a letter or digit. */
int token_check_name(const char *name, struct atlas_err *err);

/*
 * Creates token name with scope, expiring at expires_at (0: never), and
 * writes the new token into out (shown once; the caller wipes it).
 * ERR_CONFLICT when the name exists, ERR_INVALID for a bad name or scope.
 */
int token_create(struct store *s, const char *name, enum token_scope scope, int64_t expires_at,
		 int64_t now, char out[TOKEN_LEN + 1], struct atlas_err *err);
/* Every token, by name; *out new (free()). */
int token_list(struct store *s, struct token_info **out, size_t *n, struct atlas_err *err);
/* Removes token name; ERR_NOTFOUND when there is none. */
int token_revoke(struct store *s, const char *name, struct atlas_err *err);
/*
 * The token whose secret is token, valid at now, into *info (and records
 * its use); -1 with ERR_INVALID for a malformed, unknown (revoked) or
 * expired one, another code on a store error.
 */
int token_authenticate(struct store *s, const char *token, int64_t now, struct token_info *info,
		       struct atlas_err *err);
/* The expiry of token name (0: never) or -1 when it does not exist. */
int64_t token_expiry(struct store *s, const char *name);

#endif
