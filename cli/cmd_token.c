/*
 * cmd_token.c - `atlas token create|list|revoke`: scoped API tokens for
 * scripts and other programs (state/tokens.h). A new token is printed once;
 * only its hash is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "state/tokens.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: atlas token create NAME --scope read|operator|admin [--expires 90d|never]\n"
    "       atlas token list\n"
    "       atlas token revoke NAME\n\n"
    "An API token is sent as \"Authorization: Bearer atlas_...\". read may only\n"
    "GET; operator also manages users (WireGuard peers, OpenVPN clients, sing-box\n"
    "users, usage resets) and applies; admin may do everything but change the\n"
    "administrator's password or second factor. create prints the token once.\n";

static void fmt_day(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(out, len, "never");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

static int token_create_cmd(struct store *s, int argc, char **argv)
{
	struct atlas_err err = {0};
	const char *name = NULL, *scope = NULL, *expires = "never";
	char token[TOKEN_LEN + 1];
	int64_t now = time(NULL), life;
	enum token_scope sc;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--scope") && i + 1 < argc)
			scope = argv[++i];
		else if (!strcmp(argv[i], "--expires") && i + 1 < argc)
			expires = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "atlas token create: unexpected argument \"%s\"\n%s",
				argv[i], usage);
			return 1;
		}
	}
	if (!name || !scope) {
		fprintf(stderr, "atlas token create: NAME and --scope are required\n");
		return 1;
	}
	sc = token_scope_parse(scope);
	if (!sc) {
		fprintf(stderr, "atlas token create: scope \"%s\" is not read, operator or admin\n",
			scope);
		return 1;
	}
	if ((life = token_parse_duration(expires, &err)) < 0 ||
	    token_create(s, name, sc, life ? now + life : 0, now, token, &err) < 0) {
		fprintf(stderr, "atlas token create: %s\n", err.msg);
		return 1;
	}
	/* the token alone on stdout: TOKEN=$(atlas token create ...) */
	printf("%s\n", token);
	OPENSSL_cleanse(token, sizeof(token));
	fprintf(stderr, "token \"%s\" (scope %s) created; it is shown only now\n", name, scope);
	return 0;
}

static int token_list_cmd(struct store *s)
{
	struct atlas_err err = {0};
	struct token_info *v;
	size_t n;

	if (token_list(s, &v, &n, &err) < 0) {
		fprintf(stderr, "atlas token list: %s\n", err.msg);
		return 1;
	}
	printf("%-24s %-9s %-17s %-17s %-17s %s\n", "NAME", "SCOPE", "CREATED", "EXPIRES",
	       "LAST USED", "STATE");
	for (size_t i = 0; i < n; i++) {
		char c[32], e[32], u[32];
		int expired = v[i].expires_at && v[i].expires_at <= (int64_t)time(NULL);

		fmt_day(v[i].created_at, c, sizeof(c));
		fmt_day(v[i].expires_at, e, sizeof(e));
		fmt_day(v[i].last_used_at, u, sizeof(u));
		printf("%-24s %-9s %-17s %-17s %-17s %s\n", v[i].name, token_scope_name(v[i].scope),
		       c, e, v[i].last_used_at ? u : "-",
		       expired ? "expired (refused; revoke it to remove it)" : "active");
	}
	free(v);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	struct atlas_err err = {0};
	struct store *s;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "list") &&
			 strcmp(argv[1], "revoke")) ||
	    (!strcmp(argv[1], "list") && argc != 2) || (!strcmp(argv[1], "revoke") && argc != 3)) {
		fputs(usage, stderr);
		return 1;
	}
	s = cli_store();
	if (!s)
		return 1;
	if (!strcmp(argv[1], "create")) {
		ret = token_create_cmd(s, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "list")) {
		ret = token_list_cmd(s);
	} else if (token_revoke(s, argv[2], &err) < 0) {
		fprintf(stderr, "atlas token revoke: %s\n", err.msg);
	} else {
		printf("token \"%s\" revoked\n", argv[2]);
		ret = 0;
	}
	store_close(s);
	return ret;
}
