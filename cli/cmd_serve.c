/*
 * cmd_serve.c - `atlas serve`: the daemon. Starts the reconcile loop, the
 * HTTP API, the SSE ticker and (with --watch) the GitOps watch, then waits
 * for signals in the main thread: SIGHUP reconciles now, SIGINT/SIGTERM
 * stop everything in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/list_cache.h"
#include "lib/clock.h"
#include "lib/fileio.h"
#include "api/tls.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "state/auth.h"
#include "state/pack.h"
#include "cli/cli.h"

static void on_run(void *cls, json_t *run)
{
	struct app *a = cls;

	pthread_mutex_lock(&a->stats_mu);
	a->runs_total++;
	if (!json_is_true(json_object_get(run, "ok")))
		a->runs_failed++;
	pthread_mutex_unlock(&a->stats_mu);
	/* every action of the run, as objects, only when a stream is open to read them */
	if (events_clients(a->events) > 0) {
		json_t *full = loop_run_full(run);

		events_publish(a->events, "apply", full);
		json_decref(full);
	}
	if (loop_run_refreshes_status(run))
		ticker_tick_now(a->ticker);
}

static void app_free(struct app *a)
{
	store_close(a->store);
	state_pack_free(a->cache);
	list_cache_free(a->lists);
	json_decref(a->live);
	live_wg_free(a->live_wg);
	free(a->watch_error);
	free(a->metrics_token);
	OPENSSL_cleanse(a->jwt_key, sizeof(a->jwt_key));
	pthread_mutex_destroy(&a->store_mu);
	pthread_mutex_destroy(&a->live_mu);
	pthread_mutex_destroy(&a->rl_mu);
	pthread_mutex_destroy(&a->stats_mu);
	pthread_rwlock_destroy(&a->cache_mu);
	pthread_mutex_destroy(&a->install_mu);
	pthread_cond_destroy(&a->install_cond);
	pthread_mutex_destroy(&a->async_mu);
	pthread_cond_destroy(&a->async_cond);
}

/* Whether listen ("0.0.0.0:8080", "[::]:8080", ":8080") binds every address. */
static int wildcard(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : 0;

	return colon && (n == 0 || (n == 7 && !strncmp(listen, "0.0.0.0", 7)) ||
			 (n == 4 && !strncmp(listen, "[::]", 4)));
}

/*
 * Keeps the first start's admin password pw (auth_ensure_admin made it) in
 * a 0600 file in the data directory, not on stdout: under systemd stdout
 * is the journal, which others may read.
 */
static int first_admin_keep(struct app *a, const char *pw)
{
	struct atlas_err err = {0};
	char line[40];
	char *path = xasprintf("%s/" AUTH_INITIAL_PW_FILE, a->datadir);
	int ret = 0;

	snprintf(line, sizeof(line), "%s\n", pw);
	if (file_write_atomic(path, line, strlen(line), 0600, &err) < 0) {
		fprintf(stderr, "atlas: cannot keep the first-start password: %s\n", err.msg);
		ret = -1;
	}
	OPENSSL_cleanse(line, sizeof(line));
	free(path);
	return ret;
}

/* Says where the password is (only an interactive terminal sees pw itself). */
/* 1 when the first start's password file is still there (the password unchanged). */
static int first_admin_left(struct app *a)
{
	char *path = xasprintf("%s/" AUTH_INITIAL_PW_FILE, a->datadir);
	int left = file_exists(path);

	free(path);
	return left;
}

static void first_admin_tell(struct app *a, const char *listen, const char *pw)
{
	char *path = xasprintf("%s/" AUTH_INITIAL_PW_FILE, a->datadir);

	/*
	 * URL, user and password together; a wildcard address is no URL to open.
	 * pw NULL: a later start while the first password is still unchanged
	 * (the first start may have failed after making it: a bad option).
	 */
	if (pw)
		printf("atlas: first start: created user \"admin\"; its password is in %s (mode "
		       "0600)\n", path);
	else
		printf("atlas: the first-start password of user \"admin\" is still in %s (mode "
		       "0600)\n", path);
	printf("atlas: panel: %s://%s%s/ - sign in as admin, then change the password (the file "
	       "goes then)\n",
	       a->tls ? "https" : "http", wildcard(listen) ? "THIS-HOST" : listen,
	       wildcard(listen) ? strrchr(listen, ':') : "");
	if (!pw)
		printf("atlas: read it with: cat %s\n", path);
	else if (isatty(STDOUT_FILENO))
		printf("atlas: the password is %s\n", pw);
	else
		printf("atlas: (not printed here: stdout is no terminal) read it with: cat %s\n", path);
	fflush(stdout);
	free(path);
}

/*
 * Chooses HTTP or HTTPS for listen and loads the certificate into a->tls:
 * the given pair; else on loopback plain HTTP; else a self-signed pair made
 * on the first start. Plain HTTP beyond loopback only with --insecure-http.
 */
static int serve_tls(struct app *a, const char *listen, const char *cert, const char *key,
		     int from_settings, int no_tls, int insecure)
{
	struct atlas_err err = {0};
	char *c = NULL, *k = NULL;
	int loopback = tls_listen_is_loopback(listen), created = 0, ret = -1;

	if (!!cert != !!key) {
		fprintf(stderr, "atlas serve: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if ((no_tls || insecure) && cert) {
		fprintf(stderr, "atlas serve: --tls-cert contradicts --no-tls/--insecure-http\n");
		return -1;
	}
	if (insecure && !loopback)
		log_warn("plain HTTP on %s (--insecure-http): passwords and tokens cross the network "
			 "in clear text unless a TLS proxy on this host is the only one that reaches "
			 "it", listen);
	if (insecure || (!cert && loopback))
		return 0;
	if (no_tls) {
		fprintf(stderr,
			"atlas serve: refusing plain HTTP on %s: it is not a loopback address, so "
			"passwords and tokens would cross the network in clear text; serve HTTPS "
			"(drop --no-tls, or give --tls-cert and --tls-key) or, when a TLS proxy on "
			"this host fronts the panel, say so with --insecure-http\n",
			listen);
		return -1;
	}
	if (!cert) {
		if (tls_self_signed(a->datadir, listen, &c, &k, &created, &err) < 0)
			goto out;
		cert = c;
		key = k;
	}
	if (!(a->tls = tls_new(cert, key, &err)) && from_settings) {
		/*
		 * A pair named by the settings that does not load (moved, a typo
		 * stored through the API) would keep the panel down, and its fix
		 * needs the panel: served self-signed instead, said loudly.
		 */
		log_error("settings.tls_cert/tls_key: %s: serving the self-signed certificate of "
			  "%s/tls/ instead until that pair loads (tried again on SIGHUP)",
			  err.msg, a->datadir);
		if (tls_self_signed(a->datadir, listen, &c, &k, &created, &err) < 0)
			goto out;
		if ((a->tls = tls_new(c, k, &err)))
			tls_want(a->tls, cert, key);
		cert = c;
		key = k;
	}
	if (!a->tls)
		goto out;
	if (created)
		printf("atlas: first start: created a self-signed TLS certificate %s\n", cert);
	printf("atlas: TLS certificate SHA-256 fingerprint %s\n", tls_fingerprint(a->tls));
	fflush(stdout);
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "atlas: %s\n", err.msg);
	free(c);
	free(k);
	return ret;
}

/*
 * The certificate pair of settings.tls_cert / tls_key in the stored desired
 * state (new strings): 0 when both are set, -1 when not (or unreadable).
 * The command-line options win over them; like those, the paths are read
 * at the start and the files again on SIGHUP. The state read is the API's
 * cache, which the loop's first run and the first status tick then share
 * (app_loop_source): the only full load of the start.
 */
static int settings_tls(struct app *a, char **cert, char **key)
{
	struct atlas_err err = {0};
	const struct atlas_state *st;
	int64_t gen;
	int ret = -1;

	if (!(st = app_state_acquire(a, &gen, &err)))
		return -1;
	if (st->settings.tls_cert && st->settings.tls_key) {
		*cert = xstrdup(st->settings.tls_cert);
		*key = xstrdup(st->settings.tls_key);
		ret = 0;
	}
	app_state_put(a);
	return ret;
}

int cmd_serve(int argc, char **argv)
{
	static const char usage[] =
	    "usage: atlas serve [--listen ADDR:PORT] [--watch FILE]\n"
	    "                   [--tls-cert FILE --tls-key FILE] [--no-tls] [--insecure-http]\n\n"
	    "Runs the reconcile loop and the HTTP API and panel (default 127.0.0.1:8080).\n"
	    "--watch FILE imports FILE at start and at every change; the API and the CLI\n"
	    "then refuse edits. SIGHUP reconciles at once. The first start writes the admin password\n"
	    "to DATA/" AUTH_INITIAL_PW_FILE " (0600; shown too when stdout is a terminal).\n"
	    "With settings.auto_apply false, edits wait: only POST /api/v1/apply or SIGHUP\n"
	    "applies them (the loop keeps observing drift).\n"
	    "ATLAS_METRICS_TOKEN=T makes /metrics require `Authorization: Bearer T`.\n"
	    "HTTPS: with --tls-cert/--tls-key (PEM chain and key, read again on SIGHUP; else\n"
	    "settings.tls_cert/tls_key of the desired state), or\n"
	    "on a non-loopback address a self-signed certificate made on the first start\n"
	    "(DATADIR/tls/). Loopback serves plain HTTP unless given a certificate;\n"
	    "--no-tls forces plain HTTP and is refused beyond loopback, --insecure-http\n"
	    "serves plain HTTP anywhere (behind a TLS proxy on the same host).\n";
	const char *listen = "127.0.0.1:8080", *watch = NULL, *mt = getenv("ATLAS_METRICS_TOKEN");
	const char *tls_cert = NULL, *tls_key = NULL;
	char *tls_cert_own = NULL, *tls_key_own = NULL; /* from settings.tls_cert / tls_key */
	int no_tls = 0, insecure_http = 0, created = 0, claimed = 0, lock = -1;
	char pw[25] = "";
	struct atlas_err err = {0};
	struct server *srv = NULL;
	struct app a;
	sigset_t set;
	int ret = 1, sig;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else if (!strcmp(argv[i], "--watch") && i + 1 < argc) {
			watch = argv[++i];
		} else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc) {
			tls_cert = argv[++i];
		} else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc) {
			tls_key = argv[++i];
		} else if (!strcmp(argv[i], "--no-tls")) {
			no_tls = 1;
		} else if (!strcmp(argv[i], "--insecure-http")) {
			insecure_http = 1;
		} else {
			fprintf(stderr, "atlas serve: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	{
		/* before anything is made (the data directory, a certificate) */
		struct server_addr addr;

		if (server_parse_listen(listen, &addr, &err) < 0) {
			fprintf(stderr, "atlas serve: --listen: %s\n", err.msg);
			return 1;
		}
	}
	/* Few malloc arenas: threads would otherwise each reserve their own. */
	mallopt(M_ARENA_MAX, 2);
	/* A fixed mmap threshold: scrypt's 16 MiB goes back to the system at once. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* Signals go to the main thread's sigwait only: block them before threads exist. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&a, 0, sizeof(a));
	pthread_mutex_init(&a.store_mu, NULL);
	pthread_mutex_init(&a.live_mu, NULL);
	pthread_mutex_init(&a.rl_mu, NULL);
	pthread_mutex_init(&a.stats_mu, NULL);
	pthread_rwlock_init(&a.cache_mu, NULL);
	pthread_mutex_init(&a.install_mu, NULL);
	pthread_cond_init(&a.install_cond, NULL); /* waited on without a deadline */
	pthread_mutex_init(&a.async_mu, NULL);
	clock_cond_init(&a.async_cond); /* timed waits on CLOCK_MONOTONIC (server_stop) */
	a.datadir = (char *)cli_datadir;
	a.watch_file = (char *)watch;
	a.started = time(NULL);
	a.cache_gen = -1;
	a.lists = list_cache_new();
	a.metrics_token = mt && *mt ? xstrdup(mt) : NULL;
	/* the lock first: a second serve must not migrate or clean up under the first */
	if (mkdir_p(cli_datadir, 0700, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if ((lock = cli_serve_lock(cli_datadir, 0)) < 0)
		goto out;
	if (store_open(cli_datadir, &a.store, &err) < 0 ||
	    jwt_key_load(cli_datadir, a.jwt_key, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	{
		/* nothing of ours is being written yet: every stale temporary file goes */
		size_t gone = file_clean_stale(cli_datadir, 1);

		if (gone)
			log_info("start: removed %zu stale temporary file%s left by a killed run",
				 gone, gone == 1 ? "" : "s");
	}
	/*
	 * The first start's hash of the admin password (scrypt: 8 MiB) before
	 * the state's one load (6.5 MB at 10,000 peers), so the two never meet;
	 * the store's page cache is small before that load fills it.
	 */
	store_set_cache_kib(a.store, 512, NULL);
	if (auth_ensure_admin(a.store, pw, &created, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (created && first_admin_keep(&a, pw) < 0)
		goto out;
	if (settings_tls(&a, &tls_cert_own, &tls_key_own) == 0 && !tls_cert && !tls_key &&
	    !no_tls && !insecure_http) {
		tls_cert = tls_cert_own;
		tls_key = tls_key_own;
	}
	/* the load's rows and strings (6.5 MB at 10,000 peers) are free: not kept as heap */
	malloc_trim(0);
	/* and so are the pages of the code that made it (ticker.c: DROP_SECONDS) */
	proc_drop_file_pages();
	if (serve_tls(&a, listen, tls_cert, tls_key, tls_cert && tls_cert == tls_cert_own, no_tls,
		      insecure_http) < 0)
		goto out;
	if (created)
		first_admin_tell(&a, listen, pw);
	else if (first_admin_left(&a))
		first_admin_tell(&a, listen, NULL);
	a.events = events_new();
	a.ticker = ticker_new(&a);
	{
		struct loop_source src = app_loop_source(&a);

		a.loop = loop_start_from(cli_datadir, on_run, &a, &src, &err);
	}
	if (!a.loop) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (watch) {
		/* the file keeps the state: other processes' edits are refused while this runs */
		char *abs = realpath(watch, NULL);
		int rc = store_watch_claim(a.store, abs ? abs : watch, &err);

		free(abs);
		if (rc < 0) {
			fprintf(stderr, "atlas: %s\n", err.msg);
			goto out;
		}
		claimed = 1;
	}
	if (watch && !(a.watch = watch_start(&a, watch, &err))) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (ticker_start(a.ticker) < 0) {
		fprintf(stderr, "atlas: cannot start the event ticker\n");
		goto out;
	}
	srv = server_start(&a, listen, &err);
	if (!srv) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	log_info("serving on %s://%s (data %s%s%s)", a.tls ? "https" : "http", listen, cli_datadir,
		 watch ? ", watching " : "", watch ? watch : "");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reconciling now");
			if (a.tls && tls_reload(a.tls, &err) < 0)
				log_error("SIGHUP: %s (still serving the previous certificate)",
					  err.msg);
			else if (a.tls)
				log_info("SIGHUP: TLS certificate %s", tls_fingerprint(a.tls));
			loop_wake(a.loop, "sighup", 0);
			continue;
		}
		log_info("signal %d: stopping", sig);
		break;
	}
	ret = 0;
out:
	watch_stop(a.watch);
	if (claimed)
		store_watch_release(a.store);
	ticker_stop(a.ticker);
	events_close(a.events);
	/* the HTTP threads first: a request in flight still reads the loop (its last run) */
	server_stop(srv);
	loop_stop(a.loop);
	ticker_free(a.ticker);
	tls_free(a.tls);
	events_free(a.events);
	app_free(&a);
	free(tls_cert_own);
	free(tls_key_own);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (lock >= 0)
		close(lock);
	return ret;
}
