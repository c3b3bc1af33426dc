/*
 * test_plan.c - plans as data: text and JSON rendering, counts, engine
 * reports, controller_plan on engines without a driver or section, and
 * which engines controller_apply and controller_restart say failed (with
 * drivers of the test's own, so nothing touches the system).
 */
#include <sys/stat.h>

#include "testutil.h"

#include "controller/controller.h"
#include "controller/loop.h"
#include "state/yaml.h"

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static void test_plan__render_text_and_json(void **s)
{
	struct plan p;
	struct action *a;
	struct buf b = BUF_INIT;
	json_t *j;
	char *dump;

	(void)s;
	plan_init(&p);
	p.generation = 7;
	plan_engine(&p, "wireguard", ENGINE_OK, NULL);
	plan_engine(&p, "openvpn", ENGINE_INCOMPLETE, "management socket: connection refused");
	plan_engine(&p, "singbox", ENGINE_UNMANAGED, NULL);
	plan_add(&p, "wireguard", ACT_CREATE, "wg0/alice", xstrdup("x"), count_free,
		 "+ wireguard/wg0 peer alice (%s)", "10.8.0.2/32");
	a = plan_add(&p, "openvpn", ACT_RESTART, "server", NULL, NULL, "! openvpn restart");
	a->drops = 3;
	plan_add(&p, "wireguard", ACT_UPDATE, "wg0/bob", NULL, NULL, "~ wireguard/wg0 peer bob");
	assert_int_equal(plan_count(&p, "wireguard"), 2);
	assert_true(plan_has_problems(&p));
	plan_render_text(&p, &b);
	assert_string_equal(b.data,
			    "wireguard: 2 changes\n"
			    "  + wireguard/wg0 peer alice (10.8.0.2/32)\n"
			    "  ~ wireguard/wg0 peer bob\n"
			    "openvpn: 1 change, drops 3 sessions (incomplete observation: nothing "
			    "will be removed): management socket: connection refused\n"
			    "  ! openvpn restart\n"
			    "singbox: not managed\n");
	j = plan_to_json(&p);
	dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	TU_HAS(dump, "\"generation\":7",
	       "{\"drops\":3,\"engine\":\"openvpn\",\"kind\":\"restart\"",
	       "\"status\":\"incomplete\"");
	free(dump);
	json_decref(j);
	freed = 0;
	plan_release(&p);
	assert_int_equal(freed, 1);
	buf_release(&b);
}

static void test_plan__engines_without_driver_or_section(void **s)
{
	const char *y = "version: 1\nsettings: {}\nsingbox:\n  inbounds: []\n";
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct diags d = { 0 };
	struct buf b = BUF_INIT;
	struct plan p;

	(void)s;
	st = state_from_yaml(y, strlen(y), &d, NULL);
	assert_non_null(st);
	controller_ctx_init(&ctx, "/tmp/atlas-unit-none", NULL, st);
	assert_int_equal(controller_plan(&ctx, st, 1, &p, NULL), 0);
	plan_render_text(&p, &b);
	TU_HAS(b.data, "wireguard: not managed\n", "openvpn: not managed\n");
	/* sing-box has a driver now; a section with no inbound runs no daemon */
	assert_null(strstr(b.data, "not implemented"));
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(b.data, "singbox: no changes\n"));
	plan_release(&p);
	controller_ctx_release(&ctx);
	buf_release(&b);
	state_free(st);
}

/* An httpupgrade inbound carries the plan's note on sing-box's lost first byte; ws does not. */
static void test_plan__httpupgrade_warns(void **s)
{
	const char *y = "version: 1\nsettings: {host: vpn.example.com}\nsingbox:\n  inbounds:\n"
			"    - {name: hu, type: vless, port: 8443, security: tls,\n"
			"       transport: httpupgrade, path: /up, users: [{name: alice}]}\n"
			"    - {name: ws, type: vless, port: 8444, security: tls,\n"
			"       transport: ws, path: /ws, users: [{name: alice}]}\n";
	static const struct driver *const none[] = { NULL };
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct diags d = { 0 };
	struct buf b = BUF_INIT;
	struct plan p;

	(void)s;
	st = state_from_yaml(y, strlen(y), &d, NULL);
	assert_non_null(st);
	controller_ctx_init(&ctx, "/tmp/atlas-unit-none", NULL, st);
	ctx.drivers = none;
	assert_int_equal(controller_plan(&ctx, st, 1, &p, NULL), 0);
	plan_render_text(&p, &b);
	TU_HAS(b.data, "warnings:\n", "  ! singbox/hu: sing-box's httpupgrade server loses the first byte");
	assert_null(strstr(b.data, "singbox/ws:"));
	assert_int_equal(p.warnings.n, 1);
	plan_release(&p);
	controller_ctx_release(&ctx);
	buf_release(&b);
	state_free(st);
}

/*
 * issue 16.2: with no desired state ever stored (generation 0: a new or lost
 * database) the plan removes nothing Atlas recorded setting up.
 */
static void test_plan__generation_zero_removes_nothing(void **s)
{
	const char *y = "version: 1\nsettings: {}\n";
	char *dir = tu_tmpdir(), *run = xasprintf("%s/run", dir);
	char *rec = xasprintf("%s/atlas_openvpn.nft", run);
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct buf b = BUF_INIT;
	struct plan p;

	(void)s;
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(file_write_atomic(rec, "table inet atlas_openvpn {}\n", 28, 0600, &err),
			 0);
	st = state_from_yaml(y, strlen(y), &d, NULL);
	assert_non_null(st);
	controller_ctx_init(&ctx, dir, NULL, st);
	assert_int_equal(controller_plan(&ctx, st, 0, &p, NULL), 0);
	assert_int_equal(p.n, 0);
	plan_render_text(&p, &b);
	assert_non_null(strstr(b.data, "no desired state stored yet: Atlas removes nothing"));
	plan_release(&p);
	controller_ctx_release(&ctx);
	buf_release(&b);
	state_free(st);
	tu_rmrf_free(dir);
	free(rec);
	free(run);
}

/* What a failed diff had added is dropped, its driver data freed. */
static void test_plan__truncate(void **s)
{
	struct plan p;

	(void)s;
	freed = 0;
	plan_init(&p);
	plan_add(&p, "wireguard", ACT_CREATE, "wg0/a", xstrdup("a"), count_free, "+ a");
	plan_add(&p, "openvpn", ACT_DELETE, "b", xstrdup("b"), count_free, "- b");
	plan_add(&p, "openvpn", ACT_DELETE, "c", xstrdup("c"), count_free, "- c");
	plan_truncate(&p, 1);
	assert_int_equal(p.n, 1);
	assert_int_equal(freed, 2);
	assert_string_equal(p.v[0].resource, "wg0/a");
	plan_truncate(&p, 5);
	assert_int_equal(p.n, 1);
	plan_release(&p);
	assert_int_equal(freed, 3);
}

/*
 * Fake drivers for the controller's outcome: each engine has one resource
 * that apply() brings to the desired value. mode says how it goes.
 */
enum fake_mode { FAKE_OK, FAKE_FAILS, FAKE_NEVER_CONVERGES, FAKE_INCOMPLETE };
struct fake {
	enum fake_mode mode;
	int applied, applies;
	const char *message; /* what a failing apply says */
};
static struct fake fake_wg, fake_ovpn;

static struct fake *fake_of(const char *engine)
{
	return !strcmp(engine, "wireguard") ? &fake_wg : &fake_ovpn;
}

static int fake_observe(const struct driver_ctx *ctx, const struct atlas_state *desired,
			void **obs, struct atlas_err *err)
{
	(void)ctx, (void)desired, (void)err;
	*obs = NULL;
	return 0;
}

static int fake_diff(const char *engine, struct plan *plan)
{
	struct fake *f = fake_of(engine);

	if (f->mode == FAKE_INCOMPLETE) {
		plan_engine(plan, engine, ENGINE_INCOMPLETE, "cannot read everything");
		return 0;
	}
	if (!f->applied || f->mode == FAKE_NEVER_CONVERGES)
		plan_add(plan, engine, ACT_UPDATE, "x", xstrdup(engine), count_free, "~ %s/x",
			 engine);
	return 0;
}

static int fake_wg_diff(const struct driver_ctx *ctx, const struct atlas_state *desired,
			const void *obs, struct plan *plan, struct atlas_err *err)
{
	(void)ctx, (void)desired, (void)obs, (void)err;
	return fake_diff("wireguard", plan);
}

static int fake_ovpn_diff(const struct driver_ctx *ctx, const struct atlas_state *desired,
			  const void *obs, struct plan *plan, struct atlas_err *err)
{
	(void)ctx, (void)desired, (void)obs, (void)err;
	return fake_diff("openvpn", plan);
}

static int fake_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
		      struct action *v, size_t n, json_t *results, struct atlas_err *err)
{
	struct fake *f = fake_of(v[0].engine);

	(void)ctx, (void)desired;
	f->applies++;
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].data, v[i].engine);	/* an apply gets its data */
	for (size_t i = 0; i < n; i++)
		plan_result(results, v[i].text, f->mode != FAKE_FAILS, f->message);
	if (f->mode == FAKE_FAILS)
		return err_set(err, ERR_EXEC, "%s", f->message);
	f->applied = 1;
	return 0;
}

static int fake_restart(const struct driver_ctx *ctx, const struct atlas_state *desired,
			json_t *results, struct atlas_err *err)
{
	(void)ctx, (void)desired;
	plan_result(results, "! openvpn restart", 0, "the daemon did not come back");
	return err_set(err, ERR_EXEC, "the daemon did not come back");
}

static void fake_obs_free(void *obs)
{
	(void)obs;
}

#define FAKE_DRIVER(engine, diff_fn, restart_fn)                                          \
	{ .name = engine, .observe = fake_observe, .diff = diff_fn, .apply = fake_apply,           \
	  .obs_free = fake_obs_free, .restart = restart_fn }
static const struct driver fake_wg_driver = FAKE_DRIVER("wireguard", fake_wg_diff, NULL);
static const struct driver fake_ovpn_driver = FAKE_DRIVER("openvpn", fake_ovpn_diff, fake_restart);
static const struct driver *const fake_drivers[] = { &fake_wg_driver, &fake_ovpn_driver, NULL };

/* A state managing wireguard and openvpn, and a ctx running the fake drivers. */
static struct atlas_state *fake_setup(struct driver_ctx *ctx, enum fake_mode wg,
				      enum fake_mode ovpn)
{
	const char *y = "version: 1\nsettings: {}\n";
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(y, strlen(y), &d, NULL);

	assert_non_null(st);
	st->has_wireguard = st->has_openvpn = 1;
	controller_ctx_init(ctx, "/tmp/atlas-unit-none", NULL, st);
	ctx->drivers = fake_drivers;
	fake_wg = (struct fake){ wg, 0, 0, "wg0: cannot set peer (openvpn: is fine)" };
	fake_ovpn = (struct fake){ ovpn, 0, 0, "openvpn: management socket gone" };
	return st;
}

static int failed(const struct run_outcome *o, const char *engine)
{
	for (size_t i = 0; i < o->nengines; i++)
		if (!strcmp(o->engines[i].engine, engine))
			return o->engines[i].failed;
	fail_msg("the outcome does not list %s", engine);
	return -1;
}

/*
 * The engine whose apply failed is the one the outcome names, although the
 * message also carries "openvpn: " (a search of the text for "ENGINE: ",
 * what the loop did before, blamed openvpn too).
 */
static void test_plan__apply_outcome_names_the_failed_engine(void **s)
{
	struct atlas_err err = { 0 };
	struct driver_ctx ctx;
	struct run_outcome o;
	struct atlas_state *st = fake_setup(&ctx, FAKE_FAILS, FAKE_OK);
	json_t *result = NULL;

	(void)s;
	assert_int_equal(controller_apply(&ctx, st, 1, "test", &result, &o, &err), -1);
	assert_non_null(strstr(err.msg, "openvpn: "));
	assert_int_equal(o.nengines, 3);
	assert_int_equal(failed(&o, "wireguard"), 1);
	assert_int_equal(failed(&o, "openvpn"), 0);
	assert_int_equal(failed(&o, "singbox"), 0);
	assert_int_equal(o.unclaimed, 0);
	assert_true(run_outcome_failed(&o));
	assert_int_equal(fake_ovpn.applies, 1);
	assert_true(json_is_false(json_object_get(result, "ok")));
	assert_int_equal(json_integer_value(json_object_get(result, "remaining")), 1);
	json_decref(result);
	controller_ctx_release(&ctx);
	state_free(st);
}

/* Applies fake_setup's state with the fakes in these modes: rc wanted, the outcome into *o. */
static void apply_fakes(enum fake_mode wg, enum fake_mode ovpn, int rc, struct run_outcome *o,
			struct atlas_err *err)
{
	struct driver_ctx ctx;
	struct atlas_state *st = fake_setup(&ctx, wg, ovpn);

	assert_int_equal(controller_apply(&ctx, st, 1, "test", NULL, o, err), rc);
	controller_ctx_release(&ctx);
	state_free(st);
}

/* No apply failed, but one engine never converges and one cannot be read fully. */
static void test_plan__apply_outcome_not_converged(void **s)
{
	struct atlas_err err = { 0 };
	struct run_outcome o;

	(void)s;
	apply_fakes(FAKE_NEVER_CONVERGES, FAKE_OK, -1, &o, &err);
	assert_int_equal(failed(&o, "wireguard"), 1);
	assert_int_equal(failed(&o, "openvpn"), 0);
	assert_int_equal(o.remaining, 1);
	assert_int_equal(fake_wg.applies, 3);

	apply_fakes(FAKE_OK, FAKE_INCOMPLETE, -1, &o, &err);
	assert_int_equal(failed(&o, "wireguard"), 0);
	assert_int_equal(failed(&o, "openvpn"), 1);
	assert_non_null(strstr(err.msg, "openvpn: incomplete: cannot read everything"));

	apply_fakes(FAKE_OK, FAKE_OK, 0, &o, &err);
	assert_false(run_outcome_failed(&o));
	assert_int_equal(o.remaining, 0);
}

/*
 * plan_drop_data() frees the driver data and leaves the plan readable; the
 * plan controller_plan() returns carries no driver data (a driver's may
 * point into a state freed there).
 */
static void test_plan__plan_without_data(void **s)
{
	struct driver_ctx ctx;
	struct atlas_state *st;
	struct plan a;

	(void)s;
	plan_init(&a);
	plan_add(&a, "wireguard", ACT_DELETE, "wg0/x", xstrdup("x"), count_free, "- x");
	plan_add(&a, "wireguard", ACT_CREATE, "wg0/y", NULL, NULL, "+ y")->drops = 2;
	freed = 0;
	plan_drop_data(&a);
	assert_int_equal(freed, 1);
	assert_null(a.v[0].data);
	assert_string_equal(a.v[0].text, "- x");
	assert_string_equal(a.v[1].resource, "wg0/y");
	assert_int_equal(a.v[1].drops, 2);
	plan_release(&a);
	assert_int_equal(freed, 1);

	st = fake_setup(&ctx, FAKE_OK, FAKE_OK);
	freed = 0;
	assert_int_equal(controller_plan(&ctx, st, 1, &a, NULL), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(freed, 2);
	for (size_t i = 0; i < a.n; i++)
		assert_null(a.v[i].data);
	assert_string_equal(a.v[0].text, "~ wireguard/x");
	plan_release(&a);
	controller_ctx_release(&ctx);
	state_free(st);
}

/* A restart's outcome lists only its engine. */
static void test_plan__restart_outcome(void **s)
{
	struct atlas_err err = { 0 };
	struct driver_ctx ctx;
	struct run_outcome o;
	struct atlas_state *st = fake_setup(&ctx, FAKE_OK, FAKE_OK);
	json_t *result = NULL;

	(void)s;
	assert_int_equal(controller_restart(&ctx, st, 1, "openvpn", "restart openvpn", &result, &o,
					    &err),
			 -1);
	assert_int_equal(o.nengines, 1);
	assert_string_equal(o.engines[0].engine, "openvpn");
	assert_int_equal(o.engines[0].failed, 1);
	assert_true(json_is_false(json_object_get(result, "ok")));
	assert_int_equal(json_array_size(json_object_get(result, "actions")), 1);
	json_decref(result);
	/* wireguard has no restart(): unsupported, and it is the one that failed */
	assert_int_equal(controller_restart(&ctx, st, 1, "wireguard", NULL, NULL, &o, &err), -1);
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	assert_int_equal(o.nengines, 1);
	assert_int_equal(failed(&o, "wireguard"), 1);
	controller_ctx_release(&ctx);
	state_free(st);
}

/*
 * The last run and the apply event are made from the run's result and what
 * the store said of it (loop_run_of), not read back: the same object as the
 * stored run (GET /history), failed (an error) or not, and for a restart.
 */
static void test_plan__run_of_result_is_the_stored_run(void **s)
{
	static const enum fake_mode modes[][2] = { { FAKE_FAILS, FAKE_OK }, { FAKE_OK, FAKE_OK } };
	char *dir = tu_tmpdir();
	struct store *store;

	(void)s;
	assert_int_equal(store_open(dir, &store, NULL), 0);
	/* each kind of run twice: with the actions as objects, and kept compact (the loop) */
	for (size_t i = 0; i < 6; i++) {
		struct atlas_err err = { 0 };
		struct driver_ctx ctx;
		struct run_outcome o;
		struct run_info *runs = NULL;
		size_t n = 0;
		struct atlas_state *st = fake_setup(&ctx, modes[i % 3 % 2][0], modes[i % 3 % 2][1]);
		json_t *result = NULL, *mine, *stored, *first;
		int apply = i % 3 < 2;

		ctx.store = store;
		ctx.compact_results = i >= 3;
		if (apply)
			controller_apply(&ctx, st, 1, "test", &result, &o, &err);
		else
			controller_restart(&ctx, st, 1, "openvpn", "restart openvpn", &result, &o,
					   &err);
		/* the second run went well: its steps are kept as their text */
		first = json_array_get(json_object_get(result, "actions"), 0);
		assert_int_equal(json_is_string(first), i == 4);
		assert_int_equal(store_runs(store, 1, &runs, &n, NULL), 0);
		assert_int_equal(n, 1);
		assert_int_equal(o.run_id, runs[0].id);
		mine = loop_run_of(&o, apply ? "test" : "restart openvpn", result);
		if (ctx.compact_results) {
			json_t *full = loop_run_full(mine);

			json_decref(mine);
			mine = full;
		}
		stored = loop_run_json(&runs[0]);
		assert_true(json_array_size(json_object_get(stored, "actions")) > 0);
		assert_true(json_equal(mine, stored));
		json_decref(mine);
		json_decref(stored);
		store_runs_free(runs, n);
		json_decref(result);
		ctx.store = NULL;
		controller_ctx_release(&ctx);
		state_free(st);
	}
	store_close(store);
	tu_rmrf_free(dir);
}

/* One step as apply results held it before they were kept compact. */
static json_t *step_object(const char *text, int ok, const char *msg)
{
	return json_pack("{s:s, s:b, s:s?}", "text", text, "ok", ok, "error", ok ? NULL : msg);
}

/*
 * An apply's results keep a step that went well as its text alone (a first
 * apply of 10,000 peers has 10,000 of them); expanded, and written out for
 * the store, they are the objects they were before ("error": null when
 * none), byte for byte what json_dumps() writes of those. A driver's own
 * object passes as it is.
 */
static void test_plan__results_kept_compact(void **s)
{
	static const struct {
		const char *text;
		int ok;
		const char *msg;
	} steps[] = {
		{ "+ wireguard/wg0 peer \"\xc3\xa4\" (10.0.0.2/32)", 1, "not shown" },
		{ "- openvpn client bob", 0, "exit status 1" },
		{ "~ singbox reload", 0, NULL },
	};
	json_t *r = json_array(), *empty = json_array(), *want = json_array(), *full;
	char *text, *wtext;

	(void)s;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		plan_result(r, steps[i].text, steps[i].ok, steps[i].msg);
		json_array_append_new(want, step_object(steps[i].text, steps[i].ok, steps[i].msg));
	}
	json_array_append_new(r, json_pack("{s:s, s:b}", "text", "+ singbox user u", "ok", 1));
	json_array_append_new(want, json_pack("{s:s, s:b}", "text", "+ singbox user u", "ok", 1));
	assert_true(json_is_string(json_array_get(r, 0)));
	full = plan_results_json(r);
	assert_true(json_equal(full, want));
	text = plan_results_dump(r);
	wtext = json_dumps(want, JSON_COMPACT);
	assert_string_equal(text, wtext);
	free(text);
	text = plan_results_dump(empty);
	assert_string_equal(text, "[]");
	free(text);
	free(wtext);
	json_decref(full);
	json_decref(want);
	json_decref(empty);
	json_decref(r);
}

/* The actions' texts live in the plan's blocks: many, long, replaced, after a truncate. */
static void test_plan__texts_in_blocks(void **state)
{
	struct plan p;
	char want[64], big[1100];
	size_t n = 20000;

	(void)state;
	plan_init(&p);
	for (size_t i = 0; i < n; i++)
		plan_add(&p, "wireguard", ACT_CREATE, i % 7 ? "wg0/x" : NULL, NULL, NULL,
			 "+ wireguard/wg0 peer p%zu (10.%zu.%zu.2/32)", i, i / 250, i % 250);
	assert_int_equal(p.n, n);
	for (size_t i = 0; i < n; i += 997) {
		snprintf(want, sizeof(want), "+ wireguard/wg0 peer p%zu (10.%zu.%zu.2/32)", i, i / 250,
			 i % 250);
		assert_string_equal(p.v[i].text, want);
		assert_string_equal(p.v[i].resource, i % 7 ? "wg0/x" : "");
	}
	/* more than one block, none above 256 KiB, the newest first */
	assert_non_null(p.texts);
	assert_non_null(p.texts->next);
	for (struct plan_block *b = p.texts; b; b = b->next) {
		assert_true(b->used <= b->cap);
		assert_true(sizeof(*b) + b->cap + 2 * sizeof(size_t) <= 256 * 1024);
	}
	plan_set_text(&p, &p.v[5], "~ wireguard/wg0 peer p5: %s", "keepalive 25");
	assert_string_equal(p.v[5].text, "~ wireguard/wg0 peer p5: keepalive 25");
	assert_string_equal(p.v[6].text, "+ wireguard/wg0 peer p6 (10.0.6.2/32)");
	plan_truncate(&p, 10);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	plan_add(&p, "system", ACT_WRITE, big, NULL, NULL, "%s", big);
	assert_int_equal(p.n, 11);
	assert_string_equal(p.v[10].resource, big);
	assert_int_equal(strlen(p.v[10].text), 1023); /* a line is at most 1,023 characters */
	assert_string_equal(p.v[9].text, "+ wireguard/wg0 peer p9 (10.0.9.2/32)");
	plan_release(&p);
	assert_null(p.texts);
	assert_int_equal(p.n, 0);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_plan__render_text_and_json),
	cmocka_unit_test(test_plan__engines_without_driver_or_section),
	cmocka_unit_test(test_plan__truncate),
	cmocka_unit_test(test_plan__texts_in_blocks),
	cmocka_unit_test(test_plan__httpupgrade_warns),
	cmocka_unit_test(test_plan__generation_zero_removes_nothing),
	cmocka_unit_test(test_plan__apply_outcome_names_the_failed_engine),
	cmocka_unit_test(test_plan__apply_outcome_not_converged),
	cmocka_unit_test(test_plan__run_of_result_is_the_stored_run),
	cmocka_unit_test(test_plan__restart_outcome),
	cmocka_unit_test(test_plan__plan_without_data),
	cmocka_unit_test(test_plan__results_kept_compact))
