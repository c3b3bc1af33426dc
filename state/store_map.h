/*
 * store_map.h - the generic row mapper between the desired-state structs and
 * their SQLite tables (private to state/store.c).
 *
 * The tables mirror the field tables of schema.c: the root's F_OBJ and
 * F_SECTION fields are single-row tables (id = 1), every F_LIST is a table
 * whose rows point at their parent's row with parent_id (ON DELETE CASCADE),
 * and each column field is one column of the same name.
 */
#ifndef ATLAS_STORE_MAP_H
#define ATLAS_STORE_MAP_H

#include <stddef.h>

#include <sqlite3.h>

#include "lib/err.h"
#include "state/model.h"

struct schema;

/* What a save wrote: rows inserted, updated, deleted (children of a deleted
 * row go by cascade and are not counted) and rows left untouched. */
struct store_map_stats {
	size_t inserted, updated, deleted, kept;
};

/*
 * Reads every table into st (initialised by the caller, e.g. state_new()).
 * Lists come sorted by name. The caller holds a read transaction. On error
 * st holds what was read so far (still freeable with state_free).
 */
int store_map_load(sqlite3 *db, struct atlas_state *st, struct atlas_err *err);

/*
 * Makes the tables equal to st, touching only rows that differ: rows are
 * matched by (parent, name) with a sort-merge against the stored rows,
 * changed rows are UPDATEd in place (their id kept), new ones INSERTed,
 * missing ones DELETEd (their children by cascade); a single-row table is
 * updated in place, or deleted when its section is absent. The caller holds
 * a write transaction and rolls it back on error. stats may be NULL.
 */
int store_map_save(sqlite3 *db, const struct atlas_state *st, struct store_map_stats *stats,
		   struct atlas_err *err);
/*
 * store_map_save of a state that differs from the stored rows in one
 * element of one list only (elements start with their name): eo (its
 * stored self) deleted or updated in place (the same name), en inserted;
 * no other row read. The list is sc's, in the element named pname of psc's
 * list (under a single row: the WireGuard peers of an interface, the users
 * of an inbound), or with psc NULL in the single row itself (the sing-box
 * subscriptions). Its elements have no lists of their own. The caller
 * knows the rows are those of the state eo belongs to.
 */
int store_map_save_elem(sqlite3 *db, const struct schema *psc, const char *pname,
			const struct schema *sc, const void *eo, const void *en,
			struct store_map_stats *stats, struct atlas_err *err);

#endif
