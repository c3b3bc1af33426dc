/*
 * cmd_admin.c - the administrator account: `atlas admin passwd` sets the
 * password of user "admin" from the first line of stdin (tokens issued
 * before stop working); `atlas admin totp enable|confirm|disable|status`
 * manages its second factor. Disabling from the CLI is the way back in
 * when the authenticator and the recovery codes are lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <qrencode.h>

#include "state/auth.h"
#include "state/totp_store.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: atlas admin passwd\n"
    "       atlas admin totp enable|confirm CODE|disable|status\n\n"
    "passwd reads a new password for user \"admin\" from the first line of stdin\n"
    "(8 to 256 characters). Every token issued before stops working.\n\n"
    "totp enable starts the enrolment of a second factor (RFC 6238 TOTP): it\n"
    "prints the otpauth:// URI and its QR code once; on a terminal it then asks\n"
    "for the first code, else `totp confirm CODE` finishes it. Confirming prints\n"
    "10 one-time recovery codes once. totp disable turns the second factor off\n"
    "(the way back in without the authenticator). API tokens are not affected.\n";

/* Reads the first line of stdin into line (cap bytes); -1 with a message when none or too long. */
static int read_line(char *line, size_t cap, const char *what)
{
	size_t n;

	if (!fgets(line, (int)cap, stdin)) {
		fprintf(stderr, "atlas admin: no %s on stdin\n", what);
		return -1;
	}
	n = strlen(line);
	if (n && line[n - 1] != '\n' && !feof(stdin)) {
		fprintf(stderr, "atlas admin: %s longer than %zu characters\n", what, cap - 4);
		return -1;
	}
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return 0;
}

static int admin_passwd(struct store *s)
{
	struct atlas_err err = {0};
	char line[AUTH_PASSWORD_MAX + 4];
	int ret = 1;

	if (read_line(line, sizeof(line), "password") < 0)
		goto wipe;
	if (auth_set_password(s, AUTH_ADMIN, line, &err) < 0) {
		fprintf(stderr, "atlas admin passwd: %s\n", err.msg);
	} else {
		printf("password of \"admin\" changed; tokens issued before no longer work\n");
		ret = 0;
	}
wipe:
	OPENSSL_cleanse(line, sizeof(line));
	return ret;
}

/* Prints text as a QR code of half blocks (two modules a character), dark on light. */
static void print_qr(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const int q = 2;

	if (!qr)
		return;
	for (int y = -q; y < qr->width + q; y += 2) {
		for (int x = -q; x < qr->width + q; x++) {
			int top = y >= 0 && y < qr->width && x >= 0 && x < qr->width &&
				  (qr->data[y * qr->width + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < qr->width && x >= 0 && x < qr->width &&
				  (qr->data[(y + 1) * qr->width + x] & 1);

			/* light modules are drawn: the terminal's dark background is the ink */
			fputs(!top && !bot ? "\u2588" : !top ? "\u2580" : !bot ? "\u2584" : " ", stdout);
		}
		putchar('\n');
	}
	QRcode_free(qr);
}

static int totp_confirm_code(struct store *s, const char *code)
{
	struct atlas_err err = {0};
	char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN];

	if (totp_enroll_confirm(s, AUTH_ADMIN, code, time(NULL), codes, &err) < 0) {
		fprintf(stderr, "atlas admin totp confirm: %s\n", err.msg);
		return 1;
	}
	printf("two-factor login is on for \"admin\". Recovery codes (each works once; "
	       "shown only now):\n");
	for (int i = 0; i < TOTP_RECOVERY_CODES; i++)
		printf("  %s\n", codes[i]);
	OPENSSL_cleanse(codes, sizeof(codes));
	return 0;
}

static int admin_totp(struct store *s, int argc, char **argv)
{
	struct atlas_err err = {0};
	const char *op = argv[0];

	if (!strcmp(op, "enable") && argc == 1) {
		struct buf secret = BUF_INIT;
		char *uri, line[64];
		int ret = 1;

		if (totp_enroll_begin(s, AUTH_ADMIN, &secret, &err) < 0) {
			fprintf(stderr, "atlas admin totp enable: %s\n", err.msg);
			return 1;
		}
		uri = totp_uri(AUTH_ADMIN, buf_str(&secret));
		printf("add this account to an authenticator app (shown once):\n%s\n", uri);
		print_qr(uri);
		printf("secret (to type in by hand): %s\n", buf_str(&secret));
		OPENSSL_cleanse(uri, strlen(uri));
		free(uri);
		buf_release_secure(&secret);
		if (!isatty(STDIN_FILENO)) {
			printf("then confirm with: atlas admin totp confirm CODE\n");
			return 0;
		}
		printf("code shown by the app: ");
		fflush(stdout);
		if (read_line(line, sizeof(line), "code") == 0)
			ret = totp_confirm_code(s, line);
		return ret;
	}
	if (!strcmp(op, "confirm") && argc == 2)
		return totp_confirm_code(s, argv[1]);
	if (!strcmp(op, "disable") && argc == 1) {
		if (totp_disable(s, AUTH_ADMIN, &err) < 0) {
			fprintf(stderr, "atlas admin totp disable: %s\n", err.msg);
			return 1;
		}
		printf("two-factor login is off for \"admin\"; its recovery codes are void\n");
		return 0;
	}
	if (!strcmp(op, "status") && argc == 1) {
		struct totp_status st;

		if (totp_get_status(s, AUTH_ADMIN, &st, &err) < 0) {
			fprintf(stderr, "atlas admin totp status: %s\n", err.msg);
			return 1;
		}
		printf("two-factor login: %s%s; recovery codes left: %d\n", st.enabled ? "on" : "off",
		       st.pending ? " (an enrolment is pending)" : "", st.recovery_left);
		return 0;
	}
	fputs(usage, stderr);
	return 1;
}

int cmd_admin(int argc, char **argv)
{
	struct store *s;
	int ret;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (!((argc == 2 && !strcmp(argv[1], "passwd")) ||
	      (argc >= 3 && argc <= 4 && !strcmp(argv[1], "totp")))) {
		fputs(usage, stderr);
		return 1;
	}
	s = cli_store();
	if (!s)
		return 1;
	ret = !strcmp(argv[1], "passwd") ? admin_passwd(s) : admin_totp(s, argc - 2, argv + 2);
	store_close(s);
	return ret;
}
