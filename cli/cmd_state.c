/*
 * cmd_state.c - validate, import, export, history, version: the commands that
 * only read or write desired state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/udiff.h"
#include "state/changes.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"

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

int cli_import_file(struct store **s, const char *file, const char *trigger, int64_t *gen)
{
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct buf text = BUF_INIT;
	int rc;

	rc = file_read(file, YAML_MAX_SIZE, &text, &err);
	if (rc == 0 && !*s && !(*s = cli_store())) {
		buf_release_secure(&text);
		return -1;
	}
	if (rc == 0)
		rc = state_import_yaml(*s, text.data, text.len, trigger, &d, gen, &err);
	buf_release_secure(&text);
	if (rc < 0 && d.n)
		cli_print_diags(&d, file);
	else if (rc < 0)
		fprintf(stderr, "atlas: %s\n", err.msg);
	diags_clear(&d);
	return rc < 0 ? -1 : 0;
}

int cmd_import(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas import FILE\n\n"
		"Replaces the desired state with FILE in one transaction. Resources are matched "
		"by name;\nsecrets already stored are kept, missing ones generated. On any error "
		"nothing changes (exit 1).\n";
	struct store *s = NULL;
	int64_t gen;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc != 2) {
		fputs(usage, stderr);
		return 1;
	}
	if (cli_import_file(&s, argv[1], "import", &gen) == 0) {
		printf("imported %s: generation %lld\n", argv[1], (long long)gen);
		ret = 0;
	}
	store_close(s);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	static const char usage[] = "usage: atlas export [--secrets]\n\n"
				    "Prints the desired state as YAML: deterministic, sorted by "
				    "name.\nPrivate keys are left out unless --secrets is given.\n";
	struct atlas_state *st;
	struct buf out = BUF_INIT;
	struct store *s;
	int secrets = 0;

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
	st = cli_open_state(&s, 1);
	if (!st)
		return 1;
	state_to_yaml(st, secrets, &out);
	fwrite(out.data, 1, out.len, stdout);
	buf_release_secure(&out);
	cli_close_state(s, st);
	return 0;
}

static void fmt_time(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/*
 * atlas history restore N [--with-settings] [--yes]: prints what the restore
 * changes (by engine and setting, with counts, then the YAML diff), then
 * asks on a terminal; without a terminal only --yes restores.
 */
static int history_restore(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas history restore GEN [--with-settings] [--yes]\n\n"
		"Shows what making generation GEN the desired state again would change, by "
		"engine and\nsetting with counts and as a diff, then asks to confirm (--yes: "
		"without asking; needed\nwhen stdin is not a terminal). The settings about how "
		"Atlas runs (auto_apply, resync,\nhistory_keep, service_mode) stay as they are "
		"unless --with-settings. The restore is\nstored as a new generation; `atlas "
		"apply` (or auto apply) then makes it real.\n";
	struct atlas_state *target = NULL, *cur = NULL, *full = NULL;
	struct buf text = BUF_INIT, a = BUF_INIT, b = BUF_INIT, diff = BUF_INIT;
	struct atlas_err err = { 0 };
	int with_settings = 0, yes = 0, ret = 1;
	json_t *changes = NULL;
	long long gen = 0;
	int64_t newgen = 0;
	struct store *s;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--with-settings")) {
			with_settings = 1;
		} else if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y")) {
			yes = 1;
		} else if (!gen && argv[i][0] >= '1' && argv[i][0] <= '9') {
			errno = 0;
			gen = strtoll(argv[i], &end, 10);
			if (*end || errno || gen < 1) {
				fprintf(stderr, "atlas history restore: \"%s\" is not a generation\n",
					argv[i]);
				return 1;
			}
		} else {
			fprintf(stderr, "atlas history restore: unexpected argument \"%s\"\n%s",
				argv[i], usage);
			return 1;
		}
	}
	if (!gen) {
		fputs(usage, stderr);
		return 1;
	}
	s = cli_store();
	if (!s)
		return 1;
	if (state_restore_preview(s, gen, with_settings, &target, &changes, &err) < 0 ||
	    store_load(s, &cur, NULL, &err) < 0 ||
	    (!with_settings && state_restore_preview(s, gen, 1, &full, NULL, &err) < 0)) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	state_changes_text(changes, &text);
	printf("restoring generation %lld changes %lld thing%s:\n%s", gen,
	       (long long)json_integer_value(json_object_get(changes, "total")),
	       json_integer_value(json_object_get(changes, "total")) == 1 ? "" : "s",
	       text.len ? buf_str(&text) : "  nothing\n");
	if (full) {
		json_t *k = state_changes(target, full);
		size_t i;
		json_t *v;

		json_array_foreach(json_object_get(k, "settings"), i, v)
			printf("%s  %s stays %s (generation %lld has %s; --with-settings takes it)\n",
			       i ? "" : "kept:\n", json_string_value(json_object_get(v, "name")),
			       json_string_value(json_object_get(v, "from"))
				       ? json_string_value(json_object_get(v, "from"))
				       : "(none)",
			       gen,
			       json_string_value(json_object_get(v, "to"))
				       ? json_string_value(json_object_get(v, "to"))
				       : "(none)");
		json_decref(k);
	}
	state_to_yaml(cur, 0, &a);
	state_to_yaml(target, 0, &b);
	udiff(buf_str(&a), buf_str(&b), "current", "after the restore", &diff);
	if (diff.len)
		printf("\n%s", buf_str(&diff));
	fflush(stdout);
	if (!yes) {
		char line[16];

		if (!isatty(0)) {
			fprintf(stderr, "atlas: nothing restored: pass --yes to restore without a "
					"terminal\n");
			goto out;
		}
		fprintf(stderr, "Restore generation %lld? [y/N] ", gen);
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
			fprintf(stderr, "atlas: nothing restored\n");
			goto out;
		}
	}
	if (state_restore(s, gen, with_settings, &newgen, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	printf("restored generation %lld as generation %lld\n", gen, (long long)newgen);
	ret = 0;
out:
	json_decref(changes);
	state_free(target);
	state_free(cur);
	state_free(full);
	buf_release(&text);
	buf_release(&a);
	buf_release(&b);
	buf_release(&diff);
	store_close(s);
	return ret;
}

int cmd_history(int argc, char **argv)
{
	static const char usage[] = "usage: atlas history [-n COUNT]\n"
				    "       atlas history restore GEN [--with-settings] [--yes]\n\n"
				    "The generations of desired state and the apply runs, newest "
				    "first; restore makes\nan earlier generation the desired state "
				    "again, after showing what it changes.\n";
	struct atlas_err err = { 0 };
	struct gen_info *gens = NULL;
	struct run_info *runs = NULL;
	size_t ngens = 0, nruns = 0, max = 20;
	struct store *s;
	int64_t applied;
	int ret = 1;

	if (argc > 1 && !strcmp(argv[1], "restore"))
		return history_restore(argc - 1, argv + 1);
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
		printf("  %-5lld %s  %-12s %-14s %s\n", (long long)gens[i].gen, t, gens[i].trigger,
		       *gens[i].actor ? gens[i].actor : "-", gens[i].summary);
	}
	printf("apply runs\n");
	for (size_t i = 0; i < nruns; i++) {
		char t[32];

		fmt_time(runs[i].started_at / 1000, t, sizeof(t));
		printf("  #%-4lld %s  gen %-4lld %-8s %-14s %-4s %lldms%s%s\n", (long long)runs[i].id,
		       t, (long long)runs[i].generation, runs[i].trigger,
		       *runs[i].actor ? runs[i].actor : "-", runs[i].ok ? "ok" : "FAIL",
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
