/*
 * spawn.h - the one way Atlas runs another program.
 *
 * argv is an array handed to posix_spawn: no shell ever sees it, so no name
 * or field can inject a command. The program is looked up once in a fixed
 * list of system directories (never $PATH from the environment), runs with a
 * small explicit environment, stdin from /dev/null (or a given buffer), its
 * output captured up to a cap, and is killed with SIGKILL at its timeout.
 */
#ifndef ATLAS_SPAWN_H
#define ATLAS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"

/* How long a program may run when spawn_opts.timeout_ms is 0 (ip, nft, openssl). */
#define SPAWN_TIMEOUT_MS 10000

struct spawn_opts {
	const char *stdin_data;	/* NULL: /dev/null */
	size_t stdin_len;
	size_t out_cap;		/* bytes of stdout kept; 0: 1 MiB */
	int timeout_ms;		/* then SIGKILL; 0: SPAWN_TIMEOUT_MS */
	const char *const *env;	/* NULL: PATH and LANG=C only */
};

struct spawn_result {
	struct buf out;		/* stdout, capped */
	struct buf errout;	/* stderr, capped at 64 KiB */
	int exited;		/* 1 when it exited normally */
	int status;		/* exit code when exited, else the signal */
	int timed_out;
	int truncated;		/* output exceeded out_cap */
};

/*
 * Finds the absolute path of a program by name in the system directories.
 * Returns a string valid for the life of the process (found paths are cached;
 * thread-safe), or NULL when the program is not installed. An absolute name
 * is returned itself (borrowed from the caller) when it is executable.
 */
const char *spawn_which(const char *name);

/*
 * Runs argv[0] (a bare name, looked up with spawn_which, or an absolute
 * path) and waits for it. Returns 0 when the program ran (whatever its exit
 * status: read res), -1 when it could not be started (ERR_EXEC, "... is not
 * installed" when missing). res is initialised here; free it with
 * spawn_result_release().
 */
int spawn_run(const char *const argv[], const struct spawn_opts *opts,
	      struct spawn_result *res, struct atlas_err *err);

/*
 * Like spawn_run, but fails unless the program exits 0; the error message
 * then holds the program's name, status and the first line of its stderr.
 */
int spawn_check(const char *const argv[], const struct spawn_opts *opts,
		struct spawn_result *res, struct atlas_err *err);

void spawn_result_release(struct spawn_result *res);

/*
 * Starts argv in the background (a daemon supervised by Atlas), its stdout and
 * stderr appended to logfile (or /dev/null). Returns its pid, or -1.
 */
pid_t spawn_daemon(const char *const argv[], const char *logfile, struct atlas_err *err);

#endif
