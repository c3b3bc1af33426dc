/*
 * test_sb_traffic.c - the per-user arithmetic on sing-box's connection
 * counters (sb_traffic.h), table-driven: each step is one reading (a full
 * snapshot or stream events), with the users' totals expected after it.
 * Covers open connections counted as deltas, closed ones counted once
 * however often they are listed, a late stream event that lags a snapshot,
 * a reload (new ids, old ones gone), Shadowsocks connections left to SSM,
 * ids forgotten after two snapshots without them, and a stream event that
 * comes before the snapshot that still predates it.
 */
#include "testutil.h"

#include "controller/singbox/sb_traffic.h"

#define MAXC 4

struct c { const char *id, *user, *inbound; long long up, down; };

struct step {
	int full;
	struct c conns[MAXC];
	long long alice_up, alice_down, bob_up, bob_down;
	size_t seen;		/* ids in the book after the step */
};

struct scenario {
	const char *name;
	struct step steps[8];
};

static const struct scenario scenarios[] = {
	{ "open connection counted as deltas, then closed once",
	  { { 1, { { "a1", "alice", "vl", 100, 1000 } }, 100, 1000, 0, 0, 1 },
	    { 1, { { "a1", "alice", "vl", 150, 3000 } }, 150, 3000, 0, 0, 1 },
	    /* closed: listed again with the same final totals, twice */
	    { 1, { { "a1", "alice", "vl", 160, 4000 } }, 160, 4000, 0, 0, 1 },
	    { 1, { { "a1", "alice", "vl", 160, 4000 } }, 160, 4000, 0, 0, 1 },
	    /* gone from sing-box's list: forgotten after two snapshots, counted once */
	    { 1, { { 0 } }, 160, 4000, 0, 0, 1 },
	    { 1, { { 0 } }, 160, 4000, 0, 0, 0 },
	    { -1 } } },
	{ "short connection between two ticks, told by the stream",
	  { { 1, { { 0 } }, 0, 0, 0, 0, 0 },
	    { 0, { { "a1", "alice", "vl", 0, 0 } }, 0, 0, 0, 0, 1 },
	    { 0, { { "a1", "alice", "vl", 50, 4194304 } }, 50, 4194304, 0, 0, 1 },
	    /* the snapshot still lists it as recently closed: nothing twice */
	    { 1, { { "a1", "alice", "vl", 50, 4194304 } }, 50, 4194304, 0, 0, 1 },
	    { -1 } } },
	{ "a late stream event never moves totals back",
	  { { 1, { { "b1", "bob", "vl", 10, 900 } }, 0, 0, 10, 900, 1 },
	    { 0, { { "b1", "bob", "vl", 10, 400 } }, 0, 0, 10, 900, 1 },
	    { 1, { { "b1", "bob", "vl", 20, 1000 } }, 0, 0, 20, 1000, 1 },
	    { -1 } } },
	{ "reload: new ids from 0, the old ones gone; nothing lost or doubled",
	  { { 1, { { "a1", "alice", "vl", 100, 5000 }, { "b1", "bob", "vl", 1, 2 } },
	      100, 5000, 1, 2, 2 },
	    /* read right before the reload */
	    { 1, { { "a1", "alice", "vl", 120, 6000 }, { "b1", "bob", "vl", 1, 2 } },
	      120, 6000, 1, 2, 2 },
	    /* after it: the client reconnected, sing-box counts again from 0 */
	    { 1, { { "a2", "alice", "vl", 30, 700 } }, 150, 6700, 1, 2, 3 },
	    { 1, { { "a2", "alice", "vl", 40, 800 } }, 160, 6800, 1, 2, 1 },
	    { -1 } } },
	{ "Shadowsocks and user-less connections only update seen",
	  { { 1, { { "s1", "alice", "ss", 100, 100 }, { "n1", "", "vl", 5, 5 },
		   { "a1", "alice", "vl", 1, 1 } },
	      1, 1, 0, 0, 3 },
	    { 0, { { "s1", "alice", "ss", 900, 900 } }, 1, 1, 0, 0, 3 },
	    { -1 } } },
	{ "a stream event before the snapshot that predates it",
	  { { 1, { { 0 } }, 0, 0, 0, 0, 0 },
	    /* b1 opens and closes; the stream tells first */
	    { 0, { { "b1", "bob", "vl", 7, 70 } }, 0, 0, 7, 70, 1 },
	    /* a snapshot taken just before b1 opened is accounted after the event */
	    { 1, { { 0 } }, 0, 0, 7, 70, 1 },
	    /* the next one lists b1 as recently closed: still counted once */
	    { 1, { { "b1", "bob", "vl", 7, 70 } }, 0, 0, 7, 70, 1 },
	    { -1 } } },
};

static int skip_ss(const void *arg, const char *inbound)
{
	(void)arg;
	return !strcmp(inbound, "ss");
}

static void run(const struct scenario *sc)
{
	json_t *book = sb_traffic_book(NULL);

	for (size_t s = 0; sc->steps[s].full >= 0; s++) {
		const struct step *st = &sc->steps[s];
		struct sb_conn v[MAXC] = { 0 };
		struct sb_conns c = { v, 0 };
		long long up, down;

		for (size_t i = 0; i < MAXC && st->conns[i].id; i++) {
			v[i].id = (char *)st->conns[i].id;
			v[i].user = (char *)st->conns[i].user;
			v[i].inbound = (char *)st->conns[i].inbound;
			v[i].uplink = st->conns[i].up;
			v[i].downlink = st->conns[i].down;
			c.n++;
		}
		sb_traffic_conns(book, &c, st->full, skip_ss, NULL);
		sb_traffic_user(book, "alice", &up, &down);
		if (up != st->alice_up || down != st->alice_down)
			fail_msg("%s, step %zu: alice %lld/%lld, expected %lld/%lld", sc->name, s,
				 up, down, st->alice_up, st->alice_down);
		sb_traffic_user(book, "bob", &up, &down);
		if (up != st->bob_up || down != st->bob_down)
			fail_msg("%s, step %zu: bob %lld/%lld, expected %lld/%lld", sc->name, s, up,
				 down, st->bob_up, st->bob_down);
		if (json_object_size(json_object_get(book, "seen")) != st->seen)
			fail_msg("%s, step %zu: %zu ids seen, expected %zu", sc->name, s,
				 json_object_size(json_object_get(book, "seen")), st->seen);
	}
	json_decref(book);
}

static void test_sb_traffic__scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i]);
}

/* SSM's per-user deltas (read with clear=true) add up; garbage on disk starts a fresh book. */
static void test_sb_traffic__ssm_and_book(void **state)
{
	json_t *junk = json_pack("{s:s, s:i}", "users", "x", "seen", 3);
	json_t *book = sb_traffic_book(junk);
	long long up, down;

	(void)state;
	sb_traffic_add(book, "ss1", 100, 4194304);
	sb_traffic_add(book, "ss1", 0, 0);
	sb_traffic_add(book, "ss1", -5, 10);
	sb_traffic_user(book, "ss1", &up, &down);
	assert_true(up == 100 && down == 4194314);
	sb_traffic_user(book, "nobody", &up, &down);
	assert_true(up == 0 && down == 0);
	assert_true(json_is_object(json_object_get(book, "seen")));
	json_decref(book);
	json_decref(junk);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_sb_traffic__scenarios),
	cmocka_unit_test(test_sb_traffic__ssm_and_book))
