/*
 * test_live.c - the live WireGuard status: a `wg show IF dump` turned into
 * the driver's peer lines (controller/wireguard/wg_status.c: no secret left,
 * a malformed dump refused) and those into the compact records of the API
 * (api/live.c): found by public key, endpoints from the pool (none, one, one
 * cut at 63 bytes as the fixed field of before), counters kept (64 bits; the
 * handshake in 32 unsigned: 56 bytes a record), malformed
 * lines left out, interfaces by name; and back into the peers with their
 * names that `atlas wg status` prints.
 */
#include "testutil.h"

#include "api/api.h"
#include "controller/wireguard/wg.h"

#define K1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K2 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
#define K3 "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA="
#define K4 "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDA="
#define PRIV "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP="
#define PSK "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS="

static void test_live__dump_to_lines_without_secrets(void **s)
{
	char dump[] = PRIV "\t" K1 "\t51820\toff\n"
		      K2 "\t" PSK "\t192.0.2.7:51820\t10.8.0.2/32\t1700000000\t12345\t678\t25\n"
		      K3 "\t(none)\t(none)\t10.8.0.3/32,fd00::3/128\t0\t0\t0\toff\n";
	char bad[] = PRIV "\t" K1 "\t51820\toff\n" K2 "\t(none)\t(none)\n";
	char badkey[] = PRIV "\t" K1 "\t51820\toff\nshort\t(none)\t(none)\t(none)\t0\t0\t0\toff\n";
	char empty[] = "";
	int port = 0;
	long n;

	(void)s;
	n = wg_status_lines(dump, &port);
	assert_true(n > 0);
	assert_int_equal(port, 51820);
	dump[n] = '\0';
	assert_string_equal(dump, K2 "\t192.0.2.7:51820\t1700000000\t12345\t678\n"
				  K3 "\t\t0\t0\t0\n");
	assert_int_equal(wg_status_lines(bad, &port), -1);
	assert_int_equal(wg_status_lines(badkey, &port), -1);
	assert_int_equal(wg_status_lines(empty, &port), -1);
}

/* The record of the peer whose public key is text (base64). */
static const struct live_peer *by_key(const struct live_iface *li, const char *text)
{
	struct wg_key k;

	tu_set_key(&k, text);
	return live_wg_peer(li, &k);
}

static void test_live__peers_by_key_with_endpoints(void **s)
{
	char lines[512];
	char longep[81];
	json_t *wg;
	struct live_wg *l;
	const struct live_iface *li;
	const struct live_peer *p1, *p2, *p3;

	(void)s;
	memset(longep, 'x', 80);
	longep[80] = '\0';
	snprintf(lines, sizeof(lines),
		 "%s\t192.0.2.7:51820\t1700000000\t12345\t678\n%s\t\t0\t0\t0\n%s\t%s\t0\t0\t0\n"
		 "%s\t\t0\t0\n"		   /* a field short: left out */
		 "shortkey\t\t0\t0\t0\n"   /* not a key: left out */
		 "%s\t\t0\t0\t0\textra\n" /* a field too many: left out */
		 "%s\t\t4000000000\t5000000000\t7", /* the last line without its newline */
		 K2, K1, K3, longep, K1, K1, K4);
	wg = json_pack("{s:[{s:s, s:b, s:s}, {s:s, s:b}]}", "interfaces", "name", "wg0", "up", 1,
		       "peer_lines", lines, "name", "wg1", "up", 0);
	assert_non_null(wg);
	l = live_wg_from_json(wg);
	json_decref(wg);
	li = live_wg_iface(l, "wg0");
	assert_non_null(li);
	assert_true(li->running);
	assert_int_equal(li->n, 4);
	assert_false(live_wg_iface(l, "wg1")->running);
	assert_int_equal(live_wg_iface(l, "wg1")->n, 0);
	assert_null(live_wg_iface(l, "wg2"));
	p1 = by_key(li, K1);
	p2 = by_key(li, K2);
	p3 = by_key(li, K3);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_non_null(p3);
	assert_int_equal(by_key(li, K4)->tx, 7);
	/* 56 bytes a record: the handshake in 32 bits, unsigned (until 2106), counters in 64 */
	assert_true(sizeof(struct live_peer) <= 56);
	assert_true(by_key(li, K4)->handshake == 4000000000u);
	assert_true(by_key(li, K4)->rx == 5000000000LL);
	assert_null(by_key(li, "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE="));
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

/* `atlas wg status` prints the peers with their desired names, as it always did. */
static void test_live__cli_status_named(void **s)
{
	struct wg_peer peers[1] = { { .name = "alice" } };
	struct wg_iface ifc = { .name = "wg0", .peers = peers, .npeers = 1 };
	struct atlas_state st = { .has_wireguard = 1 };
	json_t *status;
	char *text;

	(void)s;
	tu_set_key(&peers[0].public_key, K2);
	st.wireguard.interfaces = &ifc;
	st.wireguard.ninterfaces = 1;
	status = json_pack("{s:[{s:s, s:b, s:i, s:s}]}", "interfaces", "name", "wg0", "up", 1,
			   "listen_port", 51820, "peer_lines",
			   K2 "\t192.0.2.7:51820\t1700000000\t12345\t678\n" K3 "\t\t0\t0\t0\n");
	wg_status_named(status, &st, 1700000060);
	text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
		text, "{\"interfaces\":[{\"listen_port\":51820,\"name\":\"wg0\",\"peers\":["
		      "{\"connected\":true,\"endpoint\":\"192.0.2.7:51820\",\"latest_handshake\":"
		      "1700000000,\"name\":\"alice\",\"public_key\":\"" K2 "\",\"rx_bytes\":12345,"
		      "\"tx_bytes\":678},{\"connected\":false,\"endpoint\":null,\"latest_handshake\":0,"
		      "\"name\":null,\"public_key\":\"" K3 "\",\"rx_bytes\":0,\"tx_bytes\":0}],"
		      "\"up\":true}]}");
	free(text);
	json_decref(status);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_live__dump_to_lines_without_secrets),
	cmocka_unit_test(test_live__peers_by_key_with_endpoints),
	cmocka_unit_test(test_live__cli_status_named))
