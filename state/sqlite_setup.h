/*
 * sqlite_setup.h - how SQLite is set up before its first use in a process.
 */
#ifndef ATLAS_SQLITE_SETUP_H
#define ATLAS_SQLITE_SETUP_H

/*
 * Before SQLite starts (call it before any first use: the store's opens and
 * backup.c do): no connection makes a bulk allocation of cache pages when
 * it opens. Once; any thread.
 */
void sqlite_setup_once(void);

#endif
