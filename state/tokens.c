/*
 * tokens.c - scoped API tokens: creation (random, shown once), listing,
 * revocation and the check of a presented token against its stored hash.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "lib/base64.h"
#include "state/tokens.h"

static const char *const scope_names[] = {NULL, "read", "operator", "admin", "session"};

const char *token_scope_name(enum token_scope s)
{
	return s >= SCOPE_READ && s <= SCOPE_SESSION ? scope_names[s] : NULL;
}

enum token_scope token_scope_parse(const char *name)
{
	for (int i = SCOPE_READ; i <= SCOPE_ADMIN; i++)
		if (name && !strcmp(name, scope_names[i]))
			return (enum token_scope)i;
	return 0;
}

int token_looks_like(const char *s)
{
	size_t n = strlen(TOKEN_PREFIX);

	if (strncmp(s, TOKEN_PREFIX, n) || strlen(s) != TOKEN_LEN)
		return 0;
	for (s += n; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

void token_hash(const char *token, char out[TOKEN_HASH_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int64_t token_parse_duration(const char *s, struct atlas_err *err)
{
	char *end;
	long long v;
	int64_t unit;

	if (!strcmp(s, "never"))
		return 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoll(s, &end, 10);
	if (!strcmp(end, "d"))
		unit = 86400;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "s"))
		unit = 1;
	else
		goto bad;
	/* at most ten years: a lifetime beyond that is a typo */
	if (v < 1 || v > 3650LL * 86400 / unit)
		goto bad;
	return v * unit;
bad:
	return err_set(err, ERR_INVALID,
		       "expires \"%s\" is not a lifetime like 90d, 12h, 30m, 3600s or never "
		       "(at most 3650d)",
		       s);
}

int token_check_name(const char *name, struct atlas_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > TOKEN_NAME_MAX || !isalnum((unsigned char)name[0]))
		goto bad;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
			goto bad;
	return 0;
bad:
	return err_set(err, ERR_INVALID,
		       "token name \"%.80s\" must be 1 to %d letters, digits, '.', '_' or '-' "
		       "starting with a letter or digit",
		       name, TOKEN_NAME_MAX);
}

static int db_fail(struct store *s, struct atlas_err *err)
{
	return err_set(err, ERR_IO, "database: api_tokens: %s", sqlite3_errmsg(store_db(s)));
}

int token_create(struct store *s, const char *name, enum token_scope scope, int64_t expires_at,
		 int64_t now, char out[TOKEN_LEN + 1], struct atlas_err *err)
{
	unsigned char raw[32];
	struct buf b = BUF_INIT;
	char hash[TOKEN_HASH_HEX];
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (token_check_name(name, err) < 0)
		return -1;
	if (scope < SCOPE_READ || scope > SCOPE_ADMIN)
		return err_set(err, ERR_INVALID, "scope must be read, operator or admin");
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "no randomness for a token");
	buf_puts(&b, TOKEN_PREFIX);
	base64url_encode(&b, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	token_hash(buf_str(&b), hash);
	if (sqlite3_prepare_v2(store_db(s),
			       "INSERT INTO api_tokens (name, scope, hash, created_at, expires_at) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, err);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token_scope_name(scope), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, expires_at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		err_set(err, ERR_CONFLICT, "token \"%s\" exists already", name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, err);
		goto out;
	}
	snprintf(out, TOKEN_LEN + 1, "%s", buf_str(&b));
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release_secure(&b);
	return ret;
}

static void row_info(sqlite3_stmt *st, struct token_info *t)
{
	snprintf(t->name, sizeof(t->name), "%s", (const char *)sqlite3_column_text(st, 0));
	t->scope = token_scope_parse((const char *)sqlite3_column_text(st, 1));
	t->created_at = sqlite3_column_int64(st, 2);
	t->expires_at = sqlite3_column_int64(st, 3);
	t->last_used_at = sqlite3_column_int64(st, 4);
}

#define TOKEN_COLS "name, scope, created_at, expires_at, last_used_at"

int token_list(struct store *s, struct token_info **out, size_t *n, struct atlas_err *err)
{
	sqlite3_stmt *st;
	struct token_info *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(store_db(s), "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		row_info(st, &v[k++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(s, err);
	}
	*out = v;
	*n = k;
	return 0;
}

int token_revoke(struct store *s, const char *name, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_db(s), "DELETE FROM api_tokens WHERE name = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(s, err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, err);
	if (sqlite3_changes(store_db(s)) == 0)
		return err_set(err, ERR_NOTFOUND, "no token \"%.80s\"", name);
	return 0;
}

int token_authenticate(struct store *s, const char *token, int64_t now, struct token_info *info,
		       struct atlas_err *err)
{
	char hash[TOKEN_HASH_HEX];
	sqlite3_stmt *st;
	int rc, ret = -1;

	if (!token_looks_like(token))
		return err_set(err, ERR_INVALID, "malformed API token");
	token_hash(token, hash);
	if (sqlite3_prepare_v2(store_db(s), "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_info(st, info);
		if (info->expires_at && info->expires_at <= now)
			err_set(err, ERR_INVALID, "API token \"%s\" expired", info->name);
		else if (!info->scope)
			err_set(err, ERR_INVALID, "API token \"%s\" has no known scope", info->name);
		else
			ret = 0;
	} else if (rc == SQLITE_DONE) {
		err_set(err, ERR_INVALID, "unknown or revoked API token");
	} else {
		db_fail(s, err);
	}
	sqlite3_finalize(st);
	if (ret == 0 && now - info->last_used_at >= 60) {
		/* once a minute at most: a busy client does not write on every call */
		if (sqlite3_prepare_v2(store_db(s),
				       "UPDATE api_tokens SET last_used_at = ? WHERE name = ?", -1,
				       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_text(st, 2, info->name, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		info->last_used_at = now;
	}
	return ret;
}

int64_t token_expiry(struct store *s, const char *name)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), "SELECT expires_at FROM api_tokens WHERE name = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
