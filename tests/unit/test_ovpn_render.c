/*
 * test_ovpn_render.c - the OpenVPN renderers against golden files, and the
 * rules they must keep whatever the input (no legacy directives, the pool
 * in the upper half, disabled and expired clients refused).
 */
#include "testutil.h"
#include "renderers/openvpn/ovpn_render.h"

#define GOLDEN "tests/unit/golden/ovpn/"

static const char *const yaml_udp =
	"version: 1\n"
	"settings:\n  host: vpn.example.org\n"
	"openvpn:\n  port: 1194\n  network: 10.9.0.0/24\n  dns: [1.1.1.1, 9.9.9.9]\n"
	"  clients:\n"
	"    - name: alice\n      static_ip: 10.9.0.10\n"
	"    - name: bob\n"
	"    - name: carol\n      disabled: true\n"
	"    - name: dave\n      expires: 2026-01-31\n      static_ip: 10.9.0.11\n";

static const char *const yaml_tcp =
	"version: 1\n"
	"settings:\n  host: 203.0.113.7\n"
	"openvpn:\n  port: 443\n  proto: tcp\n  network: 10.20.0.0/16\n"
	"  routes: [192.168.1.0/24, 10.30.0.0/16]\n";

static const struct ovpn_server_paths paths = {
	"/var/lib/atlas/pki", "/var/lib/atlas/openvpn/ccd", "/var/lib/atlas/openvpn/status.log",
	"/var/lib/atlas/run/ovpn.sock",
};

static void check_no_legacy(const char *text)
{
	static const char *const bad[] = { "comp-lzo", "\ncompress", "ncp-ciphers",
					   "ns-cert-type", "\ncipher " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(text, bad[i]))
			fail_msg("legacy directive \"%s\" rendered", bad[i]);
}

/* server.conf of the state yaml (new): as the golden file, without legacy directives. */
static char *server_conf(const char *yaml, const char *golden)
{
	struct atlas_state *st = tu_state_checked(yaml);
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;

	assert_int_equal(render_ovpn_server(st, &paths, &out, &err), 0);
	tu_golden(golden, buf_str(&out));
	check_no_legacy(out.data);
	state_free(st);
	return buf_detach(&out);
}

static void test_ovpn_render__server_udp(void **state)
{
	char *conf = server_conf(yaml_udp, GOLDEN "server-udp.conf");

	(void)state;
	TU_HAS(conf, "server 10.9.0.0 255.255.255.0 nopool\n",
	       "ifconfig-pool 10.9.0.128 10.9.0.254 255.255.255.0\n", "explicit-exit-notify 1\n",
	       "management-client-user root\n", "push \"redirect-gateway def1 bypass-dhcp\"\n");
	free(conf);
}

static void test_ovpn_render__server_tcp(void **state)
{
	char *conf = server_conf(yaml_tcp, GOLDEN "server-tcp.conf");

	(void)state;
	TU_LACKS(conf, "explicit-exit-notify", "redirect-gateway");
	TU_HAS(conf, "ifconfig-pool 10.20.128.0 10.20.255.254 255.255.0.0\n",
	       "push \"route 10.30.0.0 255.255.0.0\"\n");
	free(conf);
}

static void test_ovpn_render__server_bad_path(void **state)
{
	struct atlas_state *st = tu_state_checked(yaml_tcp);
	struct ovpn_server_paths p = paths;
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;

	(void)state;
	p.ccd = "/tmp/a dir/ccd";
	assert_int_equal(render_ovpn_server(st, &p, &out, &err), -1);
	assert_non_null(strstr(err.msg, "\"/tmp/a dir/ccd\""));
	buf_release(&out);
	state_free(st);
}

static void test_ovpn_render__ccd(void **state)
{
	struct atlas_state *st = tu_state_checked(yaml_udp);
	struct buf all = BUF_INIT;

	(void)state;
	/* dave expires 2026-01-31: still valid that day, refused the next */
	for (int day = 0; day < 2; day++) {
		const char *today = day ? "2026-02-01" : "2026-01-31";

		for (size_t i = 0; i < st->openvpn.nclients; i++) {
			buf_printf(&all, "== %s on %s\n", st->openvpn.clients[i].name, today);
			render_ovpn_ccd(st, &st->openvpn.clients[i], today, &all);
		}
	}
	tu_golden(GOLDEN "ccd.txt", buf_str(&all));
	{
		struct buf b = BUF_INIT;

		render_ovpn_ccd(st, state_ovpn_client(st, "carol"), "2026-01-01", &b);
		assert_non_null(strstr(b.data, "\ndisable\n"));
		buf_reset(&b);
		render_ovpn_ccd(st, state_ovpn_client(st, "alice"), "2026-01-01", &b);
		assert_non_null(strstr(b.data, "ifconfig-push 10.9.0.10 255.255.255.0\n"));
		assert_null(strstr(b.data, "disable"));
		buf_reset(&b);
		render_ovpn_ccd(st, state_ovpn_client(st, "dave"), "2026-02-01", &b);
		assert_non_null(strstr(b.data, "disable"));
		buf_release(&b);
	}
	buf_release(&all);
	state_free(st);
}

static void test_ovpn_render__client(void **state)
{
	struct atlas_state *st = tu_state_checked(yaml_udp);
	struct ovpn_client_pki pki = {
		"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nALICE\n-----END CERTIFICATE-----",
		"-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
		"-----BEGIN OpenVPN Static key V1-----\n00\n-----END OpenVPN Static key V1-----\n",
		"atlas-server",
	};
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(render_ovpn_client(st, state_ovpn_client(st, "alice"), &pki, &out, &err),
			 0);
	tu_golden(GOLDEN "alice.ovpn", buf_str(&out));
	TU_HAS(out.data, "remote vpn.example.org 1194\n", "verify-x509-name atlas-server name\n",
	       "remote-cert-tls server\n", "<tls-crypt>\n");
	check_no_legacy(out.data);
	buf_reset(&out);
	pki.key = NULL;
	assert_int_equal(render_ovpn_client(st, state_ovpn_client(st, "alice"), &pki, &out, &err),
			 -1);
	assert_non_null(strstr(err.msg, "<key>"));
	free(st->settings.host);
	st->settings.host = NULL;
	pki.key = "k\n";
	assert_int_equal(render_ovpn_client(st, state_ovpn_client(st, "alice"), &pki, &out, &err),
			 -1);
	assert_non_null(strstr(err.msg, "settings.host"));
	buf_release(&out);
	state_free(st);
}

static void test_ovpn_render__today(void **state)
{
	char d[16];

	(void)state;
	ovpn_today(0, d, sizeof(d));
	assert_string_equal(d, "1970-01-01");
	ovpn_today(1767225599LL, d, sizeof(d)); /* 2025-12-31 23:59:59 UTC */
	assert_string_equal(d, "2025-12-31");
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_ovpn_render__server_udp),
	cmocka_unit_test(test_ovpn_render__server_tcp),
	cmocka_unit_test(test_ovpn_render__server_bad_path),
	cmocka_unit_test(test_ovpn_render__ccd),
	cmocka_unit_test(test_ovpn_render__client),
	cmocka_unit_test(test_ovpn_render__today))
