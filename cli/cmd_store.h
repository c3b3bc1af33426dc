/*
 * cmd_store.h - the two store steps of the commands that read or edit the
 * desired state: open the store and load the state, and commit an edited
 * state with every problem printed.
 */
#ifndef ATLAS_CLI_CMD_STORE_H
#define ATLAS_CLI_CMD_STORE_H

#include <stdint.h>

#include "state/model.h"
#include "state/store.h"

/*
 * Opens the store of cli_datadir (read-only will do when ro) into *s and
 * loads the desired state. On failure prints the error, leaves *s NULL and
 * returns NULL.
 */
struct atlas_state *cli_open_state(struct store **s, int ro);

/*
 * Stores st as a new generation by "cli" with summary; its number goes to
 * *gen (may be NULL). On failure prints the problems (or "WHO: error") and
 * returns -1; nothing is stored.
 */
int cli_commit_edit(struct store *s, struct atlas_state *st, const char *who,
		    const char *summary, int64_t *gen);

#endif
