/*
 * test_totp.c - TOTP (RFC 6238) against the RFC's SHA-1 test vectors,
 * base32 against RFC 4648's, and the second factor of the store: a code is
 * taken in its window once, a replay and an old code are refused, each
 * recovery code works once, disabling ends it. The time is a parameter.
 */
#include <ctype.h>

#include "testutil.h"

#include "lib/totp.h"
#include "state/auth.h"
#include "state/tokens.h"
#include "state/totp_store.h"

/* RFC 6238 appendix B, SHA-1 rows: the key is the 20 ASCII bytes below. */
static const struct {
	int64_t t;
	uint32_t code8;
} rfc6238[] = {
    {59, 94287082},	     {1111111109, 7081804}, {1111111111, 14050471},
    {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130},
};
static const unsigned char rfc_key[] = "12345678901234567890";

static void test_totp__rfc6238_vectors(void **x)
{
	(void)x;
	for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
		assert_int_equal(totp_at(rfc_key, 20, rfc6238[i].t, 8), rfc6238[i].code8);
		/* the 6-digit code is the last six digits of the RFC's 8 */
		assert_int_equal(totp_at(rfc_key, 20, rfc6238[i].t, TOTP_DIGITS),
				 rfc6238[i].code8 % 1000000);
	}
	/* RFC 4226 appendix D: HOTP counters 0 and 9 */
	assert_int_equal(hotp(rfc_key, 20, 0, 6), 755224);
	assert_int_equal(hotp(rfc_key, 20, 9, 6), 520489);
	assert_int_equal(totp_step(59), 1);
	assert_int_equal(totp_step(-5), 0);
}

static const struct {
	const char *plain, *b32;
} rfc4648[] = {
    {"", ""},		{"f", "MY"},	      {"fo", "MZXQ"},	       {"foo", "MZXW6"},
    {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"},
};

static void test_totp__base32(void **x)
{
	unsigned char out[64];
	long n;

	(void)x;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		struct buf b = BUF_INIT;

		base32_encode(&b, rfc4648[i].plain, strlen(rfc4648[i].plain));
		assert_string_equal(buf_str(&b), rfc4648[i].b32);
		buf_release(&b);
		n = base32_decode(rfc4648[i].b32, out, sizeof(out));
		assert_int_equal(n, (long)strlen(rfc4648[i].plain));
		assert_memory_equal(out, rfc4648[i].plain, (size_t)n);
	}
	/* lower case, padding, spaces and dashes as authenticator apps show them */
	assert_int_equal(base32_decode("mzxw 6ytb-oi======", out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	/* the RFC 6238 key in base32, as an otpauth:// URI carries it */
	assert_int_equal(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", out, sizeof(out)), 20);
	assert_memory_equal(out, rfc_key, 20);
	assert_int_equal(base32_decode("MZXW1", out, sizeof(out)), -1); /* '1' is not base32 */
	assert_int_equal(base32_decode("MZ", out, sizeof(out)), -1);	 /* non-zero pad bits */
	assert_int_equal(base32_decode("MZXW6YTBOI", out, 3), -1);	 /* does not fit */
}

static void test_totp__parse_code(void **x)
{
	static const struct {
		const char *s;
		int ok;
		uint32_t v;
	} cases[] = {
	    {"123456", 1, 123456}, {"012345", 1, 12345}, {"123 456", 1, 123456},
	    {"12345", 0, 0},	   {"1234567", 0, 0},	 {"12345a", 0, 0},
	    {" 123456", 0, 0},	   {"", 0, 0},		 {"-12345", 0, 0},
	};
	uint32_t v;

	(void)x;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = totp_parse_code(cases[i].s, &v);

		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].v);
	}
}

/* The code of secret (base32) at t as six digits. */
static void code_at(const char *secret, int64_t t, char out[8])
{
	unsigned char key[64];
	long n = base32_decode(secret, key, sizeof(key));

	assert_true(n > 0);
	snprintf(out, 8, "%06u", totp_at(key, (size_t)n, t, TOTP_DIGITS));
}

struct fx {
	char *dir;
	struct store *s;
	char secret[64];
	char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN];
};

/* A store with user admin enrolled and confirmed at time t0. */
static void enrolled(struct fx *f, int64_t t0)
{
	struct atlas_err err = {0};
	struct buf sec = BUF_INIT;
	struct totp_status st;
	char c[8];
	char pw[25];
	int created;

	f->dir = tu_tmpdir();
	assert_int_equal(store_open(f->dir, &f->s, &err), 0);
	assert_int_equal(auth_ensure_admin(f->s, pw, &created, &err), 0);
	assert_int_equal(totp_enroll_begin(f->s, AUTH_ADMIN, &sec, &err), 0);
	snprintf(f->secret, sizeof(f->secret), "%s", buf_str(&sec));
	buf_release(&sec);
	assert_int_equal(strlen(f->secret), 32); /* 20 bytes */
	/* pending is not on: login is unchanged until the first code confirms it */
	assert_int_equal(totp_get_status(f->s, AUTH_ADMIN, &st, &err), 0);
	assert_false(st.enabled);
	assert_true(st.pending);
	assert_int_equal(totp_verify(f->s, AUTH_ADMIN, "123456", t0, &err), -1);
	/* a wrong first code does not turn it on */
	code_at(f->secret, t0 - 3 * TOTP_STEP, c);
	assert_int_equal(totp_enroll_confirm(f->s, AUTH_ADMIN, c, t0, f->codes, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	code_at(f->secret, t0, c);
	if (totp_enroll_confirm(f->s, AUTH_ADMIN, c, t0, f->codes, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(totp_get_status(f->s, AUTH_ADMIN, &st, &err), 0);
	assert_true(st.enabled);
	assert_false(st.pending);
	assert_int_equal(st.recovery_left, TOTP_RECOVERY_CODES);
}

static void fx_free(struct fx *f)
{
	store_close(f->s);
	tu_rmrf(f->dir);
	free(f->dir);
}

static void test_totp__window_and_replay(void **x)
{
	struct atlas_err err = {0};
	struct fx f;
	const int64_t t0 = 1111111109;
	char c[8];

	(void)x;
	enrolled(&f, t0);
	/* the confirming code's step is used: the same code again is a replay */
	code_at(f.secret, t0, c);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0, &err), -1);
	assert_non_null(strstr(err.msg, "already used"));
	/* the next step's code, one step early (clock drift), is taken once */
	code_at(f.secret, t0 + TOTP_STEP, c);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0, &err), 0);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0 + TOTP_STEP, &err), -1);
	assert_non_null(strstr(err.msg, "already used"));
	/* a code two steps away is outside the window */
	code_at(f.secret, t0 + 5 * TOTP_STEP, c);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0 + 2 * TOTP_STEP, &err), -1);
	assert_string_equal(err.msg, "invalid code");
	/* a code of a step older than the last accepted one is refused too */
	code_at(f.secret, t0 + 10 * TOTP_STEP, c);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0 + 10 * TOTP_STEP, &err), 0);
	code_at(f.secret, t0 + 9 * TOTP_STEP, c);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, c, t0 + 10 * TOTP_STEP, &err), -1);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, "not a code", t0, &err), -1);
	fx_free(&f);
}

static void test_totp__recovery_codes_once(void **x)
{
	struct atlas_err err = {0};
	struct totp_status st;
	struct fx f;
	char upper[TOTP_RECOVERY_LEN];

	(void)x;
	enrolled(&f, 2000000000);
	for (int i = 0; i < TOTP_RECOVERY_CODES; i++)
		for (int k = i + 1; k < TOTP_RECOVERY_CODES; k++)
			assert_string_not_equal(f.codes[i], f.codes[k]);
	assert_int_equal(strlen(f.codes[0]), 19);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, f.codes[0], 2000000000, &err), 0);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, f.codes[0], 2000000000, &err), -1);
	/* typed in upper case without dashes it is the same code */
	for (size_t i = 0, k = 0; i <= strlen(f.codes[1]); i++)
		if (f.codes[1][i] != '-')
			upper[k++] = (char)toupper((unsigned char)f.codes[1][i]);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, upper, 2000000000, &err), 0);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, f.codes[1], 2000000000, &err), -1);
	assert_int_equal(totp_get_status(f.s, AUTH_ADMIN, &st, &err), 0);
	assert_int_equal(st.recovery_left, TOTP_RECOVERY_CODES - 2);
	/* only hashes are stored: no code appears in the database */
	{
		char *db = xasprintf("%s/atlas.db", f.dir), *wal = xasprintf("%s-wal", db);
		char norm[TOTP_RECOVERY_LEN], hash[TOKEN_HASH_HEX];
		struct buf raw = BUF_INIT;
		size_t k = 0;

		assert_int_equal(file_read(db, 1 << 24, &raw, NULL), 0);
		file_read(wal, 1 << 24, &raw, NULL); /* the newest pages may be here */
		for (const char *c = f.codes[5]; *c; c++)
			if (*c != '-')
				norm[k++] = *c;
		norm[k] = '\0';
		token_hash(norm, hash);
		assert_non_null(memmem(raw.data, raw.len, hash, strlen(hash)));
		assert_null(memmem(raw.data, raw.len, norm, strlen(norm)));
		assert_null(memmem(raw.data, raw.len, f.codes[5], strlen(f.codes[5])));
		buf_release(&raw);
		free(wal);
		free(db);
	}
	/* disabling turns it off and voids the codes; enabling again is possible */
	assert_int_equal(totp_disable(f.s, AUTH_ADMIN, &err), 0);
	assert_int_equal(totp_get_status(f.s, AUTH_ADMIN, &st, &err), 0);
	assert_false(st.enabled);
	assert_int_equal(st.recovery_left, 0);
	assert_int_equal(totp_verify(f.s, AUTH_ADMIN, f.codes[2], 2000000000, &err), -1);
	fx_free(&f);
}

static void test_totp__uri(void **x)
{
	char *u = totp_uri("ad min", "GEZDGNBV");

	(void)x;
	assert_string_equal(u, "otpauth://totp/Atlas:ad%20min?secret=GEZDGNBV&issuer=Atlas"
			       "&algorithm=SHA1&digits=6&period=30");
	free(u);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_totp__rfc6238_vectors),
	cmocka_unit_test(test_totp__base32),
	cmocka_unit_test(test_totp__parse_code),
	cmocka_unit_test(test_totp__window_and_replay),
	cmocka_unit_test(test_totp__recovery_codes_once),
	cmocka_unit_test(test_totp__uri))
