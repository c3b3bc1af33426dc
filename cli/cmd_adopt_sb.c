/*
 * cmd_adopt_sb.c - `atlas adopt singbox FILE`: the inbounds and users of a
 * hand-written sing-box config.json become the singbox section of the
 * desired state, in one generation (trigger adopt). The reader is pure
 * (state/adopt_sb.c); validation and completion (the REALITY public key,
 * subscription tokens) are state_commit's, so a bad key or a duplicate port
 * stores nothing. When a sing-box runs FILE, the driver takes that process
 * over as it runs (controller/singbox/sb_adopt.h): the plan is empty and
 * nothing is touched until a change needs a reload. When none runs it,
 * Atlas starts its own sing-box, which the plan announces; adopt applies
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/singbox/sb_adopt.h"
#include "lib/fileio.h"
#include "state/adopt_sb.h"
#include "cli/cli.h"
#include "cli/cmd_adopt.h"

/* The adopt_hook: takes over the sing-box that runs the file (arg). */
static int take_running(void *arg, const struct driver_ctx *ctx, const struct atlas_state *next,
			int dry_run)
{
	struct atlas_err err = { 0 };
	char msg[512];
	int rc = sb_adopt_running(ctx, next, arg, dry_run, msg, sizeof(msg), &err);

	if (rc < 0)
		fprintf(stderr, "atlas: the running sing-box was not taken over: %s\n", err.msg);
	else if (rc == 0)
		printf("not taken over as it runs: %s\n", msg);
	else
		printf("%s%s\n", dry_run ? "dry run: would have " : "", msg);
	/* a dry run stores no record: its plan still shows Atlas's own start */
	return rc == 1 && !dry_run;
}

int adopt_singbox_cmd(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas adopt singbox FILE [--dry-run]\n\n"
		"Takes over the inbounds and users of a sing-box config.json (vless, vmess,\n"
		"trojan, shadowsocks 2022, hysteria2, tuic), keeping UUIDs, passwords, REALITY\n"
		"keys and short ids, and certificate paths. Lists what it does not carry over.\n"
		"Stores one generation (trigger adopt); --dry-run prints the YAML and the plan\n"
		"and stores nothing.\n";
	const char *file = NULL;
	struct atlas_err err = { 0 };
	struct diags errs = { 0 }, notes = { 0 };
	struct atlas_state *old = NULL, *next = NULL, *scratch = NULL;
	struct buf text = BUF_INIT;
	struct store *s = NULL;
	char summary[160];
	size_t nusers = 0;
	int dry = 0, ret = 1;

	ret = adopt_args(argc, argv, usage, "singbox", &file, &dry);
	if (ret)
		return ret < 0;
	ret = 1;
	if (file_read(file, 16u << 20, &text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	/* the inbounds live in a scratch state until next takes them: state_free() frees them */
	scratch = state_new();
	if (adopt_sb_parse(text.data ? text.data : "", text.len, &scratch->singbox, &errs,
			   &notes) < 0) {
		cli_print_diags(&errs, file);
		goto out;
	}
	if (adopt_load(dry, &s, &old) < 0)
		goto out;
	if (old->has_singbox && old->singbox.ninbounds) {
		fprintf(stderr, "atlas adopt singbox: singbox already has inbounds in the desired "
				"state\n");
		goto out;
	}
	next = state_dup(old);
	if (!next->has_singbox) {
		next->has_singbox = 1;
		next->singbox.enabled = 1;
	}
	/* the section keeps its defaults (service ports); the inbounds move in */
	free(next->singbox.inbounds);
	next->singbox.inbounds = scratch->singbox.inbounds;
	next->singbox.ninbounds = scratch->singbox.ninbounds;
	scratch->singbox.inbounds = NULL;
	scratch->singbox.ninbounds = 0;
	for (size_t i = 0; i < next->singbox.ninbounds; i++)
		nusers += next->singbox.inbounds[i].nusers;
	if (!next->settings.host)
		diags_add_at(&notes, 0, 0, NULL,
			     "settings.host is not set: share links and profiles need it");
	snprintf(summary, sizeof(summary), "adopt singbox %.100s (%zu inbounds, %zu users)", file,
		 next->singbox.ninbounds, nusers);
	adopt_print_notes(&notes, file);
	ret = adopt_finish_hook(s, next, old, summary, dry, "singbox", take_running, (void *)file);
out:
	state_free(scratch);
	diags_clear(&errs);
	diags_clear(&notes);
	buf_release_secure(&text);
	state_free(old);
	state_free(next);
	store_close(s);
	return ret;
}
