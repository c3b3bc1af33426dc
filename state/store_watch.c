/*
 * store_watch.c - the claim `atlas serve --watch` keeps on the desired state
 * (the meta row "watch": pid, start time, boot id and the watched file), so
 * edits through the API or the command line are refused while a file is the
 * source of truth. A claim whose process is gone, or was another boot's,
 * counts as none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/proc.h"
#include "state/store.h"
#include "state/store_int.h"

/* The boot's id (new): a pid and start time repeat across boots. */
static char *boot_id(void)
{
	struct buf b = BUF_INIT;

	if (file_read("/proc/sys/kernel/random/boot_id", 256, &b, NULL) < 0 || !b.len)
		buf_puts(&b, "-");
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

int store_watch_claim(struct store *s, const char *file, struct atlas_err *err)
{
	long long start = 0;
	char *v, *boot;
	int ret;

	if (proc_stat((long)getpid(), NULL, &start) < 0)
		return err_set(err, ERR_IO, "cannot read this process's start time");
	/* checked and claimed under one write lock: two watches starting at once see each other */
	if (store_exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (store_watch_check(s, err) < 0) {
		store_exec(s, "ROLLBACK", NULL);
		return -1;
	}
	boot = boot_id();
	v = xasprintf("%ld %lld %s %s", (long)getpid(), start, boot, file);
	ret = store_meta_set(s, "watch", v, err);
	store_exec(s, ret == 0 ? "COMMIT" : "ROLLBACK", NULL);
	free(v);
	free(boot);
	return ret;
}

/* The live process (not this one) that claimed the state: its pid and file (new), or 0. */
static long watch_owner(struct store *s, char **file)
{
	char *v = store_meta_get(s, "watch"), *boot = NULL, state = 0, theirs[64];
	long pid = 0;
	long long start = 0, now = 0;
	int at = 0;

	*file = NULL;
	if (v && v[0] && sscanf(v, "%ld %lld %63s %n", &pid, &start, theirs, &at) == 3 && at > 0 &&
	    pid > 0 && pid != (long)getpid() && !strcmp(theirs, (boot = boot_id())) &&
	    proc_stat(pid, &state, &now) == 0 && state != 'Z' && state != 'X' && now == start)
		*file = xstrdup(v + at);
	else
		pid = 0;
	free(boot);
	free(v);
	return pid;
}

void store_watch_release(struct store *s)
{
	char *v = store_meta_get(s, "watch");
	long pid = 0;

	if (v && sscanf(v, "%ld", &pid) == 1 && pid == (long)getpid())
		store_meta_set(s, "watch", "", NULL);
	free(v);
}

int store_watch_check(struct store *s, struct atlas_err *err)
{
	char *file;
	long pid = watch_owner(s, &file);

	if (!pid)
		return 0;
	err_set(err, ERR_CONFLICT,
		"the desired state is kept in %s by `atlas serve --watch` (pid %ld): edit that "
		"file instead (or stop that server first); nothing was changed",
		file, pid);
	free(file);
	return -1;
}
