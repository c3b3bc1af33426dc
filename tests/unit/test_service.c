/*
 * test_service.c - daemons started directly (controller/service.c): a
 * daemon that runs Atlas's command line but is not in the pid file (an
 * atlas killed between spawning it and writing the pid file left it, as
 * t71 found) is stopped before a new one starts, so two never run; a
 * process with another command line is left alone.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/spawn.h"
#include "controller/service.h"

static pid_t pidfile_pid(const char *path)
{
	struct buf b = BUF_INIT;
	long v = 0;

	if (file_read(path, 64, &b, NULL) == 0)
		v = strtol(buf_str(&b), NULL, 10);
	buf_release(&b);
	return (pid_t)v;
}

/*
 * Waits until pid runs its program: posix_spawn returns before the child's
 * exec is through (its command line is empty for a moment). A daemon that
 * a killed atlas left behind has been running for a while.
 */
static void wait_exec(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	for (int i = 0; i < 200; i++) {
		struct buf b = BUF_INIT;
		int ran = file_read(path, 4096, &b, NULL) == 0 && b.len > 0;

		buf_release(&b);
		if (ran)
			return;
		usleep(5000);
	}
	fail_msg("pid %ld never ran its program", (long)pid);
}

/* 1 while pid runs (reaped first when it is our dead child). */
static int alive(pid_t pid)
{
	waitpid(pid, NULL, WNOHANG);
	return kill(pid, 0) == 0;
}

static void test_service__unrecorded_daemon_is_replaced(void **state)
{
	char *dir = tu_tmpdir();
	char *pidfile = xasprintf("%s/x.pid", dir), arg[32];
	struct atlas_err err = {0};
	const char *argv[] = { "sleep", arg, NULL };
	const char *other_argv[] = { "sleep", "4242.5", NULL };
	struct service svc = { "sleeper", NULL, argv, pidfile, NULL };
	pid_t orphan, other, now;

	(void)state;
	/* a command line no other process of the machine has */
	snprintf(arg, sizeof(arg), "%ld.25", 100000L + (long)getpid());
	other = spawn_daemon(other_argv, NULL, &err);
	orphan = spawn_daemon(argv, NULL, &err); /* no pid file: what a killed atlas leaves */
	assert_true(orphan > 0 && other > 0);
	wait_exec(orphan);
	wait_exec(other);
	assert_int_equal(service_running(SERVICE_DIRECT, &svc, NULL, &err), 0);
	assert_int_equal(service_start(SERVICE_DIRECT, &svc, &err), 0);
	now = pidfile_pid(pidfile);
	assert_true(now > 0);
	assert_true(now != orphan);
	assert_false(alive(orphan));
	assert_true(alive(now));
	assert_true(alive(other)); /* another command line is not ours */
	assert_int_equal(service_running(SERVICE_DIRECT, &svc, NULL, &err), 1);
	/* started again while it runs: nothing happens */
	assert_int_equal(service_start(SERVICE_DIRECT, &svc, &err), 0);
	assert_int_equal(pidfile_pid(pidfile), now);
	assert_int_equal(service_stop(SERVICE_DIRECT, &svc, &err), 0);
	assert_false(alive(now));
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	free(pidfile);
	tu_rmrf_free(dir);
}

TU_MAIN(NULL, NULL, cmocka_unit_test(test_service__unrecorded_daemon_is_replaced))
