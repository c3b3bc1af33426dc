/*
 * cli.c - helpers shared by the subcommands.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "cli/cli.h"

const char *cli_datadir = "./data";

struct store *cli_store(void)
{
	struct atlas_err err = { 0 };
	struct store *s;

	if (store_open(cli_datadir, &s, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		return NULL;
	}
	store_set_actor(s, "cli"); /* every change and run of a command is the CLI's */
	return s;
}

struct store *cli_store_ro(void)
{
	char *db = xasprintf("%s/atlas.db", cli_datadir);
	int exists = file_exists(db);

	free(db);
	if (!exists) {
		fprintf(stderr,
			"atlas: no desired state in %s (no atlas.db there): `atlas import FILE` "
			"or `atlas apply -f FILE` makes one; --data DIR or ATLAS_DATA names "
			"another directory\n",
			cli_datadir);
		return NULL;
	}
	return cli_store_ro_or_new();
}

struct store *cli_store_ro_or_new(void)
{
	struct atlas_err err = { 0 };
	struct store *s;

	/* a writable directory opens as always (migrations included) */
	if (access(cli_datadir, W_OK | X_OK) == 0 || errno == ENOENT)
		return cli_store();
	if (store_open_ro(cli_datadir, &s, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		return NULL;
	}
	return s;
}

struct store *cli_store_if_exists(void)
{
	char *db = xasprintf("%s/atlas.db", cli_datadir);
	int exists = file_exists(db);

	free(db);
	return exists ? cli_store() : NULL;
}

void cli_print_diags(struct diags *d, const char *file)
{
	struct buf out = BUF_INIT;

	diags_format(d, file, &out);
	fputs(buf_str(&out), stderr);
	buf_release(&out);
}

int cli_flush_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "atlas: cannot write to standard output: %s\n", strerror(errno));
	return -1;
}

int cli_conflicted;
int cli_conflicts_left = CLI_CONFLICT_TRIES - 1;

int cli_run(int (*fn)(int argc, char **argv), int argc, char **argv)
{
	int rc;

	for (;;) {
		cli_conflicted = 0;
		rc = fn(argc, argv);
		/* its edit met another's commit: made again from the state that has both */
		if (!cli_conflicted || cli_conflicts_left-- <= 0)
			break;
	}

	if (cli_flush_stdout() < 0)
		return 1;
	return rc;
}

int cli_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 1;
		}
	return 0;
}

struct atlas_state *cli_load_file(const char *file, const struct atlas_state *old)
{
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct buf text = BUF_INIT;
	struct atlas_state *st = NULL;

	if (file_read(file, YAML_MAX_SIZE, &text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	st = state_parse_check(text.data, text.len, old, &pm, &d, &err);
	if (!st && !d.n)
		fprintf(stderr, "atlas: %s\n", err.msg);
out:
	cli_print_diags(&d, file);
	diags_clear(&d);
	posmap_clear(&pm);
	buf_release_secure(&text);
	return st;
}

/*
 * One server per data directory: DATA/serve.lock, locked for as long as
 * `atlas serve` lives (the kernel drops the lock with the process, however
 * it ends). A second one would clean up the first one's temporary files and
 * reconcile the same engines beside it; a restore would replace the
 * database under it (it went on writing the replaced one). The fd, or -1
 * with the message told. restore: for `atlas restore`, which neither makes
 * the file (an empty directory stays empty) nor writes its pid; the fd is
 * then -2 when no server ever ran there.
 */
int cli_serve_lock(const char *datadir, int restore)
{
	char *path = xasprintf("%s/serve.lock", datadir), pid[32] = "";
	int fd = open(path, restore ? O_RDWR | O_CLOEXEC : O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 && restore && errno == ENOENT) {
		fd = -2;
	} else if (fd < 0) {
		fprintf(stderr, "atlas: cannot open %s: %s\n", path, strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "atlas%s: %satlas serve runs on %s%s%s%s: stop it first\n",
			restore ? " restore" : "", restore ? "" : "another ", datadir,
			pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		close(fd);
		fd = -1;
	} else if (!restore) {
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
			log_warn("serve: cannot write its pid into %s", path);
	}
	free(path);
	return fd;
}
