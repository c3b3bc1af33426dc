/*
 * test_service_mode.c - how the service mode is resolved
 * (controller_ctx_init): ATLAS_SERVICE_MODE first, then settings.service_mode,
 * and `auto` picks systemd only where systemd is PID 1 (/run/systemd/system
 * exists). The systemd side of auto runs for real in tests/e2e/t17-systemd.sh;
 * here, on a machine without systemd, auto must pick direct.
 */
#include <stdlib.h>

#include "testutil.h"

#include "controller/controller.h"
#include "lib/fileio.h"

static int mode_of(const char *yaml, const char *env)
{
	struct atlas_state *st = tu_state(yaml);
	struct driver_ctx ctx;
	int mode;

	assert_non_null(st);
	if (env)
		setenv("ATLAS_SERVICE_MODE", env, 1);
	else
		unsetenv("ATLAS_SERVICE_MODE");
	controller_ctx_init(&ctx, "/nonexistent", NULL, st);
	mode = ctx.service_mode;
	controller_ctx_release(&ctx);
	state_free(st);
	unsetenv("ATLAS_SERVICE_MODE");
	return mode;
}

static const char auto_yaml[] = "version: 1\n";
static const char systemd_yaml[] = "version: 1\nsettings:\n  service_mode: systemd\n";
static const char direct_yaml[] = "version: 1\nsettings:\n  service_mode: direct\n";

static void test_service_mode__auto_without_systemd(void **ts)
{
	(void)ts;
	/* The premise: this machine's PID 1 is not systemd. */
	if (file_exists("/run/systemd/system"))
		fail_msg("/run/systemd/system exists: run this test where systemd is not PID 1");
	assert_int_equal(mode_of(auto_yaml, NULL), SERVICE_DIRECT);
}

static void test_service_mode__settings_and_env(void **ts)
{
	(void)ts;
	/* settings.service_mode is taken as written... */
	assert_int_equal(mode_of(systemd_yaml, NULL), SERVICE_SYSTEMD);
	assert_int_equal(mode_of(direct_yaml, NULL), SERVICE_DIRECT);
	/* ...and the environment overrides it, both ways. */
	assert_int_equal(mode_of(systemd_yaml, "direct"), SERVICE_DIRECT);
	assert_int_equal(mode_of(direct_yaml, "systemd"), SERVICE_SYSTEMD);
	assert_int_equal(mode_of(auto_yaml, "systemd"), SERVICE_SYSTEMD);
	/* An unknown value is ignored: auto stays auto (direct here). */
	assert_int_equal(mode_of(systemd_yaml, "docker"), SERVICE_SYSTEMD);
	assert_int_equal(mode_of(auto_yaml, "docker"), SERVICE_DIRECT);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_service_mode__auto_without_systemd),
	cmocka_unit_test(test_service_mode__settings_and_env))
