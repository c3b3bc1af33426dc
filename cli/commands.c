/*
 * commands.c - every subcommand of atlas, one line each.
 */
#include <stddef.h>

#include "cli/cli.h"
#include "cli/commands.h"

const struct command atlas_commands[] = {
	{ "validate", cmd_validate, "check a YAML file; all errors as FILE:LINE:COL" },
	{ "import", cmd_import, "replace the desired state with a YAML file" },
	{ "export", cmd_export, "print the desired state as YAML" },
	{ "plan", cmd_plan, "show what apply would change (exit 0 none, 2 changes, 1 error)" },
	{ "apply", cmd_apply, "bring the system to the desired state" },
	{ "history", cmd_history, "generations and apply runs; history restore GEN" },
	{ "serve", cmd_serve, "run the reconcile loop and the HTTP API and panel" },
	{ "admin", cmd_admin, "administrator account: `admin passwd`, `admin totp enable|disable`" },
	{ "token", cmd_token, "scoped API tokens: token create NAME --scope S, list, revoke NAME" },
	{ "ovpn", cmd_ovpn, "OpenVPN: client profiles, sessions, clients, easy-rsa import" },
	{ "wg", cmd_wg, "wireguard: client config, QR code, peer add/rm/disable/enable" },
	{ "adopt", cmd_adopt, "take over a running wg-quick, openvpn-install or sing-box setup" },
	{ "singbox", cmd_singbox, "sing-box: share links, client profile, subscription URL, QR code, status" },
	{ "backup", cmd_backup, "write one archive of the data directory (database, PKI, keys)" },
	{ "restore", cmd_restore, "check and restore a backup archive into the data directory" },
	{ "doctor", cmd_doctor, "check the host and say what to fix (forwarding, engines, ports, firewall)" },
	{ "usage", cmd_usage, "traffic per user against its quota; usage reset USER" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL },
};
