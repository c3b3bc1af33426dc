/*
 * pack.h - a read-only copy of the desired state in one allocation.
 *
 * `atlas serve` keeps the desired state for its GETs for as long as the
 * generation does not move. Loaded by store_load(), its tens of thousands
 * of small strings land between the short-lived allocations of an apply
 * and pin those heap pages long after they are free. A packed copy is one
 * block (mmap'd by malloc when big), so it fragments nothing and goes back
 * to the system whole when freed.
 */
#ifndef ATLAS_PACK_H
#define ATLAS_PACK_H

#include "state/model.h"

/*
 * A deep copy of st in one block: the same values, every pointer into the
 * block. Treat it as const (nothing in it may be freed or reallocated one
 * by one); free it with state_pack_free(), not state_free(). Cannot fail
 * (xmalloc).
 */
struct atlas_state *state_pack(const struct atlas_state *st);

/* Wipes every byte of a packed copy, its secrets with the rest (it stays allocated). */
void state_pack_wipe(struct atlas_state *packed);

/* Wipes and frees a packed copy (as state_free() wipes a state's secrets). NULL is fine. */
void state_pack_free(struct atlas_state *packed);

#endif
