/*
 * backup.h - one file that holds everything a data directory needs to come
 * back: a consistent copy of the database (SQLite's online backup API, safe
 * while `atlas serve` writes), the PKI, keys, the JWT key, the TLS pair and
 * the rendered engine configs, with a manifest (Atlas version, schema
 * version, size, mode and SHA-256 of each member).
 *
 * Format (version 1), all in one file, mode 0600:
 *   "ATLAS-BACKUP 1\n" "<manifest length>\n" <manifest JSON>
 *   <the members' bytes, in manifest order>
 *   "sha256 <hex of every byte before this line>\n"
 * A truncated, extended or edited archive fails the trailer or a member's
 * hash and is refused before anything is written.
 *
 * Left out: run/ (pid files, sockets of running daemons), backups/, and the
 * database's own -wal/-shm files (the copy is whole without them).
 */
#ifndef ATLAS_BACKUP_H
#define ATLAS_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define BACKUP_SUFFIX	   ".atlas-backup"
#define BACKUP_AUTO_KEEP   5

struct backup_info {
	char atlas_version[32];
	int schema_version;
	char created_at[32]; /* UTC, ISO 8601 */
	size_t members;
	uint64_t bytes;	     /* of all members */
};

/*
 * Writes an archive of datadir to file (atomically, 0600). Fails without a
 * database in datadir. info (may be NULL) describes what was written.
 */
int backup_create(const char *datadir, const char *file, struct backup_info *info,
		  struct atlas_err *err);

/*
 * Reads and checks an archive: format, trailer hash, manifest, every
 * member's size and hash, safe member paths, the database's
 * PRAGMA integrity_check and its schema version (refused when newer than
 * this Atlas knows). Writes nothing.
 */
int backup_verify(const char *file, struct backup_info *info, struct atlas_err *err);

/*
 * Restores file into datadir after backup_verify. datadir must be missing
 * or empty; with force a non-empty one is replaced, after it was itself
 * backed up into datadir/backups/pre-restore-TIME.atlas-backup (kept, path
 * in *saved, new string; NULL otherwise); its backups/ and run/ (the pid
 * files and sockets of the engines running on this host) move over. The new
 * directory is built beside datadir and renamed into place: on any error
 * datadir is unchanged.
 * The caller makes sure no `atlas serve` uses datadir.
 */
int backup_restore(const char *file, const char *datadir, int force, char **saved,
		   struct backup_info *info, struct atlas_err *err);

/*
 * The automatic backup before a schema migration:
 * datadir/backups/pre-migration-vN-TIME.atlas-backup, then only the newest
 * BACKUP_AUTO_KEEP such files are kept. *path (may be NULL) gets its path.
 */
int backup_before_migration(const char *datadir, int from_version, char **path,
			    struct atlas_err *err);

#endif
