/*
 * drivers.c - the table of engine drivers, in apply order.
 */
#include <stddef.h>

#include "driver.h"
#include "ovpn_driver.h"
#include "wg.h"

const struct driver *const atlas_drivers[] = {
	&wg_driver,
	&ovpn_driver,
	NULL,
};
