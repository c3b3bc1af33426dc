/*
 * test_resource.c - the generic resource handlers (api/resource.c) driven
 * through the router's table, as the server does (resource_fx.h): every
 * descriptor agrees with its field tables and has its routes; create / get /
 * list / patch / delete of a top-level resource and of a child, with the
 * 404, 409 and 422 answers and their messages; the history summaries; a
 * section created by the first create or refused while unmanaged; a
 * section's own GET and PATCH; the live status hooks; a client file; a
 * peer's rename. The sing-box resources are in test_resource_sb.c, the
 * cached state and lists in test_resource_cache.c.
 */
#include "resource_fx.h"

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
	expect(f, "POST", IF "/wg0/peers:bulk", "{\"action\":\"disable\",\"names\":[\"ann\"],\"x\":1}",
	       422, "unknown field \"x\": a bulk edit takes action and names", "x");
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
	/* a peer that brings its own key: its config, but no QR code that cannot be imported */
	{
		char priv[KEY_B64], pub[KEY_B64], *body;

		assert_int_equal(key_generate(priv, pub, NULL), 0);
		body = xasprintf("{\"name\":\"byo\",\"public_key\":\"%s\"}", pub);
		expect(f, "POST", IF "/wg0/peers", body, 201, NULL, NULL);
		free(body);
		expect(f, "GET", IF "/wg0/peers/byo/config", NULL, 200, NULL, NULL);
		expect(f, "GET", IF "/wg0/peers/byo/qr.svg", NULL, 409,
		       "peer \"byo\" brings its own key: Atlas has no private key to put in a QR code "
		       "(download the config and add the key yourself)",
		       NULL);
	}
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
	/* alice's usage (a period count, a day), and a stale row of an earlier "bob" */
	assert_int_equal(sqlite3_exec(store_db(f->app.store),
				      "INSERT INTO usage_counters VALUES "
				      "('wireguard','wg0/alice',5,6,0,500,600,1,50,60),"
				      "('wireguard','wg0/bob',1,1,0,9,9,1,9,9);"
				      "INSERT INTO usage_daily VALUES ('wireguard','wg0/alice',20000,50,60),"
				      "('wireguard','wg0/bob',20000,9,9)",
				      NULL, NULL, NULL),
			 SQLITE_OK);

	a = call(f, "PATCH", IF "/wg0/peers/alice", "{\"name\":\"bob\",\"note\":\"phone\"}");
	if (a.status != 200)
		fail_msg("rename: %d %s", a.status, a.text);
	assert_string_equal(str(a.json, "name"), "bob");
	assert_string_equal(str(a.json, "note"), "phone");
	assert_string_equal(str(a.json, "public_key"), pub);
	assert_int_equal(json_integer_value(json_object_get(a.json, "keepalive")), 25);
	answer_release(&a);
	/* the usage went with the name, the stale row is gone */
	assert_int_equal(tu_sql_int(store_db(f->app.store),
				    "SELECT count(*) FROM usage_counters WHERE user = 'wg0/alice'"), 0);
	assert_int_equal(tu_sql_int(store_db(f->app.store),
				    "SELECT period_rx + period_tx FROM usage_counters WHERE user = 'wg0/bob'"),
			 110);
	assert_int_equal(tu_sql_int(store_db(f->app.store),
				    "SELECT rx FROM usage_daily WHERE user = 'wg0/bob'"), 50);
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

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_resource__descriptors_match_schema_and_routes),
	cmocka_unit_test_setup_teardown(test_resource__wg_interface_and_peers, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__wg_peer_rename, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__bulk_is_one_generation, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__refused_edit_keeps_state, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__section_unmanaged_then_clients, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__live_status, setup, teardown),
	cmocka_unit_test_setup_teardown(test_resource__client_file, setup, teardown))
