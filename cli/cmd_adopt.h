/*
 * cmd_adopt.h - what the three `atlas adopt` commands (cmd_adopt.c,
 * cmd_adopt_ovpn.c, cmd_adopt_sb.c) share beside adopt_finish().
 */
#ifndef ATLAS_CLI_CMD_ADOPT_H
#define ATLAS_CLI_CMD_ADOPT_H

#include "state/diag.h"

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
