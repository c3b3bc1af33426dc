/*
 * test_jwt.c - HS256 tokens (api/jwt.c): round trip, tampering, expiry,
 * algorithm confusion, the key file.
 */
#include <sys/stat.h>

#include "testutil.h"

#include "api/jwt.h"
#include "lib/base64.h"

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
	struct atlas_err err = { 0 };
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
	struct atlas_err err = { 0 };
	char *t = make(1000);

	(void)ts;
	assert_null(jwt_verify(key, sizeof(key), t, 1000, &err));
	assert_non_null(strstr(err.msg, "expired"));
	free(t);
}

static void test_jwt__wrong_key_and_tampering(void **ts)
{
	static const unsigned char other[32] = "fedcba9876543210fedcba9876543210";
	struct atlas_err err = { 0 };
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
		"", ".", "..", "a.b", "a.b.c.d", "!!!.???.***",
		/* {"alg":"none"}.{"exp":9999999999}. */
		"eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.",
	};
	struct atlas_err err = { 0 };

	(void)ts;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(jwt_verify(key, sizeof(key), bad[i], 1000, &err));
}

static void test_jwt__key_file(void **ts)
{
	struct atlas_err err = { 0 };
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
	tu_rmrf(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt__round_trip),
		cmocka_unit_test(test_jwt__expired),
		cmocka_unit_test(test_jwt__wrong_key_and_tampering),
		cmocka_unit_test(test_jwt__alg_none_and_garbage),
		cmocka_unit_test(test_jwt__key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
