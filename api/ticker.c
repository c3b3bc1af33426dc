/*
 * ticker.c - the thread that keeps the live status fresh: every
 * TICK_SECONDS (or at once after an apply run) it asks the drivers for
 * their live status (loop_engine_status), keeps it in app->live and
 * app->live_wg for the API and /metrics, and tells the event hub what
 * changed: "status", "traffic", "connect" and "disconnect" events.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "state/active.h"
#include "api/api.h"
#include "lib/proc.h"

#define TICK_SECONDS 3
/*
 * The pages of code and read-only data the start-up mapped (its one-off
 * work, and the kernel's fault-around: each fault maps the 64 KiB around
 * it) are unmapped once the start has settled, again at a tick that
 * follows a library's load (libcurl, which sing-box's status loads, starts
 * OpenSSL) or one-off work (proc_note_one_off: a login's password hash
 * touches 1.6 MB of libcrypto's pages, a new token's HMAC 1.3 MB), after
 * use (requests answered, runs made or the usage book's store read or
 * written since the last drop, and none of them during a whole tick: the
 * code of what the panel asked for, SQLite's compiler for the history and
 * usage queries), and every DROP_SECONDS: what the server
 * still runs faults its pages back in from the page cache
 * (docs/performance.md, "File-backed pages").
 */
#define DROP_SECONDS 600
#define SETTLE_TICKS 10

struct ticker {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t mu; /* guards stop and now */
	pthread_cond_t cond;
	int stop;
	int now;	   /* refresh at once (after an apply run) */
	int started;	   /* the thread runs (ticker_start) */
	json_t *connected; /* {"wireguard/wg0/alice": true, "openvpn/bob": true}; thread's own */
	struct usage_book *usage; /* accounting (usage_tick.c); thread's own, made at the first tick */
	int usage_failed;	  /* its store could not be opened: said once */
	int ticks;		  /* ticks so far, up to SETTLE_TICKS */
	int64_t dropped_ms;	  /* when file pages were last dropped (monotonic), 0: not yet */
	unsigned long long loads; /* proc_loads() at that drop */
	unsigned long one_offs;	  /* proc_one_offs() at that drop */
	unsigned long long loads_seen; /* proc_loads() at the tick before */
	unsigned long long work;       /* requests answered + loop runs at that drop */
	unsigned long long work_seen;  /* the same at the tick before */
};

/*
 * Requests answered, loop runs made and ticks whose usage book used its
 * store so far: what ran besides an idle tick's own code.
 */
static unsigned long long work_done(const struct ticker *t)
{
	unsigned long long n;

	pthread_mutex_lock(&t->app->async_mu);
	n = t->app->served;
	pthread_mutex_unlock(&t->app->async_mu);
	return n + (unsigned long long)loop_passes(t->app->loop) + usage_book_store_ticks(t->usage);
}

/*
 * The traffic event of st's peers and clients (when traffic is not NULL)
 * and the set of connected sessions ("wireguard/IF/PEER", "openvpn/NAME")
 * into now_conn. live_mu held.
 */
static void sessions(const struct atlas_state *st, const struct live_wg *lw, json_t *live,
		     json_t *now_conn, json_t **traffic)
{
	json_t *wg = traffic ? json_array() : NULL, *ov = traffic ? json_array() : NULL, *p;
	time_t now = time(NULL);
	size_t k;

	for (size_t i = 0; st && lw && i < st->wireguard.ninterfaces; i++) {
		const struct wg_iface *ifc = &st->wireguard.interfaces[i];
		const struct live_iface *li = live_wg_iface(lw, ifc->name);

		for (size_t q = 0; li && q < ifc->npeers; q++) {
			const struct live_peer *lp = live_wg_peer(li, &ifc->peers[q].public_key);

			if (!lp)
				continue;
			if (wg)
				json_array_append_new(
				    wg,
				    json_pack("{s:s, s:s, s:I, s:I, s:I}", "interface", ifc->name,
					      "peer", ifc->peers[q].name, "rx_bytes",
					      (json_int_t)lp->rx, "tx_bytes", (json_int_t)lp->tx,
					      "latest_handshake", (json_int_t)lp->handshake));
			if (wg_handshake_live(lp->handshake, now)) {
				char *key =
				    xasprintf("wireguard/%s/%s", ifc->name, ifc->peers[q].name);

				json_object_set_new(now_conn, key, json_true());
				free(key);
			}
		}
	}
	json_array_foreach(json_object_get(json_object_get(live, "openvpn"), "clients"), k, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		char *key;

		if (!name)
			continue;
		if (ov)
			json_array_append_new(
			    ov, json_pack("{s:s, s:I, s:I}", "client", name, "bytes_received",
					  json_integer_value(json_object_get(p, "bytes_received")),
					  "bytes_sent",
					  json_integer_value(json_object_get(p, "bytes_sent"))));
		key = xasprintf("openvpn/%s", name);
		json_object_set_new(now_conn, key, json_true());
		free(key);
	}
	if (traffic)
		*traffic = json_pack("{s:o, s:o}", "wireguard", wg, "openvpn", ov);
}

/*
 * Publishes connect/disconnect for the difference between t->connected and
 * now. The first tick after start is the baseline, not a burst of
 * "connect" events.
 */
static void connections(struct ticker *t, json_t *now)
{
	const char *key;
	json_t *v;

	if (t->connected) {
		json_object_foreach(now, key, v)
		{
			if (!json_object_get(t->connected, key)) {
				const char *slash = strchr(key, '/');
				json_t *ev = json_pack("{s:s%, s:s}", "engine", key,
						       (size_t)(slash - key), "name", slash + 1);

				events_publish(t->app->events, "connect", ev);
				json_decref(ev);
			}
		}
		json_object_foreach(t->connected, key, v)
		{
			if (!json_object_get(now, key)) {
				const char *slash = strchr(key, '/');
				json_t *ev = json_pack("{s:s%, s:s}", "engine", key,
						       (size_t)(slash - key), "name", slash + 1);

				events_publish(t->app->events, "disconnect", ev);
				json_decref(ev);
			}
		}
	}
	json_decref(t->connected);
	t->connected = json_incref(now);
}

/* One tick: live status from the drivers; events when someone listens. */
static void tick(struct ticker *t)
{
	struct app *a = t->app;
	struct atlas_err err = {0};
	const struct atlas_state *st;
	struct live_wg *lw = NULL, *oldw;
	json_t *live, *oldl;
	int64_t gen;
	int overlapped = 0;

	/* borrowed, not read locked: an edit's commit does not wait while the engines are busy */
	st = app_state_share(a, APP_HOLD_TICK, &gen, &err);
	/*
	 * The usage book (its connection, its entries) lives as long as the
	 * server: made before the round's big short-lived answers, not among them.
	 */
	if (st && !t->usage && !t->usage_failed && !(t->usage = usage_book_new(a->datadir, &err))) {
		log_warn("usage: accounting off: %s", err.msg);
		t->usage_failed = 1;
	}
	live = st ? loop_engine_status(a->loop, st, &overlapped) : json_object();
	if (st && !overlapped) {
		/*
		 * An engine seen down is reconciled now, not at the next resync;
		 * not when a run overlapped the round (it may have seen an
		 * interface the run was making): the next tick tells.
		 */
		char what[64];

		loop_engine_down(a->loop,
				 loop_status_down(st, live, what, sizeof(what)) ? what : NULL);
	}
	lw = live_wg_from_json(json_object_get(live, "wireguard"));
	/*
	 * accounting, and the loop at once when someone crossed a quota or came
	 * back; not beside the loop's first run (for at most SETTLE_TICKS): a
	 * first apply of 10,000 peers and the book's first entries for them
	 * (1.3 MB) were the start-up's peak together. Counters are totals: the
	 * first tick after it counts what came meanwhile.
	 */
	if (st && t->usage && (loop_passes(a->loop) > 0 || t->ticks >= SETTLE_TICKS) &&
	    usage_book_tick(t->usage, st, gen, live, lw, time(NULL), a->events))
		loop_wake(a->loop, "quota", 0);
	json_object_del(live, "wireguard");
	{
		/* The OpenVPN driver lists "sessions": the API reads "clients". */
		json_t *ov = json_object_get(live, "openvpn");

		if (ov && !json_object_get(ov, "clients") && json_object_get(ov, "sessions"))
			json_object_set(ov, "clients", json_object_get(ov, "sessions"));
	}
	pthread_mutex_lock(&a->live_mu);
	oldl = a->live;
	oldw = a->live_wg;
	a->live = json_incref(live);
	a->live_wg = lw;
	a->live_round++;
	pthread_mutex_unlock(&a->live_mu);
	json_decref(oldl);
	live_wg_free(oldw);
	{
		int listeners = events_clients(a->events) > 0;
		json_t *now_conn = json_object(), *tr = NULL, *status;

		/* Sessions are tracked at every tick, so a connect between ticks is seen. */
		pthread_mutex_lock(&a->live_mu);
		sessions(st, a->live_wg, live, now_conn, listeners ? &tr : NULL);
		pthread_mutex_unlock(&a->live_mu);
		connections(t, now_conn);
		if (st)
			app_state_unshare(a, APP_HOLD_TICK, st);
		st = NULL;
		if (listeners) {
			status = api_status_object(a);
			if (status)
				events_publish(a->events, "status", status);
			events_publish(a->events, "traffic", tr);
			json_decref(status);
			json_decref(tr);
		}
		json_decref(now_conn);
	}
	if (st)
		app_state_unshare(a, APP_HOLD_TICK, st);
	json_decref(live);
	/*
	 * The driver's answer and an apply's observation are big and short-lived
	 * (several MB with 10,000 peers): give the freed pages back to the
	 * system now rather than keep them as a high-water mark.
	 */
	malloc_trim(0);
}

/*
 * Settled: the loop's first run is over (or SETTLE_TICKS passed without
 * one) and this tick, which follows it, has run.
 */
static void drop_file_pages(struct ticker *t)
{
	int64_t now = clock_mono_ms();
	struct timespec t0, t1;
	long long kib;
	unsigned long long loads = proc_loads();
	unsigned long one_offs = proc_one_offs();
	/*
	 * A load is acted on once the count held for a whole tick: a library
	 * being loaded now (its dlopen done, its start not yet) is left to
	 * finish first.
	 */
	int loaded = t->dropped_ms && loads != t->loads && loads == t->loads_seen;
	int one_off = t->dropped_ms && one_offs != t->one_offs;
	unsigned long long work = work_done(t);
	/* used since the last drop, and quiet for a whole tick now */
	int used = t->dropped_ms && work != t->work && work == t->work_seen;

	t->loads_seen = loads;
	t->work_seen = work;
	if (t->ticks < SETTLE_TICKS)
		t->ticks++;
	if (t->dropped_ms ? now - t->dropped_ms < DROP_SECONDS * 1000 && !loaded && !one_off && !used
			  : t->ticks < SETTLE_TICKS && loop_passes(t->app->loop) == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kib = proc_drop_file_pages();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	t->dropped_ms = now;
	t->loads = loads;
	t->one_offs = one_offs;
	t->work = work;
	log_debug("ticker: %lld KiB of file pages unmapped in %ld us%s%s%s", kib,
		  (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000),
		  loaded ? " (a library was loaded since the last time)" : "",
		  one_off ? " (after one-off work: a password hash, a new token)" : "",
		  used && !one_off ? " (after use: requests answered, runs made)" : "");
}

static void *ticker_main(void *arg)
{
	struct ticker *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&t->mu);
		tick(t);
		auth_revalidate_streams(t->app); /* streams of void tokens end */
		drop_file_pages(t);
		pthread_mutex_lock(&t->mu);
		ts = clock_deadline(CLOCK_MONOTONIC, TICK_SECONDS * 1000);
		while (!t->stop && !t->now && pthread_cond_timedwait(&t->cond, &t->mu, &ts) == 0)
			;
		t->now = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct ticker *ticker_new(struct app *a)
{
	struct ticker *t = xcalloc(1, sizeof(*t));

	t->app = a;
	pthread_mutex_init(&t->mu, NULL);
	clock_cond_init(&t->cond);
	return t;
}

int ticker_start(struct ticker *t)
{
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0)
		return -1;
	t->started = 1;
	return 0;
}

/* Sets *flag (t->now or t->stop) and wakes the thread. */
static void poke(struct ticker *t, int *flag)
{
	pthread_mutex_lock(&t->mu);
	*flag = 1;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->mu);
}

void ticker_tick_now(struct ticker *t)
{
	if (t)
		poke(t, &t->now);
}

void ticker_stop(struct ticker *t)
{
	if (!t)
		return;
	poke(t, &t->stop);
	if (t->started)
		pthread_join(t->thread, NULL);
	t->started = 0;
}

void ticker_free(struct ticker *t)
{
	if (!t)
		return;
	ticker_stop(t);
	json_decref(t->connected);
	usage_book_free(t->usage);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
