/*
 * drivers.c - the table of engine drivers, in apply order, and the one
 * lookup of a driver by name.
 */
#include <stddef.h>
#include <string.h>

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

const struct driver *driver_named(const struct driver *const *drivers, const char *name)
{
	if (!drivers)
		drivers = atlas_drivers;
	for (size_t i = 0; drivers[i]; i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}
