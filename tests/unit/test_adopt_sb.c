/*
 * test_adopt_sb.c - `atlas adopt singbox`: a hand-written config.json with
 * the six inbound types is carried over with its UUIDs, passwords, REALITY
 * key and short id and certificate paths; the config Atlas renders from it
 * is accepted by the real `sing-box check` and serves the same credentials;
 * the links carry the clients' old settings; malformed input is refused at
 * file:line:col and stores nothing; a dry run creates no atlas.db.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include <jansson.h>

#include "testutil.h"

#include "cli/cli.h"
#include "renderers/singbox/sb_render.h"
#include "state/adopt_sb.h"
#include "state/jsonpos.h"
#include "state/commit.h"
#include "state/sb_keys.h"
#include "state/store.h"

#define UUID_A "9ef5eef4-e96a-4fe2-8e21-601bdb934b99"
#define UUID_B "1b7d4f0e-3c2a-4e55-9a1f-2f6c8d9e0a11"
#define RPRIV "AEiFp4Xhtb0l2KRdoyMhGId60bnVe9PPALKg-0wQplk"
#define RPUB "d-3ZvOKWIWQ49JqdH1ew8tHQ-XpDwwSQEildirgTUi0"
#define SID "0aa3c9c2d87699c7"
#define SSKEY "kGrGobOVqaLp7QO/nczENQ=="
#define SSK_A "KKYpJAV4vGQK/xKqSr33PA=="
#define SSK_B "pMhjMQvgb+NHLGjtgFQamQ=="

static char *tmp, *cert, *key;

/* The hand-written config (new): all six types, a mixed inbound, outbounds and a route. */
static char *config(void)
{
	return xasprintf(
		"{\n"
		"  \"log\": {\"level\": \"warn\"},\n"
		"  \"inbounds\": [\n"
		"    {\"type\": \"vless\", \"tag\": \"VLESS Reality\", \"listen\": \"::\",\n"
		"     \"listen_port\": 443,\n"
		"     \"users\": [{\"name\": \"Alice\", \"uuid\": \"" UUID_A "\",\n"
		"                \"flow\": \"xtls-rprx-vision\"}],\n"
		"     \"tls\": {\"enabled\": true, \"server_name\": \"www.example.com\",\n"
		"       \"reality\": {\"enabled\": true,\n"
		"         \"handshake\": {\"server\": \"www.example.com\", \"server_port\": 443},\n"
		"         \"private_key\": \"" RPRIV "\", \"short_id\": [\"" SID "\"]}}},\n"
		"    {\"type\": \"shadowsocks\", \"tag\": \"ss\", \"listen\": \"::\", \"listen_port\": 8388,\n"
		"     \"method\": \"2022-blake3-aes-128-gcm\", \"password\": \"" SSKEY "\",\n"
		"     \"users\": [{\"name\": \"alice\", \"password\": \"" SSK_A "\"},\n"
		"               {\"name\": \"bob\", \"password\": \"" SSK_B "\"}]},\n"
		"    {\"type\": \"vmess\", \"tag\": \"vm\", \"listen\": \"0.0.0.0\", \"listen_port\": 8080,\n"
		"     \"users\": [{\"name\": \"bob\", \"uuid\": \"" UUID_B "\", \"alterId\": 0}],\n"
		"     \"transport\": {\"type\": \"ws\", \"path\": \"/vm\"}},\n"
		"    {\"type\": \"trojan\", \"tag\": \"tj\", \"listen\": \"::\", \"listen_port\": 8443,\n"
		"     \"users\": [{\"name\": \"alice\", \"password\": \"trojan-pw-1\"}],\n"
		"     \"tls\": {\"enabled\": true, \"server_name\": \"vpn.example.org\",\n"
		"             \"certificate_path\": \"%s\", \"key_path\": \"%s\"}},\n"
		"    {\"type\": \"hysteria2\", \"tag\": \"hy\", \"listen\": \"::\", \"listen_port\": 443,\n"
		"     \"users\": [{\"name\": \"alice\", \"password\": \"hy-pw-1\"}],\n"
		"     \"tls\": {\"enabled\": true, \"alpn\": [\"h3\"], \"server_name\": \"vpn.example.org\",\n"
		"             \"certificate_path\": \"%s\", \"key_path\": \"%s\"}},\n"
		"    {\"type\": \"tuic\", \"tag\": \"tu\", \"listen_port\": 8444,\n"
		"     \"users\": [{\"name\": \"bob\", \"uuid\": \"" UUID_A "\", \"password\": \"tu-pw\"}],\n"
		"     \"congestion_control\": \"cubic\",\n"
		"     \"tls\": {\"enabled\": true, \"alpn\": [\"h3\"], \"server_name\": \"vpn.example.org\",\n"
		"             \"certificate_path\": \"%s\", \"key_path\": \"%s\"}},\n"
		"    {\"type\": \"mixed\", \"tag\": \"local\", \"listen\": \"127.0.0.1\", \"listen_port\": 1080}\n"
		"  ],\n"
		"  \"outbounds\": [{\"type\": \"direct\", \"tag\": \"direct\"}],\n"
		"  \"route\": {\"final\": \"direct\"}\n"
		"}\n",
		cert, key, cert, key, cert, key);
}

static int setup(void **s)
{
	struct atlas_err err = { 0 };
	char *c = NULL, *k = NULL;

	(void)s;
	tmp = tu_tmpdir();
	cert = xasprintf("%s/cert.pem", tmp);
	key = xasprintf("%s/key.pem", tmp);
	if (sb_self_signed("vpn.example.org", &c, &k, &err) < 0)
		fail_msg("%s", err.msg);
	tu_write(cert, c);
	tu_write(key, k);
	free(c);
	free(k);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	tu_rmrf_free(tmp);
	free(cert);
	free(key);
	return 0;
}

/* Parses text into a new state (singbox section only) with the messages. */
static int parse(const char *text, struct atlas_state **st, struct diags *errs,
		 struct diags *notes)
{
	*st = state_new();
	(*st)->has_singbox = 1;
	(*st)->singbox.enabled = 1;
	return adopt_sb_parse(text, strlen(text), &(*st)->singbox, errs, notes);
}

/* Fails unless text contains every one of the NULL-terminated words. */
static void has_all(const char *text, const char *const *words)
{
	for (; *words; words++)
		if (!strstr(text, *words))
			fail_msg("\"%s\" is missing from:\n%s", *words, text);
}

static const char *notes_text(struct diags *d, struct buf *b)
{
	diags_format(d, "config.json", b);
	return buf_str(b);
}

static void test_adopt_sb__carries_over(void **state)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct buf nb = BUF_INIT;
	struct atlas_state *st;
	struct sb_inbound *in;
	char *text = config();

	(void)state;
	if (parse(text, &st, &errs, &notes) < 0) {
		struct buf eb = BUF_INIT;

		fail_msg("refused:\n%s", notes_text(&errs, &eb));
	}
	assert_int_equal(st->singbox.ninbounds, 6);
	in = state_sb_inbound(st, "vless-reality");
	assert_non_null(in);
	assert_int_equal(sb_security(in), SB_SEC_REALITY);
	assert_int_equal(in->port, 443);
	assert_null(in->listen);	/* "::" is the default */
	assert_string_equal(in->server_name, "www.example.com");
	assert_null(in->reality_handshake);	/* server_name:443 */
	assert_string_equal(in->reality_private_key, RPRIV);
	assert_string_equal(in->reality_short_id, SID);
	assert_string_equal(in->users[0].name, "alice");
	assert_string_equal(in->users[0].uuid, UUID_A);
	in = state_sb_inbound(st, "ss");
	assert_string_equal(in->server_key, SSKEY);
	assert_int_equal(in->method, SB_SS_AES128);
	assert_string_equal(state_sb_user(in, "bob")->password, SSK_B);
	in = state_sb_inbound(st, "vm");
	assert_string_equal(in->listen, "0.0.0.0");
	assert_int_equal(in->transport, SB_TR_WS);
	assert_string_equal(in->path, "/vm");
	in = state_sb_inbound(st, "tj");
	assert_string_equal(in->tls_certificate, cert);
	assert_string_equal(in->tls_key, key);
	assert_string_equal(in->users[0].password, "trojan-pw-1");
	in = state_sb_inbound(st, "tu");
	assert_string_equal(in->listen, "127.0.0.1");	/* no listen: loopback, as sing-box */
	assert_string_equal(in->users[0].uuid, UUID_A);
	assert_string_equal(in->users[0].password, "tu-pw");
	/* what is not carried over is listed, with its line */
	notes_text(&notes, &nb);
	has_all(nb.data, (const char *const[]){
		"config.json:2:10: log: not carried over",
		"inbound \"local\" of type mixed is not managed",
		"outbounds: not carried over",
		"route: not carried over",
		"congestion_control cubic",
		"no listen: sing-box binds 127.0.0.1",
		"inbound \"VLESS Reality\" is named \"vless-reality\"",
		NULL });
	buf_release(&nb);
	diags_clear(&notes);
	state_free(st);
	free(text);
}

/*
 * The config Atlas renders from the adopted state: the real sing-box accepts
 * it (as it accepts the original), it serves the same credentials, and the
 * links carry the clients' old settings (REALITY public key, short id).
 */
static void test_adopt_sb__rendered_serves_the_same(void **state)
{
	struct diags errs = { 0 }, notes = { 0 }, d = { 0 };
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT, msg = BUF_INIT, links = BUF_INIT;
	struct sb_render_opts opts = { .ssm_cache_path = "/tmp/ssm-cache.json" };
	struct atlas_state *st;
	char *text = config(), *orig = xasprintf("%s/orig.json", tmp);
	char *rendered = xasprintf("%s/atlas.json", tmp);
	json_t *root, *in;
	size_t i;
	int seen = 0;

	(void)state;
	tu_write(orig, text);
	if (tu_sb_check(orig, &msg) < 0)
		fail_msg("test premise: sing-box check refuses the hand-written config:\n%s", msg.data);
	assert_int_equal(parse(text, &st, &errs, &notes), 0);
	st->settings.host = xstrdup("vpn.example.org");
	if (state_check(st, NULL, NULL, &d, &err) < 0) {
		struct buf eb = BUF_INIT;

		fail_msg("adopted state invalid: %s\n%s", err.msg, notes_text(&d, &eb));
	}
	assert_string_equal(state_sb_inbound(st, "vless-reality")->reality_public_key, RPUB);
	assert_int_equal(render_sb_server(st, &opts, &out, &err), 0);
	tu_write(rendered, out.data);
	buf_reset(&msg);
	if (tu_sb_check(rendered, &msg) < 0)
		fail_msg("sing-box check refuses the rendered config:\n%s\n%s", msg.data, out.data);
	root = json_loads(out.data, 0, NULL);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "inbounds"), i, in) {
		const char *tag = json_string_value(json_object_get(in, "tag"));
		json_t *u0 = json_array_get(json_object_get(in, "users"), 0);

		if (!strcmp(tag, "vless-reality")) {
			json_t *r = json_object_get(json_object_get(in, "tls"), "reality");

			assert_string_equal(json_string_value(json_object_get(u0, "uuid")), UUID_A);
			assert_string_equal(json_string_value(json_object_get(u0, "flow")),
					    "xtls-rprx-vision");
			assert_string_equal(json_string_value(json_object_get(r, "private_key")),
					    RPRIV);
			assert_string_equal(
			    json_string_value(json_array_get(json_object_get(r, "short_id"), 0)), SID);
			assert_string_equal(json_string_value(json_object_get(
						json_object_get(r, "handshake"), "server")),
					    "www.example.com");
			assert_int_equal(json_integer_value(json_object_get(in, "listen_port")), 443);
			assert_string_equal(json_string_value(json_object_get(in, "listen")), "::");
			seen |= 1;
		} else if (!strcmp(tag, "ss")) {
			assert_string_equal(json_string_value(json_object_get(in, "password")), SSKEY);
			assert_string_equal(json_string_value(json_object_get(in, "method")),
					    "2022-blake3-aes-128-gcm");
			seen |= 2;
		} else if (!strcmp(tag, "tj")) {
			assert_string_equal(json_string_value(json_object_get(
						json_object_get(in, "tls"), "certificate_path")),
					    cert);
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	json_decref(root);
	/* alice's links: her old uuid, the REALITY public key and short id; her SS key */
	assert_int_equal(render_sb_links(st, "alice", &links, &err), 0);
	has_all(links.data, (const char *const[]){
		"vless://" UUID_A "@vpn.example.org:443?",
		"pbk=" RPUB,
		"sid=" SID,
		"sni=www.example.com",
		"ss://2022-blake3-aes-128-gcm%3AkGrGobOVqaLp7QO",
		"KKYpJAV4vGQK",
		"trojan://trojan-pw-1@",
		NULL });
	buf_release(&links);
	buf_release(&out);
	buf_release(&msg);
	diags_clear(&notes);
	diags_clear(&d);
	state_free(st);
	free(text);
	free(orig);
	free(rendered);
}

/* Expects text refused with a message at line:col containing want. */
static void refused(const char *text, int line, int col, const char *want)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct atlas_state *st;
	struct buf b = BUF_INIT;
	char at[32];

	assert_int_equal(parse(text, &st, &errs, &notes), -1);
	notes_text(&errs, &b);
	snprintf(at, sizeof(at), "config.json:%d:%d: ", line, col);
	if (!strstr(b.data, at) || !strstr(b.data, want))
		fail_msg("want \"%s%s\", got:\n%s", at, want, b.data);
	buf_release(&b);
	diags_clear(&errs);
	diags_clear(&notes);
	state_free(st);
}

#define VL(users, extra)                                                                       \
	"{\"inbounds\": [{\"type\": \"vless\", \"tag\": \"v\", \"listen_port\": 443,\n"         \
	" \"users\": " users ",\n"                                                              \
	" \"tls\": {\"enabled\": true, \"server_name\": \"www.example.com\",\n"                 \
	"  \"reality\": {\"enabled\": true, \"handshake\": {\"server\": \"www.example.com\"},\n" \
	"   \"private_key\": \"" RPRIV "\", \"short_id\": " extra "}}}]}\n"

#define ALICE "[{\"name\": \"alice\", \"uuid\": \"" UUID_A "\", \"flow\": \"xtls-rprx-vision\"}]"

static void test_adopt_sb__malformed(void **state)
{
	(void)state;
	/* truncated file: jansson's line and column */
	refused("{\"inbounds\": [\n  {\"type\": \"vless\",\n", 3, 1, "end of file");
	/* duplicate key */
	refused("{\"inbounds\": [],\n \"inbounds\": []}", 2, 11, "duplicate object key");
	/* unknown key, at its value */
	refused("{\"inbounds\": [{\"type\": \"vless\", \"tag\": \"v\", \"listen_port\": 443,\n"
		"  \"users\": [], \"colour\": 1}]}",
		2, 26, "unknown key \"colour\" for a vless inbound");
	/* duplicate user names (after cleaning: "Bob" and "bob") */
	refused("{\"inbounds\": [{\"type\": \"shadowsocks\", \"tag\": \"ss\", \"listen_port\": 8388,\n"
		" \"method\": \"2022-blake3-aes-128-gcm\", \"password\": \"" SSKEY "\",\n"
		" \"users\": [{\"name\": \"Bob\", \"password\": \"" SSK_A "\"},\n"
		"           {\"name\": \"bob\", \"password\": \"" SSK_B "\"}]}]}",
		4, 12, "user name \"bob\" is used twice");
	/* a name used twice is told with the element's other problems (all at once) */
	refused("{\"inbounds\": [{\"type\": \"shadowsocks\", \"tag\": \"ss\", \"listen_port\": 8388,\n"
		" \"method\": \"2022-blake3-aes-128-gcm\", \"password\": \"" SSKEY "\",\n"
		" \"users\": [{\"name\": \"Bob\", \"password\": \"" SSK_A "\"},\n"
		"           {\"name\": \"bob\"}]}]}",
		4, 12, "user \"bob\" has no password");
	refused("{\"inbounds\": [{\"type\": \"trojan\", \"tag\": \"a\", \"listen_port\": 443,\n"
		" \"users\": [{\"name\": \"x\", \"password\": \"p\"}]},\n"
		" {\"type\": \"vless\", \"tag\": \"A\", \"listen_port\": 70000, \"users\": [\n"
		"  {\"name\": \"y\", \"uuid\": \"nope\"}]}]}",
		4, 3, "user \"y\": uuid \"nope\" is not a UUID");
	/* a key that is not base64 of 16 bytes */
	refused("{\"inbounds\": [{\"type\": \"shadowsocks\", \"tag\": \"ss\", \"listen_port\": 8388,\n"
		" \"method\": \"2022-blake3-aes-128-gcm\",\n \"password\": \"not base64!\",\n"
		" \"users\": [{\"name\": \"bob\", \"password\": \"" SSK_B "\"}]}]}",
		3, 14, "the server key is not base64 of 16 bytes");
	/* legacy Shadowsocks: its clients would need new settings */
	refused("{\"inbounds\": [{\"type\": \"shadowsocks\", \"tag\": \"ss\", \"listen_port\": 8388,\n"
		" \"method\": \"aes-256-gcm\", \"password\": \"x\"}]}",
		2, 12, "method \"aes-256-gcm\" is not one Atlas runs");
	/* REALITY user without the vision flow; two short ids; a bad uuid */
	refused(VL("[{\"name\": \"alice\", \"uuid\": \"" UUID_A "\"}]", "[\"" SID "\"]"), 2, 12,
		"user \"alice\" has no flow");
	refused(VL(ALICE, "[\"" SID "\", \"ab\"]"), 5, 78, "2 short ids");
	refused(VL("[{\"name\": \"alice\", \"uuid\": \"not-a-uuid\", \"flow\": \"xtls-rprx-vision\"}]",
		   "[\"" SID "\"]"),
		2, 12, "uuid \"not-a-uuid\" is not a UUID");
	/* an inline certificate */
	refused("{\"inbounds\": [{\"type\": \"trojan\", \"tag\": \"t\", \"listen_port\": 443,\n"
		" \"users\": [{\"name\": \"a\", \"password\": \"p\"}],\n"
		" \"tls\": {\"enabled\": true, \"certificate\": [\"-----BEGIN\"], \"key\": [\"k\"]}}]}",
		3, 42, "an inline certificate");
}

/* A NUL byte (jansson reads it as white space, sing-box refuses the file): an
 * error at its line:col. The value index ends on any text (a fuzzed config
 * with a NUL inside an array made it loop for good). */
static void test_adopt_sb__nul_byte(void **state)
{
	static const char text[] = "{\"inbounds\": [\n  {\"listen_port\": 443\0}]}";
	static const char *const odd[] = { "[1\0, 2]", "[:]", "{\"a\" 1}", "[[[", "[\"x" };
	struct diags errs = { 0 }, notes = { 0 };
	struct atlas_state *st = state_new();
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(adopt_sb_parse(text, sizeof(text) - 1, &st->singbox, &errs, &notes), -1);
	notes_text(&errs, &b);
	TU_HAS(b.data, "config.json:2:22: a NUL byte");
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct posidx x = { 0 };

		posidx_build(&x, odd[i], i == 0 ? 7 : strlen(odd[i]));
		assert_true(x.n >= 1 && x.n <= 8);
		posidx_release(&x);
	}
	buf_release(&b);
	diags_clear(&errs);
	diags_clear(&notes);
	state_free(st);
}

/* Runs `atlas adopt ARGS` with stdout and stderr thrown away; the exit status. */
static int run_adopt(int argc, char **argv)
{
	int saved = dup(1), saved2 = dup(2), fd = open("/dev/null", O_WRONLY), rc;

	fflush(stdout);
	fflush(stderr);
	dup2(fd, 1);
	if (!getenv("TU_VERBOSE"))
		dup2(fd, 2);
	close(fd);
	rc = cmd_adopt(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved2, 2);
	close(saved);
	close(saved2);
	return rc;
}

static int generations(void)
{
	char *db = xasprintf("%s/data/atlas.db", tmp);
	struct store *s;
	struct atlas_err err = { 0 };
	int64_t n = -1;

	if (access(db, F_OK) == 0 && store_open(cli_datadir, &s, &err) == 0) {
		n = store_generation(s);
		store_close(s);
	}
	free(db);
	return (int)n;
}

/* Bad input stores nothing; a dry run creates no atlas.db; the adoption is one generation. */
static void test_adopt_sb__all_or_nothing(void **state)
{
	char *good = xasprintf("%s/good.json", tmp), *bad = xasprintf("%s/bad.json", tmp);
	char *data = xasprintf("%s/data", tmp), *db = xasprintf("%s/data/atlas.db", tmp);
	char *text = config();
	char *argv_bad[] = { "adopt", "singbox", bad, NULL };
	char *argv_dry[] = { "adopt", "singbox", good, "--dry-run", NULL };
	char *argv_good[] = { "adopt", "singbox", good, NULL };
	struct atlas_state *st = NULL;
	struct atlas_err err = { 0 };
	struct store *s;

	(void)state;
	cli_datadir = data;
	tu_write(good, text);
	/* the good file with one bad key at the end: nothing of it is stored */
	text[strlen(text) - 3] = '\0';
	{
		char *b = xasprintf("%s,\n  \"bogus\": 1}\n", text);

		tu_write(bad, b);
		free(b);
	}
	assert_int_equal(run_adopt(3, argv_bad), 1);
	assert_int_not_equal(access(db, F_OK), 0);
	assert_int_equal(run_adopt(4, argv_dry), 0);
	assert_int_not_equal(access(db, F_OK), 0);	/* the dry run created no store */
	assert_int_equal(run_adopt(3, argv_good), 0);
	assert_int_equal(generations(), 1);
	assert_int_equal(store_open(data, &s, &err), 0);
	assert_int_equal(store_load(s, &st, NULL, &err), 0);
	store_close(s);
	assert_true(st->has_singbox);
	assert_int_equal(st->singbox.ninbounds, 6);
	assert_string_equal(state_sb_inbound(st, "vless-reality")->reality_private_key, RPRIV);
	assert_string_equal(state_sb_inbound(st, "vless-reality")->users[0].uuid, UUID_A);
	state_free(st);
	/* a second adoption is refused and stores nothing; so is the bad file now */
	assert_int_equal(run_adopt(3, argv_good), 1);
	assert_int_equal(run_adopt(3, argv_bad), 1);
	assert_int_equal(generations(), 1);
	free(good);
	free(bad);
	free(data);
	free(db);
	free(text);
}

TU_MAIN(setup, teardown,
	cmocka_unit_test(test_adopt_sb__carries_over),
	cmocka_unit_test(test_adopt_sb__rendered_serves_the_same),
	cmocka_unit_test(test_adopt_sb__malformed),
	cmocka_unit_test(test_adopt_sb__all_or_nothing),
	cmocka_unit_test(test_adopt_sb__nul_byte))
