/*
 * sb_adopt.h - taking over a sing-box that already runs, as it runs.
 *
 * `atlas adopt singbox FILE` stores the desired state read from FILE. When a
 * sing-box process runs FILE (direct mode: found in /proc; systemd mode:
 * FILE is the unit's /etc/sing-box/config.json), Atlas records it in
 * DATADIR/singbox/adopted.json (0600): the config path and the SHA-256 of
 * its bytes, Atlas's own rendering of the adopted state, and in direct mode
 * the process's pid, start time and command line (also written to Atlas's
 * pid file). From then on the driver manages that process: it is "running",
 * its config path is the one Atlas writes, SIGHUP reloads it, a stop stops
 * it. While the file is still the adopted bytes and the desired state still
 * renders as it did at adoption, the process serves exactly the desired
 * state: the plan is empty and nothing is touched (no reload, no
 * connection dropped). The first change that does need a reload writes
 * Atlas's config.json to that path (with the api and ssm services) and the
 * plan says how many TCP connections it drops, counted from the kernel's
 * sockets (the hand-written config has no api service to ask).
 */
#ifndef ATLAS_SB_ADOPT_H
#define ATLAS_SB_ADOPT_H

#include <stddef.h>

#include "controller/driver.h"

struct sb_files;

/*
 * Records the sing-box that runs file (resolved to its real path) as
 * adopted, for the stored (completed) state st. dry_run: looks only. 1 when
 * a process was found (msg: which and what it means), 0 when none runs file
 * (msg: why, the plan then starts Atlas's own), -1 with err.
 */
int sb_adopt_running(const struct driver_ctx *ctx, const struct atlas_state *st, const char *file,
		     int dry_run, char *msg, size_t len, struct atlas_err *err);

/*
 * Applies the adoption record to f, when it still holds: the config path
 * and (direct mode) the command line of the adopted process become f's;
 * f->adopted_render is set while the file is still the adopted bytes.
 * A record whose process is gone or was replaced is ignored. Cannot fail.
 */
void sb_files_adopted(struct sb_files *f, int service_mode);

/* Hex SHA-256 of the file at path into out (empty when it cannot be read). */
void sb_file_sha256(const char *path, char out[65]);
/* The start time of pid (clock ticks since boot); 0 when it is gone. */
long long sb_proc_start_time(long pid);
/* /proc/PID/cmdline as a NULL-terminated array (new; NULL when unreadable). */
char **sb_proc_cmdline(long pid);
void sb_argv_free(char **v);

/* Forgets the adoption (Atlas starts its own sing-box). */
void sb_adopted_forget(const struct sb_files *f);

/*
 * The established TCP connections (IPv4 and IPv6) whose local port is one
 * of st's inbound ports, from /proc/net/tcp and tcp6 of this network
 * namespace: -1 when they cannot be read.
 */
long sb_tcp_conns(const struct atlas_state *st);

#endif
