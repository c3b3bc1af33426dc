/*
 * test_validate.c - one test per validation rule, each with a good and a bad
 * case, and the completion rules (keys kept, generated, addresses allocated).
 */
#include "testutil.h"

#include "state/commit.h"
#include "state/complete.h"
#include "state/keys.h"
#include "state/validate.h"
#include "state/yaml.h"

static const char head[] = "version: 1\nsettings: {}\n";

static struct atlas_state *parse(const char *body)
{
	char *text = xasprintf("%s%s", head, body);
	struct atlas_state *st = tu_state(text);

	free(text);
	return st;
}

/* Completes (against no old state) and validates; returns messages (new). */
static char *problems(const char *body)
{
	return tu_problems(parse(body), NULL, NULL);
}

static void good(const char *body)
{
	tu_good(problems(body));
}

static void bad(const char *body, const char *want)
{
	tu_bad(problems(body), want);
}

#define WG(peers) \
	"wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n" \
	"      address: [10.8.0.1/24]\n      peers:\n" peers

/* One row of a table for a *_valid() check: the text and whether it is valid. */
struct vcase {
	const char *text;
	int valid;
};

/* Fails naming the first row (up to a NULL text) that valid() judges otherwise. */
static void expect_valid(int (*valid)(const char *), const struct vcase *c)
{
	for (; c->text; c++)
		if (!valid(c->text) != !c->valid)
			fail_msg("\"%s\" should be %s", c->text, c->valid ? "valid" : "invalid");
}

static void test_validate__names(void **s)
{
	(void)s;
	expect_valid(name_valid, (const struct vcase[]){
		{ "alice", 1 }, { "a", 1 }, { "0.b_c-d", 1 }, { "", 0 }, { "Alice", 0 },
		{ "-a", 0 }, { "a b", 0 }, { "a;rm", 0 }, { "a/../b", 0 }, { "<img>", 0 },
		{ "a23456789012345678901234567890123456789012345678901234567890123", 1 },
		{ "a234567890123456789012345678901234567890123456789012345678901234", 0 },
		{ NULL, 0 },
	});
	good(WG("        - name: alice\n"));
	bad(WG("        - name: \"Bob$(id)\"\n"),
	    "wireguard interface \"wg0\": peer name \"Bob$(id)\" is invalid: use 1 to 63 lowercase "
	    "letters, digits, _ . - starting with a letter or digit, such as \"bob-id\"\n");
}

/* issue 16.1: a client named like the server certificate got the server's key */
static void test_validate__reserved_names(void **s)
{
	(void)s;
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: atlas-server}]\n",
	    "openvpn client \"atlas-server\": name \"atlas-server\" is reserved");
	good("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: atlas-server2}]\n");
	/* issue 16.4: ".tmp." marks temporary files, which are removed when stale */
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: bob.tmp.abc123}]\n",
	    "name \"bob.tmp.abc123\" is reserved: \".tmp.\" marks Atlas's temporary files");
	bad(WG("        - name: a.tmp.1\n"), "name \"a.tmp.1\" is reserved");
}

static void test_validate__duplicate_names(void **s)
{
	(void)s;
	good(WG("        - name: a\n        - name: b\n"));
	bad(WG("        - name: a\n        - name: a\n"), "peer name \"a\" is used twice");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: x}, {name: x}]\n",
	    "client name \"x\" is used twice");
}

static void test_validate__prefixes(void **s)
{
	(void)s;
	good(WG("        - name: a\n          address: [10.8.0.5/32]\n"
		"          allowed_ips: [10.0.0.0/8, '::/0']\n"));
	bad(WG("        - name: a\n          address: [10.0.0.300/32]\n"),
	    "peer \"a\": address \"10.0.0.300/32\" is not an IPv4 or IPv6 prefix");
	bad(WG("        - name: a\n          allowed_ips: [10.0.0.0/33]\n"),
	    "allowed_ips \"10.0.0.0/33\" is not an IPv4 or IPv6 prefix");
	bad(WG("        - name: a\n          allowed_ips: [10.0.0.0/024]\n"), "is not an IPv4");
}

static void test_validate__dns_addresses(void **s)
{
	(void)s;
	good("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24], dns: [1.1.1.1, '2606:4700::1111']}\n");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24], dns: [dns.google]}\n",
	    "dns \"dns.google\" is not an IPv4 or IPv6 address");
}

static void test_validate__address_inside_network(void **s)
{
	(void)s;
	good(WG("        - name: a\n          address: [10.8.0.200/32]\n"));
	bad(WG("        - name: a\n          address: [10.9.0.2/32]\n"),
	    "address \"10.9.0.2/32\" is outside the networks of interface \"wg0\"");
	bad(WG("        - name: a\n          address: [10.8.0.0/16]\n"), "is outside the networks");
	bad(WG("        - name: a\n          address: [10.8.0.1/32]\n"),
	    "address \"10.8.0.1/32\" is the interface's own address");
	bad(WG("        - name: a\n          address: [10.8.0.255/32]\n"),
	    "address \"10.8.0.255/32\" is the broadcast address of network 10.8.0.0/24: a peer "
	    "needs a host address");
	bad(WG("        - name: a\n          address: [10.8.0.0]\n"),
	    "address \"10.8.0.0\" is the network address of network 10.8.0.0/24");
	good(WG("        - name: a\n          address: [10.8.0.254/32]\n"));
	/* the interface's own: its network's address or broadcast is no host address */
	bad("wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
	    "      address: [10.79.0.0/24]\n",
	    "wireguard interface \"wg0\": address \"10.79.0.0/24\" is the network address of "
	    "network 10.79.0.0/24: the interface needs a host address of it, such as "
	    "\"10.79.0.1/24\"");
	bad("wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
	    "      address: [10.79.3.255/22]\n",
	    "address \"10.79.3.255/22\" is the broadcast address of network 10.79.0.0/22");
	good("wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
	     "      address: [10.79.1.0/22, 10.80.0.1/31, 10.81.0.0/32]\n");
}

static void test_validate__address_used_twice(void **s)
{
	(void)s;
	bad(WG("        - name: a\n          address: [10.8.0.7/32]\n"
	       "        - name: b\n          address: [10.8.0.7/32]\n"),
	    "peer \"b\": address \"10.8.0.7/32\" is already used by peer \"a\"");
}

static void test_validate__ports(void **s)
{
	(void)s;
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24]}\n"
	    "    - {name: wg1, listen_port: 51820, address: [10.7.0.1/24]}\n",
	    "listen_port 51820 is already used by interface \"wg0\"");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1194, address: [10.8.0.1/24]}\n"
	    "openvpn:\n  network: 10.9.0.0/24\n",
	    "openvpn: port 1194 is already used by wireguard interface \"wg0\"");
	good("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1194, address: [10.8.0.1/24]}\n"
	     "openvpn:\n  network: 10.9.0.0/24\n  proto: tcp\n");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24]}\n"
	    "    - {name: wg1, listen_port: 2, address: [10.8.0.129/25]}\n",
	    "network \"10.8.0.129/25\" overlaps interface \"wg0\"'s \"10.8.0.1/24\"");
}

/* An OpenVPN network apart from every WireGuard one; no address or prefix listed twice. */
static void test_validate__tunnels_apart_and_no_repeats(void **s)
{
	(void)s;
	bad("wireguard:\n  interfaces:\n    - {name: nu0, listen_port: 1, address: [10.88.0.1/24]}\n"
	    "openvpn:\n  network: 10.88.0.0/24\n",
	    "openvpn: network \"10.88.0.0/24\" overlaps wireguard interface \"nu0\"'s "
	    "\"10.88.0.1/24\"");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/16]}\n"
	    "openvpn:\n  network: 10.8.5.0/24\n",
	    "overlaps wireguard interface \"wg0\"'s \"10.8.0.1/16\"");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24]}\n"
	    "openvpn:\n  network: 10.8.0.0/16\n",
	    "overlaps wireguard interface \"wg0\"'s \"10.8.0.1/24\"");
	good("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24]}\n"
	     "openvpn:\n  network: 10.8.1.0/24\n");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1,"
	    " address: [10.8.0.1/24, 10.8.0.1/24]}\n",
	    "address \"10.8.0.1/24\" is listed twice (as \"10.8.0.1/24\")");
	bad("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: [10.8.0.1/24],"
	    " dns: [1.1.1.1, 1.1.1.1]}\n",
	    "dns \"1.1.1.1\" is listed twice");
	bad(WG("        - {name: a, allowed_ips: [0.0.0.0/0, \"::/0\", 0.0.0.0/0]}\n"),
	    "peer \"a\": allowed_ips \"0.0.0.0/0\" is listed twice");
	bad(WG("        - {name: a, address: [10.8.0.7/32, 10.8.0.7]}\n"),
	    "address \"10.8.0.7\" is listed twice (as \"10.8.0.7/32\")");
	good(WG("        - {name: a, address: [10.8.0.7/32, 10.8.0.8/32]}\n"));
	bad("openvpn:\n  network: 10.9.0.0/24\n  routes: [192.168.5.0/24, 192.168.5.0/24]\n",
	    "routes \"192.168.5.0/24\" is listed twice");
}

static void test_validate__keys(void **s)
{
	char priv[KEY_B64], pub[KEY_B64], *body;

	(void)s;
	assert_int_equal(key_generate(priv, pub, NULL), 0);
	expect_valid(key_valid, (const struct vcase[]){
		{ priv, 1 }, { pub, 1 }, { "abc", 0 }, { NULL, 0 },
	});
	assert_false(key_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));	/* 43 chars */
	assert_false(key_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="));	/* non-canonical */
	body = xasprintf(WG("        - name: a\n          public_key: %s\n"), pub);
	good(body);
	free(body);
	bad(WG("        - name: a\n          public_key: 'not a key'\n"),
	    "public_key \"not a key\" is not a valid key");
	body = xasprintf(WG("        - name: a\n          public_key: %s\n        - name: b\n"
			    "          public_key: %s\n"),
			 pub, pub);
	bad(body, "peer \"b\": public_key is the same as peer \"a\"'s");
	free(body);
}

/*
 * A key the file gives as text that is not one: the state keeps keys raw,
 * and the message still quotes the text, for each key field.
 */
static void test_validate__bad_key_text_quoted(void **s)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ WG("        - name: a\n          private_key: 'nope'\n"),
		  "peer \"a\": private_key \"nope\" is not a valid key (base64 of 32 bytes)" },
		{ WG("        - name: a\n          preshared_key: 'x y'\n"),
		  "peer \"a\": preshared_key \"x y\" is not a valid key (base64 of 32 bytes)" },
		{ WG("        - name: a\n          public_key: "
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"),
		  "public_key \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\" is not a valid key" },
		{ "wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
		  "      address: [10.8.0.1/24]\n      private_key: short\n      peers: []\n",
		  "wireguard interface \"wg0\": private_key \"short\" is not a valid key" },
		/* with a valid private key, the text of a bad public key in the mismatch */
		{ WG("        - name: a\n          private_key: "
		     "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=\n          public_key: typo\n"),
		  "peer \"a\": public_key \"typo\" does not match its private key" },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].body, cases[i].want);
}

static void test_validate__dates(void **s)
{
	(void)s;
	expect_valid(date_valid, (const struct vcase[]){
		{ "2030-01-31", 1 }, { "2028-02-29", 1 }, { "2027-02-29", 0 }, { "2030-13-01", 0 },
		{ "2030-1-1", 0 }, { "tomorrow", 0 }, { NULL, 0 },
	});
	good(WG("        - name: a\n          expires: 2030-01-31\n"));
	bad(WG("        - name: a\n          expires: 2030-02-30\n"),
	    "expires \"2030-02-30\" is not a date (YYYY-MM-DD)");
}

static void test_validate__text(void **s)
{
	(void)s;
	good(WG("        - name: a\n          note: \"two\\nlines <b>\"\n"));
	bad(WG("        - name: a\n          note: \"bell\\a\"\n"), "note contains control characters");
	/* the limit counts characters, not bytes: 1,024 of "é" (2 bytes each) fit, 1,025 do not */
	for (int n = 1024; n <= 1025; n++) {
		struct buf y = BUF_INIT;

		buf_puts(&y, WG("        - name: a\n          note: \""));
		for (int i = 0; i < n; i++)
			buf_puts(&y, "\xc3\xa9");
		buf_puts(&y, "\"\n");
		if (n == 1024)
			good(buf_str(&y));
		else
			bad(buf_str(&y), "note is longer than 1024 characters");
		buf_release(&y);
	}
}

static void test_validate__host(void **s)
{
	struct atlas_state *st = state_new();
	struct diags d = { 0 };

	(void)s;
	st->settings.host = xstrdup("vpn.example.com");
	assert_int_equal(state_validate(st, &d), 0);
	free(st->settings.host);
	st->settings.host = xstrdup("vpn example;com");
	assert_int_equal(state_validate(st, &d), 1);
	assert_non_null(strstr(d.v[0].msg, "host \"vpn example;com\" is not a host name"));
	diags_clear(&d);
	free(st->settings.host);
	st->settings.host = xstrdup("2001:db8::1");
	assert_int_equal(state_validate(st, &d), 0);
	state_free(st);
}

static void test_validate__openvpn_static_ip(void **s)
{
	(void)s;
	good("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 10.9.0.10}]\n");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 10.9.1.10}]\n",
	    "static_ip \"10.9.1.10\" is outside the static range 10.9.0.2-10.9.0.127");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 10.9.0.200}]\n",
	    "(the upper half is the dynamic pool)");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 10.9.0.1}]\n",
	    "is outside the static range");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 10.9.0.9}, {name: b, static_ip: 10.9.0.9}]\n",
	    "client \"b\": static_ip \"10.9.0.9\" is already used by client \"a\"");
	bad("openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: a, static_ip: 'fd00::5'}]\n",
	    "static_ip \"fd00::5\" is not an IPv4 address");
	bad("openvpn:\n  network: 10.9.0.0/8\n", "network \"10.9.0.0/8\" is not an IPv4 prefix between /16 and /29");
	bad("openvpn:\n  network: 10.9.0.0/24\n  routes: ['fd00::/64']\n",
	    "openvpn: routes \"fd00::/64\" is IPv6: the openvpn tunnel carries IPv4 only");
}

static void test_validate__address_plan(void **s)
{
	struct ovpn_plan p;
	char a[64];

	(void)s;
	assert_int_equal(ovpn_address_plan("10.9.0.0/24", &p), 0);
	ip_format(&p.server, 0, a, sizeof(a));
	assert_string_equal(a, "10.9.0.1");
	ip_format(&p.pool_first, 0, a, sizeof(a));
	assert_string_equal(a, "10.9.0.128");
	ip_format(&p.pool_last, 0, a, sizeof(a));
	assert_string_equal(a, "10.9.0.254");
	assert_int_equal(ovpn_address_plan("10.9.0.0/30", &p), -1);
	assert_int_equal(ovpn_address_plan("fd00::/64", &p), -1);
}

static void test_validate__completion_generates_and_allocates(void **s)
{
	struct atlas_state *st = parse(WG("        - name: b\n        - name: a\n"
					  "          address: [10.8.0.2/32]\n        - name: c\n"));
	struct diags d = { 0 };

	(void)s;
	assert_int_equal(state_complete(st, NULL, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_true(KEY_HAS(&st->wireguard.interfaces[0].private_key));
	for (size_t i = 0; i < 3; i++) {
		struct wg_peer *p = &st->wireguard.interfaces[0].peers[i];

		assert_true(KEY_HAS(&p->private_key));
		assert_true(KEY_HAS(&p->public_key));
		assert_true(KEY_HAS(&p->preshared_key));
		assert_int_equal(p->allowed_ips.n, 2);
	}
	/* b and c allocated in name order after a's explicit address */
	assert_string_equal(state_wg_peer(&st->wireguard.interfaces[0], "b")->address.v[0],
			    "10.8.0.3/32");
	assert_string_equal(state_wg_peer(&st->wireguard.interfaces[0], "c")->address.v[0],
			    "10.8.0.4/32");
	state_free(st);
}

static void test_validate__completion_keeps_secrets_by_name(void **s)
{
	struct atlas_state *old = parse(WG("        - name: a\n")), *next;
	struct wg_peer *op, *np;
	struct diags d = { 0 };
	char *text;
	struct buf y = BUF_INIT;

	(void)s;
	assert_int_equal(state_complete(old, NULL, &d, NULL), 0);
	/* An export without secrets, re-imported, keeps the keys. */
	state_to_yaml(old, 0, &y);
	next = state_from_yaml(y.data, y.len, &d, NULL);
	assert_non_null(next);
	assert_int_equal(state_complete(next, old, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	op = &old->wireguard.interfaces[0].peers[0];
	np = &next->wireguard.interfaces[0].peers[0];
	assert_true(KEY_HAS(&op->private_key) && key_same(&op->private_key, &np->private_key));
	assert_true(KEY_HAS(&op->preshared_key) &&
		    key_same(&op->preshared_key, &np->preshared_key));
	assert_true(key_same(&old->wireguard.interfaces[0].private_key,
			     &next->wireguard.interfaces[0].private_key));
	buf_release(&y);
	state_free(next);
	/* A public key that the old private key does not match is a BYO peer. */
	text = xasprintf("%s" WG("        - name: a\n          public_key: %s\n"), head,
			 "Ux3wrwzd8J0/XB1GJ8Lr4zmm1/eLPgILUKqZSmBqdUQ=");
	next = state_from_yaml(text, strlen(text), &d, NULL);
	assert_int_equal(state_complete(next, old, &d, NULL), 0);
	assert_false(KEY_GIVEN(&next->wireguard.interfaces[0].peers[0].private_key));
	free(text);
	state_free(next);
	state_free(old);
}

static void test_validate__interface_public_key_mismatch(void **s)
{
	char priv[KEY_B64], pub[KEY_B64], priv2[KEY_B64], pub2[KEY_B64], *body;

	(void)s;
	key_generate(priv, pub, NULL);
	key_generate(priv2, pub2, NULL);
	body = xasprintf("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: "
			 "[10.8.0.1/24], private_key: '%s', public_key: '%s'}\n",
			 priv, pub2);
	bad(body, "public_key \"");
	free(body);
	body = xasprintf("wireguard:\n  interfaces:\n    - {name: wg0, listen_port: 1, address: "
			 "[10.8.0.1/24], public_key: '%s'}\n",
			 pub2);
	bad(body, "public_key is given but its private_key is not known");
	free(body);
}

static void test_validate__positions_in_messages(void **s)
{
	const char *text = "version: 1\nsettings: {}\nwireguard:\n  interfaces:\n    - name: wg0\n"
			   "      listen_port: 1\n      address: [10.8.0.1/24]\n      peers:\n"
			   "        - name: a\n          address: [10.8.0.2/32, 10.0.0.300/32]\n";
	struct posmap pm = { 0 };
	struct diags d = { 0 };
	struct atlas_state *st = state_from_yaml(text, strlen(text), &d, &pm);
	struct buf b = BUF_INIT;

	(void)s;
	assert_non_null(st);
	assert_int_equal(state_check(st, NULL, &pm, &d, NULL), -1);
	diags_format(&d, "f.yaml", &b);
	assert_non_null(strstr(b.data, "f.yaml:10:34: wireguard interface \"wg0\": peer \"a\": "
					"address \"10.0.0.300/32\" is not an IPv4 or IPv6 prefix"));
	buf_release(&b);
	diags_clear(&d);
	posmap_clear(&pm);
	state_free(st);
}

/*
 * A value the decoder refuses (a port out of range, a boolean that is not
 * one) hides nothing: the rule problems of the rest of the file come in the
 * same run, each once, at its position.
 */
/* A display name typed where a name goes: one sentence, with a name that would do. */
static void test_validate__name_suggestion(void **s)
{
	static const char *const cases[][2] = {
		{ "Alice Phone", "alice-phone" }, { "  Bob's  iPad ", "bob-s-ipad" },
		{ "Zoë", "zoe" }, { "_x", "x" }, { "a__b", "a__b" }, { "!!!", "" },
		{ "Carol-Laptop.", "carol-laptop" },
		/* Latin letters lose their marks, not the letter ("ümlaut" suggested "mlaut") */
		{ "ümlaut-😀", "umlaut" }, { "Straße Ørsted", "strasse-orsted" },
		{ "Łódź Œuvre", "lodz-oeuvre" }, { "naïve×café", "naive-cafe" },
		{ "Ǆ-\xc3", "" },
	};
	char out[NAME_MAX_LEN + 1];
	char *p;

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name_suggest(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
		assert_true(!out[0] || name_valid(out));
	}
	p = problems("openvpn:\n  network: 10.9.0.0/24\n  clients:\n    - name: Alice Phone\n");
	assert_string_equal(p, "openvpn client name \"Alice Phone\" is invalid: use 1 to 63 lowercase "
			       "letters, digits, _ . - starting with a letter or digit, such as "
			       "\"alice-phone\"\n");
	free(p);
}

static void test_validate__all_problems_at_once(void **s)
{
	const char *text = "version: 1\nsettings:\n  host: vpn.example.org\n"
			   "wireguard:\n  interfaces:\n    - name: wg0\n"
			   "      listen_port: 70000\n      address: [10.8.0.1/24]\n"
			   "      peers:\n"
			   "        - name: alice\n          address: [10.8.0.2/32]\n"
			   "        - name: alice\n          address: [10.8.0.3/32]\n"
			   "        - name: Bad Name\n          address: [10.8.0.4/32]\n"
			   "        - name: carol\n          public_key: notakey\n"
			   "          address: [10.8.0.5/32]\n"
			   "        - name: dave\n          address: [10.9.0.6/32]\n"
			   "openvpn:\n  network: 10.9.0.0/24\n  clients:\n"
			   "    - name: erin\n      static_ip: 10.9.0.200\n";
	static const char *const want[] = {
		"f.yaml:7:20: wireguard: interface \"wg0\": listen_port: 70000 is out of range",
		"f.yaml:12:17: wireguard interface \"wg0\": peer name \"alice\" is used twice",
		"f.yaml:14:17: wireguard interface \"wg0\": peer name \"Bad Name\" is invalid",
		"f.yaml:17:23: wireguard interface \"wg0\": peer \"carol\": public_key \"notakey\" "
		"is not a valid key",
		"f.yaml:20:21: wireguard interface \"wg0\": peer \"dave\": address \"10.9.0.6/32\" "
		"is outside the networks",
		"f.yaml:25:18: openvpn client \"erin\": static_ip \"10.9.0.200\" is outside the "
		"static range",
	};
	struct posmap pm = { 0 };
	struct diags d = { 0 };
	struct atlas_err err = { 0 };
	struct buf b = BUF_INIT;

	(void)s;
	assert_null(state_parse_check(text, strlen(text), NULL, &pm, &d, &err));
	assert_int_equal(err.code, ERR_INVALID);
	diags_format(&d, "f.yaml", &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(b.data, want[i]))
			fail_msg("missing \"%s\" in:\n%s", want[i], b.data);
	assert_int_equal(d.n, 6);
	buf_release(&b);
	diags_clear(&d);
	posmap_clear(&pm);
	/* a refused value and a missing required key: no echo of either */
	text = "version: 1\nsettings:\n  auto_apply: maybe\nwireguard:\n  interfaces:\n"
	       "    - name: wg0\n      listen_port: abc\n      address: [10.8.0.1/24]\n"
	       "    - name: wg1\n      address: [10.7.0.1/24]\n"
	       "      peers:\n        - name: Zed\n"
	       "    - name: Office-Tunnel-Main\n      listen_port: 51821\n      address: [10.6.0.1/24]\n"
	       "    - name: office-tunnel-main\n      listen_port: 51822\n      address: [10.5.0.1/24]\n";
	assert_null(state_parse_check(text, strlen(text), NULL, &pm, &d, &err));
	diags_format(&d, "f.yaml", &b);
	assert_string_equal(b.data,
			    "f.yaml:3:15: settings: auto_apply: \"maybe\" is not true or false\n"
			    "f.yaml:7:20: wireguard: interface \"wg0\": listen_port: \"abc\" is not "
			    "an integer\n"
			    "f.yaml:9:7: wireguard: interface \"wg1\": missing required key "
			    "\"listen_port\"\n"
			    "f.yaml:12:17: wireguard interface \"wg1\": peer name \"Zed\" is invalid: use "
			    "1 to 63 lowercase letters, digits, _ . - starting with a letter or digit, such "
			    "as \"zed\"\n"
			    /* an interface's limit is the kernel's 15, said at once (it said 63) */
			    "f.yaml:13:13: wireguard interface name "
			    "\"Office-Tunnel-Main\" is invalid: use 1 to 15 lowercase letters, digits, _ . "
			    "- starting with a letter or digit, such as \"office-tunnel-m\"\n"
			    "f.yaml:16:13: wireguard interface name "
			    "\"office-tunnel-main\" is invalid: use 1 to 15 lowercase letters, digits, _ . "
			    "- starting with a letter or digit, such as \"office-tunnel-m\"\n");
	buf_release(&b);
	diags_clear(&d);
	posmap_clear(&pm);
}

/* The interface moved to another network: a peer without an address gets a
 * new one there, not its old one (which validation would then refuse). */
static void test_validate__completion_old_address_outside_network(void **s)
{
	struct atlas_state *old = parse(WG("        - name: a\n        - name: b\n")), *next;
	struct diags d = { 0 };
	struct buf b = BUF_INIT;
	int rc;

	(void)s;
	assert_int_equal(state_complete(old, NULL, &d, NULL), 0);
	assert_string_equal(old->wireguard.interfaces[0].peers[1].address.v[0], "10.8.0.3/32");
	next = parse("wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
		     "      address: [10.20.0.1/24]\n      peers:\n        - name: a\n"
		     "        - name: b\n");
	rc = state_check(next, old, NULL, &d, NULL);
	diags_format(&d, NULL, &b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(rc, 0);
	assert_string_equal(state_wg_peer(&next->wireguard.interfaces[0], "a")->address.v[0],
			    "10.20.0.2/32");
	assert_string_equal(state_wg_peer(&next->wireguard.interfaces[0], "b")->address.v[0],
			    "10.20.0.3/32");
	/* In the same network the old addresses come back. */
	state_free(next);
	next = parse(WG("        - name: b\n        - name: a\n"));
	assert_int_equal(state_check(next, old, NULL, &d, NULL), 0);
	assert_string_equal(state_wg_peer(&next->wireguard.interfaces[0], "b")->address.v[0],
			    "10.8.0.3/32");
	buf_release(&b);
	diags_clear(&d);
	state_free(next);
	state_free(old);
}

/* States from the API may lack a name: messages about others still print. */
static void test_validate__nameless_resource_in_message(void **s)
{
	struct atlas_state *st = parse("singbox:\n  inbounds:\n    - {name: a, type: vless, port: 443}\n"
				       "    - {name: b, type: vless, port: 443}\n");
	struct diags d = { 0 };
	struct buf b = BUF_INIT;

	(void)s;
	free(st->singbox.inbounds[0].name);
	st->singbox.inbounds[0].name = NULL;
	state_validate(st, &d);
	diags_format(&d, NULL, &b);
	TU_HAS(b.data, "inbound has no name",
	       "singbox inbound \"b\": port 443/tcp is already used by inbound \"?\"");
	buf_release(&b);
	diags_clear(&d);
	state_free(st);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_validate__names),
	cmocka_unit_test(test_validate__reserved_names),
	cmocka_unit_test(test_validate__duplicate_names),
	cmocka_unit_test(test_validate__prefixes),
	cmocka_unit_test(test_validate__dns_addresses),
	cmocka_unit_test(test_validate__address_inside_network),
	cmocka_unit_test(test_validate__address_used_twice),
	cmocka_unit_test(test_validate__ports),
	cmocka_unit_test(test_validate__tunnels_apart_and_no_repeats),
	cmocka_unit_test(test_validate__keys),
	cmocka_unit_test(test_validate__bad_key_text_quoted),
	cmocka_unit_test(test_validate__dates),
	cmocka_unit_test(test_validate__text),
	cmocka_unit_test(test_validate__host),
	cmocka_unit_test(test_validate__openvpn_static_ip),
	cmocka_unit_test(test_validate__address_plan),
	cmocka_unit_test(test_validate__completion_generates_and_allocates),
	cmocka_unit_test(test_validate__completion_keeps_secrets_by_name),
	cmocka_unit_test(test_validate__completion_old_address_outside_network),
	cmocka_unit_test(test_validate__nameless_resource_in_message),
	cmocka_unit_test(test_validate__interface_public_key_mismatch),
	cmocka_unit_test(test_validate__positions_in_messages),
	cmocka_unit_test(test_validate__all_problems_at_once),
	cmocka_unit_test(test_validate__name_suggestion))
