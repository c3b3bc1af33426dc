/*
 * service.c - daemon control through systemd or directly with a pid file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/spawn.h"
#include "state/model.h"
#include "controller/service.h"

static int systemctl(const char *verb, const struct service *svc, struct atlas_err *err)
{
	const char *argv[] = { "systemctl", verb, svc->unit, NULL };
	struct spawn_opts o = { .timeout_ms = SERVICE_TIMEOUT_MS };
	struct spawn_result r;
	int ret = spawn_check(argv, &o, &r, err);

	spawn_result_release(&r);
	return ret;
}

static pid_t read_pidfile(const char *path)
{
	struct buf b = BUF_INIT;
	long v = 0;

	if (file_read(path, 64, &b, NULL) == 0)
		v = strtol(buf_str(&b), NULL, 10);
	buf_release(&b);
	return v > 1 ? (pid_t)v : 0;
}

/* 1 when /proc/PID/cmdline is exactly argv (a zombie's is empty). */
static int cmdline_is(pid_t pid, const char *const *argv)
{
	char *path = xasprintf("/proc/%ld/cmdline", (long)pid);
	struct buf b = BUF_INIT, want = BUF_INIT;
	int same = 0;

	if (file_read(path, 65536, &b, NULL) == 0) {
		for (size_t i = 0; argv[i]; i++)
			buf_add(&want, argv[i], strlen(argv[i]) + 1);
		same = b.len == want.len && b.len && !memcmp(b.data, want.data, b.len);
	}
	buf_release(&b);
	buf_release(&want);
	free(path);
	return same;
}

/* cmdline_is(), the daemon reaped first when it is our own dead child (atlas serve). */
static int pid_is(pid_t pid, const char *const *argv)
{
	waitpid(pid, NULL, WNOHANG);
	return cmdline_is(pid, argv);
}

/*
 * 1 while pid has not finished exiting. Its command line is empty from the
 * moment its memory is released, but its sockets (the port, the management
 * socket) close a little later: a daemon started in between cannot bind
 * them. Exited means reaped (our own child, pid_is() reaps it) or a zombie.
 */
static int pid_exiting(pid_t pid)
{
	char state;

	waitpid(pid, NULL, WNOHANG);
	return proc_stat(pid, &state, NULL) == 0 && state != 'Z' && state != 'X';
}

/*
 * A process that runs exactly argv (Atlas's own command line: its config
 * path is in the data directory) although the pid file does not name it:
 * an atlas killed between spawning the daemon and writing the pid file
 * left it behind. 0: none. Reads /proc/N/cmdline of every process: only
 * done when a daemon is about to be started.
 */
static pid_t find_unrecorded(const char *const *argv)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0, self = getpid();

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);

		if (*end || v <= 1 || (pid_t)v == self)
			continue;
		/* no waitpid here: another thread's child must keep its exit status */
		if (cmdline_is((pid_t)v, argv))
			found = (pid_t)v;
	}
	closedir(d);
	return found;
}

/* Stops pid, which runs svc's command: SIGTERM, then SIGKILL; waits until its sockets are closed. */
static int stop_pid(const struct service *svc, pid_t pid, struct atlas_err *err)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && pid_is(pid, svc->argv); i++)
		clock_sleep_ms(50);
	if (pid_is(pid, svc->argv)) {
		kill(pid, SIGKILL);
		for (int i = 0; i < 40 && pid_is(pid, svc->argv); i++)
			clock_sleep_ms(50);
	}
	if (pid_is(pid, svc->argv))
		return err_set(err, ERR_EXEC, "%s (pid %ld) does not stop", svc->name, (long)pid);
	/* gone for good, its sockets closed too (up to 2 s more) */
	for (int i = 0; i < 200 && pid_exiting(pid); i++)
		clock_sleep_ms(10);
	return 0;
}

int service_running(int mode, const struct service *svc, pid_t *pid, struct atlas_err *err)
{
	if (pid)
		*pid = 0;
	if (mode == SERVICE_SYSTEMD) {
		const char *argv[] = { "systemctl", "is-active", "--quiet", svc->unit, NULL };
		struct spawn_result r;
		int ret;

		if (spawn_run(argv, NULL, &r, err) < 0)
			return -1;
		ret = r.exited && r.status == 0;
		spawn_result_release(&r);
		return ret;
	}
	{
		pid_t p = read_pidfile(svc->pidfile);

		if (p && pid_is(p, svc->argv)) {
			if (pid)
				*pid = p;
			return 1;
		}
	}
	return 0;
}

int service_start(int mode, const struct service *svc, struct atlas_err *err)
{
	char text[32];
	pid_t pid;
	int rc;

	if (mode == SERVICE_SYSTEMD)
		return systemctl("start", svc, err);
	rc = service_running(mode, svc, NULL, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/*
	 * One left running without its pid file holds the port and the
	 * management socket, so a second one could not start; and what it read
	 * of its config may be older than the file now. It goes, then a new one
	 * starts (found by t71, which kills atlas apply at random moments).
	 */
	if ((pid = find_unrecorded(svc->argv)) > 0) {
		log_warn("%s (pid %ld) runs without its pid file (an atlas was killed while starting "
			 "it): stopping it, then starting %s again",
			 svc->name, (long)pid, svc->name);
		if (stop_pid(svc, pid, err) < 0)
			return err_wrap(err, "start %s", svc->name);
	}
	pid = spawn_daemon(svc->argv, svc->logfile, err);
	if (pid < 0)
		return err_wrap(err, "start %s", svc->name);
	snprintf(text, sizeof(text), "%ld\n", (long)pid);
	if (file_write_atomic(svc->pidfile, text, strlen(text), 0644, err) < 0) {
		kill(pid, SIGTERM);
		return -1;
	}
	return 0;
}

int service_stop(int mode, const struct service *svc, struct atlas_err *err)
{
	pid_t pid;

	if (mode == SERVICE_SYSTEMD)
		return systemctl("stop", svc, err);
	if (service_running(mode, svc, &pid, err) <= 0) {
		unlink(svc->pidfile);
		return 0;
	}
	if (stop_pid(svc, pid, err) < 0)
		return -1;
	unlink(svc->pidfile);
	return 0;
}

int service_restart(int mode, const struct service *svc, struct atlas_err *err)
{
	if (mode == SERVICE_SYSTEMD)
		return systemctl("restart", svc, err);
	if (service_stop(mode, svc, err) < 0)
		return -1;
	return service_start(mode, svc, err);
}
