/*
 * ovpn_hooks.c - the OpenVPN driver's hooks for `atlas serve` (driver.h):
 * a client's inline .ovpn profile (client_config) and a restart of the
 * daemon on purpose (restart, POST /api/v1/openvpn/restart).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/openvpn/ovpn.h"

int ovpn_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       const char *resource, const char *format, struct buf *out,
		       struct atlas_err *err)
{
	if (strcmp(format, "ovpn"))
		return err_set(err, ERR_UNSUPPORTED, "openvpn has no client file \"%s\"", format);
	return ovpn_profile(ctx->datadir, desired, resource, out, err);
}

int ovpn_restart(const struct driver_ctx *ctx, const struct atlas_state *desired, json_t *results,
		 struct atlas_err *err)
{
	struct ovpn_files f;
	int rc;

	if (!desired->has_openvpn || !desired->openvpn.enabled)
		return err_set(err, ERR_INVALID, "openvpn is not managed or not enabled");
	ovpn_files_init(&f, ctx->datadir, ctx->rundir, getenv("ATLAS_OVPN_UNIT"));
	rc = service_restart(ctx->service_mode, &f.svc, err);
	plan_result(results, "! openvpn restart", rc == 0, err->msg);
	ovpn_files_release(&f);
	return rc;
}
