/*
 * test_wg_uapi.c - the body of a UAPI set that adds peers
 * (controller/wireguard/wg_uapi.c): keys as hex, the PSK only when set,
 * every allowed IP, the keepalive only when not 0; a bad key is refused.
 */
#include "testutil.h"

#include "controller/wireguard/wg.h"
#include "state/schema.h"

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

/*
 * One peer's change (the loop's fast path): added, removed, changed in
 * place (update_only keeps the session: no remove), a new key (remove and
 * add), off the interface (disabled: only the removal), on neither side.
 */
static void test_wg_uapi__peer_change(void **ts)
{
	static const struct {
		int old, next;	 /* 0 absent, 1 K1, 2 K2, 3 K1 disabled */
		int psk, ka;	 /* of next */
		const char *want;
	} cases[] = {
		{ 0, 1, 0, 0, "public_key=" H1 "\nallowed_ip=10.0.0.2/32\n" },
		{ 1, 0, 0, 0, "public_key=" H1 "\nremove=true\n" },
		{ 1, 1, 1, 25,
		  "public_key=" H1 "\nupdate_only=true\nreplace_allowed_ips=true\n"
		  "allowed_ip=10.0.0.2/32\npreshared_key=" H2 "\npersistent_keepalive_interval=25\n" },
		{ 1, 1, 0, 0,
		  "public_key=" H1 "\nupdate_only=true\nreplace_allowed_ips=true\n"
		  "allowed_ip=10.0.0.2/32\npreshared_key="
		  "0000000000000000000000000000000000000000000000000000000000000000"
		  "\npersistent_keepalive_interval=0\n" },
		{ 1, 2, 0, 0,
		  "public_key=" H1 "\nremove=true\npublic_key=" H2 "\nallowed_ip=10.0.0.2/32\n" },
		{ 1, 3, 0, 0, "public_key=" H1 "\nremove=true\n" },
		{ 3, 1, 0, 0, "public_key=" H1 "\nallowed_ip=10.0.0.2/32\n" },
		{ 3, 0, 0, 0, "" },
	};
	static const char *const keys[] = { NULL, K1, K2, K1 };

	(void)ts;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_peer p[2];
		struct buf b = BUF_INIT;
		int which[2] = { cases[i].old, cases[i].next };

		for (int k = 0; k < 2; k++) {
			schema_init(&schema_wg_peer, &p[k]);
			if (!which[k])
				continue;
			tu_set_key(&p[k].public_key, keys[which[k]]);
			strv_push(&p[k].address, "10.0.0.2/32");
			p[k].disabled = which[k] == 3;
		}
		if (cases[i].psk)
			tu_set_key(&p[1].preshared_key, K2);
		p[1].keepalive = cases[i].ka;
		assert_int_equal(wg_uapi_peer_change_text(&b, which[0] ? &p[0] : NULL,
							  which[1] ? &p[1] : NULL, TU_NOW),
				 0);
		if (strcmp(buf_str(&b), cases[i].want))
			fail_msg("case %zu: got\n%s\nwant\n%s", i, buf_str(&b), cases[i].want);
		buf_release(&b);
		schema_release(&schema_wg_peer, &p[0]);
		schema_release(&schema_wg_peer, &p[1]);
	}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_wg_uapi__peer_text),
	cmocka_unit_test(test_wg_uapi__peer_change))
