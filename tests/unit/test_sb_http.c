/*
 * test_sb_http.c - the sing-box HTTP client's library loading (sb_http.h):
 * this program, linked like atlas, has no libcurl mapped until the first
 * request; a library that cannot be loaded gives an error naming it (and the
 * next call tries again); the first request loads libcurl and talks to a
 * one-shot HTTP server on loopback; URL path segments are percent-encoded.
 * The cases run in order: the first two need libcurl not yet loaded.
 */
#include "testutil.h"

#include <pthread.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "controller/singbox/sb_http.h"

/* 1 when a file whose name contains "libcurl" is mapped into this process. */
static int curl_mapped(void)
{
	struct buf maps = { 0 };
	int found;

	assert_int_equal(file_read("/proc/self/maps", 1u << 24, &maps, NULL), 0);
	found = strstr(maps.data, "libcurl") != NULL;
	buf_release(&maps);
	return found;
}

static void test_sb_http__not_linked(void **state)
{
	(void)state;
	assert_false(curl_mapped());
}

static void test_sb_http__missing_library(void **state)
{
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(sb_http_load("libcurl-atlas-missing.so.4", &err), -1);
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "libcurl-atlas-missing.so.4 cannot be loaded"));
	assert_non_null(strstr(err.msg, "apt-get install libcurl4"));
	assert_false(curl_mapped());
	/* a failure is not remembered: the real library loads next */
	assert_int_equal(sb_http_load(SB_HTTP_CURL_SONAME, &err), 0);
	assert_true(curl_mapped());
}

/* Answers one connection on the listening socket with a fixed response. */
static void *serve_once(void *arg)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				     "grpc-status: 7\r\nConnection: close\r\n\r\nok";
	int lfd = *(int *)arg, fd;
	char req[4096];

	fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		(void)!read(fd, req, sizeof(req));
		(void)!write(fd, answer, sizeof(answer) - 1);
		close(fd);
	}
	return NULL;
}

static void test_sb_http__request(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct sb_http_resp resp;
	struct atlas_err err = { 0 };
	struct sb_http_req req = { .method = "GET" };
	pthread_t th;
	char url[64];
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&th, NULL, serve_once, &lfd), 0);
	req.url = url;
	assert_int_equal(sb_http(&req, &resp, &err), 0);
	pthread_join(th, NULL);
	close(lfd);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.grpc_status, 7);
	assert_string_equal(resp.body.data, "ok");
	sb_http_resp_release(&resp);
}

static void test_sb_http__escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "alice", "alice" },
		{ "", "" },
		{ "A-z.0_9~", "A-z.0_9~" },
		{ "a b/c?d#e%", "a%20b%2Fc%3Fd%23e%25" },
		{ "\xc3\xbc+", "%C3%BC%2B" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = sb_http_escape(cases[i].in);

		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_sb_http__not_linked),
	cmocka_unit_test(test_sb_http__missing_library),
	cmocka_unit_test(test_sb_http__request),
	cmocka_unit_test(test_sb_http__escape))
