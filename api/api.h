/*
 * api.h - the HTTP API of `atlas serve`: what the server, the router and the
 * handlers share. Only api/ includes microhttpd.h.
 *
 * One struct app holds the daemon's shared state: the API's own store
 * connection (guarded by store_mu: SQLite transactions are per connection),
 * a cache of the desired state keyed by generation (so a GET does not reload
 * 10,000 peers), the live engine status refreshed by the ticker thread, the
 * reconcile loop, the SSE hub, the live status ticker and the GitOps watch.
 */
#ifndef ATLAS_API_H
#define ATLAS_API_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "controller/loop.h"
#include "lib/buf.h"
#include "state/model.h"
#include "state/store.h"
#include "api/jwt.h"

#define ATLAS_API_VERSION  "0.1.0"
#define API_BODY_MAX	   (1u << 20)
#define API_STATE_BODY_MAX (16u << 20)

struct events;
struct list_cache;
struct watch;
struct tls;

/* live.c: the WireGuard part of the live status, compact and sorted. */
struct live_peer {
	unsigned char key[KEY_LEN];	/* raw public key */
	uint32_t endpoint;   /* offset in live_iface.endpoints; 0: none */
	uint32_t handshake;  /* unix seconds (32 bits: until 2106), 0: never */
	long long rx, tx;
};
struct live_iface {
	char name[32];
	int running;
	struct live_peer *peers; /* sorted by key */
	size_t n;
	char *endpoints; /* the peers' endpoints, each NUL-ended; "" at offset 0 */
};
struct live_wg {
	struct live_iface *ifs;
	size_t n;
};
/* From the driver's JSON (borrowed); NULL when wg is NULL. */
struct live_wg *live_wg_from_json(json_t *wg);
void live_wg_free(struct live_wg *l);
const struct live_iface *live_wg_iface(const struct live_wg *l, const char *name);
const struct live_peer *live_wg_peer(const struct live_iface *li, const struct wg_key *key);
/* lp's endpoint ("1.2.3.4:51820"), NULL when none or lp is NULL. */
const char *live_peer_endpoint(const struct live_iface *li, const struct live_peer *lp);

/* api_auth.c: failed logins of one user from one address (or device). */
struct ratelimit_entry {
	char key[224]; /* "user\naddr" or "user\ndevice:D"; "" when free */
	time_t last;   /* the last failure */
	int failures;
};

/* Who borrows the packed state (app_state_share). */
enum { APP_HOLD_LOOP, APP_HOLD_TICK, APP_HOLDERS };

struct app {
	char *datadir;
	char *watch_file; /* NULL unless --watch */
	pthread_mutex_t store_mu;
	struct store *store;
	/* the generation as of gen_stamp (app_generation; store_mu) */
	struct store_stamp gen_stamp;
	int64_t gen_seen, gen_read_ms;
	unsigned char jwt_key[JWT_KEY_LEN];
	char *metrics_token; /* NULL: /metrics needs no token */
	struct tls *tls;     /* NULL: plain HTTP (api/tls.h) */
	struct loop *loop;
	struct events *events;
	struct ticker *ticker;
	struct watch *watch;
	time_t started;

	pthread_rwlock_t cache_mu;
	struct atlas_state *cache; /* packed (state_pack): free() it */
	int64_t cache_gen;
	/*
	 * The packs the reconcile loop's run and the status tick hold
	 * (app_state_share, one slot each), or NULL: when the cache moves on
	 * meanwhile, the last holder's app_state_unshare frees it, not the
	 * cache. Each slot is written by its holder's thread under the read
	 * lock, read under the write lock only.
	 */
	const struct atlas_state *held[APP_HOLDERS];
	/*
	 * During an edit (store_mu held): the cache it started from, read
	 * locked, when it was the stored generation (app_edit_begin); NULL:
	 * the commit loads the stored state itself.
	 */
	const struct atlas_state *edit_old;
	int64_t edit_gen; /* the generation the edit started from (edit_old's when that is set) */
	/*
	 * The generation an edit stored and is about to make the cache
	 * (cache_install, a few ms), 0: none. A reader that finds the cache
	 * behind it waits for that instead of loading the whole state from
	 * SQLite (tens of ms at 10,000 peers, under store_mu: in the way of the
	 * next edit, and the edit's own install waited for it). Set while
	 * store_mu is held, so no reader sees the generation before it; guarded
	 * by install_mu.
	 */
	pthread_mutex_t install_mu;
	pthread_cond_t install_cond;
	int64_t installing;

	pthread_mutex_t live_mu; /* guards live, live_wg, live_round, watch_error */
	json_t *live;		 /* engine status but wireguard's, or NULL */
	struct live_wg *live_wg; /* wireguard's, or NULL without status */
	uint64_t live_round;	 /* counts the ticker's new live statuses */
	struct list_cache *lists; /* list answers as bytes (list_cache.h), or NULL: none kept */
	char *watch_error;	 /* last import error of the watched file */

	pthread_mutex_t rl_mu;
	struct ratelimit_entry rl[256];

	/*
	 * Requests suspended until the loop answers (req_suspend, POST /apply),
	 * counted until their answer is sent (or the client is gone): the
	 * server's stop waits for them, since libmicrohttpd cannot stop with a
	 * connection suspended and an answer not yet sent would be lost; once
	 * it stops, no request is suspended (503).
	 */
	pthread_mutex_t async_mu;
	pthread_cond_t async_cond;
	int async_pending;
	int async_stopping;
	int inflight; /* requests read and not yet answered: the stop lets them finish (a while) */
	unsigned long served; /* requests answered so far (async_mu): the ticker's sign of use */

	/* counters for /metrics */
	pthread_mutex_t stats_mu;
	uint64_t runs_total, runs_failed;
};

/* A request in progress, from its first header to the completed callback. */
struct req {
	struct app *app;
	void *conn; /* struct MHD_Connection * */
	const char *method, *url;
	const struct route *route;
	char params[3][128];
	size_t nparams;
	struct buf body;
	size_t body_max;
	int too_big;
	int started;	  /* the access handler has seen this request */
	int close;	  /* answer with Connection: close */
	char reject[160]; /* why the request is refused before routing, or "" */
	/* the answer */
	int status;
	const char *ctype;
	struct buf out;
	char disposition[160];
	char retry_after[16];
	const char *cache;    /* Cache-Control of a static file */
	const char *encoding; /* Content-Encoding ("gzip") or NULL */
	const char *vary;     /* Vary or NULL */
	char etag[48];	      /* ETag with its quotes, or "" */
	void *resp;	      /* struct MHD_Response *: set by streaming handlers */
	/* the accepted token (auth_request): streams end when it stops being valid */
	char auth_user[128]; /* "admin", or "token:NAME" for an API token */
	int64_t auth_epoch, auth_exp;
	int auth_scope; /* enum token_scope: SCOPE_SESSION for a panel session */
	/* asynchronous handlers (POST /apply): suspended until done */
	pthread_mutex_t mu;
	int suspended;
	int async_done;
	int async_counted; /* counted in app->async_pending until freed (answered or gone) */
	int inflight;	   /* counted in app->inflight until freed */
	json_t *async_result;
	/*
	 * A rename the edit commits (engine, old and new usage names): its usage
	 * moves in the same hold of store_mu, before anyone sees the new state.
	 */
	const char *usage_engine;
	char usage_from[2 * 128 + 2], usage_to[2 * 128 + 2];
};

typedef void (*handler_fn)(struct req *r);

enum route_flags {
	R_NOAUTH = 1 << 0,   /* no token needed */
	R_WRITE = 1 << 1,    /* edits desired state: 409 with --watch */
	R_BIG_BODY = 1 << 2, /* body up to 16 MiB (PUT /state) */
	R_QUERY_TOKEN = 1 << 3, /* the token may come as ?token= (EventSource sends no header) */
	R_DRY_RUN = 1 << 4,	/* with ?dry_run (not "0") a R_WRITE route stores nothing */
};

struct resource;

struct route {
	const char *method;
	const char *pattern; /* "/api/v1/wireguard/interfaces/{if}" */
	handler_fn fn;
	unsigned flags;
	int scope; /* enum token_scope (state/tokens.h): what an API token needs */
	const struct resource *res; /* the resource kind of resource.c's handlers, or NULL */
};

/* router.c */
extern const struct route api_routes[];
extern const size_t api_nroutes;
/* The scope an API token needs for rt (enum token_scope; SCOPE_ADMIN when its row has none). */
int router_scope(const struct route *rt);
/*
 * The route for method and path; params gets the {x} segments. *path_known
 * is 1 when some route has this path (for 405). NULL when none matches.
 */
const struct route *router_match(const char *method, const char *path, char params[][128],
				 size_t *nparams, int *path_known);

/* reply.c: what a handler reads and how it answers */
void reply_json(struct req *r, int status, json_t *j); /* steals j */
void reply_error(struct req *r, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void reply_data(struct req *r, int status, const char *ctype, const void *data, size_t len);
const char *req_query(struct req *r, const char *key);
/*
 * A yes/no query parameter: 1 for "1" or "true", 0 for "0", "false" or
 * none; -1 (and a 400 naming it sent) for any other value.
 */
int req_query_flag(struct req *r, const char *key);
const char *req_header(struct req *r, const char *key);
const char *req_client_addr(struct req *r, char *buf, size_t len);
/* 1 when an If-None-Match value (may be NULL) names etag (quoted) or is "*". */
int etag_matches(const char *inm, const char *etag);
/* Parses the body as a JSON object (new) or replies 400 and returns NULL. */
json_t *req_json(struct req *r);
/* Suspends the request until req_resume() (from any thread). */
int req_suspend(struct req *r); /* -1: the server is stopping (answered 503) */
void req_resume(struct req *r, json_t *result); /* steals result */
/* 1 once req_suspend() was called, answered or not (req_resume). */
int req_is_async(struct req *r);

/* app.c: state access */
/*
 * The current desired state (borrowed, read-locked) and its generation;
 * NULL with a 500 reply on a store error. Call app_state_put() after.
 */
const struct atlas_state *app_state_get(struct req *r, int64_t *gen);
void app_state_put(struct app *a);
/* The same without a request (NULL with err); release with app_state_put. */
const struct atlas_state *app_state_acquire(struct app *a, int64_t *gen, struct atlas_err *err);
/*
 * For the reconcile loop and the status tick (holder APP_HOLD_*, one state
 * each): the packed state of the stored generation, the cache's own (loaded
 * once for the API and the run when not cached), borrowed until
 * app_state_unshare even when the cache moves on meanwhile; no lock is held
 * in between, so edits go on during a run or while the tick waits for the
 * engines. NULL with err on a store error.
 */
const struct atlas_state *app_state_share(struct app *a, int holder, int64_t *gen,
					  struct atlas_err *err);
void app_state_unshare(struct app *a, int holder, const struct atlas_state *st);
/*
 * The same without a load: the cache when it is generation min_gen or
 * later (its generation in *gen), else NULL and nothing held. An edit's
 * install of min_gen in flight (app_install_begin) is waited for.
 */
const struct atlas_state *app_state_peek(struct app *a, int holder, int64_t min_gen,
					 int64_t *gen);
/* The loop's source of desired states (loop_start_from): app_state_share. */
struct loop_source app_loop_source(struct app *a);
/*
 * Write path: app_edit_begin locks the store and loads a copy (new) of the
 * desired state; app_edit_commit commits it with state_commit (replying 422
 * with the first problem on failure), wakes the loop, announces the new
 * generation and unlocks; the caller still frees next (app_edit_abort
 * unlocks and frees it). Returns 0 when stored.
 */
struct atlas_state *app_edit_begin(struct req *r);
int app_edit_commit(struct req *r, struct atlas_state *next, const char *summary);
void app_edit_abort(struct req *r, struct atlas_state *next);
/*
 * The two halves of app_edit_commit's cache install: app_install_begin
 * (store_mu held, generation gen just stored) makes readers that find the
 * cache behind gen wait; app_cache_install packs next (borrowed) as the
 * cache of gen, unless a later generation was stored meanwhile, and lets
 * them go on. Cannot fail.
 */
void app_install_begin(struct app *a, int64_t gen);
void app_cache_install(struct app *a, const struct atlas_state *next, int64_t gen);
/* A new reference to the live engine status object, or NULL. */
json_t *app_live(struct app *a, const char *engine);
/* Called after any change of desired state (generation gen). */
void app_state_changed(struct app *a, int64_t gen, const char *trigger);
/* The same, with loop_wake's debounce (LOOP_WAKE_EDIT, LOOP_WAKE_COALESCE). */
void app_wake(struct app *a, int64_t gen, const char *trigger, int debounce);
/* Validates a {name} path parameter; replies 404 and returns -1 when bad. */
int app_name_param(struct req *r, size_t i, const char *what);

/*
 * Replies with a client file from the engine driver's client_config
 * (501 when the driver has none); filename (may be NULL) makes it an
 * attachment.
 */
void app_client_config(struct req *r, const struct atlas_state *st, const char *engine,
		       const char *resource, const char *format, const char *ctype,
		       const char *filename);
struct schema;
/* Removes item idx of a list (released); appends a copy of item's bytes (steals its contents). */
void app_list_remove(void *arrp, size_t *n, const struct schema *s, size_t idx);
void *app_list_append(void *arrp, size_t *n, const struct schema *s, const void *item);
/*
 * PATCH: decodes body onto a copy of target (a struct of schema s) and, when
 * it decodes and keeps its name (name: NULL for unnamed objects), replaces
 * target with it. Returns 0, or -1 after replying 422 (target unchanged).
 */
int app_patch(struct req *r, const struct schema *s, void *target, json_t *body,
	      const char *kind, const char *name);

/* api_auth.c */
/* 0 when the request carries a valid token (header, or ?token= when allow_query). */
int auth_request(struct req *r, int allow_query);
/* The token epoch of user now (tokens of another epoch are void), -1 when unknown. */
int64_t auth_user_epoch(struct app *a, const char *user);
/*
 * The login limiter (api_auth.c) for other checks of a secret: refuse
 * answers 429 and returns 1 while key must wait; record counts a failure
 * (ok 0) or resets key (ok 1).
 */
int auth_limit_refuse(struct req *r, const char *key, time_t now);
void auth_limit_record(struct app *a, const char *key, time_t now, int ok);
/* Ends the event streams whose token is void now (events_revalidate). */
void auth_revalidate_streams(struct app *a);

/*
 * api_auth.c: the check of an API token (auth_request calls it for a
 * token with the "atlas_" prefix): 0 and r's auth_* set, or -1 after a 401.
 * dispatch() then refuses a route above r->auth_scope (its row's scope in
 * api_routes) with 403.
 */
int auth_api_token(struct req *r, const char *token);
/* 1 when user ("token:NAME") names an API token that exists; its expiry into *exp. */
int auth_api_token_exists(struct app *a, const char *user, int64_t *exp);
/* app.c: sets the actor of r's next store save (call with store_mu held). */
void app_set_actor(struct req *r);

/* api_events.c: the hub of the SSE streams */
struct events *events_new(void);
/* Ends every stream (before server_stop). */
void events_close(struct events *e);
/* Frees the hub (after server_stop). Accepts NULL. */
void events_free(struct events *e);
/* Sends "event: type\ndata: JSON\n\n" to every SSE client (data borrowed). Accepts e NULL. */
void events_publish(struct events *e, const char *type, json_t *data);
size_t events_clients(struct events *e);
/*
 * Answers r with a new event stream whose first event is "status" with
 * status (borrowed; may be NULL: no first event). -1 when the stream
 * cannot be created (the caller replies).
 */
int events_subscribe(struct events *e, struct req *r, json_t *status);

/*
 * usage_tick.c: accounting at each status tick on its own store connection
 * of datadir. usage_book_tick() folds the engines' counters of live (and lw
 * for wireguard) into the users' entries, writes the changed ones in one
 * transaction and publishes "suspended" / "resumed" on ev (may be NULL);
 * returns 1 when the set of users over quota changed (the loop must run).
 * st is generation gen (0: not known); a round of a generation older than
 * the store's counts nothing (a rename may have moved the names it would
 * count under; the counters are cumulative, the next round counts it all).
 */
struct usage_book;
struct usage_book *usage_book_new(const char *datadir, struct atlas_err *err);
void usage_book_free(struct usage_book *b);
/* How many ticks so far read or wrote the book's store (the ticker's sign of SQLite use). */
unsigned long usage_book_store_ticks(const struct usage_book *b);
int usage_book_tick(struct usage_book *b, const struct atlas_state *st, int64_t gen,
		    json_t *live, const struct live_wg *lw, time_t now, struct events *ev);

/* ticker.c: the live status thread (status, traffic, connect/disconnect events) */
struct ticker;
/* A new ticker of a, not running yet (a->loop may not exist yet). Cannot fail. */
struct ticker *ticker_new(struct app *a);
/* Starts its thread (a->loop and a->events set). 0, or -1 when it cannot. */
int ticker_start(struct ticker *t);
/* Makes the ticker refresh the live status now (after an apply run). Accepts NULL. */
void ticker_tick_now(struct ticker *t);
/*
 * Stops the thread (before loop_stop: it reads the loop); ticker_tick_now
 * stays harmless until ticker_free (after loop_stop: the loop's runs call
 * it). Both accept NULL.
 */
void ticker_stop(struct ticker *t);
void ticker_free(struct ticker *t);
/*
 * Ends every stream whose token is no longer valid: expired, or of another
 * epoch than epoch_of(cls, user) says now (-1: unknown user). Each tick, and
 * after a password change. Accepts e NULL.
 */
void events_revalidate(struct events *e, int64_t (*epoch_of)(void *cls, const char *user),
		       void *cls);

/* api_state.c */
json_t *api_status_object(struct app *a);

/* watch.c */
struct watch *watch_start(struct app *a, const char *file, struct atlas_err *err);
void watch_stop(struct watch *w);

/* server.c */
struct server;
/* ADDR:PORT (an IPv4 or IPv6 address, [v6]:PORT) as a socket address; -1 naming what is wrong. */
struct server_addr {
	struct sockaddr_in sa4;
	struct sockaddr_in6 sa6;
	int v6;
	uint16_t port;
};
int server_parse_listen(const char *listen, struct server_addr *out, struct atlas_err *err);
struct server *server_start(struct app *a, const char *listen, struct atlas_err *err);
void server_stop(struct server *s);

/* handlers; the resources' own are in resource.h */
void h_health(struct req *r);
void h_login(struct req *r);
void h_password(struct req *r);
void h_status(struct req *r);
void h_settings_get(struct req *r);
void h_settings_patch(struct req *r);
void h_plan(struct req *r);
void h_apply(struct req *r);
void h_state_get(struct req *r);
void h_state_put(struct req *r);
void h_history(struct req *r);
/* api_usage.c */
void h_usage(struct req *r);
void h_usage_reset(struct req *r);
void h_history_get(struct req *r);
void h_history_restore(struct req *r);
void h_events(struct req *r);
void h_metrics(struct req *r);
void h_ovpn_restart(struct req *r);
/* api_tokens.c */
void h_totp_get(struct req *r);
void h_totp_enroll(struct req *r);
void h_totp_confirm(struct req *r);
void h_totp_disable(struct req *r);
void h_tokens_list(struct req *r);
void h_tokens_create(struct req *r);
void h_tokens_revoke(struct req *r);
/* static files of ui/ (gzip when accepted, ETag, 304); 1 when served */
int static_serve(struct req *r);
/* 1 when an Accept-Encoding value (may be NULL) takes gzip (q > 0). */
int static_accepts_gzip(const char *accept_encoding);

#endif
