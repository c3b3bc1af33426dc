/*
 * test_resource.c - the generic resource handlers (api/resource.c) driven
 * through the router's table, as the server does, on a store in a
 * temporary directory: every descriptor agrees with its field tables and
 * has its routes; create / get / list / patch / delete of a top-level
 * resource and of a child, with the 404, 409 and 422 answers and their
 * messages; the history summaries; a section created by the first create
 * or refused while unmanaged; a section's own GET and PATCH; the live
 * status hooks; a client file; and sing-box inbounds and users served by
 * two descriptors declared here, with no handler of their own.
 *
 * The edits wake a reconcile loop that runs on a second, empty data
 * directory, so nothing is ever applied to this machine.
 */
#include <pthread.h>

#include "testutil.h"

#include "api/api.h"
#include "api/resource.h"
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
	free(f->app.cache);
	live_wg_free(f->app.live_wg);
	json_decref(f->app.live);
	tu_rmrf(f->dir);
	tu_rmrf(f->loopdir);
	free(f->dir);
	free(f->loopdir);
	free(f);
	return 0;
}

struct answer {
	int status;
	const char *ctype;
	char disposition[160];
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
			crud++;
			assert_int_equal(!!(rt->flags & R_WRITE), strcmp(rt->method, "GET") != 0);
			if (rt->fn == res_list || rt->fn == res_create)
				assert_int_equal(count_braces(rt->pattern), depth);
			else
				assert_int_equal(count_braces(rt->pattern), depth + 1);
		}
		assert_int_equal(crud, 5);
		assert_int_equal(files, nfiles);
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
	expect(f, "PATCH", IF "/wg0/peers/alice", "{\"name\":\"bob\"}", 422,
	       "peer \"alice\": name cannot be changed", "name");
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
	       "client \"bob\": name cannot be changed", "name");
	expect(f, "DELETE", OV "/clients/bob", NULL, 204, NULL, NULL);
	expect(f, "DELETE", OV "/clients/bob", NULL, 404, "no openvpn client \"bob\"", NULL);
}

/* write_extra sees the live status the hooks take: WireGuard's and OpenVPN's. */
static void test_resource__live_status(void **ts)
{
	struct fx *f = *ts;
	struct answer a;
	json_t *st, *wg;
	char key[KEY_B64];

	expect(f, "POST", IF, WG0,
	       201, NULL, NULL);
	a = call(f, "POST", IF "/wg0/peers", "{\"name\":\"alice\"}");
	snprintf(key, sizeof(key), "%s", str(a.json, "public_key"));
	answer_release(&a);
	expect(f, "POST", IF "/wg0/peers", "{\"name\":\"bob\"}", 201, NULL, NULL);
	wg = json_pack("{s:[{s:s, s:b, s:[{s:s, s:s, s:I, s:I, s:I}]}]}", "interfaces", "name",
		       "wg0", "up", 1, "peers", "public_key", key, "endpoint", "192.0.2.7:51820",
		       "latest_handshake", (json_int_t)1700000000, "rx_bytes", (json_int_t)12345,
		       "tx_bytes", (json_int_t)678);
	f->app.live_wg = live_wg_from_json(wg);
	json_decref(wg);

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
	assert_non_null(strstr(a.text, "[Interface]"));
	assert_non_null(strstr(a.text, "Endpoint = vpn.example.org:51820"));
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

/*
 * The recipe of resource.h followed for sing-box inbounds and their users,
 * on their field tables as they are: two descriptors and their routes, no
 * handler code.
 */
static const struct resource t_sb_inbound = {
    .schema = &schema_sb_inbound,
    .title = "sing-box inbound",
    .section = "singbox",
    .list = "inbounds",
    .engine = "singbox",
};
static const struct resource t_sb_user = {
    .schema = &schema_sb_user,
    .title = "user",
    .parent = &t_sb_inbound,
    .list = "users",
    .engine = "singbox",
};
static const struct route t_sb_routes[] = {
    RES_ROUTES("/sb/inbounds", "/sb/inbounds/{in}", &t_sb_inbound),
    RES_ROUTES("/sb/inbounds/{in}/users", "/sb/inbounds/{in}/users/{name}", &t_sb_user),
};

/* Runs the route method pattern of t_sb_routes with the names in and name (may be NULL). */
static struct answer sb(struct fx *f, const char *method, const char *pattern, const char *body,
			const char *in, const char *name)
{
	char params[3][128] = {{0}};
	size_t np = 0;

	if (in)
		snprintf(params[np++], sizeof(params[0]), "%s", in);
	if (name)
		snprintf(params[np++], sizeof(params[0]), "%s", name);
	for (size_t i = 0; i < sizeof(t_sb_routes) / sizeof(t_sb_routes[0]); i++)
		if (!strcmp(t_sb_routes[i].method, method) &&
		    !strcmp(t_sb_routes[i].pattern, pattern))
			return run(f, &t_sb_routes[i], params, np, method, pattern, body);
	fail_msg("no route %s %s", method, pattern);
	return (struct answer){0};
}

#define SB_IN	 "/sb/inbounds/{in}"
#define SB_USERS "/sb/inbounds/{in}/users"
#define SB_USER	 "/sb/inbounds/{in}/users/{name}"

static void test_resource__sing_box_needs_only_descriptors(void **ts)
{
	struct fx *f = *ts;
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	struct answer a;

	a = sb(f, "POST", SB_USERS, "{\"name\":\"u1\"}", "in1", NULL);
	assert_int_equal(a.status, 404);
	assert_string_equal(str(a.json, "error"), "no sing-box inbound \"in1\"");
	answer_release(&a);
	a = sb(f, "POST", "/sb/inbounds", "{\"name\":\"in1\",\"type\":\"vless\",\"port\":8443}",
	       NULL, NULL);
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "type"), "vless");
	assert_int_equal(json_integer_value(json_object_get(a.json, "users")), 0);
	answer_release(&a);
	a = sb(f, "POST", SB_USERS, "{\"name\":\"u1\",\"note\":\"phone\"}", "in1", NULL);
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "note"), "phone");
	/* Secrets never leave through the API. */
	assert_null(json_object_get(a.json, "uuid"));
	assert_null(json_object_get(a.json, "password"));
	answer_release(&a);
	a = sb(f, "POST", SB_USERS, "{\"name\":\"u1\"}", "in1", NULL);
	assert_int_equal(a.status, 409);
	assert_string_equal(str(a.json, "error"), "user \"u1\" exists already on \"in1\"");
	answer_release(&a);
	a = sb(f, "GET", SB_IN, NULL, "in1", NULL);
	assert_int_equal(json_integer_value(json_object_get(a.json, "users")), 1);
	answer_release(&a);
	a = sb(f, "PATCH", SB_USER, "{\"quota_bytes\":1000}", "in1", "u1");
	assert_int_equal(a.status, 200);
	assert_int_equal(json_integer_value(json_object_get(a.json, "quota_bytes")), 1000);
	answer_release(&a);
	a = sb(f, "GET", SB_USERS, NULL, "in1", NULL);
	assert_int_equal(json_array_size(a.json), 1);
	answer_release(&a);
	expect_history(f, "change user in1/u1", "add user in1/u1", "add sing-box inbound in1",
		       NULL);
	/* Stored through state_commit: the section exists and the user got its secret. */
	assert_int_equal(store_load(f->app.store, &st, NULL, &err), 0);
	assert_true(st->has_singbox);
	assert_int_equal(st->singbox.ninbounds, 1);
	assert_int_equal(st->singbox.inbounds[0].nusers, 1);
	assert_non_null(st->singbox.inbounds[0].users[0].uuid);
	state_free(st);
	a = sb(f, "DELETE", SB_USER, NULL, "in1", "u1");
	assert_int_equal(a.status, 204);
	answer_release(&a);
	a = sb(f, "DELETE", SB_IN, NULL, "in1", NULL);
	assert_int_equal(a.status, 204);
	answer_release(&a);
	a = sb(f, "GET", "/sb/inbounds", NULL, NULL, NULL);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resource__descriptors_match_schema_and_routes),
	    cmocka_unit_test_setup_teardown(test_resource__wg_interface_and_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resource__refused_edit_keeps_state, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_resource__section_unmanaged_then_clients, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_resource__live_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resource__client_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resource__sing_box_needs_only_descriptors, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
