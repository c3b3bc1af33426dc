/*
 * cmd_singbox.c - `atlas singbox ...`: what a user needs to connect: share
 * links, the sing-box client profile, the subscription URL (and a new one
 * with --rotate), a link as a QR code. Rendering is renderers/singbox/;
 * rotation changes the desired state through state_commit() like any edit.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"
#include "renderers/singbox/sb_render.h"
#include "renderers/wireguard/wg_render.h"
#include "state/commit.h"
#include "state/complete.h"

static const char usage[] =
	"usage: atlas singbox links USER         one share link per line, one per inbound USER is in\n"
	"       atlas singbox profile USER       the sing-box client profile (JSON), one outbound\n"
	"                                        per inbound, tagged with the inbound's name\n"
	"       atlas singbox sub USER [--rotate] the subscription URL; --rotate makes a new one\n"
	"                                        (the old URL stops working)\n"
	"       atlas singbox qr USER INBOUND    the link of INBOUND as a QR code (SVG)\n"
	"       atlas singbox status             the users connected to sing-box now\n\n"
	"Links and profiles carry USER's secrets: hand them to USER only.\n";

static struct atlas_state *load(struct store **s)
{
	struct atlas_state *st = cli_open_state(s, 0);

	if (!st)
		return NULL;
	if (!st->has_singbox) {
		fputs("atlas singbox: the desired state has no singbox section\n", stderr);
		cli_close_state(*s, st);
		*s = NULL;
		return NULL;
	}
	return st;
}

/* Notes on stderr that do not stop the output: a disabled or expired user. */
static void note_user(const struct atlas_state *st, const char *user)
{
	for (size_t i = 0; i < st->singbox.ninbounds; i++) {
		const struct sb_user *u = state_sb_user(&st->singbox.inbounds[i], user);

		if (u && u->disabled)
			fprintf(stderr, "atlas singbox: note: user \"%s\" is disabled in inbound \"%s\"\n",
				user, st->singbox.inbounds[i].name);
	}
}

enum what { LINKS, PROFILE, QR };

static int show(int argc, char **argv, enum what w)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st;
	struct buf out = BUF_INIT, svg = BUF_INIT;
	struct store *s = NULL;
	int ret = 1;

	if (argc != (w == QR ? 3 : 2) || argv[argc - 1][0] == '-') {
		fputs(usage, stderr);
		return 1;
	}
	st = load(&s);
	if (!st)
		return 1;
	if (w == QR) {
		struct sb_inbound *in = state_sb_inbound(st, argv[2]);
		struct sb_user *u = in ? state_sb_user(in, argv[1]) : NULL;

		if (!in) {
			fprintf(stderr, "atlas singbox: no inbound \"%s\"\n", argv[2]);
			goto out;
		}
		if (!u) {
			fprintf(stderr, "atlas singbox: inbound \"%s\" has no user \"%s\"\n", argv[2],
				argv[1]);
			goto out;
		}
		if (render_sb_link(st, in, u, &out, &err) < 0 ||
		    render_qr_svg(out.data, &svg, &err) < 0) {
			fprintf(stderr, "atlas singbox: %s\n", err.msg);
			goto out;
		}
	} else if ((w == LINKS ? render_sb_links(st, argv[1], &out, &err)
			       : render_sb_profile(st, argv[1], &out, &err)) < 0) {
		fprintf(stderr, "atlas singbox: %s\n", err.msg);
		goto out;
	}
	note_user(st, argv[1]);
	fputs(w == QR ? svg.data : out.data, stdout);
	ret = 0;
out:
	buf_release_secure(&out);
	buf_release_secure(&svg);
	cli_close_state(s, st);
	return ret;
}

static int sub(int argc, char **argv)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st;
	struct sb_subscription *sb;
	struct buf url = BUF_INIT;
	struct store *s = NULL;
	const char *user = NULL;
	int rotate = 0, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rotate"))
			rotate = 1;
		else if (argv[i][0] != '-' && !user)
			user = argv[i];
		else {
			fprintf(stderr, "atlas singbox: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	if (!user) {
		fputs(usage, stderr);
		return 1;
	}
	st = load(&s);
	if (!st)
		return 1;
	if (rotate) {
		char summary[128];
		int64_t gen;

		snprintf(summary, sizeof(summary), "singbox: new subscription token for %.64s", user);
		if (state_sb_rotate_token(st, user, &err) < 0) {
			fprintf(stderr, "atlas singbox: %s\n", err.msg);
			goto out;
		}
		if (cli_commit_edit(s, st, "atlas singbox", summary, &gen) < 0)
			goto out;
		fprintf(stderr, "atlas singbox: new subscription URL for \"%s\" (generation %lld); the "
				"old one stops working\n", user, (long long)gen);
	}
	sb = state_sb_subscription(st, user);
	if (!sb || !sb->token) {
		fprintf(stderr, "atlas singbox: no singbox inbound has a user \"%s\"\n", user);
		goto out;
	}
	if (render_sb_sub_url(&st->settings, sb->token, &url, &err) < 0) {
		fprintf(stderr, "atlas singbox: %s\n", err.msg);
		goto out;
	}
	printf("%s\n", url.data);
	ret = 0;
out:
	buf_release_secure(&url);
	cli_close_state(s, st);
	return ret;
}

int cmd_singbox(int argc, char **argv)
{
	int rc;

	if (cli_group_help(argc, argv, usage, &rc))
		return rc;
	if (!strcmp(argv[1], "links"))
		return show(argc - 1, argv + 1, LINKS);
	if (!strcmp(argv[1], "profile"))
		return show(argc - 1, argv + 1, PROFILE);
	if (!strcmp(argv[1], "qr"))
		return show(argc - 1, argv + 1, QR);
	if (!strcmp(argv[1], "sub"))
		return sub(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_singbox_status(argc - 1, argv + 1);
	return cli_unknown_subcommand("singbox", argv[1], usage);
}
