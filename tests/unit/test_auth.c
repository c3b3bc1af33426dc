/*
 * test_auth.c - administrator accounts (state/auth.c): the first password,
 * scrypt hashes, checks, and the token epoch a password change bumps; a hash
 * of before made again at login.
 */
#include "testutil.h"

#include <sqlite3.h>

#include "state/auth.h"
#include "state/store.h"

static void test_auth__first_admin_once(void **ts)
{
	struct atlas_err err = {0};
	char *dir = tu_tmpdir(), pw[25], pw2[25];
	struct store *s;
	int created = 0;
	int64_t epoch = 0;

	(void)ts;
	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(auth_ensure_admin(s, pw, &created, &err), 0);
	assert_true(created);
	assert_int_equal(strlen(pw), 24);
	assert_int_equal(auth_ensure_admin(s, pw2, &created, &err), 0);
	assert_false(created);
	assert_int_equal(auth_check_password(s, "admin", pw, &epoch, &err), 0);
	assert_int_equal(epoch, 1);
	assert_int_equal(auth_check_password(s, "admin", "wrong password", &epoch, &err), -1);
	assert_string_equal(err.msg, "invalid username or password");
	assert_int_equal(auth_check_password(s, "root", pw, &epoch, &err), -1);
	store_close(s);
	tu_rmrf_free(dir);
}

static void test_auth__password_change_bumps_epoch(void **ts)
{
	struct atlas_err err = {0};
	char *dir = tu_tmpdir();
	struct store *s;
	int64_t epoch = 0;

	(void)ts;
	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(auth_token_epoch(s, "admin"), -1);
	assert_int_equal(auth_set_password(s, "admin", "first password", &err), 0);
	assert_int_equal(auth_token_epoch(s, "admin"), 1);
	assert_int_equal(auth_set_password(s, "admin", "second password", &err), 0);
	assert_int_equal(auth_token_epoch(s, "admin"), 2);
	assert_int_equal(auth_check_password(s, "admin", "first password", &epoch, &err), -1);
	assert_int_equal(auth_check_password(s, "admin", "second password", &epoch, &err), 0);
	assert_int_equal(epoch, 2);
	assert_int_equal(auth_set_password(s, "admin", "short", &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_int_equal(auth_set_password(s, "admin", "with\nnewline", &err), -1);
	assert_int_equal(auth_token_epoch(s, "admin"), 2);
	store_close(s);
	tu_rmrf_free(dir);
}

#define OLD_HASH \
	"scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw==$JbN2hANm9NOw4h5BRHZnbjzQ6Jr0QwNWojTOC2WgIbU="

static void test_auth__hash_format(void **ts)
{
	struct atlas_err err = {0};
	char *h = auth_hash_password("correct horse", &err), *h2;

	(void)ts;
	assert_non_null(h);
	/* N=2^13 r=8 p=10: 8 MiB, OWASP's equal of N=2^17 r=8 p=1 */
	assert_int_equal(strncmp(h, "scrypt$8192$8$10$", 17), 0);
	assert_true(auth_verify_hash(h, "correct horse"));
	assert_false(auth_verify_hash(h, "correct horsE"));
	/* A hash of before (N=2^14 r=8 p=1, made by Python's hashlib.scrypt) still verifies. */
	assert_true(auth_verify_hash(OLD_HASH, "correct horse"));
	assert_false(auth_verify_hash(OLD_HASH, "correct horsE"));
	/* A new salt each time. */
	h2 = auth_hash_password("correct horse", &err);
	assert_string_not_equal(h, h2);
	/* Tampered rows are refused, not trusted. */
	assert_false(auth_verify_hash("scrypt$1099511627776$8$1$AAAA$AAAA", "x"));
	assert_false(auth_verify_hash("plain", "plain"));
	free(h);
	free(h2);
}

/* The stored hash of admin (new). */
static char *stored_hash(struct store *s)
{
	sqlite3_stmt *st;
	char *h = NULL;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), "SELECT hash FROM admins WHERE username = "
					    "'admin'", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		h = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_non_null(h);
	return h;
}

/*
 * A hash of before is made again with today's parameters at the first right
 * login (later logins cost 8 MiB, not 16), with the same password and token
 * epoch (no session ends); a wrong password changes nothing.
 */
static void test_auth__old_hash_upgraded_at_login(void **ts)
{
	struct atlas_err err = {0};
	char *dir = tu_tmpdir(), *h;
	struct store *s;
	int64_t epoch = 0;

	(void)ts;
	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(auth_set_password(s, "admin", "another password", &err), 0);
	assert_int_equal(sqlite3_exec(store_db(s), "UPDATE admins SET hash = '" OLD_HASH "'", NULL,
				      NULL, NULL), SQLITE_OK);
	assert_int_equal(auth_check_password(s, "admin", "correct horsE", &epoch, &err), -1);
	h = stored_hash(s);
	assert_string_equal(h, OLD_HASH);
	free(h);
	assert_int_equal(auth_check_password(s, "admin", "correct horse", &epoch, &err), 0);
	assert_int_equal(epoch, 1);
	h = stored_hash(s);
	assert_int_equal(strncmp(h, "scrypt$8192$8$10$", 17), 0);
	free(h);
	assert_int_equal(auth_token_epoch(s, "admin"), 1);
	assert_int_equal(auth_check_password(s, "admin", "correct horse", &epoch, &err), 0);
	assert_int_equal(auth_check_password(s, "admin", "another password", &epoch, &err), -1);
	store_close(s);
	tu_rmrf_free(dir);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_auth__first_admin_once),
	cmocka_unit_test(test_auth__password_change_bumps_epoch),
	cmocka_unit_test(test_auth__hash_format),
	cmocka_unit_test(test_auth__old_hash_upgraded_at_login))
