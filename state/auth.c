/*
 * auth.c - administrator accounts: scrypt hashes in the admins table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "lib/base64.h"
#include "lib/proc.h"
#include "state/auth.h"
#include "state/keys.h"

/*
 * scrypt cost of new hashes: N=2^13, r=8, p=10, one of the settings OWASP's
 * password storage guidance lists as equal to its minimum (N=2^17, r=8,
 * p=1): 8 MiB of working memory (128 * N * r; the p rounds run one after
 * the other in OpenSSL) and about 230 ms a check on this machine. It was
 * N=2^14, r=8, p=1 before: 16 MiB for a fifth of the work, and the largest
 * part of the server's start-up peak (the first start hashes the admin
 * password). A hash keeps its parameters: those of before still verify.
 */
#define SCRYPT_N 8192
#define SCRYPT_R 8
#define SCRYPT_P 10
#define SCRYPT_STR(x) #x
#define SCRYPT_PARAMS(n, r, p) "scrypt$" SCRYPT_STR(n) "$" SCRYPT_STR(r) "$" SCRYPT_STR(p) "$"
#define SALT_LEN 16
#define HASH_LEN 32

static int scrypt(const char *password, const unsigned char *salt, size_t saltlen, uint64_t n,
		  uint64_t r, uint64_t p, unsigned char *out, size_t outlen)
{
	return EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p,
			      (uint64_t)256 << 20, out, outlen) == 1
		   ? 0
		   : -1;
}

char *auth_hash_password(const char *password, struct atlas_err *err)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	struct buf out = BUF_INIT;

	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		err_set(err, ERR_INTERNAL, "no randomness for a password salt");
		return NULL;
	}
	if (scrypt(password, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, hash, sizeof(hash)) <
	    0) {
		err_set(err, ERR_INTERNAL, "scrypt failed");
		return NULL;
	}
	proc_note_one_off(); /* a new password: not the server's steady work */
	buf_puts(&out, SCRYPT_PARAMS(SCRYPT_N, SCRYPT_R, SCRYPT_P));
	base64_encode(&out, salt, sizeof(salt));
	buf_putc(&out, '$');
	base64_encode(&out, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
	return buf_detach(&out);
}

int auth_verify_hash(const char *stored, const char *password)
{
	unsigned char salt[64], want[64], got[64];
	unsigned long long n, r, p;
	char saltb[128], hashb[128];
	long saltlen, hashlen;
	int ok = 0;

	if (sscanf(stored, "scrypt$%llu$%llu$%llu$%127[^$]$%127s", &n, &r, &p, saltb, hashb) != 5)
		return 0;
	/* Refuse absurd parameters from a tampered row (memory). */
	if (n < 2 || n > (1u << 20) || r < 1 || r > 32 || p < 1 || p > 16)
		return 0;
	saltlen = base64_decode(saltb, strlen(saltb), salt, sizeof(salt));
	hashlen = base64_decode(hashb, strlen(hashb), want, sizeof(want));
	if (saltlen <= 0 || hashlen <= 0)
		return 0;
	if (scrypt(password, salt, (size_t)saltlen, n, r, p, got, (size_t)hashlen) == 0)
		ok = CRYPTO_memcmp(got, want, (size_t)hashlen) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	/*
	 * A login: its pages are one-off work. Only a right password counts,
	 * so that guesses cannot make the server unmap its pages at every tick.
	 */
	if (ok)
		proc_note_one_off();
	return ok;
}

static int db_fail(struct store *s, struct atlas_err *err)
{
	return err_set(err, ERR_IO, "database: admins: %s", sqlite3_errmsg(store_db(s)));
}

/* The stored hash of user (new) or NULL; *epoch set when found. */
static char *load_user(struct store *s, const char *user, int64_t *epoch)
{
	/* Every authenticated request reads the epoch: prepared once. */
	sqlite3_stmt *st = store_stmt(s, "SELECT hash, token_epoch FROM admins WHERE username = ?");
	char *hash = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		hash = xstrdup((const char *)sqlite3_column_text(st, 0));
		if (epoch)
			*epoch = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return hash;
}

int64_t auth_token_epoch(struct store *s, const char *user)
{
	int64_t epoch = -1;
	char *hash = load_user(s, user, &epoch);

	if (!hash)
		return -1;
	free(hash);
	return epoch;
}

static int password_ok(const char *pw, struct atlas_err *err)
{
	size_t n = strlen(pw);

	if (n < 8)
		return err_set(err, ERR_INVALID, "password is shorter than 8 characters");
	if (n > AUTH_PASSWORD_MAX)
		return err_set(err, ERR_INVALID, "password is longer than %d characters",
			       AUTH_PASSWORD_MAX);
	for (const unsigned char *c = (const unsigned char *)pw; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return err_set(err, ERR_INVALID, "password contains control characters");
	return 0;
}

int auth_set_password(struct store *s, const char *user, const char *password,
		      struct atlas_err *err)
{
	sqlite3_stmt *st = NULL;
	char *hash = NULL;
	int ret = -1;

	if (password_ok(password, err) < 0)
		goto out;
	hash = auth_hash_password(password, err);
	if (!hash)
		goto out;
	if (sqlite3_prepare_v2(store_db(s),
			       "INSERT INTO admins (username, hash, token_epoch, updated_at) "
			       "VALUES (?, ?, 1, ?) ON CONFLICT (username) DO UPDATE SET "
			       "hash = excluded.hash, token_epoch = token_epoch + 1, "
			       "updated_at = excluded.updated_at",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, err);
		goto out;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(s, err);
		goto out;
	}
	if (!strcmp(user, AUTH_ADMIN)) {
		/* the first-start password is no longer the password: its file goes */
		char *f = xasprintf("%s/" AUTH_INITIAL_PW_FILE, store_datadir(s));

		unlink(f);
		free(f);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	free(hash);
	return ret;
}

int auth_ensure_admin(struct store *s, char password[25], int *created, struct atlas_err *err)
{
	sqlite3_stmt *st;
	int n = 0;

	*created = 0;
	if (sqlite3_prepare_v2(store_db(s), "SELECT COUNT(*) FROM admins", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(s, err);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (n > 0)
		return 0;
	if (password_random(password, err) < 0)
		return -1;
	if (auth_set_password(s, AUTH_ADMIN, password, err) < 0) {
		OPENSSL_cleanse(password, 25);
		return -1;
	}
	*created = 1;
	return 0;
}

/*
 * A hash made with other parameters (the 16 MiB ones of before) is made
 * again with today's once the password is known to be right: every later
 * login costs 8 MiB. Neither the password nor the token epoch changes (no
 * session ends); the row is only rewritten while it still holds old, so a
 * password changed meanwhile stays. Best effort: on failure the old hash stays.
 */
static void rehash(struct store *s, const char *user, const char *old, const char *password)
{
	char *hash = auth_hash_password(password, NULL);
	sqlite3_stmt *st = NULL;

	if (hash && sqlite3_prepare_v2(store_db(s),
				       "UPDATE admins SET hash = ? WHERE username = ? AND hash = ?",
				       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, old, -1, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	free(hash);
}

int auth_check_password(struct store *s, const char *user, const char *password, int64_t *epoch,
			struct atlas_err *err)
{
	static const char params[] = SCRYPT_PARAMS(SCRYPT_N, SCRYPT_R, SCRYPT_P);
	/* A fixed dummy hash: an unknown user costs the same scrypt as a known one. */
	static const char dummy[] = SCRYPT_PARAMS(SCRYPT_N, SCRYPT_R, SCRYPT_P)
		"AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char *hash = load_user(s, user, epoch);
	int ok;

	ok = auth_verify_hash(hash ? hash : dummy, password) && hash;
	if (ok && strncmp(hash, params, sizeof(params) - 1))
		rehash(s, user, hash, password);
	free(hash);
	if (!ok)
		return err_set(err, ERR_INVALID, "invalid username or password");
	return 0;
}
