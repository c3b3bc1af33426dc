/*
 * commit.h - the one path by which desired state changes, for the CLI and
 * the API alike: complete against the stored state, validate, store as a new
 * generation. All or nothing.
 */
#ifndef ATLAS_COMMIT_H
#define ATLAS_COMMIT_H

#include <stdint.h>

#include <jansson.h>

#include "state/diag.h"
#include "state/model.h"
#include "state/store.h"

/*
 * Completes and validates next against the stored state and stores it.
 * pm (may be NULL) maps values of next to file positions for the messages.
 * Returns 0 when stored (*gen set; next is completed and sorted), -1 when
 * invalid (problems in d, ERR_INVALID) or on a store error. Nothing is stored
 * on failure.
 */
int state_commit(struct store *s, struct atlas_state *next, struct posmap *pm,
		 const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		 struct atlas_err *err);

/*
 * state_commit with the stored state given: old must be the current
 * generation's (sorted, as store_load gives it; NULL: loaded here).
 */
int state_commit_on(struct store *s, const struct atlas_state *old, struct atlas_state *next,
		    const char *trigger, const char *summary, struct diags *d, int64_t *gen,
		    struct atlas_err *err);

/*
 * Completes and validates next against old without storing (validate, plan -f,
 * dry runs). Returns 0 when valid.
 */
int state_check(struct atlas_state *next, const struct atlas_state *old, struct posmap *pm,
		struct diags *d, struct atlas_err *err);

/*
 * Parses YAML text and checks it against old (NULL: nothing stored yet).
 * Every problem of the file goes to d at once, the values the decoder
 * refuses and the rules broken by the rest alike. Returns the completed,
 * sorted state, or NULL (err: the first problem, ERR_INVALID).
 */
struct atlas_state *state_parse_check(const char *text, size_t len, const struct atlas_state *old,
				      struct posmap *pm, struct diags *d, struct atlas_err *err);

/* Parses YAML text and commits it (atlas import, PUT /state, --watch). */
int state_import_yaml(struct store *s, const char *text, size_t len, const char *trigger,
		      struct diags *d, int64_t *gen, struct atlas_err *err);

/*
 * The state a restore of generation gen would store (*target, new), and
 * what it changes compared with the current state (*changes, new, see
 * changes.h; changes may be NULL). The settings about how Atlas runs (apply
 * mode, resync, history_keep, service_mode) stay the current ones unless
 * with_settings. Changes nothing.
 */
int state_restore_preview(struct store *s, int64_t gen, int with_settings,
			  struct atlas_state **target, json_t **changes, struct atlas_err *err);

/*
 * Makes generation gen the desired state again, as a new generation whose
 * summary says what it changed; runtime settings kept unless with_settings.
 */
int state_restore(struct store *s, int64_t gen, int with_settings, int64_t *newgen,
		  struct atlas_err *err);

#endif
