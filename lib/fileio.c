/*
 * fileio.c - atomic writes (temp file, fsync, rename) and capped reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

static int fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd, ret;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct atlas_err *err)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	const char *p = data;
	int fd, ret = -1;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_set(err, ERR_IO, "cannot create a temporary file for \"%s\": %s", path,
			strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) < 0) {
		err_set(err, ERR_IO, "chmod \"%s\": %s", tmp, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, ERR_IO, "write \"%s\": %s", tmp, strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		err_set(err, ERR_IO, "fsync \"%s\": %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, ERR_IO, "close \"%s\": %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(err, ERR_IO, "rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
		goto fail;
	}
	fsync_dir_of(path);
	ret = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	return ret;
}

int file_read(const char *path, size_t max, struct buf *out, struct atlas_err *err)
{
	char chunk[65536];
	size_t total = 0;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
			       "cannot open \"%s\": %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, ERR_IO, "read \"%s\": %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			err_set(err, ERR_INVALID, "\"%s\" is larger than %zu bytes", path, max);
			goto out;
		}
		buf_add(out, chunk, (size_t)n);
	}
	if (!out->data)
		buf_grow(out, 0), out->data[0] = '\0';
	ret = 0;
out:
	close(fd);
	return ret;
}

int mkdir_p(const char *dir, mode_t mode, struct atlas_err *err)
{
	char *copy = xstrdup(dir);
	char *p = copy;
	int ret = -1;

	while (*p == '/')
		p++;
	for (;;) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (*copy && mkdir(copy, mode) < 0 && errno != EEXIST) {
			err_set(err, ERR_IO, "cannot create directory \"%s\": %s", copy,
				strerror(errno));
			goto out;
		}
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
