/*
 * test_tokens.c - scoped API tokens: the form and hash of a token, the
 * lifetimes and names accepted, create / authenticate / expire / revoke /
 * forge against a real store, and the router's scope column: set on every
 * route, GETs readable, the user routes open to operator and the rest
 * admin, the account's own routes closed to every token.
 */
#include "testutil.h"

#include "api/api.h"
#include "state/tokens.h"

static void test_tokens__form_and_hash(void **x)
{
	char h[TOKEN_HASH_HEX];

	(void)x;
	/* SHA-256 of "abc" (FIPS 180-2 appendix B.1) */
	token_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(token_looks_like("atlas_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_true(token_looks_like("atlas_-_09azAZ-_09azAZ-_09azAZ-_09azAZ-_09azAZabc"));
	assert_false(token_looks_like("atlas_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));	/* short */
	assert_false(token_looks_like("atlas_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* long */
	assert_false(token_looks_like("atlas_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	assert_false(token_looks_like("eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(token_looks_like("ATLAS_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_int_equal(token_scope_parse("read"), SCOPE_READ);
	assert_int_equal(token_scope_parse("operator"), SCOPE_OPERATOR);
	assert_int_equal(token_scope_parse("admin"), SCOPE_ADMIN);
	assert_int_equal(token_scope_parse("session"), 0); /* not a token's */
	assert_int_equal(token_scope_parse("Admin"), 0);
	assert_int_equal(token_scope_parse(NULL), 0);
	assert_string_equal(token_scope_name(SCOPE_OPERATOR), "operator");
}

static void test_tokens__durations_and_names(void **x)
{
	static const struct {
		const char *s;
		int64_t want; /* -1: refused */
	} d[] = {
	    {"90d", 90 * 86400}, {"12h", 43200}, {"30m", 1800}, {"3600s", 3600}, {"never", 0},
	    {"3650d", 3650LL * 86400}, {"3651d", -1}, {"0d", -1}, {"-1d", -1}, {"90", -1},
	    {"d", -1}, {"90 d", -1}, {"90dd", -1}, {"", -1}, {"1y", -1},
	};
	static const struct {
		const char *name;
		int ok;
	} n[] = {
	    {"ci", 1}, {"deploy-bot.2", 1}, {"A_b", 1}, {"", 0}, {"-x", 0}, {".x", 0},
	    {"a b", 0}, {"a/b", 0}, {"a\"b", 0}, {"x\n", 0},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};
	struct atlas_err err = {0};

	(void)x;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int64_t got = token_parse_duration(d[i].s, &err);

		if (got != d[i].want)
			fail_msg("duration \"%s\": %lld, want %lld", d[i].s, (long long)got,
				 (long long)d[i].want);
		if (got < 0)
			assert_non_null(strstr(err.msg, d[i].s));
	}
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if ((token_check_name(n[i].name, &err) == 0) != n[i].ok)
			fail_msg("name \"%s\" accepted: %d, want %d", n[i].name, !n[i].ok, n[i].ok);
}

static void test_tokens__lifecycle(void **x)
{
	struct atlas_err err = {0};
	char *dir = tu_tmpdir();
	struct store *s;
	char tok[TOKEN_LEN + 1], tok2[TOKEN_LEN + 1], forged[TOKEN_LEN + 1];
	struct token_info info, *v;
	size_t n;
	const int64_t now = 1800000000;

	(void)x;
	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(token_create(s, "ci", SCOPE_OPERATOR, now + 60, now, tok, &err), 0);
	assert_true(token_looks_like(tok));
	assert_int_equal(token_create(s, "ro", SCOPE_READ, 0, now, tok2, &err), 0);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(token_create(s, "ci", SCOPE_READ, 0, now, forged, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_int_equal(token_create(s, "bad name", SCOPE_READ, 0, now, forged, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_int_equal(token_create(s, "x", SCOPE_SESSION, 0, now, forged, &err), -1);

	assert_int_equal(token_authenticate(s, tok, now, &info, &err), 0);
	assert_string_equal(info.name, "ci");
	assert_int_equal(info.scope, SCOPE_OPERATOR);
	assert_int_equal(info.last_used_at, now);
	/* expired at its expiry second, for ever after */
	assert_int_equal(token_authenticate(s, tok, now + 59, &info, &err), 0);
	assert_int_equal(token_authenticate(s, tok, now + 60, &info, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_non_null(strstr(err.msg, "expired"));
	/* forged: the right form, a character changed */
	snprintf(forged, sizeof(forged), "%s", tok2);
	forged[TOKEN_LEN - 1] = forged[TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(token_authenticate(s, forged, now, &info, &err), -1);
	assert_non_null(strstr(err.msg, "unknown or revoked"));
	assert_int_equal(token_authenticate(s, "atlas_short", now, &info, &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));

	assert_int_equal(token_list(s, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "ci");
	assert_int_equal(v[0].expires_at, now + 60);
	assert_string_equal(v[1].name, "ro");
	assert_int_equal(v[1].expires_at, 0);
	free(v);
	assert_int_equal(token_expiry(s, "ro"), 0);
	assert_int_equal(token_expiry(s, "nope"), -1);

	assert_int_equal(token_authenticate(s, tok2, now + 86400 * 3000LL, &info, &err), 0);
	assert_int_equal(token_revoke(s, "ro", &err), 0);
	assert_int_equal(token_authenticate(s, tok2, now, &info, &err), -1);
	assert_int_equal(token_revoke(s, "ro", &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	store_close(s);

	/* only the hash is stored: the token's bytes appear nowhere in the database */
	{
		char *db = xasprintf("%s/atlas.db", dir), *wal = xasprintf("%s-wal", db);
		char hash[TOKEN_HASH_HEX];
		struct buf raw = BUF_INIT;

		assert_int_equal(file_read(db, 1 << 24, &raw, NULL), 0);
		file_read(wal, 1 << 24, &raw, NULL);
		token_hash(tok, hash);
		assert_non_null(memmem(raw.data, raw.len, hash, strlen(hash)));
		assert_null(memmem(raw.data, raw.len, tok + 6, strlen(tok + 6)));
		buf_release(&raw);
		free(wal);
		free(db);
	}
	tu_rmrf(dir);
	free(dir);
}

/* The scope the documented rules give method path (docs/security.md). */
static int want_scope(const char *method, const char *path)
{
	static const char *const session[] = {"/api/v1/auth/password", "/api/v1/auth/totp", NULL};
	static const char *const user_writes[] = {
	    "/api/v1/wireguard/interfaces/{if}/peers", "/api/v1/openvpn/clients",
	    "/api/v1/singbox/inbounds/{in}/users", "/api/v1/singbox/users/{name}/subscription",
	    "/api/v1/usage/{name}/reset", "/api/v1/apply", NULL};

	for (size_t i = 0; session[i]; i++)
		if (!strncmp(path, session[i], strlen(session[i])))
			return SCOPE_SESSION;
	if (!strncmp(path, "/api/v1/tokens", 14))
		return SCOPE_ADMIN;
	if (!strcmp(method, "GET") || !strcmp(path, "/api/v1/auth/login"))
		return SCOPE_READ;
	for (size_t i = 0; user_writes[i]; i++)
		if (!strncmp(path, user_writes[i], strlen(user_writes[i])))
			return SCOPE_OPERATOR;
	return SCOPE_ADMIN;
}

static void test_tokens__scope_table(void **x)
{
	(void)x;
	/* every route states its scope, and it is the one the rules give */
	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *rt = &api_routes[i];
		int want = want_scope(rt->method, rt->pattern);

		if (!rt->scope)
			fail_msg("%s %s has no scope in api_routes", rt->method, rt->pattern);
		if (router_scope(rt) != want)
			fail_msg("%s %s needs %s, the rules say %s", rt->method, rt->pattern,
				 token_scope_name(router_scope(rt)), token_scope_name(want));
	}
	/* a row without a scope needs admin */
	{
		struct route r = {"POST", "/api/v1/not-scoped", NULL, 0, 0, NULL};

		assert_int_equal(router_scope(&r), SCOPE_ADMIN);
	}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_tokens__form_and_hash),
	cmocka_unit_test(test_tokens__durations_and_names),
	cmocka_unit_test(test_tokens__lifecycle),
	cmocka_unit_test(test_tokens__scope_table))
