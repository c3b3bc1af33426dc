/*
 * cmd_usage.c - `atlas usage [--json]` (traffic of every user against its
 * quota) and `atlas usage reset USER` (starts the user's period at 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/usage_store.h"
#include "state/validate.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"

/* The width of column key: its widest value, at least min. */
static int column_width(json_t *rows, const char *key, int min)
{
	json_t *r;
	size_t i;
	int w = min;

	json_array_foreach(rows, i, r)
	{
		const char *v = json_string_value(json_object_get(r, key));
		int n = v ? (int)strlen(v) : 0;

		if (n > w)
			w = n;
	}
	return w;
}

static void print_table(json_t *rows)
{
	int wu = column_width(rows, "user", 4), we = column_width(rows, "expires", 7);
	json_t *r;
	size_t i;

	printf("%-*s %-9s %12s %12s %7s %-*s %s\n", wu, "USER", "ENGINE", "PERIOD", "QUOTA", "USED",
	       we, "EXPIRES", "STATE");
	json_array_foreach(rows, i, r)
	{
		char used[32], pct[16] = "-";
		json_t *q = json_object_get(r, "quota");
		const char *reason = json_string_value(json_object_get(r, "reason"));
		const char *exp = json_string_value(json_object_get(r, "expires"));
		const char *qt = json_string_value(json_object_get(r, "quota_text"));

		bytes_format(json_integer_value(json_object_get(r, "period_bytes")), used,
			     sizeof(used));
		if (json_is_integer(q))
			snprintf(pct, sizeof(pct), "%.0f%%",
				 json_real_value(json_object_get(r, "percent")));
		printf("%-*s %-9s %12s %12s %7s %-*s %s%s%s\n", wu,
		       json_string_value(json_object_get(r, "user")),
		       json_string_value(json_object_get(r, "engine")), used, qt ? qt : "unlimited",
		       pct, we, exp ? exp : "-", json_string_value(json_object_get(r, "state")),
		       reason ? ": " : "", reason ? reason : "");
	}
}

static int usage_reset(struct store *s, const char *user)
{
	struct atlas_err err = { 0 };
	int n;

	if (usage_store_reset(s, user, &n, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		return 1;
	}
	if (!n) {
		fprintf(stderr, "atlas usage reset: no usage recorded for \"%s\"\n", user);
		return 1;
	}
	printf("usage of \"%s\" reset (%d entr%s): this period starts at 0\n", user, n,
	       n == 1 ? "y" : "ies");
	return 0;
}

int cmd_usage(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas usage [--json] [--days N] [--user NAME]\n"
		"       atlas usage reset USER\n\n"
		"Traffic of every user in the current quota period, the quota, the share used,\n"
		"the expiry date and whether the user is suspended; --user NAME: only the\n"
		"entries of that name on every engine. USER of reset is a name\n"
		"(every engine) or IF/PEER.\n";
	struct atlas_state *st = NULL;
	struct atlas_err err = { 0 };
	struct store *s = NULL;
	json_t *rows = NULL;
	const char *person = NULL;
	int json = 0, days = 0, ret = 1;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "reset")) {
		if (argc != 3) {
			fputs(usage, stderr);
			return 1;
		}
		if (!(s = cli_store()))
			return 1;
		ret = usage_reset(s, argv[2]);
		store_close(s);
		return ret;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--user") && i + 1 < argc) {
			person = argv[++i];
			if (!name_valid(person)) {
				fprintf(stderr, "atlas usage: --user \"%s\" is not a valid name\n",
					person);
				return 1;
			}
		} else if (!strcmp(argv[i], "--days") && i + 1 < argc) {
			char *end;

			days = (int)strtol(argv[++i], &end, 10);
			if (*end || !argv[i][0] || days < 0 || days > 400) {
				fprintf(stderr, "atlas usage: --days \"%s\" is not 0 to 400\n", argv[i]);
				return 1;
			}
		} else {
			fprintf(stderr, "atlas usage: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	if (!(st = cli_open_state(&s, 0)))
		return 1;
	if (!(rows = usage_report(s, st, time(NULL), days, person, &err))) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (json) {
		char *text = json_dumps(rows, JSON_INDENT(2));

		puts(text);
		free(text);
	} else {
		print_table(rows);
	}
	ret = 0;
out:
	json_decref(rows);
	cli_close_state(s, st);
	return ret;
}
