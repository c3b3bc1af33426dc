/*
 * cmd_adopt_main.c - `atlas adopt ENGINE ...`: picks the engine's adopter
 * (cmd_adopt.c for WireGuard, cmd_adopt_ovpn.c, cmd_adopt_sb.c); they share
 * adopt_load() and adopt_finish() of cmd_adopt.c, so the dispatch lives here
 * and no file calls back into its caller.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_adopt(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas adopt wireguard [IFACE | FILE] [--clients DIR] [--dry-run]\n"
		"       atlas adopt openvpn DIR [--dry-run]\n"
		"       atlas adopt singbox FILE [--dry-run]\n\n"
		"Takes over a setup that runs already so that the first `atlas plan` is empty\n"
		"(OpenVPN, sing-box: one announced restart). All or nothing, one generation.\n";

	if (argc >= 2 && !strcmp(argv[1], "wireguard"))
		return adopt_wireguard_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "openvpn"))
		return adopt_openvpn_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "singbox"))
		return adopt_singbox_cmd(argc - 1, argv + 1);
	if (cli_wants_help(argc, argv, usage))
		return 0;
	fputs(usage, stderr);
	return 1;
}
