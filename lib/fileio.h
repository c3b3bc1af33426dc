/*
 * fileio.h - reading files with a size cap and writing them atomically.
 */
#ifndef ATLAS_FILEIO_H
#define ATLAS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"

/*
 * Writes len bytes to path atomically: a temporary file in the same
 * directory, fsync, chmod to mode, rename over path, fsync of the directory.
 * On error path is untouched, the temporary file is removed and -1 returned.
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct atlas_err *err);

/*
 * The same write a piece at a time, for a text too large to hold whole:
 * file_atomic_open() creates the temporary file (mode set), each
 * file_atomic_put() appends to it, file_atomic_commit() fsyncs it and
 * renames it over path (path untouched until then), file_atomic_abort()
 * removes it. open releases f when it fails; after a failed put the caller
 * aborts; commit releases f either way (the temporary file goes on error).
 * abort accepts a released f.
 */
struct file_atomic {
	char *path;
	char *tmp;
	int fd;
};
int file_atomic_open(struct file_atomic *f, const char *path, mode_t mode,
		     struct atlas_err *err);
int file_atomic_put(struct file_atomic *f, const void *data, size_t len, struct atlas_err *err);
int file_atomic_commit(struct file_atomic *f, struct atlas_err *err);
void file_atomic_abort(struct file_atomic *f);

/*
 * Reads the whole file into out (appended). Fails with ERR_INVALID when the
 * file is larger than max bytes, ERR_NOTFOUND when it does not exist.
 */
int file_read(const char *path, size_t max, struct buf *out, struct atlas_err *err);

/* Creates dir and its parents with mode (like mkdir -p). */
int mkdir_p(const char *dir, mode_t mode, struct atlas_err *err);

/*
 * Removes what killed writers left under dir (4 levels deep, symlinks not
 * followed): temporary files of file_write_atomic ("NAME.tmp.PID.XXXXXX")
 * whose writer no longer runs, this process's own too when own_too is set
 * (at start, when none of its writes can be in flight), the pid-less
 * "NAME.tmp.XXXXXX" of older versions, and "*.new" staging folders (their
 * files, then the folder). Returns how many files went; cannot fail.
 */
size_t file_clean_stale(const char *dir, int own_too);

/* 1 when path exists, 0 otherwise. */
int file_exists(const char *path);

/*
 * The most telling of the last 20 lines of the log at path, into out: the
 * newest that holds one of needles (NULL-terminated), else the newest line.
 * "" when the file is missing or empty. Cannot fail.
 */
void file_last_line_with(const char *path, const char *const *needles, char *out, size_t len);

#endif
