/*
 * wg_hooks.c - the WireGuard driver's client files for `atlas serve`
 * (driver.h client_config): the wg-quick config of a peer and its QR code,
 * rendered from the desired state. Reads nothing, changes nothing.
 */
#include <string.h>

#include "renderers/wireguard/wg_render.h"
#include "controller/wireguard/wg.h"

int wg_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     const char *resource, const char *format, struct buf *out,
		     struct atlas_err *err)
{
	const char *slash = strchr(resource, '/');
	const struct wg_iface *ifc;
	const struct wg_peer *p;
	struct buf conf = BUF_INIT;
	char ifname[64];
	int ret = -1;

	(void)ctx;
	if (!slash || (size_t)(slash - resource) >= sizeof(ifname))
		return err_set(err, ERR_NOTFOUND, "no wireguard peer \"%s\"", resource);
	memcpy(ifname, resource, (size_t)(slash - resource));
	ifname[slash - resource] = '\0';
	ifc = desired->has_wireguard ? state_wg_iface(desired, ifname) : NULL;
	p = ifc ? state_wg_peer(ifc, slash + 1) : NULL;
	if (!p)
		return err_set(err, ERR_NOTFOUND, "no wireguard peer \"%s\"", resource);
	if (!strcmp(format, "conf")) {
		ret = render_wg_client(&desired->settings, ifc, p, out, NULL, err);
	} else if (!strcmp(format, "qr.svg")) {
		int byo = 0;

		/* a config without its key cannot be imported by scanning: the CLI refuses it too */
		if (render_wg_client(&desired->settings, ifc, p, &conf, &byo, err) < 0)
			;
		else if (byo)
			err_set(err, ERR_INVALID,
				"peer \"%s\" brings its own key: Atlas has no private key to put in a "
				"QR code (download the config and add the key yourself)",
				p->name);
		else
			ret = render_qr_svg(buf_str(&conf), out, err);
	} else {
		err_set(err, ERR_UNSUPPORTED, "wireguard has no client file \"%s\"", format);
	}
	buf_release_secure(&conf);
	return ret;
}
