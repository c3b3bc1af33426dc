/*
 * test_resource.c - the generic resource handlers (api/resource.c) driven
 * through the router's table, as the server does, on a store in a
 * temporary directory: every descriptor agrees with its field tables and
 * has its routes; create / get / list / patch / delete of a top-level
 * resource and of a child, with the 404, 409 and 422 answers and their
 * messages; the history summaries; a section created by the first create
 * or refused while unmanaged; a section's own GET and PATCH; the live
 * status hooks; a client file; the sing-box inbounds (created with their
 * first users) and users, their downloads and the subscription URL.
 *
 * The edits wake a reconcile loop that runs on a second, empty data
 * directory, so nothing is ever applied to this machine.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "testutil.h"

#include "api/api.h"
#include "api/list_cache.h"
#include "api/resource.h"
#include "state/pack.h"
#include "state/schema.h"
#include "state/store.h"

struct fx {
	char *dir, *loopdir;
	struct app app;
};

static int setup(void **ts)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct atlas_err err = {0};

	f->dir = tu_tmpdir();
	f->loopdir = tu_tmpdir();
	f->app.datadir = f->dir;
	pthread_mutex_init(&f->app.store_mu, NULL);
	pthread_rwlock_init(&f->app.cache_mu, NULL);
	pthread_mutex_init(&f->app.install_mu, NULL);
	pthread_cond_init(&f->app.install_cond, NULL);
	pthread_mutex_init(&f->app.live_mu, NULL);
	pthread_mutex_init(&f->app.rl_mu, NULL);
	pthread_mutex_init(&f->app.stats_mu, NULL);
	if (store_open(f->dir, &f->app.store, &err) < 0)
		fail_msg("%s", err.msg);
	f->app.loop = loop_start(f->loopdir, NULL, NULL, &err);
	if (!f->app.loop)
		fail_msg("%s", err.msg);
	*ts = f;
	return 0;
}

static int teardown(void **ts)
{
	struct fx *f = *ts;

	loop_stop(f->app.loop);
	store_close(f->app.store);
	state_pack_free(f->app.cache);
	list_cache_free(f->app.lists);
	live_wg_free(f->app.live_wg);
	json_decref(f->app.live);
	tu_rmrf(f->dir);
	tu_rmrf(f->loopdir);
	free(f->dir);
	free(f->loopdir);
	free(f);
	return 0;
}

/* A live status round of wg0 with one peer: KEY, endpoint 192.0.2.7:51820, then "HS\tRX\tTX". */
static void live_set(struct fx *f, const char *key, const char *counters)
{
	char lines[160];
	json_t *wg;

	snprintf(lines, sizeof(lines), "%s\t192.0.2.7:51820\t%s\n", key, counters);
	wg = json_pack("{s:[{s:s, s:b, s:s}]}", "interfaces", "name", "wg0", "up", 1, "peer_lines",
		       lines);
	live_wg_free(f->app.live_wg);
	f->app.live_wg = live_wg_from_json(wg);
	json_decref(wg);
}

struct answer {
	int status;
	const char *ctype;
	char disposition[160];
	char etag[48];
	char *text; /* the body (new) */
	json_t *json; /* the body parsed, or NULL */
};

static void answer_release(struct answer *a)
{
	free(a->text);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

/* Runs route rt with the path parameters params (np of them) as the server would. */
static struct answer run(struct fx *f, const struct route *rt, char params[3][128], size_t np,
			 const char *method, const char *path, const char *body)
{
	struct req r = {0};
	struct answer a = {0};

	r.app = &f->app;
	r.method = method;
	r.url = path;
	r.body_max = API_BODY_MAX;
	pthread_mutex_init(&r.mu, NULL);
	r.route = rt;
	memcpy(r.params, params, sizeof(r.params));
	r.nparams = np;
	if (body)
		buf_puts(&r.body, body);
	r.route->fn(&r);
	a.status = r.status;
	a.ctype = r.ctype;
	memcpy(a.disposition, r.disposition, sizeof(a.disposition));
	memcpy(a.etag, r.etag, sizeof(a.etag));
	a.text = xstrdup(r.out.len ? r.out.data : "");
	a.json = r.out.len ? json_loadb(r.out.data, r.out.len, 0, NULL) : NULL;
	buf_release(&r.body);
	buf_release(&r.out);
	pthread_mutex_destroy(&r.mu);
	return a;
}

/* Runs method path with body (may be NULL) through the router, after authentication. */
static struct answer call(struct fx *f, const char *method, const char *path, const char *body)
{
	const struct route *rt;
	char params[3][128] = {{0}};
	size_t np = 0;
	int known = 0;

	rt = router_match(method, path, params, &np, &known);
	if (!rt)
		fail_msg("no route for %s %s", method, path);
	return run(f, rt, params, np, method, path, body);
}

/* Calls and checks the status; with error, the answer's error message and field. */
static void expect(struct fx *f, const char *method, const char *path, const char *body,
		   int status, const char *error, const char *field)
{
	struct answer a = call(f, method, path, body);

	if (a.status != status)
		fail_msg("%s %s: status %d, want %d: %s", method, path, a.status, status, a.text);
	if (error) {
		const char *got = json_string_value(json_object_get(a.json, "error"));
		const char *gotf = json_string_value(json_object_get(a.json, "field"));

		if (!got || strcmp(got, error))
			fail_msg("%s %s: error \"%s\", want \"%s\"", method, path,
				 got ? got : "(none)", error);
		if (field ? !gotf || strcmp(gotf, field) : gotf != NULL)
			fail_msg("%s %s: field \"%s\", want \"%s\"", method, path,
				 gotf ? gotf : "(none)", field ? field : "(none)");
	}
	answer_release(&a);
}

/* The history's newest summaries are the arguments (NULL-ended), newest first. */
static void expect_history(struct fx *f, ...)
{
	struct gen_info *gi = NULL;
	struct atlas_err err = {0};
	const char *want;
	size_t n = 0, i = 0;
	va_list ap;

	if (store_generations(f->app.store, 100, &gi, &n, &err) < 0)
		fail_msg("%s", err.msg);
	va_start(ap, f);
	for (; (want = va_arg(ap, const char *)); i++) {
		if (i >= n)
			fail_msg("history: %zu entries, want \"%s\" too", n, want);
		if (strcmp(gi[i].summary, want) || strcmp(gi[i].trigger, "api"))
			fail_msg("history %zu: \"%s\" (%s), want \"%s\" (api)", i, gi[i].summary,
				 gi[i].trigger, want);
	}
	va_end(ap);
	free(gi);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("no string \"%s\"", key);
	return s;
}

static size_t count_braces(const char *pattern)
{
	size_t n = 0;

	for (; *pattern; pattern++)
		n += *pattern == '{';
	return n;
}

static void test_resource__descriptors_match_schema_and_routes(void **ts)
{
	(void)ts;
	for (size_t i = 0; api_resources[i]; i++) {
		const struct resource *d = api_resources[i];
		const struct schema *owner;
		const struct field *lf;
		size_t depth = 0, crud = 0, files = 0, nfiles = 0;

		for (const struct resource *p = d->parent; p; p = p->parent)
			depth++;
		assert_non_null(d->title);
		assert_non_null(d->engine);
		if (!d->list) {
			/* A section itself: GET and PATCH on its one path. */
			const struct field *sf = schema_field(&schema_root, d->section);

			assert_non_null(sf);
			assert_null(d->parent);
			assert_ptr_equal(sf->sub, d->schema);
			for (size_t k = 0; k < api_nroutes; k++)
				if (api_routes[k].res == d) {
					assert_true(api_routes[k].fn == res_section_get ||
						    api_routes[k].fn == res_section_patch);
					assert_int_equal(count_braces(api_routes[k].pattern), 0);
					crud++;
				}
			assert_int_equal(crud, 2);
			continue;
		}
		/* The handlers read an item's name as its first member. */
		assert_string_equal(d->schema->fields[0].name, "name");
		assert_int_equal(d->schema->fields[0].type, F_STR);
		assert_int_equal(d->schema->fields[0].off, 0);
		if (d->parent) {
			assert_null(d->section);
			owner = d->parent->schema;
		} else {
			const struct field *sf = schema_field(&schema_root, d->section);

			assert_non_null(sf);
			assert_int_equal(sf->type, F_SECTION);
			owner = sf->sub;
		}
		lf = schema_field(owner, d->list);
		assert_non_null(lf);
		assert_int_equal(lf->type, F_LIST);
		assert_ptr_equal(lf->sub, d->schema);
		for (const struct res_file *fl = d->files; fl && fl->route; fl++)
			nfiles++;
		for (size_t k = 0; k < api_nroutes; k++) {
			const struct route *rt = &api_routes[k];

			if (rt->res != d)
				continue;
			if (rt->fn == res_file) {
				const char *seg = strrchr(rt->pattern, '/') + 1;
				const struct res_file *fl = d->files;

				while (fl && fl->route && strcmp(fl->route, seg))
					fl++;
				if (!fl || !fl->route)
					fail_msg("%s: no file \"%s\"", rt->pattern, seg);
				assert_int_equal(count_braces(rt->pattern), depth + 1);
				files++;
				continue;
			}
			if (rt->fn == res_bulk) {
				/* POST COLLECTION:bulk: the collection's parameters, a write */
				assert_string_equal(rt->method, "POST");
				assert_true(rt->flags & R_WRITE);
				assert_int_equal(count_braces(rt->pattern), depth);
				continue;
			}
			crud++;
			assert_int_equal(!!(rt->flags & R_WRITE), strcmp(rt->method, "GET") != 0);
			if (rt->fn == res_list || rt->fn == res_create)
				assert_int_equal(count_braces(rt->pattern), depth);
			else
				assert_int_equal(count_braces(rt->pattern), depth + 1);
		}
		assert_int_equal(crud, 5);
		assert_int_equal(files, nfiles);
		if (d->create_with) {
			const struct field *cf = schema_field(d->schema, d->create_with);

			assert_non_null(cf);
			assert_int_equal(cf->type, F_LIST);
		}
	}
}

#define IF  "/api/v1/wireguard/interfaces"
#define WG0 "{\"name\":\"wg0\",\"listen_port\":51820,\"address\":[\"10.0.0.1/24\"]}"

static void test_resource__wg_interface_and_peers(void **ts)
{
	struct fx *f = *ts;
	struct answer a;

	a = call(f, "GET", IF, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
	expect(f, "GET", IF "/wg0/peers", NULL, 404, "no wireguard interface \"wg0\"", NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 404,
	       "no wireguard interface \"wg0\"", NULL);
	expect(f, "POST", IF, "{\"listen_port\":51820}", 422, "interface: name is required",
	       "name");
	expect(f, "POST", IF, "{\"name\":\"wg0\",\"bogus\":1}", 422, NULL, NULL);
	expect(f, "POST", IF, NULL, 400, "a JSON object body is required", NULL);

	/* The first interface adds the wireguard section. */
	a = call(f, "POST", IF, WG0);
	assert_int_equal(a.status, 201);
	assert_string_equal(a.ctype, "application/json");
	assert_string_equal(str(a.json, "name"), "wg0");
	assert_int_equal(json_integer_value(json_object_get(a.json, "peers")), 0);
	assert_int_equal(json_integer_value(json_object_get(a.json, "listen_port")), 51820);
	assert_int_equal(strlen(str(a.json, "public_key")), 44);
	assert_null(json_object_get(a.json, "private_key"));
	answer_release(&a);
	expect(f, "POST", IF, "{\"name\":\"wg0\"}", 409,
	       "wireguard interface \"wg0\" exists already", "name");

	a = call(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\",\"keepalive\":25}");
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "name"), "alice");
	assert_int_equal(json_integer_value(json_object_get(a.json, "keepalive")), 25);
	assert_true(json_is_null(json_object_get(a.json, "status")));
	assert_int_equal(json_array_size(json_object_get(a.json, "address")), 1);
	assert_null(json_object_get(a.json, "private_key"));
	answer_release(&a);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 409,
	       "peer \"alice\" exists already on \"wg0\"", "name");
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"zed\",\"keepalive\":70000}", 422, NULL,
	       "keepalive");

	a = call(f, "GET", IF "/wg0", NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(json_integer_value(json_object_get(a.json, "peers")), 1);
	answer_release(&a);
	a = call(f, "GET", IF, NULL);
	assert_int_equal(json_array_size(a.json), 1);
	answer_release(&a);
	a = call(f, "GET", IF "/wg0/peers", NULL);
	assert_int_equal(a.status, 200);
	assert_int_equal(json_array_size(a.json), 1);
	assert_string_equal(str(json_array_get(a.json, 0), "name"), "alice");
	answer_release(&a);

	a = call(f, "PATCH", IF "/wg0/peers/alice", "{\"note\":\"laptop\"}");
	assert_int_equal(a.status, 200);
	assert_string_equal(str(a.json, "note"), "laptop");
	assert_int_equal(json_integer_value(json_object_get(a.json, "keepalive")), 25);
	answer_release(&a);
	expect(f, "PATCH", IF "/wg0", "{\"name\":\"wg9\"}", 422,
	       "a WireGuard interface cannot be renamed: its name is its network device's; "
	       "add a new interface instead",
	       "name");
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"note\":\"x\"}", 404,
	       "no peer \"bob\" on wireguard interface \"wg0\"", NULL);
	expect(f, "GET", IF "/wg1/peers/alice", NULL, 404, "no wireguard interface \"wg1\"", NULL);
	expect(f, "GET", IF "/wg0/peers/b%40d", NULL, 404, "no such peer: invalid name", NULL);
	expect(f, "GET", IF "/-x/peers", NULL, 404, "no such interface: invalid name", NULL);
	expect(f, "PATCH", IF "/wg0", "{\"mtu\":1380}", 200, NULL, NULL);

	/* The history says what changed, with the path of names. */
	expect_history(f, "change wireguard interface wg0", "change peer wg0/alice",
		       "add peer wg0/alice", "add wireguard interface wg0", NULL);
	assert_int_equal(store_generation(f->app.store), 4);

	expect(f, "DELETE", IF "/wg0/peers/bob", NULL, 404,
	       "no peer \"bob\" on wireguard interface \"wg0\"", NULL);
	a = call(f, "DELETE", IF "/wg0/peers/alice", NULL);
	assert_int_equal(a.status, 204);
	assert_string_equal(a.text, "");
	answer_release(&a);
	expect(f, "GET", IF "/wg0/peers/alice", NULL, 404,
	       "no peer \"alice\" on wireguard interface \"wg0\"", NULL);
	expect(f, "DELETE", IF "/wg0", NULL, 204, NULL, NULL);
	a = call(f, "GET", IF, NULL);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
	expect_history(f, "remove wireguard interface wg0", "remove peer wg0/alice", NULL);
}

/* A failed edit stores nothing: same generation, same answer after. */
static void test_resource__refused_edit_keeps_state(void **ts)
{
	struct fx *f = *ts;
	struct answer before, after;
	int64_t gen;

	expect(f, "POST", IF, WG0,
	       201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	gen = store_generation(f->app.store);
	before = call(f, "GET", IF "/wg0/peers", NULL);
	/* Decodes, but state_commit refuses it (an address outside the network). */
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\",\"address\":[\"192.0.2.9/32\"]}", 422,
	       NULL, NULL);
	expect(f, "PATCH", IF "/wg0/peers/alice", "{\"address\":[\"192.0.2.9/32\"]}", 422, NULL,
	       NULL);
	expect(f, "PATCH", IF "/wg0/peers/alice", "{\"keepalive\":-1}", 422, NULL, "keepalive");
	after = call(f, "GET", IF "/wg0/peers", NULL);
	assert_int_equal(store_generation(f->app.store), gen);
	assert_string_equal(before.text, after.text);
	answer_release(&before);
	answer_release(&after);
}

/* POST .../peers:bulk: many peers in one generation; a missing name stores nothing. */
static void test_resource__bulk_is_one_generation(void **ts)
{
	struct fx *f = *ts;
	struct answer a;
	int64_t gen;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	for (const char *const *n = (const char *const[]){"ann", "bob", "cat", NULL}; *n; n++) {
		char body[64];

		snprintf(body, sizeof(body), "{\"name\":\"%s\"}", *n);
		expect(f, "POST", IF "/wg0/peers", body, 201, NULL, NULL);
	}
	gen = store_generation(f->app.store);
	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"disable\",\"names\":[\"ann\",\"nobody\",\"bob\",\"ghost\"]}",
	       404, "no peer \"nobody\", \"ghost\" on \"wg0\"", "names");
	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"explode\",\"names\":[\"ann\"]}", 422, NULL, "action");
	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"disable\",\"names\":[]}", 422, NULL, "names");
	assert_int_equal(store_generation(f->app.store), gen);

	a = call(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"disable\",\"names\":[\"ann\",\"bob\"]}");
	assert_int_equal(a.status, 200);
	assert_int_equal(json_integer_value(json_object_get(a.json, "changed")), 2);
	assert_int_equal(json_integer_value(json_object_get(a.json, "generation")), gen + 1);
	answer_release(&a);
	assert_int_equal(store_generation(f->app.store), gen + 1);
	a = call(f, "GET", IF "/wg0/peers/bob", NULL);
	assert_true(json_is_true(json_object_get(a.json, "disabled")));
	answer_release(&a);
	a = call(f, "GET", IF "/wg0/peers/cat", NULL);
	assert_true(json_is_false(json_object_get(a.json, "disabled")));
	answer_release(&a);
	/* already disabled: nothing to store */
	a = call(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"disable\",\"names\":[\"ann\"]}");
	assert_int_equal(json_integer_value(json_object_get(a.json, "changed")), 0);
	answer_release(&a);
	assert_int_equal(store_generation(f->app.store), gen + 1);

	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"delete\",\"names\":[\"ann\",\"cat\"]}", 200, NULL, NULL);
	assert_int_equal(store_generation(f->app.store), gen + 2);
	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"enable\",\"names\":[\"bob\"]}", 200, NULL, NULL);
	/* one history entry each, its count in its number */
	expect_history(f, "enable 1 peer wg0/*", "delete 2 peers wg0/*", "disable 2 peers wg0/*", NULL);
	a = call(f, "GET", IF "/wg0/peers", NULL);
	assert_int_equal(json_array_size(a.json), 1);
	assert_string_equal(str(json_array_get(a.json, 0), "name"), "bob");
	answer_release(&a);
}

#define OV "/api/v1/openvpn"

static void test_resource__section_unmanaged_then_clients(void **ts)
{
	struct fx *f = *ts;
	struct answer a;

	a = call(f, "GET", OV "/clients", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
	/* This resource does not add its section: the section has required settings. */
	expect(f, "POST", OV "/clients", "{\"name\":\"bob\"}", 409,
	       "openvpn is not managed: PATCH /api/v1/openvpn with a network first", NULL);
	expect(f, "GET", OV "/clients/bob", NULL, 404, "no openvpn client \"bob\"", NULL);
	expect(f, "GET", OV, NULL, 404,
	       "openvpn is not managed: PATCH /api/v1/openvpn with a network to start managing it",
	       NULL);
	expect(f, "PATCH", OV, "{\"network\":\"10.9.0.0/24\",\"clients\":[]}", 422, NULL,
	       "clients");
	expect(f, "GET", OV, NULL, 404, NULL, NULL);
	a = call(f, "PATCH", OV, "{\"network\":\"10.9.0.0/24\"}");
	assert_int_equal(a.status, 200);
	assert_string_equal(str(a.json, "network"), "10.9.0.0/24");
	assert_int_equal(json_integer_value(json_object_get(a.json, "port")), 1194);
	assert_null(json_object_get(a.json, "clients"));
	answer_release(&a);
	a = call(f, "GET", OV, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(str(a.json, "network"), "10.9.0.0/24");
	answer_release(&a);
	expect_history(f, "change openvpn server", NULL);
	assert_int_equal(store_generation(f->app.store), 1);
	a = call(f, "POST", OV "/clients", "{\"name\":\"bob\",\"note\":\"laptop\"}");
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "note"), "laptop");
	assert_true(json_is_null(json_object_get(a.json, "status")));
	answer_release(&a);
	expect(f, "POST", OV "/clients", "{\"name\":\"bob\"}", 409,
	       "openvpn client \"bob\" exists already", "name");
	expect(f, "PATCH", OV "/clients/bob", "{\"name\":\"carol\"}", 422,
	       "an OpenVPN client cannot be renamed: its name is its certificate's; add a new "
	       "client instead",
	       "name");
	expect(f, "DELETE", OV "/clients/bob", NULL, 204, NULL, NULL);
	expect(f, "DELETE", OV "/clients/bob", NULL, 404, "no openvpn client \"bob\"", NULL);
}

/* write_extra sees the live status the hooks take: WireGuard's and OpenVPN's. */
static void test_resource__live_status(void **ts)
{
	struct fx *f = *ts;
	struct answer a;
	json_t *st;
	char key[KEY_B64];

	expect(f, "POST", IF, WG0,
	       201, NULL, NULL);
	a = call(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}");
	snprintf(key, sizeof(key), "%s", str(a.json, "public_key"));
	answer_release(&a);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\"}", 201, NULL, NULL);
	live_set(f, key, "1700000000\t12345\t678");

	a = call(f, "GET", IF "/wg0/peers/alice", NULL);
	st = json_object_get(a.json, "status");
	assert_true(json_is_true(json_object_get(st, "on_interface")));
	assert_string_equal(str(st, "endpoint"), "192.0.2.7:51820");
	assert_int_equal(json_integer_value(json_object_get(st, "latest_handshake")), 1700000000);
	assert_int_equal(json_integer_value(json_object_get(st, "rx_bytes")), 12345);
	assert_int_equal(json_integer_value(json_object_get(st, "tx_bytes")), 678);
	answer_release(&a);
	a = call(f, "GET", IF "/wg0/peers", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	st = json_object_get(json_array_get(a.json, 1), "status");
	assert_string_equal(str(json_array_get(a.json, 1), "name"), "bob");
	assert_true(json_is_false(json_object_get(st, "on_interface")));
	assert_true(json_is_null(json_object_get(st, "endpoint")));
	answer_release(&a);

	expect(f, "PATCH", OV, "{\"network\":\"10.9.0.0/24\"}", 200, NULL, NULL);
	expect(f, "POST", OV "/clients", "{\"name\":\"bob\"}", 201, NULL, NULL);
	expect(f, "POST", OV "/clients", "{\"name\":\"carol\"}", 201, NULL, NULL);
	f->app.live = json_pack("{s:{s:[{s:s, s:s, s:s, s:I, s:I, s:I}]}}", "openvpn", "clients",
				"name", "bob", "real_address", "192.0.2.8:1194",
				"virtual_address", "10.9.0.2", "bytes_received", (json_int_t)10,
				"bytes_sent", (json_int_t)20, "connected_since",
				(json_int_t)1700000001);
	a = call(f, "GET", OV "/clients", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	st = json_object_get(json_array_get(a.json, 0), "status");
	assert_true(json_is_true(json_object_get(st, "connected")));
	assert_string_equal(str(st, "real_address"), "192.0.2.8:1194");
	assert_string_equal(str(st, "virtual_address"), "10.9.0.2");
	assert_int_equal(json_integer_value(json_object_get(st, "bytes_received")), 10);
	assert_int_equal(json_integer_value(json_object_get(st, "bytes_sent")), 20);
	assert_int_equal(json_integer_value(json_object_get(st, "connected_since")), 1700000001);
	st = json_object_get(json_array_get(a.json, 1), "status");
	assert_true(json_is_false(json_object_get(st, "connected")));
	assert_true(json_is_null(json_object_get(st, "real_address")));
	answer_release(&a);
	/* carol with two sessions shows the first listed; bob, listed after her, his own */
	json_decref(f->app.live);
	f->app.live = json_pack("{s:{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}}", "openvpn", "clients",
				"name", "carol", "real_address", "192.0.2.20:1",
				"name", "bob", "real_address", "192.0.2.8:2",
				"name", "carol", "real_address", "192.0.2.21:3");
	a = call(f, "GET", OV "/clients", NULL);
	assert_string_equal(str(json_object_get(json_array_get(a.json, 0), "status"), "real_address"),
			    "192.0.2.8:2");
	assert_string_equal(str(json_object_get(json_array_get(a.json, 1), "status"), "real_address"),
			    "192.0.2.20:1");
	answer_release(&a);
}

/* A client file comes from the engine's driver, named after the item. */
static void test_resource__client_file(void **ts)
{
	struct fx *f = *ts;
	struct answer a;

	expect(f, "PATCH", "/api/v1/settings", "{\"host\":\"vpn.example.org\"}", 200, NULL, NULL);
	expect(f, "POST", IF, WG0,
	       201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}", 201, NULL, NULL);
	a = call(f, "GET", IF "/wg0/peers/alice/config", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "text/plain; charset=utf-8");
	assert_string_equal(a.disposition, "attachment; filename=\"alice.conf\"");
	TU_HAS(a.text, "[Interface]", "Endpoint = vpn.example.org:51820");
	answer_release(&a);
	a = call(f, "GET", IF "/wg0/peers/alice/qr.svg", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "image/svg+xml");
	assert_string_equal(a.disposition, "");
	assert_non_null(strstr(a.text, "<svg"));
	answer_release(&a);
	expect(f, "GET", IF "/wg0/peers/bob/config", NULL, 404,
	       "no peer \"bob\" on wireguard interface \"wg0\"", NULL);
}

#define SB    "/api/v1/singbox"
#define SBI   SB "/inbounds"
#define EDGE  SBI "/edge"
#define ALICE SB "/users/alice"
#define EDGE_BODY(users)                                                                           \
	"{\"name\":\"edge\",\"type\":\"vless\",\"port\":8443,\"server_name\":\"www.example.com\"," \
	"\"users\":" users "}"

#define NO_USERS                                                                                   \
	"inbound has no users: add at least one (sing-box would run it without authentication or " \
	"refuse everyone)"

/* The stored state (new). */
static struct atlas_state *stored(struct fx *f)
{
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;

	if (store_load(f->app.store, &st, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	return st;
}

/* Peer name of wg0 in the stored state st (borrowed), or NULL. */
static const struct wg_peer *stored_peer(const struct atlas_state *st, const char *name)
{
	const struct wg_iface *ifc = &st->wireguard.interfaces[0];

	for (size_t i = 0; i < ifc->npeers; i++)
		if (!strcmp(ifc->peers[i].name, name))
			return &ifc->peers[i];
	return NULL;
}

/*
 * Issue 15.11: a PATCH with a new name renames a peer: its keys, address
 * and other fields stay; a taken name is a 409, an invalid one a 422, and
 * the history says "rename".
 */
static void test_resource__wg_peer_rename(void **ts)
{
	struct fx *f = *ts;
	struct atlas_state *st;
	const struct wg_peer *p;
	char pub[KEY_B64], priv[KEY_B64], psk[KEY_B64];
	struct answer a;

	expect(f, "POST", IF, WG0, 201, NULL, NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\",\"keepalive\":25}", 201, NULL,
	       NULL);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"carol\"}", 201, NULL, NULL);
	st = stored(f);
	p = stored_peer(st, "alice");
	assert_non_null(p);
	key_text(&p->public_key, pub);
	key_text(&p->private_key, priv);
	key_text(&p->preshared_key, psk);
	assert_true(priv[0] != '\0');
	assert_string_equal(p->address.v[0], "10.0.0.2/32");
	state_free(st);

	a = call(f, "PATCH", IF "/wg0/peers/alice", "{\"name\":\"bob\",\"note\":\"phone\"}");
	if (a.status != 200)
		fail_msg("rename: %d %s", a.status, a.text);
	assert_string_equal(str(a.json, "name"), "bob");
	assert_string_equal(str(a.json, "note"), "phone");
	assert_string_equal(str(a.json, "public_key"), pub);
	assert_int_equal(json_integer_value(json_object_get(a.json, "keepalive")), 25);
	answer_release(&a);
	st = stored(f);
	assert_null(stored_peer(st, "alice"));
	p = stored_peer(st, "bob");
	assert_non_null(p);
	assert_string_equal(tu_key(&p->public_key), pub);
	assert_string_equal(tu_key(&p->private_key), priv);
	assert_string_equal(tu_key(&p->preshared_key), psk);
	assert_int_equal(p->address.n, 1);
	assert_string_equal(p->address.v[0], "10.0.0.2/32");
	assert_int_equal(st->wireguard.interfaces[0].npeers, 2);
	state_free(st);
	expect(f, "GET", IF "/wg0/peers/alice", NULL, 404,
	       "no peer \"alice\" on wireguard interface \"wg0\"", NULL);
	expect(f, "GET", IF "/wg0/peers/bob", NULL, 200, NULL, NULL);
	expect_history(f, "rename peer wg0/alice to bob", NULL);

	/* A taken name, an invalid one: refused, nothing stored. */
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"name\":\"carol\"}", 409,
	       "peer \"carol\" exists already on \"wg0\"", "name");
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"name\":\"Bob Phone\"}", 422, NULL, NULL);
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"name\":7}", 422, NULL, NULL);
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"name\":null}", 422, NULL, NULL);
	assert_int_equal(store_generation(f->app.store), 4);
	/* The same name is no rename. */
	expect(f, "PATCH", IF "/wg0/peers/bob", "{\"name\":\"bob\",\"keepalive\":0}", 200, NULL,
	       NULL);
	expect_history(f, "change peer wg0/bob", "rename peer wg0/alice to bob", NULL);
}

/* No secret of st's sing-box section appears in text. */
static void no_sb_secret(const struct atlas_state *st, const char *what, const char *text)
{
	const struct sb_section *sb = &st->singbox;

	if (strstr(text, sb->api_secret))
		fail_msg("%s shows the api secret: %s", what, text);
	for (size_t i = 0; i < sb->nsubscriptions; i++)
		if (strstr(text, sb->subscriptions[i].token))
			fail_msg("%s shows a subscription token: %s", what, text);
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];
		const char *keys[] = {in->reality_private_key, in->server_key, in->self_signed_key};

		for (size_t k = 0; k < 3; k++)
			if (keys[k] && strstr(text, keys[k]))
				fail_msg("%s shows a key of inbound %s: %s", what, in->name, text);
		for (size_t u = 0; u < in->nusers; u++) {
			const struct sb_user *us = &in->users[u];

			if ((us->uuid && strstr(text, us->uuid)) ||
			    (us->password && strstr(text, us->password)))
				fail_msg("%s shows a secret of user %s: %s", what, us->name, text);
		}
	}
}

/* An inbound is created with its first users; every edit keeps its rules. */
static void test_resource__sing_box_inbounds_and_users(void **ts)
{
	struct fx *f = *ts;
	struct atlas_state *st;
	struct answer a;
	int64_t gen;

	expect(f, "GET", SB, NULL, 404,
	       "singbox is not managed: POST /api/v1/singbox/inbounds (an inbound with its first "
	       "users) or PATCH /api/v1/singbox to start managing it",
	       NULL);
	a = call(f, "GET", SBI, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
	expect(f, "POST", EDGE "/users", "{\"name\":\"carol\"}", 404,
	       "no sing-box inbound \"edge\"", NULL);
	/* The validation's rule holds: no inbound without users, and the state stays empty. */
	expect(f, "POST", SBI, "{\"name\":\"edge\",\"type\":\"vless\",\"port\":8443}", 422,
	       NULL, "users");
	expect(f, "POST", SBI, EDGE_BODY("[]"), 422, "singbox inbound \"edge\": " NO_USERS, "users");
	assert_int_equal(store_generation(f->app.store), 0);
	/* The first users are decoded like any user: no secret set through the API. */
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\",\"uuid\":\"x\"}]"), 422,
	       "users[0]: uuid is a secret: it cannot be set through the API", "users[0].uuid");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"note\":\"x\"}]"), 422,
	       "users[1]: user: name is required", "users[1].name");
	expect(f, "POST", SBI, EDGE_BODY("[\"alice\"]"), 422, "users[0]: must be a user object",
	       "users[0]");
	expect(f, "POST", SBI, EDGE_BODY("{}"), 422,
	       "inbound: users must be an array of user objects", "users");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"name\":\"alice\"}]"), 422,
	       "singbox inbound \"edge\": user name \"alice\" is used twice", "name");
	assert_int_equal(store_generation(f->app.store), 0);

	a = call(f, "POST", SBI,
		 EDGE_BODY("[{\"name\":\"alice\",\"note\":\"phone\"},{\"name\":\"bob\"}]"));
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "name"), "edge");
	assert_string_equal(str(a.json, "type"), "vless");
	assert_int_equal(json_integer_value(json_object_get(a.json, "users")), 2);
	assert_non_null(json_object_get(a.json, "reality_public_key"));
	assert_null(json_object_get(a.json, "reality_private_key"));
	st = stored(f);
	assert_true(st->has_singbox);
	assert_int_equal(st->singbox.inbounds[0].nusers, 2);
	assert_non_null(st->singbox.inbounds[0].users[0].uuid);
	assert_string_equal(st->singbox.inbounds[0].users[0].note, "phone");
	no_sb_secret(st, "POST inbound", a.text);
	state_free(st);
	answer_release(&a);
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"zed\"}]"), 409,
	       "sing-box inbound \"edge\" exists already", "name");

	a = call(f, "POST", EDGE "/users", "{\"name\":\"carol\",\"quota_bytes\":1000}");
	assert_int_equal(a.status, 201);
	assert_int_equal(json_integer_value(json_object_get(a.json, "quota_bytes")), 1000);
	assert_null(json_object_get(a.json, "uuid"));
	assert_true(json_is_null(json_object_get(a.json, "status")));
	answer_release(&a);
	expect(f, "POST", EDGE "/users", "{\"name\":\"carol\"}", 409,
	       "sing-box user \"carol\" exists already on \"edge\"", "name");
	expect(f, "POST", EDGE "/users", "{\"name\":\"dan\",\"password\":\"p\"}", 422,
	       "password is a secret: it cannot be set through the API", "password");
	/* Afterwards the users are edited through their own resource only. */
	expect(f, "PATCH", EDGE, "{\"users\":[]}", 422,
	       "users cannot be set here: use its own endpoint", "users");
	expect(f, "PATCH", EDGE, "{\"port\":8444}", 200, NULL, NULL);
	expect(f, "PATCH", EDGE "/users/bob", "{\"disabled\":true}", 200, NULL, NULL);
	expect(f, "PATCH", EDGE "/users/bob", "{\"name\":\"bobby\"}", 422,
	       "a sing-box user cannot be renamed in one inbound: the name is one person across "
	       "inbounds, with one subscription; add a new user instead",
	       "name");
	expect(f, "GET", EDGE "/users/zed", NULL, 404,
	       "no sing-box user \"zed\" on sing-box inbound \"edge\"", NULL);
	expect(f, "DELETE", EDGE "/users/carol", NULL, 204, NULL, NULL);

	/* A second inbound of another type; alice is one person in both. */
	expect(f, "POST", SBI,
	       "{\"name\":\"ss\",\"type\":\"shadowsocks\",\"port\":8388,\"users\":[{\"name\":"
	       "\"alice\"}]}",
	       201, NULL, NULL);
	/* Its last user cannot go: the inbound goes instead. */
	gen = store_generation(f->app.store);
	expect(f, "DELETE", SBI "/ss/users/alice", NULL, 422, "singbox inbound \"ss\": " NO_USERS,
	       "users");
	assert_int_equal(store_generation(f->app.store), gen);

	/* No answer about the section, an inbound or a user carries a secret. */
	st = stored(f);
	assert_int_equal(st->singbox.ninbounds, 2);
	{
		const char *reads[] = {SB, SBI, EDGE, EDGE "/users", EDGE "/users/alice",
				       SBI "/ss", SBI "/ss/users"};

		for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
			a = call(f, "GET", reads[i], NULL);
			assert_int_equal(a.status, 200);
			no_sb_secret(st, reads[i], a.text);
			answer_release(&a);
		}
	}
	state_free(st);
	a = call(f, "GET", EDGE "/users", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	assert_true(json_is_true(json_object_get(json_array_get(a.json, 1), "disabled")));
	answer_release(&a);
	a = call(f, "GET", SB, NULL);
	assert_int_equal(json_integer_value(json_object_get(a.json, "api_port")), 9091);
	assert_null(json_object_get(a.json, "inbounds"));
	assert_null(json_object_get(a.json, "subscriptions"));
	answer_release(&a);
	expect(f, "PATCH", SB, "{\"api_port\":9191}", 200, NULL, NULL);
	expect(f, "PATCH", SB, "{\"inbounds\":[]}", 422, NULL, "inbounds");
	expect(f, "PATCH", SB, "{\"api_secret\":\"x\"}", 422, NULL, "api_secret");

	expect_history(f, "change sing-box section", "add sing-box inbound ss",
		       "remove sing-box user edge/carol", "change sing-box user edge/bob",
		       "change sing-box inbound edge", "add sing-box user edge/carol",
		       "add sing-box inbound edge", NULL);

	/* The live status of a user: the person's connections and traffic. */
	f->app.live = json_pack("{s:{s:[{s:s, s:I, s:I, s:I}]}}", "singbox", "users", "name",
				"alice", "connections", (json_int_t)2, "uplink_bytes",
				(json_int_t)5, "downlink_bytes", (json_int_t)7);
	a = call(f, "GET", EDGE "/users/alice", NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(a.json, "status"), "connections")),
	    2);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(a.json, "status"), "downlink_bytes")),
			 7);
	answer_release(&a);
	a = call(f, "GET", EDGE "/users/bob", NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(a.json, "status"), "connections")),
	    0);
	answer_release(&a);
	/* among more users (the status lists them sorted by name), each gets its own */
	json_decref(f->app.live);
	f->app.live = json_pack("{s:{s:[{s:s, s:I}, {s:s, s:I}, {s:s, s:I}, {s:s, s:I}]}}",
				"singbox", "users", "name", "aaron", "connections", (json_int_t)1,
				"name", "alice", "connections", (json_int_t)2, "name", "bob",
				"connections", (json_int_t)3, "name", "zed", "connections",
				(json_int_t)9);
	a = call(f, "GET", EDGE "/users", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *u = json_array_get(a.json, i);
		const char *name = json_string_value(json_object_get(u, "name"));

		assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "status"),
								   "connections")),
				 !strcmp(name, "alice") ? 2 : !strcmp(name, "bob") ? 3 : -1);
	}
	answer_release(&a);
	/* With a live status too, no secret. */
	st = stored(f);
	a = call(f, "GET", EDGE "/users", NULL);
	no_sb_secret(st, "GET users with status", a.text);
	answer_release(&a);
	state_free(st);

	expect(f, "DELETE", SBI "/ss", NULL, 204, NULL, NULL);
	expect(f, "DELETE", EDGE, NULL, 204, NULL, NULL);
	a = call(f, "GET", SBI, NULL);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
}

/* Downloads carry the secrets they exist for; the subscription URL and its rotation. */
static void test_resource__sing_box_downloads(void **ts)
{
	struct fx *f = *ts;
	struct atlas_state *st;
	struct answer a;
	char *url, *token, *uuid;
	json_t *j;

	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"name\":\"bob\"}]"), 201, NULL,
	       NULL);
	/* Links need settings.host. */
	expect(f, "GET", EDGE "/users/alice/link", NULL, 409,
	       "settings.host is not set: links need it", NULL);
	expect(f, "GET", ALICE "/subscription", NULL, 409, NULL, NULL);
	expect(f, "PATCH", "/api/v1/settings", "{\"host\":\"vpn.example.org\"}", 200, NULL, NULL);
	expect(f, "POST", SBI,
	       "{\"name\":\"ss\",\"type\":\"shadowsocks\",\"port\":8388,\"users\":[{\"name\":"
	       "\"alice\"}]}",
	       201, NULL, NULL);
	st = stored(f);
	uuid = xstrdup(state_sb_user(state_sb_inbound(st, "edge"), "alice")->uuid);
	token = xstrdup(state_sb_subscription(st, "alice")->token);
	state_free(st);

	a = call(f, "GET", EDGE "/users/alice/link", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "text/plain; charset=utf-8");
	assert_string_equal(a.disposition, "");
	assert_true(!strncmp(a.text, "vless://", 8));
	assert_non_null(strstr(a.text, uuid));
	TU_HAS(a.text, "@vpn.example.org:8443", "#edge\n");
	answer_release(&a);
	a = call(f, "GET", EDGE "/users/alice/qr.svg", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "image/svg+xml");
	assert_non_null(strstr(a.text, "<svg"));
	answer_release(&a);
	expect(f, "GET", EDGE "/users/zed/link", NULL, 404,
	       "no sing-box user \"zed\" on sing-box inbound \"edge\"", NULL);
	expect(f, "GET", SBI "/nope/users/alice/qr.svg", NULL, 404, "no sing-box inbound \"nope\"",
	       NULL);

	/* The people, by name, with their inbounds by name. */
	a = call(f, "GET", SB "/users", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[{\"name\":\"alice\",\"inbounds\":[\"edge\",\"ss\"]},"
				    "{\"name\":\"bob\",\"inbounds\":[\"edge\"]}]\n");
	answer_release(&a);

	/* The person: one link per inbound, in inbound name order; the profile. */
	a = call(f, "GET", ALICE "/links", NULL);
	assert_int_equal(a.status, 200);
	assert_true(!strncmp(a.text, "vless://", 8));
	TU_HAS(a.text, "#edge\nss://", "#ss\n");
	answer_release(&a);
	a = call(f, "GET", SB "/users/bob/links", NULL);
	assert_null(strstr(a.text, "#ss"));
	assert_non_null(strstr(a.text, "#edge\n"));
	answer_release(&a);
	a = call(f, "GET", ALICE "/profile", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "application/json");
	assert_string_equal(a.disposition, "attachment; filename=\"alice.json\"");
	assert_non_null(a.json);
	j = json_object_get(a.json, "outbounds");
	assert_true(json_array_size(j) >= 2);
	assert_non_null(strstr(a.text, uuid));
	answer_release(&a);
	expect(f, "GET", SB "/users/zed/profile", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);
	expect(f, "GET", SB "/users/b%40d/links", NULL, 404, "no such user: invalid name", NULL);

	a = call(f, "GET", ALICE "/subscription", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(str(a.json, "name"), "alice");
	url = xasprintf("https://vpn.example.org/sub/%s", token);
	assert_string_equal(str(a.json, "url"), url);
	free(url);
	answer_release(&a);
	expect(f, "GET", SB "/users/zed/subscription", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);

	/* Rotation: a new token is stored and answered; the old one is gone. */
	expect(f, "POST", SB "/users/zed/subscription/rotate", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);
	a = call(f, "POST", ALICE "/subscription/rotate", NULL);
	assert_int_equal(a.status, 200);
	st = stored(f);
	assert_string_not_equal(state_sb_subscription(st, "alice")->token, token);
	url = xasprintf("https://vpn.example.org/sub/%s", state_sb_subscription(st, "alice")->token);
	assert_string_equal(str(a.json, "url"), url);
	assert_null(state_sb_subscription_by_token(st, token));
	/* The other person's token did not move; alice's uuid neither. */
	assert_string_equal(state_sb_user(state_sb_inbound(st, "edge"), "alice")->uuid, uuid);
	free(url);
	state_free(st);
	answer_release(&a);
	expect_history(f, "rotate sing-box subscription alice", NULL);
	free(uuid);
	free(token);
}

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
	cmocka_unit_test(test_resource__descriptors_match_schema_and_routes),
	cmocka_unit_test_setup_teardown(test_resource__wg_interface_and_peers, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__wg_peer_rename, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__read_waits_for_the_install, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__peek_never_loads, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__bulk_is_one_generation, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__refused_edit_keeps_state, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__section_unmanaged_then_clients, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__live_status, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__client_file, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__sing_box_inbounds_and_users, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__sing_box_downloads, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__list_cache, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__loop_share_outlives_the_cache, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__two_holders_share_one_pack, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__load_gives_cache_back, setup, teardown))
