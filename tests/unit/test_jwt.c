/*
 * test_jwt.c - HS256 tokens (api/jwt.c): round trip, tampering, expiry,
 * algorithm confusion, the key file.
 */
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "testutil.h"

#include "api/jwt.h"
#include "lib/base64.h"
#include "lib/proc.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

static char *make(json_int_t exp)
{
	json_t *c = json_pack("{s:s, s:I, s:I}", "sub", "admin", "exp", exp, "ep", (json_int_t)1);
	char *t = jwt_sign(key, sizeof(key), c);

	json_decref(c);
	return t;
}

static void test_jwt__round_trip(void **ts)
{
	struct atlas_err err = {0};
	char *t = make(2000);
	json_t *c = jwt_verify(key, sizeof(key), t, 1000, &err);

	(void)ts;
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "admin");
	json_decref(c);
	free(t);
}

static void test_jwt__expired(void **ts)
{
	struct atlas_err err = {0};
	char *t = make(1000);

	(void)ts;
	assert_null(jwt_verify(key, sizeof(key), t, 1000, &err));
	assert_non_null(strstr(err.msg, "expired"));
	free(t);
}

static void test_jwt__wrong_key_and_tampering(void **ts)
{
	static const unsigned char other[32] = "fedcba9876543210fedcba9876543210";
	struct atlas_err err = {0};
	char *t = make(2000), *dot;
	struct buf forged = BUF_INIT;
	const char *payload = "{\"ep\":1,\"exp\":99999999999,\"sub\":\"admin\"}";

	(void)ts;
	assert_null(jwt_verify(other, sizeof(other), t, 1000, &err));
	assert_non_null(strstr(err.msg, "signature"));
	/* Same signature, another payload. */
	dot = strchr(t, '.');
	buf_add(&forged, t, (size_t)(dot - t) + 1);
	base64url_encode(&forged, payload, strlen(payload));
	buf_puts(&forged, strrchr(t, '.'));
	assert_null(jwt_verify(key, sizeof(key), forged.data, 1000, &err));
	/* One flipped signature character. */
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	assert_null(jwt_verify(key, sizeof(key), t, 1000, &err));
	buf_release(&forged);
	free(t);
}

static void test_jwt__alg_none_and_garbage(void **ts)
{
	static const char *const bad[] = {
	    "",
	    ".",
	    "..",
	    "a.b",
	    "a.b.c.d",
	    "!!!.???.***",
	};
	struct atlas_err err = {0};

	(void)ts;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(jwt_verify(key, sizeof(key), bad[i], 1000, &err));
}

/* HEADER.CLAIMS.SIG with the given header and full valid claims; signed with key when sign. */
static char *token_with_header(const char *header, int sign)
{
	static const char claims[] = "{\"ep\":1,\"exp\":99999999999,\"sub\":\"admin\"}";
	struct buf t = BUF_INIT;
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);

	base64url_encode(&t, header, strlen(header));
	buf_puts(&t, ".");
	base64url_encode(&t, claims, strlen(claims));
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)t.data, t.len,
			     mac, &maclen));
	buf_puts(&t, ".");
	if (sign)
		base64url_encode(&t, mac, maclen);
	return buf_detach(&t);
}

/*
 * alg "none" with claims that are otherwise valid: refused for want of a
 * signature, and when the attacker does add the right HS256 signature, for
 * the algorithm itself (never for missing claims).
 */
static void test_jwt__alg_none_with_full_claims(void **ts)
{
	static const char *const algs[] = {"{\"alg\":\"none\",\"typ\":\"JWT\"}",
					   "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
					   "{\"typ\":\"JWT\"}"};
	struct atlas_err err = {0};
	char *t;

	(void)ts;
	/* The same builder with the real header verifies: the claims are complete. */
	t = token_with_header("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 1);
	{
		json_t *c = jwt_verify(key, sizeof(key), t, 1000, &err);

		assert_non_null(c);
		json_decref(c);
	}
	free(t);
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		t = token_with_header(algs[i], 0);
		assert_null(jwt_verify(key, sizeof(key), t, 1000, &err));
		assert_string_equal(err.msg, "bad token signature");
		free(t);
		t = token_with_header(algs[i], 1);
		assert_null(jwt_verify(key, sizeof(key), t, 1000, &err));
		assert_string_equal(err.msg, "unsupported token algorithm");
		free(t);
	}
}

/* The token epoch of every user for jwt_check(): a variable the test changes. */
static int64_t epoch_now = 1;

static int64_t test_epoch(void *cls, const char *sub)
{
	(void)cls;
	return strcmp(sub, "admin") ? -1 : epoch_now;
}

/*
 * A token verified once is answered from the memo (no HMAC, no JSON), but
 * still refused once its epoch changes (a password change) and once
 * it expires; a token under another key or a tampered one is never taken
 * from it. A first verification that succeeds is noted as one-off work
 * (proc_one_offs: its HMAC's pages are unmapped at the next tick); a hit
 * and a refused token are not.
 */
static void test_jwt__memo(void **ts)
{
	static struct jwt_memo memo = JWT_MEMO_INIT;
	static const unsigned char other[32] = "fedcba9876543210fedcba9876543210";
	struct atlas_err err = {0};
	struct jwt_claims c;
	char *t = make(2000), *t2 = make(3000);
	unsigned long one_offs = proc_one_offs();

	(void)ts;
	epoch_now = 1;
	assert_int_equal(jwt_check(&memo, key, t, 1000, test_epoch, NULL, &c, &err), 0);
	assert_int_equal(memo.hits, 0);
	assert_int_equal(proc_one_offs(), one_offs + 1);
	assert_int_equal(jwt_check(&memo, key, t, 1000, test_epoch, NULL, &c, &err), 0);
	assert_int_equal(memo.hits, 1);
	assert_int_equal(proc_one_offs(), one_offs + 1);
	assert_string_equal(c.sub, "admin");
	assert_int_equal(c.exp, 2000);
	assert_int_equal(c.ep, 1);
	/* The epoch moves on (a password change): refused at once, memo or not. */
	epoch_now = 2;
	assert_int_equal(jwt_check(&memo, key, t, 1000, test_epoch, NULL, &c, &err), -1);
	assert_string_equal(err.msg, "token no longer valid (password changed)");
	assert_int_equal(memo.hits, 2);
	epoch_now = 1;
	/* Expiry is checked on every hit. */
	assert_int_equal(jwt_check(&memo, key, t, 2000, test_epoch, NULL, &c, &err), -1);
	assert_string_equal(err.msg, "token expired");
	assert_int_equal(memo.hits, 3);
	/* Another key: the memo is emptied, the signature checked and refused. */
	assert_int_equal(jwt_check(&memo, other, t, 1000, test_epoch, NULL, &c, &err), -1);
	assert_string_equal(err.msg, "bad token signature");
	assert_int_equal(jwt_check(&memo, key, t, 1000, test_epoch, NULL, &c, &err), 0);
	assert_int_equal(memo.hits, 3);
	/* One changed signature character is another token: verified, refused. */
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	one_offs = proc_one_offs();
	assert_int_equal(jwt_check(&memo, key, t, 1000, test_epoch, NULL, &c, &err), -1);
	assert_string_equal(err.msg, "bad token signature");
	assert_int_equal(proc_one_offs(), one_offs);
	/* Without a memo: the same answers. */
	assert_int_equal(jwt_check(NULL, key, t2, 1000, test_epoch, NULL, &c, &err), 0);
	assert_int_equal(c.exp, 3000);
	jwt_memo_clear(&memo);
	free(t);
	free(t2);
}

static void test_jwt__key_file(void **ts)
{
	struct atlas_err err = {0};
	unsigned char k1[32], k2[32];
	char *dir = tu_tmpdir(), *path = xasprintf("%s/jwt.key", dir);
	struct stat sb;

	(void)ts;
	assert_int_equal(jwt_key_load(dir, k1, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);
	assert_int_equal(jwt_key_load(dir, k2, &err), 0);
	assert_memory_equal(k1, k2, 32);
	tu_rmrf_free(dir);
	free(path);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_jwt__round_trip),
	cmocka_unit_test(test_jwt__expired),
	cmocka_unit_test(test_jwt__wrong_key_and_tampering),
	cmocka_unit_test(test_jwt__alg_none_and_garbage),
	cmocka_unit_test(test_jwt__alg_none_with_full_claims),
	cmocka_unit_test(test_jwt__memo),
	cmocka_unit_test(test_jwt__key_file))
