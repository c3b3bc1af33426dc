/*
 * test_json.c - the JSON codec of the API (state/json.c): secrets never
 * encoded, PATCH semantics, and every kind of bad input refused with the
 * field's name.
 */
#include "testutil.h"

#include "state/json.h"
#include "state/model.h"
#include "state/schema.h"

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_json__encode_leaves_out_secrets(void **ts)
{
	struct wg_peer p;
	json_t *j;
	char *s;

	(void)ts;
	schema_init(&schema_wg_peer, &p);
	p.name = xstrdup("alice");
	tu_set_key(&p.private_key, "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=");
	tu_set_key(&p.preshared_key, "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=");
	tu_set_key(&p.public_key, "dYcPboeJsSJGWjXc+1x0e4ABuzsU16VERZgnZ0BJpw4=");
	strv_push(&p.address, "10.0.0.2/32");
	j = json_encode_struct(&schema_wg_peer, &p, 0);
	s = json_dumps(j, JSON_COMPACT);
	TU_LACKS(s, "private_key", "preshared_key", "aGVsbG8");
	assert_string_equal(json_string_value(json_object_get(j, "public_key")),
			    "dYcPboeJsSJGWjXc+1x0e4ABuzsU16VERZgnZ0BJpw4=");
	assert_true(json_is_null(json_object_get(j, "note")));
	assert_int_equal(json_array_size(json_object_get(j, "address")), 1);
	assert_true(json_is_false(json_object_get(j, "disabled")));
	free(s);
	json_decref(j);
	schema_release(&schema_wg_peer, &p);
}

static void test_json__encode_lists_only_when_asked(void **ts)
{
	struct wg_iface ifc;
	json_t *j;

	(void)ts;
	schema_init(&schema_wg_iface, &ifc);
	ifc.name = xstrdup("wg0");
	j = json_encode_struct(&schema_wg_iface, &ifc, 0);
	assert_null(json_object_get(j, "peers"));
	json_decref(j);
	j = json_encode_struct(&schema_wg_iface, &ifc, JSON_ENC_LISTS);
	assert_true(json_is_array(json_object_get(j, "peers")));
	json_decref(j);
	schema_release(&schema_wg_iface, &ifc);
}

static void test_json__patch_keeps_absent_fields(void **ts)
{
	struct atlas_err err = {0};
	struct wg_peer p;
	char field[64];
	json_t *j = parse("{\"disabled\": true, \"note\": null, \"keepalive\": 25}");

	(void)ts;
	schema_init(&schema_wg_peer, &p);
	p.name = xstrdup("alice");
	p.note = xstrdup("old note");
	strv_push(&p.address, "10.0.0.2/32");
	assert_int_equal(json_decode_struct(&schema_wg_peer, j, &p, &err, field, sizeof(field)), 0);
	assert_string_equal(p.name, "alice");
	assert_true(p.disabled);
	assert_null(p.note);
	assert_int_equal(p.keepalive, 25);
	assert_string_equal(p.address.v[0], "10.0.0.2/32");
	/* a GET's live status sent back with the body is left aside, not refused */
	json_decref(j);
	j = parse("{\"note\": \"round trip\", \"status\": {\"on_interface\": true}}");
	assert_int_equal(json_decode_struct(&schema_wg_peer, j, &p, &err, field, sizeof(field)), 0);
	assert_string_equal(p.note, "round trip");
	/* a quota as a whole number is bytes, as in YAML: its text */
	json_decref(j);
	j = parse("{\"quota\": 1000}");
	assert_int_equal(json_decode_struct(&schema_wg_peer, j, &p, &err, field, sizeof(field)), 0);
	assert_string_equal(p.quota, "1000");
	json_decref(j);
	schema_release(&schema_wg_peer, &p);
}

/* Each bad body is refused with its field named in err and field. */
static void test_json__bad_input_names_the_field(void **ts)
{
	static const struct {
		const char *body, *field, *msg_part;
	} cases[] = {
	    {"{\"bogus\": 1}", "bogus", "unknown field \"bogus\""},
	    {"{\"keepalive\": \"25\"}", "keepalive", "must be an integer"},
	    {"{\"keepalive\": 2.5}", "keepalive", "must be an integer"},
	    {"{\"keepalive\": 70000}", "keepalive", "70000 is out of range"},
	    {"{\"keepalive\": -1}", "keepalive", "out of range"},
	    {"{\"keepalive\": 99999999999999}", "keepalive", "out of range"},
	    {"{\"disabled\": 1}", "disabled", "must be true or false"},
	    {"{\"disabled\": \"yes\"}", "disabled", "must be true or false"},
	    {"{\"name\": 5}", "name", "must be a string"},
	    {"{\"name\": null}", "name", "required"},
	    {"{\"address\": \"10.0.0.2/32\"}", "address", "must be an array"},
	    {"{\"address\": [1]}", "address", "is not a string"},
	    {"{\"private_key\": \"x\"}", "private_key", "secret"},
	    {"{\"preshared_key\": null}", "preshared_key", "secret"},
	    {"{\"public_key\": \"not a key\"}", "public_key", "not a base64"},
	    {"{\"public_key\": 7}", "public_key", "must be a base64"},
	    {"{\"note\": \"a\\u0000b\"}", "note", ""},
	    {"{\"quota\": -5}", "quota", "quota: -5 is negative"},
	    {"{\"quota\": 2.5}", "quota", "must be a string or a whole number, not a number"},
	    {"{\"note\": 5}", "note", "must be a string, not"},
	};

	(void)ts;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct atlas_err err = {0};
		struct wg_peer p;
		char field[64];
		json_t *j = json_loads(cases[i].body, 0, NULL);

		/* jansson itself refuses \u0000 unless asked: also a refusal. */
		if (!j) {
			assert_string_equal(cases[i].field, "note");
			continue;
		}
		schema_init(&schema_wg_peer, &p);
		p.name = xstrdup("alice");
		assert_int_equal(
		    json_decode_struct(&schema_wg_peer, j, &p, &err, field, sizeof(field)), -1);
		assert_int_equal(err.code, ERR_INVALID);
		if (strcmp(field, cases[i].field))
			fail_msg("case %zu: field \"%s\", want \"%s\"", i, field, cases[i].field);
		if (!strstr(err.msg, cases[i].msg_part))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg,
				 cases[i].msg_part);
		json_decref(j);
		schema_release(&schema_wg_peer, &p);
	}
}

static void test_json__enum_and_lists(void **ts)
{
	struct atlas_err err = {0};
	struct ovpn_section s;
	char field[64];
	json_t *good = parse("{\"proto\": \"tcp\", \"port\": 443, \"dns\": [\"1.1.1.1\"]}");
	json_t *badenum = parse("{\"proto\": \"sctp\"}");
	json_t *list = parse("{\"clients\": []}");

	(void)ts;
	schema_init(&schema_ovpn_section, &s);
	assert_int_equal(
	    json_decode_struct(&schema_ovpn_section, good, &s, &err, field, sizeof(field)), 0);
	assert_int_equal(s.proto, OVPN_TCP);
	assert_int_equal(s.port, 443);
	assert_int_equal(
	    json_decode_struct(&schema_ovpn_section, badenum, &s, &err, field, sizeof(field)), -1);
	assert_string_equal(field, "proto");
	assert_non_null(strstr(err.msg, "\"sctp\" is not one of (udp, tcp)"));
	assert_int_equal(
	    json_decode_struct(&schema_ovpn_section, list, &s, &err, field, sizeof(field)), -1);
	assert_string_equal(field, "clients");
	json_decref(good);
	json_decref(badenum);
	json_decref(list);
	schema_release(&schema_ovpn_section, &s);
}

static void test_json__not_an_object(void **ts)
{
	struct atlas_err err = {0};
	struct wg_peer p;
	json_t *j = parse("[1, 2]");

	(void)ts;
	schema_init(&schema_wg_peer, &p);
	assert_int_equal(json_decode_struct(&schema_wg_peer, j, &p, &err, NULL, 0), -1);
	assert_non_null(strstr(err.msg, "must be a JSON object"));
	json_decref(j);
	schema_release(&schema_wg_peer, &p);
}

static void test_json__nested_sections(void **ts)
{
	struct atlas_err err = {0};
	struct atlas_state *st = state_new();
	char field[64];
	json_t *j = parse("{\"settings\": {\"resync\": 0}}");
	json_t *ok = parse("{\"openvpn\": {\"network\": \"10.9.0.0/24\"}}");

	(void)ts;
	assert_int_equal(json_decode_struct(&schema_root, j, st, &err, field, sizeof(field)), -1);
	assert_string_equal(field, "settings.resync");
	assert_int_equal(json_decode_struct(&schema_root, ok, st, &err, field, sizeof(field)), 0);
	assert_true(st->has_openvpn);
	assert_string_equal(st->openvpn.network, "10.9.0.0/24");
	json_decref(j);
	json_decref(ok);
	state_free(st);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_json__encode_leaves_out_secrets),
	cmocka_unit_test(test_json__encode_lists_only_when_asked),
	cmocka_unit_test(test_json__patch_keeps_absent_fields),
	cmocka_unit_test(test_json__bad_input_names_the_field),
	cmocka_unit_test(test_json__enum_and_lists),
	cmocka_unit_test(test_json__not_an_object),
	cmocka_unit_test(test_json__nested_sections))
