/*
 * test_settings_tls.c - settings.tls_cert / tls_key: absolute paths given
 * together, each problem reported at its file:line:col with every other
 * problem of the file, and the pair round-trips through the YAML.
 */
#include "testutil.h"

#include "state/validate.h"

/* Every problem of text, formatted as f.yaml:LINE:COL: MESSAGE lines (new). */
static char *problems(const char *text)
{
	struct posmap pm = {0};
	struct diags d = {0};
	struct atlas_state *st = state_from_yaml(text, strlen(text), &d, &pm);
	struct buf b = BUF_INIT;

	assert_non_null(st);
	state_check(st, NULL, &pm, &d, NULL);
	diags_format(&d, "f.yaml", &b);
	diags_clear(&d);
	posmap_clear(&pm);
	state_free(st);
	return buf_detach(&b);
}

static void test_settings_tls__checked_with_positions(void **x)
{
	static const struct {
		const char *yaml, *want; /* want "": valid */
	} cases[] = {
	    {"version: 1\nsettings:\n  tls_cert: /etc/atlas/c.pem\n  tls_key: /etc/atlas/k.pem\n", ""},
	    {"version: 1\nsettings:\n  tls_cert: c.pem\n  tls_key: /k.pem\n",
	     "f.yaml:3:13: settings: tls_cert \"c.pem\" is not an absolute path"},
	    {"version: 1\nsettings:\n  tls_cert: /c.pem\n  tls_key: k.pem\n",
	     "f.yaml:4:12: settings: tls_key \"k.pem\" is not an absolute path"},
	    {"version: 1\nsettings:\n  tls_cert: /c.pem\n",
	     "f.yaml:3:13: settings: tls_cert and tls_key go together: tls_key is missing"},
	    {"version: 1\nsettings:\n  host: vpn.example.org\n  tls_key: /k.pem\n",
	     "f.yaml:4:12: settings: tls_cert and tls_key go together: tls_cert is missing"},
	};

	(void)x;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = problems(cases[i].yaml);

		if (*cases[i].want ? !strstr(p, cases[i].want) : *p != '\0')
			fail_msg("case %zu: want \"%s\", got:\n%s", i, cases[i].want, p);
		free(p);
	}
	/* all at once: both bad paths in one report */
	{
		char *p = problems("version: 1\nsettings:\n  tls_cert: a\n  tls_key: b\n");

		assert_non_null(strstr(p, "f.yaml:3:13: settings: tls_cert \"a\""));
		assert_non_null(strstr(p, "f.yaml:4:12: settings: tls_key \"b\""));
		free(p);
	}
}

static void test_settings_tls__round_trip(void **x)
{
	struct atlas_state *st =
	    tu_state("version: 1\nsettings:\n  tls_cert: /etc/c.pem\n  tls_key: /etc/k.pem\n");
	struct buf b = BUF_INIT;

	(void)x;
	assert_string_equal(st->settings.tls_cert, "/etc/c.pem");
	assert_string_equal(st->settings.tls_key, "/etc/k.pem");
	state_to_yaml(st, 0, &b);
	assert_non_null(strstr(buf_str(&b), "  tls_cert: /etc/c.pem\n  tls_key: /etc/k.pem\n"));
	buf_release(&b);
	state_free(st);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_settings_tls__checked_with_positions),
	cmocka_unit_test(test_settings_tls__round_trip))
