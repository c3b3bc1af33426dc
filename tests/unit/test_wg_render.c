/*
 * test_wg_render.c - the WireGuard renderers against golden files
 * (tests/unit/golden/wg/), plus the rules golden files cannot show.
 */
#include "testutil.h"
#include "renderers/wireguard/wg_render.h"

#define GOLDEN "tests/unit/golden/wg/"

static int setup(void **state)
{
	*state = tu_state_file(GOLDEN "input.yaml");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	state_free(*state);
	return 0;
}

static void client_golden(void **state, const char *peer, const char *file, int want_byo)
{
	struct atlas_state *st = *state;
	struct wg_iface *ifc = state_wg_iface(st, "wg0");
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };
	int byo = -1;

	assert_non_null(ifc);
	assert_int_equal(render_wg_client(&st->settings, ifc, state_wg_peer(ifc, peer), &out, &byo,
					  &err),
			 0);
	assert_int_equal(byo, want_byo);
	tu_golden(file, out.data);
	buf_release(&out);
}

static void test_wg_render__client_alice(void **state)
{
	client_golden(state, "alice", GOLDEN "client-alice.conf", 0);
}

static void test_wg_render__client_byo_key(void **state)
{
	client_golden(state, "bob", GOLDEN "client-bob.conf", 1);
}

/* Only the keys the official apps accept, whatever the peer holds. */
static void test_wg_render__client_only_app_keys(void **state)
{
	static const char *const ok[] = { "PrivateKey", "Address", "DNS", "MTU", "PublicKey",
					   "PresharedKey", "AllowedIPs", "Endpoint",
					   "PersistentKeepalive", NULL };
	struct atlas_state *st = *state;
	struct wg_iface *ifc = state_wg_iface(st, "wg0");
	struct buf out = BUF_INIT;
	char *line, *save = NULL;

	assert_int_equal(render_wg_client(&st->settings, ifc, state_wg_peer(ifc, "alice"), &out,
					  NULL, NULL),
			 0);
	for (line = strtok_r(out.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t klen = strcspn(line, " =");
		int known = 0;

		if (!strcmp(line, "[Interface]") || !strcmp(line, "[Peer]"))
			continue;
		for (size_t i = 0; ok[i]; i++)
			known |= strlen(ok[i]) == klen && !strncmp(line, ok[i], klen);
		if (!known)
			fail_msg("client config line \"%s\" is not a key the apps accept", line);
	}
	buf_release(&out);
}

static void test_wg_render__server_golden(void **state)
{
	struct atlas_state *st = *state;
	struct buf out = BUF_INIT;

	render_wg_server(state_wg_iface(st, "wg0"), TU_NOW, &out);
	tu_golden(GOLDEN "server.conf", out.data);
	/* Disabled and expired peers are not in it; erin works through her expiry day. */
	TU_LACKS(out.data, "peer carol", "peer dave");
	assert_non_null(strstr(out.data, "peer erin"));
	buf_release(&out);
	render_wg_server(state_wg_iface(st, "wg0"), TU_NOW + 86400, &out);
	assert_null(strstr(out.data, "peer erin"));
	buf_release(&out);
}

struct pieces {
	struct buf all;
	size_t n, largest, stop_after;	/* stop_after: put fails at that piece (0: never) */
};

static int pieces_put(void *cls, const char *data, size_t len)
{
	struct pieces *p = cls;

	if (++p->n == p->stop_after)
		return -1;
	buf_add(&p->all, data, len);
	if (len > p->largest)
		p->largest = len;
	return 0;
}

/*
 * The server config a piece at a time: the pieces make the same bytes as
 * the whole render, none much above RENDER_PIECE, and a put that fails
 * stops the render.
 */
static void test_wg_render__server_in_pieces(void **state)
{
	struct atlas_state *st = *state;
	const struct wg_iface *ifc = state_wg_iface(st, "wg0");
	struct wg_iface big = *ifc;	/* the same peers over and over (shallow: not freed) */
	struct buf whole = BUF_INIT, piece = BUF_INIT;
	struct pieces p = { .all = BUF_INIT };
	size_t k = 3000;

	big.npeers = ifc->npeers * k;
	big.peers = xcalloc(big.npeers, sizeof(*big.peers));
	for (size_t i = 0; i < big.npeers; i++)
		big.peers[i] = ifc->peers[i % ifc->npeers];
	render_wg_server(&big, TU_NOW, &whole);
	assert_true(whole.len > 4 * RENDER_PIECE);
	assert_int_equal(render_wg_server_to(&big, TU_NOW, &piece, pieces_put, &p), 0);
	assert_true(p.n > 4);
	assert_true(p.largest < RENDER_PIECE + 1024);
	assert_int_equal(p.all.len, whole.len);
	assert_memory_equal(p.all.data, whole.data, whole.len);
	assert_int_equal(piece.len, 0);
	buf_release(&p.all);
	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	assert_int_equal(render_wg_server_to(&big, TU_NOW, &piece, pieces_put, &p), -1);
	assert_int_equal(p.n, 2);
	buf_reset(&piece);	/* it holds the refused piece */
	/* a small interface: one piece, the whole text */
	buf_release(&p.all);
	memset(&p, 0, sizeof(p));
	buf_reset(&whole);
	render_wg_server(ifc, TU_NOW, &whole);
	assert_int_equal(render_wg_server_to(ifc, TU_NOW, &piece, pieces_put, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.all.data, whole.data);
	buf_release(&p.all);
	buf_release(&piece);
	buf_release(&whole);
	free(big.peers);
}

static void test_wg_render__qr_golden(void **state)
{
	struct atlas_state *st = *state;
	struct wg_iface *ifc = state_wg_iface(st, "wg0");
	struct buf conf = BUF_INIT, svg = BUF_INIT;
	struct atlas_err err = { 0 };

	assert_int_equal(render_wg_client(&st->settings, ifc, state_wg_peer(ifc, "alice"), &conf,
					  NULL, &err),
			 0);
	assert_int_equal(render_qr_svg(conf.data, &svg, &err), 0);
	tu_golden(GOLDEN "qr-alice.svg", svg.data);
	assert_non_null(strstr(svg.data, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	buf_release(&conf);
	buf_release(&svg);
}

static void test_wg_render__qr_too_long(void **state)
{
	struct buf text = BUF_INIT, svg = BUF_INIT;
	struct atlas_err err = { 0 };

	(void)state;
	for (int i = 0; i < 8000; i++)
		buf_putc(&text, 'x');
	assert_int_equal(render_qr_svg(text.data, &svg, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	buf_release(&text);
	buf_release(&svg);
}

static void test_wg_render__endpoint(void **state)
{
	struct settings set = { 0 };
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(render_wg_endpoint(&set, 51820, &out, &err), -1);
	assert_non_null(strstr(err.msg, "settings.host"));
	set.host = "2001:db8::1";
	assert_int_equal(render_wg_endpoint(&set, 51820, &out, &err), 0);
	assert_string_equal(out.data, "[2001:db8::1]:51820");
	buf_reset(&out);
	set.host = "198.51.100.7";
	assert_int_equal(render_wg_endpoint(&set, 443, &out, &err), 0);
	assert_string_equal(out.data, "198.51.100.7:443");
	buf_release(&out);
}

static void test_wg_render__peer_active(void **state)
{
	struct wg_peer p = { 0 };

	(void)state;
	assert_true(wg_peer_active(&p, TU_NOW));
	p.expires = "2026-01-01";
	assert_true(wg_peer_active(&p, TU_NOW));
	assert_false(wg_peer_active(&p, TU_NOW + 86400));
	p.expires = NULL;
	p.disabled = 1;
	assert_false(wg_peer_active(&p, TU_NOW));
}

TU_MAIN(setup, teardown,
	cmocka_unit_test(test_wg_render__client_alice),
	cmocka_unit_test(test_wg_render__client_byo_key),
	cmocka_unit_test(test_wg_render__client_only_app_keys),
	cmocka_unit_test(test_wg_render__server_golden),
	cmocka_unit_test(test_wg_render__server_in_pieces),
	cmocka_unit_test(test_wg_render__qr_golden),
	cmocka_unit_test(test_wg_render__qr_too_long),
	cmocka_unit_test(test_wg_render__endpoint),
	cmocka_unit_test(test_wg_render__peer_active))
