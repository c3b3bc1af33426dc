/*
 * test_wg_parse.c - the parsers that feed the WireGuard diff: `wg show dump`
 * lines, the UAPI reply (the same peers as the dump), `ip -j addr`, and the
 * key order the sort and the merge share.
 */
#include "testutil.h"
#include "controller/wireguard/wg.h"
#include "wg_fx.h"

static void test_wg_parse__parse_dump(void **state)
{
	char dump[sizeof(base_dump)], bad1[] = "garbage\n",
	     bad2[] = PRIV "\t" PUB "\t1\toff\nshort\tline\n";
	struct wg_obs_iface oi = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	memcpy(dump, base_dump, sizeof(dump));
	assert_int_equal(wg_parse_dump(dump, &oi, &err), 0);
	assert_string_equal(oi.public_key, PUB);
	assert_int_equal(oi.listen_port, 51820);
	assert_int_equal(oi.npeers, 2);
	/* Sorted by key whatever order wg printed. */
	assert_string_equal(oi.peers[0].public_key, ALICE);
	assert_string_equal(oi.peers[0].preshared_key, ALICE_PSK);
	assert_int_equal(oi.peers[0].keepalive, 25);
	assert_int_equal(oi.peers[0].handshake, 1767268000);
	assert_int_equal(oi.peers[0].rx, 1000);
	assert_string_equal(oi.peers[0].endpoint, "192.0.2.7:4000");
	assert_string_equal(oi.peers[1].public_key, BOB);
	assert_string_equal(oi.peers[1].preshared_key, "");
	assert_int_equal(oi.peers[1].keepalive, 0);
	wg_obs_iface_release(&oi);
	assert_int_equal(wg_parse_dump(bad1, &oi, &err), -1);
	wg_obs_iface_release(&oi);
	assert_int_equal(wg_parse_dump(bad2, &oi, &err), -1);
	wg_obs_iface_release(&oi);
}

#define PRIV_HEX "40b790ce208730fc4f30e0e745d5ceeeb84bbca84e6f62068a32105bee75d87b"
#define ALICE_HEX "35fe38a0eff31ac55cf30674f83db643a29a611c46eaedbadb24e38f68684b7c"
#define ALICE_PSK_HEX "16f435d680fd084a187334dc4b57b9fb6a7a72ea76799bfb92e4fcdac840a0a2"
#define BOB_HEX "48c23ebf316c90e0f765ee89d4d7d948a4d8365ea7d38ca861657ca2484dfc15"
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"

/* The UAPI reply of the device base_dump shows reads the same. */
static void test_wg_parse__parse_uapi(void **state)
{
	static const char reply[] =
		"private_key=" PRIV_HEX "\nlisten_port=51820\n"
		"public_key=" BOB_HEX "\npreshared_key=" ZERO_HEX "\nprotocol_version=1\n"
		"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
		"persistent_keepalive_interval=0\nallowed_ip=10.8.0.3/32\n"
		"public_key=" ALICE_HEX "\npreshared_key=" ALICE_PSK_HEX "\nprotocol_version=1\n"
		"endpoint=192.0.2.7:4000\nlast_handshake_time_sec=1767268000\n"
		"last_handshake_time_nsec=5\ntx_bytes=2000\nrx_bytes=1000\n"
		"persistent_keepalive_interval=25\nallowed_ip=10.8.0.2/32\nallowed_ip=10.9.0.7/24\n"
		"errno=0\n\n";
	char r0[sizeof(reply)], dump[sizeof(base_dump)], bad1[] = "errno=-22\n\n",
	     bad2[] = "public_key=zz\nerrno=0\n\n", bad3[] = "listen_port=1\n",
	     bad4[] = "public_key=48c23ebf316c90e0f765ee89d4d7d948a4d8365ea7d38ca861657ca2484dfc1g\n"
		      "errno=0\n\n";
	struct wg_obs_iface u = { 0 }, d = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	memcpy(r0, reply, sizeof(reply));
	memcpy(dump, base_dump, sizeof(dump));
	if (wg_parse_uapi(r0, &u, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(wg_parse_dump(dump, &d, &err), 0);
	assert_string_equal(u.public_key, PUB);	/* derived from the private key */
	assert_int_equal(u.listen_port, 51820);
	assert_int_equal(u.npeers, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(u.peers[i].public_key, d.peers[i].public_key);
		assert_string_equal(u.peers[i].preshared_key, d.peers[i].preshared_key);
		assert_int_equal(u.peers[i].keepalive, d.peers[i].keepalive);
		assert_int_equal(u.peers[i].handshake, d.peers[i].handshake);
		assert_int_equal(u.peers[i].rx, d.peers[i].rx);
	}
	/* Allowed IPs normalised (host bits cleared) and sorted. */
	assert_int_equal(u.peers[0].allowed_ips.n, 2);
	assert_string_equal(u.peers[0].allowed_ips.v[0], "10.8.0.2/32");
	assert_string_equal(u.peers[0].allowed_ips.v[1], "10.9.0.0/24");
	wg_obs_iface_release(&u);
	wg_obs_iface_release(&d);
	assert_int_equal(wg_parse_uapi(bad1, &u, &err), -1);
	wg_obs_iface_release(&u);
	assert_int_equal(wg_parse_uapi(bad2, &u, &err), -1);
	wg_obs_iface_release(&u);
	assert_int_equal(wg_parse_uapi(bad3, &u, &err), -1);
	wg_obs_iface_release(&u);
	assert_int_equal(wg_parse_uapi(bad4, &u, &err), -1);	/* last digit not hex */
	wg_obs_iface_release(&u);
}

static void test_wg_parse__parse_ip_addr(void **state)
{
	static const char json[] =
		"[{\"ifindex\":5,\"ifname\":\"wg0\",\"flags\":[\"POINTOPOINT\",\"NOARP\",\"UP\","
		"\"LOWER_UP\"],\"mtu\":1420,\"addr_info\":[{\"family\":\"inet\",\"local\":\"10.8.0.1\","
		"\"prefixlen\":24,\"scope\":\"global\"},{\"family\":\"inet6\",\"local\":\"fe80::1\","
		"\"prefixlen\":64,\"scope\":\"link\"}]}]";
	struct wg_obs_iface oi = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(wg_parse_ip_addr(json, &oi, &err), 0);
	assert_int_equal(oi.up, 1);
	assert_int_equal(oi.mtu, 1420);
	assert_int_equal(oi.addresses.n, 1);
	assert_string_equal(oi.addresses.v[0], "10.8.0.1/24");
	wg_obs_iface_release(&oi);
}

/* The key order of the sort and the merge is strcmp's, NULs included. */
static void test_wg_parse__key_cmp_is_strcmp(void **state)
{
	static const char keys[][KEY_B64] = {
		ALICE, BOB, CAROL, DAVE, FOREIGN, "Nf44oO/zGsVc8wZ0+D22Q6KaYRxG6u262yTjj2hoS3x=",
		"Nf44oO/zA", "Nf44oO/z", "Nf44oO/", "Nf4\0abcdefgh", "Nf4\0zzzzzzzz", "",
		"\xff\xfe_high_bytes", "a", "Z",
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = strcmp(keys[i], keys[j]), got = wg_key_cmp(keys[i], keys[j]);

			if ((want < 0) != (got < 0) || (want > 0) != (got > 0))
				fail_msg("\"%s\" vs \"%s\": %d, strcmp %d", keys[i], keys[j], got, want);
		}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_wg_parse__parse_dump),
	cmocka_unit_test(test_wg_parse__parse_uapi),
	cmocka_unit_test(test_wg_parse__parse_ip_addr),
	cmocka_unit_test(test_wg_parse__key_cmp_is_strcmp))
