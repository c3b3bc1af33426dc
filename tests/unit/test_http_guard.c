/*
 * test_http_guard.c - the checks before routing (issue 16.5, 16.6): raw
 * request targets with encoded NUL, control or path bytes, bad escapes;
 * duplicate Content-Length and Content-Length with Transfer-Encoding; the
 * per-address cap of connections still sending their header ends the
 * oldest slow one, never one whose whole header waits unread (a burst).
 */
#include "testutil.h"

#include <sys/socket.h>
#include <unistd.h>

#include "api/http_guard.h"

static void test_http_guard__uri(void **s)
{
	char msg[160];

	(void)s;
	assert_int_equal(http_uri_check("/api/v1/wireguard/interfaces/wg0/peers/p1", msg, 160), 0);
	assert_int_equal(http_uri_check("/api/v1/wireguard/interfaces/wg%30", msg, 160), 0);
	assert_int_equal(http_uri_check("/api/v1/events?token=a.b-c_d&x=%2F%20", msg, 160), 0);
	assert_int_equal(http_uri_check("/api/v1/wireguard/interfaces/wg0%00/peers/p1", msg, 160),
			 -1);
	assert_non_null(strstr(msg, "%00"));
	assert_int_equal(http_uri_check("/index.html%00.js", msg, 160), -1);
	assert_int_equal(http_uri_check("/api/v1/x%2F..%2Fy", msg, 160), -1);
	assert_non_null(strstr(msg, "%2F"));
	assert_int_equal(http_uri_check("/api/v1/x%2e%2e", msg, 160), 0); /* dots: a name's bytes */
	assert_int_equal(http_uri_check("/a%0d%0aX:y", msg, 160), -1);
	assert_int_equal(http_uri_check("/a%zz", msg, 160), -1);
	assert_int_equal(http_uri_check("/a%4", msg, 160), -1);
	assert_int_equal(http_uri_check("/a?b=%00", msg, 160), -1);
	assert_int_equal(http_uri_check("/a\x01", msg, 160), -1);
	assert_int_equal(http_uri_check("/a%20b", msg, 160), -1);
}

static void test_http_guard__framing(void **s)
{
	char msg[160];

	(void)s;
	assert_int_equal(http_framing_check(0, NULL, 0, msg, 160), 0);
	assert_int_equal(http_framing_check(1, "13", 0, msg, 160), 0);
	assert_int_equal(http_framing_check(0, NULL, 1, msg, 160), 0);
	assert_int_equal(http_framing_check(2, "13", 0, msg, 160), -1);
	assert_non_null(strstr(msg, "more than one Content-Length"));
	assert_int_equal(http_framing_check(1, "13", 1, msg, 160), -1);
	assert_non_null(strstr(msg, "Transfer-Encoding"));
	assert_int_equal(http_framing_check(1, "13, 13", 0, msg, 160), -1);
	assert_int_equal(http_framing_check(1, "-1", 0, msg, 160), -1);
}

/* 1 when the server side of the pair was ended (the client reads EOF). */
static int ended(int client)
{
	char b[64];

	return recv(client, b, sizeof(b), MSG_DONTWAIT) == 0;
}

/*
 * Cap 2 per address: the oldest connection sent its whole header (not read
 * yet, as in a burst under load), the next two sent nothing or half a
 * header. The third pending one ends the oldest slow one, the second;
 * before, the cap ended the first, whose client got an empty reply. Two
 * more in the same second (a burst) end nothing: their grace; once it is
 * over, guard_expire() brings the address back to its cap.
 */
static void test_http_guard__cap_spares_waiting_header(void **s)
{
	struct guard_limits lim = { 16, 2, 10, 120 };
	struct conn_guard *g = guard_new(&lim);
	struct guard_conn *c[5], *n;
	int64_t at[5] = { 100000, 101000, 102000, 102000, 102000 };
	int sp[5][2], o[2], o2[2];

	(void)s;
	for (int i = 0; i < 5; i++)
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
	assert_int_equal(write(sp[0][1], "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 28), 28);
	assert_int_equal(write(sp[2][1], "GET /a HTTP/1.1\r\nHo", 19), 19);
	for (int i = 0; i < 3; i++)
		assert_non_null(c[i] = guard_open(g, sp[i][0], "10.0.0.1", at[i]));
	assert_int_equal(ended(sp[0][1]), 0);
	assert_int_equal(ended(sp[1][1]), 1);
	assert_int_equal(ended(sp[2][1]), 0);
	assert_int_equal(guard_pending(g), 2);
	/* another address has its own cap */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, o), 0);
	guard_close(g, guard_open(g, o[0], "10.0.0.2", 102000));
	assert_int_equal(ended(sp[2][1]), 0);
	/* a burst: within their grace, nobody is ended */
	for (int i = 3; i < 5; i++)
		assert_non_null(c[i] = guard_open(g, sp[i][0], "10.0.0.1", at[i]));
	assert_int_equal(guard_pending(g), 4);
	assert_int_equal(guard_expire(g, 102999), 0);
	/* the grace is over: the oldest slow ones go, down to the cap */
	assert_int_equal(guard_expire(g, 104000), 2);
	assert_int_equal(ended(sp[0][1]), 0);
	assert_int_equal(ended(sp[2][1]), 1);
	assert_int_equal(ended(sp[3][1]), 1);
	assert_int_equal(ended(sp[4][1]), 0);
	assert_int_equal(guard_pending(g), 2);
	/* a header that is in leaves the count */
	assert_int_equal(guard_headers(g, c[0]), 0);
	assert_int_equal(guard_pending(g), 1);
	/*
	 * A kept-alive connection between two requests, idle for 500 ms, is
	 * not the one ended although it is the oldest over the cap: a busy
	 * client's next request may be in flight. The one that has sent
	 * nothing for a whole second goes instead.
	 */
	{
		char drain[64];
		struct guard_conn *m;
		int o3[2];

		/* c[0]'s request was read and answered: nothing waits in its socket */
		assert_int_equal(read(sp[0][0], drain, sizeof(drain)), 28);
		guard_active(g, c[0]);
		guard_idle(g, c[0], 104500);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, o2), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, o3), 0);
		assert_non_null(n = guard_open(g, o2[0], "10.0.0.1", 104000)); /* ends the slow c[4] */
		assert_int_equal(ended(sp[4][1]), 1);
		assert_non_null(m = guard_open(g, o3[0], "10.0.0.1", 104000));
		assert_int_equal(guard_expire(g, 105000), 1);
		assert_int_equal(ended(sp[0][1]), 0); /* the kept-alive one is spared */
		assert_int_equal(ended(o2[1]), 1);
		guard_close(g, n);
		guard_close(g, m);
		close(o2[0]);
		close(o2[1]);
		close(o3[0]);
		close(o3[1]);
	}
	for (int i = 0; i < 5; i++) {
		guard_close(g, c[i]);
		close(sp[i][0]);
		close(sp[i][1]);
	}
	guard_free(g);
	close(o[0]);
	close(o[1]);
}

/*
 * The grace is a whole second whatever the clock reads: a connection that
 * came at 100.999 is not "1 s old" at 101.000 (with whole seconds it was,
 * and the second connection of a burst ended the first before its client
 * had written its request). Cap 1 per address. A header completed after
 * the guard ended its connection is refused (the request is not served).
 */
static void test_http_guard__grace_is_a_whole_second(void **s)
{
	struct guard_limits lim = { 16, 1, 10, 120 };
	struct conn_guard *g = guard_new(&lim);
	struct guard_conn *a, *b;
	int pa[2], pb[2];

	(void)s;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pb), 0);
	assert_non_null(a = guard_open(g, pa[0], "10.0.0.1", 100999));
	assert_non_null(b = guard_open(g, pb[0], "10.0.0.1", 101000));
	assert_int_equal(ended(pa[1]), 0);
	assert_int_equal(guard_expire(g, 101998), 0);
	assert_int_equal(ended(pa[1]), 0);
	/* a's second is over and it sent nothing: the cap ends it, not b */
	assert_int_equal(guard_expire(g, 101999), 1);
	assert_int_equal(ended(pa[1]), 1);
	assert_int_equal(ended(pb[1]), 0);
	/* a header that comes in after the end is not served; b's is */
	assert_int_equal(guard_headers(g, a), -1);
	assert_int_equal(guard_headers(g, b), 0);
	assert_int_equal(guard_pending(g), 0);
	guard_close(g, a);
	guard_close(g, b);
	guard_free(g);
	for (int i = 0; i < 2; i++) {
		close(pa[i]);
		close(pb[i]);
	}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_http_guard__uri),
	cmocka_unit_test(test_http_guard__framing),
	cmocka_unit_test(test_http_guard__cap_spares_waiting_header),
	cmocka_unit_test(test_http_guard__grace_is_a_whole_second))
