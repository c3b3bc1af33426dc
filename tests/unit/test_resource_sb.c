/*
 * test_resource_sb.c - the sing-box resources through the router's table
 * (resource_fx.h): the inbounds (created with their first users) and users,
 * their downloads and the subscription URL, and no secret in any answer.
 */
#include "resource_fx.h"

#define SB    "/api/v1/singbox"
#define SBI   SB "/inbounds"
#define EDGE  SBI "/edge"
#define ALICE SB "/users/alice"
#define EDGE_BODY(users)                                                                           \
	"{\"name\":\"edge\",\"type\":\"vless\",\"port\":8443,\"server_name\":\"www.example.com\"," \
	"\"users\":" users "}"

#define NO_USERS                                                                                   \
	"inbound has no users: add at least one (sing-box would run it without authentication or " \
	"refuse everyone)"

/* No secret of st's sing-box section appears in text. */
static void no_sb_secret(const struct atlas_state *st, const char *what, const char *text)
{
	const struct sb_section *sb = &st->singbox;

	if (strstr(text, sb->api_secret))
		fail_msg("%s shows the api secret: %s", what, text);
	for (size_t i = 0; i < sb->nsubscriptions; i++)
		if (strstr(text, sb->subscriptions[i].token))
			fail_msg("%s shows a subscription token: %s", what, text);
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];
		const char *keys[] = {in->reality_private_key, in->server_key, in->self_signed_key};

		for (size_t k = 0; k < 3; k++)
			if (keys[k] && strstr(text, keys[k]))
				fail_msg("%s shows a key of inbound %s: %s", what, in->name, text);
		for (size_t u = 0; u < in->nusers; u++) {
			const struct sb_user *us = &in->users[u];

			if ((us->uuid && strstr(text, us->uuid)) ||
			    (us->password && strstr(text, us->password)))
				fail_msg("%s shows a secret of user %s: %s", what, us->name, text);
		}
	}
}

/* An inbound is created with its first users; every edit keeps its rules. */
static void test_resource__sing_box_inbounds_and_users(void **ts)
{
	struct fx *f = *ts;
	struct atlas_state *st;
	struct answer a;
	int64_t gen;

	expect(f, "GET", SB, NULL, 404,
	       "singbox is not managed: POST /api/v1/singbox/inbounds (an inbound with its first "
	       "users) or PATCH /api/v1/singbox to start managing it",
	       NULL);
	a = call(f, "GET", SBI, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
	expect(f, "POST", EDGE "/users", "{\"name\":\"carol\"}", 404,
	       "no sing-box inbound \"edge\"", NULL);
	/* The validation's rule holds: no inbound without users, and the state stays empty. */
	expect(f, "POST", SBI, "{\"name\":\"edge\",\"type\":\"vless\",\"port\":8443}", 422,
	       NULL, "server_name"); /* the first of its problems, about the inbound itself */
	expect(f, "POST", SBI,
	       "{\"name\":\"edge\",\"type\":\"vless\",\"port\":8443,\"server_name\":\"a.example\"}",
	       422, NULL, "users");
	expect(f, "POST", SBI, EDGE_BODY("[]"), 422, "singbox inbound \"edge\": " NO_USERS, "users");
	assert_int_equal(store_generation(f->app.store), 0);
	/* The first users are decoded like any user: no secret set through the API. */
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\",\"uuid\":\"x\"}]"), 422,
	       "users[0]: uuid is a secret: it cannot be set through the API", "users[0].uuid");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"note\":\"x\"}]"), 422,
	       "users[1]: user: name is required", "users[1].name");
	expect(f, "POST", SBI, EDGE_BODY("[\"alice\"]"), 422, "users[0]: must be a user object",
	       "users[0]");
	/* the rules' problems name the element too */
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"a\"},{\"name\":\"a\"}]"), 422, NULL,
	       "users[1].name");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"a\"},{\"name\":\"b\",\"expires\":\"2030-02-30\"}]"),
	       422, NULL, "users[1].expires");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"Bob\"}]"), 422, NULL, "users[0].name");
	expect(f, "POST", SBI, "{\"name\":\"edge\",\"type\":\"vless\",\"port\":0,\"server_name\":\"a.example\","
	       "\"users\":[{\"name\":\"a\"}]}", 422, NULL, "port");
	expect(f, "POST", SBI, EDGE_BODY("{}"), 422,
	       "inbound: users must be an array of user objects", "users");
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"name\":\"alice\"}]"), 422,
	       "singbox inbound \"edge\": user name \"alice\" is used twice", "users[1].name");
	assert_int_equal(store_generation(f->app.store), 0);

	a = call(f, "POST", SBI,
		 EDGE_BODY("[{\"name\":\"alice\",\"note\":\"phone\"},{\"name\":\"bob\"}]"));
	assert_int_equal(a.status, 201);
	assert_string_equal(str(a.json, "name"), "edge");
	assert_string_equal(str(a.json, "type"), "vless");
	assert_int_equal(json_integer_value(json_object_get(a.json, "users")), 2);
	assert_non_null(json_object_get(a.json, "reality_public_key"));
	assert_null(json_object_get(a.json, "reality_private_key"));
	st = stored(f);
	assert_true(st->has_singbox);
	assert_int_equal(st->singbox.inbounds[0].nusers, 2);
	assert_non_null(st->singbox.inbounds[0].users[0].uuid);
	assert_string_equal(st->singbox.inbounds[0].users[0].note, "phone");
	no_sb_secret(st, "POST inbound", a.text);
	state_free(st);
	answer_release(&a);
	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"zed\"}]"), 409,
	       "sing-box inbound \"edge\" exists already", "name");

	a = call(f, "POST", EDGE "/users", "{\"name\":\"carol\",\"quota_bytes\":1000}");
	assert_int_equal(a.status, 201);
	assert_int_equal(json_integer_value(json_object_get(a.json, "quota_bytes")), 1000);
	assert_null(json_object_get(a.json, "uuid"));
	assert_true(json_is_null(json_object_get(a.json, "status")));
	answer_release(&a);
	expect(f, "POST", EDGE "/users", "{\"name\":\"carol\"}", 409,
	       "sing-box user \"carol\" exists already on \"edge\"", "name");
	expect(f, "POST", EDGE "/users", "{\"name\":\"dan\",\"password\":\"p\"}", 422,
	       "password is a secret: it cannot be set through the API", "password");
	/* Afterwards the users are edited through their own resource only. */
	expect(f, "PATCH", EDGE, "{\"users\":[]}", 422,
	       "users cannot be set here: use its own endpoint", "users");
	expect(f, "PATCH", EDGE, "{\"port\":8444}", 200, NULL, NULL);
	expect(f, "PATCH", EDGE "/users/bob", "{\"disabled\":true}", 200, NULL, NULL);
	expect(f, "PATCH", EDGE "/users/bob", "{\"name\":\"bobby\"}", 422,
	       "a sing-box user cannot be renamed in one inbound: the name is one person across "
	       "inbounds, with one subscription; add a new user instead",
	       "name");
	expect(f, "GET", EDGE "/users/zed", NULL, 404,
	       "no sing-box user \"zed\" on sing-box inbound \"edge\"", NULL);
	expect(f, "DELETE", EDGE "/users/carol", NULL, 204, NULL, NULL);

	/* A second inbound of another type; alice is one person in both. */
	expect(f, "POST", SBI,
	       "{\"name\":\"ss\",\"type\":\"shadowsocks\",\"port\":8388,\"users\":[{\"name\":"
	       "\"alice\"}]}",
	       201, NULL, NULL);
	/* Its last user cannot go: the inbound goes instead. */
	gen = store_generation(f->app.store);
	expect(f, "DELETE", SBI "/ss/users/alice", NULL, 422, "singbox inbound \"ss\": " NO_USERS,
	       "users");
	assert_int_equal(store_generation(f->app.store), gen);

	/* No answer about the section, an inbound or a user carries a secret. */
	st = stored(f);
	assert_int_equal(st->singbox.ninbounds, 2);
	{
		const char *reads[] = {SB, SBI, EDGE, EDGE "/users", EDGE "/users/alice",
				       SBI "/ss", SBI "/ss/users"};

		for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
			a = call(f, "GET", reads[i], NULL);
			assert_int_equal(a.status, 200);
			no_sb_secret(st, reads[i], a.text);
			answer_release(&a);
		}
	}
	state_free(st);
	a = call(f, "GET", EDGE "/users", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	assert_true(json_is_true(json_object_get(json_array_get(a.json, 1), "disabled")));
	answer_release(&a);
	a = call(f, "GET", SB, NULL);
	assert_int_equal(json_integer_value(json_object_get(a.json, "api_port")), 9091);
	assert_null(json_object_get(a.json, "inbounds"));
	assert_null(json_object_get(a.json, "subscriptions"));
	answer_release(&a);
	expect(f, "PATCH", SB, "{\"api_port\":9191}", 200, NULL, NULL);
	expect(f, "PATCH", SB, "{\"inbounds\":[]}", 422, NULL, "inbounds");
	expect(f, "PATCH", SB, "{\"api_secret\":\"x\"}", 422, NULL, "api_secret");

	expect_history(f, "change sing-box section", "add sing-box inbound ss",
		       "remove sing-box user edge/carol", "change sing-box user edge/bob",
		       "change sing-box inbound edge", "add sing-box user edge/carol",
		       "add sing-box inbound edge", NULL);

	/* The live status of a user: the person's connections and traffic. */
	f->app.live = json_pack("{s:{s:[{s:s, s:I, s:I, s:I}]}}", "singbox", "users", "name",
				"alice", "connections", (json_int_t)2, "uplink_bytes",
				(json_int_t)5, "downlink_bytes", (json_int_t)7);
	a = call(f, "GET", EDGE "/users/alice", NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(a.json, "status"), "connections")),
	    2);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(a.json, "status"), "downlink_bytes")),
			 7);
	answer_release(&a);
	a = call(f, "GET", EDGE "/users/bob", NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(a.json, "status"), "connections")),
	    0);
	answer_release(&a);
	/* among more users (the status lists them sorted by name), each gets its own */
	json_decref(f->app.live);
	f->app.live = json_pack("{s:{s:[{s:s, s:I}, {s:s, s:I}, {s:s, s:I}, {s:s, s:I}]}}",
				"singbox", "users", "name", "aaron", "connections", (json_int_t)1,
				"name", "alice", "connections", (json_int_t)2, "name", "bob",
				"connections", (json_int_t)3, "name", "zed", "connections",
				(json_int_t)9);
	a = call(f, "GET", EDGE "/users", NULL);
	assert_int_equal(json_array_size(a.json), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *u = json_array_get(a.json, i);
		const char *name = json_string_value(json_object_get(u, "name"));

		assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "status"),
								   "connections")),
				 !strcmp(name, "alice") ? 2 : !strcmp(name, "bob") ? 3 : -1);
	}
	answer_release(&a);
	/* With a live status too, no secret. */
	st = stored(f);
	a = call(f, "GET", EDGE "/users", NULL);
	no_sb_secret(st, "GET users with status", a.text);
	answer_release(&a);
	state_free(st);

	expect(f, "DELETE", SBI "/ss", NULL, 204, NULL, NULL);
	expect(f, "DELETE", EDGE, NULL, 204, NULL, NULL);
	a = call(f, "GET", SBI, NULL);
	assert_string_equal(a.text, "[]\n");
	answer_release(&a);
}

/* Downloads carry the secrets they exist for; the subscription URL and its rotation. */
static void test_resource__sing_box_downloads(void **ts)
{
	struct fx *f = *ts;
	struct atlas_state *st;
	struct answer a;
	char *url, *token, *uuid;
	json_t *j;

	expect(f, "POST", SBI, EDGE_BODY("[{\"name\":\"alice\"},{\"name\":\"bob\"}]"), 201, NULL,
	       NULL);
	/* Links need settings.host. */
	expect(f, "GET", EDGE "/users/alice/link", NULL, 409,
	       "settings.host is not set: links need it", NULL);
	expect(f, "GET", ALICE "/subscription", NULL, 409, NULL, NULL);
	expect(f, "PATCH", "/api/v1/settings", "{\"host\":\"vpn.example.org\"}", 200, NULL, NULL);
	expect(f, "POST", SBI,
	       "{\"name\":\"ss\",\"type\":\"shadowsocks\",\"port\":8388,\"users\":[{\"name\":"
	       "\"alice\"}]}",
	       201, NULL, NULL);
	st = stored(f);
	uuid = xstrdup(state_sb_user(state_sb_inbound(st, "edge"), "alice")->uuid);
	token = xstrdup(state_sb_subscription(st, "alice")->token);
	state_free(st);

	a = call(f, "GET", EDGE "/users/alice/link", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "text/plain; charset=utf-8");
	assert_string_equal(a.disposition, "");
	assert_true(!strncmp(a.text, "vless://", 8));
	assert_non_null(strstr(a.text, uuid));
	TU_HAS(a.text, "@vpn.example.org:8443", "#edge\n");
	answer_release(&a);
	a = call(f, "GET", EDGE "/users/alice/qr.svg", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "image/svg+xml");
	assert_non_null(strstr(a.text, "<svg"));
	answer_release(&a);
	expect(f, "GET", EDGE "/users/zed/link", NULL, 404,
	       "no sing-box user \"zed\" on sing-box inbound \"edge\"", NULL);
	expect(f, "GET", SBI "/nope/users/alice/qr.svg", NULL, 404, "no sing-box inbound \"nope\"",
	       NULL);

	/* The people, by name, with their inbounds by name. */
	a = call(f, "GET", SB "/users", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.text, "[{\"name\":\"alice\",\"inbounds\":[\"edge\",\"ss\"]},"
				    "{\"name\":\"bob\",\"inbounds\":[\"edge\"]}]\n");
	answer_release(&a);

	/* The person: one link per inbound, in inbound name order; the profile. */
	a = call(f, "GET", ALICE "/links", NULL);
	assert_int_equal(a.status, 200);
	assert_true(!strncmp(a.text, "vless://", 8));
	TU_HAS(a.text, "#edge\nss://", "#ss\n");
	answer_release(&a);
	a = call(f, "GET", SB "/users/bob/links", NULL);
	assert_null(strstr(a.text, "#ss"));
	assert_non_null(strstr(a.text, "#edge\n"));
	answer_release(&a);
	a = call(f, "GET", ALICE "/profile", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.ctype, "application/json");
	assert_string_equal(a.disposition, "attachment; filename=\"alice.json\"");
	assert_non_null(a.json);
	j = json_object_get(a.json, "outbounds");
	assert_true(json_array_size(j) >= 2);
	assert_non_null(strstr(a.text, uuid));
	answer_release(&a);
	expect(f, "GET", SB "/users/zed/profile", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);
	expect(f, "GET", SB "/users/b%40d/links", NULL, 404, "no such user: invalid name", NULL);

	a = call(f, "GET", ALICE "/subscription", NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(str(a.json, "name"), "alice");
	url = xasprintf("https://vpn.example.org/sub/%s", token);
	assert_string_equal(str(a.json, "url"), url);
	free(url);
	answer_release(&a);
	expect(f, "GET", SB "/users/zed/subscription", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);

	/* Rotation: a new token is stored and answered; the old one is gone. */
	expect(f, "POST", SB "/users/zed/subscription/rotate", NULL, 404,
	       "no sing-box inbound has a user \"zed\"", NULL);
	a = call(f, "POST", ALICE "/subscription/rotate", NULL);
	assert_int_equal(a.status, 200);
	st = stored(f);
	assert_string_not_equal(state_sb_subscription(st, "alice")->token, token);
	url = xasprintf("https://vpn.example.org/sub/%s", state_sb_subscription(st, "alice")->token);
	assert_string_equal(str(a.json, "url"), url);
	assert_null(state_sb_subscription_by_token(st, token));
	/* The other person's token did not move; alice's uuid neither. */
	assert_string_equal(state_sb_user(state_sb_inbound(st, "edge"), "alice")->uuid, uuid);
	free(url);
	state_free(st);
	answer_release(&a);
	expect_history(f, "rotate sing-box subscription alice", NULL);
	free(uuid);
	free(token);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test_setup_teardown(test_resource__sing_box_inbounds_and_users, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_resource__sing_box_downloads, setup, teardown))
