/*
 * test_commit_sb.c - the commit of one sing-box user edit in time of that
 * user (state/commit_sb.c): the spliced YAML, users and subscriptions, is
 * byte for byte the whole state's encoding; only-this-user checks still
 * catch a secret or a token far away in the list, with the message the
 * full check words; an edit of more than one user, or of anything else,
 * takes the full path; the store keeps its history exact.
 */
#include "store_fx.h"

#include "state/changes.h"
#include "state/commit.h"
#include "state/schema.h"
#include "state/yaml.h"

/*
 * edge (VLESS) with 300 users u000..u299 and one named '123' (the encoder
 * quotes it), ss (Shadowsocks) with u150 (a person in two inbounds) and z,
 * solo with its one user w, and a WireGuard interface and OpenVPN clients
 * with the same names (lines of the same shape elsewhere).
 */
static struct atlas_state *base(void)
{
	struct buf y = BUF_INIT;
	struct atlas_state *st;

	buf_puts(&y, "version: 1\nsettings: {host: vpn.example.com}\n"
		     "wireguard:\n  interfaces:\n"
		     "  - {name: edge, listen_port: 51820, address: [10.0.0.1/24],"
		     " peers: [{name: u150}, {name: z}]}\n"
		     "openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: u150}, {name: edge}]\n"
		     "singbox:\n  inbounds:\n"
		     "  - name: edge\n    type: vless\n    port: 8443\n    security: none\n"
		     "    users:\n    - {name: '123'}\n");
	for (int i = 0; i < 300; i++)
		buf_printf(&y, "    - {name: u%03d, note: \"n %d\"}\n", i, i);
	buf_puts(&y, "  - {name: ss, type: shadowsocks, port: 8388, users: [{name: u150}, {name: z}]}\n"
		     "  - {name: solo, type: trojan, port: 8444, security: tls, server_name: a.example,"
		     " users: [{name: w}]}\n");
	st = tu_state_checked(y.data);
	buf_release(&y);
	return st;
}

/* The user named name of inbound in of st (must exist). */
static struct sb_user *user(struct atlas_state *st, const char *in, const char *name)
{
	struct sb_user *u = state_sb_user(state_sb_inbound(st, in), name);

	assert_non_null(u);
	return u;
}

static struct sb_user *add(struct atlas_state *st, const char *in, const char *name)
{
	struct sb_inbound *ib = state_sb_inbound(st, in);
	struct sb_user u;

	schema_init(&schema_sb_user, &u);
	u.name = xstrdup(name);
	ib->users = xrealloc(ib->users, (ib->nusers + 1) * sizeof(*ib->users));
	ib->users[ib->nusers++] = u;
	return &ib->users[ib->nusers - 1];
}

static void drop(struct atlas_state *st, const char *in, const char *name)
{
	struct sb_inbound *ib = state_sb_inbound(st, in);
	struct sb_user *u = user(st, in, name);
	size_t i = (size_t)(u - ib->users);

	schema_release(&schema_sb_user, u);
	memmove(u, u + 1, (ib->nusers - i - 1) * sizeof(*u));
	ib->nusers--;
}

static void set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

enum edit { ADD, REMOVE, NOTE, RENAME, UUID_OF, UUID_UPPER, PASSWORD_OF, BAD_UUID, TOKEN_OF, TWO,
	    HOST };

struct edit_case {
	enum edit op;
	const char *in, *name, *arg;
	int want; /* state_check_sb_edit: 1 one user, 0 full path, -1 invalid */
	int subs; /* the subscriptions changed with it: 0 none, 1 added, 2 removed, 3 both */
};

/* next = old edited as c says. */
static void edit(struct atlas_state *next, const struct edit_case *c)
{
	char *up;

	switch (c->op) {
	case ADD:
		add(next, c->in, c->name);
		break;
	case REMOVE:
		drop(next, c->in, c->name);
		break;
	case NOTE:
		set(&user(next, c->in, c->name)->note, c->arg);
		break;
	case RENAME:
		set(&user(next, c->in, c->name)->name, c->arg);
		break;
	case UUID_OF: /* a new user with the uuid of user arg */
		add(next, c->in, c->name)->uuid = xstrdup(user(next, c->in, c->arg)->uuid);
		break;
	case UUID_UPPER: /* the same in capitals: the same UUID */
		up = xstrdup(user(next, c->in, c->arg)->uuid);
		for (char *p = up; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
		add(next, c->in, c->name)->uuid = up;
		break;
	case PASSWORD_OF:
		add(next, c->in, c->name)->password = xstrdup(user(next, c->in, c->arg)->password);
		break;
	case BAD_UUID:
		add(next, c->in, c->name)->uuid = xstrdup(c->arg);
		break;
	case TOKEN_OF: { /* a new person whose subscription has the token of person arg's */
		struct sb_section *sb = &next->singbox;
		struct sb_subscription *s;

		add(next, c->in, c->name);
		sb->subscriptions = xrealloc(sb->subscriptions,
					     (sb->nsubscriptions + 1) * sizeof(*sb->subscriptions));
		s = &sb->subscriptions[sb->nsubscriptions++];
		schema_init(&schema_sb_subscription, s);
		s->name = xstrdup(c->name);
		s->token = xstrdup(state_sb_subscription(next, c->arg)->token);
		break;
	}
	case TWO:
		add(next, c->in, c->name);
		add(next, c->in, c->arg);
		break;
	case HOST:
		add(next, c->in, c->name);
		set(&next->settings.host, c->arg);
		break;
	}
}

static const struct edit_case cases[] = {
	{ ADD, "edge", "a", NULL, 1, 1 },	   /* a new person, before every other user */
	{ ADD, "edge", "u150x", NULL, 1, 1 },	   /* in the middle */
	{ ADD, "edge", "zz", NULL, 1, 1 },	   /* after the last, subscription last too */
	{ ADD, "ss", "u151", NULL, 1, 0 },	   /* a person of edge: no new subscription */
	{ ADD, "edge", "456", NULL, 1, 1 },	   /* a quoted name */
	{ REMOVE, "edge", "123", NULL, 1, 2 },	   /* the first, and their subscription */
	{ REMOVE, "edge", "u150", NULL, 1, 0 },	   /* still in ss: the subscription stays */
	{ REMOVE, "edge", "u299", NULL, 1, 2 },	   /* the last */
	{ NOTE, "edge", "u007", "it's: \"quoted\"\nand two lines", 1, 0 },
	{ RENAME, "edge", "u001", "u298a", 1, 3 }, /* moves far down the list */
	{ RENAME, "ss", "z", "0", 1, 3 },	   /* to the top; z was in no other inbound */
	{ UUID_OF, "edge", "q", "u299", -1, 0 },   /* the last user's uuid */
	{ UUID_UPPER, "edge", "q", "u299", -1, 0 },
	{ UUID_OF, "edge", "0", "u299", -1, 0 },   /* reported on the other user */
	{ PASSWORD_OF, "ss", "q", "z", -1, 0 },
	{ BAD_UUID, "edge", "q", "not-a-uuid", -1, 0 },
	{ TOKEN_OF, "edge", "q", "u299", -1, 0 },  /* a new person with u299's token */
	{ REMOVE, "solo", "w", NULL, -1, 0 },	   /* an inbound's last user */
	{ ADD, "edge", "q!", NULL, -1, 0 },	   /* not a name */
	{ TWO, "edge", "q", "r", 0, 0 },
	{ HOST, "edge", "q", "vpn.example.org", 0, 0 },
};

/* Gives full's user and subscription of u the secrets the fast way made (both random). */
static void same_secrets(struct atlas_state *full, const char *in, const struct sb_user_edit *u)
{
	if (u->un) {
		struct sb_user *fu = user(full, in, u->un->name);

		set(&fu->uuid, u->un->uuid);
		set(&fu->password, u->un->password);
	}
	if (u->sn)
		set(&state_sb_subscription(full, u->sn->name)->token, u->sn->token);
}

/*
 * Each edit checked and encoded the fast way gives what the full way
 * gives: the same verdict and messages, the same YAML.
 */
static void test_commit_sb__same_as_full(void **x)
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
		struct sb_user_edit u;
		int rc, frc;

		edit(next, c);
		full = state_dup(next);
		rc = state_check_sb_edit(next, old, c->in, &u, &d, &err);
		frc = state_check(full, old, NULL, &fd, &ferr);
		if (rc != c->want)
			fail_msg("case %zu: %d, want %d (%s)", i, rc, c->want, err.msg);
		assert_int_equal(frc < 0, rc < 0);
		assert_int_equal(d.n, fd.n);
		for (size_t k = 0; k < d.n; k++)
			assert_string_equal(d.v[k].msg, fd.v[k].msg);
		if (rc == 1) {
			struct buf spliced = BUF_INIT, whole = BUF_INIT;

			if ((u.sn != NULL) + 2 * (u.so != NULL) != c->subs)
				fail_msg("case %zu: subscription added %d, removed %d", i, u.sn != NULL,
					 u.so != NULL);
			assert_int_equal(state_yaml_sb_splice(last.data, last.len, old, next, c->in,
							      &u, &spliced),
					 0);
			state_to_yaml(next, 1, &whole);
			if (strcmp(buf_str(&spliced), buf_str(&whole)))
				fail_msg("case %zu: the spliced YAML differs:\n%s", i,
					 buf_str(&spliced));
			if (spliced.cap != spliced.len + 1)
				fail_msg("case %zu: %zu bytes spliced in a block of %zu", i,
					 spliced.len, spliced.cap);
			/* completed as the full way does (full has secrets of its own) */
			same_secrets(full, c->in, &u);
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
 * one user (added with or without a subscription, removed with or without
 * one, changed, renamed) is one generation whose YAML is what the rows load
 * back as, and the generation before reads back exactly.
 */
static void test_commit_sb__store(void **x)
{
	static const size_t edits[] = { 0, 3, 5, 6, 8, 9, 2 };
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
	edit(next, &cases[11]); /* the last user's uuid */
	e = (struct commit_edit){ .old = old, .old_gen = g0, .inbound = "edge" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "clash", &d, &gen, &err), -1);
	assert_true(d.n > 0);
	assert_non_null(strstr(d.v[0].msg, "uuid is the same as user"));
	diags_clear(&d);
	state_free(next);
	assert_int_equal(store_generation(s), g0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const struct edit_case *c = &cases[edits[i]];

		before = tu_export_secrets(s);
		next = state_dup(old);
		edit(next, c);
		e = (struct commit_edit){ .old = old, .old_gen = g0, .inbound = c->in };
		assert_int_equal(state_commit_on(s, &e, next, "test", "edit", &d, &gen, &err), 0);
		if (e.one_user != 1)
			fail_msg("edit %zu: not the one-user path", i);
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
	/* an edit of two users (the full path) too */
	next = state_dup(old);
	edit(next, &cases[19]);
	e = (struct commit_edit){ .old = old, .old_gen = g0, .inbound = "edge" };
	assert_int_equal(state_commit_on(s, &e, next, "test", "two", &d, &gen, &err), 0);
	assert_int_equal(e.one_user, 0);
	state_free(old);
	old = loaded_as(s, next, &g0);
	state_free(next);
	assert_non_null(state_sb_user(state_sb_inbound(old, "edge"), "a"));
	assert_non_null(state_sb_subscription(old, "a"));
	assert_non_null(state_sb_user(state_sb_inbound(old, "ss"), "u151"));
	assert_null(state_sb_user(state_sb_inbound(old, "edge"), "123"));
	assert_null(state_sb_subscription(old, "123"));
	assert_null(state_sb_user(state_sb_inbound(old, "edge"), "u150"));
	assert_non_null(state_sb_subscription(old, "u150"));
	assert_string_equal(state_sb_user(state_sb_inbound(old, "edge"), "u007")->note, cases[8].arg);
	assert_non_null(state_sb_subscription(old, "u298a"));
	assert_null(state_sb_subscription(old, "u001"));
	assert_non_null(state_sb_subscription(old, "zz"));
	state_free(old);
	buf_release_secure(&g);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_commit_sb__same_as_full),
	cmocka_unit_test_setup_teardown(test_commit_sb__store, tu_store_setup, tu_store_teardown))
