/*
 * fileio.c - atomic writes (temp file, fsync, rename) and capped reads.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fault.h"
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

int file_atomic_open(struct file_atomic *f, const char *path, mode_t mode,
		     struct atlas_err *err)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (fault_inject(FAULT_WRITE, path))
		return err_set(err, ERR_IO, "write \"%s\": injected fault", path);
	/* the writer's pid in the name: file_clean_stale() tells a live write from a dead one */
	f->tmp = xasprintf("%s.tmp.%ld.XXXXXX", path, (long)getpid());
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		err_set(err, ERR_IO, "cannot create a temporary file for \"%s\": %s", path,
			strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
		return -1;
	}
	f->path = xstrdup(path);
	if (fchmod(f->fd, mode) < 0) {
		err_set(err, ERR_IO, "chmod \"%s\": %s", f->tmp, strerror(errno));
		file_atomic_abort(f);
		return -1;
	}
	return 0;
}

int file_atomic_put(struct file_atomic *f, const void *data, size_t len, struct atlas_err *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, ERR_IO, "write \"%s\": %s", f->tmp, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_atomic_commit(struct file_atomic *f, struct atlas_err *err)
{
	int fd = f->fd;

	if (fsync(fd) < 0) {
		err_set(err, ERR_IO, "fsync \"%s\": %s", f->tmp, strerror(errno));
		goto fail;
	}
	f->fd = -1;
	if (close(fd) < 0) {
		err_set(err, ERR_IO, "close \"%s\": %s", f->tmp, strerror(errno));
		goto fail;
	}
	fault_point("write-before-rename");
	if (rename(f->tmp, f->path) < 0) {
		err_set(err, ERR_IO, "rename \"%s\" to \"%s\": %s", f->tmp, f->path,
			strerror(errno));
		goto fail;
	}
	fsync_dir_of(f->path);
	free(f->tmp);
	f->tmp = NULL;
	file_atomic_abort(f);
	return 0;
fail:
	file_atomic_abort(f);
	return -1;
}

void file_atomic_abort(struct file_atomic *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
	f->fd = -1;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct atlas_err *err)
{
	struct file_atomic f;

	if (file_atomic_open(&f, path, mode, err) < 0)
		return -1;
	if (file_atomic_put(&f, data, len, err) < 0) {
		file_atomic_abort(&f);
		return -1;
	}
	return file_atomic_commit(&f, err);
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

/* 1 when s is n characters of mkostemp's alphabet and nothing else. */
static int is_suffix(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789") == n;
}

/*
 * The pid of a temporary file name "BASE.tmp.PID.XXXXXX", 0 for the older
 * "BASE.tmp.XXXXXX" (no pid), -1 when name is no temporary file.
 */
static long tmp_pid(const char *name)
{
	const char *t = NULL, *p;
	char *end;
	long pid;

	for (p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
		t = p; /* the last one */
	if (!t || t == name)
		return -1;
	t += 5;
	if (is_suffix(t, 6))
		return 0;
	pid = strtol(t, &end, 10);
	if (end == t || *end != '.' || pid <= 0 || !is_suffix(end + 1, 6))
		return -1;
	return pid;
}

static int pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Removes the regular files of a staging folder, then the folder. */
static size_t drop_staging(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *f;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		f = xasprintf("%s/%s", path, de->d_name);
		if (lstat(f, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(f) == 0)
			n++;
		free(f);
	}
	closedir(d);
	rmdir(path);
	return n;
}

static size_t clean_dir(const char *dir, int own_too, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat sb;
		size_t len = strlen(de->d_name);
		char *path;
		long pid;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &sb) < 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (len > 4 && !strcmp(de->d_name + len - 4, ".new"))
				n += drop_staging(path);
			else if (depth < 4)
				n += clean_dir(path, own_too, depth + 1);
		} else if (S_ISREG(sb.st_mode) && (pid = tmp_pid(de->d_name)) >= 0) {
			int ours = pid == (long)getpid();

			if ((pid == 0 || (ours ? own_too : !pid_alive(pid))) && unlink(path) == 0)
				n++;
		}
		free(path);
	}
	closedir(d);
	return n;
}

size_t file_clean_stale(const char *dir, int own_too)
{
	return clean_dir(dir, own_too, 0);
}

void file_last_line_with(const char *path, const char *const *needles, char *out, size_t len)
{
	struct buf b = BUF_INIT;
	const char *end, *s, *pick = NULL, *pick_end = NULL;

	out[0] = '\0';
	if (file_read(path, 16u << 20, &b, NULL) < 0 || !b.len) {
		buf_release(&b);
		return;
	}
	end = b.data + b.len;
	for (int n = 0; n < 20 && end > b.data; n++) {
		int hit = 0;

		while (end > b.data && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		s = end;
		while (s > b.data && s[-1] != '\n')
			s--;
		if (!pick_end)
			pick = s, pick_end = end;
		for (size_t k = 0; needles[k] && !hit; k++)
			hit = memmem(s, (size_t)(end - s), needles[k], strlen(needles[k])) != NULL;
		if (hit) {
			pick = s, pick_end = end;
			break;
		}
		end = s;
	}
	if (pick)
		snprintf(out, len, "%.*s", (int)(pick_end - pick), pick);
	buf_release(&b);
}
