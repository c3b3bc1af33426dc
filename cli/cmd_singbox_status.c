/*
 * cmd_singbox_status.c - `atlas singbox status`: whether sing-box runs and
 * the users connected to it, with their open connections and the bytes
 * Atlas has counted for them (the driver's status, driver.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/singbox/sb.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"

int cmd_singbox_status(int argc, char **argv)
{
	struct atlas_state *st = NULL;
	struct driver_ctx ctx;
	struct store *s;
	json_t *js = NULL, *u;
	size_t i;
	int ret = 1;

	(void)argc;
	(void)argv;
	if (!(st = cli_open_state(&s, 0)))
		return 1;
	if (!st->has_singbox) {
		fprintf(stderr, "atlas: the desired state has no singbox section\n");
		goto out;
	}
	controller_ctx_init(&ctx, cli_datadir, s, st);
	js = sb_status_read(&ctx, st);
	controller_ctx_release(&ctx);
	if (!json_is_true(json_object_get(js, "running"))) {
		fprintf(stderr, "atlas: sing-box is not running (`atlas plan` tells why)\n");
		goto out;
	}
	if (json_object_get(js, "error")) {
		fprintf(stderr, "atlas: %s\n", json_string_value(json_object_get(js, "error")));
		goto out;
	}
	printf("sing-box pid %lld, %lld open connection%s\n",
	       (long long)json_integer_value(json_object_get(js, "pid")),
	       (long long)json_integer_value(json_object_get(js, "connections")),
	       json_integer_value(json_object_get(js, "connections")) == 1 ? "" : "s");
	printf("%-24s %11s %14s %14s\n", "USER", "CONNECTIONS", "UPLINK BYTES", "DOWNLINK BYTES");
	/* every user sing-box has seen: the connected ones have connections > 0 */
	json_array_foreach(json_object_get(js, "users"), i, u) {
		printf("%-24s %11lld %14lld %14lld\n", json_string_value(json_object_get(u, "name")),
		       (long long)json_integer_value(json_object_get(u, "connections")),
		       (long long)json_integer_value(json_object_get(u, "uplink_bytes")),
		       (long long)json_integer_value(json_object_get(u, "downlink_bytes")));
	}
	ret = 0;
out:
	json_decref(js);
	cli_close_state(s, st);
	return ret;
}

