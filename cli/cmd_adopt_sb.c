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
	/* a dry run stores no record: adopt_finish_hook shows the plan the record would give */
	return rc == 1;
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
	struct adopt_run r = ADOPT_RUN_INIT;
	struct atlas_state *scratch = NULL;
	char summary[160];
	size_t nusers = 0;
	int dry = 0, ret = 1;

	ret = adopt_args(argc, argv, usage, "singbox", &file, &dry);
	if (ret)
		return ret < 0;
	ret = 1;
	if (file_read(file, 16u << 20, &r.text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	/* the inbounds live in a scratch state until next takes them: state_free() frees them */
	scratch = state_new();
	if (adopt_sb_parse(r.text.data ? r.text.data : "", r.text.len, &scratch->singbox, &r.errs,
			   &r.notes) < 0) {
		cli_print_diags(&r.errs, file);
		goto out;
	}
	if (adopt_load(dry, &r.s, &r.old) < 0)
		goto out;
	if (r.old->has_singbox && r.old->singbox.ninbounds) {
		fprintf(stderr, "atlas adopt singbox: singbox already has inbounds in the desired "
				"state\n");
		goto out;
	}
	r.next = state_dup(r.old);
	if (!r.next->has_singbox) {
		r.next->has_singbox = 1;
		r.next->singbox.enabled = 1;
	}
	/* the section keeps its defaults (service ports); the inbounds move in */
	free(r.next->singbox.inbounds);
	r.next->singbox.inbounds = scratch->singbox.inbounds;
	r.next->singbox.ninbounds = scratch->singbox.ninbounds;
	scratch->singbox.inbounds = NULL;
	scratch->singbox.ninbounds = 0;
	for (size_t i = 0; i < r.next->singbox.ninbounds; i++)
		nusers += r.next->singbox.inbounds[i].nusers;
	if (!r.next->settings.host)
		diags_add_at(&r.notes, 0, 0, NULL,
			     "settings.host is not set: share links and profiles need it");
	snprintf(summary, sizeof(summary), "adopt singbox %.100s (%zu inbounds, %zu users)", file,
		 r.next->singbox.ninbounds, nusers);
	adopt_print_notes(&r.notes, file);
	ret = adopt_finish_hook(r.s, r.next, r.old, summary, dry, "singbox", take_running,
				(void *)file);
out:
	state_free(scratch);
	adopt_run_release(&r);
	return ret;
}
