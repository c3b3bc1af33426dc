/*
 * test_static.c - the embedded panel files (api/api_static.c): each ui/
 * file has its gzip variant that decompresses to the same bytes and a
 * distinct ETag, and Accept-Encoding is read as RFC 9110 says (q=0 refuses).
 */
#include "testutil.h"

#include "api/api.h"

struct ui_file {
	const char *path;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;
	size_t gzlen;
	const char *etag;
};
extern const struct ui_file atlas_ui_files[];

static void test_static__accept_encoding(void **ts)
{
	static const struct {
		const char *ae;
		int want;
	} cases[] = {
	    {NULL, 0},
	    {"", 0},
	    {"identity", 0},
	    {"gzip", 1},
	    {"GZIP", 1},
	    {"gzip, deflate, br, zstd", 1},
	    {"br;q=1.0, gzip;q=0.8", 1},
	    {"deflate,gzip", 1},
	    {"gzip;q=0", 0},
	    {"gzip; q=0.0, br", 0},
	    {"*", 1},
	    {"*;q=0", 0},
	    {"x-gzip", 0},
	    {"gzipx", 0},
	};

	(void)ts;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (static_accepts_gzip(cases[i].ae) != cases[i].want)
			fail_msg("Accept-Encoding \"%s\": want %d",
				 cases[i].ae ? cases[i].ae : "(null)", cases[i].want);
}

static void test_static__gzip_variants(void **ts)
{
	size_t n = 0;

	(void)ts;
	for (const struct ui_file *f = atlas_ui_files; f->path; f++, n++) {
		const char *argv[] = {"gzip", "-dc", NULL};
		struct spawn_opts o = {(const char *)f->gz, f->gzlen, 4u << 20, 10000, NULL};
		struct atlas_err err = {0};
		struct spawn_result r;

		assert_true(f->gzlen > 0);
		assert_int_equal(strlen(f->etag), 20);
		/* The real gzip program reads it back to the very bytes. */
		assert_int_equal(spawn_check(argv, &o, &r, &err), 0);
		assert_int_equal(r.out.len, f->len);
		assert_memory_equal(r.out.data, f->data, f->len);
		spawn_result_release(&r);
		for (const struct ui_file *g = atlas_ui_files; g < f; g++)
			assert_string_not_equal(g->etag, f->etag);
	}
	assert_true(n >= 4); /* index.html, app.js, app.css, alpine */
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_static__accept_encoding),
	cmocka_unit_test(test_static__gzip_variants))
