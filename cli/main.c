/*
 * main.c - `atlas [--data DIR] COMMAND ...`: global options, then one entry
 * of the command table.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/log.h"

static void usage(FILE *f)
{
	fputs("usage: atlas [--data DIR] COMMAND [ARGS]\n\n"
	      "A declarative VPN panel for WireGuard, OpenVPN and sing-box.\n\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; atlas_commands[i].name; i++)
		fprintf(f, "  %-10s %s\n", atlas_commands[i].name, atlas_commands[i].summary);
	fputs("\nDIR defaults to $ATLAS_DATA, else ./data (relative: from the current directory).\n"
	      "`atlas COMMAND --help` for more.\n",
	      f);
}

/*
 * DIR from the current directory when it is relative: the daemons Atlas
 * starts get paths inside it, and sing-box resolves its config's path after
 * changing to its own working directory (-D), where a relative one names
 * nothing. Leading "./" are dropped, so "./data" reads as CWD/data.
 */
static const char *absolute_dir(const char *dir)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/')
		return dir;
	if (!getcwd(cwd, sizeof(cwd))) {
		perror("atlas: the current directory");
		exit(1);
	}
	while (dir[0] == '.' && dir[1] == '/') {
		dir += 2;
		while (*dir == '/')
			dir++;
	}
	if (!*dir || !strcmp(dir, "."))
		return xstrdup(cwd);
	return xasprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", dir);
}

int main(int argc, char **argv)
{
	int i = 1;

	cli_datadir = getenv("ATLAS_DATA");
	/* ATLAS_LOG=debug: also the debug lines (the tests wait on them). */
	if (getenv("ATLAS_LOG") && !strcmp(getenv("ATLAS_LOG"), "debug"))
		log_verbosity = LOG_DEBUG;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--data")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				fputs("atlas: --data needs a directory\n", stderr);
				return 1;
			}
			cli_datadir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--data=", 7)) {
			cli_datadir = argv[i] + 7;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			return cmd_version(1, argv);
		} else {
			fprintf(stderr, "atlas: unknown option \"%s\"\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	if (!cli_datadir || !*cli_datadir)
		cli_datadir = "./data";
	cli_datadir = absolute_dir(cli_datadir);
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t k = 0; atlas_commands[k].name; k++)
		if (!strcmp(atlas_commands[k].name, argv[i]))
			return cli_run(atlas_commands[k].fn, argc - i, argv + i);
	fprintf(stderr, "atlas: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 1;
}
