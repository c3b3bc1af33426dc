/*
 * test_expiry.c - `expires` as a date or a date and time with a zone
 * (state/active.h): the instant each form ends at (zones, leap days, 31-
 * and 30-day months, year end), the forms refused, the active/expired
 * boundary one second either side on all three engines, bad values
 * reported at file:line:col, the YAML round trip, and the plan's warnings
 * (expiry within 7 days, above 90 % of quota) on an injected clock.
 */
#include "testutil.h"

#include "controller/controller.h"
#include "controller/plan.h"
#include "state/active.h"
#include "state/commit.h"
#include "state/usage.h"
#include "state/validate.h"
#include "state/yaml.h"

static void test_expiry__ends(void **state)
{
	static const struct {
		const char *s;
		int y, mo, d, h, mi, sec;
	} good[] = {
		/* a date: valid through that day, UTC (today's meaning kept) */
		{ "2026-12-31", 2027, 1, 1, 0, 0, 0 },
		{ "2026-01-31", 2026, 2, 1, 0, 0, 0 },
		{ "2026-03-31", 2026, 4, 1, 0, 0, 0 },
		{ "2026-04-30", 2026, 5, 1, 0, 0, 0 },
		{ "2024-02-28", 2024, 2, 29, 0, 0, 0 },
		{ "2024-02-29", 2024, 3, 1, 0, 0, 0 },
		{ "2000-02-29", 2000, 3, 1, 0, 0, 0 },
		{ "1970-01-01", 1970, 1, 2, 0, 0, 0 },
		/* a date and time with a zone: valid until that instant */
		{ "2026-12-31T18:00:00Z", 2026, 12, 31, 18, 0, 0 },
		{ "2026-12-31T18:00:00+01:00", 2026, 12, 31, 17, 0, 0 },
		{ "2026-12-31T18:00:00-00:00", 2026, 12, 31, 18, 0, 0 },
		{ "2026-12-31T23:30:00-05:00", 2027, 1, 1, 4, 30, 0 },
		{ "2027-01-01T01:00:00+05:30", 2026, 12, 31, 19, 30, 0 },
		{ "2028-02-29T08:00:00+09:00", 2028, 2, 28, 23, 0, 0 },
		{ "2028-02-29T23:59:59Z", 2028, 2, 29, 23, 59, 59 },
		{ "2026-03-31T00:00:00+23:59", 2026, 3, 30, 0, 1, 0 },
		{ "1970-01-01T00:00:00Z", 1970, 1, 1, 0, 0, 0 },
	};
	static const char *const bad[] = {
		"", "2026", "2026-12", "2026-1-01", "2026-12-1", "26-12-31", "2026/12/31",
		"2026-13-01", "2026-00-10", "2026-12-00", "2026-12-32", "2026-04-31", "2026-06-31",
		"2026-02-29", "2100-02-29", "1969-12-31", "2026-12-31 ", " 2026-12-31",
		"2026-12-31T18:00:00", "2026-12-31T18:00Z", "2026-12-31 18:00:00Z",
		"2026-12-31t18:00:00z", "2026-12-31T18:00:00.5Z", "2026-12-31T24:00:00Z",
		"2026-12-31T23:60:00Z", "2026-12-31T23:59:60Z", "2026-12-31T18:00:00+1:00",
		"2026-12-31T18:00:00+0100", "2026-12-31T18:00:00+24:00", "2026-12-31T18:00:00+01:60",
		"2026-12-31T18:00:00+01:00x", "2026-12-31T18:00:00ZZ", "2026-12-31Tab:00:00Z",
		"tomorrow", "2026-12-31T18:00:00 +01:00",
	};
	long long end;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		/* the expected instant by the C library, an implementation apart from active.c's */
		struct tm tm = { .tm_year = good[i].y - 1900, .tm_mon = good[i].mo - 1,
				 .tm_mday = good[i].d, .tm_hour = good[i].h, .tm_min = good[i].mi,
				 .tm_sec = good[i].sec };
		long long want = (long long)timegm(&tm);

		if (expiry_parse(good[i].s, &end) != 0 || end != want)
			fail_msg("\"%s\": end %lld, expected %lld", good[i].s, end, want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (expiry_parse(bad[i], &end) == 0)
			fail_msg("\"%s\" accepted (end %lld)", bad[i], end);
	/* the validator's own date check and the moment text agree with it */
	assert_true(date_valid("2024-02-29"));
	assert_false(date_valid("2024-02-29T00:00:00Z"));
	assert_false(date_valid("2023-02-29"));
}

/* One second before the end each engine's user is active, at the end it is not. */
static void test_expiry__boundary_all_engines(void **state)
{
	static const char *const values[] = { "2026-12-31", "2026-12-31T18:00:00+01:00",
					      "2024-02-29T00:00:00Z", "2026-05-31T23:59:59-03:00" };
	char moment[MOMENT_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct wg_peer p = { 0 };
		struct ovpn_client c = { 0 };
		struct sb_user u = { 0 };
		long long end, t;

		assert_int_equal(expiry_parse(values[i], &end), 0);
		p.expires = c.expires = u.expires = (char *)values[i];
		for (int d = -1; d <= 0; d++) {
			int want = d < 0;

			moment_text(end + d, moment, sizeof(moment));
			assert_int_equal(moment_parse(moment, &t), 0);
			assert_true(t == end + d);
			if (wg_peer_active(&p, (time_t)(end + d)) != want ||
			    ovpn_client_active(&c, moment) != want ||
			    sb_user_active(&u, moment) != want || expiry_passed(values[i], end + d) == want)
				fail_msg("%s at %s: expected %s", values[i], moment,
					 want ? "active" : "expired");
		}
	}
	/* a day as "today" still means its start: a date is valid on that day */
	{
		struct sb_user u = { .expires = (char *)"2026-01-31" };

		assert_true(sb_user_active(&u, "2026-01-31"));
		assert_false(sb_user_active(&u, "2026-02-01"));
		assert_true(sb_user_active(&u, NULL));
		u.expires = (char *)"2026-01-31T12:00:00Z";
		assert_true(sb_user_active(&u, "2026-01-31"));
		assert_false(sb_user_active(&u, "2026-01-31T12:00:00Z"));
	}
	assert_false(expiry_passed(NULL, 0));
	assert_true(expiry_passed("garbage", 0));	/* fails closed */
}

static const char bad_yaml[] =
	"version: 1\n"
	"settings: {host: vpn.example.com}\n"
	"wireguard:\n"
	"  interfaces:\n"
	"    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24], peers: [\n"
	"        {name: alice, address: [10.8.0.2/32], expires: 2026-12-31T18:00:00}]}\n"
	"openvpn:\n"
	"  network: 10.9.0.0/24\n"
	"  clients:\n"
	"    - name: carol\n"
	"      expires: 2026-02-29\n"
	"singbox:\n"
	"  inbounds:\n"
	"    - name: edge\n"
	"      type: vmess\n"
	"      port: 8443\n"
	"      users:\n"
	"        - name: dave\n"
	"          expires: \"2026-12-31T18:00:00+25:00\"\n";

static void test_expiry__bad_values_at_line_col(void **state)
{
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;
	/* every bad value at once, each at its line and column */
	static const char *const want[] = {
		"state.yaml:6:56: wireguard interface \"wg0\": peer \"alice\": expires "
		"\"2026-12-31T18:00:00\" is not a date (YYYY-MM-DD) nor a date and time with a zone",
		"state.yaml:11:16: openvpn client \"carol\": expires \"2026-02-29\" is not a date",
		"state.yaml:19:20: singbox inbound \"edge\": user \"dave\": expires "
		"\"2026-12-31T18:00:00+25:00\" is not a date",
	};

	(void)state;
	assert_null(state_parse_check(bad_yaml, strlen(bad_yaml), NULL, &pm, &d, &err));
	diags_format(&d, "state.yaml", &out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(out.data, want[i]))
			fail_msg("missing \"%s\" in:\n%s", want[i], out.data);
	buf_release(&out);
	diags_clear(&d);
	posmap_clear(&pm);
}

static const char warn_yaml[] =
	"version: 1\n"
	"settings: {host: vpn.example.com}\n"
	"openvpn:\n"
	"  network: 10.9.0.0/24\n"
	"  clients:\n"
	"    - {name: soon, expires: \"2026-12-08T09:00:00+01:00\"}\n"
	"    - {name: later, expires: \"2026-12-08T12:00:00+01:00\"}\n"
	"    - {name: day, expires: 2026-12-07}\n"
	"    - {name: dayafter, expires: 2026-12-08}\n"
	"    - {name: gone, expires: \"2026-12-01T09:59:59Z\"}\n"
	"    - {name: heavy, quota: 1GiB}\n"
	"    - {name: light, quota: 1GiB}\n";

/* The plan warns of expiries within 7 days (timed ones to the second) and of 90 % quotas. */
static void test_expiry__plan_warnings(void **state)
{
	static const struct driver *const none[] = { NULL };
	struct usage_entry v[2] = { { "openvpn", "heavy" }, { "openvpn", "light" } };
	struct usage_view u = { v, 2 };
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct buf b = BUF_INIT;
	struct plan p;
	/* 2026-12-01 10:00:00 UTC: "soon" ends 7 days minus 2 h later, "later" 7 days plus 1 h */
	time_t now = 1796119200;

	(void)state;
	st = state_parse_check(warn_yaml, strlen(warn_yaml), NULL, &pm, &d, &err);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i].msg);
	assert_non_null(st);
	v[0].period_start = v[1].period_start = usage_period_start(now, QUOTA_MONTHLY, 1);
	v[0].period_rx = 1073741824LL / 100 * 92 + 1000000;
	v[1].period_rx = 1073741824LL * 89 / 100;
	controller_ctx_init(&ctx, "/tmp/atlas-unit-none", NULL, st);
	ctx.drivers = none;
	ctx.now = now;
	ctx.usage = &u;
	assert_int_equal(controller_plan(&ctx, st, 1, &p, NULL), 0);
	plan_render_text(&p, &b);
	if (!strstr(b.data, "openvpn client soon: expires on 2026-12-08T09:00:00+01:00") ||
	    strstr(b.data, "client later:") ||
	    !strstr(b.data, "openvpn client day: expires on 2026-12-07") ||
	    strstr(b.data, "client dayafter:") || strstr(b.data, "client gone:") ||
	    !strstr(b.data, "openvpn client heavy: 92 % of quota 1 GiB used") ||
	    strstr(b.data, "client light:"))
		fail_msg("plan:\n%s", b.data);
	plan_release(&p);
	buf_release(&b);
	/* an hour on, "later" ends exactly 7 days on: warned too; "soon" still is */
	ctx.now = now + 3600;
	assert_int_equal(controller_plan(&ctx, st, 1, &p, NULL), 0);
	plan_render_text(&p, &b);
	if (!strstr(b.data, "client later: expires on") || !strstr(b.data, "client soon: expires on"))
		fail_msg("plan an hour later:\n%s", b.data);
	plan_release(&p);
	buf_release(&b);
	controller_ctx_release(&ctx);
	state_free(st);
	diags_clear(&d);
	posmap_clear(&pm);
}

/* A timed expiry survives the YAML round trip as written. */
static void test_expiry__yaml_round_trip(void **state)
{
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;
	struct atlas_state *st, *again;

	(void)state;
	st = state_parse_check(warn_yaml, strlen(warn_yaml), NULL, &pm, &d, &err);
	assert_non_null(st);
	state_to_yaml(st, 1, &out);
	again = state_parse_check(out.data, out.len, NULL, NULL, &d, &err);
	assert_non_null(again);
	assert_string_equal(state_ovpn_client(again, "soon")->expires, "2026-12-08T09:00:00+01:00");
	assert_string_equal(state_ovpn_client(again, "day")->expires, "2026-12-07");
	state_free(again);
	state_free(st);
	buf_release(&out);
	diags_clear(&d);
	posmap_clear(&pm);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_expiry__ends),
	cmocka_unit_test(test_expiry__boundary_all_engines),
	cmocka_unit_test(test_expiry__bad_values_at_line_col),
	cmocka_unit_test(test_expiry__plan_warnings),
	cmocka_unit_test(test_expiry__yaml_round_trip))
