/*
 * test_commit_peer.c - the commit of one WireGuard peer edit in time of
 * that peer (state/commit_peer.c): the spliced YAML is byte for byte the
 * whole state's encoding; only-this-peer checks still catch a clash with
 * a peer far away in the list, with the message the full check words; an
 * edit of more than one peer takes the full path; the store keeps its
 * history exact.
 */
#include "store_fx.h"

#include "state/changes.h"
#include "state/commit.h"
#include "state/schema.h"
#include "state/yaml.h"

/*
 * wg0 with 300 peers p000..p299 (10.0.0.0/16), a peer named '123' (the
 * encoder quotes it), wg1 with a peer named like one of wg0's and gaps
 * between its addresses (v4 and v6), wg2 with a /30 already full, and an
 * OpenVPN client list (lines of the same shape at the same depth).
 */
static struct atlas_state *base(void)
{
	struct buf y = BUF_INIT;
	struct atlas_state *st;

	buf_puts(&y, "version: 1\nwireguard:\n  interfaces:\n"
		     "  - name: wg0\n    listen_port: 51820\n    address: [10.0.0.1/16]\n"
		     "    peers:\n    - {name: '123'}\n");
	for (int i = 0; i < 300; i++)
		buf_printf(&y, "    - {name: p%03d, note: \"n %d\"}\n", i, i);
	buf_puts(&y, "  - name: wg1\n    listen_port: 51821\n    address: [10.1.0.1/24, fd01::1/64]\n"
		     "    peers: [{name: p150, address: [10.1.0.3/32, fd01::2/128]},"
		     " {name: z, address: [10.1.0.5/32, fd01::5/128]}]\n"
		     "  - name: wg2\n    listen_port: 51822\n    address: [10.2.0.1/30]\n"
		     "    peers: [{name: w}]\n"
		     "openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: p150}, {name: wg0}]\n");
	st = tu_state_checked(y.data);
	buf_release(&y);
	return st;
}

/* The peer named name of interface ifname in st (must exist). */
static struct wg_peer *peer(struct atlas_state *st, const char *ifname, const char *name)
{
	struct wg_peer *p = state_wg_peer(state_wg_iface(st, ifname), name);

	assert_non_null(p);
	return p;
}

static void add(struct atlas_state *st, const char *ifname, const char *name)
{
	struct wg_iface *ifc = state_wg_iface(st, ifname);
	struct wg_peer p;

	schema_init(&schema_wg_peer, &p);
	p.name = xstrdup(name);
	ifc->peers = xrealloc(ifc->peers, (ifc->npeers + 1) * sizeof(*ifc->peers));
	ifc->peers[ifc->npeers++] = p;
}

static void drop(struct atlas_state *st, const char *ifname, const char *name)
{
	struct wg_iface *ifc = state_wg_iface(st, ifname);
	struct wg_peer *p = peer(st, ifname, name);
	size_t i = (size_t)(p - ifc->peers);

	schema_release(&schema_wg_peer, p);
	memmove(p, p + 1, (ifc->npeers - i - 1) * sizeof(*p));
	ifc->npeers--;
}

enum edit { ADD, REMOVE, NOTE, RENAME, KEY_OF, ADDR_OF, BAD_ADDR, TWO, HOST };

struct edit_case {
	enum edit op;
	const char *ifname, *name, *arg;
	int want; /* state_check_edit: 1 one peer, 0 full path, -1 invalid */
};

/* next = old edited as c says. */
static void edit(struct atlas_state *next, const struct edit_case *c)
{
	struct wg_peer *p;

	switch (c->op) {
	case ADD:
		add(next, c->ifname, c->name);
		break;
	case REMOVE:
		drop(next, c->ifname, c->name);
		break;
	case NOTE:
		p = peer(next, c->ifname, c->name);
		free(p->note);
		p->note = xstrdup(c->arg);
		break;
	case RENAME:
		p = peer(next, c->ifname, c->name);
		free(p->name);
		p->name = xstrdup(c->arg);
		break;
	case KEY_OF: /* a new peer with the key of peer arg */
		add(next, c->ifname, c->name);
		p = peer(next, c->ifname, c->name);
		p->public_key = peer(next, c->ifname, c->arg)->public_key;
		break;
	case ADDR_OF: /* a new peer with the address of peer arg */
		add(next, c->ifname, c->name);
		p = peer(next, c->ifname, c->name);
		strv_push(&p->address, peer(next, c->ifname, c->arg)->address.v[0]);
		break;
	case BAD_ADDR:
		add(next, c->ifname, c->name);
		strv_push(&peer(next, c->ifname, c->name)->address, c->arg);
		break;
	case TWO:
		add(next, c->ifname, c->name);
		add(next, c->ifname, c->arg);
		break;
	case HOST:
		add(next, c->ifname, c->name);
		free(next->settings.host);
		next->settings.host = xstrdup(c->arg);
		break;
	}
}

static const struct edit_case cases[] = {
	{ ADD, "wg0", "a", NULL, 1 },	     /* before every other peer */
	{ ADD, "wg0", "p150x", NULL, 1 },    /* in the middle */
	{ ADD, "wg0", "zz", NULL, 1 },	     /* after the last */
	{ ADD, "wg1", "p151", NULL, 1 },     /* the second interface: into the lowest gaps */
	{ ADD, "wg0", "456", NULL, 1 },	     /* a quoted name */
	{ REMOVE, "wg0", "123", NULL, 1 },   /* the first */
	{ REMOVE, "wg0", "p150", NULL, 1 },  /* a name wg1 and OpenVPN have too */
	{ REMOVE, "wg0", "p299", NULL, 1 },  /* the last */
	{ NOTE, "wg0", "p007", "it's: \"quoted\"\nand two lines", 1 },
	{ RENAME, "wg0", "p001", "p298a", 1 }, /* moves far down the list */
	{ RENAME, "wg0", "p298", "0", 1 },     /* moves to the top */
	{ KEY_OF, "wg0", "q", "p299", -1 },    /* the last peer's key */
	{ ADDR_OF, "wg0", "q", "p299", -1 },   /* the last peer's address */
	{ ADDR_OF, "wg0", "0", "p299", -1 },   /* the same, reported on the other peer */
	{ BAD_ADDR, "wg0", "q", "10.0.0.300/32", -1 },
	{ BAD_ADDR, "wg0", "q", "10.7.0.2/32", -1 }, /* outside the network */
	{ TWO, "wg0", "q", "r", 0 },
	{ HOST, "wg0", "q", "vpn.example.org", 0 },
	{ ADD, "wg2", "x", NULL, -1 }, /* no free address left */
};

/*
 * Each edit checked and encoded the fast way gives what the full way
 * gives: the same verdict and messages, the same YAML.
 */
static void test_commit_peer__same_as_full(void **x)
{
	struct atlas_state *old = base();
	struct buf last = BUF_INIT;

	(void)x;
	state_to_yaml(old, 1, &last);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct edit_case *c = &cases[i];
		struct atlas_state *next = state_dup(old), *full;
		struct diags d = { 0 }, fd = { 0 };
		struct atlas_err err = { 0 }, ferr = { 0 };
		const struct wg_peer *po, *pn;
		int rc, frc;

		edit(next, c);
		full = state_dup(next);
		rc = state_check_edit(next, old, c->ifname, &po, &pn, &d, &err);
		frc = state_check(full, old, NULL, &fd, &ferr);
		if (rc != c->want)
			fail_msg("case %zu: %d, want %d (%s)", i, rc, c->want, err.msg);
		assert_int_equal(frc < 0, rc < 0);
		assert_int_equal(d.n, fd.n);
		for (size_t k = 0; k < d.n; k++)
			assert_string_equal(d.v[k].msg, fd.v[k].msg);
		if (rc == 1) {
			struct buf spliced = BUF_INIT, whole = BUF_INIT;

			assert_int_equal(state_yaml_peer_splice(last.data, last.len, old, next,
								c->ifname, po, pn, &spliced),
					 0);
			state_to_yaml(next, 1, &whole);
			if (strcmp(buf_str(&spliced), buf_str(&whole)))
				fail_msg("case %zu: the spliced YAML differs", i);
			/* in a block of its size: a wipe of a doubled one touches pages never used */
			if (spliced.cap != spliced.len + 1)
				fail_msg("case %zu: %zu bytes spliced in a block of %zu", i,
					 spliced.len, spliced.cap);
			/* completed as the full way does (full has keys of its own) */
			if (pn) {
				struct wg_peer *fp = peer(full, c->ifname, pn->name);

				fp->private_key = pn->private_key;
				fp->public_key = pn->public_key;
				fp->preshared_key = pn->preshared_key;
			}
			buf_reset(&spliced);
			state_to_yaml(full, 1, &spliced);
			if (strcmp(buf_str(&spliced), buf_str(&whole)))
				fail_msg("case %zu: not completed as the full way does", i);
			buf_release_secure(&spliced);
			buf_release_secure(&whole);
		}
		diags_clear(&d);
		diags_clear(&fd);
		state_free(next);
		state_free(full);
	}
	buf_release_secure(&last);
	state_free(old);
}

/*
 * Through the store: a clash is refused and stores nothing; each edit of
 * one peer (added, removed, changed, renamed) is one generation whose YAML
 * is what the rows load back as, and the generation before reads back
 * exactly; the committed state is what a reload gives (loaded_as).
 */
static void test_commit_peer__store(void **x)
{
	static const size_t edits[] = { 1, 6, 8, 9 };
	struct store *s = *x;
	struct atlas_state *old = base(), *next;
	struct commit_edit e = { 0 };
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct buf g = BUF_INIT;
	int64_t gen = 0, g0 = 0;
	char *before, *now;

	assert_int_equal(state_commit(s, old, NULL, "test", "base", &d, &g0, &err), 0);
	state_free(old);
	assert_int_equal(store_load(s, &old, NULL, &err), 0);
	next = state_dup(old);
	edit(next, &cases[12]); /* the last peer's address */
	e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = "wg0" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "clash", &d, &gen, &err), -1);
	assert_true(d.n > 0);
	assert_non_null(strstr(d.v[0].msg, "is already used by peer"));
	diags_clear(&d);
	state_free(next);
	assert_int_equal(store_generation(s), g0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const struct edit_case *c = &cases[edits[i]];

		before = tu_export_secrets(s);
		next = state_dup(old);
		edit(next, c);
		e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = c->ifname };
		assert_int_equal(state_commit_on(s, &e, next, "test", "edit", &d, &gen, &err), 0);
		assert_int_equal(e.one_peer, 1);
		assert_int_equal(gen, g0 + 1);
		now = tu_export_secrets(s); /* from the rows */
		assert_int_equal(store_generation_yaml(s, gen, &g, &err), 0);
		if (strcmp(buf_str(&g), now))
			fail_msg("edit %zu: the rows are not the generation's state", i);
		buf_reset(&g);
		assert_int_equal(store_generation_yaml(s, g0, &g, &err), 0);
		assert_string_equal(buf_str(&g), before);
		buf_reset(&g);
		free(before);
		free(now);
		state_free(old);
		old = loaded_as(s, next, &g0);
		state_free(next);
	}
	/* an edit of two peers (the full path) too */
	next = state_dup(old);
	edit(next, &cases[16]);
	e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = "wg0" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "two", &d, &gen, &err), 0);
	assert_int_equal(e.one_peer, 0);
	state_free(old);
	old = loaded_as(s, next, &g0);
	state_free(next);
	assert_non_null(state_wg_peer(state_wg_iface(old, "wg0"), "p150x"));
	assert_null(state_wg_peer(state_wg_iface(old, "wg0"), "p150"));
	assert_non_null(state_wg_peer(state_wg_iface(old, "wg1"), "p150"));
	assert_string_equal(state_wg_peer(state_wg_iface(old, "wg0"), "p007")->note, cases[8].arg);
	assert_non_null(state_wg_peer(state_wg_iface(old, "wg0"), "p298a"));
	assert_null(state_wg_peer(state_wg_iface(old, "wg0"), "p001"));
	state_free(old);
	buf_release_secure(&g);
}

/*
 * An edit reads the newest generation (the whole text) and writes the next:
 * with a page cache smaller than that, its dirty pages wait for the commit
 * instead of being spilled to the WAL one by one in the middle of it.
 */
static void test_commit_peer__no_spill_in_an_edit(void **x)
{
	struct store *s = *x;
	struct atlas_state *old = base(), *next;
	struct commit_edit e;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	int64_t gen = 0, g0 = 0;
	int spilled = -1, hi = 0;

	assert_int_equal(state_commit(s, old, NULL, "test", "base", &d, &g0, &err), 0);
	state_free(old);
	assert_int_equal(store_load(s, &old, NULL, &err), 0);
	assert_int_equal(store_set_cache_kib(s, 16, NULL), 0); /* 4 pages; the text is ~20 */
	next = state_dup(old);
	add(next, "wg0", "new");
	e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = "wg0" };
	sqlite3_db_status(store_db(s), SQLITE_DBSTATUS_CACHE_SPILL, &spilled, &hi, 1);
	assert_int_equal(state_commit_on(s, &e, next, "test", "edit", &d, &gen, &err), 0);
	assert_int_equal(e.one_peer, 1);
	sqlite3_db_status(store_db(s), SQLITE_DBSTATUS_CACHE_SPILL, &spilled, &hi, 0);
	assert_int_equal(spilled, 0);
	state_free(next);
	state_free(old);
}

/*
 * A state stored without the whole check under the current rules (before
 * an upgrade added one) gets no edit of one peer: the full check runs, and
 * refuses what the new rule refuses; once fixed, edits are fast again.
 */
static void test_commit_peer__old_rules_take_the_full_path(void **x)
{
	struct store *s = *x;
	struct atlas_state *old = base(), *next;
	struct commit_edit e;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	int64_t gen = 0, g0 = 0;

	/* the OpenVPN network over wg0's: a rule the store knows nothing of */
	free(old->openvpn.network);
	old->openvpn.network = xstrdup("10.0.5.0/24");
	assert_int_equal(store_save(s, old, "test", "before the rule", &g0, &err), 0);
	state_free(old);
	assert_int_equal(store_load(s, &old, NULL, &err), 0);
	next = state_dup(old);
	add(next, "wg0", "new");
	e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = "wg0" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "edit", &d, &gen, &err), -1);
	assert_int_equal(e.one_peer, 0);
	assert_non_null(strstr(d.v[0].msg, "overlaps wireguard interface \"wg0\""));
	diags_clear(&d);
	state_free(next);
	/* fixed by a full commit: the next edit of one peer is fast */
	next = state_dup(old);
	free(next->openvpn.network);
	next->openvpn.network = xstrdup("10.9.0.0/24");
	assert_int_equal(state_commit(s, next, NULL, "test", "fix", &d, &g0, &err), 0);
	state_free(old);
	old = next;
	next = state_dup(old);
	add(next, "wg0", "new");
	e = (struct commit_edit){ .old = old, .old_gen = g0, .ifname = "wg0" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "edit", &d, &gen, &err), 0);
	assert_int_equal(e.one_peer, 1);
	state_free(next);
	state_free(old);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_commit_peer__same_as_full),
	cmocka_unit_test_setup_teardown(test_commit_peer__store, tu_store_setup,
					tu_store_teardown),
	cmocka_unit_test_setup_teardown(test_commit_peer__no_spill_in_an_edit, tu_store_setup,
					tu_store_teardown),
	cmocka_unit_test_setup_teardown(test_commit_peer__old_rules_take_the_full_path,
					tu_store_setup, tu_store_teardown))
