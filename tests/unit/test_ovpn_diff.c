/*
 * test_ovpn_diff.c - the pure diff of the OpenVPN driver on hand-made
 * observations: a new server, a converged one, a deleted client (revoke,
 * CRL, CCD removal, kill; no restart), an incomplete observation (nothing
 * removed), a server.conf change (restart that counts its drops), disabled
 * and re-addressed clients, the CRL renewal window, `enabled: false`;
 * forwarding and the NAT table inet atlas_openvpn (missing, in sync, egress
 * override, removed when disabled or when the section is gone, but only
 * when Atlas recorded loading it).
 */
#include <sys/stat.h>

#include "testutil.h"
#include "controller/openvpn/ovpn.h"
#include "renderers/openvpn/ovpn_render.h"
#include "state/usage.h"

#define GOLDEN "tests/unit/golden/ovpn/"

#define NOW 1795658400LL /* 2026-11-26 */

static const char *const yaml =
	"version: 1\n"
	"settings:\n  host: vpn.example.org\n"
	"openvpn:\n  network: 10.9.0.0/24\n  routes: [10.99.0.0/24]\n"
	"  clients:\n"
	"    - name: alice\n      static_ip: 10.9.0.10\n"
	"    - name: bob\n"
	"    - name: carol\n";

static struct driver_ctx ctx = { "/var/lib/atlas", "/var/lib/atlas/run", NULL, SERVICE_DIRECT,
				 (time_t)NOW };

static void add_session(struct ovpn_obs *o, const char *cn, const char *virt, unsigned long cid,
			long long since)
{
	struct ovpn_session *s;

	s = TU_PUSH(o->sessions.v, o->sessions.n);
	s->cn = xstrdup(cn);
	s->real = xstrdup("192.0.2.1:1194");
	s->virt = xstrdup(virt);
	s->rx = s->tx = 0;
	s->since = since;
	s->cid = cid;
}

/*
 * Forwarding on, the default route out of eth0 and table inet
 * atlas_openvpn as Atlas renders it for egress (NULL: eth0), recorded.
 */
static void nat_synced(struct ovpn_obs *o, const char *egress)
{
	struct nat_net net = { "10.9.0.0/24", 0, OVPN_DEV };
	struct buf script = BUF_INIT;
	struct atlas_err err = { 0 };

	o->forward4 = 1;
	free(o->egress4);
	o->egress4 = xstrdup("eth0");
	assert_int_equal(nat_render(OVPN_NAT_TABLE, &net, 1, egress ? egress : "eth0", &script,
				    &err),
			 0);
	o->nat.readable = o->nat.exists = 1;
	buf_reset(&o->nat.listing);
	buf_puts(&o->nat.listing, strchr(strchr(script.data, '\n') + 1, '\n') + 1);
	buf_reset(&o->nat.rec_rendered);
	buf_puts(&o->nat.rec_rendered, script.data);
	buf_release(&script);
}

/* An observation of a server that matches st exactly. */
static struct ovpn_obs *converged(const struct atlas_state *st)
{
	struct ovpn_obs *o = xcalloc(1, sizeof(*o));
	struct ovpn_files f;
	struct buf b = BUF_INIT;
	struct atlas_err err = { 0 };
	char today[16];

	ovpn_today(NOW, today, sizeof(today));
	o->has_ca = o->has_tls_crypt = o->server_cert = 1;
	o->server_cn = xstrdup("atlas-server");
	strv_push(&o->certs, "atlas-server");
	for (size_t i = 0; i < st->openvpn.nclients; i++)
		strv_push(&o->certs, st->openvpn.clients[i].name);
	strv_sort(&o->certs);
	strv_copy(&o->valid, &o->certs);
	o->crl.present = o->crl.valid = o->crl.matches = 1;
	o->crl.next_update = (time_t)(NOW + 170 * 86400LL);
	ovpn_files_init(&f, ctx.datadir, ctx.rundir, NULL);
	struct ovpn_server_paths sp = ovpn_server_paths_of(&f);

	assert_int_equal(render_ovpn_server(st, &sp, &b, &err), 0);
	o->server_conf = buf_detach(&b);
	ovpn_files_release(&f);
	o->ccd = xcalloc(st->openvpn.nclients + 1, sizeof(*o->ccd));
	for (size_t i = 0; i < st->openvpn.nclients; i++) {
		render_ovpn_ccd(st, &st->openvpn.clients[i], today, &b);
		o->ccd[i].name = xstrdup(st->openvpn.clients[i].name);
		o->ccd[i].text = buf_detach(&b);
		o->ccd[i].mtime = NOW - 3600;
	}
	o->nccd = st->openvpn.nclients;
	o->running = 1;
	o->sessions_known = 1;
	nat_synced(o, NULL);
	return o;
}

/* The plan's lines joined, for golden files and substring checks. */
static char *plan_text(const struct plan *p)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < p->n; i++)
		buf_printf(&b, "%s [%s %s drops=%d]\n", p->v[i].text, action_kind_names[p->v[i].kind],
			   p->v[i].resource, p->v[i].drops);
	return buf_detach(&b);
}

static char *run_diff(const struct atlas_state *st, const struct ovpn_obs *o, struct plan *p)
{
	struct atlas_err err = { 0 };

	plan_init(p);
	if (ovpn_diff(&ctx, st, o, p, &err) < 0)
		fail_msg("diff failed: %s", err.msg);
	return plan_text(p);
}

static void expect_plan(const struct atlas_state *st, const struct ovpn_obs *o, const char *want)
{
	struct plan p;
	char *t = run_diff(st, o, &p);

	assert_string_equal(t, want);
	free(t);
	plan_release(&p);
}

/* The desired state of yaml and an observation of a server that matches it. */
struct fx {
	struct atlas_state *st;
	struct ovpn_obs *o;
	struct plan p;	/* of the last diff() */
	char *t;	/* its text */
};

static int converged_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->st = tu_state_checked(yaml);
	f->o = converged(f->st);
	plan_init(&f->p);
	*state = f;
	return 0;
}

static int converged_teardown(void **state)
{
	struct fx *f = *state;

	free(f->t);
	plan_release(&f->p);
	ovpn_obs_free(f->o);
	state_free(f->st);
	free(f);
	return 0;
}

/* Diffs st against f->o into f->p; returns its text (f's: freed with the next diff). */
static const char *diff(struct fx *f, const struct atlas_state *st)
{
	free(f->t);
	plan_release(&f->p);
	f->t = run_diff(st, f->o, &f->p);
	return f->t;
}

/* A case that starts from converged_setup's state and observation. */
#define CONVERGED_TEST(c) cmocka_unit_test_setup_teardown(c, converged_setup, converged_teardown)

static void test_ovpn_diff__new_server(void **state)
{
	struct atlas_state *st = tu_state_checked(yaml);
	struct ovpn_obs *o = xcalloc(1, sizeof(*o));
	struct plan p;
	char *t;

	(void)state;
	o->server_cn = xstrdup("atlas-server");
	o->sessions_known = 1;
	o->nat.readable = 1;	/* no table yet */
	t = run_diff(st, o, &p);
	tu_golden(GOLDEN "plan-new-server.txt", t);
	assert_int_equal(p.v[0].kind, ACT_CREATE);	/* the CA first */
	assert_int_equal(p.v[p.n - 3].kind, ACT_START);	/* then the server */
	assert_int_equal(p.engines[0].status, ENGINE_OK);
	free(t);
	plan_release(&p);
	ovpn_obs_free(o);
	state_free(st);
}

static void test_ovpn_diff__converged(void **state)
{
	struct fx *f = *state;
	const char *t;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 100);
	add_session(f->o, "bob", "10.9.0.130", 4, NOW - 100);
	t = diff(f, f->st);
	assert_string_equal(t, "");
	assert_int_equal(f->p.engines[0].status, ENGINE_OK);
}

static void test_ovpn_diff__deleted_client(void **state)
{
	struct fx *f = *state;
	const char *t;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 100);
	add_session(f->o, "bob", "10.9.0.130", 4, NOW - 100);
	/* bob leaves the desired state */
	free(f->st->openvpn.clients[1].name);
	f->st->openvpn.clients[1] = f->st->openvpn.clients[2];
	f->st->openvpn.nclients = 2;
	t = diff(f, f->st);
	tu_golden(GOLDEN "plan-delete-bob.txt", t);
	TU_HAS(t, "certificate \"bob\": revoked", "crl.pem (revocations)", "- openvpn ccd/bob",
	       "x openvpn session \"bob\" (client id 4");
	TU_LACKS(t, "alice", "! openvpn server: restart");
}

static void test_ovpn_diff__incomplete_removes_nothing(void **state)
{
	struct fx *f = *state;
	const char *t;

	f->o->incomplete = 1;
	snprintf(f->o->note, sizeof(f->o->note), "ccd: permission denied");
	strv_push(&f->o->valid, "zack");
	strv_sort(&f->o->valid);
	f->o->ccd = xrealloc(f->o->ccd, (f->o->nccd + 1) * sizeof(*f->o->ccd));
	f->o->ccd[f->o->nccd].name = xstrdup("zz-stray");
	f->o->ccd[f->o->nccd].text = xstrdup("disable\n");
	f->o->ccd[f->o->nccd++].mtime = 0;
	add_session(f->o, "zack", "10.9.0.200", 8, NOW - 100);
	t = diff(f, f->st);
	assert_string_equal(t, "");
	assert_int_equal(f->p.engines[0].status, ENGINE_INCOMPLETE);
	assert_string_equal(f->p.engines[0].note, "ccd: permission denied");
	/* complete, the same observation removes all three */
	f->o->incomplete = 0;
	t = diff(f, f->st);
	TU_HAS(t, "certificate \"zack\": revoked", "- openvpn ccd/zz-stray",
	       "x openvpn session \"zack\"");
}

static void test_ovpn_diff__server_change_restarts(void **state)
{
	struct fx *f = *state;
	const char *t;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 100);
	add_session(f->o, "bob", "10.9.0.130", 4, NOW - 100);
	f->st->openvpn.port = 1195;
	f->st->openvpn.clients[2].disabled = 1; /* carol: not connected */
	t = diff(f, f->st);
	tu_golden(GOLDEN "plan-restart.txt", t);
	assert_non_null(strstr(t, "! openvpn server: restart, server.conf changed (drops 2 "
				  "connected clients) [restart openvpn/server drops=2]"));
	assert_null(strstr(t, "x openvpn session")); /* the restart drops them anyway */
}

static void test_ovpn_diff__sessions(void **state)
{
	struct fx *f = *state;
	const char *t;

	/*
	 * Connected before their CCD files were last written: alice is on
	 * another address than her static one, carol on a static one she no
	 * longer has; bob is disabled now.
	 */
	add_session(f->o, "alice", "10.9.0.129", 3, NOW - 7200);
	add_session(f->o, "bob", "10.9.0.130", 4, NOW - 7200);
	add_session(f->o, "carol", "10.9.0.20", 5, NOW - 7200);
	f->st->openvpn.clients[1].disabled = 1;
	t = diff(f, f->st);
	tu_golden(GOLDEN "plan-sessions.txt", t);
	TU_HAS(t, "~ openvpn ccd/bob (changed, disabled)",
	       "session \"alice\" (client id 3, 192.0.2.1:1194): static address changed",
	       "session \"bob\" (client id 4, 192.0.2.1:1194): disabled",
	       "session \"carol\" (client id 5, 192.0.2.1:1194): static address removed");
	/* bob's CCD already says disable and his session is newer: the server refuses him */
	free(f->o->ccd[1].text);
	f->o->ccd[1].text = xstrdup("# bob: rendered by Atlas, edits are overwritten\ndisable\n");
	f->o->sessions.v[1].since = f->o->ccd[1].mtime + 1;
	t = diff(f, f->st);
	assert_null(strstr(t, "bob"));
	/* the same holds for alice: a session newer than her CCD got what it says */
	f->o->sessions.v[0].since = f->o->ccd[0].mtime + 1;
	t = diff(f, f->st);
	assert_null(strstr(t, "alice"));
}

/*
 * bob over quota: his CCD says disable and his session is killed, each line
 * with the reason; alice's session is untouched; the next period (a month
 * later) nothing is suspended and bob's CCD goes back.
 */
static void test_ovpn_diff__quota_suspends(void **state)
{
	struct fx *f = *state;
	struct usage_entry e = { "openvpn", "bob" };
	struct usage_view u = { &e, 1 };
	struct atlas_state *eff;
	const char *t;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 7200);
	add_session(f->o, "bob", "10.9.0.130", 4, NOW - 7200);
	f->st->openvpn.clients[1].quota = xstrdup("1GiB");
	e.period_start = usage_period_start(NOW, QUOTA_MONTHLY, 1);
	e.period_tx = 1073741824LL + 1;
	eff = state_dup(f->st);
	assert_int_equal(usage_suspend(eff, &u, NOW), 1);
	t = diff(f, eff);
	TU_HAS(t, "~ openvpn ccd/bob (changed, disabled: quota 1 GiB used (1 GiB since 1 Nov))",
	       "x openvpn session \"bob\" (client id 4, 192.0.2.1:1194): quota 1 GiB used (");
	TU_LACKS(t, "alice");
	state_free(eff);
	eff = state_dup(f->st);
	assert_int_equal(usage_suspend(eff, &u, NOW + 31 * 86400), 0);
	free(f->o->ccd[1].text);
	f->o->ccd[1].text = xstrdup("# bob: rendered by Atlas, edits are overwritten\ndisable\n");
	t = diff(f, eff);
	TU_HAS(t, "~ openvpn ccd/bob (changed)");
	TU_LACKS(t, "session");
	state_free(eff);
}

static void test_ovpn_diff__expiry_and_crl_window(void **state)
{
	struct fx *f = *state;
	const char *t;

	f->st->openvpn.clients[2].expires = xstrdup("2026-11-25"); /* carol expired yesterday */
	add_session(f->o, "carol", "10.9.0.131", 5, NOW - 100);
	f->o->crl.next_update = (time_t)(NOW + 89 * 86400LL);
	t = diff(f, f->st);
	TU_HAS(t, "crl.pem (expires in less than 90 days)",
	       "~ openvpn ccd/carol (changed, disabled)",
	       "session \"carol\" (client id 5, 192.0.2.1:1194): expired");
	f->o->crl.next_update = (time_t)(NOW + 91 * 86400LL);
	free(f->st->openvpn.clients[2].expires);
	f->st->openvpn.clients[2].expires = xstrdup("2026-11-26"); /* valid through today */
	expect_plan(f->st, f->o, "");
}

static void test_ovpn_diff__disabled_engine_stops(void **state)
{
	struct fx *f = *state;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 100);
	f->o->nat.exists = 0;	/* the table: test_ovpn_diff__nat_removed */
	f->st->openvpn.enabled = 0;
	expect_plan(f->st, f->o, "- openvpn server: stop (openvpn is disabled) [stop openvpn/server "
		    "drops=1]\n");
	f->o->running = 0;
	ovpn_status_release(&f->o->sessions);
	expect_plan(f->st, f->o, "");
}

static void test_ovpn_diff__pki_reload_and_unknown_service(void **state)
{
	struct fx *f = *state;

	add_session(f->o, "alice", "10.9.0.10", 3, NOW - 100);
	f->o->has_tls_crypt = 0; /* deleted by hand: the daemon must load the new one */
	expect_plan(f->st, f->o, "+ openvpn tls-crypt key [create openvpn/pki/tls-crypt drops=0]\n"
		    "! openvpn server: restart, a new tls-crypt key (drops 1 connected "
		    "client) [restart openvpn/server drops=1]\n");
	/* systemctl could not say: nothing is started, restarted or killed */
	f->o->has_tls_crypt = 1;
	f->o->running = 0;
	f->o->service_unknown = 1;
	f->o->incomplete = 1;
	f->st->openvpn.clients[0].disabled = 1;
	expect_plan(f->st, f->o, "~ openvpn ccd/alice (changed, static 10.9.0.10, disabled) [write "
		    "ccd/alice drops=0]\n");
}

static void test_ovpn_diff__lost_certificate_superseded(void **state)
{
	struct fx *f = *state;

	/* issued/bob.crt deleted by hand: bob is still valid in the index */
	strv_clear(&f->o->certs);
	strv_push(&f->o->certs, "alice");
	strv_push(&f->o->certs, "atlas-server");
	strv_push(&f->o->certs, "carol");
	expect_plan(f->st, f->o, "+ openvpn certificate \"bob\" (its lost certificate is revoked) "
		    "[issue bob drops=0]\n"
		    "~ openvpn crl.pem (revocations) [write openvpn/pki/crl drops=0]\n");
}

static void test_ovpn_diff__client_named_like_server(void **state)
{
	struct fx *f = *state;
	struct atlas_err err = { 0 };
	struct plan p;

	free(f->o->server_cn);
	f->o->server_cn = xstrdup("bob");
	plan_init(&p);
	assert_int_equal(ovpn_diff(&ctx, f->st, f->o, &p, &err), -1);
	assert_non_null(strstr(err.msg, "\"bob\" has the name of the server certificate"));
	plan_release(&p);
}

/* Runs the diff and checks its whole text (the plan is released). */
static const struct ovpn_act *oact(const struct plan *p, size_t i)
{
	assert_true(i < p->n);
	return p->v[i].data;
}

/* No table and forwarding off: both planned, the table out of the default route. */
/*
 * issue 16.1: a server certificate of the old layout is moved, and the
 * running daemon (it holds the key already) is not restarted for the new
 * cert/key lines of server.conf.
 */
static void test_ovpn_diff__server_moved_without_restart(void **state)
{
	const struct fx *fx = *state;
	struct ovpn_files f;
	struct buf old = BUF_INIT;
	const char *at, *end;
	struct plan p;
	char *t, *now_lines;

	ovpn_files_init(&f, ctx.datadir, ctx.rundir, NULL);
	now_lines = xasprintf("cert %s/server/server.crt\nkey %s/server/server.key\n", f.pki,
			      f.pki);
	at = strstr(fx->o->server_conf, now_lines);
	assert_non_null(at);
	end = at + strlen(now_lines);
	buf_add(&old, fx->o->server_conf, (size_t)(at - fx->o->server_conf));
	buf_printf(&old, "cert %s/issued/atlas-server.crt\nkey %s/private/atlas-server.key\n",
		   f.pki, f.pki);
	buf_puts(&old, end);
	free(fx->o->server_conf);
	fx->o->server_conf = buf_detach(&old);
	fx->o->server_legacy = 1;
	add_session(fx->o, "alice", "10.9.0.10", 3, NOW - 100);
	t = run_diff(fx->st, fx->o, &p);
	TU_HAS(t, "moves to pki/server/",
	       "~ openvpn server.conf (the server certificate's new place");
	assert_null(strstr(t, "! openvpn server: restart"));
	free(t);
	plan_release(&p);
	/* any other change of server.conf still restarts */
	fx->o->server_conf[0] = '%';
	t = run_diff(fx->st, fx->o, &p);
	assert_non_null(strstr(t, "! openvpn server: restart"));
	free(t);
	plan_release(&p);
	free(now_lines);
	ovpn_files_release(&f);
}

static void test_ovpn_diff__nat_missing_created(void **state)
{
	struct fx *f = *state;
	const char *t;

	f->o->forward4 = 0;
	f->o->nat.exists = 0;
	buf_reset(&f->o->nat.listing);
	t = diff(f, f->st);
	assert_string_equal(t, "~ system net.ipv4.ip_forward 0 -> 1 [update forwarding drops=0]\n"
			       "+ nftables table inet atlas_openvpn: masquerade 1 network out of "
			       "eth0 (default route) [create nat drops=0]\n");
	assert_int_equal(oact(&f->p, 0)->op, OVPN_OP_NAT);
	assert_int_equal(oact(&f->p, 0)->nat, NAT_FORWARD);
	assert_int_equal(oact(&f->p, 0)->family, 4);
	assert_int_equal(oact(&f->p, 1)->nat, NAT_REPLACE);
	assert_non_null(strstr(oact(&f->p, 1)->text, "delete table inet atlas_openvpn\n"));
	assert_non_null(
		strstr(oact(&f->p, 1)->text, "ip saddr 10.9.0.0/24 oifname \"eth0\" masquerade"));
	assert_int_equal(f->p.engines[0].status, ENGINE_OK);
	/* without a default route: out of anything but the tunnel */
	free(f->o->egress4);
	f->o->egress4 = NULL;
	t = diff(f, f->st);
	assert_non_null(strstr(t, "out of any interface but the tunnel [create nat"));
	assert_non_null(strstr(oact(&f->p, 1)->text, "oifname != \"atlas-ovpn\" masquerade"));
}

/* In sync, also when nft lists it its own way but as recorded: nothing. */
static void test_ovpn_diff__nat_in_sync(void **state)
{
	struct fx *f = *state;

	expect_plan(f->st, f->o, "");
	buf_reset(&f->o->nat.listing);
	buf_puts(&f->o->nat.listing, "table inet atlas_openvpn { # printed another way\n}\n");
	buf_puts(&f->o->nat.rec_listing, f->o->nat.listing.data);
	expect_plan(f->st, f->o, "");
	/* listed differently from what was recorded: someone changed it */
	buf_puts(&f->o->nat.listing, "# by hand\n");
	expect_plan(f->st, f->o, "~ nftables table inet atlas_openvpn: masquerade 1 network out of "
			   "eth0 (default route) [update nat drops=0]\n");
}

/* settings.egress_interface wins over the default route. */
static void test_ovpn_diff__nat_egress_override(void **state)
{
	char *y = xasprintf("version: 1\nsettings:\n  host: vpn.example.org\n"
			    "  egress_interface: wan0\n%s",
			    strstr(yaml, "openvpn:"));
	struct atlas_state *st;
	struct ovpn_obs *o;
	struct plan p;
	char *t;

	(void)state;
	st = tu_state_checked(y);
	o = converged(st);
	t = run_diff(st, o, &p);
	assert_string_equal(t, "~ nftables table inet atlas_openvpn: masquerade 1 network out of "
			       "wan0 [update nat drops=0]\n");
	assert_non_null(
		strstr(oact(&p, 0)->text, "ip saddr 10.9.0.0/24 oifname \"wan0\" masquerade"));
	free(t);
	plan_release(&p);
	nat_synced(o, "wan0");
	expect_plan(st, o, "");
	ovpn_obs_free(o);
	state_free(st);
	free(y);
}

/*
 * `enabled: false` or the section gone: the table goes when Atlas recorded
 * loading it, and only then; forwarding is left on.
 */
static void test_ovpn_diff__nat_removed(void **state)
{
	struct fx *f = *state;
	const char *t;

	f->o->running = 0;
	f->st->openvpn.enabled = 0;
	t = diff(f, f->st);
	assert_string_equal(t, "- nftables table inet atlas_openvpn [delete nat drops=0]\n");
	assert_int_equal(oact(&f->p, 0)->nat, NAT_DELETE);
	/* the section gone: the same removal, the engine reported unmanaged */
	f->st->has_openvpn = 0;
	t = diff(f, f->st);
	assert_string_equal(t, "- nftables table inet atlas_openvpn [delete nat drops=0]\n");
	assert_int_equal(f->p.engines[0].status, ENGINE_UNMANAGED);
	/* a table of that name Atlas did not load: left alone */
	buf_reset(&f->o->nat.rec_rendered);
	expect_plan(f->st, f->o, "");
	f->st->has_openvpn = 1;
	expect_plan(f->st, f->o, "");
}

/*
 * The section gone while the server runs with a session: the daemon stops
 * (its drops counted), the rendered files go, then the NAT table; the PKI
 * is never touched. Nothing left: nothing planned. A daemon whose state
 * cannot be told: the plan is incomplete and removes nothing it reads.
 */
static void test_ovpn_diff__section_gone_tears_down(void **state)
{
	struct fx *f = *state;
	const char *t;

	f->st->has_openvpn = 0;
	f->o->running = 1;
	f->o->files = 1;
	add_session(f->o, "alice", "10.9.0.10", 7, NOW - 60);
	t = diff(f, f->st);
	assert_string_equal(t, "- openvpn server: stop, its section is gone (drops 1 connected "
			       "client) [stop openvpn/server drops=1]\n"
			       "- openvpn server.conf, ccd/ and status.log (the PKI is kept) "
			       "[delete openvpn/files drops=0]\n"
			       "- nftables table inet atlas_openvpn [delete nat drops=0]\n");
	assert_int_equal(oact(&f->p, 0)->op, OVPN_OP_STOP);
	assert_int_equal(oact(&f->p, 1)->op, OVPN_OP_FORGET);
	assert_int_equal(f->p.engines[0].status, ENGINE_UNMANAGED);
	for (size_t i = 0; i < f->p.n; i++)
		assert_null(strstr(f->p.v[i].text, "certificate"));
	/* torn down: nothing left to do */
	f->o->running = 0;
	f->o->files = 0;
	buf_reset(&f->o->nat.rec_rendered);
	expect_plan(f->st, f->o, "");
	/* cannot tell whether it runs: incomplete, nothing stopped or removed */
	f->o->service_unknown = 1;
	f->o->files = 1;
	t = diff(f, f->st);
	assert_string_equal(t, "");
	assert_int_equal(f->p.engines[0].status, ENGINE_INCOMPLETE);
}

/* What the controller looks at to tear a removed section down. */
static void test_ovpn_diff__leftovers(void **state)
{
	char *dir = tu_tmpdir(), *run, *conf, *ovdir;
	struct driver_ctx c = ctx;

	(void)state;
	run = xasprintf("%s/run", dir);
	ovdir = xasprintf("%s/openvpn", dir);
	conf = xasprintf("%s/server.conf", ovdir);
	c.datadir = dir;
	c.rundir = run;
	assert_int_equal(ovpn_leftovers(&c), 0);
	assert_int_equal(mkdir(ovdir, 0755), 0);
	assert_int_equal(ovpn_leftovers(&c), 0);
	assert_int_equal(file_write_atomic(conf, "port 1194\n", 10, 0644, NULL), 0);
	assert_int_equal(ovpn_leftovers(&c), 1);
	tu_rmrf_free(dir);
	free(run);
	free(conf);
	free(ovdir);
}

/* nft cannot be run: the plan is incomplete and says why. */
static void test_ovpn_diff__nat_unreadable(void **state)
{
	struct fx *f = *state;

	nat_obs_release(&f->o->nat);
	memset(&f->o->nat, 0, sizeof(f->o->nat));
	f->o->nat_error = xstrdup("nft is not installed");
	diff(f, f->st);
	assert_int_equal(f->p.engines[0].status, ENGINE_INCOMPLETE);
	TU_HAS(f->p.engines[0].note, "nat: nft is not installed",
	       "table inet atlas_openvpn could not be read");
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_ovpn_diff__new_server),
	CONVERGED_TEST(test_ovpn_diff__converged),
	CONVERGED_TEST(test_ovpn_diff__deleted_client),
	CONVERGED_TEST(test_ovpn_diff__incomplete_removes_nothing),
	CONVERGED_TEST(test_ovpn_diff__server_change_restarts),
	CONVERGED_TEST(test_ovpn_diff__sessions),
	CONVERGED_TEST(test_ovpn_diff__quota_suspends),
	CONVERGED_TEST(test_ovpn_diff__expiry_and_crl_window),
	CONVERGED_TEST(test_ovpn_diff__disabled_engine_stops),
	CONVERGED_TEST(test_ovpn_diff__pki_reload_and_unknown_service),
	CONVERGED_TEST(test_ovpn_diff__lost_certificate_superseded),
	CONVERGED_TEST(test_ovpn_diff__client_named_like_server),
	CONVERGED_TEST(test_ovpn_diff__server_moved_without_restart),
	CONVERGED_TEST(test_ovpn_diff__nat_missing_created),
	CONVERGED_TEST(test_ovpn_diff__nat_in_sync),
	cmocka_unit_test(test_ovpn_diff__nat_egress_override),
	CONVERGED_TEST(test_ovpn_diff__section_gone_tears_down),
	cmocka_unit_test(test_ovpn_diff__leftovers),
	CONVERGED_TEST(test_ovpn_diff__nat_removed),
	CONVERGED_TEST(test_ovpn_diff__nat_unreadable))
