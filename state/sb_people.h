/*
 * sb_people.h - the people of the sing-box inbounds: a person is every user
 * entry of one name, in any inbound. Built once for a state so that a walk
 * over every user entry asks "which inbound has this person first" and
 * "whose quota counts" by bisection, not by a search of every inbound.
 */
#ifndef ATLAS_SB_PEOPLE_H
#define ATLAS_SB_PEOPLE_H

#include <stddef.h>

#include "state/model.h"

struct sb_person {
	const char *name;		/* borrowed from the state */
	size_t first;			/* index of the first inbound that has the person */
	const struct sb_user *quota;	/* the entry whose quota counts (usage.h), or NULL */
};

struct sb_people {
	struct sb_person *v;		/* sorted by name */
	size_t n;
};

/* The people of st (borrowing its names: release before st changes or goes). */
void sb_people_init(struct sb_people *p, const struct atlas_state *st);
/* The person named name, or NULL. */
const struct sb_person *sb_people_find(const struct sb_people *p, const char *name);
void sb_people_release(struct sb_people *p);

#endif
