/*
 * test_ovpn_mgmt.c - the parser of OpenVPN management replies: `status 3`
 * rows, asynchronous '>' lines anywhere (even inside the reply), replies
 * that arrive in pieces, ERROR replies, and SUCCESS/ERROR counting for a
 * batch of client-kill commands.
 */
#include "testutil.h"
#include "controller/openvpn/ovpn_mgmt.h"

static const char reply[] =
	">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n"
	"TITLE\tOpenVPN 2.6.14 x86_64-pc-linux-gnu\r\n"
	"TIME\t2026-11-26 02:00:00\t1795658400\r\n"
	"HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 "
	"Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\t"
	"Username\tClient ID\tPeer ID\tData Channel Cipher\r\n"
	"CLIENT_LIST\talice\t10.250.0.11:43392\t10.9.0.10\t\t4242\t5151\t"
	"2026-11-26 01:59:00\t1795658340\tUNDEF\t7\t0\tAES-256-GCM\r\n"
	">BYTECOUNT_CLI:7,4242,5151\r\n"
	">LOG:1795658400,I,something happened\r\n"
	"CLIENT_LIST\tbob\t10.250.0.12:45203\t10.9.0.128\t\t10\t20\t"
	"2026-11-26 01:59:30\t1795658370\tUNDEF\t9\t1\tCHACHA20-POLY1305\r\n"
	"HEADER\tROUTING_TABLE\tVirtual Address\tCommon Name\tReal Address\tLast Ref\t"
	"Last Ref (time_t)\r\n"
	"ROUTING_TABLE\t10.9.0.10\talice\t10.250.0.11:43392\t2026-11-26 02:00:00\t1795658400\r\n"
	"GLOBAL_STATS\tMax bcast/mcast queue length\t0\r\n"
	"END\r\n";

static void check_two(const struct ovpn_status *st)
{
	assert_int_equal(st->n, 2);
	assert_string_equal(st->v[0].cn, "alice");
	assert_string_equal(st->v[0].real, "10.250.0.11:43392");
	assert_string_equal(st->v[0].virt, "10.9.0.10");
	assert_int_equal(st->v[0].rx, 4242);
	assert_int_equal(st->v[0].tx, 5151);
	assert_int_equal(st->v[0].since, 1795658340LL);
	assert_int_equal(st->v[0].cid, 7);
	assert_string_equal(st->v[1].cn, "bob");
	assert_string_equal(st->v[1].virt, "10.9.0.128");
	assert_int_equal(st->v[1].cid, 9);
}

static void test_ovpn_mgmt__status_with_async_lines(void **state)
{
	struct ovpn_status st = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(ovpn_status_parse(reply, strlen(reply), &st, &err), 1);
	check_two(&st);
	ovpn_status_release(&st);
}

static void test_ovpn_mgmt__status_in_pieces(void **state)
{
	struct ovpn_status st = { 0 };
	struct atlas_err err = { 0 };
	size_t len = strlen(reply);

	(void)state;
	/* every cut short of the END line is incomplete, whatever it splits */
	for (size_t cut = 0; cut < len - 2; cut++) {
		int rc = ovpn_status_parse(reply, cut, &st, &err);

		if (rc != 0)
			fail_msg("a reply cut at %zu of %zu parsed as %d", cut, len, rc);
	}
	assert_int_equal(ovpn_status_parse(reply, len, &st, &err), 1);
	check_two(&st);
	ovpn_status_release(&st);
}

static void test_ovpn_mgmt__status_no_clients_lf_only(void **state)
{
	const char text[] = ">INFO:hello\nTITLE\tx\nHEADER\tCLIENT_LIST\tCommon Name\n"
			    ">STATE:1,CONNECTED\nGLOBAL_STATS\tx\t0\nEND\n";
	struct ovpn_status st = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(ovpn_status_parse(text, strlen(text), &st, &err), 1);
	assert_int_equal(st.n, 0);
	ovpn_status_release(&st);
}

static void test_ovpn_mgmt__status_error(void **state)
{
	const char text[] = ">INFO:hello\r\nERROR: unknown command, enter 'help' for more options\r\n";
	const char bad[] = "CLIENT_LIST\tonly\tthree\r\nEND\r\n";
	struct ovpn_status st = { 0 };
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(ovpn_status_parse(text, strlen(text), &st, &err), -1);
	assert_non_null(strstr(err.msg, "unknown command"));
	assert_int_equal(ovpn_status_parse(bad, strlen(bad), &st, &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));
	assert_int_equal(st.n, 0);
}

static void test_ovpn_mgmt__kill_replies(void **state)
{
	const char text[] = ">INFO:OpenVPN Management Interface Version 5\r\n"
			    "SUCCESS: client-kill command succeeded\r\n"
			    ">CLIENT:DISCONNECT,7\r\n>CLIENT:ENV,END\r\n"
			    "ERROR: client-kill command failed\r\n"
			    "SUCCESS: client-kill command succ";
	int ok = -1;

	(void)state;
	assert_int_equal(ovpn_reply_parse(text, strlen(text), 0, &ok), 1);
	assert_int_equal(ok, 1);
	assert_int_equal(ovpn_reply_parse(text, strlen(text), 1, &ok), 1);
	assert_int_equal(ok, 0);
	/* the third reply has not fully arrived */
	assert_int_equal(ovpn_reply_parse(text, strlen(text), 2, &ok), 0);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_ovpn_mgmt__status_with_async_lines),
	cmocka_unit_test(test_ovpn_mgmt__status_in_pieces),
	cmocka_unit_test(test_ovpn_mgmt__status_no_clients_lf_only),
	cmocka_unit_test(test_ovpn_mgmt__status_error),
	cmocka_unit_test(test_ovpn_mgmt__kill_replies))
