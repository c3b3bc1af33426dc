/*
 * cmd_store.c - see cmd_store.h.
 */
#include <stdio.h>

#include "state/commit.h"
#include "cli/cli.h"
#include "cli/cmd_store.h"

/* The generation cli_open_state loaded last: the base of the command's edit. */
static int64_t loaded_gen;

struct atlas_state *cli_open_state(struct store **s, int ro)
{
	struct atlas_state *st = NULL;
	struct atlas_err err = { 0 };

	*s = ro ? cli_store_ro() : cli_store();
	if (!*s)
		return NULL;
	if (store_load(*s, &st, &loaded_gen, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		store_close(*s);
		*s = NULL;
		return NULL;
	}
	return st;
}

int cli_commit_edit(struct store *s, struct atlas_state *st, const char *who,
		    const char *summary, int64_t *gen)
{
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct commit_edit e = { .base = loaded_gen };
	int64_t g;
	int rc;

	rc = state_commit_on(s, &e, st, "cli", summary, &d, gen ? gen : &g, &err);
	if (rc < 0 && !d.n && err.code == ERR_CONFLICT) {
		/* made from a state another writer moved on from: cli_run runs the command again */
		cli_conflicted = 1;
		if (cli_conflicts_left > 0) {
			diags_clear(&d);
			return -1;
		}
	}
	if (rc < 0) {
		if (d.n)
			cli_print_diags(&d, NULL);
		else
			fprintf(stderr, "%s: %s\n", who, err.msg);
	}
	diags_clear(&d);
	return rc < 0 ? -1 : 0;
}
