/*
 * test_usage.c - accounting and quotas: sizes with units (and bad units at
 * line:col), period boundaries on an injected clock (31-day months, leap
 * day, year end), the delta arithmetic of counter readings (resets,
 * reconnects, absent users, period change), the verdict and its text, and
 * the accounting tables of the store (deltas, daily buckets, reset).
 */
#include <sqlite3.h>

#include "testutil.h"

#include "api/api.h"

#include "state/active.h"
#include "state/commit.h"
#include "state/sb_people.h"
#include "state/usage_store.h"
#include "state/validate.h"
#include "state/yaml.h"

#define GiB 1073741824LL
#define MiB 1048576LL

/* 2024-MM-DD hh:mm:ss UTC */
static time_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void test_usage__bytes_parse(void **s)
{
	static const struct {
		const char *text;
		long long want; /* -1: refused */
	} cases[] = {
		{ "20GiB", 20 * GiB },
		{ "500MiB", 500 * MiB },
		{ "1TB", 1000000000000LL },
		{ "1.5GiB", 3 * GiB / 2 },
		{ "2 MiB", 2 * MiB },
		{ "1048576", MiB },
		{ "20XB", -1 },
		{ "20gib", -1 },
		{ "GiB", -1 },
		{ "-1GiB", -1 },
		{ "0", -1 },
		{ "1.5", -1 },	       /* half a byte */
		{ "99999999TiB", -1 }, /* beyond 2^62 */
		{ "20GiB ", -1 },
		{ "", -1 },
		{ "0x10MB", -1 }, /* decimal only */
		{ "1e3KB", -1 },
		{ "1e3", -1 },
		{ "1.GiB", -1 },
		{ "0.5KiB", 512 },
		{ "007MB", 7000000 },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long b = 0;
		int rc = bytes_parse(cases[i].text, &b);

		if (rc != (cases[i].want < 0 ? -1 : 0) || (cases[i].want >= 0 && b != cases[i].want))
			fail_msg("bytes_parse(\"%s\") = %d, %lld; want %lld", cases[i].text, rc, b,
				 cases[i].want);
	}
}

/* A quota reads as it was written. */
static void test_usage__quota_format(void **s)
{
	static const struct {
		long long n;
		const char *want;
	} cases[] = {
		{ 5000000, "5 MB" },	     { 1000000000000LL, "1 TB" }, { 2 * MiB, "2 MiB" },
		{ 20 * GiB, "20 GiB" },	     { 1024000, "1000 KiB" },	  { 1500, "1.4 KiB" },
		{ 3 * GiB / 2, "1.5 GiB" }, { 2000, "2 KB" }, { 1500000000, "1.5 GB" },
		{ 4000000000000000000LL, "4000000 TB" },
	};
	char buf[32];

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		quota_format(cases[i].n, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want))
			fail_msg("quota_format(%lld) = \"%s\", want \"%s\"", cases[i].n, buf,
				 cases[i].want);
	}
}

/* The reason counts in the quota's units: 5 MB used is not "4.7 MiB". */
static void test_usage__reason_in_the_quota_units(void **s)
{
	struct quota_cfg q = { 5000000, QUOTA_NEVER, 1 };
	struct usage_entry e = { .period_start = 0, .period_rx = 4000000, .period_tx = 1000000 };
	char why[128];

	(void)s;
	assert_int_equal(usage_verdict(&q, &e, at(2026, 12, 3, 0, 0, 0), why, sizeof(why)), 1);
	assert_string_equal(why, "quota 5 MB used (5 MB in all)");
	e.period_tx = 1500000;
	assert_int_equal(usage_verdict(&q, &e, at(2026, 12, 3, 0, 0, 0), why, sizeof(why)), 1);
	assert_string_equal(why, "quota 5 MB used (5.5 MB in all)");
}

static void test_usage__bytes_format(void **s)
{
	char t[32];

	(void)s;
	bytes_format(20 * GiB, t, sizeof(t));
	assert_string_equal(t, "20 GiB");
	bytes_format(20 * GiB + GiB / 10 + 1, t, sizeof(t));
	assert_string_equal(t, "20.1 GiB");
	bytes_format(512, t, sizeof(t));
	assert_string_equal(t, "512 B");
	bytes_format(2 * MiB, t, sizeof(t));
	assert_string_equal(t, "2 MiB");
}

/* A bad unit is reported at its line and column, with the other problems. */
static void test_usage__bad_unit_line_col(void **s)
{
	static const char yaml[] =
		"version: 1\n"
		"settings: {host: vpn.example.com}\n"
		"wireguard:\n"
		"  interfaces:\n"
		"    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24]}\n"
		"openvpn:\n"
		"  network: 10.9.0.0/24\n"
		"  clients:\n"
		"    - name: alice\n"
		"      quota: 20XB\n"
		"    - name: bob\n"
		"      quota: 1GiB\n"
		"      quota_reset_day: 31\n"
		"    - {name: carol, quota: \"0\"}\n"
		"    - {name: dave, quota: 0.0GiB}\n";
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;
	struct atlas_state *st;

	(void)s;
	st = state_parse_check(yaml, strlen(yaml), NULL, &pm, &d, &err);
	assert_null(st);
	diags_format(&d, "state.yaml", &out);
	if (!strstr(out.data, "state.yaml:10:14: ") || !strstr(out.data, "quota \"20XB\" is not a size") ||
	    !strstr(out.data, "state.yaml:13:24: ") ||
	    !strstr(out.data, "state.yaml:14:28: openvpn client \"carol\": quota \"0\" is zero: leave "
			      "quota out for no limit") ||
	    !strstr(out.data, "quota \"0.0GiB\" is zero"))
		fail_msg("got:\n%s", out.data);
	buf_release(&out);
	diags_clear(&d);
	posmap_clear(&pm);
}

static void test_usage__period_start(void **s)
{
	static const struct {
		int now[6], period, reset_day, start[3]; /* start[0] 0: the epoch */
	} cases[] = {
		/* monthly on the 1st: the last second of a 31-day month, the first of the next */
		{ { 2024, 1, 31, 23, 59, 59 }, QUOTA_MONTHLY, 1, { 2024, 1, 1 } },
		{ { 2024, 2, 1, 0, 0, 0 }, QUOTA_MONTHLY, 1, { 2024, 2, 1 } },
		/* reset day 28: the leap day belongs to the period from 28 Feb */
		{ { 2024, 2, 29, 12, 0, 0 }, QUOTA_MONTHLY, 28, { 2024, 2, 28 } },
		{ { 2024, 3, 27, 23, 0, 0 }, QUOTA_MONTHLY, 28, { 2024, 2, 28 } },
		{ { 2024, 3, 28, 0, 0, 0 }, QUOTA_MONTHLY, 28, { 2024, 3, 28 } },
		/* before the reset day in January: the period began in December of the year before */
		{ { 2025, 1, 3, 8, 0, 0 }, QUOTA_MONTHLY, 15, { 2024, 12, 15 } },
		/* weekly from Monday: 29 Feb 2024 is a Thursday; a Sunday goes back 6 days */
		{ { 2024, 2, 29, 9, 0, 0 }, QUOTA_WEEKLY, 1, { 2024, 2, 26 } },
		{ { 2024, 3, 3, 23, 0, 0 }, QUOTA_WEEKLY, 1, { 2024, 2, 26 } },
		{ { 2024, 3, 4, 0, 0, 0 }, QUOTA_WEEKLY, 1, { 2024, 3, 4 } },
		{ { 2024, 2, 29, 23, 59, 59 }, QUOTA_DAILY, 1, { 2024, 2, 29 } },
		{ { 2024, 2, 29, 1, 0, 0 }, QUOTA_NEVER, 1, { 0 } },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const int *n = cases[i].now, *w = cases[i].start;
		time_t want = w[0] ? at(w[0], w[1], w[2], 0, 0, 0) : 0;
		time_t got = usage_period_start(at(n[0], n[1], n[2], n[3], n[4], n[5]),
						cases[i].period, cases[i].reset_day);

		if (got != want)
			fail_msg("case %zu: period start %lld, want %lld", i, (long long)got,
				 (long long)want);
	}
	assert_true(usage_day(at(1970, 1, 2, 0, 0, 0)) == 1);
}

static void test_usage__fold_progress_and_resets(void **s)
{
	struct usage_entry e = { "wireguard", "wg0/alice" };
	long long drx, dtx, ps = 1000;

	(void)s;
	assert_int_equal(usage_fold(&e, 1, 100, 200, 0, ps, &drx, &dtx), 1);
	assert_true(drx == 100 && dtx == 200);
	/* the same reading again adds nothing and writes nothing */
	assert_int_equal(usage_fold(&e, 1, 100, 200, 0, ps, &drx, &dtx), 0);
	assert_true(drx == 0 && dtx == 0);
	assert_int_equal(usage_fold(&e, 1, 150, 260, 0, ps, &drx, &dtx), 1);
	assert_true(drx == 50 && dtx == 60);
	/* interface recreated: the counters start over, all of it is new */
	assert_int_equal(usage_fold(&e, 1, 30, 40, 0, ps, &drx, &dtx), 1);
	assert_true(drx == 30 && dtx == 40);
	assert_true(e.rx_total == 180 && e.tx_total == 300);
	assert_true(e.period_rx == 180 && e.period_tx == 300);
	/* off the interface: the counters are gone; back with a larger one: no loss, no double */
	assert_int_equal(usage_fold(&e, 0, 0, 0, 0, ps, &drx, &dtx), 1);
	assert_true(e.last_rx == 0 && e.rx_total == 180);
	assert_int_equal(usage_fold(&e, 0, 0, 0, 0, ps, &drx, &dtx), 0);
	assert_int_equal(usage_fold(&e, 1, 500, 600, 0, ps, &drx, &dtx), 1);
	assert_true(drx == 500 && dtx == 600);
	assert_true(e.rx_total == 680 && e.tx_total == 900);
}

static void test_usage__fold_reconnect_and_period(void **s)
{
	struct usage_entry e = { "openvpn", "alice" };
	long long drx, dtx;

	(void)s;
	usage_fold(&e, 1, 1000, 2000, 5, 100, &drx, &dtx);
	/* a reconnect between two readings (new client id) whose counters already exceed the old */
	assert_int_equal(usage_fold(&e, 1, 1500, 2500, 6, 100, &drx, &dtx), 1);
	assert_true(drx == 1500 && dtx == 2500);
	assert_true(e.rx_total == 2500 && e.tx_total == 4500);
	/* a new period: the period total starts at 0, the all-time total goes on */
	assert_int_equal(usage_fold(&e, 1, 1600, 2600, 6, 200, &drx, &dtx), 1);
	assert_true(drx == 100 && dtx == 100);
	assert_true(e.period_rx == 100 && e.period_tx == 100 && e.period_start == 200);
	assert_true(e.rx_total == 2600 && e.tx_total == 4600);
	/* the period changes while the user is away */
	assert_int_equal(usage_fold(&e, 0, 0, 0, 0, 300, &drx, &dtx), 1);
	assert_true(e.period_rx == 0 && e.rx_total == 2600);
}

static const char quota_yaml[] =
	"version: 1\n"
	"settings: {host: vpn.example.com}\n"
	"wireguard:\n"
	"  interfaces:\n"
	"    - name: wg0\n"
	"      listen_port: 51820\n"
	"      address: [10.8.0.1/24]\n"
	"      peers:\n"
	"        - {name: alice, address: [10.8.0.2/32], quota: 20GiB}\n"
	"        - {name: bob, address: [10.8.0.3/32]}\n"
	"openvpn:\n"
	"  network: 10.9.0.0/24\n"
	"  clients:\n"
	"    - {name: carol, quota: 1GiB, quota_period: daily}\n";

static struct atlas_state *quota_state(void)
{
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st = state_parse_check(quota_yaml, strlen(quota_yaml), NULL, &pm, &d,
						   &err);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i].msg);
	assert_non_null(st);
	diags_clear(&d);
	posmap_clear(&pm);
	return st;
}

/* Over quota in December; back by itself on 1 January with the same keys; 90 % warns. */
static void test_usage__verdict_injected_clock(void **s)
{
	struct usage_entry v[2] = {
		{ "openvpn", "carol" },
		{ "wireguard", "wg0/alice" },
	};
	struct usage_view u = { v, 2 };
	time_t dec = at(2024, 12, 20, 10, 0, 0), jan = at(2025, 1, 1, 0, 0, 0);
	struct atlas_state *st = quota_state(), *eff;
	struct quota_cfg q;
	char why[128], key[KEY_B64];

	(void)s;
	v[1].period_start = usage_period_start(dec, QUOTA_MONTHLY, 1);
	v[1].period_rx = 20 * GiB;
	v[1].period_tx = GiB / 10 + 1;
	v[0].period_start = usage_period_start(dec, QUOTA_DAILY, 1);
	v[0].period_rx = GiB - GiB / 20;	/* 95 % */
	eff = state_dup(st);
	assert_int_equal(usage_suspend(eff, &u, dec), 1);
	assert_string_equal(eff->wireguard.interfaces[0].peers[0].suspended,
			    "quota 20 GiB used (20.1 GiB since 1 Dec)");
	assert_null(eff->wireguard.interfaces[0].peers[1].suspended);
	assert_false(wg_peer_active(&eff->wireguard.interfaces[0].peers[0], dec));
	assert_true(wg_peer_active(&eff->wireguard.interfaces[0].peers[1], dec));
	/* the desired state itself knows nothing of it */
	assert_null(st->wireguard.interfaces[0].peers[0].suspended);
	q = quota_of_ovpn(&eff->openvpn.clients[0]);
	assert_int_equal(usage_near(&q, &v[0], dec, why, sizeof(why)), 1);
	assert_string_equal(why, "95 % of quota 1 GiB used");
	key_text(&st->wireguard.interfaces[0].peers[0].public_key, key);
	state_free(eff);
	/* next period: active again, same keys; the new period counts from 0 */
	eff = state_dup(st);
	assert_int_equal(usage_suspend(eff, &u, jan), 0);
	assert_true(wg_peer_active(&eff->wireguard.interfaces[0].peers[0], jan));
	assert_string_equal(tu_key(&eff->wireguard.interfaces[0].peers[0].public_key), key);
	q = quota_of_wg(&eff->wireguard.interfaces[0].peers[0]);
	assert_true(usage_period_used(&q, &v[1], jan) == 0);
	assert_int_equal(usage_near(&q, &v[1], jan, why, sizeof(why)), 0);
	state_free(eff);
	state_free(st);
}

/* Deltas written in one transaction, read back; a reset kept against a stale copy. */
/*
 * A view's names live in blocks that do not move: 10,000 of them (several
 * blocks, and one longer than a block) keep their text and their address
 * while more are added; release frees them all (make asan: no leak).
 */
static void test_usage__view_names_stay(void **s)
{
	struct usage_view u = { NULL, 0, NULL };
	char **got;
	char name[32], *longname = xcalloc(1, 20001);

	(void)s;
	got = xcalloc(10001, sizeof(*got));
	memset(longname, 'x', 20000);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "wg0/peer%05d", i);
		got[i] = usage_view_name(&u, name);
		if (i == 5000)
			got[10000] = usage_view_name(&u, longname);
	}
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "wg0/peer%05d", i);
		assert_string_equal(got[i], name);
	}
	assert_string_equal(got[10000], longname);
	/* one block (256 KiB: a mapping of its own, not heap) holds them all, one after another */
	for (int i = 1; i < 10000; i++)
		if (i != 5001)
			assert_ptr_equal(got[i], got[i - 1] + strlen(got[i - 1]) + 1);
	assert_ptr_equal(got[5001], got[10000] + 20001);
	usage_view_release(&u);
	assert_null(u.names);
	free(got);
	free(longname);
}

/*
 * An entry names its engine by a pointer (80 bytes an entry, not 88 with a
 * 12-byte text): every entry of a known engine shares its one static text,
 * no copy kept; an unknown name (an older store's) is kept whole by the view.
 */
static void test_usage__entry_engine_shared(void **s)
{
	struct usage_view u = { NULL, 0, NULL };
	const char *w = usage_view_engine(&u, "wireguard"), *other;

	(void)s;
	assert_true(sizeof(struct usage_entry) <= 80);
	assert_string_equal(w, "wireguard");
	assert_ptr_equal(usage_view_engine(&u, "wireguard"), w);
	assert_string_equal(usage_view_engine(&u, "openvpn"), "openvpn");
	assert_string_equal(usage_view_engine(&u, "singbox"), "singbox");
	assert_null(u.names);
	other = usage_view_engine(&u, "an-engine-of-before");
	assert_string_equal(other, "an-engine-of-before");
	assert_non_null(u.names);
	usage_view_release(&u);
}

/*
 * A commit of many users (a first tick of 2,000) gives the pages it brought
 * into the connection's cache back: the cache holds almost nothing after it
 * (540 KiB of pages at the default cache size when they were kept).
 */
static void test_usage__commit_gives_cache_back(void **s)
{
	char *dir = tu_tmpdir();
	struct store *db = NULL;
	struct atlas_err err = { 0 };
	struct usage_view u = { NULL, 0, NULL };
	struct usage_change *ch = xcalloc(2000, sizeof(*ch));
	char name[64];
	int cur = 0, hi = 0;

	(void)s;
	assert_int_equal(store_open(dir, &db, &err), 0);
	u.v = xcalloc(2000, sizeof(*u.v));
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "wg0/peer%05d-with-a-longer-name", i);
		u.v[i].engine = usage_view_engine(&u, "wireguard");
		u.v[i].user = usage_view_name(&u, name);
		usage_fold(&u.v[i], 1, 1000 + i, 2000 + i, 0, 7, &ch[i].drx, &ch[i].dtx);
		ch[i].e = &u.v[i];
	}
	u.n = 2000;
	assert_int_equal(usage_store_commit(db, ch, 2000, 20000, 0, &err), 0);
	assert_int_equal(sqlite3_db_status(store_db(db), SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0),
			 SQLITE_OK);
	assert_true(cur < 16 * 1024);
	usage_view_release(&u);
	free(ch);
	store_close(db);
	tu_rmrf_free(dir);
}

static void test_usage__store(void **s)
{
	char *dir = tu_tmpdir();
	struct store *db = NULL;
	struct atlas_err err = { 0 };
	struct usage_view u;
	struct usage_entry e = { "wireguard", "wg0/alice" };
	struct usage_change ch;
	long long drx, dtx, day = 20000;
	json_t *daily;
	int n;

	(void)s;
	assert_int_equal(store_open(dir, &db, &err), 0);
	usage_fold(&e, 1, 100, 200, 0, 7, &drx, &dtx);
	ch = (struct usage_change){ &e, drx, dtx };
	assert_int_equal(usage_store_commit(db, &ch, 1, day, 0, &err), 0);
	usage_fold(&e, 1, 150, 250, 0, 7, &drx, &dtx);
	ch = (struct usage_change){ &e, drx, dtx };
	assert_int_equal(usage_store_commit(db, &ch, 1, day + 1, 0, &err), 0);
	assert_int_equal(usage_store_load(db, &u, &err), 0);
	assert_int_equal(u.n, 1);
	assert_true(u.v[0].rx_total == 150 && u.v[0].tx_total == 250 && u.v[0].last_rx == 150);
	assert_true(u.v[0].period_rx == 150 && u.v[0].period_start == 7);
	usage_view_release(&u);
	daily = usage_store_daily(db, "wireguard", "wg0/alice", day, &err);
	assert_int_equal(json_array_size(daily), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(daily, 1), "rx_bytes")),
			 50);
	json_decref(daily);
	/* a reset by the peer's name; the next tick adds to 0, not to its stale 150 */
	assert_int_equal(usage_store_reset(db, "alice", &n, &err), 0);
	assert_int_equal(n, 1);
	usage_fold(&e, 1, 160, 250, 0, 7, &drx, &dtx);
	ch = (struct usage_change){ &e, drx, dtx };
	assert_int_equal(usage_store_commit(db, &ch, 1, day + 1, day + 1, &err), 0);
	assert_true(e.period_rx == 10 && e.period_tx == 0 && e.rx_total == 160);
	daily = usage_store_daily(db, "wireguard", "wg0/alice", 0, &err);
	assert_int_equal(json_array_size(daily), 1);	/* the older day pruned */
	json_decref(daily);
	assert_int_equal(usage_store_reset(db, "nobody", &n, &err), 0);
	assert_int_equal(n, 0);
	store_close(db);
	tu_rmrf_free(dir);
}

/* The report of one person: a WireGuard peer of that name, the OpenVPN client; nobody else. */
static void test_usage__report_person(void **s)
{
	static const struct { const char *person; size_t n; const char *first; } cases[] = {
		{ NULL, 3, "wg0/alice" },
		{ "alice", 1, "wg0/alice" },
		{ "carol", 1, "carol" },
		{ "nobody", 0, NULL },
	};
	char *dir = tu_tmpdir();
	struct store *db = NULL;
	struct atlas_err err = { 0 };
	struct atlas_state *st = quota_state();

	(void)s;
	assert_int_equal(store_open(dir, &db, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *rows = usage_report(db, st, at(2024, 12, 20, 10, 0, 0), 0, cases[i].person,
					    &err);

		assert_non_null(rows);
		assert_int_equal(json_array_size(rows), cases[i].n);
		if (cases[i].first)
			assert_string_equal(json_string_value(json_object_get(
						    json_array_get(rows, 0), "user")),
					    cases[i].first);
		json_decref(rows);
	}
	state_free(st);
	store_close(db);
	tu_rmrf_free(dir);
}

/* The usage book is wanted only when some user has a quota: each engine's user counts. */
static void test_usage__any_quota(void **s)
{
	static const char head[] = "version: 1\nsettings: {host: vpn.example.com}\n";
	static const char *const yaml[][2] = {
		{ "wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24],\n"
		  "       peers: [{name: a}, {name: b, expires: 2030-01-01}]}\n"
		  "openvpn: {network: 10.9.0.0/24, clients: [{name: c}]}\n"
		  "singbox:\n  inbounds:\n    - {name: in, type: vless, port: 8443, security: tls,\n"
		  "       transport: ws, path: /ws, users: [{name: d}]}\n", "0" },
		{ "wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24],\n"
		  "       peers: [{name: a}, {name: b, quota: 1GiB}]}\n", "1" },
		{ "openvpn: {network: 10.9.0.0/24, clients: [{name: c}, {name: e, quota: 5MB}]}\n", "1" },
		{ "singbox:\n  inbounds:\n    - {name: in, type: vless, port: 8443, security: tls,\n"
		  "       transport: ws, path: /ws, users: [{name: d}, {name: f, quota: 2GiB}]}\n", "1" },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++) {
		char *text = xasprintf("%s%s", head, yaml[i][0]);
		struct diags d = { 0 };
		struct atlas_state *st = state_from_yaml(text, strlen(text), &d, NULL);

		if (!st)
			fail_msg("case %zu does not parse", i);
		if (usage_any_quota(st) != yaml[i][1][0] - '0')
			fail_msg("case %zu: usage_any_quota %d", i, usage_any_quota(st));
		state_free(st);
		diags_clear(&d);
		free(text);
	}
}

/*
 * sb_people: for every user entry, the person's first inbound and the entry
 * whose quota counts are those a search of every inbound finds.
 */
static void test_usage__sb_people(void **s)
{
	static const char y[] =
		"version: 1\nsettings: {host: vpn.example.com}\nsingbox:\n  inbounds:\n"
		"    - {name: a, type: shadowsocks, port: 8001, users: [{name: bob}, {name: zed},\n"
		"       {name: amy, quota: 1GiB}]}\n"
		"    - {name: b, type: shadowsocks, port: 8002, users: [{name: cat, quota: 2GiB},\n"
		"       {name: bob, quota: 3GiB}, {name: amy, quota: 4GiB}]}\n"
		"    - {name: c, type: shadowsocks, port: 8003, users: [{name: dan}, {name: bob, quota: 5GiB},\n"
		"       {name: cat}]}\n";
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(y, strlen(y), &d, NULL);
	struct sb_people people;
	size_t entries = 0;

	(void)s;
	assert_non_null(st);
	sb_people_init(&people, st);
	assert_int_equal(people.n, 5); /* amy bob cat dan zed */
	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		for (size_t k = 0; k < st->singbox.inbounds[i].nusers; k++) {
			const char *name = st->singbox.inbounds[i].users[k].name;
			const struct sb_person *who = sb_people_find(&people, name);
			struct quota_cfg want = quota_of_sb(st, name), got;
			size_t first = 0;

			while (!state_sb_user(&st->singbox.inbounds[first], name))
				first++;
			assert_non_null(who);
			assert_string_equal(who->name, name);
			assert_int_equal(who->first, first);
			got = quota_of_sb_entry(who->quota);
			assert_int_equal(got.quota, want.quota);
			entries++;
		}
	assert_int_equal(entries, 9);
	/* bob's quota is b's (the first inbound with one), amy's a's */
	assert_int_equal(quota_of_sb_entry(sb_people_find(&people, "bob")->quota).quota, 3LL << 30);
	assert_int_equal(quota_of_sb_entry(sb_people_find(&people, "amy")->quota).quota, 1LL << 30);
	assert_null(sb_people_find(&people, "dan")->quota);
	assert_null(sb_people_find(&people, "nobody"));
	assert_null(sb_people_find(&people, NULL));
	sb_people_release(&people);
	state_free(st);
	diags_clear(&d);
}

/*
 * The running server's accounting sees a reset made on another connection
 * (the API's, the CLI's) at its next tick: a user over quota is over no
 * more at once, and over again as soon as new traffic passes the quota. It
 * kept judging from its stale view until it read the store again (20 ticks).
 */
static void test_usage__book_sees_a_reset(void **x)
{
	char *dir = tu_tmpdir();
	struct store *s = NULL;
	struct atlas_err err = { 0 };
	struct atlas_state *st = tu_state_checked(
		"version: 1\nsingbox:\n  inbounds:\n  - {name: ss, type: shadowsocks, port: 8388,"
		" users: [{name: sam, quota: 5MB}]}\n");
	struct usage_book *b;
	time_t now = at(2026, 12, 3, 12, 0, 0);
	json_t *live;
	int n = 0;

	(void)x;
	if (store_open(dir, &s, &err) < 0 || !(b = usage_book_new(dir, &err)))
		fail_msg("%s", err.msg);
#define LIVE(up) json_pack("{s:{s:[{s:s, s:I, s:I}]}}", "singbox", "users", "name", "sam", \
			   "uplink_bytes", (json_int_t)(up), "downlink_bytes", (json_int_t)0)
	live = LIVE(6000000);
	usage_book_tick(b, st, 0, live, NULL, now, NULL);
	json_decref(live);
	assert_int_equal(usage_store_reset(s, "sam", &n, &err), 0);
	assert_int_equal(n, 1);
	live = LIVE(6000000); /* no new traffic */
	assert_int_equal(usage_book_tick(b, st, 0, live, NULL, now + 3, NULL), 1); /* resumed */
	json_decref(live);
	live = LIVE(12000000);
	assert_int_equal(usage_book_tick(b, st, 0, live, NULL, now + 6, NULL), 1); /* over again */
	json_decref(live);
#undef LIVE
	usage_book_free(b);
	store_close(s);
	state_free(st);
	tu_rmrf_free(dir);
}

/* A live status round of wg0 with one peer of key KEY and received bytes rx (new). */
static struct live_wg *wg_round(const char *key, long long rx)
{
	char lines[200];
	json_t *j;
	struct live_wg *lw;

	snprintf(lines, sizeof(lines), "%s\t192.0.2.7:51820\t1767268000\t%lld\t0\n", key, rx);
	j = json_pack("{s:[{s:s, s:b, s:s}]}", "interfaces", "name", "wg0", "up", 1, "peer_lines",
		      lines);
	lw = live_wg_from_json(j);
	json_decref(j);
	return lw;
}

/*
 * A rename moves the usage with the commit; a round that still holds the
 * state before it (shared at its start, counted after the move) counts
 * nothing: it made a row of the old name again, with the whole counter.
 */
static void test_usage__round_of_an_older_state_counts_nothing(void **x)
{
	char *dir = tu_tmpdir(), key[KEY_B64];
	struct store *s = NULL;
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct atlas_state *a = tu_state(
		"version: 1\nwireguard:\n  interfaces:\n  - {name: wg0, listen_port: 51820,"
		" address: [10.0.0.1/24], peers: [{name: alice}]}\n"), *b;
	struct usage_book *book;
	struct live_wg *lw;
	time_t now = at(2026, 12, 3, 12, 0, 0);
	int64_t g1, g2;

	(void)x;
	if (store_open(dir, &s, &err) < 0 || state_commit(s, a, NULL, "t", "a", &d, &g1, &err) < 0 ||
	    !(book = usage_book_new(dir, &err)))
		fail_msg("%s", err.msg);
	snprintf(key, sizeof(key), "%s", tu_key(&a->wireguard.interfaces[0].peers[0].public_key));
	lw = wg_round(key, 1000000);
	usage_book_tick(book, a, g1, NULL, lw, now, NULL);
	live_wg_free(lw);
	/* the rename: the state's generation and the usage's move */
	b = state_dup(a);
	free(b->wireguard.interfaces[0].peers[0].name);
	b->wireguard.interfaces[0].peers[0].name = xstrdup("dave");
	assert_int_equal(state_commit(s, b, NULL, "t", "rename", &d, &g2, &err), 0);
	assert_int_equal(usage_store_rename(s, "wireguard", "wg0/alice", "wg0/dave", &err), 0);
	/* a round of the old state, then of the new one */
	lw = wg_round(key, 1000100);
	assert_int_equal(usage_book_tick(book, a, g1, NULL, lw, now + 3, NULL), 0);
	live_wg_free(lw);
	lw = wg_round(key, 1000200);
	usage_book_tick(book, b, g2, NULL, lw, now + 6, NULL);
	live_wg_free(lw);
	assert_int_equal(tu_sql_int(store_db(s), "SELECT count(*) FROM usage_counters "
						 "WHERE user = 'wg0/alice'"), 0);
	assert_int_equal(tu_sql_int(store_db(s), "SELECT rx_total FROM usage_counters "
						 "WHERE user = 'wg0/dave'"), 1000200);
	usage_book_free(book);
	store_close(s);
	state_free(a);
	state_free(b);
	tu_rmrf_free(dir);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_usage__bytes_parse),
	cmocka_unit_test(test_usage__quota_format),
	cmocka_unit_test(test_usage__reason_in_the_quota_units),
	cmocka_unit_test(test_usage__book_sees_a_reset),
	cmocka_unit_test(test_usage__round_of_an_older_state_counts_nothing),
	cmocka_unit_test(test_usage__bytes_format),
	cmocka_unit_test(test_usage__bad_unit_line_col),
	cmocka_unit_test(test_usage__period_start),
	cmocka_unit_test(test_usage__fold_progress_and_resets),
	cmocka_unit_test(test_usage__fold_reconnect_and_period),
	cmocka_unit_test(test_usage__verdict_injected_clock),
	cmocka_unit_test(test_usage__view_names_stay),
	cmocka_unit_test(test_usage__entry_engine_shared),
	cmocka_unit_test(test_usage__commit_gives_cache_back),
	cmocka_unit_test(test_usage__store),
	cmocka_unit_test(test_usage__report_person),
	cmocka_unit_test(test_usage__any_quota),
	cmocka_unit_test(test_usage__sb_people))
