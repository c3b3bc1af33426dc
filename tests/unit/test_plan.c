/*
 * test_plan.c - plans as data: text and JSON rendering, counts, engine
 * reports, and controller_plan on engines without a driver or section.
 */
#include "testutil.h"

#include "controller/controller.h"
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
	assert_non_null(strstr(dump, "\"generation\":7"));
	assert_non_null(strstr(dump, "{\"drops\":3,\"engine\":\"openvpn\",\"kind\":\"restart\""));
	assert_non_null(strstr(dump, "\"status\":\"incomplete\""));
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
	assert_non_null(strstr(b.data, "wireguard: not managed\n"));
	assert_non_null(strstr(b.data, "openvpn: not managed\n"));
	/* sing-box has a driver now: its section plans a start, not "not implemented" */
	assert_null(strstr(b.data, "not implemented"));
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(b.data, "singbox: 1 change\n  + singbox start\n"));
	plan_release(&p);
	controller_ctx_release(&ctx);
	buf_release(&b);
	state_free(st);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan__render_text_and_json),
		cmocka_unit_test(test_plan__engines_without_driver_or_section),
		cmocka_unit_test(test_plan__truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
