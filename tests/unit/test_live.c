/*
 * test_live.c - the compact live WireGuard status (api/live.c): records found
 * by public key, endpoints from the pool (none, one, one cut at 63 bytes as
 * the fixed field of before), counters kept, interfaces by name.
 */
#include "testutil.h"

#include "api/api.h"

#define K1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K2 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
#define K3 "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="

static void test_live__peers_by_key_with_endpoints(void **s)
{
	char longep[81];
	json_t *wg;
	struct live_wg *l;
	const struct live_iface *li;
	const struct live_peer *p1, *p2, *p3;

	(void)s;
	memset(longep, 'x', 80);
	longep[80] = '\0';
	wg = json_pack("{s:[{s:s, s:b, s:[{s:s, s:s, s:I, s:I, s:I}, {s:s}, {s:s, s:s}, {s:s}]}]}",
		       "interfaces", "name", "wg0", "up", 1, "peers", "public_key", K2, "endpoint",
		       "192.0.2.7:51820", "latest_handshake", (json_int_t)1700000000, "rx_bytes",
		       (json_int_t)12345, "tx_bytes", (json_int_t)678, "public_key", K1,
		       "public_key", K3, "endpoint", longep, "endpoint", "no key");
	assert_non_null(wg);
	l = live_wg_from_json(wg);
	json_decref(wg);
	li = live_wg_iface(l, "wg0");
	assert_non_null(li);
	assert_true(li->running);
	assert_int_equal(li->n, 3);
	assert_null(live_wg_iface(l, "wg1"));
	p1 = live_wg_peer(li, K1);
	p2 = live_wg_peer(li, K2);
	p3 = live_wg_peer(li, K3);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_non_null(p3);
	assert_null(live_wg_peer(li, "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD="));
	assert_null(live_peer_endpoint(li, p1));
	assert_null(live_peer_endpoint(li, NULL));
	assert_string_equal(live_peer_endpoint(li, p2), "192.0.2.7:51820");
	assert_int_equal(strlen(live_peer_endpoint(li, p3)), 63);
	assert_int_equal(p2->handshake, 1700000000);
	assert_int_equal(p2->rx, 12345);
	assert_int_equal(p2->tx, 678);
	assert_int_equal(p1->handshake, 0);
	live_wg_free(l);
	assert_null(live_wg_from_json(NULL));
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_live__peers_by_key_with_endpoints))
