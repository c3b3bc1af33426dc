/*
 * cmd_state.c - validate, import, export, history, version: the commands that
 * only read or write desired state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/fileio.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "cli/cli.h"

int cmd_validate(int argc, char **argv)
{
	static const char usage[] = "usage: atlas validate FILE\n\n"
				    "Checks FILE without storing it. Exit 0 when valid, 1 with "
				    "every problem as FILE:LINE:COL: message.\n";
	struct atlas_state *old = NULL, *st;
	struct store *s;
	int64_t gen;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2) {
		fputs(usage, stderr);
		return 1;
	}
	/* Keys already stored make a file without secrets valid: compare with them. */
	s = cli_store_if_exists();
	if (s) {
		struct atlas_err err;

		if (store_load(s, &old, &gen, &err) < 0)
			fprintf(stderr, "atlas: %s\n", err.msg);
		store_close(s);
	}
	st = cli_load_file(argv[1], old);
	state_free(old);
	if (!st)
		return 1;
	state_free(st);
	printf("%s: valid\n", argv[1]);
	return 0;
}

int cmd_import(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas import FILE\n\n"
		"Replaces the desired state with FILE in one transaction. Resources are matched "
		"by name;\nsecrets already stored are kept, missing ones generated. On any error "
		"nothing changes (exit 1).\n";
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct buf text = BUF_INIT;
	struct store *s = NULL;
	int64_t gen;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2) {
		fputs(usage, stderr);
		return 1;
	}
	if (file_read(argv[1], YAML_MAX_SIZE, &text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	s = cli_store();
	if (!s)
		goto out;
	if (state_import_yaml(s, text.data, text.len, "import", &d, &gen, &err) < 0) {
		if (d.n)
			cli_print_diags(&d, argv[1]);
		else
			fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	printf("imported %s: generation %lld\n", argv[1], (long long)gen);
	ret = 0;
out:
	diags_clear(&d);
	buf_release_secure(&text);
	store_close(s);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	static const char usage[] = "usage: atlas export [--secrets]\n\n"
				    "Prints the desired state as YAML: deterministic, sorted by "
				    "name.\nPrivate keys are left out unless --secrets is given.\n";
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct buf out = BUF_INIT;
	struct store *s;
	int secrets = 0, ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--secrets")) {
			secrets = 1;
		} else {
			fprintf(stderr, "atlas export: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	s = cli_store_ro();
	if (!s)
		return 1;
	if (store_load(s, &st, NULL, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	state_to_yaml(st, secrets, &out);
	fwrite(out.data, 1, out.len, stdout);
	ret = 0;
out:
	buf_release_secure(&out);
	state_free(st);
	store_close(s);
	return ret;
}

static void fmt_time(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

int cmd_history(int argc, char **argv)
{
	static const char usage[] = "usage: atlas history [-n COUNT]\n\n"
				    "The generations of desired state and the apply runs, newest "
				    "first.\n";
	struct atlas_err err = { 0 };
	struct gen_info *gens = NULL;
	struct run_info *runs = NULL;
	size_t ngens = 0, nruns = 0, max = 20;
	struct store *s;
	int64_t applied;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			const char *v = argv[++i];
			char *end = (char *)v;

			errno = 0;
			max = v[0] >= '0' && v[0] <= '9' ? (size_t)strtoul(v, &end, 10) : 0;
			if (max == 0 || *end || errno || max > 100000) {
				fprintf(stderr, "atlas history: -n \"%s\" is not a number from 1 to 100000\n",
					v);
				return 1;
			}
		} else {
			fprintf(stderr, "atlas history: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	s = cli_store_ro();
	if (!s)
		return 1;
	if (store_generations(s, max, &gens, &ngens, &err) < 0 ||
	    store_runs(s, max, &runs, &nruns, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	applied = store_applied_generation(s);
	printf("generations (applied: %lld)\n", (long long)applied);
	for (size_t i = 0; i < ngens; i++) {
		char t[32];

		fmt_time(gens[i].created_at, t, sizeof(t));
		printf("  %-5lld %s  %-12s %s\n", (long long)gens[i].gen, t, gens[i].trigger,
		       gens[i].summary);
	}
	printf("apply runs\n");
	for (size_t i = 0; i < nruns; i++) {
		char t[32];

		fmt_time(runs[i].started_at / 1000, t, sizeof(t));
		printf("  #%-4lld %s  gen %-4lld %-8s %-4s %lldms%s%s\n", (long long)runs[i].id, t,
		       (long long)runs[i].generation, runs[i].trigger, runs[i].ok ? "ok" : "FAIL",
		       (long long)(runs[i].finished_at - runs[i].started_at),
		       runs[i].error ? "  " : "", runs[i].error ? runs[i].error : "");
	}
	ret = 0;
out:
	free(gens);
	store_runs_free(runs, nruns);
	store_close(s);
	return ret;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("atlas %s\n", ATLAS_VERSION);
	return 0;
}
