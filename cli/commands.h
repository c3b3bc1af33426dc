/*
 * commands.h - the command table (commands.c).
 */
#ifndef ATLAS_COMMANDS_H
#define ATLAS_COMMANDS_H

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

extern const struct command atlas_commands[];

#endif
