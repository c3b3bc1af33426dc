/*
 * test_pki_heal.c - a PKI that lost its issued/ or private/ folder (a hand
 * clean-up, a partial restore) issues client certificates again: the next
 * run heals instead of failing with ENOENT forever.
 */
#include "tests/unit/testutil.h"

#include "controller/openvpn/pki.h"

static void test_pki_heal__lost_folders_made_again(void **state)
{
	static const char *const lost[] = { "issued", "private" };
	char *dir = tu_tmpdir();
	struct atlas_err err = { 0 };

	(void)state;
	assert_int_equal(pki_create_ca(dir, "Test CA", &err), 0);
	for (size_t i = 0; i < 2; i++) {
		struct pki_index idx = { 0 };
		char *sub = xasprintf("%s/%s", dir, lost[i]), *crt = pki_cert_path(dir, "alice");

		tu_rmrf(sub);
		unlink(crt);
		if (pki_issue(dir, &idx, "alice", 0, &err) < 0)
			fail_msg("with %s/ gone: %s", lost[i], err.msg);
		assert_true(access(crt, R_OK) == 0);
		pki_index_release(&idx);
		free(crt);
		free(sub);
	}
	tu_rmrf_free(dir);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_pki_heal__lost_folders_made_again))
