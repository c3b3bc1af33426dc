/*
 * test_wg_diff.c - the WireGuard diff (pure): sort-merge by public key,
 * explicit clears, no no-op writes, disabled and expired peers absent,
 * foreign peers removed, nothing removed from an interface that could not
 * be read, listen port never re-sent. The parsers feeding it are in
 * test_wg_parse.c.
 */
#include "testutil.h"
#include "controller/wireguard/wg.h"
#include "renderers/wireguard/wg_render.h"
#include "state/usage.h"
#include "wg_fx.h"

/* The state's text up to wg0's peers (base_yaml and big_iface go on from it). */
#define WG0_HEAD                                                                                   \
	"version: 1\n"                                                                             \
	"settings: {host: vpn.example.com, egress_interface: eth0}\n"                              \
	"wireguard:\n"                                                                             \
	"  interfaces:\n"                                                                          \
	"    - name: wg0\n"                                                                        \
	"      listen_port: 51820\n"                                                               \
	"      address: [10.8.0.1/24]\n"                                                           \
	"      private_key: " PRIV "\n"                                                            \
	"      public_key: " PUB "\n"                                                              \
	"      peers:\n"

static const char base_yaml[] =
	WG0_HEAD
	"        - {name: alice, address: [10.8.0.2/32], keepalive: 25, public_key: " ALICE
	", preshared_key: " ALICE_PSK "}\n"
	"        - {name: bob, address: [10.8.0.3/32], public_key: " BOB "}\n"
	"        - {name: carol, address: [10.8.0.4/32], expires: 2020-01-01, public_key: " CAROL
	"}\n"
	"        - {name: dave, address: [10.8.0.5/32], disabled: true, public_key: " DAVE "}\n";

struct fx {
	struct atlas_state *st;
	struct wg_obs obs;
	struct driver_ctx ctx;
	struct plan plan;
};

/* An observation in which wg0 is exactly as desired (record, NAT, forwarding). */
static void fx_init(struct fx *f, const char *yaml, const char *dump)
{
	struct wg_obs_iface *oi;
	struct nat_net net = { "10.8.0.0/24", 0, "wg0" };
	struct buf script = BUF_INIT;
	struct atlas_err err = { 0 };
	const char *table;

	memset(f, 0, sizeof(*f));
	f->st = tu_state(yaml);
	assert_non_null(f->st);
	f->ctx.datadir = "/var/lib/atlas";
	f->ctx.rundir = "/var/lib/atlas/run";
	f->ctx.now = TU_NOW;
	f->obs.confdir = xstrdup("/var/lib/atlas/wireguard");
	f->obs.ifaces = xcalloc(1, sizeof(*f->obs.ifaces));
	f->obs.n = 1;
	oi = &f->obs.ifaces[0];
	oi->name = xstrdup("wg0");
	oi->exists = oi->readable = oi->up = oi->recorded = 1;
	oi->mtu = 1420;
	strv_push(&oi->addresses, "10.8.0.1/24");
	{
		char *t = xstrdup(dump);

		assert_int_equal(wg_parse_dump(t, oi, &err), 0);
		free(t);
	}
	render_wg_server(state_wg_iface(f->st, "wg0"), TU_NOW, &oi->conf);
	f->obs.forward4 = 1;
	f->obs.forward6 = 0;
	assert_int_equal(nat_render(WG_NAT_TABLE, &net, 1, "eth0", &script, &err), 0);
	table = strchr(strchr(script.data, '\n') + 1, '\n') + 1;
	f->obs.nat.readable = f->obs.nat.exists = 1;
	buf_puts(&f->obs.nat.listing, table);
	buf_release(&script);
	plan_init(&f->plan);
}

static void fx_diff(struct fx *f)
{
	struct atlas_err err = { 0 };

	assert_int_equal(wg_diff(&f->ctx, f->st, &f->obs, &f->plan, &err), 0);
}

static void fx_release(struct fx *f)
{
	struct wg_obs *o = xcalloc(1, sizeof(*o));

	*o = f->obs;
	wg_obs_free(o);
	state_free(f->st);
	plan_release(&f->plan);
}

static const struct wg_act *act(const struct fx *f, size_t i)
{
	assert_true(i < f->plan.n);
	return f->plan.v[i].data;
}

/* The public key of action i, as apply() sends it. */
static const char *act_key(const struct fx *f, size_t i)
{
	static char key[KEY_B64];

	wg_act_key(act(f, i), key);
	return key;
}

/* The PSK action i sets ("" for none), as apply() sends it. */
static const char *act_psk(const struct fx *f, size_t i)
{
	static char psk[KEY_B64];

	wg_act_psk(act(f, i), psk);
	return psk;
}

static void dump_plan(const struct fx *f)
{
	for (size_t i = 0; i < f->plan.n; i++)
		fprintf(stderr, "  plan: %s\n", f->plan.v[i].text);
}

/* The dump with one peer line edited: field k of the line of key replaced by v. */
static char *dump_with(const char *key, int k, const char *v)
{
	struct buf out = BUF_INIT;
	struct strv lines = STRV_INIT;

	strv_split(&lines, base_dump, '\n');
	for (size_t i = 0; i < lines.n; i++) {
		struct strv f = STRV_INIT;

		strv_split(&f, lines.v[i], '\t');
		if (!strcmp(f.v[0], key)) {
			free(f.v[k]);
			f.v[k] = xstrdup(v);
		}
		for (size_t j = 0; j < f.n; j++)
			buf_printf(&out, "%s%s", j ? "\t" : "", f.v[j]);
		buf_putc(&out, '\n');
		strv_clear(&f);
	}
	strv_clear(&lines);
	return buf_detach(&out);
}

/* fx_init, fx_diff, and the plan on stderr (what a failing case shows). */
static void fx_run(struct fx *f, const char *yaml, const char *dump)
{
	fx_init(f, yaml, dump);
	fx_diff(f);
	dump_plan(f);
}

/* fx_run on base_yaml and base_dump with field k of key's line set to v. */
static void fx_run_edited(struct fx *f, const char *key, int k, const char *v)
{
	char *dump = dump_with(key, k, v);

	fx_run(f, base_yaml, dump);
	free(dump);
}

/* In sync: carol (expired) and dave (disabled) are absent, as they should be. */
static void test_wg_diff__converged_is_empty(void **state)
{
	struct fx f;

	(void)state;
	fx_run(&f, base_yaml, base_dump);
	assert_int_equal(f.plan.n, 0);
	fx_release(&f);
}

/*
 * A peer over quota is planned off the interface with the reason (its
 * desired state untouched); the next period it is no longer suspended and
 * the converged interface stays as it is.
 */
static void test_wg_diff__quota_suspends_with_reason(void **state)
{
	struct usage_entry e = { "wireguard", "wg0/alice" };
	struct usage_view u = { &e, 1 };
	struct wg_peer *alice;
	struct fx f;
	size_t found = 0;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	alice = state_wg_peer(state_wg_iface(f.st, "wg0"), "alice");
	alice->quota = xstrdup("2MiB");
	e.period_start = usage_period_start(TU_NOW, QUOTA_MONTHLY, 1);
	e.period_rx = 1048576;
	e.period_tx = 2 * 1048576;
	assert_int_equal(usage_suspend(f.st, &u, TU_NOW), 1);
	fx_diff(&f);
	dump_plan(&f);
	for (size_t i = 0; i < f.plan.n; i++)
		if (!strcmp(f.plan.v[i].text,
			    "- wireguard/wg0 peer alice: quota 2 MiB used (3 MiB since 1 Jan)")) {
			assert_int_equal(act(&f, i)->type, WG_PEER_REMOVE);
			found++;
		} else {
			assert_null(strstr(f.plan.v[i].text, "bob"));
		}
	assert_int_equal(found, 1);
	plan_release(&f.plan);
	/* February: a new period, nothing suspended, nothing to change */
	f.ctx.now = TU_NOW + 31 * 86400;
	assert_int_equal(usage_suspend(f.st, &u, f.ctx.now), 0);
	assert_null(alice->suspended);
	fx_diff(&f);
	dump_plan(&f);
	for (size_t i = 0; i < f.plan.n; i++)
		assert_null(strstr(f.plan.v[i].text, "alice"));
	fx_release(&f);
}

/*
 * One peer field edited in the dump: exactly one action that sets it back
 * (the record is unchanged: only the peer), checked as far as a row says.
 */
struct edit_case {
	const char *key;	/* the peer's line */
	int k;			/* the field */
	const char *v;		/* its value in the dump */
	int set;		/* WG_SET_* / WG_CLEAR_* of the action */
	int update;		/* the action is a WG_PEER_UPDATE of key, keepalive off */
	const char *psk;	/* the action's psk, when not NULL */
	const char *allowed;	/* its only allowed IP, when not NULL */
	const char *has, *lacks; /* in the plan's text, when not NULL */
};

static const struct edit_case keepalive_removed = {
	BOB, 7, "25", WG_SET_KEEPALIVE, 1, NULL, NULL, "keepalive 25 -> off", NULL,
};
/* The plan text never shows a key. */
static const struct edit_case psk_removed = {
	BOB, 1, ALICE_PSK, WG_CLEAR_PSK, 0, "", NULL, NULL, ALICE_PSK,
};
static const struct edit_case psk_changed = {
	ALICE, 1, "(none)", WG_SET_PSK, 0, ALICE_PSK, NULL, NULL, NULL,
};
static const struct edit_case allowed_changed = {
	ALICE, 3, "10.8.0.2/32,10.9.0.0/24", WG_SET_ALLOWED, 0, NULL, "10.8.0.2/32", NULL, NULL,
};

static void test_wg_diff__one_edit(void **state)
{
	const struct edit_case *c = *state;
	struct fx f;

	fx_run_edited(&f, c->key, c->k, c->v);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->set, c->set);
	if (c->update) {
		assert_int_equal(act(&f, 0)->type, WG_PEER_UPDATE);
		assert_int_equal(wg_act_keepalive(act(&f, 0)), 0);
		assert_string_equal(act_key(&f, 0), c->key);
	}
	if (c->psk)
		assert_string_equal(act_psk(&f, 0), c->psk);
	if (c->allowed) {
		assert_int_equal(act(&f, 0)->allowed->n, 1);
		assert_string_equal(act(&f, 0)->allowed->v[0], c->allowed);
	}
	if (c->has)
		TU_HAS(f.plan.v[0].text, c->has);
	if (c->lacks)
		TU_LACKS(f.plan.v[0].text, c->lacks);
	fx_release(&f);
}

/* Same set, other order and a host-bits form: no write. */
static void test_wg_diff__allowed_ips_normalised(void **state)
{
	static const char yaml[] =
		"version: 1\nsettings: {host: vpn.example.com, egress_interface: eth0}\n"
		"wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
		"      address: [10.8.0.1/24]\n      private_key: " PRIV "\n      public_key: " PUB
		"\n      peers:\n"
		"        - {name: bob, address: [10.8.0.3/32, fd00::3/128], public_key: " BOB "}\n";
	static const char dump[] = PRIV "\t" PUB "\t51820\toff\n" BOB
		"\t(none)\t(none)\tfd00::3/128,10.8.0.3/32\t0\t0\t0\toff\n";
	struct fx f;

	(void)state;
	fx_init(&f, yaml, dump);
	f.obs.ifaces[0].recorded = 0;
	fx_diff(&f);
	dump_plan(&f);
	/* Exactly the missing record: bob is neither updated nor removed and re-added. */
	assert_int_equal(f.plan.n, 1);
	assert_string_equal(f.plan.v[0].text, "+ wireguard/wg0 record wg0.conf (missing)");
	fx_release(&f);
}

/*
 * A desired peer whose addresses are already in wg's form is compared as it
 * is; any other list (unsorted, repeated, host bits set) is normalised
 * first: either way, a peer as desired gets no update.
 */
static void test_wg_diff__allowed_ips_own_list_or_copy(void **state)
{
	static const struct {
		const char *want, *seen, *update;	/* update NULL: none */
	} cases[] = {
		{ "10.8.0.3/32", "10.8.0.3/32", NULL },
		{ "10.8.0.3/32, 10.8.0.2/32", "10.8.0.3/32,10.8.0.2/32", NULL },
		{ "10.8.0.3/32, 10.8.0.3/32", "10.8.0.3/32", NULL },
		{ "10.9.0.7/24, 10.8.0.3/32", "10.9.0.0/24,10.8.0.3/32", NULL },
		{ "10.8.0.3/32, 10.8.0.2/32", "10.8.0.3/32",
		  "~ wireguard/wg0 peer bob: allowed ips 10.8.0.3/32 -> 10.8.0.2/32, 10.8.0.3/32" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *yaml = xasprintf(
			"version: 1\nsettings: {host: vpn.example.com, egress_interface: eth0}\n"
			"wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
			"      address: [10.8.0.1/24]\n      private_key: " PRIV
			"\n      public_key: " PUB "\n      peers:\n"
			"        - {name: bob, address: [%s], public_key: " BOB "}\n",
			cases[i].want);
		char *dump = xasprintf(PRIV "\t" PUB "\t51820\toff\n" BOB
					    "\t(none)\t(none)\t%s\t0\t0\t0\toff\n",
				       cases[i].seen);
		struct fx f;

		fx_init(&f, yaml, dump);
		fx_diff(&f);
		dump_plan(&f);
		if (f.plan.n != (cases[i].update ? 1u : 0u) ||
		    (cases[i].update && strcmp(f.plan.v[0].text, cases[i].update)))
			fail_msg("case %zu (%s): %zu actions", i, cases[i].want, f.plan.n);
		fx_release(&f);
		free(yaml);
		free(dump);
	}
}

/* The action of resource res in f's plan. */
static const struct wg_act *act_of(const struct fx *f, const char *res)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (!strcmp(f->plan.v[i].resource, res))
			return f->plan.v[i].data;
	fail_msg("no action on %s", res);
	return NULL;
}

/*
 * An action points into the desired state it was planned from (the peer,
 * the interface's name, the peer's addresses when already in wg's form)
 * instead of copying them: one small block a step. A list that had to be
 * normalised is the action's own; an interface only observed keeps its name
 * past the observation.
 */
static void test_wg_diff__actions_point_into_the_state(void **state)
{
	struct wg_iface *ifc;
	const struct wg_act *a;
	struct wg_obs *o;
	struct wg_peer *bob;
	struct fx f;

	(void)state;
	assert_true(sizeof(struct wg_act) <= 64);
	fx_init(&f, base_yaml, PRIV "\t" PUB "\t51820\toff\n");	/* no peer on wg0 */
	ifc = state_wg_iface(f.st, "wg0");
	bob = &ifc->peers[1];
	assert_string_equal(bob->name, "bob");
	strv_clear(&bob->address);
	strv_push(&bob->address, "10.8.0.9/32");
	strv_push(&bob->address, "10.8.0.3/32");	/* unsorted: normalised */
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 2);
	a = act_of(&f, "wg0/alice");
	assert_ptr_equal(a->peer, &ifc->peers[0]);
	assert_ptr_equal(a->iface, ifc->name);
	assert_ptr_equal(a->allowed, &ifc->peers[0].address);
	assert_null(a->own);
	a = act_of(&f, "wg0/bob");
	assert_ptr_equal(a->peer, bob);
	assert_non_null(a->own);
	assert_ptr_equal(a->allowed, a->own);
	assert_int_equal(a->allowed->n, 2);
	assert_string_equal(a->allowed->v[0], "10.8.0.3/32");
	assert_string_equal(a->allowed->v[1], "10.8.0.9/32");
	assert_string_equal(act_key(&f, 1), BOB);
	fx_release(&f);

	fx_init(&f, base_yaml, base_dump);
	free(f.obs.ifaces[0].name);
	f.obs.ifaces[0].name = xstrdup("wg9");	/* recorded, no longer desired */
	fx_diff(&f);
	o = xcalloc(1, sizeof(*o));
	*o = f.obs;
	wg_obs_free(o);		/* the observation goes before the plan is applied */
	memset(&f.obs, 0, sizeof(f.obs));
	assert_int_equal(act(&f, 0)->type, WG_IF_DELETE);
	assert_ptr_equal(act(&f, 0)->iface, act(&f, 0)->name);
	assert_string_equal(act(&f, 0)->iface, "wg9");
	fx_release(&f);
}

static void test_wg_diff__disabled_and_expired_removed(void **state)
{
	struct buf dump = BUF_INIT;
	struct fx f;

	(void)state;
	buf_printf(&dump, "%s%s\t(none)\t(none)\t10.8.0.4/32\t0\t0\t0\toff\n"
			  "%s\t(none)\t(none)\t10.8.0.5/32\t0\t0\t0\toff\n",
		   base_dump, CAROL, DAVE);
	fx_run(&f, base_yaml, dump.data);
	assert_int_equal(f.plan.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(act(&f, i)->type, WG_PEER_REMOVE);
	/* Sorted by key: dave's "/7p" sorts before carol's "PX8". */
	assert_string_equal(f.plan.v[0].text, "- wireguard/wg0 peer dave (disabled)");
	assert_string_equal(f.plan.v[1].text, "- wireguard/wg0 peer carol (expired)");
	fx_release(&f);
	buf_release(&dump);
}

static void test_wg_diff__foreign_peer_removed(void **state)
{
	struct buf dump = BUF_INIT;
	struct fx f;

	(void)state;
	buf_printf(&dump, "%s%s\t(none)\t(none)\t10.8.0.66/32\t0\t0\t0\toff\n", base_dump, FOREIGN);
	fx_run(&f, base_yaml, dump.data);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_PEER_REMOVE);
	assert_string_equal(act_key(&f, 0), FOREIGN);
	assert_non_null(strstr(f.plan.v[0].text, "foreign peer " FOREIGN));
	fx_release(&f);
	buf_release(&dump);
}

/* A peer dropped from the desired state is named from the record file. */
static void test_wg_diff__removed_peer_named_from_record(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	/* bob leaves the desired state; the record still lists him. */
	state_wg_iface(f.st, "wg0")->peers[1].disabled = 0;
	key_wipe(&state_wg_iface(f.st, "wg0")->peers[1].public_key);
	fx_diff(&f);
	dump_plan(&f);
	/* the record's rewrite goes with the change: no line of its own */
	assert_string_equal(f.plan.v[0].text, "- wireguard/wg0 peer bob (removed from the desired state)");
	for (size_t i = 0; i < f.plan.n; i++)
		assert_int_not_equal(act(&f, i)->type, WG_CONF_WRITE);
	fx_release(&f);
}

/*
 * The record (DATADIR/wireguard/IF.conf) is not a change a user asked for:
 * it has a line of its own only when it alone differs.
 */
static void test_wg_diff__record_line_only_when_alone(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	buf_reset(&f.obs.ifaces[0].conf);
	buf_puts(&f.obs.ifaces[0].conf, "edited by hand\n");
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_CONF_WRITE);
	assert_string_equal(f.plan.v[0].text, "~ wireguard/wg0 record wg0.conf (out of date)");
	fx_release(&f);
	/* the same stale record with a peer to add: only the peer is listed */
	fx_init(&f, base_yaml, base_dump);
	buf_reset(&f.obs.ifaces[0].conf);
	state_wg_iface(f.st, "wg0")->peers[3].disabled = 0;	/* dave comes back */
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 1);
	assert_string_equal(f.plan.v[0].text, "+ wireguard/wg0 peer dave (10.8.0.5/32)");
	fx_release(&f);
}

/* A state of n peers on wg0 and the dump of a device holding exactly them (new texts). */
static void big_iface(size_t n, char **yaml, char **dump)
{
	struct buf y = BUF_INIT, d = BUF_INIT;

	buf_puts(&y, WG0_HEAD);
	buf_puts(&d, PRIV "\t" PUB "\t51820\toff\n");
	for (size_t i = 0; i < n; i++) {
		struct wg_key k = { .b = { 7, (unsigned char)(i >> 8), (unsigned char)i },
				    .set = KEY_SET };
		char key[KEY_B64];

		key_text(&k, key);
		buf_printf(&y,
			   "        - {name: peer-with-a-long-name-%zu, "
			   "address: [10.9.%zu.%zu/32], public_key: %s}\n",
			   i, i / 250, i % 250 + 1, key);
		buf_printf(&d, "%s\t(none)\t(none)\t10.9.%zu.%zu/32\t0\t0\t0\toff\n", key, i / 250,
			   i % 250 + 1);
	}
	*yaml = buf_detach(&y);
	*dump = buf_detach(&d);
}

/*
 * The record is compared with the render a piece at a time: a record of
 * many pieces that matches is no change; one that differs in a later piece,
 * is one byte short or one byte long is out of date.
 */
static void test_wg_diff__record_compared_in_pieces(void **state)
{
	char *yaml, *dump;
	struct fx f;

	(void)state;
	big_iface(2000, &yaml, &dump);
	fx_run(&f, yaml, dump);
	assert_true(f.obs.ifaces[0].conf.len > 3 * RENDER_PIECE);
	assert_int_equal(f.plan.n, 0);
	fx_release(&f);
	for (int how = 0; how < 3; how++) {
		struct buf *conf;

		fx_init(&f, yaml, dump);
		conf = &f.obs.ifaces[0].conf;
		if (how == 0)
			conf->data[conf->len - 10] ^= 1;	/* in the last piece */
		else if (how == 1)
			conf->data[--conf->len] = '\0';	/* one byte short */
		else
			buf_putc(conf, '\n');			/* one byte long */
		fx_diff(&f);
		dump_plan(&f);
		assert_int_equal(f.plan.n, 1);
		assert_int_equal(act(&f, 0)->type, WG_CONF_WRITE);
		fx_release(&f);
	}
	free(yaml);
	free(dump);
}

static void test_wg_diff__missing_peer_created(void **state)
{
	char *dump = xstrdup(base_dump);
	struct fx f;

	(void)state;
	*strstr(dump, ALICE) = '\0';	/* alice's line gone */
	fx_run(&f, base_yaml, dump);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_PEER_CREATE);
	assert_int_equal(act(&f, 0)->set, WG_SET_ALLOWED | WG_SET_PSK | WG_SET_KEEPALIVE);
	assert_string_equal(act_psk(&f, 0), ALICE_PSK);
	assert_string_equal(f.plan.v[0].text, "+ wireguard/wg0 peer alice (10.8.0.2/32)");
	fx_release(&f);
	free(dump);
}

/* The interface cannot be read: nothing is removed, the engine is incomplete. */
static void test_wg_diff__incomplete_removes_nothing(void **state)
{
	struct buf dump = BUF_INIT;
	struct fx f;

	(void)state;
	buf_printf(&dump, "%s%s\t(none)\t(none)\t10.8.0.66/32\t0\t0\t0\toff\n", base_dump, FOREIGN);
	fx_init(&f, base_yaml, dump.data);
	f.obs.ifaces[0].readable = 0;
	f.obs.ifaces[0].recorded = 0;
	buf_reset(&f.obs.ifaces[0].conf);
	f.obs.ifaces[0].error = xstrdup("wg show wg0 dump failed: timeout");
	fx_diff(&f);
	dump_plan(&f);
	for (size_t i = 0; i < f.plan.n; i++)
		assert_true(f.plan.v[i].kind != ACT_DELETE && f.plan.v[i].kind != ACT_STOP);
	assert_int_equal(f.plan.n, 0);	/* not even the record: it may not be Atlas's */
	assert_int_equal(f.plan.engines[0].status, ENGINE_INCOMPLETE);
	assert_non_null(strstr(f.plan.engines[0].note, "timeout"));
	fx_release(&f);
	buf_release(&dump);
}

/* Peer changes never carry the listen port; a changed port is one action. */
static void test_wg_diff__listen_port_not_resent(void **state)
{
	struct fx f;
	char *dump;

	(void)state;
	fx_run_edited(&f, ALICE, 3, "10.8.0.9/32");
	/* Exactly one peer update of alice's allowed IPs, no port and no re-add. */
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_PEER_UPDATE);
	assert_int_equal(act(&f, 0)->set, WG_SET_ALLOWED);
	assert_string_equal(act_key(&f, 0), ALICE);
	fx_release(&f);
	dump = xstrdup(base_dump);
	memcpy(strstr(dump, "51820"), "51821", 5);
	fx_run(&f, base_yaml, dump);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_IF_PORT);
	assert_int_equal(act(&f, 0)->port, 51820);
	fx_release(&f);
	free(dump);
}

/* Removals, then updates, then additions (an address freed can be reused). */
static void test_wg_diff__order(void **state)
{
	struct buf dump = BUF_INIT;
	struct fx f;

	(void)state;
	buf_printf(&dump, PRIV "\t" PUB "\t51820\toff\n"
			  BOB "\t(none)\t(none)\t10.8.0.3/32\t0\t0\t0\t5\n"
			  FOREIGN "\t(none)\t(none)\t10.8.0.2/32\t0\t0\t0\toff\n");
	fx_run(&f, base_yaml, dump.data);
	assert_int_equal(f.plan.n, 3);
	assert_int_equal(act(&f, 0)->type, WG_PEER_REMOVE);
	assert_int_equal(act(&f, 1)->type, WG_PEER_UPDATE);
	assert_int_equal(act(&f, 2)->type, WG_PEER_CREATE);
	fx_release(&f);
	buf_release(&dump);
}

static void test_wg_diff__interface_missing(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	wg_obs_iface_release(&f.obs.ifaces[0]);
	f.obs.ifaces[0].name = xstrdup("wg0");
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 3);
	assert_int_equal(act(&f, 0)->type, WG_IF_CREATE);
	assert_int_equal(act(&f, 1)->type, WG_PEER_CREATE);
	assert_int_equal(act(&f, 2)->type, WG_PEER_CREATE);
	fx_release(&f);
}

/* New peers are planned by name, whatever the order of their keys. */
static void test_wg_diff__new_peers_by_name(void **state)
{
	struct buf yaml = BUF_INIT;
	struct fx f;

	(void)state;
	/* zoe has the smaller key (ALICE), adam the larger (BOB) */
	buf_printf(&yaml, "version: 1\nsettings: {host: vpn.example.com}\nwireguard:\n"
			  "  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
			  "      address: [10.8.0.1/24]\n      private_key: " PRIV "\n"
			  "      public_key: " PUB "\n      peers:\n"
			  "        - {name: zoe, address: [10.8.0.2/32], public_key: " ALICE "}\n"
			  "        - {name: adam, address: [10.8.0.3/32], public_key: " BOB "}\n"
			  "        - {name: mia, address: [10.8.0.4/32], public_key: " CAROL "}\n");
	fx_run(&f, yaml.data, PRIV "\t" PUB "\t51820\toff\n");
	assert_true(f.plan.n >= 3);
	assert_string_equal(f.plan.v[0].resource, "wg0/adam");
	assert_string_equal(f.plan.v[1].resource, "wg0/mia");
	assert_string_equal(f.plan.v[2].resource, "wg0/zoe");
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(act(&f, i)->type, WG_PEER_CREATE);
	fx_release(&f);
	buf_release(&yaml);
}

/* Disabled interface: deleted only when Atlas recorded it as its own. */
static void test_wg_diff__disabled_interface(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	state_wg_iface(f.st, "wg0")->disabled = 1;
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 2);
	assert_int_equal(act(&f, 0)->type, WG_IF_DELETE);
	assert_int_equal(f.plan.v[0].drops, 2);
	assert_int_equal(act(&f, 1)->type, WG_NAT_DELETE);
	fx_release(&f);
	fx_init(&f, base_yaml, base_dump);
	f.st->wireguard.enabled = 0;
	f.obs.ifaces[0].recorded = 0;	/* someone else's wg0 */
	fx_diff(&f);
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(act(&f, 0)->type, WG_NAT_DELETE);
	fx_release(&f);
}

static void test_wg_diff__forwarding_and_nat(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, base_yaml, base_dump);
	f.obs.forward4 = 0;
	buf_reset(&f.obs.nat.listing);
	f.obs.nat.exists = 0;
	fx_diff(&f);
	dump_plan(&f);
	assert_int_equal(f.plan.n, 2);
	assert_int_equal(act(&f, 0)->type, WG_FORWARD);
	assert_int_equal(act(&f, 0)->port, 4);
	assert_int_equal(act(&f, 1)->type, WG_NAT_REPLACE);
	TU_HAS(act(&f, 1)->text, "ip saddr 10.8.0.0/24 oifname \"eth0\" masquerade",
	       "delete table inet atlas_wireguard\n");
	fx_release(&f);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_wg_diff__quota_suspends_with_reason),
	cmocka_unit_test(test_wg_diff__converged_is_empty),
	{ "test_wg_diff__keepalive_removed_is_explicit_clear", test_wg_diff__one_edit, NULL, NULL,
	  (void *)&keepalive_removed },
	{ "test_wg_diff__psk_removed_is_explicit_clear", test_wg_diff__one_edit, NULL, NULL,
	  (void *)&psk_removed },
	{ "test_wg_diff__psk_changed_and_set", test_wg_diff__one_edit, NULL, NULL,
	  (void *)&psk_changed },
	{ "test_wg_diff__allowed_ips_changed", test_wg_diff__one_edit, NULL, NULL,
	  (void *)&allowed_changed },
	cmocka_unit_test(test_wg_diff__allowed_ips_normalised),
	cmocka_unit_test(test_wg_diff__allowed_ips_own_list_or_copy),
	cmocka_unit_test(test_wg_diff__actions_point_into_the_state),
	cmocka_unit_test(test_wg_diff__disabled_and_expired_removed),
	cmocka_unit_test(test_wg_diff__foreign_peer_removed),
	cmocka_unit_test(test_wg_diff__removed_peer_named_from_record),
	cmocka_unit_test(test_wg_diff__missing_peer_created),
	cmocka_unit_test(test_wg_diff__incomplete_removes_nothing),
	cmocka_unit_test(test_wg_diff__listen_port_not_resent),
	cmocka_unit_test(test_wg_diff__order),
	cmocka_unit_test(test_wg_diff__new_peers_by_name),
	cmocka_unit_test(test_wg_diff__record_line_only_when_alone),
	cmocka_unit_test(test_wg_diff__record_compared_in_pieces),
	cmocka_unit_test(test_wg_diff__interface_missing),
	cmocka_unit_test(test_wg_diff__disabled_interface),
	cmocka_unit_test(test_wg_diff__forwarding_and_nat))
