/*
 * fault.c - see fault.h.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fault.h"

void fault_point(const char *name)
{
	const char *want = getenv("ATLAS_FAULT");

	if (want && !strcmp(want, name))
		kill(getpid(), SIGKILL);
}
