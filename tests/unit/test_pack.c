/*
 * test_pack.c - state_pack(): the packed copy exports byte for byte like the
 * original (every kind of field, secrets included), shares no pointer with
 * it (the original is freed first; make asan catches any use after free),
 * and a state without sections packs too.
 */
#include <malloc.h>

#include "testutil.h"

#include "state/diag.h"
#include "state/model.h"
#include "state/pack.h"
#include "state/yaml.h"

static char *export_of(const struct atlas_state *st)
{
	struct buf b = BUF_INIT;

	state_to_yaml(st, 1, &b);
	return buf_detach(&b);
}

static void check_file(const char *path)
{
	struct diags d = {0};
	char *text = tu_read(path);
	struct atlas_state *st = state_from_yaml(text, strlen(text), &d, NULL);
	struct atlas_state *packed;
	char *want, *got;

	assert_non_null(st);
	want = export_of(st);
	packed = state_pack(st);
	state_free(st);
	got = export_of(packed);
	assert_string_equal(got, want);
	state_pack_free(packed);
	free(got);
	free(want);
	free(text);
	diags_clear(&d);
}

/* One case a list of state files (NULL-ended, in *s): each packed exports the same. */
static void test_pack__exports_the_same(void **s)
{
	for (const char *const *f = *s; *f; f++)
		check_file(*f);
}

static const char *const basic[] = { "tests/unit/golden/yaml/basic.in.yaml", NULL };
static const char *const empty_sections[] = { "tests/unit/golden/yaml/sections-empty.in.yaml",
					      "tests/unit/golden/yaml/minimal.in.yaml", NULL };

static void test_pack__new_state(void **s)
{
	struct atlas_state *st = state_new();
	struct atlas_state *packed = state_pack(st);
	char *want = export_of(st), *got = export_of(packed);

	(void)s;
	assert_string_equal(got, want);
	state_free(st);
	state_pack_free(packed);
	free(got);
	free(want);
}

/*
 * Equal lists and texts of one field in consecutive elements are one copy
 * in the block (every peer's default allowed_ips); the export is the same.
 */
static void test_pack__equal_values_shared(void **s)
{
	struct atlas_state *st = tu_state_checked(
	    "version: 1\nsettings: {host: h.example}\nwireguard:\n  interfaces:\n"
	    "    - name: wg0\n      listen_port: 1\n      address: [10.1.0.1/24]\n"
	    "      peers:\n        - {name: a, quota: 5GiB}\n        - {name: b, quota: 5GiB}\n"
	    "        - {name: c, allowed_ips: [10.0.0.0/8]}\n        - {name: d, quota: 6GiB}\n");
	struct atlas_state *packed = state_pack(st);
	const struct wg_peer *p = packed->wireguard.interfaces[0].peers;
	char *want = export_of(st), *got;

	(void)s;
	state_free(st);
	got = export_of(packed);
	assert_string_equal(got, want);
	assert_ptr_equal(p[0].allowed_ips.v, p[1].allowed_ips.v);
	assert_ptr_equal(p[0].quota, p[1].quota);
	assert_ptr_not_equal(p[1].allowed_ips.v, p[2].allowed_ips.v);
	assert_string_equal(p[2].allowed_ips.v[0], "10.0.0.0/8");
	assert_string_equal(p[3].allowed_ips.v[1], "::/0");
	assert_string_equal(p[3].quota, "6GiB");
	assert_ptr_not_equal(p[0].address.v, p[1].address.v);
	state_pack_free(packed);
	free(got);
	free(want);
}

/* The wipe before the free leaves none of the private key's bytes in the block. */
static void test_pack__wipe_leaves_no_secret(void **s)
{
	struct atlas_state *st = tu_state_checked(
	    "version: 1\nsettings: {host: h.example}\nwireguard:\n  interfaces:\n"
	    "    - name: wg0\n      listen_port: 1\n      address: [10.1.0.1/24]\n"
	    "      private_key: QLeQziCHMPxPMODnRdXO7rhLvKhOb2IGijIQW+512Hs=\n"
	    "      peers:\n        - {name: a}\n");
	struct atlas_state *packed = state_pack(st);
	unsigned char key[32];
	size_t n = malloc_usable_size(packed);

	(void)s;
	memcpy(key, st->wireguard.interfaces[0].private_key.b, sizeof(key));
	state_free(st);
	assert_non_null(memmem(packed, n, key, sizeof(key)));
	state_pack_wipe(packed);
	assert_null(memmem(packed, n, key, sizeof(key)));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(((unsigned char *)packed)[i], 0);
	state_pack_free(packed);
}

TU_MAIN(NULL, NULL,
	{ "test_pack__basic_exports_the_same", test_pack__exports_the_same, NULL, NULL,
	  (void *)basic },
	{ "test_pack__empty_sections_export_the_same", test_pack__exports_the_same, NULL, NULL,
	  (void *)empty_sections },
	cmocka_unit_test(test_pack__new_state),
	cmocka_unit_test(test_pack__equal_values_shared),
	cmocka_unit_test(test_pack__wipe_leaves_no_secret))
