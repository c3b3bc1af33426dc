/*
 * test_http_guard.c - the checks before routing (issue 16.5, 16.6): raw
 * request targets with encoded NUL, control or path bytes, bad escapes;
 * duplicate Content-Length and Content-Length with Transfer-Encoding.
 */
#include "testutil.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_guard__uri),
		cmocka_unit_test(test_http_guard__framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
