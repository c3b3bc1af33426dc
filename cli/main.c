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

/* Collapses "//", "/./" and "/x/.." of an absolute path in place; no trailing '/'. */
static void normalise(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *end;
		size_t n;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		end = strchrnul(in, '/');
		n = (size_t)(end - in);
		if (n == 1 && in[0] == '.') {
			/* nothing */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in = end;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/*
 * DIR as one canonical absolute path: relative ones from the current
 * directory, symbolic links resolved, no trailing '/'. The daemons Atlas
 * starts get paths inside it (sing-box resolves its config's path after
 * changing to its own working directory, where a relative one names
 * nothing), and Atlas knows its daemons by their command lines: "d1/",
 * "../x/d1" or a link to d1 must name them as "d1" does, or a command
 * would take them for strangers. A DIR that does not exist yet keeps its
 * name under its parent's real path.
 */
static const char *canonical_dir(const char *dir)
{
	char cwd[PATH_MAX], *abs, *real, *slash;

	if (dir[0] == '/') {
		abs = xstrdup(dir);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			perror("atlas: the current directory");
			exit(1);
		}
		abs = xasprintf("%s/%s", cwd, dir);
	}
	if ((real = realpath(abs, NULL))) {
		free(abs);
		return real;
	}
	normalise(abs);
	slash = strrchr(abs, '/');
	if (slash > abs) {
		*slash = '\0';
		real = realpath(abs, NULL);
		*slash = '/';
		if (real) {
			char *joined = xasprintf("%s%s", strcmp(real, "/") ? real : "", slash);

			free(real);
			free(abs);
			return joined;
		}
	}
	return abs;
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
	cli_datadir = canonical_dir(cli_datadir);
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
