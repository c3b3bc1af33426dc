/*
 * test_sb_adopt.c - a sing-box taken over as it runs (sb_adopt.h), on
 * hand-made observations: while the running file is the adopted one and the
 * desired state still renders as at adoption, the plan is empty (no reload,
 * no SSM calls, no closes) and says the engine is adopted; a change that
 * needs a reload is announced with the TCP connections it drops (counted
 * from the kernel's sockets) and Atlas's config replacing the adopted one,
 * then the Shadowsocks users are set through SSM; the adopted state
 * exported as YAML imports again (the schema's defaults are set).
 */
#include "testutil.h"

#include "controller/plan.h"
#include "controller/singbox/sb.h"
#include "state/adopt_sb.h"
#include "state/commit.h"
#include "state/yaml.h"

static const char yaml[] =
	"version: 1\nsettings: {host: vpn.example.com}\nsingbox:\n  inbounds:\n"
	"    - {name: edge, type: vless, port: 443, security: none, users: [{name: alice}]}\n"
	"    - name: ss\n      type: shadowsocks\n      port: 8388\n      users:\n"
	"        - {name: bob, password: AAAAAAAAAAAAAAAAAAAAAA==}\n";
/* the same with carol added to edge */
static const char yaml_carol[] =
	"version: 1\nsettings: {host: vpn.example.com}\nsingbox:\n  inbounds:\n"
	"    - {name: edge, type: vless, port: 443, security: none,\n"
	"       users: [{name: alice}, {name: carol}]}\n"
	"    - name: ss\n      type: shadowsocks\n      port: 8388\n      users:\n"
	"        - {name: bob, password: AAAAAAAAAAAAAAAAAAAAAA==}\n";

/* The completed state of y, as a commit would store it. */
static struct atlas_state *load(const char *y)
{
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st = state_parse_check(y, strlen(y), NULL, NULL, &d, &err);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i].msg);
	assert_non_null(st);
	diags_clear(&d);
	return st;
}

/* A direct-mode context at 2026-01-01 (nothing is read from it: the diff is pure). */
static const struct driver_ctx unit_ctx = {
	.datadir = "/var/lib/atlas-unit",
	.rundir = "/var/lib/atlas-unit/run",
	.service_mode = SERVICE_DIRECT,
	.now = 1767225600,
};

/* The observation of an adopted sing-box running a hand-written file. */
static struct sb_obs *adopted_obs(const struct driver_ctx *ctx, const struct atlas_state *st,
				  long tcp)
{
	struct sb_obs *o = xcalloc(1, sizeof(*o));
	struct buf r = BUF_INIT;
	struct atlas_err err = { 0 };

	assert_int_equal(sb_render_conf(ctx, st, &r, &err), 0);
	o->section = 1;
	o->running = 1;
	o->pid = 4242;
	o->conf = xstrdup("{\"inbounds\": [\"written by hand\"]}\n");
	o->adopted_render = buf_detach(&r);
	o->tcp_conns = tcp;
	return o;
}

static void plan_text(const struct plan *p, struct buf *b)
{
	buf_release(b);
	plan_render_text(p, b);
}

static void test_sb_adopt__empty_plan_then_announced_reload(void **state)
{
	struct atlas_state *st = load(yaml), *next;
	struct atlas_err err = { 0 };
	const struct driver_ctx ctx = unit_ctx;
	struct buf b = BUF_INIT;
	struct sb_obs *o;
	struct plan p;

	(void)state;
	o = adopted_obs(&ctx, st, 3);
	plan_init(&p);
	plan_engine(&p, "singbox", ENGINE_OK, NULL);
	assert_int_equal(sb_diff(&ctx, st, o, &p, &err), 0);
	plan_text(&p, &b);
	if (p.n != 0 || !strstr(b.data, "singbox: no changes: adopted: sing-box runs its own config"))
		fail_msg("plan right after adoption:\n%s", b.data);
	plan_release(&p);
	/* a user added: the reload is announced with what it drops */
	next = load(yaml_carol);
	plan_init(&p);
	plan_engine(&p, "singbox", ENGINE_OK, NULL);
	assert_int_equal(sb_diff(&ctx, next, o, &p, &err), 0);
	plan_text(&p, &b);
	if (p.n != 2 ||
	    !strstr(b.data, "~ singbox reload: drops 3 TCP connections (counted from the kernel's "
			    "sockets: the adopted config has no api service); Atlas's config.json "
			    "replaces the adopted one") ||
	    !strstr(b.data, "~ singbox/ss users: set 1 user through the ssm api (live)") ||
	    p.v[0].drops != 3)
		fail_msg("plan after a change:\n%s", b.data);
	plan_release(&p);
	/* the connections could not be counted: the line says so */
	o->tcp_conns = -1;
	plan_init(&p);
	assert_int_equal(sb_diff(&ctx, next, o, &p, &err), 0);
	plan_text(&p, &b);
	if (!strstr(b.data, "drops every open connection (their number could not be read)"))
		fail_msg("plan with no count:\n%s", b.data);
	plan_release(&p);
	/* the adopted file changed by hand since: a normal plan (reload to Atlas's config) */
	free(o->adopted_render);
	o->adopted_render = NULL;
	plan_init(&p);
	assert_int_equal(sb_diff(&ctx, st, o, &p, &err), 0);
	assert_true(p.n >= 1 && strstr(p.v[0].text, "~ singbox reload") != NULL);
	plan_release(&p);
	buf_release(&b);
	sb_obs_free(o);
	state_free(next);
	state_free(st);
}

/* The adopted state, exported as YAML, imports again with the same users. */
static void test_sb_adopt__export_imports_again(void **state)
{
	static const char conf[] =
		"{\"inbounds\": [{\"type\": \"shadowsocks\", \"tag\": \"ss-in\", \"listen\": \"::\",\n"
		" \"listen_port\": 8388, \"method\": \"2022-blake3-aes-128-gcm\",\n"
		" \"password\": \"AAAAAAAAAAAAAAAAAAAAAA==\",\n"
		" \"users\": [{\"name\": \"bob\", \"password\": \"BBBBBBBBBBBBBBBBBBBBBA==\"}]}]}\n";
	struct diags errs = { 0 }, notes = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st = state_new(), *again;
	struct buf y = BUF_INIT;

	(void)state;
	assert_int_equal(adopt_sb_parse(conf, strlen(conf), &st->singbox, &errs, &notes), 0);
	st->has_singbox = 1;
	st->singbox.enabled = 1;
	assert_int_equal(st->singbox.inbounds[0].users[0].quota_reset_day, 1);
	state_to_yaml(st, 1, &y);
	again = state_parse_check(y.data, y.len, NULL, &pm, &errs, &err);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i].msg);
	assert_non_null(again);
	assert_string_equal(again->singbox.inbounds[0].users[0].name, "bob");
	state_free(again);
	state_free(st);
	buf_release(&y);
	diags_clear(&errs);
	diags_clear(&notes);
	posmap_clear(&pm);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_sb_adopt__empty_plan_then_announced_reload),
	cmocka_unit_test(test_sb_adopt__export_imports_again))
