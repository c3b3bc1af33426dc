/*
 * fault.h - named crash points for the crash tests. With ATLAS_FAULT=NAME in
 * the environment, fault_point("NAME") kills the process with SIGKILL at
 * that point, as a power loss or an OOM kill would: the tests then check
 * that the next run finishes or discards what was half done. Without the
 * variable a crash point costs one getenv.
 */
#ifndef ATLAS_FAULT_H
#define ATLAS_FAULT_H

void fault_point(const char *name);

#endif
