/*
 * drivers.c - the table of engine drivers, in apply order.
 */
#include <stddef.h>

#include "controller/driver.h"
#include "controller/openvpn/ovpn.h"
#include "controller/singbox/sb.h"
#include "controller/wireguard/wg.h"

const struct driver *const atlas_drivers[] = {
	&wg_driver,
	&ovpn_driver,
	&sb_driver,
	NULL,
};
