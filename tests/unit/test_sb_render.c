/*
 * test_sb_render.c - the sing-box renderers against golden files
 * (tests/unit/golden/singbox/, from input.yaml whose secrets are fixed),
 * the rules golden files cannot show, and the real `sing-box check` on every
 * golden server config and profile (ATLAS_SINGBOX_BIN, default the test
 * build; a missing binary fails the test).
 */
#include <sys/stat.h>

#include <jansson.h>

#include "testutil.h"
#include "lib/base64.h"
#include "renderers/singbox/sb_render.h"
#include "state/validate.h"

#define GOLDEN "tests/unit/golden/singbox/"
#define TODAY "2026-01-01"
#define CERT_DIR "/tmp/atlas-unit-sb"

static int setup(void **state)
{
	struct atlas_state *st = tu_state_file(GOLDEN "input.yaml");
	struct diags d = { 0 };

	if (!st)
		return -1;
	/* the fixture is a valid, completed state */
	state_validate(st, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "fixture: %s\n", d.v[i].msg);
	if (d.n) {
		diags_clear(&d);
		state_free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	state_free(*state);
	return 0;
}

static const struct sb_render_opts opts = { TODAY, "/var/lib/atlas/singbox/ssm/cache.json", 0,
					    NULL };

static char *server(const struct atlas_state *st, int v2ray)
{
	struct sb_render_opts o = opts;
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	o.v2ray_api = v2ray;
	if (render_sb_server(st, &o, &out, &err) < 0)
		fail_msg("%s", err.msg);
	return buf_detach(&out);
}

static void test_sb_render__server(void **state)
{
	char *a = server(*state, 0), *b = server(*state, 0);

	assert_string_equal(a, b);	/* deterministic */
	tu_golden(GOLDEN "server.json", a);
	free(a);
	free(b);
	a = server(*state, 1);
	tu_golden(GOLDEN "server-v2ray.json", a);
	free(a);
}

static json_t *inbound_of(json_t *cfg, const char *tag)
{
	size_t i;
	json_t *in;

	json_array_foreach(json_object_get(cfg, "inbounds"), i, in)
		if (!strcmp(json_string_value(json_object_get(in, "tag")), tag))
			return in;
	return NULL;
}

/* What the golden file shows, asserted by meaning so a regenerated golden
 * cannot quietly lose it. */
static void test_sb_render__server_rules(void **state)
{
	char *text = server(*state, 0), *v2 = server(*state, 1);
	json_t *cfg = json_loads(text, 0, NULL), *cfg2 = json_loads(v2, 0, NULL), *in, *svc;
	size_t i;

	assert_non_null(cfg);
	json_array_foreach(json_object_get(cfg, "inbounds"), i, in) {
		assert_non_null(json_object_get(in, "listen"));
		assert_null(json_object_get(in, "sniff"));
	}
	assert_string_equal(json_string_value(json_object_get(inbound_of(cfg, "tjp"), "listen")),
			    "::");
	/* carol is disabled, dave expired: not in the config */
	assert_int_equal(json_array_size(json_object_get(inbound_of(cfg, "edge"), "users")), 2);
	assert_int_equal(json_array_size(json_object_get(inbound_of(cfg, "vm"), "users")), 1);
	/* an inbound nobody may use does not listen */
	assert_null(inbound_of(cfg, "nobody"));
	/* TUIC has alpn h3 on the server */
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_object_get(inbound_of(cfg, "tu"), "tls"), "alpn"),
				0)),
			    "h3");
	/* Shadowsocks: managed, no users */
	in = inbound_of(cfg, "ss");
	assert_true(json_is_true(json_object_get(in, "managed")));
	assert_null(json_object_get(in, "users"));
	/* the api service and ssm-api on 127.0.0.1, ports from the state */
	json_array_foreach(json_object_get(cfg, "services"), i, svc)
		assert_string_equal(json_string_value(json_object_get(svc, "listen")), "127.0.0.1");
	svc = json_array_get(json_object_get(cfg, "services"), 0);
	assert_string_equal(json_string_value(json_object_get(svc, "type")), "api");
	assert_int_equal(json_integer_value(json_object_get(svc, "listen_port")), 9091);
	assert_true(strlen(json_string_value(json_object_get(svc, "secret"))) >= 16);
	svc = json_array_get(json_object_get(cfg, "services"), 1);
	assert_string_equal(json_string_value(json_object_get(svc, "type")), "ssm-api");
	assert_string_equal(json_string_value(json_object_get(json_object_get(svc, "servers"), "/ss")),
			    "ss");
	/* v2ray_api only when the binary has it, with every active user once */
	assert_null(json_object_get(cfg, "experimental"));
	in = json_object_get(json_object_get(json_object_get(cfg2, "experimental"), "v2ray_api"),
			     "stats");
	assert_non_null(in);
	assert_int_equal(json_array_size(json_object_get(in, "users")), 2);	/* alice, bob */
	json_decref(cfg);
	json_decref(cfg2);
	free(text);
	free(v2);
}

static void test_sb_render__ss_needs_cache_path(void **state)
{
	struct sb_render_opts o = opts;
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	o.ssm_cache_path = NULL;
	assert_int_equal(render_sb_server(*state, &o, &out, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	buf_release(&out);
}

static void golden_user(const struct atlas_state *st, const char *user)
{
	struct buf out = BUF_INIT, sub = BUF_INIT, dec = BUF_INIT;
	struct atlas_err err = { 0 };
	char path[256];
	unsigned char *raw;
	long n;

	assert_int_equal(render_sb_links(st, user, &out, &err), 0);
	snprintf(path, sizeof(path), GOLDEN "links-%s.txt", user);
	tu_golden(path, out.data);
	assert_int_equal(render_sb_subscription(st, user, &sub, &err), 0);
	snprintf(path, sizeof(path), GOLDEN "sub-%s.txt", user);
	tu_golden(path, sub.data);
	/* the subscription is the links joined by newlines */
	raw = xmalloc(sub.len + 1);
	n = base64_decode(sub.data, sub.len, raw, sub.len);
	assert_true(n > 0);
	buf_add(&dec, raw, (size_t)n);
	buf_putc(&dec, '\n');
	assert_string_equal(dec.data, out.data);
	free(raw);
	buf_reset(&out);
	assert_int_equal(render_sb_profile(st, user, &out, &err), 0);
	snprintf(path, sizeof(path), GOLDEN "profile-%s.json", user);
	tu_golden(path, out.data);
	buf_release(&out);
	buf_release(&sub);
	buf_release(&dec);
}

static void test_sb_render__user_artifacts(void **state)
{
	golden_user(*state, "alice");
	golden_user(*state, "bob");
}

static char *links_of(const struct atlas_state *st, const char *user)
{
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	assert_int_equal(render_sb_links(st, user, &out, &err), 0);
	return buf_detach(&out);
}

static const char *line_starting(const char *text, const char *prefix, char *buf, size_t len)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix))) {
			size_t n = strcspn(p, "\n");

			snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
			return buf;
		}
	fail_msg("no line starting with %s in:\n%s", prefix, text);
	return NULL;
}

static void test_sb_render__link_rules(void **state)
{
	struct atlas_state *st = *state;
	struct sb_inbound *tj = state_sb_inbound(st, "tj"), *ss = state_sb_inbound(st, "ss");
	char *links = links_of(st, "alice"), line[4096], want[512];

	/* one link per inbound alice is in (10: all but "nobody") */
	{
		size_t n = 0;

		for (const char *p = links; (p = strchr(p, '\n')); p++)
			n++;
		assert_int_equal(n, 10);
	}
	/* a self-signed certificate's pin, never allowInsecure */
	TU_LACKS(links, "allowInsecure", "insecure=1");
	line_starting(links, "trojan://", line, sizeof(line));
	snprintf(want, sizeof(want), "&pcs=%s", tj->certificate_sha256);
	assert_non_null(strstr(line, want));
	line_starting(links, "hysteria2://", line, sizeof(line));
	assert_non_null(strstr(line, "pinSHA256="));
	/* a password with URL syntax in it is percent-encoded */
	assert_non_null(strstr(links, "trojan://p%40ss%3Aw%2Frd%3F%26%23@vpn.example.com:8447?"));
	/* a CA certificate (by path) needs no pin */
	line_starting(links, "trojan://p%40ss", line, sizeof(line));
	assert_null(strstr(line, "pcs="));
	/* SIP002 with the 2022 userinfo percent-encoded: METHOD:SERVERKEY:USERKEY */
	line_starting(links, "ss://", line, sizeof(line));
	{
		struct buf ui = BUF_INIT;

		buf_printf(&ui, "ss://2022-blake3-aes-128-gcm%%3A");
		for (const char *p = ss->server_key; *p; p++)
			buf_printf(&ui, *p == '+' ? "%%2B" : *p == '/' ? "%%2F" : *p == '=' ? "%%3D" : "%c",
				   *p);
		assert_non_null(strstr(line, ui.data));
		buf_release(&ui);
	}
	line_starting(links, "tuic://", line, sizeof(line));
	assert_non_null(strstr(line, "alpn=h3"));
	line_starting(links, "vless://", line, sizeof(line));
	free(links);
	/* bob is in edge, tj, ss only */
	links = links_of(st, "bob");
	assert_int_equal(strlen(links) > 0, 1);
	assert_null(strstr(links, "#ws"));
	free(links);
}

static void test_sb_render__unknown_user_and_no_host(void **state)
{
	struct atlas_state *st = state_dup(*state);
	struct buf out = BUF_INIT;
	struct atlas_err err = { 0 };

	assert_int_equal(render_sb_links(st, "zed", &out, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_int_equal(render_sb_profile(st, "zed", &out, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	free(st->settings.host);
	st->settings.host = NULL;
	assert_int_equal(render_sb_links(st, "alice", &out, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_non_null(strstr(err.msg, "settings.host"));
	assert_int_equal(render_sb_sub_url(&st->settings, "tok", &out, &err), -1);
	st->settings.panel_url = xstrdup("https://panel.example.com:8443/atlas/");
	buf_reset(&out);
	assert_int_equal(render_sb_sub_url(&st->settings, "tok", &out, &err), 0);
	assert_string_equal(out.data, "https://panel.example.com:8443/atlas/sub/tok");
	buf_release(&out);
	state_free(st);
}

/* ---- the real sing-box ---- */

static void test_sb_render__sing_box_check(void **state)
{
	static const char *const files[] = { "server.json", "profile-alice.json",
					     "profile-bob.json", NULL };
	struct atlas_state *st = *state;
	struct sb_inbound *tj = state_sb_inbound(st, "tj");
	struct buf msg = BUF_INIT;

	/* the certificate files tjp names by path (check opens them) */
	mkdir(CERT_DIR, 0700);
	tu_write(CERT_DIR "/fullchain.pem", tj->self_signed_certificate);
	tu_write(CERT_DIR "/privkey.pem", tj->self_signed_key);
	for (int i = 0; files[i]; i++) {
		char path[256];

		snprintf(path, sizeof(path), GOLDEN "%s", files[i]);
		buf_reset(&msg);
		if (tu_sb_check(path, &msg) < 0)
			fail_msg("sing-box check refuses %s:\n%s", path, msg.data);
	}
	/* v2ray_api needs a build with it; this one may lack it, and then that
	 * is the only complaint */
	buf_reset(&msg);
	if (tu_sb_check(GOLDEN "server-v2ray.json", &msg) < 0 && !strstr(msg.data, "v2ray"))
		fail_msg("sing-box check refuses server-v2ray.json:\n%s", msg.data);
	/* and check does refuse what is wrong: a broken REALITY key */
	{
		char *text = server(st, 0), *p = strstr(text, "\"private_key\": \"");
		char tmp[] = "/tmp/atlas-unit-sb/bad.json";

		assert_non_null(p);
		p += strlen("\"private_key\": \"");
		p[0] = p[0] == 'A' ? 'B' : 'A';
		p[1] = '!';
		tu_write(tmp, text);
		buf_reset(&msg);
		assert_int_equal(tu_sb_check(tmp, &msg), -1);
		unlink(tmp);
		free(text);
	}
	unlink(CERT_DIR "/fullchain.pem");
	unlink(CERT_DIR "/privkey.pem");
	rmdir(CERT_DIR);
	buf_release(&msg);
}

TU_MAIN(setup, teardown,
	cmocka_unit_test(test_sb_render__server),
	cmocka_unit_test(test_sb_render__server_rules),
	cmocka_unit_test(test_sb_render__ss_needs_cache_path),
	cmocka_unit_test(test_sb_render__user_artifacts),
	cmocka_unit_test(test_sb_render__link_rules),
	cmocka_unit_test(test_sb_render__unknown_user_and_no_host),
	cmocka_unit_test(test_sb_render__sing_box_check))
