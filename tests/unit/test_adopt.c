/*
 * test_adopt.c - the wg-quick reader of `atlas adopt wireguard`: names from
 * comment conventions, strict errors at FILE:LINE:COL, the merge with the
 * live interface, client files.
 */
#include "tests/unit/testutil.h"

#include "state/adopt_ovpn.h"
#include "state/adopt_wg.h"
#include "state/keys.h"

#define K1 "4AlQnco2wiVnVhOpF56Q6ANpXsTZqL28DK7KQvXEZEI="
#define K2 "cCZlBQpjTKFe4T07EWJ6ZFQOocwmQz84h5+aNyP0Yl4="
#define K3 "wEcjxqPnEjyPSoBxh5WQUFWitKcn1XYGDCfrNbLlX34="
#define PSK "GCTKVcqoQR+B6T5JUHF4TZaakqICObCUiu1T0ggPTnc="

static const char good[] = "[Interface]\n"
			   "Address = 10.8.0.1/24, fd00::1/64\n"
			   "ListenPort = 51820\n"
			   "PrivateKey = " K1 "\n"
			   "PostUp = iptables -A FORWARD -i wg0 -j ACCEPT\n"
			   "Table = off\n"
			   "\n"
			   "### begin alice ###\n"
			   "[Peer]\n"
			   "PublicKey = " K2 "\n"
			   "PresharedKey = " PSK "\n"
			   "AllowedIPs = 10.8.0.2/32, fd00::2/128\n"
			   "### end alice ###\n"
			   "\n"
			   "[Peer]\n"
			   "# Name:   Bob Smith\n"
			   "# Email: bob@example.com\n"
			   "PublicKey = " K3 "\n"
			   "AllowedIPs = 10.8.0.3/32 # his laptop\n"
			   "PersistentKeepalive = 25\n";

/* The formatted diags, "L:C: msg" lines. */
static char *fmt(struct diags *d)
{
	struct buf b = BUF_INIT;

	diags_format(d, "f.conf", &b);
	return buf_detach(&b);
}

static void test_adopt__names_and_values(void **ts)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;
	char *n;

	(void)ts;
	assert_int_equal(adopt_wg_parse(good, strlen(good), "wg0", &a, &errs, &notes), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(a.ifc.npeers, 2);
	assert_string_equal(a.ifc.peers[0].name, "alice");
	assert_string_equal(a.ifc.peers[1].name, "bob-smith");
	assert_int_equal(a.ifc.listen_port, 51820);
	assert_int_equal(a.ifc.address.n, 2);
	assert_string_equal(tu_key(&a.ifc.peers[0].preshared_key), PSK);
	/* No PSK in the file: the all-zero key, which Atlas treats as none. */
	assert_string_equal(tu_key(&a.ifc.peers[1].preshared_key), ADOPT_WG_NO_PSK);
	assert_false(key_psk_on(&a.ifc.peers[1].preshared_key));
	assert_int_equal(a.ifc.peers[1].keepalive, 25);
	/* the schema's defaults, so that the export of an adoption imports again */
	assert_int_equal(a.ifc.peers[0].quota_reset_day, 1);
	assert_int_equal(a.ifc.peers[1].quota_period, QUOTA_MONTHLY);
	/* the schema's defaults, so that the export of an adoption imports again */
	assert_int_equal(a.ifc.peers[0].quota_reset_day, 1);
	assert_int_equal(a.ifc.peers[1].quota_period, QUOTA_MONTHLY);
	assert_string_equal(a.ifc.peers[1].address.v[0], "10.8.0.3/32");
	n = fmt(&notes);
	TU_HAS(n, "f.conf:5:1: PostUp = iptables", "f.conf:6:1: Table = off is not carried over",
	       /* a name written otherwise than Atlas names it is told; "alice" is not */
	       "f.conf:16:1: peer \"Bob Smith\" is named \"bob-smith\" in Atlas");
	assert_null(strstr(n, "\"alice\" is named"));
	free(n);
	adopt_wg_release(&a);
	diags_clear(&notes);
}

static void test_adopt__comment_styles(void **ts)
{
	static const char text[] = "[Interface]\nAddress = 10.8.0.1/24\nListenPort = 1\n"
				   "PrivateKey = " K1 "\n"
				   "# Client: carol (2b1c-uuid)\n[Peer]\nPublicKey = " K2
				   "\nAllowedIPs = 10.8.0.2/32\n"
				   "# BEGIN_PEER dan\n[Peer]\nPublicKey = " K3
				   "\nAllowedIPs = 10.8.0.3/32\n# END_PEER dan\n"
				   "[Peer]\nPublicKey = " PSK "\nAllowedIPs = 10.8.0.4/32\n";
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;

	(void)ts;
	assert_int_equal(adopt_wg_parse(text, strlen(text), "wg0", &a, &errs, &notes), 0);
	assert_string_equal(a.ifc.peers[0].name, "carol");
	assert_string_equal(a.ifc.peers[1].name, "dan");
	/* "# END_PEER dan" above it names nothing: from the address. */
	assert_string_equal(a.ifc.peers[2].name, "peer-10.8.0.4");
	adopt_wg_release(&a);
	diags_clear(&notes);
}

/* Each malformed input: the error, its line and column; and the result is released. */
static void expect_error(const char *text, const char *want)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;

	assert_int_equal(adopt_wg_parse(text, strlen(text), "wg0", &a, &errs, &notes), -1);
	tu_bad(fmt(&errs), want);
	assert_int_equal(a.ifc.npeers, 0);
	assert_null(a.ifc.name);
	diags_clear(&errs);
	diags_clear(&notes);
}

#define HEAD "[Interface]\nAddress = 10.8.0.1/24\nListenPort = 51820\nPrivateKey = " K1 "\n"

static void test_adopt__malformed(void **ts)
{
	(void)ts;
	/* Truncated: the last peer lost its key; a header cut short. */
	expect_error(HEAD "[Peer]\nAllowedIPs = 10.8.0.2/32\n",
		     "f.conf:5:1: [Peer] has no PublicKey (truncated file?)");
	expect_error(HEAD "[Pe", "f.conf:5:1: section header \"[Pe\" is not closed");
	expect_error(HEAD "[Peer]\nPublicKey\n", "f.conf:6:1: \"PublicKey\" is not \"Key = Value\"");
	/* Unknown keys and sections. */
	expect_error(HEAD "Colour = blue\n", "f.conf:5:1: unknown key \"Colour\" in [Interface]");
	expect_error(HEAD "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.2/32\n  Foo = 1\n",
		     "f.conf:8:3: unknown key \"Foo\" in [Peer]");
	expect_error(HEAD "[Peers]\n", "f.conf:5:2: unknown section [Peers]");
	/* Not base64, wrong length. */
	expect_error(HEAD "[Peer]\nPublicKey = not-a-key!\nAllowedIPs = 10.8.0.2/32\n",
		     "f.conf:6:13: PublicKey is not a base64 key of 32 bytes");
	expect_error("[Interface]\nAddress = 10.8.0.1/24\nPrivateKey = YWJj\n",
		     "f.conf:3:14: PrivateKey is not a base64 key");
	/* Duplicate names and keys. */
	expect_error(HEAD "# Name = a\n[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.2/32\n"
			  "# Name = a\n[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.8.0.3/32\n",
		     "f.conf:10:1: peer name \"a\" is used twice (also the peer at line 6)");
	expect_error(HEAD "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.2/32\n"
			  "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.3/32\n",
		     "f.conf:8:1: PublicKey " K2 " is used twice");
	/* Bad numbers and prefixes, keys outside a section, no interface. */
	expect_error("[Interface]\nAddress = 10.8.0.1/24\nListenPort = 99999\n",
		     "f.conf:3:14: ListenPort \"99999\" is not a number from 1 to 65535");
	expect_error(HEAD "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.2/32, 10.8.0.300/32\n",
		     "f.conf:7:27: AllowedIPs: \"10.8.0.300/32\" is not an IPv4 or IPv6 prefix");
	expect_error("PrivateKey = " K1 "\n", "f.conf:1:1: \"PrivateKey\" outside any section");
	expect_error("", "f.conf:1:1: no [Interface] section");
	expect_error(HEAD "[Peer]\nPublicKey = " K2 "\nAllowedIPs =\n",
		     "f.conf:5:1: [Peer] has no AllowedIPs");
	/* a problem told once: not again as a consequence */
	{
		static const char *const once[][2] = {
			{ HEAD "[Peers]\nPublicKey = " K2 "\n", "outside any section" },
			{ HEAD "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.8.0.300/32\n",
			  "has no AllowedIPs" },
		};

		for (size_t i = 0; i < 2; i++) {
			struct diags errs = { 0 }, notes = { 0 };
			struct adopt_wg a;
			char *e;

			assert_int_equal(adopt_wg_parse(once[i][0], strlen(once[i][0]), "wg0", &a,
							&errs, &notes),
					 -1);
			e = fmt(&errs);
			assert_int_equal(errs.n, 1);
			TU_LACKS(e, once[i][1]);
			free(e);
			diags_clear(&errs);
			diags_clear(&notes);
		}
	}
}

static void test_adopt__all_errors_at_once(void **ts)
{
	static const char text[] = HEAD "Colour = blue\n[Peer]\nPublicKey = xyz\n[Nope]\n";
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;

	(void)ts;
	assert_int_equal(adopt_wg_parse(text, strlen(text), "wg0", &a, &errs, &notes), -1);
	/* unknown key, bad key, unknown section, peer without PublicKey/AllowedIPs */
	assert_true(errs.n >= 4);
	diags_clear(&errs);
	diags_clear(&notes);
}

static void test_adopt__live_wins(void **ts)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;
	struct adopt_wg_live_peer lp[2] = { { .public_key = K2 }, { .public_key = K1 } };
	struct adopt_wg_live live = { .listen_port = 40000, .peers = lp, .npeers = 2 };
	char *n;

	(void)ts;
	strv_push(&lp[0].allowed_ips, "10.8.0.2/32");
	strv_push(&lp[0].allowed_ips, "fd00::2/128");
	strv_push(&lp[1].allowed_ips, "10.8.0.9/32");
	lp[1].keepalive = 5;
	assert_int_equal(adopt_wg_parse(good, strlen(good), "wg0", &a, &errs, &notes), 0);
	assert_int_equal(adopt_wg_merge_live(&a, &live, &errs, &notes), 0);
	assert_int_equal(a.ifc.listen_port, 40000);
	/* alice's live PSK is none: the file's PSK loses. */
	assert_false(key_psk_on(&a.ifc.peers[0].preshared_key));
	assert_int_equal(a.ifc.npeers, 3);
	assert_string_equal(a.ifc.peers[2].name, "peer-10.8.0.9");
	assert_int_equal(a.ifc.peers[2].keepalive, 5);
	n = fmt(&notes);
	TU_HAS(n, "f.conf:3:1: ListenPort 51820 differs from the live port 40000",
	       "peer \"bob-smith\" is in the file but not on the live interface");
	free(n);
	strv_clear(&lp[0].allowed_ips);
	strv_clear(&lp[1].allowed_ips);
	adopt_wg_release(&a);
	diags_clear(&notes);
}

static void test_adopt__client_file(void **ts)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;
	struct adopt_wg_client c;
	struct atlas_err err = { 0 };
	char priv[KEY_B64], pub[KEY_B64], spub[KEY_B64], *host = NULL, *text;

	(void)ts;
	assert_int_equal(key_generate(priv, pub, &err), 0);
	assert_int_equal(key_public(K1, spub, &err), 0);
	text = xasprintf("[Interface]\nAddress = 10.8.0.9/32\nDNS = 9.9.9.9, 1.1.1.1\n"
			 "PrivateKey = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0\n"
			 "Endpoint = vpn.example.com:51820\n",
			 priv, spub);
	assert_int_equal(adopt_wg_client_parse(text, strlen(text), &c, &errs), 0);
	assert_string_equal(c.dns.v[1], "1.1.1.1");
	{
		char *s = xasprintf("[Interface]\nAddress = 10.8.0.1/24\nListenPort = 1\n"
				    "PrivateKey = %s\n[Peer]\nPublicKey = %s\nAllowedIPs = "
				    "10.8.0.9/32\n",
				    K1, pub);

		assert_int_equal(adopt_wg_parse(s, strlen(s), "wg0", &a, &errs, &notes), 0);
		free(s);
	}
	assert_int_equal(adopt_wg_attach_client(&a, &c, "phone", &host, &notes, &err), 1);
	assert_string_equal(a.ifc.peers[0].name, "phone");
	assert_string_equal(tu_key(&a.ifc.peers[0].private_key), priv);
	assert_string_equal(a.ifc.peers[0].allowed_ips.v[0], "0.0.0.0/0");
	assert_string_equal(host, "vpn.example.com");
	assert_int_equal(a.ifc.dns.n, 2);
	free(host);
	free(text);
	adopt_wg_client_release(&c);
	adopt_wg_release(&a);
	diags_clear(&notes);
	/* A truncated client file: no [Peer] key. */
	assert_int_equal(adopt_wg_client_parse("[Interface]\nPrivateKey = " K1 "\n", 27 + 44 + 1, &c,
					       &errs),
			 -1);
	assert_int_equal(errs.n, 1);
	diags_clear(&errs);
}

static void test_adopt__outside_network(void **ts)
{
	static const char text[] = HEAD "# site\n[Peer]\nPublicKey = " K2
					"\nAllowedIPs = 10.8.0.2/32, 192.168.7.0/24\n";
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_wg a;
	char *e;

	(void)ts;
	assert_int_equal(adopt_wg_parse(text, strlen(text), "wg0", &a, &errs, &notes), 0);
	assert_int_equal(adopt_wg_check(&a, &errs), -1);
	e = fmt(&errs);
	assert_non_null(strstr(e, "f.conf:6:1: peer \"site\": AllowedIPs 192.168.7.0/24 lies outside"));
	free(e);
	adopt_wg_release(&a);
	diags_clear(&errs);
	diags_clear(&notes);
}

static void test_adopt__ovpn_server_conf(void **ts)
{
	static const char text[] = "port 1195\nproto udp6\ndev tun\nserver 10.8.0.0 255.255.255.0\n"
				   "ifconfig-pool-persist ipp.txt\n"
				   "push \"dhcp-option DNS 9.9.9.9\"\npush \"route 10.99.0.0 255.255.0.0\"\n"
				   "tls-crypt tc.key\ncipher AES-256-CBC\ncompress lz4-v2\n"
				   "<ca>\n-----BEGIN CERTIFICATE-----\n</ca>\n";
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_ovpn o;
	char *n;

	(void)ts;
	if (adopt_ovpn_parse(text, strlen(text), &o, &errs, &notes) < 0)
		fail_msg("%s", fmt(&errs));
	assert_int_equal(o.port, 1195);
	assert_int_equal(o.proto, OVPN_UDP);
	assert_string_equal(o.network, "10.8.0.0/24");
	assert_string_equal(o.dns.v[0], "9.9.9.9");
	assert_string_equal(o.routes.v[0], "10.99.0.0/16");
	assert_string_equal(o.tls_crypt, "tc.key");
	assert_string_equal(o.ipp, "ipp.txt");
	n = fmt(&notes);
	TU_HAS(n, "f.conf:9:1: cipher AES-256-CBC is not carried over",
	       "f.conf:10:1: compress is not carried over");
	free(n);
	adopt_ovpn_release(&o);
	diags_clear(&notes);
}

/*
 * Every directive not carried over gets its line, but those Atlas renders
 * the same way (or that only concern the server's own files); with both
 * redirect-gateway and routes, the note is at the route and says what Atlas
 * keeps: redirect-gateway.
 */
static void test_adopt__ovpn_what_is_dropped(void **ts)
{
	static const char text[] = "server 10.8.0.0 255.255.255.0\n"	      /* 1 */
				   "push \"redirect-gateway def1 bypass-dhcp\"\n" /* 2 */
				   "push \"route 192.168.5.0 255.255.255.0\"\n"   /* 3 */
				   "tun-mtu 1400\nfragment 1300\nmssfix 1200\n"    /* 4-6 */
				   "max-clients 5\nport-share 127.0.0.1 8443\n"    /* 7-8 */
				   "keepalive 5 30\ntls-version-min 1.3\n"	      /* 9-10 */
				   "reneg-sec 60\nkeepalive 10 60\n"		      /* 11-12 */
				   "tls-version-min 1.2\npersist-key\nverb 4\n"    /* 13-15 */
				   "tls-crypt tc.key\n";			      /* 16 */
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_ovpn o;
	char *n;

	(void)ts;
	if (adopt_ovpn_parse(text, strlen(text), &o, &errs, &notes) < 0)
		fail_msg("%s", fmt(&errs));
	n = fmt(&notes);
	TU_HAS(n, "f.conf:3:1: both redirect-gateway and routes are pushed: Atlas keeps "
		  "redirect-gateway",
	       "f.conf:4:1: tun-mtu 1400 is not carried over: Atlas renders OpenVPN's default; a "
	       "client file that sets tun-mtu too must drop it",
	       "f.conf:5:1: fragment 1300 is not carried over",
	       "f.conf:6:1: mssfix 1200 is not carried over",
	       "f.conf:7:1: max-clients 5 is not carried over: Atlas does not manage it",
	       "f.conf:8:1: port-share 127.0.0.1 8443 is not carried over",
	       "f.conf:9:1: keepalive 5 30 is not carried over: Atlas renders keepalive 10 60",
	       "f.conf:10:1: tls-version-min 1.3 is not carried over: Atlas renders "
	       "tls-version-min 1.2",
	       "f.conf:11:1: reneg-sec 60 is not carried over");
	TU_LACKS(n, "f.conf:12:", "f.conf:13:", "f.conf:14:", "f.conf:15:", "f.conf:16:",
		 "f.conf:1:1:");
	free(n);
	assert_true(o.redirect_gateway);
	adopt_ovpn_release(&o);
	diags_clear(&notes);
}

static void expect_ovpn_error(const char *text, const char *want)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_ovpn o;

	assert_int_equal(adopt_ovpn_parse(text, strlen(text), &o, &errs, &notes), -1);
	tu_bad(fmt(&errs), want);
	assert_null(o.network);
	diags_clear(&errs);
	diags_clear(&notes);
}

static void test_adopt__ovpn_malformed(void **ts)
{
	(void)ts;
	expect_ovpn_error("port 1194\ntls-auth ta.key 0\nserver 10.8.0.0 255.255.255.0\n",
			  "f.conf:2:1: tls-auth is not supported");
	expect_ovpn_error("port 70000\nserver 10.8.0.0 255.255.255.0\n",
			  "f.conf:1:6: port \"70000\" is not a number from 1 to 65535");
	expect_ovpn_error("server 10.8.0.0 255.0.255.0\n",
			  "f.conf:1:8: server \"10.8.0.0 255.0.255.0\" is not an IPv4 network");
	expect_ovpn_error("server 10.8.0.0\n", "f.conf:1:1: server needs 2 arguments (truncated?)");
	expect_ovpn_error("port 1194\n", "f.conf:1:1: no \"server NETWORK NETMASK\" line");
	expect_ovpn_error("server 10.8.0.0 255.255.255.0\n<key>\nabc\n",
			  "f.conf:2:1: <key> is never closed (truncated file?)");
}

static void test_adopt__ovpn_ipp_ccd(void **ts)
{
	static const char ipp[] = "alice,10.8.0.2,\nbob,10.8.0.3,fd00::3\n\n";
	struct strv n = STRV_INIT, a = STRV_INIT;
	struct diags errs = { 0 };
	char *ip;

	(void)ts;
	assert_int_equal(adopt_ovpn_ipp(ipp, strlen(ipp), &n, &a, &errs), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[1], "bob");
	assert_string_equal(a.v[1], "10.8.0.3");
	assert_int_equal(adopt_ovpn_ipp("carol\ndan,10.8.0.x\n", 18, &n, &a, &errs), -1);
	assert_int_equal(errs.n, 2);
	ip = adopt_ovpn_ccd_ip("# fixed\nifconfig-push 10.8.0.9 255.255.255.0\n", 46);
	assert_string_equal(ip, "10.8.0.9");
	free(ip);
	strv_clear(&n);
	strv_clear(&a);
	diags_clear(&errs);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_adopt__names_and_values),
	cmocka_unit_test(test_adopt__comment_styles),
	cmocka_unit_test(test_adopt__malformed),
	cmocka_unit_test(test_adopt__all_errors_at_once),
	cmocka_unit_test(test_adopt__live_wins),
	cmocka_unit_test(test_adopt__client_file),
	cmocka_unit_test(test_adopt__outside_network),
	cmocka_unit_test(test_adopt__ovpn_server_conf),
	cmocka_unit_test(test_adopt__ovpn_what_is_dropped),
	cmocka_unit_test(test_adopt__ovpn_malformed),
	cmocka_unit_test(test_adopt__ovpn_ipp_ccd))
