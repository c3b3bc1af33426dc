/*
 * test_wg_uapi.c - the body of a UAPI set that adds peers
 * (controller/wireguard/wg_uapi.c): keys as hex, the PSK only when set,
 * every allowed IP, the keepalive only when not 0; a bad key is refused.
 */
#include "testutil.h"

#include "controller/wireguard/wg.h"

/* bytes 0..31 and 32..63, in base64 and in hex */
#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define H1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define H2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"

static void test_wg_uapi__peer_text(void **ts)
{
	struct strv allowed = STRV_INIT;
	struct buf b = BUF_INIT;

	(void)ts;
	strv_push(&allowed, "10.0.0.2/32");
	strv_push(&allowed, "fd00::2/128");
	assert_int_equal(wg_uapi_peer_text(&b, K1, K2, &allowed, 25), 0);
	assert_string_equal(buf_str(&b), "public_key=" H1 "\npreshared_key=" H2
					 "\nallowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n"
					 "persistent_keepalive_interval=25\n");
	buf_reset(&b);
	/* Two peers in one body: no PSK, no keepalive, no address. */
	strv_clear(&allowed);
	assert_int_equal(wg_uapi_peer_text(&b, K2, "", &allowed, 0), 0);
	assert_int_equal(wg_uapi_peer_text(&b, K1, NULL, &allowed, 0), 0);
	assert_string_equal(buf_str(&b), "public_key=" H2 "\npublic_key=" H1 "\n");
	buf_reset(&b);
	assert_int_equal(wg_uapi_peer_text(&b, "not a key", NULL, &allowed, 0), -1);
	assert_int_equal(wg_uapi_peer_text(&b, K1, "short", &allowed, 0), -1);
	buf_release(&b);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_wg_uapi__peer_text))
