/*
 * drivers.c - the table of engine drivers, in apply order, and what every
 * driver and the controller share about it: the lookup by name and the
 * shape of one step's result.
 */
#include <stddef.h>
#include <string.h>

#include "controller/driver.h"
#include "controller/openvpn/ovpn.h"
#include "controller/wireguard/wg.h"

const struct driver *const atlas_drivers[] = {
	&wg_driver,
	&ovpn_driver,
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

void driver_result(json_t *results, const char *text, int ok, const char *msg)
{
	json_array_append_new(results, json_pack("{s:s, s:b, s:s?}", "text", text, "ok", ok,
						 "error", ok ? NULL : msg));
}
