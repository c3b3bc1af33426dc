/*
 * cmd_backup.c - `atlas backup FILE` and `atlas restore FILE [--force]`
 * (state/backup.h does the work).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "state/backup.h"

int cmd_backup(int argc, char **argv)
{
	static const char usage[] =
	    "usage: atlas backup FILE\n\n"
	    "Writes one archive (mode 0600) of the data directory: a consistent copy of the\n"
	    "database (safe while `atlas serve` runs), the PKI, keys, the JWT key, the TLS\n"
	    "pair and the rendered configs, with a manifest of versions and SHA-256 sums.\n"
	    "It holds every secret: keep it as safe as the server.\n";
	struct atlas_err err = {0};
	struct backup_info info;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2 || argv[1][0] == '-') {
		fputs(usage, stderr);
		return 1;
	}
	if (backup_create(cli_datadir, argv[1], &info, &err) < 0) {
		fprintf(stderr, "atlas backup: %s\n", err.msg);
		return 1;
	}
	printf("backup %s: %zu files, %llu bytes, schema %d, atlas %s\n", argv[1], info.members,
	       (unsigned long long)info.bytes, info.schema_version, info.atlas_version);
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	static const char usage[] =
	    "usage: atlas restore FILE [--force] [--check]\n\n"
	    "Checks the archive (checksums, manifest, PRAGMA integrity_check, schema not\n"
	    "newer than this atlas) and restores it into the data directory, which must be\n"
	    "empty or missing. --force replaces a used one after backing it up into\n"
	    "DATA/backups/pre-restore-TIME.atlas-backup. --check only checks. Refused while\n"
	    "`atlas serve` runs on the directory: stop it first; then `atlas plan` shows what\n"
	    "the host lacks (`atlas apply`).\n";
	struct atlas_err err = {0};
	struct backup_info info;
	const char *file = NULL;
	char *saved = NULL;
	int force = 0, check = 0, lock = -2;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (!strcmp(argv[i], "--check"))
			check = 1;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fprintf(stderr, "atlas restore: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	if (!file) {
		fputs(usage, stderr);
		return 1;
	}
	/* held until the restore is over: no atlas serve starts on it meanwhile */
	if (!check && (lock = cli_serve_lock(cli_datadir, 1)) == -1)
		return 1;
	if (check ? backup_verify(file, &info, &err)
		  : backup_restore(file, cli_datadir, force, &saved, &info, &err)) {
		fprintf(stderr, "atlas restore: %s\n", err.msg);
		if (lock >= 0)
			close(lock);
		return 1;
	}
	if (lock >= 0)
		close(lock);
	printf("%s %s: %zu files, schema %d, from atlas %s at %s\n", check ? "checked" : "restored",
	       file, info.members, info.schema_version, info.atlas_version, info.created_at);
	if (saved)
		printf("the replaced data directory was saved in %s\n", saved);
	free(saved);
	return 0;
}
