/*
 * test_nat.c - the pure NAT helpers every engine shares: nat_render() refuses
 * an egress or interface name that would break out of the nftables script,
 * and nat_in_sync() recognises a table nft prints differently from the
 * copies Atlas recorded when it loaded it.
 */
#include "testutil.h"
#include "controller/nat.h"
#include "renderers/nat_render.h"

static void test_nat__render_rejects_syntax(void **state)
{
	struct nat_net net = { "10.8.0.0/24", 0, "wg0" };
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(nat_render("atlas_wireguard", &net, 1, "eth0\"; flush", &out, &err), -1);
	net.iface = "wg0 }";
	assert_int_equal(nat_render("atlas_wireguard", &net, 1, NULL, &out, &err), -1);
	net.iface = "wg0";
	assert_int_equal(nat_render("atlas_wireguard", &net, 1, NULL, &out, &err), 0);
	assert_non_null(strstr(out.data, "oifname != \"wg0\" masquerade"));
	buf_release(&out);
}

/* A different nft printing of the same table is recognised from the recorded copies. */
static void test_nat__in_sync_recorded(void **state)
{
	struct nat_obs o = { 0 };
	const char *r = "table inet t\ndelete table inet t\ntable inet t {\n}\n";

	(void)state;
	o.readable = o.exists = 1;
	buf_puts(&o.listing, "table inet t {\n}\n");
	assert_true(nat_in_sync(r, &o));
	buf_reset(&o.listing);
	buf_puts(&o.listing, "table inet t { # printed differently\n}\n");
	assert_false(nat_in_sync(r, &o));
	buf_puts(&o.rec_rendered, r);
	buf_puts(&o.rec_listing, o.listing.data);
	assert_true(nat_in_sync(r, &o));
	o.exists = 0;
	assert_false(nat_in_sync(r, &o));
	nat_obs_release(&o);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_nat__render_rejects_syntax),
	cmocka_unit_test(test_nat__in_sync_recorded))
