/*
 * commands.h - the command table (commands.c), the two steps the commands
 * with subcommands of their own share, and the close that goes with
 * cli_open_state().
 */
#ifndef ATLAS_COMMANDS_H
#define ATLAS_COMMANDS_H

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "state/model.h"
#include "state/store.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

extern const struct command atlas_commands[];

/*
 * For a command with subcommands: without one, prints usage on stderr (*rc
 * 1); with -h or --help anywhere, on stdout (*rc 0). Returns 1 when it did
 * either (the command returns *rc), 0 otherwise. Inline, so that a command
 * does not call back into the file that lists it.
 */
static inline int cli_group_help(int argc, char **argv, const char *usage, int *rc)
{
	if (argc >= 2 && !cli_wants_help(argc, argv, usage))
		return 0;
	if (argc < 2)
		fputs(usage, stderr);
	*rc = argc < 2;
	return 1;
}

/* Says "atlas GROUP: unknown subcommand "SUB"" and the usage on stderr; returns 1. */
static inline int cli_unknown_subcommand(const char *group, const char *sub, const char *usage)
{
	fprintf(stderr, "atlas %s: unknown subcommand \"%s\"\n", group, sub);
	fputs(usage, stderr);
	return 1;
}

/*
 * Reads the YAML file, then (when *s is NULL: cli_store() into *s) stores it
 * as a new generation (trigger names who: "import", "apply -f"), its number
 * into *gen. Prints every problem (FILE:LINE:COL) or the error and returns
 * -1; nothing is stored. In cmd_state.c, beside `atlas import`.
 */
int cli_import_file(struct store **s, const char *file, const char *trigger, int64_t *gen);

/* Frees st and closes s, as cli_open_state() gave them (either may be NULL). */
static inline void cli_close_state(struct store *s, struct atlas_state *st)
{
	state_free(st);
	store_close(s);
}

#endif
