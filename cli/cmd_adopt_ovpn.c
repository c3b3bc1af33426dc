/*
 * cmd_adopt_ovpn.c - `atlas adopt openvpn DIR`.
 */
#include <stdio.h>

#include "cli/cli.h"

int adopt_openvpn_cmd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("atlas adopt openvpn: not implemented yet\n", stderr);
	return 1;
}
