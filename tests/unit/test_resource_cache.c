/*
 * test_resource_cache.c - the desired state and the lists `atlas serve`
 * keeps between generations (resource_fx.h): the list answers kept as
 * bytes, the packed state shared by the API and the loop, a read that
 * waits for an install in flight and a peek that never loads.
 */
#include "resource_fx.h"


/*
 * A list answer kept as bytes (api/list_cache.c) is the one serialised, and
 * is kept only while what it shows is: a new generation or a new live
 * status round serialises it again; a list too big to keep keeps its ETag.
 */
static void test_resource__list_cache(void **ts)
{
	struct fx *f = *ts;
	struct answer plain, a, b;
	struct list_key k = {.kind = &res_wg_peer, .gen = 1};
	struct buf out = BUF_INIT;
	char etag[48], etag2[48], *big;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	plain = call(f, "GET", IF "/wg0/peers", NULL); /* no cache: serialised */
	f->app.lists = list_cache_new();
	a = call(f, "GET", IF "/wg0/peers", NULL);
	b = call(f, "GET", IF "/wg0/peers", NULL);
	assert_string_equal(a.text, plain.text);
	assert_string_equal(b.text, plain.text);
	assert_true(a.etag[0] == '"');
	assert_string_equal(a.etag, b.etag);
	answer_release(&b);
	/* A new generation: the new peer is listed, under another ETag. */
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\"}", 201, NULL, NULL);
	b = call(f, "GET", IF "/wg0/peers", NULL);
	assert_int_equal(json_array_size(b.json), 2);
	assert_string_not_equal(a.etag, b.etag);
	answer_release(&a);
	/* A new live status round: the status shows. */
	live_set(f, str(json_array_get(b.json, 0), "public_key"), "1700000000\t1\t2");
	f->app.live_round++;
	a = call(f, "GET", IF "/wg0/peers", NULL);
	assert_true(json_is_true(json_object_get(json_object_get(json_array_get(a.json, 0), "status"),
						 "on_interface")));
	assert_string_not_equal(a.etag, b.etag);
	answer_release(&a);
	answer_release(&b);
	answer_release(&plain);
	/* Too big to keep: a hit gives the ETag only (the list is serialised again). */
	big = xcalloc(1, LIST_CACHE_ITEM_MAX + 1);
	memset(big, 'x', LIST_CACHE_ITEM_MAX + 1);
	list_cache_put(f->app.lists, &k, big, LIST_CACHE_ITEM_MAX + 1, etag);
	assert_int_equal(list_cache_get(f->app.lists, &k, etag2, &out), 0);
	assert_string_equal(etag, etag2);
	assert_int_equal(out.len, 0);
	free(big);
	/* Small: the bytes come back; another generation is a miss. */
	list_cache_put(f->app.lists, &k, "[]\n", 3, etag);
	assert_int_equal(list_cache_get(f->app.lists, &k, etag2, &out), 1);
	assert_string_equal(buf_str(&out), "[]\n");
	k.gen = 2;
	assert_int_equal(list_cache_get(f->app.lists, &k, etag2, &out), -1);
	buf_release(&out);
	/* If-None-Match: the ETag itself, among others, or "*" */
	assert_true(etag_matches(etag, etag));
	assert_true(etag_matches("\"x\", W/" , "\"x\""));
	assert_true(etag_matches("*", etag));
	assert_false(etag_matches("\"other\"", etag));
	assert_false(etag_matches(NULL, etag));
}

/*
 * The reconcile loop's share of the packed state (app_state_share) is the
 * API's own copy, and it outlives the cache: edits during a run move the
 * cache on, and the run's state stays whole until it is given back.
 */
/*
 * A load of the whole state into the API's packed copy gives the pages it
 * read back: the store's page cache holds (almost) none after it (at 10,000
 * peers it kept the server's whole 512 KiB of cache).
 */
static void test_resource__load_gives_cache_back(void **ts)
{
	struct fx *f = *ts;
	struct atlas_err err = {0};
	int64_t g = 0;
	int cur = 0, hi = 0;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	f->app.cache_gen = -1; /* the next read loads from the store */
	assert_non_null(app_state_acquire(&f->app, &g, &err));
	app_state_put(&f->app);
	assert_int_equal(sqlite3_db_status(store_db(f->app.store), SQLITE_DBSTATUS_CACHE_USED, &cur,
					   &hi, 0),
			 SQLITE_OK);
	assert_true(cur < 16 * 1024); /* one page at most; 140 KiB when they were kept */
}

static void test_resource__loop_share_outlives_the_cache(void **ts)
{
	struct fx *f = *ts;
	struct atlas_err err = {0};
	const struct atlas_state *held, *now;
	int64_t g0 = 0, g1 = 0;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	held = app_state_share(&f->app, APP_HOLD_LOOP, &g0, &err);
	assert_non_null(held);
	now = app_state_acquire(&f->app, &g1, &err);
	assert_ptr_equal(now, held); /* one copy for the API and the run */
	app_state_put(&f->app);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\"}", 201, NULL, NULL);
	now = app_state_acquire(&f->app, &g1, &err);
	assert_non_null(now);
	assert_true(g1 > g0);
	assert_ptr_not_equal(now, held);
	assert_int_equal(now->wireguard.interfaces[0].npeers, 2);
	app_state_put(&f->app);
	/* still generation g0's: one interface, no peer */
	assert_int_equal(held->version, 1);
	assert_int_equal(held->has_wireguard, 1);
	assert_int_equal(held->wireguard.ninterfaces, 1);
	assert_string_equal(held->wireguard.interfaces[0].name, "wg0");
	assert_int_equal(held->wireguard.interfaces[0].npeers, 0);
	app_state_unshare(&f->app, APP_HOLD_LOOP, held);
	/* the cache's own, shared and given back, stays the cache */
	held = app_state_share(&f->app, APP_HOLD_LOOP, &g0, &err);
	app_state_unshare(&f->app, APP_HOLD_LOOP, held);
	now = app_state_acquire(&f->app, &g1, &err);
	assert_ptr_equal(now, held);
	assert_int_equal(now->wireguard.interfaces[0].npeers, 2);
	app_state_put(&f->app);
}

/*
 * The loop and the status tick borrow the same pack: when the cache moves on
 * meanwhile, the first to give it back must not free what the other still
 * reads (ASan sees a use after free), and the last frees it (or it leaks).
 * No lock is held while borrowed: the edits below would deadlock otherwise.
 */
static void test_resource__two_holders_share_one_pack(void **ts)
{
	struct fx *f = *ts;
	struct atlas_err err = {0};
	const struct atlas_state *run, *tick, *now;
	int64_t g0 = 0, g1 = 0, g2 = 0;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	run = app_state_share(&f->app, APP_HOLD_LOOP, &g0, &err);
	tick = app_state_share(&f->app, APP_HOLD_TICK, &g1, &err);
	assert_ptr_equal(run, tick);
	assert_int_equal(g0, g1);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	now = app_state_acquire(&f->app, &g2, &err);
	assert_ptr_not_equal(now, run);
	app_state_put(&f->app);
	app_state_unshare(&f->app, APP_HOLD_LOOP, run);
	/* the tick's is still generation g0's */
	assert_string_equal(tick->wireguard.interfaces[0].name, "wg0");
	assert_int_equal(tick->wireguard.interfaces[0].npeers, 0);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\"}", 201, NULL, NULL);
	assert_int_equal(tick->wireguard.interfaces[0].npeers, 0);
	app_state_unshare(&f->app, APP_HOLD_TICK, tick);
	/* and the cache's own, held by both and given back, stays the cache */
	run = app_state_share(&f->app, APP_HOLD_LOOP, &g0, &err);
	tick = app_state_share(&f->app, APP_HOLD_TICK, &g1, &err);
	app_state_unshare(&f->app, APP_HOLD_TICK, tick);
	app_state_unshare(&f->app, APP_HOLD_LOOP, run);
	now = app_state_acquire(&f->app, &g2, &err);
	assert_ptr_equal(now, run);
	assert_int_equal(now->wireguard.interfaces[0].npeers, 2);
	app_state_put(&f->app);
}

/*
 * The fast run's state at hand (app_state_peek): the cache when it is the
 * generation asked for or a later one, held as the loop's share; never a
 * load (a share would load a cache that is behind): NULL, nothing held.
 */
static void test_resource__peek_never_loads(void **ts)
{
	struct fx *f = *ts;
	const struct atlas_state *st;
	int64_t g = 0;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	st = app_state_peek(&f->app, APP_HOLD_LOOP, 1, &g);
	assert_non_null(st);
	assert_ptr_equal(st, f->app.cache);
	assert_int_equal(g, 2);
	assert_ptr_equal(f->app.held[APP_HOLD_LOOP], st);
	app_state_unshare(&f->app, APP_HOLD_LOOP, st);
	assert_null(f->app.held[APP_HOLD_LOOP]);
	assert_null(app_state_peek(&f->app, APP_HOLD_LOOP, 3, &g));
	assert_null(f->app.held[APP_HOLD_LOOP]);
	f->app.cache_gen = 1; /* behind the store: a share would load generation 2 */
	assert_null(app_state_peek(&f->app, APP_HOLD_LOOP, 2, &g));
	assert_int_equal(f->app.cache_gen, 1);
	assert_null(f->app.held[APP_HOLD_LOOP]);
}

struct reader {
	struct app *app;
	int64_t peek; /* 0: app_state_acquire; else app_state_peek of this generation */
	char note[32]; /* alice's note in the state the read got */
	int done;
};

static void *read_state(void *arg)
{
	struct reader *rd = arg;
	struct atlas_err err = {0};
	const struct atlas_state *st;
	int64_t g = 0;

	st = rd->peek ? app_state_peek(rd->app, APP_HOLD_LOOP, rd->peek, &g)
		      : app_state_acquire(rd->app, &g, &err);
	if (st) {
		const char *n = st->wireguard.interfaces[0].peers[0].note;

		snprintf(rd->note, sizeof(rd->note), "%s", n ? n : "");
		if (rd->peek)
			app_state_unshare(rd->app, APP_HOLD_LOOP, st);
		else
			app_state_put(rd->app);
	}
	__atomic_store_n(&rd->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * A read between an edit's commit and its install as the cache
 * (app_install_begin announced the generation) waits for that install
 * instead of loading the state from SQLite: at 10,000 peers the status
 * tick's load in that gap held the cache's write lock for 100 ms and more,
 * and the edit's own install waited behind it. The fast run's peek at the
 * state for its record (woken before the install) waits for it too. The
 * installed pack says "installed" where the stored rows say "stored", so
 * the note tells which the read got. The pause before the install only
 * gives a read that does not wait the time to load (and fail the test);
 * one that waits cannot return before the install.
 */
static void install_while_read(struct fx *f, int peek)
{
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	struct reader rd = { .app = &f->app };
	pthread_t th;
	int64_t g = 0;

	assert_int_equal(store_load(f->app.store, &st, NULL, &err), 0);
	free(st->wireguard.interfaces[0].peers[0].note);
	st->wireguard.interfaces[0].peers[0].note = xstrdup("stored");
	pthread_mutex_lock(&f->app.store_mu);
	assert_int_equal(store_save(f->app.store, st, "test", "note", &g, &err), 0);
	app_install_begin(&f->app, g);
	pthread_mutex_unlock(&f->app.store_mu);
	rd.peek = peek ? g : 0;
	assert_int_equal(pthread_create(&th, NULL, read_state, &rd), 0);
	usleep(200 * 1000);
	assert_int_equal(__atomic_load_n(&rd.done, __ATOMIC_SEQ_CST), 0);
	free(st->wireguard.interfaces[0].peers[0].note);
	st->wireguard.interfaces[0].peers[0].note = xstrdup("installed");
	app_cache_install(&f->app, st, g);
	pthread_join(th, NULL);
	assert_string_equal(rd.note, "installed");
	assert_int_equal(f->app.installing, 0);
	assert_null(f->app.held[APP_HOLD_LOOP]);
	state_free(st);
}

static void test_resource__read_waits_for_the_install(void **ts)
{
	struct fx *f = *ts;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	install_while_read(f, 0);
	install_while_read(f, 1);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test_setup_teardown(test_resource__read_waits_for_the_install, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__peek_never_loads, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__list_cache, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__loop_share_outlives_the_cache, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__two_holders_share_one_pack, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__load_gives_cache_back, setup, teardown))
