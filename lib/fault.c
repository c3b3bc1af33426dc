/*
 * fault.c - see fault.h.
 */
#include <signal.h>
#include <stdio.h>
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

#ifdef ATLAS_FAULT_INJECT
int fault_inject(enum fault_kind kind, const char *what)
{
	static const char *const vars[] = { "ATLAS_FAULT_SPAWN", "ATLAS_FAULT_WRITE" };
	static const char *const names[] = { "spawn", "write" };
	static unsigned long calls[2];
	const char *v = getenv(vars[kind]);
	unsigned long k, first, count = 1;
	char *end;

	if (!v || !*v)
		return 0;
	first = strtoul(v, &end, 10);
	if (*end == ':')
		count = strtoul(end + 1, NULL, 10);
	k = __atomic_add_fetch(&calls[kind], 1, __ATOMIC_SEQ_CST);
	if (k < first || k - first >= count) {
		fprintf(stderr, "fault: %s call #%lu (%s)\n", names[kind], k, what);
		return 0;
	}
	fprintf(stderr, "fault: %s call #%lu (%s) fails (injected)\n", names[kind], k, what);
	return 1;
}
#endif
