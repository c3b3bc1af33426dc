/*
 * sb_traffic.c - the arithmetic of sb_traffic.h.
 */
#include <string.h>

#include "controller/singbox/sb_traffic.h"

/* Full snapshots in a row an id may be missing from before it is forgotten. */
#define SEEN_MISSES_KEPT 2

static json_int_t ival(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

json_t *sb_traffic_book(json_t *t)
{
	json_t *b = json_is_object(t) ? json_deep_copy(t) : json_object();

	if (!json_is_object(json_object_get(b, "users")))
		json_object_set_new(b, "users", json_object());
	if (!json_is_object(json_object_get(b, "seen")))
		json_object_set_new(b, "seen", json_object());
	return b;
}

void sb_traffic_add(json_t *book, const char *name, long long up, long long down)
{
	json_t *users = json_object_get(book, "users");
	json_t *u = json_object_get(users, name);

	if (up <= 0 && down <= 0 && u)
		return;
	if (!u) {
		u = json_pack("{s:I, s:I}", "up", (json_int_t)0, "down", (json_int_t)0);
		json_object_set_new(users, name, u);
	}
	if (up > 0)
		json_object_set_new(u, "up", json_integer(ival(u, "up") + up));
	if (down > 0)
		json_object_set_new(u, "down", json_integer(ival(u, "down") + down));
}

void sb_traffic_user(json_t *book, const char *name, long long *up, long long *down)
{
	json_t *u = json_object_get(json_object_get(book, "users"), name);

	*up = ival(u, "up");
	*down = ival(u, "down");
}

static long long at(json_t *a, size_t i)
{
	return json_integer_value(json_array_get(a, i));
}

void sb_traffic_conns(json_t *book, const struct sb_conns *c, int full,
		      int (*skip)(const void *arg, const char *inbound), const void *arg)
{
	json_t *seen = json_object_get(book, "seen"), *listed = json_object(), *v, *tmp;
	const char *id;

	for (size_t i = 0; i < c->n; i++) {
		const struct sb_conn *k = &c->v[i];
		json_t *prev = json_object_get(seen, k->id);
		long long up = prev ? at(prev, 0) : 0, down = prev ? at(prev, 1) : 0;
		long long dup = k->uplink > up ? k->uplink - up : 0;
		long long ddown = k->downlink > down ? k->downlink - down : 0;

		/* totals only grow: a late event never moves them back */
		json_object_set_new(seen, k->id, json_pack("[I, I, I]", (json_int_t)(up + dup),
							   (json_int_t)(down + ddown),
							   (json_int_t)0));
		json_object_set_new(listed, k->id, json_true());
		if (k->user[0] && !(skip && skip(arg, k->inbound)))
			sb_traffic_add(book, k->user, dup, ddown);
	}
	if (full)
		json_object_foreach_safe(seen, tmp, id, v)
		{
			long long missed = at(v, 2) + 1;

			if (json_object_get(listed, id))
				continue;
			if (missed >= SEEN_MISSES_KEPT)
				json_object_del(seen, id);
			else
				json_object_set_new(seen, id, json_pack("[I, I, I]", (json_int_t)at(v, 0),
									(json_int_t)at(v, 1),
									(json_int_t)missed));
		}
	json_decref(listed);
}
