/*
 * test_loop.c - the reconcile loop thread (controller/loop.c, its decisions
 * in loop_policy.c) on an empty
 * desired state (no engine managed, so no system change): the first run at
 * start, a burst of wake-ups debounced into one run (and the debounce rule
 * with the clock as an argument), requests answered from
 * the loop thread, periodic checks without changes not recorded; the
 * decision table of the manual mode (settings.auto_apply false) and the
 * loop in that mode; the retry backoff read from run outcomes; the last run
 * kept as a summary; the status round beside the engine lock.
 */
#include <pthread.h>
#include <time.h>

#include "testutil.h"

#include "controller/controller.h"
#include "controller/loop.h"
#include "controller/loop_requests.h"
#include "controller/openvpn/ovpn.h"
#include "controller/wireguard/wg.h"
#include "state/commit.h"
#include "state/store.h"
#include "state/yaml.h"

static size_t runs(const char *dir, const char *trigger)
{
	struct atlas_err err = {0};
	struct run_info *v = NULL;
	struct store *s;
	size_t n = 0, k = 0;

	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(store_runs(s, 1000, &v, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		k += !trigger || !strcmp(v[i].trigger, trigger);
	store_runs_free(v, n);
	store_close(s);
	return k;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * Waits (up to a minute: a loaded machine or a sanitizer is slow, and only a
 * hang should fail) until cond(l, dir, arg) holds. Never a fixed sleep
 * before a "nothing happened" check: the tests wait for the event that
 * proves the loop ran, then assert.
 */
#define WAIT_UNTIL(what, cond)                                                                 \
	do {                                                                                   \
		int ok_ = 0;                                                                   \
		for (int i_ = 0; i_ < 6000 && !(ok_ = (cond)); i_++)                           \
			sleep_ms(10);                                                          \
		if (!ok_)                                                                      \
			fail_msg("timed out waiting for %s", what);                           \
	} while (0)

/*
 * What the callbacks saw, recorded on the loop's thread and asserted on the
 * test's own (a cmocka assert may not run on another thread).
 */
struct seen {
	pthread_mutex_t mu;
	int runs, runs_without_trigger, done;
	json_t *result;
};

static void on_run(void *cls, json_t *run)
{
	struct seen *s = cls;

	pthread_mutex_lock(&s->mu);
	s->runs++;
	if (!json_is_string(json_object_get(run, "trigger")))
		s->runs_without_trigger++;
	pthread_mutex_unlock(&s->mu);
}

static void on_done(void *cls, json_t *result)
{
	struct seen *s = cls;

	pthread_mutex_lock(&s->mu);
	s->done++;
	s->result = result;
	pthread_mutex_unlock(&s->mu);
}

static int done_count(struct seen *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->done;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* The debounce rule with the clock as an argument: no timing in the test. */
/* A request is answered from the loop thread with the run's result: ok. */
static void request_ok(struct loop *l, struct seen *seen)
{
	struct atlas_err err = { 0 };

	assert_int_equal(loop_request(l, NULL, on_done, seen, &err), 0);
	WAIT_UNTIL("the request's answer", done_count(seen) == 1);
	pthread_mutex_lock(&seen->mu);
	assert_int_equal(seen->done, 1);
	assert_true(json_is_true(json_object_get(seen->result, "ok")));
	json_decref(seen->result);
	pthread_mutex_unlock(&seen->mu);
}

static void test_loop__wake_due(void **ts)
{
	(void)ts;
	/* The first edit while no run is pending: at once (leading edge). */
	assert_int_equal(loop_wake_due(5000, 5000, 1, 1), 5000);
	/* One more edit before that run started: a burst, 200 ms later. */
	assert_int_equal(loop_wake_due(5000, 5000, 1, 0), 5200);
	/* Each later edit of the burst pushes it back... */
	assert_int_equal(loop_wake_due(5150, 5000, 1, 0), 5350);
	assert_int_equal(loop_wake_due(5700, 5000, 1, 0), 5900);
	/* ...but never past 1 s after the first: a steady stream still applies. */
	assert_int_equal(loop_wake_due(5850, 5000, 1, 0), 6000);
	assert_int_equal(loop_wake_due(9000, 5000, 1, 0), 6000);
	/* No debounce (SIGHUP): at once. */
	assert_int_equal(loop_wake_due(5150, 5000, 0, 0), 5150);
	/* Coalesced (a sing-box edit, whose reload drops every connection): never at once... */
	assert_int_equal(loop_wake_due(5000, 5000, LOOP_WAKE_COALESCE, 1), 5200);
	assert_int_equal(loop_wake_due(5150, 5000, LOOP_WAKE_COALESCE, 0), 5350);
	/* ...and still at most 1 s after the first. */
	assert_int_equal(loop_wake_due(5900, 5000, LOOP_WAKE_COALESCE, 0), 6000);
}

/*
 * The last run is kept as a summary: the first LOOP_LAST_RUN_ACTIONS actions
 * and the counts (a first apply of 10,000 peers has 10,000 actions); the
 * rest of the run as it was; a run without actions unchanged. The run's
 * actions are as plan_result() keeps them (a step that went well as its
 * text): the summary's are objects, and loop_run_full() expands them all.
 */
static void test_loop__last_run_summary(void **ts)
{
	json_t *run = json_pack("{s:I, s:s, s:b, s:[]}", "id", (json_int_t)7, "trigger", "start",
				"ok", 0, "actions"), *sum, *fallback, *full;
	char text[32];

	(void)ts;
	for (int i = 0; i < LOOP_LAST_RUN_ACTIONS + 5; i++) {
		snprintf(text, sizeof(text), "add peer p%d", i);
		plan_result(json_object_get(run, "actions"), text, i % 10 != 3, "boom");
	}
	sum = loop_run_summary(run);
	assert_true(json_is_true(json_object_get(
	    json_array_get(json_object_get(sum, "actions"), 0), "ok")));
	full = loop_run_full(run);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(full, "actions"), 24), "text")),
			    "add peer p24");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(full, "actions"), 23), "error")),
			    "boom");
	json_decref(full);
	assert_int_equal(json_array_size(json_object_get(sum, "actions")), LOOP_LAST_RUN_ACTIONS);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(sum, "actions"), 0), "text")),
			    "add peer p0");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "counts"),
							    "actions")),
			 LOOP_LAST_RUN_ACTIONS + 5);
	/* p3, p13 and p23 failed: p23 is past the first ones and still counted */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "counts"),
							    "failed")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(sum, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(sum, "trigger")), "start");
	/* the run itself is not cut */
	assert_int_equal(json_array_size(json_object_get(run, "actions")), LOOP_LAST_RUN_ACTIONS + 5);
	fallback = json_pack("{s:s}", "trigger", "start");
	json_decref(sum);
	sum = loop_run_summary(fallback);
	assert_true(json_equal(sum, fallback));
	json_decref(sum);
	json_decref(fallback);
	json_decref(run);
}

static void test_loop__start_burst_and_request(void **ts)
{
	struct atlas_err err = {0};
	struct seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, NULL};
	char *dir = tu_tmpdir();
	struct loop *l;
	long passes;

	(void)ts;
	l = loop_start(dir, on_run, &seen, &err);
	assert_non_null(l);
	WAIT_UNTIL("the start run", runs(dir, "start") == 1);
	/*
	 * Ten edits in a row: the first is due at once (no run is pending);
	 * the others come before that run started or while it runs, and become
	 * at most one more apply. A SIGHUP run after the first proves the loop
	 * went on; it takes over a pending "api" run, so at most two "api" runs
	 * exist.
	 */
	for (int i = 0; i < 10; i++)
		loop_wake(l, "api", 1);
	WAIT_UNTIL("the debounced run", runs(dir, "api") >= 1);
	passes = loop_passes(l);
	/* An immediate wake (SIGHUP) runs at once. */
	loop_wake(l, "sighup", 0);
	WAIT_UNTIL("the sighup run", runs(dir, "sighup") == 1);
	WAIT_UNTIL("the sighup pass", loop_passes(l) > passes);
	assert_in_range(runs(dir, "api"), 1, 2);
	/* A request is answered from the loop thread with the run's result. */
	request_ok(l, &seen);
	pthread_mutex_lock(&seen.mu);
	assert_int_equal(seen.runs, 4);
	assert_int_equal(seen.runs_without_trigger, 0);
	pthread_mutex_unlock(&seen.mu);
	{
		json_t *last = loop_last_run(l);

		assert_non_null(last);
		assert_string_equal(json_string_value(json_object_get(last, "trigger")), "api apply");
		json_decref(last);
	}
	/* No driver can restart an engine that has none. */
	assert_int_equal(loop_request(l, "nosuchengine", on_done, &seen, &err), -1);
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	loop_stop(l);
	assert_int_equal(runs(dir, NULL), 4);
	tu_rmrf_free(dir);
}

/*
 * issue 16.10: a status that shows an engine down (openvpn not running, a
 * wireguard interface not up) makes the loop reconcile at once, once per
 * backoff interval while it stays down; nothing when all is up.
 */
static void test_loop__engine_down_reconciles(void **ts)
{
	struct atlas_err err = {0};
	struct diags d = {0};
	struct seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER};
	const char *y = "version: 1\nsettings: {}\nopenvpn:\n  network: 10.9.0.0/24\n";
	struct atlas_state *st = state_from_yaml(y, strlen(y), &d, NULL);
	json_t *up = json_pack("{s:{s:b}, s:{s:[{s:s, s:b}]}}", "openvpn", "running", 1,
			       "wireguard", "interfaces", "name", "wg0", "up", 1);
	json_t *ovdown = json_pack("{s:{s:b}}", "openvpn", "running", 0);
	json_t *wgdown = json_pack("{s:{s:[{s:s, s:b}]}}", "wireguard", "interfaces", "name",
				   "wg0", "up", 0);
	char *dir = tu_tmpdir(), what[64];
	struct loop *l;

	(void)ts;
	assert_non_null(st);
	assert_int_equal(loop_status_down(st, up, what, sizeof(what)), 0);
	assert_int_equal(loop_status_down(st, ovdown, what, sizeof(what)), 1);
	assert_string_equal(what, "openvpn down");
	assert_int_equal(loop_status_down(st, wgdown, what, sizeof(what)), 1);
	assert_string_equal(what, "wireguard wg0 down");
	st->openvpn.enabled = 0; /* stopped on purpose: not down */
	assert_int_equal(loop_status_down(st, ovdown, what, sizeof(what)), 0);
	l = loop_start(dir, on_run, &seen, &err);
	assert_non_null(l);
	WAIT_UNTIL("the start run", runs(dir, "start") == 1);
	loop_engine_down(l, "openvpn down");
	WAIT_UNTIL("the engine-down run", runs(dir, "openvpn down") == 1);
	/* still down at the next tick, within the backoff: no second run yet */
	loop_engine_down(l, "openvpn down");
	sleep_ms(300);
	assert_int_equal(runs(dir, "openvpn down"), 1);
	/* all up again resets it: the next time it is down runs at once */
	loop_engine_down(l, NULL);
	loop_engine_down(l, "openvpn down");
	WAIT_UNTIL("the second engine-down run", runs(dir, "openvpn down") == 2);
	loop_stop(l);
	json_decref(up);
	json_decref(ovdown);
	json_decref(wgdown);
	diags_clear(&d);
	state_free(st);
	tu_rmrf_free(dir);
}

/* Which trigger applies in which mode: the pure decision of a run. */
static void test_loop__decide(void **ts)
{
	static const struct {
		const char *trigger;
		int auto_apply;
		int64_t gen, applied;
		enum loop_action want;
	} cases[] = {
	    /* auto: every edit applies; a quiet resync only checks first. */
	    {"start", 1, 3, 2, LOOP_APPLY},
	    {"start", 1, 3, 3, LOOP_APPLY},
	    {"api", 1, 4, 3, LOOP_APPLY},
	    {"watch", 1, 4, 3, LOOP_APPLY},
	    {"api restore", 1, 4, 3, LOOP_APPLY},
	    {"retry", 1, 4, 3, LOOP_APPLY},
	    {"resync", 1, 4, 4, LOOP_CHECK_APPLY},
	    {"resync", 1, 5, 4, LOOP_APPLY},
	    {"sighup", 1, 4, 4, LOOP_APPLY},
	    {"api apply", 1, 4, 4, LOOP_APPLY},
	    /* manual: observe everything, apply on request and SIGHUP only. */
	    {"api", 0, 4, 3, LOOP_OBSERVE},
	    {"watch", 0, 4, 3, LOOP_OBSERVE},
	    {"api restore", 0, 4, 3, LOOP_OBSERVE},
	    {"retry", 0, 4, 3, LOOP_OBSERVE},
	    {"resync", 0, 4, 4, LOOP_OBSERVE},
	    {"resync", 0, 5, 4, LOOP_OBSERVE},
	    {"sighup", 0, 5, 4, LOOP_APPLY},
	    {"api apply", 0, 5, 4, LOOP_APPLY},
	    /* a restart restores the approved state, never a pending one */
	    {"start", 0, 4, 4, LOOP_APPLY},
	    {"start", 0, 5, 4, LOOP_OBSERVE},
	    {"start", 0, 1, 0, LOOP_OBSERVE},
	};

	(void)ts;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum loop_action got = loop_decide(cases[i].trigger, cases[i].auto_apply,
						   cases[i].gen, cases[i].applied);

		if (got != cases[i].want)
			fail_msg(
			    "case %zu (%s, auto_apply %d, gen %lld, applied %lld): %d, want %d", i,
			    cases[i].trigger, cases[i].auto_apply, (long long)cases[i].gen,
			    (long long)cases[i].applied, got, cases[i].want);
	}
}

/*
 * Manual mode on a state with no engine: an edit is observed, not applied
 * (no run recorded; the empty plan makes its generation applied), and only
 * a request or SIGHUP records a run.
 */
static void test_loop__manual_mode(void **ts)
{
	static const char yaml[] = "version: 1\nsettings:\n  auto_apply: false\n";
	struct atlas_err err = {0};
	struct seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, NULL};
	struct diags d = {0};
	char *dir = tu_tmpdir();
	struct store *s;
	struct loop *l;
	int64_t gen = 0;
	long passes;

	(void)ts;
	assert_int_equal(store_open(dir, &s, &err), 0);
	assert_int_equal(state_import_yaml(s, yaml, sizeof(yaml) - 1, "test", &d, &gen, &err), 0);
	diags_clear(&d);
	l = loop_start(dir, on_run, &seen, &err);
	assert_non_null(l);
	/* Generation 1 was never applied: the start only observes. */
	WAIT_UNTIL("the start pass", loop_passes(l) == 1);
	assert_int_equal(runs(dir, NULL), 0);
	assert_int_equal(loop_drift(l), 0);
	assert_int_equal(store_applied_generation(s), gen);
	passes = loop_passes(l);
	loop_wake(l, "api", 0);
	WAIT_UNTIL("the edit's pass", loop_passes(l) > passes);
	assert_int_equal(runs(dir, NULL), 0);
	loop_wake(l, "sighup", 0);
	WAIT_UNTIL("the sighup run", runs(dir, "sighup") == 1);
	request_ok(l, &seen);
	pthread_mutex_lock(&seen.mu);
	assert_int_equal(seen.runs_without_trigger, 0);
	pthread_mutex_unlock(&seen.mu);
	assert_int_equal(runs(dir, "api apply"), 1);
	assert_int_equal(runs(dir, NULL), 2);
	loop_stop(l);
	store_close(s);
	tu_rmrf_free(dir);
}

/* One outcome of wireguard, openvpn and singbox with the given failures. */
static struct run_outcome outcome3(int wg, int ovpn, int unclaimed)
{
	struct run_outcome o = {
	    .engines = {{"wireguard", wg}, {"openvpn", ovpn}, {"singbox", 0}},
	    .nengines = 3,
	    .unclaimed = unclaimed,
	};

	return o;
}

/*
 * The backoff counts failures per engine from the outcome's flags: a
 * failing engine doubles its delay at each run, up to the resync period;
 * another engine's failure starts at the base; a success resets its engine
 * only; a restart's outcome (one engine) leaves the others' counts alone.
 */
static void test_loop__backoff_reads_the_outcome(void **ts)
{
	struct loop_backoff b = {0};
	struct run_outcome o = outcome3(1, 0, 0), restart = {0};

	(void)ts;
	assert_int_equal(loop_backoff_next(&b, &o, 30), LOOP_RETRY_BASE_MS);
	assert_int_equal(loop_backoff_next(&b, &o, 30), 2 * LOOP_RETRY_BASE_MS);
	assert_int_equal(loop_backoff_next(&b, &o, 30), 4 * LOOP_RETRY_BASE_MS);
	/* capped by the resync period */
	assert_int_equal(loop_backoff_next(&b, &o, 5), 5000);
	/* openvpn fails now too: its first retry comes first */
	o = outcome3(1, 1, 0);
	assert_int_equal(loop_backoff_next(&b, &o, 30), LOOP_RETRY_BASE_MS);
	/* a restart of openvpn that worked: wireguard keeps its 5 failures */
	restart.engines[0].engine = "openvpn";
	restart.nengines = 1;
	assert_int_equal(loop_backoff_next(&b, &restart, 60), 16 * LOOP_RETRY_BASE_MS);
	/* everything fine: no retry */
	o = outcome3(0, 0, 0);
	assert_int_equal(loop_backoff_next(&b, &o, 30), 0);
	/* a failure no engine claims backs off on its own */
	o = outcome3(0, 0, 1);
	assert_int_equal(loop_backoff_next(&b, &o, 30), LOOP_RETRY_BASE_MS);
	assert_int_equal(loop_backoff_next(&b, &o, 30), 2 * LOOP_RETRY_BASE_MS);
	/* the doubling stops (86,400 s of resync would allow more) */
	memset(&b, 0, sizeof(b));
	o = outcome3(1, 0, 0);
	for (int i = 0; i < 40; i++)
		loop_backoff_next(&b, &o, 86400);
	assert_int_equal(loop_backoff_next(&b, &o, 86400),
			 (int64_t)LOOP_RETRY_BASE_MS << LOOP_RETRY_MAX_DOUBLINGS);
}

/*
 * The fast path's rule: only right after a known generation (the one
 * before the edit's), with no run pending, no fast edit waiting and no
 * retry pending.
 */
/*
 * A fast run (one UAPI set of one peer) is published as such, and the
 * server does not refresh the whole live status after one that added a peer
 * (a `wg show dump` of every peer per POST); every other run does.
 */
static void test_loop__fast_run_keeps_the_status_round(void **x)
{
	json_t *result = json_pack("{s:I, s:b, s:[]}", "generation", (json_int_t)3, "ok", 1,
				   "actions");
	static const struct {
		int fast;
		const char *says;
	} cases[] = { { 0, NULL }, { '+', "added" }, { '~', "changed" }, { '-', "removed" } };

	(void)x;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_outcome o = { .run_id = 9, .started_at = 1000, .finished_at = 2000,
					 .fast = cases[i].fast };
		json_t *run = loop_run_of(&o, "api", result), *kept = loop_run_summary(run);
		const char *says = json_string_value(json_object_get(run, "fast"));
		int refresh = cases[i].fast != '+';

		assert_true(cases[i].says ? says && !strcmp(says, cases[i].says) : !says);
		assert_int_equal(loop_run_refreshes_status(run), refresh);
		assert_int_equal(loop_run_refreshes_status(kept), refresh); /* the last run says it too */
		json_decref(kept);
		json_decref(run);
	}
	json_decref(result);
}

static void test_loop__fast_fits(void **x)
{
	(void)x;
	assert_true(loop_fast_fits(7, 8, 0, 0, 0));
	assert_false(loop_fast_fits(0, 1, 0, 0, 0));	/* nothing known yet */
	assert_false(loop_fast_fits(7, 9, 0, 0, 0));	/* another edit in between */
	assert_false(loop_fast_fits(7, 7, 0, 0, 0));	/* no new generation */
	assert_false(loop_fast_fits(7, 8, 1, 0, 0));	/* a run is pending: a burst */
	assert_false(loop_fast_fits(7, 8, 0, 1, 0));	/* a fast edit waits: a burst */
	assert_false(loop_fast_fits(7, 8, 0, 0, 1));	/* a failure's retry has the say */
}

/* A source of desired states (loop_start_from) that counts what it lent. */
struct source {
	pthread_mutex_t mu;
	struct atlas_state *st;
	int gets, puts, strays; /* strays: a put of a state it did not lend */
};

static const struct atlas_state *source_get(void *cls, int64_t *gen, struct atlas_err *err)
{
	struct source *src = cls;

	(void)err;
	pthread_mutex_lock(&src->mu);
	src->gets++;
	pthread_mutex_unlock(&src->mu);
	*gen = 42;
	return src->st;
}

static void source_put(void *cls, const struct atlas_state *st)
{
	struct source *src = cls;

	pthread_mutex_lock(&src->mu);
	src->puts++;
	src->strays += st != src->st;
	pthread_mutex_unlock(&src->mu);
}

/* The generation of the newest run with trigger, or -1. */
static int64_t run_generation(const char *dir, const char *trigger)
{
	struct run_info *v = NULL;
	struct store *s;
	size_t n = 0;
	int64_t g = -1;

	assert_int_equal(store_open(dir, &s, NULL), 0);
	assert_int_equal(store_runs(s, 1000, &v, &n, NULL), 0);
	for (size_t i = n; i-- > 0;)
		if (!strcmp(v[i].trigger, trigger))
			g = v[i].generation;
	store_runs_free(v, n);
	store_close(s);
	return g;
}

/*
 * With a source (`atlas serve`: the API's packed state), every run reads
 * its desired state from it, not from a load of its own, and gives each
 * one back: the start run and a requested one apply generation 42, which
 * only the source says.
 */
static void test_loop__runs_read_the_source(void **ts)
{
	const char *y = "version: 1\nsettings: {}\n";
	struct diags d = {0};
	struct source src = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct loop_source ls = {.get = source_get, .put = source_put, .cls = &src};
	struct seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct atlas_err err = {0};
	char *dir = tu_tmpdir();
	struct loop *l;

	(void)ts;
	src.st = state_from_yaml(y, strlen(y), &d, NULL);
	assert_non_null(src.st);
	l = loop_start_from(dir, on_run, &seen, &ls, &err);
	assert_non_null(l);
	WAIT_UNTIL("the start run", runs(dir, "start") == 1);
	assert_int_equal(run_generation(dir, "start"), 42);
	request_ok(l, &seen);
	loop_stop(l);
	assert_int_equal(run_generation(dir, "api apply"), 42);
	assert_true(src.gets >= 2);
	assert_int_equal(src.puts, src.gets);
	assert_int_equal(src.strays, 0);
	state_free(src.st);
	tu_rmrf_free(dir);
}

/*
 * Fake drivers for the status round: "openvpn" takes the engine lock for
 * its status and holds it until the test opens the gate; "wireguard" runs
 * alone (status_alone), and when asked to, has a run happen during its
 * round (a request the loop answers before the status returns).
 */
static struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int entered, open;
	struct loop *loop;
	int run_inside;
	struct seen seen;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, 0,
	  {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, NULL}};

static json_t *locked_status(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	(void)ctx;
	(void)desired;
	pthread_mutex_lock(&gate.mu);
	gate.entered = 1;
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
	return json_pack("{s:b}", "running", 1);
}

static json_t *alone_status(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	struct atlas_err err = {0};

	(void)ctx;
	(void)desired;
	if (gate.run_inside && loop_request(gate.loop, NULL, on_done, &gate.seen, &err) == 0) {
		WAIT_UNTIL("the run inside the round", done_count(&gate.seen) == 1);
		json_decref(gate.seen.result);
	}
	return json_pack("{s:[]}", "interfaces");
}

static const struct driver fake_ovpn = {.name = "openvpn", .status = locked_status};
static const struct driver fake_wg = {.name = "wireguard", .status = alone_status,
				      .status_alone = 1};

struct round {
	struct loop *l;
	const struct driver *const *v;
	const struct atlas_state *st;
	json_t *live;
	int overlapped, done;
};

static void *status_round(void *arg)
{
	struct round *r = arg;

	r->live = loop_engine_status_of(r->l, r->v, r->st, &r->overlapped);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * issue 18: a status that only reads (status_alone: WireGuard's `wg show
 * dump`, 25-35 ms of wireguard-go at 10,000 peers, the round around it more)
 * does not wait for the engine lock, which a fast set of one peer needs
 * too; a status that needs the lock still takes it. A round that a run
 * overlapped says so (it may have seen a step of that run), one that no
 * run overlapped does not. The real drivers: WireGuard's runs alone,
 * OpenVPN's (one management client at a time) does not.
 */
static void test_loop__status_without_the_engine_lock(void **ts)
{
	const char *y = "version: 1\nsettings: {}\nopenvpn:\n  network: 10.9.0.0/24\n"
			"wireguard:\n  interfaces: []\n";
	const struct driver *const ov_only[] = {&fake_ovpn, NULL}, *const wg_only[] = {&fake_wg,
										      NULL};
	struct atlas_err err = {0};
	struct diags d = {0};
	struct atlas_state *st = state_from_yaml(y, strlen(y), &d, NULL);
	char *dir = tu_tmpdir();
	struct round a = {0}, b = {0}, c = {0};
	pthread_t ta, tb;
	struct loop *l;

	(void)ts;
	assert_non_null(st);
	assert_true(st->has_openvpn && st->has_wireguard);
	l = loop_start(dir, NULL, NULL, &err);
	assert_non_null(l);
	WAIT_UNTIL("the start run", runs(dir, "start") == 1);
	WAIT_UNTIL("the start pass", loop_passes(l) >= 1);
	/* a round that holds the engine lock, stopped in its status */
	a = (struct round){.l = l, .v = ov_only, .st = st};
	assert_int_equal(pthread_create(&ta, NULL, status_round, &a), 0);
	WAIT_UNTIL("the locked status", __atomic_load_n(&gate.entered, __ATOMIC_SEQ_CST));
	/* WireGuard's round goes on meanwhile */
	b = (struct round){.l = l, .v = wg_only, .st = st};
	assert_int_equal(pthread_create(&tb, NULL, status_round, &b), 0);
	WAIT_UNTIL("the status that runs alone", __atomic_load_n(&b.done, __ATOMIC_SEQ_CST));
	pthread_join(tb, NULL);
	assert_non_null(json_object_get(b.live, "wireguard"));
	assert_int_equal(b.overlapped, 0);
	assert_false(__atomic_load_n(&a.done, __ATOMIC_SEQ_CST));
	pthread_mutex_lock(&gate.mu);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.mu);
	pthread_join(ta, NULL);
	assert_true(json_is_true(json_object_get(json_object_get(a.live, "openvpn"), "running")));
	assert_int_equal(a.overlapped, 0);
	/* a run during a round: the round says it overlapped */
	gate.loop = l;
	gate.run_inside = 1;
	c = (struct round){.l = l, .v = wg_only, .st = st};
	status_round(&c);
	assert_int_equal(c.overlapped, 1);
	assert_int_equal(runs(dir, "api apply"), 1);
	gate.run_inside = 0;
	assert_int_equal(wg_driver.status_alone, 1);
	assert_int_equal(ovpn_driver.status_alone, 0);
	loop_stop(l);
	json_decref(a.live);
	json_decref(b.live);
	json_decref(c.live);
	diags_clear(&d);
	state_free(st);
	tu_rmrf_free(dir);
}

/* The request queue: first in, first out; refused or answered, each once. */
struct heard {
	int n;
	char order[8];
	char last_error[96];
};

static void heard_done(void *cls, json_t *result)
{
	struct heard *h = cls;
	const char *e = json_string_value(json_object_get(result, "error"));

	h->order[h->n++] = json_is_true(json_object_get(result, "ok")) ? 'a' : 'r';
	snprintf(h->last_error, sizeof(h->last_error), "%s", e ? e : "");
	json_decref(result);
}

static void test_loop__request_queue(void **state)
{
	struct atlas_err err = {0};
	struct request_queue q;
	struct request *a, *b, *c, *rq;
	struct heard h = {0};

	(void)state;
	reqq_init(&q);
	assert_null(reqq_pop(&q));
	assert_null(request_new("nosuchengine", NULL, heard_done, &h, &err));
	assert_non_null(strstr(err.msg, "no driver for nosuchengine"));
	a = request_new(NULL, "token:ci", heard_done, &h, &err);
	b = request_new(NULL, NULL, heard_done, &h, &err);
	c = request_new(NULL, NULL, heard_done, &h, &err);
	assert_non_null(a);
	assert_string_equal(a->actor, "token:ci");
	assert_string_equal(a->engine, "");
	reqq_push(&q, a);
	reqq_push(&q, b);
	assert_ptr_equal(reqq_pop(&q), a);
	reqq_push(&q, c);
	request_answer(a, json_pack("{s:b}", "ok", 1));
	assert_ptr_equal(reqq_pop(&q), b);
	assert_ptr_equal(reqq_pop(&q), c);
	assert_null(reqq_pop(&q));
	reqq_push(&q, b);
	reqq_push(&q, c);
	rq = reqq_take_all(&q);
	assert_null(reqq_pop(&q));
	request_refuse_all(rq, "atlas is stopping");
	assert_int_equal(h.n, 3);
	assert_memory_equal(h.order, "arr", 3);
	assert_string_equal(h.last_error, "atlas is stopping");
	/* an emptied queue takes requests again */
	reqq_push(&q, request_new(NULL, NULL, heard_done, &h, &err));
	request_refuse_all(reqq_take_all(&q), "x");
	assert_int_equal(h.n, 4);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_loop__request_queue),
	cmocka_unit_test(test_loop__wake_due),
	cmocka_unit_test(test_loop__last_run_summary),
	cmocka_unit_test(test_loop__fast_fits),
	cmocka_unit_test(test_loop__fast_run_keeps_the_status_round),
	cmocka_unit_test(test_loop__start_burst_and_request),
	cmocka_unit_test(test_loop__decide),
	cmocka_unit_test(test_loop__engine_down_reconciles),
	cmocka_unit_test(test_loop__manual_mode),
	cmocka_unit_test(test_loop__backoff_reads_the_outcome),
	cmocka_unit_test(test_loop__runs_read_the_source),
	cmocka_unit_test(test_loop__status_without_the_engine_lock))
