/*
 * drivers.c - the table of engine drivers, in apply order.
 */
#include <stddef.h>

#include "driver.h"

const struct driver *const atlas_drivers[] = {
	NULL,
};
