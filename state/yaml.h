/*
 * yaml.h - the desired state as YAML text (format version 1).
 *
 * Decoding is driven by the field tables of schema.c: unknown keys, wrong
 * types, duplicate keys, aliases and missing required keys are reported with
 * their line and column, all of them, not only the first. Encoding is
 * deterministic: fields in table order, lists sorted by name, defaults left
 * out, so the same state always gives the same bytes.
 */
#ifndef ATLAS_YAML_H
#define ATLAS_YAML_H

#include <stddef.h>

#include "lib/buf.h"
#include "state/diag.h"
#include "state/model.h"

#define YAML_MAX_SIZE (16u << 20)

/*
 * Parses text into a new state. On any error returns NULL with every problem
 * in d (with line and column). When pm is not NULL the position of each
 * decoded value is recorded there (keyed by its address in the returned
 * state), for validation messages. No semantic validation happens here.
 */
struct atlas_state *state_from_yaml(const char *text, size_t len, struct diags *d,
				    struct posmap *pm);

/*
 * Like state_from_yaml, but a value the decoder refuses only leaves its
 * default: the state comes back all the same (NULL only when the text is
 * not YAML at all), *bad set to the number of such problems, so that the
 * rules can still be checked and every problem of a file reported at once.
 * A state with *bad > 0 must never be stored.
 */
struct atlas_state *state_from_yaml_partial(const char *text, size_t len, struct diags *d,
					    struct posmap *pm, size_t *bad);

/* Appends the YAML of st to out; secret fields only when secrets. Cannot fail. */
void state_to_yaml(const struct atlas_state *st, int secrets, struct buf *out);

#endif
