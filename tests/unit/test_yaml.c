/*
 * test_yaml.c - YAML import/export: golden round trips, determinism, secrets,
 * and every kind of malformed input reported with its position.
 */
#include "testutil.h"

#include "state/diag.h"
#include "state/model.h"
#include "state/yaml.h"

static char *export_of(const struct atlas_state *st, int secrets)
{
	struct buf b = BUF_INIT;

	state_to_yaml(st, secrets, &b);
	return buf_detach(&b);
}

static struct atlas_state *parse_ok(const char *text)
{
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(text, strlen(text), &d, NULL);

	if (!st) {
		struct buf b = BUF_INIT;

		diags_format(&d, "input", &b);
		fail_msg("unexpected errors:\n%s", b.data);
	}
	diags_clear(&d);
	return st;
}

/* Parses text that must fail; returns the formatted messages (new). */
static char *parse_bad(const char *text, size_t len)
{
	struct diags d = { 0 };
	struct buf b = BUF_INIT;
	struct atlas_state *st = state_from_yaml(text, len, &d, NULL);

	assert_null(st);
	assert_true(d.n > 0);
	diags_format(&d, "f.yaml", &b);
	diags_clear(&d);
	return buf_detach(&b);
}

static void check_golden(const char *name)
{
	char in[256], out[256];
	char *text, *y1, *y2;
	struct atlas_state *st, *st2;

	snprintf(in, sizeof(in), "tests/unit/golden/yaml/%s.in.yaml", name);
	snprintf(out, sizeof(out), "tests/unit/golden/yaml/%s.out.yaml", name);
	text = tu_read(in);
	st = parse_ok(text);
	y1 = export_of(st, 1);
	tu_golden(out, y1);
	/* export -> import -> export is byte-identical */
	st2 = parse_ok(y1);
	y2 = export_of(st2, 1);
	assert_string_equal(y1, y2);
	free(text);
	free(y1);
	free(y2);
	state_free(st);
	state_free(st2);
}

/* One case a golden pair: the name of tests/unit/golden/yaml/NAME.{in,out}.yaml in *s. */
static void test_yaml__golden(void **s)
{
	check_golden(*s);
}

static void test_yaml__secrets_left_out(void **s)
{
	char *text = tu_read("tests/unit/golden/yaml/basic.in.yaml");
	struct atlas_state *st = parse_ok(text);
	char *pub = export_of(st, 0), *sec = export_of(st, 1);

	(void)s;
	TU_LACKS(pub, "private_key", "preshared_key", "uuid", "pw-one");
	assert_non_null(strstr(pub, "public_key: Ux3wrwzd8J0"));
	TU_HAS(sec, "private_key: gP1Xq5Uf7mbDzm9QbjDEsAXBl1yiUF0nb3w+5ahcs2w=",
	       "password: pw-one");
	free(text);
	free(pub);
	free(sec);
	state_free(st);
}

static void test_yaml__order_does_not_matter(void **s)
{
	const char *a = "version: 1\nsettings: {}\nopenvpn:\n  network: 10.1.0.0/24\n  clients:\n"
			"    - {name: b}\n    - {name: a, static_ip: 10.1.0.5}\n";
	const char *b = "openvpn:\n  clients:\n    - static_ip: 10.1.0.5\n      name: a\n"
			"    - name: b\n  network: 10.1.0.0/24\nsettings: {}\nversion: 1\n";
	struct atlas_state *sa = parse_ok(a), *sb = parse_ok(b);
	char *ya = export_of(sa, 1), *yb = export_of(sb, 1);

	(void)s;
	assert_string_equal(ya, yb);
	assert_true(strstr(ya, "name: a") < strstr(ya, "name: b"));
	free(ya);
	free(yb);
	state_free(sa);
	state_free(sb);
}

/* Blank optional texts are left out of the export like other defaults. */
static void test_yaml__blank_note_left_out(void **s)
{
	const char *a = "version: 1\nsettings: {}\nopenvpn:\n  network: 10.1.0.0/24\n  clients:\n"
			"    - {name: a, note: \"\"}\n    - {name: b, note: phone}\n";
	struct atlas_state *sa = parse_ok(a);
	char *ya = export_of(sa, 1);

	(void)s;
	assert_null(strstr(ya, "note: \"\""));
	assert_non_null(strstr(ya, "note: phone"));
	free(ya);
	state_free(sa);
}

static void test_yaml__hostile_strings_stay_strings(void **s)
{
	const char *text =
		"version: 1\nsettings: {}\nopenvpn:\n  network: 10.1.0.0/24\n  clients:\n"
		"    - name: a\n      note: \"x\\n- name: evil\\nversion: 2 # ' \\\" <script>\"\n"
		"    - name: b\n      note: \"true\"\n    - name: c\n      note: \"0x1F\"\n";
	struct atlas_state *st = parse_ok(text), *st2;
	char *y = export_of(st, 1);

	(void)s;
	st2 = parse_ok(y);
	assert_int_equal(st2->openvpn.nclients, 3);
	assert_string_equal(st2->openvpn.clients[0].note,
			    "x\n- name: evil\nversion: 2 # ' \" <script>");
	assert_string_equal(st2->openvpn.clients[1].note, "true");
	assert_string_equal(st2->openvpn.clients[2].note, "0x1F");
	assert_int_equal(st2->version, 1);
	free(y);
	state_free(st);
	state_free(st2);
}

static void expect_error(const char *text, const char *want)
{
	char *got = parse_bad(text, strlen(text));

	if (!strstr(got, want))
		fail_msg("want an error containing \"%s\", got:\n%s", want, got);
	free(got);
}

static void test_yaml__unknown_key(void **s)
{
	(void)s;
	expect_error("version: 1\nsettings:\n  hots: x\n",
		     "f.yaml:3:3: settings: unknown key \"hots\"");
}

static void test_yaml__wrong_types(void **s)
{
	(void)s;
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n      listen_port: abc\n"
		     "      address: [10.0.0.1/24]\n",
		     "f.yaml:5:20: wireguard: interface \"wg0\": listen_port: \"abc\" is not an integer");
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n"
		     "      listen_port: \"51820\"\n      address: [10.0.0.1/24]\n",
		     "listen_port: \"51820\" is not an integer");
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 70000\n"
		     "      address: [10.0.0.1/24]\n",
		     "listen_port: 70000 is out of range 1..65535");
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 1\n"
		     "      address: 10.0.0.1/24\n",
		     "address: must be a list, not a scalar");
	expect_error("version: 1\nwireguard:\n  enabled: yes\n", "enabled: \"yes\" is not true or false");
	expect_error("version: 1\nsettings:\n  service_mode: docker\n",
		     "service_mode: \"docker\" is not one of auto, systemd, direct");
	expect_error("- a\n- b\n", "f.yaml:1:1: state must be a mapping, not a list");
}

static void test_yaml__duplicate_key(void **s)
{
	(void)s;
	expect_error("version: 1\nsettings:\n  host: a\n  host: b\n", "f.yaml:4:3: settings: duplicate key \"host\"");
}

static void test_yaml__missing_required(void **s)
{
	(void)s;
	expect_error("settings: {}\n", "f.yaml:1:1: missing required key \"version\"");
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - listen_port: 1\n      address: [10.0.0.1/24]\n",
		     "f.yaml:4:7: wireguard: interface #1: missing required key \"name\"");
}

static void test_yaml__all_errors_reported(void **s)
{
	const char *text = "version: 1\nsettings:\n  a: 1\n  b: 2\nopenvpn:\n  port: x\n  network: 1\n"
			   "  clients: [{name: a, zzz: 1}]\n";
	char *got = parse_bad(text, strlen(text));

	(void)s;
	TU_HAS(got, "f.yaml:3:3: settings: unknown key \"a\"",
	       "f.yaml:4:3: settings: unknown key \"b\"",
	       "f.yaml:6:9: openvpn: port: \"x\" is not an integer",
	       "openvpn: client \"a\": unknown key \"zzz\"");
	free(got);
}

static void test_yaml__syntax_errors(void **s)
{
	char bin[64];

	(void)s;
	expect_error("version: 1\nsettings: [\n", "f.yaml:3:1:");
	expect_error("version: 1\n  bad indent: x\n", "f.yaml:2:");
	expect_error("", "the file is empty");
	expect_error("a: &x 1\nb: *x\n", "aliases (*name) are not supported");
	expect_error("version: 1\n---\nversion: 1\n", "only one YAML document is allowed");
	/* bad UTF-8 where it is, characters counted (not at 1:1) */
	expect_error("version: 1\nsettings:\n  host: \"\xc3\xa9\xc3\xa9\xff\"\n",
		     "f.yaml:3:12: invalid leading UTF-8 octet");
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 37 + 1);
	{
		char *got = parse_bad(bin, sizeof(bin));

		assert_non_null(strstr(got, "f.yaml:1:"));
		free(got);
	}
	{
		char *got = parse_bad("version: 1\0x", 12);

		assert_non_null(strstr(got, "f.yaml:"));
		free(got);
	}
}

static void test_yaml__deep_nesting_and_size(void **s)
{
	struct buf b = BUF_INIT;
	char *got;

	(void)s;
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "[");
	got = parse_bad(b.data, b.len);
	assert_non_null(strstr(got, "nesting deeper than"));
	free(got);
	got = parse_bad("x", YAML_MAX_SIZE + 1);
	assert_non_null(strstr(got, "larger than"));
	free(got);
	buf_release(&b);
}

/* Found by make fuzz: "openvpn:" alone was accepted, and its export (without
 * the required network) did not parse again. */
static void test_yaml__null_section_missing_required(void **s)
{
	static const char crash[] = "version: 1\nsettings:\n  host: 2001:db8::10\n"
				    "  egress_interface: et5\nwireguard:\nopenvpn:\n  ";

	(void)s;
	expect_error(crash, "f.yaml:6:9: openvpn: missing required key \"network\"");
	/* A section without required keys may still be empty. */
	state_free(parse_ok("version: 1\nwireguard:\nsingbox:\n"));
}

/* 257 copies of one key: a counter in an unsigned char wrapped to "unseen"
 * and the list was decoded twice into one count (heap overflow on free). */
static void test_yaml__many_duplicate_keys(void **s)
{
	struct buf b = BUF_INIT;
	char *got;

	(void)s;
	buf_puts(&b, "version: 1\nopenvpn:\n  network: 10.1.0.0/24\n");
	for (int i = 0; i < 257; i++)
		buf_printf(&b, "  clients: [{name: c%d}, {name: d%d}]\n", i, i);
	got = parse_bad(b.data, b.len);
	assert_non_null(strstr(got, "f.yaml:260:3: openvpn: duplicate key \"clients\""));
	free(got);
	buf_release(&b);
}

static void test_yaml__int_out_of_int_range(void **s)
{
	(void)s;
	/* 2^32 + 1 truncated to an int is 1: it must not pass as version 1. */
	expect_error("version: 4294967297\n", "f.yaml:1:10: version: 4294967297 is out of range");
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n"
		     "      listen_port: 4294967297\n      address: [10.0.0.1/24]\n",
		     "listen_port: 4294967297 is out of range 1..65535");
}

/* "0: default" fields (mtu) accept their default written out. */
static void test_yaml__explicit_default_outside_range(void **s)
{
	const char *ok = "version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n"
			 "      listen_port: 1\n      address: [10.0.0.1/24]\n      mtu: 0\n";
	struct atlas_state *st = parse_ok(ok);

	(void)s;
	assert_int_equal(st->wireguard.interfaces[0].mtu, 0);
	state_free(st);
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 1\n"
		     "      address: [10.0.0.1/24]\n      mtu: 100\n",
		     "mtu: 100 is out of range 576..9000");
	/* A required field has no default to fall back on. */
	expect_error("version: 1\nwireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 0\n"
		     "      address: [10.0.0.1/24]\n",
		     "listen_port: 0 is out of range 1..65535");
}

TU_MAIN(NULL, NULL,
	{ "test_yaml__golden_basic", test_yaml__golden, NULL, NULL, "basic" },
	{ "test_yaml__golden_minimal", test_yaml__golden, NULL, NULL, "minimal" },
	{ "test_yaml__golden_sections_empty", test_yaml__golden, NULL, NULL, "sections-empty" },
	cmocka_unit_test(test_yaml__secrets_left_out),
	cmocka_unit_test(test_yaml__order_does_not_matter),
	cmocka_unit_test(test_yaml__blank_note_left_out),
	cmocka_unit_test(test_yaml__hostile_strings_stay_strings),
	cmocka_unit_test(test_yaml__unknown_key),
	cmocka_unit_test(test_yaml__wrong_types),
	cmocka_unit_test(test_yaml__duplicate_key),
	cmocka_unit_test(test_yaml__missing_required),
	cmocka_unit_test(test_yaml__all_errors_reported),
	cmocka_unit_test(test_yaml__syntax_errors),
	cmocka_unit_test(test_yaml__deep_nesting_and_size),
	cmocka_unit_test(test_yaml__null_section_missing_required),
	cmocka_unit_test(test_yaml__many_duplicate_keys),
	cmocka_unit_test(test_yaml__int_out_of_int_range),
	cmocka_unit_test(test_yaml__explicit_default_outside_range))
