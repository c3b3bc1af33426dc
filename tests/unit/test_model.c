/*
 * test_model.c - the model itself: defaults, deep copies, lookups, ordering,
 * and the invariant the generic code relies on (list elements start with
 * their name).
 */
#include "testutil.h"

#include "lib/base64.h"
#include "state/keys.h"
#include "state/model.h"
#include "state/schema.h"
#include "state/yaml.h"

static const char yaml[] =
	"version: 1\nsettings: {host: h.example}\nwireguard:\n  interfaces:\n"
	"    - name: wg1\n      listen_port: 2\n      address: [10.2.0.1/24]\n"
	"      peers: [{name: zed}, {name: amy, note: hi}]\n"
	"    - name: wg0\n      listen_port: 1\n      address: [10.1.0.1/24]\n"
	"openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: b}, {name: a}]\n";

static void test_model__defaults(void **s)
{
	struct atlas_state *st = state_new();

	(void)s;
	assert_int_equal(st->version, 1);
	assert_int_equal(st->settings.service_mode, SERVICE_AUTO);
	assert_int_equal(st->settings.resync, 30);
	assert_int_equal(st->settings.history_keep, 100);
	assert_int_equal(st->has_wireguard, 0);
	assert_int_equal(st->wireguard.enabled, 1);
	assert_int_equal(st->openvpn.port, 1194);
	assert_int_equal(st->openvpn.proto, OVPN_UDP);
	assert_null(st->settings.host);
	state_free(st);
	state_free(NULL);
}

static void test_model__dup_is_deep_and_equal(void **s)
{
	struct atlas_state *a = tu_state(yaml), *b = state_dup(a);
	struct buf ya = BUF_INIT, yb = BUF_INIT;

	(void)s;
	state_to_yaml(a, 1, &ya);
	state_to_yaml(b, 1, &yb);
	assert_string_equal(ya.data, yb.data);
	/* deep: no shared pointers */
	assert_ptr_not_equal(a->wireguard.interfaces, b->wireguard.interfaces);
	assert_ptr_not_equal(a->wireguard.interfaces[0].peers[1].note,
			     b->wireguard.interfaces[0].peers[1].note);
	free(a->wireguard.interfaces[0].peers[1].note);
	a->wireguard.interfaces[0].peers[1].note = xstrdup("changed");
	assert_string_equal(b->wireguard.interfaces[0].peers[1].note, "hi");
	buf_release(&ya);
	buf_release(&yb);
	state_free(a);
	state_free(b);
}

static void test_model__sort_and_lookup(void **s)
{
	struct atlas_state *st = tu_state(yaml);
	struct wg_iface *ifc;

	(void)s;
	/* lookups work before sorting (linear fallback) and after (bisection) */
	ifc = state_wg_iface(st, "wg1");
	assert_non_null(ifc);
	assert_non_null(state_wg_peer(ifc, "amy"));
	assert_non_null(state_wg_peer(ifc, "zed"));
	assert_null(state_wg_peer(ifc, "nobody"));
	state_sort(st);
	assert_string_equal(st->wireguard.interfaces[0].name, "wg0");
	assert_string_equal(st->wireguard.interfaces[1].peers[0].name, "amy");
	assert_string_equal(st->openvpn.clients[0].name, "a");
	ifc = state_wg_iface(st, "wg1");
	assert_non_null(state_wg_peer(ifc, "zed"));
	assert_non_null(state_ovpn_client(st, "b"));
	assert_null(state_ovpn_client(st, "c"));
	assert_null(state_wg_iface(st, "wg9"));
	state_free(st);
}

static void check_lists_start_with_name(const struct schema *sc)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct field *f = &sc->fields[i];

		if (f->type == F_LIST) {
			const struct field *first = &f->sub->fields[0];

			assert_string_equal(first->name, "name");
			assert_int_equal(first->type, F_STR);
			assert_int_equal(first->off, 0);
			assert_true(first->flags & FF_REQUIRED);
		}
		if (f->sub)
			check_lists_start_with_name(f->sub);
	}
}

static void test_model__list_elements_start_with_name(void **s)
{
	(void)s;
	check_lists_start_with_name(&schema_root);
}

/*
 * The room of a peer: every full copy of the state (the API's packed one, a
 * run's, a POST's) holds one per user, so 10,000 peers cost 10,000 of them.
 * Keys are raw, the suspended text a pointer (issue 18's memory target).
 */
static void test_model__peer_is_small(void **s)
{
	(void)s;
	assert_true(sizeof(struct wg_key) == KEY_LEN + 1);
	assert_true(sizeof(struct wg_peer) <= 192);
	assert_true(sizeof(struct ovpn_client) <= 64);
}

/* The suspended text of a working copy goes with each copy: copied, freed once. */
static void test_model__suspended_text_is_deep(void **s)
{
	struct atlas_state *a = tu_state(yaml), *b;

	(void)s;
	a->wireguard.interfaces[0].peers[0].suspended = xstrdup("quota 1 GiB used");
	a->openvpn.clients[1].suspended = xstrdup("quota 2 GiB used");
	b = state_dup(a);
	assert_ptr_not_equal(b->wireguard.interfaces[0].peers[0].suspended,
			     a->wireguard.interfaces[0].peers[0].suspended);
	state_free(a);
	assert_string_equal(b->wireguard.interfaces[0].peers[0].suspended, "quota 1 GiB used");
	assert_string_equal(b->openvpn.clients[1].suspended, "quota 2 GiB used");
	assert_null(b->wireguard.interfaces[0].peers[1].suspended);
	state_free(b);
}

/* A raw key reads back as the very text it came from (the export is byte-identical). */
static void test_model__key_text_round_trip(void **s)
{
	/* all zeros, all ones, two keys of the tests */
	static const char texts[][KEY_B64] = { "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					       "//////////////////////////////////////////8=",
					       "dYcPboeJsSJGWjXc+1x0e4ABuzsU16VERZgnZ0BJpw4=",
					       "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=" };
	struct wg_key k;
	char text[KEY_B64], priv[KEY_B64], pub[KEY_B64];

	(void)s;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(key_from_text(&k, texts[i]), 0);
		assert_true(KEY_HAS(&k));
		key_text(&k, text);
		assert_string_equal(text, texts[i]);
	}
	/* generated keys: the same text as base64_encode() gives for the bytes */
	for (int i = 0; i < 50; i++) {
		struct buf b = BUF_INIT;

		assert_int_equal(key_generate(priv, pub, NULL), 0);
		assert_int_equal(key_from_text(&k, pub), 0);
		base64_encode(&b, k.b, KEY_LEN);
		key_text(&k, text);
		assert_string_equal(text, b.data);
		assert_string_equal(text, pub);
		buf_release(&b);
	}
	/* "" is no key; text that is not a key leaves no key */
	assert_int_equal(key_from_text(&k, ""), 0);
	assert_false(KEY_GIVEN(&k));
	key_text(&k, text);
	assert_string_equal(text, "");
	assert_int_equal(key_from_text(&k, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="), -1);
	assert_false(KEY_GIVEN(&k));
}

struct item {
	int key, tag; /* sorted by key; tag tells equal keys apart */
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

static int item_cmp_counted(const void *a, const void *b);
static size_t compared;

static int item_cmp_counted(const void *a, const void *b)
{
	compared++;
	return item_cmp(a, b);
}

/*
 * state_sort_list: the order a stable sort gives (the last element after
 * those equal to it) whether the list is in order, in order but for its
 * last element (at the front, in the middle, at the end, among equals), or
 * shuffled; the first two in at most n + log2(n) comparisons.
 */
static void test_model__sort_list(void **s)
{
	enum { N = 1000 };
	static struct item v[N];
	const int last_keys[] = { -5, 0, 3, 500, 998, 999, 2000 };

	(void)s;
	for (size_t c = 0; c < sizeof(last_keys) / sizeof(last_keys[0]) + 2; c++) {
		for (int i = 0; i < N - 1; i++)
			v[i] = (struct item){ i * 2 / 2 + (i > 500), i };
		v[N - 1] = (struct item){ c < 7 ? last_keys[c] : c == 7 ? 2000 : 0, N - 1 };
		if (c == 8) /* shuffled */
			for (int i = 0; i < N; i++)
				v[i] = (struct item){ (i * 7919) % N, i };
		compared = 0;
		state_sort_list(v, N, sizeof(v[0]), item_cmp_counted);
		for (int i = 1; i < N; i++) {
			assert_true(v[i - 1].key <= v[i].key);
			/* equal keys keep their order: the last element comes after its equals */
			if (c < 8 && v[i - 1].key == v[i].key)
				assert_true(v[i - 1].tag < v[i].tag);
		}
		if (c < 8)
			assert_true(compared <= N + 11);
	}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_model__defaults),
	cmocka_unit_test(test_model__sort_list),
	cmocka_unit_test(test_model__dup_is_deep_and_equal),
	cmocka_unit_test(test_model__sort_and_lookup),
	cmocka_unit_test(test_model__list_elements_start_with_name),
	cmocka_unit_test(test_model__peer_is_small),
	cmocka_unit_test(test_model__suspended_text_is_deep),
	cmocka_unit_test(test_model__key_text_round_trip))
