/*
 * test_sb_state.c - the singbox section of the desired state: its YAML,
 * completion (secrets kept by name, generated when missing, fitted to the
 * type), validation (one good and one bad case per rule, messages with
 * file:line:col) and the round trips through YAML and SQLite.
 */
#include "testutil.h"

#include "state/commit.h"
#include "state/json.h"
#include "state/complete.h"
#include "state/sb_keys.h"
#include "state/store.h"
#include "state/validate.h"
#include "state/yaml.h"

static const char head[] = "version: 1\nsettings: {host: vpn.example.com}\n";

static struct atlas_state *parse(const char *body, struct posmap *pm)
{
	/* a body with its own head (another settings) is taken as it is */
	char *text = xasprintf("%s%s", strncmp(body, "version:", 8) ? head : "", body);
	struct atlas_state *st = tu_state_pm(text, pm);

	free(text);
	return st;
}

/* Completes, validates; "FILE:LINE:COL: msg" lines (new). */
static char *problems(const char *body)
{
	struct posmap pm = { 0 };
	char *p = tu_problems(parse(body, &pm), &pm, "f.yaml");

	posmap_clear(&pm);
	return p;
}

static void good(const char *body)
{
	tu_good(problems(body));
}

static void bad(const char *body, const char *want)
{
	tu_bad(problems(body), want);
}

/* Fails when text contains any of the NULL-terminated words (a secret that leaked). */
static void has_none(const char *text, const char *const *words)
{
	for (; *words; words++)
		if (strstr(text, *words))
			fail_msg("\"%s\" should not be in:\n%s", *words, text);
}

#define SB(x) "singbox:\n  inbounds:\n" x

static void test_sb_state__types_and_security(void **s)
{
	(void)s;
	good(SB("    - {name: a, type: vless, port: 443, server_name: www.example.com, users: [{name: alice}]}\n"
		"    - {name: b, type: vless, port: 444, security: tls, transport: ws, path: /ws, users: [{name: alice}]}\n"
		"    - {name: c, type: vmess, port: 445, users: [{name: alice}]}\n"
		"    - {name: d, type: trojan, port: 446, transport: grpc, path: tj, users: [{name: alice}]}\n"
		"    - {name: e, type: shadowsocks, port: 447, users: [{name: alice}]}\n"
		"    - {name: f, type: hysteria2, port: 443, users: [{name: alice}]}\n"
		"    - {name: g, type: tuic, port: 444, users: [{name: alice}]}\n"
		"    - {name: h, type: vless, port: 448, security: none, users: [{name: alice}]}\n"));
	bad(SB("    - {name: a, type: vmess, port: 443, security: reality, users: [{name: alice}]}\n"),
	    "f.yaml:5:51: singbox inbound \"a\": security \"reality\" is not available for vmess "
	    "(use tls or none)");
	bad(SB("    - {name: a, type: trojan, port: 443, security: none, users: [{name: alice}]}\n"),
	    "security \"none\" is not available for trojan (use tls)");
	bad(SB("    - {name: a, type: hysteria2, port: 443, security: none, users: [{name: alice}]}\n"),
	    "security \"none\" is not available for hysteria2 (use tls)");
	bad(SB("    - {name: a, type: tuic, port: 443, security: reality, server_name: a.b, users: [{name: alice}]}\n"),
	    "security \"reality\" is not available for tuic (use tls)");
	bad(SB("    - {name: a, type: shadowsocks, port: 443, security: tls, users: [{name: alice}]}\n"),
	    "security \"tls\" is not available for shadowsocks (use none)");
	bad(SB("    - {name: a, type: vless, port: 443, users: [{name: alice}]}\n"),
	    "f.yaml:5:14: singbox inbound \"a\": security reality needs server_name");
	bad(SB("    - {name: a, type: vless, port: 443, server_name: 1.2.3.4, users: [{name: alice}]}\n"),
	    "server_name \"1.2.3.4\" is not a DNS name");
	bad(SB("    - {name: a, type: vmess, port: 443, server_name: a.example, users: [{name: alice}]}\n"),
	    "server_name is only used with security tls or reality");
}

static void test_sb_state__reality_and_tls_fields(void **s)
{
	(void)s;
	good(SB("    - {name: a, type: vless, port: 443, server_name: www.example.com,\n"
		"       reality_handshake: \"[::1]:8443\", reality_short_id: 0a1b, users: [{name: alice}]}\n"
		"    - {name: b, type: trojan, port: 444, tls_certificate: /etc/c.pem,\n"
		"       tls_key: /etc/k.pem, users: [{name: alice}]}\n"));
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.example,\n"
	       "       reality_handshake: a.example, users: [{name: alice}]}\n"),
	    "f.yaml:6:27: singbox inbound \"a\": reality_handshake \"a.example\" is not host:port");
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.example,\n"
	       "       reality_handshake: \"a.example:99999\", users: [{name: alice}]}\n"),
	    "is not host:port");
	bad(SB("    - {name: a, type: vless, port: 443, security: tls, reality_handshake: a.b:443, users: [{name: alice}]}\n"),
	    "reality_handshake is only used with security reality");
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.b, reality_short_id: xyz, users: [{name: alice}]}\n"),
	    "reality_short_id \"xyz\" is not an even number");
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.b, reality_private_key: abc, users: [{name: alice}]}\n"),
	    "reality_private_key is not a base64url X25519 key");
	bad(SB("    - {name: a, type: trojan, port: 443, tls_certificate: /c.pem, users: [{name: alice}]}\n"),
	    "tls_certificate and tls_key go together");
	bad(SB("    - {name: a, type: trojan, port: 443, tls_certificate: c.pem, tls_key: /k, users: [{name: alice}]}\n"),
	    "tls_certificate \"c.pem\" is not an absolute path");
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.b, tls_key: /k.pem,\n"
	       "       tls_certificate: /c.pem, users: [{name: alice}]}\n"),
	    "tls_certificate is only used with security tls");
	bad("version: 1\nsettings: {}\n"
	    "singbox:\n  inbounds:\n    - {name: a, type: trojan, port: 443, users: [{name: alice}]}\n",
	    "security tls without tls_certificate needs server_name or settings.host");
}

static void test_sb_state__transport(void **s)
{
	(void)s;
	good(SB("    - {name: a, type: vmess, port: 443, transport: httpupgrade, path: /up, users: [{name: alice}]}\n"
		"    - {name: b, type: vmess, port: 444, transport: ws, users: [{name: alice}]}\n"));
	bad(SB("    - {name: a, type: vless, port: 443, server_name: a.b, transport: ws, users: [{name: alice}]}\n"),
	    "transport \"ws\" cannot be used with security reality (only tcp)");
	bad(SB("    - {name: a, type: hysteria2, port: 443, transport: ws, users: [{name: alice}]}\n"),
	    "transport \"ws\" is not available for hysteria2");
	bad(SB("    - {name: a, type: shadowsocks, port: 443, transport: grpc, path: x, users: [{name: alice}]}\n"),
	    "transport \"grpc\" is not available for shadowsocks");
	bad(SB("    - {name: a, type: vmess, port: 443, transport: grpc, users: [{name: alice}]}\n"),
	    "transport grpc needs path");
	bad(SB("    - {name: a, type: vmess, port: 443, transport: grpc, path: /a, users: [{name: alice}]}\n"),
	    "path \"/a\" is not a gRPC service name");
	bad(SB("    - {name: a, type: vmess, port: 443, transport: ws, path: \"ws?x=1\", users: [{name: alice}]}\n"),
	    "path \"ws?x=1\" must start with /");
	bad(SB("    - {name: a, type: vmess, port: 443, path: /ws, users: [{name: alice}]}\n"),
	    "path is only used with transport ws, grpc or httpupgrade");
}

static void test_sb_state__ports(void **s)
{
	(void)s;
	/* TCP and UDP on one port are two ports */
	good(SB("    - {name: a, type: trojan, port: 443, users: [{name: alice}]}\n"
		"    - {name: b, type: hysteria2, port: 443, users: [{name: alice}]}\n"));
	bad(SB("    - {name: a, type: trojan, port: 443, users: [{name: alice}]}\n"
	       "    - {name: b, type: vmess, port: 443, users: [{name: alice}]}\n"),
	    "f.yaml:6:36: singbox inbound \"b\": port 443/tcp is already used by inbound \"a\"");
	bad(SB("    - {name: a, type: tuic, port: 443, users: [{name: alice}]}\n"
	       "    - {name: b, type: hysteria2, port: 443, users: [{name: alice}]}\n"),
	    "singbox inbound \"b\": port 443/udp is already used by inbound \"a\"");
	bad("wireguard:\n  interfaces: [{name: wg0, listen_port: 51820, address: [10.8.0.1/24]}]\n"
	    SB("    - {name: a, type: hysteria2, port: 51820, users: [{name: alice}]}\n"),
	    "port 51820/udp is already used by wireguard interface \"wg0\"");
	good("wireguard:\n  interfaces: [{name: wg0, listen_port: 51820, address: [10.8.0.1/24]}]\n"
	     SB("    - {name: a, type: trojan, port: 51820, users: [{name: alice}]}\n"));
	bad("openvpn: {network: 10.9.0.0/24, port: 443, proto: tcp}\n"
	    SB("    - {name: a, type: trojan, port: 443, users: [{name: alice}]}\n"),
	    "port 443/tcp is already used by openvpn");
	good("openvpn: {network: 10.9.0.0/24, port: 443}\n"
	     SB("    - {name: a, type: trojan, port: 443, users: [{name: alice}]}\n"));
	bad(SB("    - {name: a, type: trojan, port: 9091, users: [{name: alice}]}\n"),
	    "port 9091/tcp is already used by singbox api_port (127.0.0.1)");
	bad("singbox:\n  api_port: 9092\n  inbounds: []\n",
	    "singbox: ssm_port 9092 is already used by singbox api_port (127.0.0.1)");
	bad(SB("    - {name: a, type: trojan, port: 443, listen: \"::x\", users: [{name: alice}]}\n"),
	    "listen \"::x\" is not an IPv4 or IPv6 address");
}

static void test_sb_state__users(void **s)
{
	(void)s;
	bad(SB("    - {name: a, type: trojan, port: 443, users: []}\n"),
	    "f.yaml:5:49: singbox inbound \"a\": inbound has no users: add at least one");
	bad(SB("    - {name: a, type: shadowsocks, port: 443}\n"), "inbound has no users");
	bad(SB("    - {name: a, type: vmess, port: 443, users: [{name: x}, {name: x}]}\n"),
	    "user name \"x\" is used twice");
	bad(SB("    - {name: a, type: vmess, port: 443, users: [{name: X}]}\n"),
	    "singbox inbound \"a\": user name \"X\" is invalid");
	bad(SB("    - {name: a, type: vmess, port: 443, users: [{name: x, uuid: 123}]}\n"),
	    "f.yaml:5:65: singbox inbound \"a\": user \"x\": uuid \"123\" is not a UUID");
	bad(SB("    - {name: a, type: vmess, port: 443, users:\n"
	       "       [{name: x, uuid: 0b3e4d50-3b8a-4c1e-9d2f-7a6b5c4d3e2f},\n"
	       "        {name: y, uuid: 0B3E4D50-3B8A-4C1E-9D2F-7A6B5C4D3E2F}]}\n"),
	    "f.yaml:7:25: singbox inbound \"a\": user \"y\": uuid is the same as user \"x\"'s");
	bad(SB("    - {name: a, type: trojan, port: 443, users:\n"
	       "       [{name: x, password: secret1}, {name: y, password: secret1}]}\n"),
	    "user \"y\": password is the same as user \"x\"'s");
	good(SB("    - {name: a, type: trojan, port: 443, users:\n"
		"       [{name: x, password: secret1}, {name: y, password: secret2}]}\n"));
	/* the same person in two inbounds is fine */
	good(SB("    - {name: a, type: trojan, port: 443, users: [{name: x}]}\n"
		"    - {name: b, type: vmess, port: 444, users: [{name: x}]}\n"));
	bad(SB("    - {name: a, type: vmess, port: 443, users: [{name: x, expires: 2030-02-30}]}\n"),
	    "expires \"2030-02-30\" is not a date");
}

static void test_sb_state__shadowsocks_keys(void **s)
{
	(void)s;
	good(SB("    - {name: a, type: shadowsocks, port: 443, server_key: AAAAAAAAAAAAAAAAAAAAAA==,\n"
		"       users: [{name: x, password: AQEBAQEBAQEBAQEBAQEBAQ==}]}\n"));
	good(SB("    - {name: a, type: shadowsocks, port: 443, method: 2022-blake3-aes-256-gcm,\n"
		"       users: [{name: x, password: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}]}\n"));
	bad(SB("    - {name: a, type: shadowsocks, port: 443, server_key: AAAA, users: [{name: x}]}\n"),
	    "server_key is not a key for 2022-blake3-aes-128-gcm: base64 of 16 bytes");
	/* a 16-byte key for the 32-byte method */
	bad(SB("    - {name: a, type: shadowsocks, port: 443, method: 2022-blake3-aes-256-gcm,\n"
	       "       users: [{name: x, password: AQEBAQEBAQEBAQEBAQEBAQ==}]}\n"),
	    "f.yaml:6:36: singbox inbound \"a\": user \"x\": password is not a key for "
	    "2022-blake3-aes-256-gcm: base64 of 32 bytes");
	bad(SB("    - {name: a, type: vmess, port: 443, method: 2022-blake3-aes-256-gcm, users: [{name: alice}]}\n"),
	    "method is only used with type shadowsocks");
}

static void test_sb_state__names(void **s)
{
	(void)s;
	bad(SB("    - {name: direct, type: vmess, port: 443, users: [{name: alice}]}\n"),
	    "name \"direct\" is reserved");
	bad(SB("    - {name: proxy, type: vmess, port: 443, users: [{name: alice}]}\n"), "name \"proxy\" is reserved");
	bad(SB("    - {name: A b, type: vmess, port: 443, users: [{name: alice}]}\n"), "name \"A b\" is invalid");
	bad(SB("    - {name: a, type: vmess, port: 443, users: [{name: alice}]}\n"
	       "    - {name: a, type: vmess, port: 444, users: [{name: alice}]}\n"),
	    "inbound name \"a\" is used twice");
}

static const char full[] =
	SB("    - {name: edge, type: vless, port: 443, server_name: www.example.com, users: [{name: alice}, {name: bob}]}\n"
	   "    - {name: ss, type: shadowsocks, port: 8388, users: [{name: alice}]}\n"
	   "    - {name: tj, type: trojan, port: 8443, users: [{name: carol}]}\n"
	   "    - {name: tu, type: tuic, port: 8443, users: [{name: alice}]}\n");

static void test_sb_state__completion_generates_per_type(void **s)
{
	struct atlas_state *st = parse(full, NULL);
	struct diags d = { 0 };
	struct sb_inbound *edge, *ss, *tj, *tu;
	char pin[65];

	(void)s;
	assert_int_equal(state_complete(st, NULL, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	edge = state_sb_inbound(st, "edge");
	ss = state_sb_inbound(st, "ss");
	tj = state_sb_inbound(st, "tj");
	tu = state_sb_inbound(st, "tu");
	assert_true(sb_reality_key_valid(edge->reality_private_key));
	assert_true(sb_reality_key_valid(edge->reality_public_key));
	assert_true(sb_short_id_valid(edge->reality_short_id));
	assert_true(sb_uuid_valid(edge->users[0].uuid));
	assert_null(edge->users[0].password);
	assert_null(edge->self_signed_certificate);
	assert_true(sb_ss_key_valid(ss->server_key, 16));
	assert_true(sb_ss_key_valid(ss->users[0].password, 16));
	assert_null(ss->users[0].uuid);
	assert_null(tj->users[0].uuid);
	assert_non_null(tj->users[0].password);
	assert_true(sb_cert_matches(tj->self_signed_certificate, tj->self_signed_key,
				    "vpn.example.com"));
	assert_int_equal(sb_cert_sha256(tj->self_signed_certificate, pin, NULL), 0);
	assert_string_equal(pin, tj->certificate_sha256);
	assert_true(sb_uuid_valid(tu->users[0].uuid));
	assert_non_null(tu->users[0].password);
	assert_non_null(st->singbox.api_secret);
	/* one subscription per person, sorted */
	assert_int_equal(st->singbox.nsubscriptions, 3);
	assert_string_equal(st->singbox.subscriptions[0].name, "alice");
	assert_string_equal(st->singbox.subscriptions[2].name, "carol");
	assert_true(strlen(st->singbox.subscriptions[0].token) >= 16);
	state_validate(st, &d);
	assert_int_equal(d.n, 0);
	state_free(st);
}

static void test_sb_state__completion_keeps_secrets_by_name(void **s)
{
	struct atlas_state *old = parse(full, NULL), *next;
	struct sb_inbound *o, *n;
	struct diags d = { 0 };
	struct buf y = BUF_INIT;

	(void)s;
	assert_int_equal(state_complete(old, NULL, &d, NULL), 0);
	state_to_yaml(old, 0, &y);
	/* the export without secrets has none of them */
	has_none(y.data, (const char *const[]){ "reality_private_key", "server_key", "uuid",
						  "password", "token", "subscriptions", "BEGIN",
						  "api_secret", NULL });
	next = state_from_yaml(y.data, y.len, &d, NULL);
	assert_non_null(next);
	assert_int_equal(state_complete(next, old, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	o = state_sb_inbound(old, "edge");
	n = state_sb_inbound(next, "edge");
	assert_string_equal(o->reality_private_key, n->reality_private_key);
	assert_string_equal(o->reality_short_id, n->reality_short_id);
	assert_string_equal(o->users[1].uuid, n->users[1].uuid);
	o = state_sb_inbound(old, "tj");
	n = state_sb_inbound(next, "tj");
	assert_string_equal(o->self_signed_certificate, n->self_signed_certificate);
	assert_string_equal(o->users[0].password, n->users[0].password);
	assert_string_equal(state_sb_inbound(old, "ss")->server_key,
			    state_sb_inbound(next, "ss")->server_key);
	assert_string_equal(old->singbox.api_secret, next->singbox.api_secret);
	assert_string_equal(state_sb_subscription(old, "bob")->token,
			    state_sb_subscription(next, "bob")->token);
	buf_release(&y);
	state_free(next);
	state_free(old);
}

static void test_sb_state__completion_refits_changed_inbounds(void **s)
{
	struct atlas_state *old = parse(full, NULL), *next;
	struct diags d = { 0 };
	char *cert;

	(void)s;
	assert_int_equal(state_complete(old, NULL, &d, NULL), 0);
	/* tj gets a server name (new certificate), ss a 32-byte method (new keys),
	 * carol is gone (her subscription too) */
	next = parse(SB("    - {name: edge, type: vless, port: 443, server_name: www.example.com, users: [{name: alice}, {name: bob}]}\n"
			"    - {name: ss, type: shadowsocks, port: 8388, method: 2022-blake3-aes-256-gcm, users: [{name: alice}]}\n"
			"    - {name: tj, type: trojan, port: 8443, server_name: tj.example.com, users: [{name: alice}]}\n"),
		     NULL);
	assert_int_equal(state_complete(next, old, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	cert = state_sb_inbound(next, "tj")->self_signed_certificate;
	assert_string_not_equal(cert, state_sb_inbound(old, "tj")->self_signed_certificate);
	assert_true(sb_cert_matches(cert, state_sb_inbound(next, "tj")->self_signed_key,
				    "tj.example.com"));
	assert_true(sb_ss_key_valid(state_sb_inbound(next, "ss")->server_key, 32));
	assert_true(sb_ss_key_valid(state_sb_inbound(next, "ss")->users[0].password, 32));
	assert_int_equal(next->singbox.nsubscriptions, 2);
	assert_null(state_sb_subscription(next, "carol"));
	state_validate(next, &d);
	assert_int_equal(d.n, 0);
	state_free(next);
	state_free(old);
}

/* The problems of completing body against old (may be NULL). */
static char *completion_problems(const char *body, const struct atlas_state *old)
{
	struct atlas_state *next = parse(body, NULL);
	struct diags d = { 0 };
	struct buf b = BUF_INIT;

	assert_int_equal(state_complete(next, old, &d, NULL), 0);
	diags_format(&d, NULL, &b);
	diags_clear(&d);
	state_free(next);
	return buf_detach(&b);
}

static void test_sb_state__reality_public_key_checked(void **s)
{
	static const char given[] =
		SB("    - {name: edge, type: vless, port: 443, server_name: www.example.com,\n"
		   "       reality_public_key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, users: [{name: alice}]}\n");
	struct atlas_state *old = parse(full, NULL);
	struct diags d = { 0 };
	char *p;

	(void)s;
	assert_int_equal(state_complete(old, NULL, &d, NULL), 0);
	p = completion_problems(given, old);
	assert_non_null(strstr(p, "reality_public_key \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" "
				  "does not match its reality_private_key"));
	free(p);
	/* unknown private key, given public key: refused rather than replaced */
	p = completion_problems(given, NULL);
	assert_non_null(strstr(p, "reality_public_key is given but its reality_private_key is "
				  "not known"));
	free(p);
	diags_clear(&d);
	state_free(old);
}

/* The API's JSON never carries a secret of the section */
static void test_sb_state__json_has_no_secrets(void **s)
{
	struct atlas_state *st = parse(full, NULL);
	struct diags d = { 0 };
	json_t *j;
	char *text;

	(void)s;
	assert_int_equal(state_complete(st, NULL, &d, NULL), 0);
	j = json_encode_struct(&schema_sb_section, &st->singbox, JSON_ENC_LISTS);
	text = json_dumps(j, 0);
	TU_HAS(text, "\"reality_public_key\"", "\"certificate_sha256\"");
	has_none(text, (const char *const[]){ "private_key", "server_key", "uuid", "password",
					      "subscriptions", "token", "api_secret", "self_signed",
					      NULL });
	free(text);
	json_decref(j);
	state_free(st);
}

/* export --secrets, import into a new store, export: the same bytes */
static void test_sb_state__round_trip_through_store(void **s)
{
	char *dir = tu_tmpdir(), *dir2 = tu_tmpdir();
	struct store *st1, *st2;
	struct atlas_state *a = parse(full, NULL), *loaded;
	struct diags d = { 0 };
	struct atlas_err err;
	struct buf y1 = BUF_INIT, y2 = BUF_INIT, y3 = BUF_INIT;
	int64_t gen;

	(void)s;
	assert_int_equal(store_open(dir, &st1, &err), 0);
	assert_int_equal(state_commit(st1, a, NULL, "test", "test", &d, &gen, &err), 0);
	assert_int_equal(store_load(st1, &loaded, &gen, &err), 0);
	state_to_yaml(loaded, 1, &y1);
	state_free(loaded);
	assert_int_equal(store_open(dir2, &st2, &err), 0);
	assert_int_equal(state_import_yaml(st2, y1.data, y1.len, "test", &d, &gen, &err), 0);
	assert_int_equal(store_load(st2, &loaded, &gen, &err), 0);
	state_to_yaml(loaded, 1, &y2);
	assert_string_equal(y1.data, y2.data);
	/* and the secret-less export re-imports to the same secrets */
	state_to_yaml(loaded, 0, &y3);
	state_free(loaded);
	assert_int_equal(state_import_yaml(st2, y3.data, y3.len, "test", &d, &gen, &err), 0);
	assert_int_equal(store_load(st2, &loaded, &gen, &err), 0);
	buf_reset(&y2);
	state_to_yaml(loaded, 1, &y2);
	assert_string_equal(y1.data, y2.data);
	state_free(loaded);
	buf_release(&y1);
	buf_release(&y2);
	buf_release(&y3);
	store_close(st1);
	store_close(st2);
	state_free(a);
	tu_rmrf_free(dir);
	tu_rmrf_free(dir2);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_sb_state__types_and_security),
	cmocka_unit_test(test_sb_state__reality_and_tls_fields),
	cmocka_unit_test(test_sb_state__transport),
	cmocka_unit_test(test_sb_state__ports),
	cmocka_unit_test(test_sb_state__users),
	cmocka_unit_test(test_sb_state__shadowsocks_keys),
	cmocka_unit_test(test_sb_state__names),
	cmocka_unit_test(test_sb_state__completion_generates_per_type),
	cmocka_unit_test(test_sb_state__completion_keeps_secrets_by_name),
	cmocka_unit_test(test_sb_state__completion_refits_changed_inbounds),
	cmocka_unit_test(test_sb_state__reality_public_key_checked),
	cmocka_unit_test(test_sb_state__json_has_no_secrets),
	cmocka_unit_test(test_sb_state__round_trip_through_store))
