/*
 * cmd_plan.c - `atlas plan` (the dry-run diff) and `atlas apply`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/wireguard/wg.h"
#include "lib/fileio.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "cli/cli.h"
#include "cli/commands.h"

/*
 * The arguments of `atlas NAME`: -f FILE, and --json when json is not NULL.
 * Returns 0, or -1 after printing what is wrong.
 */
static int plan_args(int argc, char **argv, const char *name, const char **file, int *json)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			*file = argv[++i];
		} else if (json && !strcmp(argv[i], "--json")) {
			*json = 1;
		} else {
			fprintf(stderr, "atlas %s: unknown argument \"%s\"\n", name, argv[i]);
			return -1;
		}
	}
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas plan [-f FILE] [--json]\n\n"
		"Compares the desired state (the store, or FILE without storing it) with the "
		"live system.\nExit 0: nothing to do; 2: changes; 1: error.\n";
	struct atlas_state *desired = NULL;
	struct atlas_err err = { 0 };
	const char *file = NULL;
	struct driver_ctx ctx;
	struct plan plan;
	struct store *s;
	int64_t gen = 0;
	int json = 0, ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (plan_args(argc, argv, "plan", &file, &json) < 0)
		return 1;
	s = file ? cli_store_ro_or_new() : cli_store_ro();
	if (!s)
		return 1;
	/* The devices build their replies while the state loads (bench/wg.sh). */
	wg_observe_prefetch(cli_datadir);
	if (store_load(s, &desired, &gen, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (file) {
		struct atlas_state *f = cli_load_file(file, desired);

		if (!f)
			goto out;
		state_free(desired);
		desired = f;
	}
	controller_ctx_init(&ctx, cli_datadir, s, desired);
	if (controller_plan(&ctx, desired, gen, &plan, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		controller_ctx_release(&ctx);
		goto out;
	}
	if (json) {
		json_t *j = plan_to_json(&plan);

		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(j);
	} else {
		struct buf out = BUF_INIT;

		plan_render_text(&plan, &out);
		fputs(buf_str(&out), stdout);
		buf_release(&out);
	}
	ret = plan_has_problems(&plan) && plan.n == 0 ? 1 : plan.n ? 2 : 0;
	plan_release(&plan);
	controller_ctx_release(&ctx);
out:
	wg_uapi_prefetch_drop();
	cli_close_state(s, desired);
	return ret;
}

int cmd_apply(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas apply [-f FILE]\n\n"
		"Applies the plan (after importing FILE when given) and checks that the system\n"
		"converged. Exit 0 once converged, 1 otherwise. The run is recorded in history.\n";
	struct atlas_state *desired = NULL;
	struct atlas_err err = { 0 };
	const char *file = NULL;
	struct driver_ctx ctx;
	struct store *s;
	json_t *result = NULL;
	int64_t gen = 0;
	int ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (plan_args(argc, argv, "apply", &file, NULL) < 0)
		return 1;
	s = cli_store();
	if (!s)
		return 1;
	if (file && cli_import_file(&s, file, "apply -f", &gen) < 0)
		goto out;
	if (store_load(s, &desired, &gen, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	controller_ctx_init(&ctx, cli_datadir, s, desired);
	if (controller_apply(&ctx, desired, gen, "cli", &result, NULL, &err) < 0) {
		fprintf(stderr, "atlas: apply failed: %s\n", err.msg);
	} else {
		ret = 0;
	}
	if (result) {
		json_t *a;
		size_t i;

		json_array_foreach(json_object_get(result, "actions"), i, a) {
			const char *e = json_string_value(json_object_get(a, "error"));

			printf("%s %s%s%s\n", json_is_true(json_object_get(a, "ok")) ? "ok  " : "FAIL",
			       json_string_value(json_object_get(a, "text")), e ? ": " : "",
			       e ? e : "");
		}
		if (ret == 0)
			printf("converged at generation %lld\n", (long long)gen);
	}
	json_decref(result);
	controller_ctx_release(&ctx);
out:
	cli_close_state(s, desired);
	return ret;
}
