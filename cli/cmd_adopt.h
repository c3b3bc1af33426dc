/*
 * cmd_adopt.h - what the three `atlas adopt` commands (cmd_adopt.c,
 * cmd_adopt_ovpn.c, cmd_adopt_sb.c) share beside adopt_finish().
 */
#ifndef ATLAS_CLI_CMD_ADOPT_H
#define ATLAS_CLI_CMD_ADOPT_H

#include "controller/driver.h"
#include "lib/buf.h"
#include "state/diag.h"
#include "state/store.h"

/*
 * adopt_finish() with a hook called once next is stored (with dry_run:
 * checked), before the plan is made: it may take over what runs (it prints
 * what it did). A hook returning 1 took the engine over as it runs (in a
 * dry run: would have): then no restart of restart_engine is announced, and
 * a dry run's plan leaves that engine alone, as the real takeover's does.
 */
typedef int (*adopt_hook)(void *arg, const struct driver_ctx *ctx, const struct atlas_state *next,
			  int dry_run);
int adopt_finish_hook(struct store *s, struct atlas_state *next, const struct atlas_state *old,
		      const char *summary, int dry_run, const char *restart_engine,
		      adopt_hook hook, void *arg);

/*
 * What each adopt command holds while it runs, released at its end: the
 * store, the desired state before (old) and after (next), the problems and
 * notes of the adopted files, and the file read (it may hold private keys:
 * wiped on release).
 */
struct adopt_run {
	struct store *s;
	struct atlas_state *old, *next;
	struct diags errs, notes;
	struct buf text;
};
#define ADOPT_RUN_INIT { NULL, NULL, NULL, { 0 }, { 0 }, BUF_INIT }
void adopt_run_release(struct adopt_run *r);

/*
 * Prints, under "not carried over / changed:", what of the adopted
 * configuration FILE was left out or changed; nothing when notes is empty.
 */
void adopt_print_notes(struct diags *notes, const char *file);

/*
 * Reads the arguments of `atlas adopt WHAT ARG [--dry-run]` into *arg and
 * *dry. Returns 0; 1 after printing the help (exit 0); -1 after printing
 * what is wrong (exit 1).
 */
int adopt_args(int argc, char **argv, const char *usage, const char *what, const char **arg,
	       int *dry);

#endif
