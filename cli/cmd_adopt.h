/*
 * cmd_adopt.h - what the three `atlas adopt` commands (cmd_adopt.c,
 * cmd_adopt_ovpn.c, cmd_adopt_sb.c) share beside adopt_finish().
 */
#ifndef ATLAS_CLI_CMD_ADOPT_H
#define ATLAS_CLI_CMD_ADOPT_H

#include "state/diag.h"

/*
 * Prints, under "not carried over / changed:", what of the adopted
 * configuration FILE was left out or changed; nothing when notes is empty.
 */
void adopt_print_notes(struct diags *notes, const char *file);

#endif
