/*
 * cmd_admin.c - `atlas admin passwd`: sets the password of user "admin"
 * from the first line of stdin. Tokens issued before stop working.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "state/auth.h"
#include "cli/cli.h"

int cmd_admin(int argc, char **argv)
{
	static const char usage[] =
	    "usage: atlas admin passwd\n\n"
	    "Reads a new password for user \"admin\" from the first line of stdin\n"
	    "(8 to 256 characters). Every token issued before stops working.\n";
	struct atlas_err err = {0};
	char line[AUTH_PASSWORD_MAX + 4];
	struct store *s;
	size_t n;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2 || strcmp(argv[1], "passwd")) {
		fputs(usage, stderr);
		return 1;
	}
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "atlas admin passwd: no password on stdin\n");
		return 1;
	}
	n = strlen(line);
	if (n && line[n - 1] != '\n' && !feof(stdin)) {
		fprintf(stderr, "atlas admin passwd: password longer than %d characters\n",
			AUTH_PASSWORD_MAX);
		goto wipe;
	}
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	s = cli_store();
	if (!s)
		goto wipe;
	if (auth_set_password(s, AUTH_ADMIN, line, &err) < 0) {
		fprintf(stderr, "atlas admin passwd: %s\n", err.msg);
	} else {
		printf("password of \"admin\" changed; tokens issued before no longer work\n");
		ret = 0;
	}
	store_close(s);
wipe:
	OPENSSL_cleanse(line, sizeof(line));
	return ret;
}
