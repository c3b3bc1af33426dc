/*
 * spawn.c - posix_spawn with pipes, a size cap, a timeout and no shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/spawn.h"

static const char *const sys_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C",
	NULL,
};

struct which_entry {
	char name[64];
	char *path;	/* owned for the life of the process */
};

/* Grows as needed: a path handed out must never be freed nor leaked. */
static pthread_mutex_t which_lock = PTHREAD_MUTEX_INITIALIZER;
static struct which_entry *which_cache;
static size_t which_n, which_cap;

const char *spawn_which(const char *name)
{
	const char *found = NULL;
	size_t i;

	if (name[0] == '/')
		return access(name, X_OK) == 0 ? name : NULL;
	if (strlen(name) >= sizeof(which_cache[0].name) || strchr(name, '/'))
		return NULL;
	pthread_mutex_lock(&which_lock);
	for (i = 0; i < which_n; i++)
		if (!strcmp(which_cache[i].name, name)) {
			found = which_cache[i].path;
			goto out;
		}
	for (i = 0; i < sizeof(sys_dirs) / sizeof(sys_dirs[0]); i++) {
		char *p = xasprintf("%s/%s", sys_dirs[i], name);
		struct stat st;

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
			found = p;
			break;
		}
		free(p);
	}
	/* Only successes are cached: a program installed later is found then. */
	if (found) {
		if (which_n == which_cap) {
			which_cap = which_cap ? which_cap * 2 : 32;
			which_cache = xrealloc(which_cache, which_cap * sizeof(*which_cache));
		}
		snprintf(which_cache[which_n].name, sizeof(which_cache[0].name), "%s", name);
		which_cache[which_n].path = (char *)found;
		which_n++;
	}
out:
	pthread_mutex_unlock(&which_lock);
	return found;
}

static void keep(struct buf *b, const char *data, size_t n, size_t cap, int *truncated)
{
	if (b->len + n > cap) {
		if (truncated)
			*truncated = 1;
		n = b->len < cap ? cap - b->len : 0;
	}
	buf_add(b, data, n);
}

/*
 * write() to the program's stdin without SIGPIPE: a program that exits before
 * reading all its input (wg on a bad argument) must give EPIPE, not kill
 * Atlas. SIGPIPE is blocked in this thread for the write, and a SIGPIPE it
 * raised is consumed before the old mask comes back; other threads and the
 * process's handlers are untouched.
 */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
	sigset_t pipe_set, old_set, pending;
	struct timespec zero = { 0, 0 };
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	n = write(fd, data, len);
	saved = errno;
	if (n < 0 && errno == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	errno = saved;
	return n;
}

/*
 * Reaps pid. A program can close its stdout and stderr and go on running:
 * the deadline still holds then (SIGKILL), so spawn_run never blocks past
 * its timeout. Polls with a short, growing sleep (no pidfd on glibc < 2.36).
 */
static void wait_child(pid_t pid, int64_t deadline, struct spawn_result *res, int *wstatus)
{
	long nap_us = 100;
	pid_t r;

	while ((r = waitpid(pid, wstatus, res->timed_out ? 0 : WNOHANG)) == 0 ||
	       (r < 0 && errno == EINTR)) {
		struct timespec ts;

		if (r < 0)
			continue;
		if (clock_mono_ms() >= deadline) {
			res->timed_out = 1;
			kill(pid, SIGKILL);
			continue;	/* now a blocking wait: SIGKILL ends it */
		}
		ts.tv_sec = 0;
		ts.tv_nsec = nap_us * 1000;
		nanosleep(&ts, NULL);
		if (nap_us < 20000)
			nap_us *= 2;
	}
}

static int set_attrs(posix_spawnattr_t *attr)
{
	sigset_t none, dfl;

	sigemptyset(&none);
	sigfillset(&dfl);
	sigdelset(&dfl, SIGKILL);
	sigdelset(&dfl, SIGSTOP);
	posix_spawnattr_init(attr);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &dfl);
	return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int spawn_run(const char *const argv[], const struct spawn_opts *opts,
	      struct spawn_result *res, struct atlas_err *err)
{
	static const struct spawn_opts defaults;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char *path;
	size_t cap, written = 0;
	int64_t deadline;
	pid_t pid;
	int ret = -1, rc, wstatus = 0;

	if (!opts)
		opts = &defaults;
	memset(res, 0, sizeof(*res));
	if (fault_inject(FAULT_SPAWN, argv[0]))
		return err_set(err, ERR_EXEC, "cannot run %s: injected fault", argv[0]);
	path = spawn_which(argv[0]);
	if (!path)
		return err_set(err, ERR_EXEC,
			       "%s is not installed (looked in /usr/local/sbin, /usr/local/bin, "
			       "/usr/sbin, /usr/bin, /sbin, /bin)",
			       argv[0]);
	cap = opts->out_cap ? opts->out_cap : 1 << 20;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (opts->stdin_data && pipe2(in, O_CLOEXEC) < 0)) {
		err_set(err, ERR_EXEC, "pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	if (opts->stdin_data)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	set_attrs(&attr);
	rc = posix_spawn(&pid, path, &fa, &attr, (char *const *)argv,
			 (char *const *)(opts->env ? opts->env : default_env));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		err_set(err, ERR_EXEC, "cannot run %s: %s", path, strerror(rc));
		goto out;
	}
	close(out[1]), out[1] = -1;
	close(errp[1]), errp[1] = -1;
	if (in[0] >= 0)
		close(in[0]), in[0] = -1;
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);

	deadline = clock_mono_ms() + (opts->timeout_ms ? opts->timeout_ms : SPAWN_TIMEOUT_MS);
	while (out[0] >= 0 || errp[0] >= 0) {
		struct pollfd pf[3];
		int nf = 0, i_out = -1, i_err = -1, i_in = -1;
		int64_t left = deadline - clock_mono_ms();
		char chunk[16384];

		if (left <= 0) {
			res->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (out[0] >= 0)
			pf[i_out = nf++] = (struct pollfd){ out[0], POLLIN, 0 };
		if (errp[0] >= 0)
			pf[i_err = nf++] = (struct pollfd){ errp[0], POLLIN, 0 };
		if (in[1] >= 0)
			pf[i_in = nf++] = (struct pollfd){ in[1], POLLOUT, 0 };
		if (poll(pf, (nfds_t)nf, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			kill(pid, SIGKILL);
			break;
		}
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t n = write_nosigpipe(in[1], opts->stdin_data + written,
						    opts->stdin_len - written);

			if (n > 0)
				written += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				written = opts->stdin_len;
			if (written >= opts->stdin_len)
				close(in[1]), in[1] = -1;
		}
		if (i_out >= 0 && pf[i_out].revents) {
			ssize_t n = read(out[0], chunk, sizeof(chunk));

			if (n > 0)
				keep(&res->out, chunk, (size_t)n, cap, &res->truncated);
			else if (n == 0 || errno != EINTR)
				close(out[0]), out[0] = -1;
		}
		if (i_err >= 0 && pf[i_err].revents) {
			ssize_t n = read(errp[0], chunk, sizeof(chunk));

			if (n > 0)
				keep(&res->errout, chunk, (size_t)n, 65536, NULL);
			else if (n == 0 || errno != EINTR)
				close(errp[0]), errp[0] = -1;
		}
	}
	wait_child(pid, deadline, res, &wstatus);
	if (WIFEXITED(wstatus)) {
		res->exited = 1;
		res->status = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		res->status = WTERMSIG(wstatus);
	}
	if (!res->out.data)
		buf_puts(&res->out, "");
	if (!res->errout.data)
		buf_puts(&res->errout, "");
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return ret;
}

int spawn_check(const char *const argv[], const struct spawn_opts *opts,
		struct spawn_result *res, struct atlas_err *err)
{
	const char *msg;
	char line[512];
	size_t len;

	if (spawn_run(argv, opts, res, err) < 0)
		return -1;
	if (res->exited && res->status == 0 && !res->timed_out)
		return 0;
	msg = buf_str(&res->errout);
	while (*msg == '\n' || *msg == ' ')
		msg++;
	len = strcspn(msg, "\r\n");
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	/*
	 * The message ends up in JSON (apply runs, the API) and on terminals:
	 * printable ASCII only, so no invalid UTF-8 and no escape sequences.
	 */
	for (size_t i = 0; i < len; i++)
		line[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	line[len] = '\0';
	msg = line;
	if (res->timed_out)
		return err_set(err, ERR_EXEC, "%s timed out and was killed", argv[0]);
	if (!res->exited)
		return err_set(err, ERR_EXEC, "%s was killed by signal %d", argv[0], res->status);
	return err_set(err, ERR_EXEC, "%s exited with status %d%s%.*s", argv[0], res->status,
		       len ? ": " : "", (int)len, msg);
}

void spawn_result_release(struct spawn_result *res)
{
	if (!res)
		return;
	buf_release(&res->out);
	buf_release(&res->errout);
}

pid_t spawn_daemon(const char *const argv[], const char *logfile, struct atlas_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char *path = spawn_which(argv[0]);
	pid_t pid;
	int rc;

	if (!path)
		return err_set(err, ERR_EXEC, "%s is not installed", argv[0]);
	if (fault_inject(FAULT_SPAWN, argv[0]))
		return err_set(err, ERR_EXEC, "cannot run %s: injected fault", argv[0]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, logfile ? logfile : "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	set_attrs(&attr);
	/* Its own process group: a Ctrl-C meant for the CLI does not reach it. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, path, &fa, &attr, (char *const *)argv, (char *const *)default_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0)
		return err_set(err, ERR_EXEC, "cannot run %s: %s", path, strerror(rc));
	return pid;
}
