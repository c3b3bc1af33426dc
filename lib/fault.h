/*
 * fault.h - named crash points and injected failures for the crash and
 * fault tests.
 *
 * Crash points: with ATLAS_FAULT=NAME in the environment,
 * fault_point("NAME") kills the process with SIGKILL at that point, as a
 * power loss or an OOM kill would: the tests then check that the next run
 * finishes or discards what was half done. Without the variable a crash
 * point costs one getenv.
 *
 * Injected failures, in builds made with -DATLAS_FAULT_INJECT only (the
 * ASan test build; `make` leaves them out, so a release binary holds
 * neither the code nor the variable names): with ATLAS_FAULT_SPAWN=N the
 * Nth call of spawn_run()/spawn_daemon() of the process fails before it
 * starts anything, as when the program cannot be run; ATLAS_FAULT_WRITE=N
 * does that to the Nth file_write_atomic() (nothing written, the target
 * untouched). "N:K" fails K calls in a row from the Nth on (a fault
 * that lasts, for the retry backoff). Every counted call prints "fault: KIND call #K (WHAT)" to
 * stderr, so a run with a large N counts the calls of a whole apply.
 */
#ifndef ATLAS_FAULT_H
#define ATLAS_FAULT_H

void fault_point(const char *name);

enum fault_kind { FAULT_SPAWN, FAULT_WRITE };

#ifdef ATLAS_FAULT_INJECT
/* 1 when this call of kind is the one to fail (see above); what names it. */
int fault_inject(enum fault_kind kind, const char *what);
#else
static inline int fault_inject(enum fault_kind kind, const char *what)
{
	(void)kind;
	(void)what;
	return 0;
}
#endif

#endif
