/*
 * sb_people.c - a state's sing-box people, sorted by name (sb_people.h).
 * O(users log users) to build, O(log people) to ask.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "state/sb_people.h"

struct entry {
	const char *name;
	size_t in, k;		/* the inbound, the user's place in it */
	const struct sb_user *u;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->in != y->in)
		return x->in < y->in ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

void sb_people_init(struct sb_people *p, const struct atlas_state *st)
{
	struct entry *e;
	size_t m = 0, n = 0;

	p->v = NULL;
	p->n = 0;
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		m += st->singbox.inbounds[i].nusers;
	if (!m)
		return;
	e = xcalloc(m, sizeof(*e));
	m = 0;
	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		for (size_t k = 0; k < st->singbox.inbounds[i].nusers; k++) {
			const struct sb_user *u = &st->singbox.inbounds[i].users[k];

			if (u->name)
				e[m++] = (struct entry){ u->name, i, k, u };
		}
	qsort(e, m, sizeof(*e), entry_cmp);
	p->v = xcalloc(m ? m : 1, sizeof(*p->v));
	for (size_t j = 0; j < m; j++) {
		if (!n || strcmp(p->v[n - 1].name, e[j].name))
			p->v[n++] = (struct sb_person){ e[j].name, e[j].in, NULL };
		else if (e[j].in == e[j - 1].in)
			continue; /* a name twice in one inbound (invalid): its first counts */
		/* the first inbound (in order) whose entry has a quota */
		if (!p->v[n - 1].quota && (e[j].u->quota || e[j].u->quota_bytes))
			p->v[n - 1].quota = e[j].u;
	}
	p->n = n;
	free(e);
}

const struct sb_person *sb_people_find(const struct sb_people *p, const char *name)
{
	return state_bisect_named(p->v, p->n, sizeof(*p->v), name);
}

void sb_people_release(struct sb_people *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
