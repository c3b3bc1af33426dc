/*
 * changes.h - what a new desired state changes compared with another, engine
 * by engine and setting by setting, with counts: the summary a restore shows
 * before it is confirmed, and what History says a generation did.
 *
 * Walks the schema tables (schema.h), so every section and list is covered,
 * sing-box included, without a line per field here. Resources in lists are
 * matched by name. Secret values are never shown, only that they changed.
 * Pure: no store, no clock.
 */
#ifndef ATLAS_CHANGES_H
#define ATLAS_CHANGES_H

#include <jansson.h>

#include "lib/buf.h"
#include "state/model.h"

/*
 * The changes from `from` to `to` (from may be NULL: nothing before), a new
 * object:
 *   {"total": N,
 *    "settings": [{"name": "host", "from": "a" or null, "to": "b" or null}],
 *    "engines": [{"engine": "openvpn", "section": "added"|"removed"|"changed",
 *                 "added": N, "removed": N, "changed": N,
 *                 "items": [{"op": "+"|"-"|"~", "kind": "client",
 *                            "name": "alice" or "wg0/alice",
 *                            "fields": ["static_ip"]}]}]}
 * Only settings and engines that change are listed; a section's own fields
 * (port, network) are items of kind "setting" named after the field, with
 * "from" and "to". total counts settings plus every item.
 */
json_t *state_changes(const struct atlas_state *from, const struct atlas_state *to);

/*
 * The same as text, one block per engine ("openvpn: section removed, 2
 * removed" and one line per item), settings first. Empty when total is 0.
 */
void state_changes_text(const json_t *changes, struct buf *out);

/*
 * The settings about how Atlas itself runs (apply mode, drift check
 * interval, history kept, service mode): a restore keeps the current ones
 * unless asked for the restored ones. Copies them from src into dst.
 */
void settings_keep_runtime(struct settings *dst, const struct settings *src);

/* 1 when the field of struct settings named name is one of those. */
int settings_is_runtime(const char *name);

/*
 * 1 when every scalar field (strings, keys, numbers, lists of strings) of
 * a and b, two structs of schema s, is equal; lists of structs and
 * sub-objects are not compared. Pure.
 */
struct schema;
int state_item_same(const struct schema *s, const void *a, const void *b);
/*
 * 1 when a and b are equal all the way down, but for the lists whose
 * storage in a is at one of skip's pointers (NULL-terminated; NULL: none
 * skipped). Pure.
 */
int state_tree_same(const struct schema *s, const void *a, const void *b,
		    const void *const *skip);

#endif
