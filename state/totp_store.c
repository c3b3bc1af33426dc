/*
 * totp_store.c - TOTP enrolment, verification with replay protection and
 * the recovery codes of the administrator (see totp_store.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "lib/totp.h"
#include "state/tokens.h"
#include "state/totp_store.h"

#define SECRET_LEN 20

static int db_fail(struct store *s, struct atlas_err *err)
{
	return err_set(err, ERR_IO, "database: totp: %s", sqlite3_errmsg(store_db(s)));
}

/* Runs sql with text parameters (NULL binds NULL); 0 or -1. Changed rows into *changes. */
static int run(struct store *s, const char *sql, const char *a, const char *b, int64_t i,
	       int *changes, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err);
	for (int k = 1; k <= sqlite3_bind_parameter_count(st); k++) {
		const char *name = sqlite3_bind_parameter_name(st, k);

		if (name && !strcmp(name, "?1"))
			sqlite3_bind_text(st, k, a, -1, SQLITE_STATIC);
		else if (name && !strcmp(name, "?2"))
			sqlite3_bind_text(st, k, b, -1, SQLITE_STATIC);
		else if (name && !strcmp(name, "?3"))
			sqlite3_bind_int64(st, k, i);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(s, err);
	if (changes)
		*changes = sqlite3_changes(store_db(s));
	return 0;
}

/* user's secret (enabled, or the pending one) as new base32 text, or NULL; *last_step set. */
static char *load_secret(struct store *s, const char *user, int pending, int64_t *last_step)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(store_db(s),
			       pending ? "SELECT totp_pending, totp_last_step FROM admins WHERE "
					 "username = ?"
				       : "SELECT totp_secret, totp_last_step FROM admins WHERE "
					 "username = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
		if (last_step)
			*last_step = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return v;
}

int totp_enroll_begin(struct store *s, const char *user, struct buf *secret_b32,
		      struct atlas_err *err)
{
	unsigned char raw[SECRET_LEN];
	struct buf b = BUF_INIT;
	char *on = load_secret(s, user, 0, NULL);
	int n = 0, ret = -1;

	if (on) {
		free(on);
		return err_set(err, ERR_CONFLICT,
			       "two-factor login is on already for \"%s\"; disable it first", user);
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "no randomness for a TOTP secret");
	base32_encode(&b, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (run(s, "UPDATE admins SET totp_pending = ?1 WHERE username = ?2", buf_str(&b), user, 0,
		&n, err) < 0)
		goto out;
	if (n == 0) {
		err_set(err, ERR_NOTFOUND, "no administrator \"%s\"", user);
		goto out;
	}
	buf_puts(secret_b32, buf_str(&b));
	ret = 0;
out:
	buf_release_secure(&b);
	return ret;
}

/* Appends s percent-encoded but for unreserved characters. */
static void pct(struct buf *out, const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			buf_putc(out, *s);
		else
			buf_printf(out, "%%%02X", (unsigned char)*s);
}

char *totp_uri(const char *user, const char *secret_b32)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "otpauth://totp/" TOTP_ISSUER ":");
	pct(&b, user);
	buf_printf(&b, "?secret=%s&issuer=" TOTP_ISSUER "&algorithm=SHA1&digits=%d&period=%d",
		   secret_b32, TOTP_DIGITS, TOTP_STEP);
	return buf_detach(&b);
}

/*
 * The time step in [now - 1 step, now + 1 step] whose code under the base32
 * secret is code, newer than after; 0 when none.
 */
static uint64_t match_step(const char *secret_b32, uint32_t code, int64_t now, uint64_t after)
{
	unsigned char key[64];
	long n = base32_decode(secret_b32, key, sizeof(key));
	uint64_t found = 0, cur = totp_step(now);

	if (n <= 0)
		return 0;
	for (uint64_t step = cur ? cur - 1 : 0; step <= cur + 1; step++) {
		/* every candidate is computed: the time taken does not tell which matched */
		uint32_t want = hotp(key, (size_t)n, step, TOTP_DIGITS);

		if (want == code && step > after && !found)
			found = step;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return found;
}

/* A recovery code without dashes and spaces, in lower case, into out; -1 when not one. */
static int recovery_norm(const char *code, char out[TOTP_RECOVERY_LEN])
{
	size_t n = 0;

	for (; *code; code++) {
		if (*code == '-' || *code == ' ')
			continue;
		if (n >= 16 || !strchr("abcdefghijklmnopqrstuvwxyz234567",
				       tolower((unsigned char)*code)))
			return -1;
		out[n++] = (char)tolower((unsigned char)*code);
	}
	out[n] = '\0';
	return n == 16 ? 0 : -1;
}

static int new_recovery_codes(struct store *s, const char *user,
			      char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN],
			      struct atlas_err *err)
{
	if (run(s, "DELETE FROM totp_recovery WHERE username = ?1", user, NULL, 0, NULL, err) < 0)
		return -1;
	for (int i = 0; i < TOTP_RECOVERY_CODES; i++) {
		unsigned char raw[10];
		struct buf b = BUF_INIT;
		char norm[TOTP_RECOVERY_LEN], hash[TOKEN_HASH_HEX];
		int rc;

		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return err_set(err, ERR_INTERNAL, "no randomness for recovery codes");
		base32_encode(&b, raw, sizeof(raw)); /* 80 bits: 16 characters */
		OPENSSL_cleanse(raw, sizeof(raw));
		for (size_t k = 0; k < 16; k++)
			norm[k] = (char)tolower((unsigned char)b.data[k]);
		norm[16] = '\0';
		buf_release_secure(&b);
		snprintf(codes[i], TOTP_RECOVERY_LEN, "%.4s-%.4s-%.4s-%.4s", norm, norm + 4,
			 norm + 8, norm + 12);
		token_hash(norm, hash);
		OPENSSL_cleanse(norm, sizeof(norm));
		rc = run(s, "INSERT INTO totp_recovery (username, hash) VALUES (?1, ?2)", user, hash,
			 0, NULL, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int totp_enroll_confirm(struct store *s, const char *user, const char *code, int64_t now,
			char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN], struct atlas_err *err)
{
	char *pending = load_secret(s, user, 1, NULL);
	uint32_t c;
	uint64_t step;
	int ret = -1;

	if (!pending)
		return err_set(err, ERR_NOTFOUND, "no two-factor enrolment is pending for \"%s\"",
			       user);
	if (totp_parse_code(code, &c) < 0 || !(step = match_step(pending, c, now, 0))) {
		err_set(err, ERR_INVALID, "code \"%.16s\" is not the current code of the new secret",
			code);
		goto out;
	}
	if (run(s, "BEGIN IMMEDIATE", NULL, NULL, 0, NULL, err) < 0)
		goto out;
	if (run(s,
		"UPDATE admins SET totp_secret = totp_pending, totp_pending = NULL, "
		"totp_last_step = ?3 WHERE username = ?1",
		user, NULL, (int64_t)step, NULL, err) < 0 ||
	    new_recovery_codes(s, user, codes, err) < 0) {
		run(s, "ROLLBACK", NULL, NULL, 0, NULL, NULL);
		OPENSSL_cleanse(codes, sizeof(codes[0]) * TOTP_RECOVERY_CODES);
		goto out;
	}
	ret = run(s, "COMMIT", NULL, NULL, 0, NULL, err);
out:
	OPENSSL_cleanse(pending, strlen(pending));
	free(pending);
	return ret;
}

int totp_disable(struct store *s, const char *user, struct atlas_err *err)
{
	int n = 0;

	if (run(s,
		"UPDATE admins SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 "
		"WHERE username = ?1",
		user, NULL, 0, &n, err) < 0)
		return -1;
	if (n == 0)
		return err_set(err, ERR_NOTFOUND, "no administrator \"%s\"", user);
	return run(s, "DELETE FROM totp_recovery WHERE username = ?1", user, NULL, 0, NULL, err);
}

int totp_get_status(struct store *s, const char *user, struct totp_status *st,
		    struct atlas_err *err)
{
	sqlite3_stmt *q;
	int rc;

	memset(st, 0, sizeof(*st));
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT totp_secret IS NOT NULL, totp_pending IS NOT NULL, "
			       "(SELECT COUNT(*) FROM totp_recovery r WHERE r.username = "
			       "a.username AND used_at = 0) FROM admins a WHERE username = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(s, err);
	sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st->enabled = sqlite3_column_int(q, 0);
		st->pending = sqlite3_column_int(q, 1);
		st->recovery_left = sqlite3_column_int(q, 2);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, "no administrator \"%s\"", user);
	return rc == SQLITE_ROW ? 0 : db_fail(s, err);
}

int totp_verify(struct store *s, const char *user, const char *code, int64_t now,
		struct atlas_err *err)
{
	int64_t last = 0;
	char *secret = load_secret(s, user, 0, &last);
	char norm[TOTP_RECOVERY_LEN], hash[TOKEN_HASH_HEX];
	uint32_t c;
	uint64_t step;
	int ret = -1, n = 0;

	if (!secret)
		return err_set(err, ERR_INVALID, "two-factor login is off for \"%s\"", user);
	if (totp_parse_code(code, &c) == 0) {
		step = match_step(secret, c, now, (uint64_t)last);
		if (!step) {
			/* right code of a step used already: a replay */
			if (match_step(secret, c, now, 0))
				err_set(err, ERR_INVALID, "code already used; wait for the next one");
			else
				err_set(err, ERR_INVALID, "invalid code");
			goto out;
		}
		/* only a newer step may win: two logins racing with one code cannot both */
		if (run(s,
			"UPDATE admins SET totp_last_step = ?3 WHERE username = ?1 AND "
			"totp_last_step < ?3",
			user, NULL, (int64_t)step, &n, err) < 0)
			goto out;
		if (n == 0) {
			err_set(err, ERR_INVALID, "code already used; wait for the next one");
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (recovery_norm(code, norm) < 0) {
		err_set(err, ERR_INVALID, "invalid code");
		goto out;
	}
	token_hash(norm, hash);
	OPENSSL_cleanse(norm, sizeof(norm));
	if (run(s,
		"UPDATE totp_recovery SET used_at = ?3 WHERE username = ?1 AND hash = ?2 AND "
		"used_at = 0",
		user, hash, now > 0 ? now : 1, &n, err) < 0)
		goto out;
	if (n == 0) {
		err_set(err, ERR_INVALID, "invalid code");
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	return ret;
}
