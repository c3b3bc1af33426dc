/*
 * test_sb_diff.c - the pure diff of the sing-box driver on hand-made
 * observations: a reload only when config.json differs, and its line says how
 * many connections of how many users it drops; Shadowsocks users added,
 * rekeyed and removed live; connections of removed or disabled users closed
 * only when no reload cuts them; an incomplete observation removes nothing.
 */
#include "testutil.h"

#include "controller/singbox/sb.h"
#include "state/complete.h"
#include "state/yaml.h"

static const char yaml[] =
	"version: 1\nsettings: {host: vpn.example.com}\nsingbox:\n  inbounds:\n"
	"    - {name: edge, type: vless, port: 443, security: none,\n"
	"       users: [{name: alice}, {name: bob}]}\n"
	"    - name: ss\n      type: shadowsocks\n      port: 8388\n      users:\n"
	"        - {name: alice, password: AAAAAAAAAAAAAAAAAAAAAA==}\n"
	"        - {name: carol, password: BBBBBBBBBBBBBBBBBBBBBA==}\n"
	"        - {name: dave, password: CCCCCCCCCCCCCCCCCCCCCA==, disabled: true}\n";

static struct atlas_state *load(void)
{
	struct diags d = { 0 };
	struct atlas_state *st = tu_state(yaml);

	assert_int_equal(state_complete(st, NULL, &d, NULL), 0);
	diags_clear(&d);
	return st;
}

static void ctx_init(struct driver_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->datadir = "/var/lib/atlas-unit";
	ctx->rundir = "/var/lib/atlas-unit/run";
	ctx->service_mode = SERVICE_DIRECT;
	ctx->now = 1767225600; /* 2026-01-01 */
}

static void conn(struct sb_obs *o, const char *id, const char *inbound, const char *user)
{
	struct sb_conn *c;

	c = TU_PUSH(o->conns.v, o->conns.n);
	c->id = xstrdup(id);
	c->inbound = xstrdup(inbound);
	c->inbound_type = xstrdup("");
	c->user = xstrdup(user);
	c->network = xstrdup("tcp");
	c->source = xstrdup("10.0.0.2:5000");
	c->destination = xstrdup("1.1.1.1:80");
}

static void ssm_user(struct sb_ssm_obs *so, const char *name, const char *key)
{
	struct sb_ssm_user *u;

	u = TU_PUSH(so->users.v, so->users.n);
	u->name = xstrdup(name);
	u->key = xstrdup(key);
}

/* A running sing-box with the current config and SSM users alice and carol. */
static struct sb_obs *converged(const struct driver_ctx *ctx, const struct atlas_state *st)
{
	struct sb_obs *o = xcalloc(1, sizeof(*o));
	struct buf b = BUF_INIT;

	assert_int_equal(sb_render_conf(ctx, st, &b, NULL), 0);
	o->section = 1;
	o->conf = buf_detach(&b);
	o->running = 1;
	o->pid = 42;
	o->conns_known = 1;
	o->ssm = xcalloc(2, sizeof(*o->ssm));
	o->nssm = 1;
	o->ssm[0].inbound = xstrdup("ss");
	o->ssm[0].known = 1;
	ssm_user(&o->ssm[0], "alice", "AAAAAAAAAAAAAAAAAAAAAA==");
	ssm_user(&o->ssm[0], "carol", "BBBBBBBBBBBBBBBBBBBBBA==");
	return o;
}

static char *plan_text(const struct driver_ctx *ctx, const struct atlas_state *st,
		       const struct sb_obs *o, size_t *n)
{
	struct buf b = BUF_INIT;
	struct plan p;

	plan_init(&p);
	plan_engine(&p, "singbox", ENGINE_OK, NULL);
	assert_int_equal(sb_diff(ctx, st, o, &p, NULL), 0);
	plan_render_text(&p, &b);
	*n = p.n;
	plan_release(&p);
	return buf_detach(&b);
}

/* The test state, a driver context and an observation of a server that matches it. */
struct fx {
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct sb_obs *o;
	char *t;	/* the last diff()'s plan text */
	size_t n;	/* and its number of actions */
};

static int converged_setup(void **s)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->st = load();
	ctx_init(&f->ctx);
	f->o = converged(&f->ctx, f->st);
	*s = f;
	return 0;
}

static int converged_teardown(void **s)
{
	struct fx *f = *s;

	free(f->t);
	sb_obs_free(f->o);
	state_free(f->st);
	free(f);
	return 0;
}

/* The plan of f->st against f->o: its text (f's, freed with the next diff) and f->n. */
static const char *diff(struct fx *f)
{
	free(f->t);
	f->t = plan_text(&f->ctx, f->st, f->o, &f->n);
	return f->t;
}

/* A case that starts from converged_setup's state and observation. */
#define CONVERGED_TEST(c) cmocka_unit_test_setup_teardown(c, converged_setup, converged_teardown)

static void test_sb_diff__converged_is_empty(void **s)
{
	struct fx *f = *s;

	conn(f->o, "c1", "edge", "alice");
	conn(f->o, "c2", "ss", "carol");
	diff(f);
	assert_int_equal(f->n, 0);
}

static void test_sb_diff__reload_says_what_it_drops(void **s)
{
	struct fx *f = *s;
	const char *t;

	conn(f->o, "c1", "edge", "alice");
	conn(f->o, "c2", "edge", "alice");
	conn(f->o, "c3", "ss", "carol");
	f->o->conf[5] = 'X'; /* the file on disk differs */
	t = diff(f);
	assert_int_equal(f->n, 1);
	TU_HAS(t, "~ singbox reload: drops 3 connections of 2 users\n", "drops 3 sessions");
}

/* Its plan: alice added, carol's new key, mallory and dave removed, dave's connection cut. */
static void ssm_plan_has(const char *t)
{
	TU_HAS(t, "+ singbox/ss user alice (live, no reload)\n",
	       "~ singbox/ss user carol: new key (live, no reload)\n",
	       "- singbox/ss user mallory (not in the desired state; live, no reload)\n",
	       "- singbox/ss user dave (disabled; live, no reload)\n",
	       "x singbox/ss/dave connection c9 to 1.1.1.1:80 (disabled)\n");
}

static void test_sb_diff__shadowsocks_users_live(void **s)
{
	struct fx *f = *s;
	const char *t;

	/* SSM has a stranger and a wrong key for carol, lacks alice */
	free(f->o->ssm[0].users.v[0].name);
	f->o->ssm[0].users.v[0].name = xstrdup("mallory");
	free(f->o->ssm[0].users.v[1].key);
	f->o->ssm[0].users.v[1].key = xstrdup("DDDDDDDDDDDDDDDDDDDDDA==");
	ssm_user(&f->o->ssm[0], "dave", "CCCCCCCCCCCCCCCCCCCCCA==");
	conn(f->o, "c9", "ss", "dave");
	t = diff(f);
	assert_null(strstr(t, "~ singbox reload"));
	ssm_plan_has(t);
	assert_int_equal(f->n, 5);

	/* the desired users in another order than by name: the same plan */
	{
		struct sb_inbound *in = &f->st->singbox.inbounds[1];
		struct sb_user tmp = in->users[0];

		in->users[0] = in->users[2];
		in->users[2] = tmp;
		t = diff(f);
		ssm_plan_has(t);
		assert_int_equal(f->n, 5);
		in->users[2] = in->users[0];
		in->users[0] = tmp;
	}

	/* incomplete: additions and key changes only */
	f->o->incomplete = 1;
	t = diff(f);
	TU_LACKS(t, "- singbox", "x singbox");
	assert_int_equal(f->n, 2);
}

static void test_sb_diff__not_running_starts_and_syncs(void **s)
{
	struct fx *f = *s;
	const char *t;

	f->o->running = 0;
	f->o->ssm[0].known = 0;
	t = diff(f);
	assert_string_equal(t, "singbox: 2 changes\n"
			       "  + singbox start\n"
			       "  ~ singbox/ss users: set 2 users through the ssm api (live)\n");
}

static void test_sb_diff__section_gone_removes(void **s)
{
	const char *none = "version: 1\nsettings: {}\n";
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(none, strlen(none), &d, NULL);
	struct sb_obs *o = xcalloc(1, sizeof(*o));
	struct driver_ctx ctx;
	size_t n;
	char *t;

	(void)s;
	ctx_init(&ctx);
	o->running = 1;
	o->conns_known = 1;
	conn(o, "c1", "edge", "alice");
	t = plan_text(&ctx, st, o, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "- singbox: section removed: stop sing-box (drops 1 connection of 1 user), remove its files\n"));
	free(t);
	sb_obs_free(o);
	state_free(st);
}

TU_MAIN(NULL, NULL,
	CONVERGED_TEST(test_sb_diff__converged_is_empty),
	CONVERGED_TEST(test_sb_diff__reload_says_what_it_drops),
	CONVERGED_TEST(test_sb_diff__shadowsocks_users_live),
	CONVERGED_TEST(test_sb_diff__not_running_starts_and_syncs),
	cmocka_unit_test(test_sb_diff__section_gone_removes))
