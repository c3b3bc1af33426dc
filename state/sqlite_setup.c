/*
 * sqlite_setup.c - SQLite's process-wide settings, made before it starts.
 *
 * No connection makes a bulk allocation of 20 cache pages when it opens
 * (87 KB each, the same for every connection: in atlas serve the API's, the
 * loop's and the usage book's). SQLite then allocates cache pages one by
 * one, so sqlite3_db_release_memory() gives all of them back after a burst,
 * where the bulk block stayed, with pages of the heap around it. When
 * something in the process started SQLite before, the call is refused and
 * connections keep the default: harmless.
 */
#include <pthread.h>

#include <sqlite3.h>

#include "state/sqlite_setup.h"

static void setup(void)
{
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void sqlite_setup_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, setup);
}
