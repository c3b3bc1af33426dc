/*
 * service.h - starting, stopping and watching a daemon, for every engine
 * that runs one (OpenVPN now, sing-box later).
 *
 * Two modes (ctx->service_mode, resolved already):
 *   SERVICE_SYSTEMD  `systemctl start|stop|restart|is-active UNIT`, argv only;
 *   SERVICE_DIRECT   Atlas starts argv itself (in the foreground of its own
 *                    process group, output appended to logfile) and keeps its
 *                    pid in pidfile. A pid counts as running only while
 *                    /proc/PID/cmdline is exactly argv, so a reused pid or a
 *                    zombie is never taken for the daemon.
 */
#ifndef ATLAS_SERVICE_H
#define ATLAS_SERVICE_H

#include <sys/types.h>

#include "lib/err.h"

/* How long systemctl may take to start, stop or restart a unit. */
#define SERVICE_TIMEOUT_MS 60000

struct service {
	const char *name;		/* for messages: "openvpn" */
	const char *unit;		/* systemd unit, e.g. "openvpn-server@atlas" */
	const char *const *argv;	/* direct mode: the command, NULL-terminated */
	const char *pidfile;		/* direct mode */
	const char *logfile;		/* direct mode; NULL: /dev/null */
};

/*
 * 1 when the service runs (*pid set when pid is not NULL; 0 when unknown),
 * 0 when it does not, -1 when that cannot be told (systemctl failed to run).
 */
int service_running(int mode, const struct service *svc, pid_t *pid, struct atlas_err *err);

/* Starts the service unless it runs already. */
int service_start(int mode, const struct service *svc, struct atlas_err *err);

/* Stops it (SIGTERM, then SIGKILL after 5 s in direct mode); stopped is success. */
int service_stop(int mode, const struct service *svc, struct atlas_err *err);

/* Stops and starts it (systemctl restart). */
int service_restart(int mode, const struct service *svc, struct atlas_err *err);

#endif
