/*
 * sb.h - the sing-box engine driver: files, observation, the actions its
 * pure diff plans.
 *
 * Files (direct mode): DATADIR/singbox/ (0700): config.json (0600, holds
 * keys), config.check.json (a candidate while `sing-box check` runs),
 * ssm-cache.json (sing-box's SSM cache: the Shadowsocks user keys),
 * traffic.json (per-user byte totals Atlas has counted, sb_traffic.h) and
 * traffic.lock (its lock), sing-box.log;
 * RUNDIR/sing-box.pid. systemd mode: the unit (ATLAS_SB_UNIT, default
 * "sing-box", whose ExecReload sends SIGHUP) runs
 * `sing-box -D /var/lib/sing-box -C /etc/sing-box run`; Atlas writes
 * /etc/sing-box/config.json and reloads it with `systemctl reload`.
 *
 * Live users: Shadowsocks inbounds are "managed" (no users in the config);
 * their users are added and removed through the SSM API under /TAG. The
 * `api` service (127.0.0.1:api_port, bearer api_secret) lists connections
 * with their user and closes single ones.
 */
#ifndef ATLAS_SB_DRIVER_H
#define ATLAS_SB_DRIVER_H

#include <stdint.h>

#include "controller/driver.h"
#include "controller/service.h"
#include "controller/singbox/sb_adopt.h"
#include "controller/singbox/sb_api.h"
#include "controller/singbox/sb_ssm.h"

extern const struct driver sb_driver;

struct sb_files {
	char *dir, *conf, *check, *cache, *traffic, *log, *pidfile;
	char *unit;
	const char *binary;	/* settings.singbox_binary or "sing-box" (borrowed) */
	char *running_binary;	/* argv[0] of the running sing-box when it differs (owned) */
	char *adopted;		/* DATADIR/singbox/adopted.json (sb_adopt.h) */
	char **adopted_argv;	/* direct mode: the adopted process's command line */
	char *adopted_render;	/* the file is still as adopted: Atlas's rendering then */
	long adopted_pid;
	const char *argv[9];
	struct service svc;
};

/* Pure: the paths of the data directory and service mode of ctx (binary borrowed). */
void sb_files_init(struct sb_files *f, const struct driver_ctx *ctx, const char *binary,
		   const char *unit);
void sb_files_release(struct sb_files *f);

/*
 * Direct mode: when the process of the pid file runs our config with another
 * binary (settings.singbox_binary changed, or the section is gone and with it
 * the setting), takes that binary for argv[0], so the running daemon is still
 * recognised, reloaded and stopped. Cannot fail.
 */
void sb_files_adopt(struct sb_files *f);

/*
 * The files and process of f as they are now: an adoption record that
 * still holds (sb_adopt.h) first, else (direct mode) sb_files_adopt().
 */
void sb_files_select(struct sb_files *f, int service_mode);

/* The SSM users of one managed Shadowsocks inbound. */
struct sb_ssm_obs {
	char *inbound;
	int known;
	struct sb_ssm_users users;
};

struct sb_obs {
	int incomplete;		/* something could not be read: nothing is removed or cut */
	char note[512];
	int section;		/* the desired state has a singbox section */
	char *conf;		/* config.json on disk; NULL when missing */
	int files_left;		/* something of Atlas's is in DATADIR/singbox */
	int running;
	long pid;
	int conns_known;
	struct sb_conns conns;	/* open connections */
	struct sb_ssm_obs *ssm;	/* one per desired Shadowsocks inbound */
	size_t nssm;
	/*
	 * The adopted sing-box still runs its hand-written config (sb_adopt.h):
	 * Atlas's rendering of the state at adoption, and the TCP connections on
	 * the inbound ports (-1: unknown), as there is no api service to ask.
	 */
	char *adopted_render;
	long tcp_conns;
};

void sb_obs_free(void *obs);

enum sb_op {
	SB_OP_START,		/* write, check, ports, start */
	SB_OP_RELOAD,		/* traffic, write, check, ports, SIGHUP */
	SB_OP_STOP,
	SB_OP_REMOVE,		/* the section is gone: stop, remove the files */
	SB_OP_SSM_ADD,
	SB_OP_SSM_UPDATE,
	SB_OP_SSM_DELETE,
	SB_OP_SSM_SYNC,		/* the daemon was not observable: sync the whole inbound */
	SB_OP_CLOSE,		/* close one connection through the api service */
};

struct sb_act {
	enum sb_op op;
	char *inbound;		/* SSM ops */
	char *user;		/* SSM ops, CLOSE (for messages) */
	char *key;		/* SSM add/update: the user's key (secret) */
	char *conn;		/* CLOSE: the connection id */
	char *text;		/* START/RELOAD: the config (secret) */
	int key_bytes;
};

/* The rendered config.json of the desired state (new bytes in out). Pure. */
int sb_render_conf(const struct driver_ctx *ctx, const struct atlas_state *st, struct buf *out,
		   struct atlas_err *err);

int sb_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
	       struct atlas_err *err);
int sb_diff(const struct driver_ctx *ctx, const struct atlas_state *desired, const void *obs,
	    struct plan *plan, struct atlas_err *err);
int sb_apply(const struct driver_ctx *ctx, const struct atlas_state *desired, struct action *v,
	     size_t n, json_t *results, struct atlas_err *err);
int sb_leftovers(const struct driver_ctx *ctx);

/*
 * Live status (new object): {running, pid, started_at, connections,
 * users:[{name, connections, uplink_bytes, downlink_bytes}] sorted by name
 * (the API bisects it), error}. Byte
 * totals are what Atlas has counted so far (traffic.json) plus the open
 * connections; reading it updates traffic.json.
 */
json_t *sb_status_json(const struct driver_ctx *ctx, const struct atlas_state *desired);
/*
 * The same without the watcher: sb_status_json() (the driver's status
 * hook, called by `atlas serve`) also starts, the first time, a thread that
 * follows sing-box's connection stream for the rest of the process, so a
 * connection that opens and closes between two ticks is still counted.
 */
json_t *sb_status_read(const struct driver_ctx *ctx, const struct atlas_state *desired);

/*
 * A user's client file (driver.h): resource is the user's name; format
 * "json" (the sing-box client profile) or "links" (one share link a line).
 */
int sb_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     const char *resource, const char *format, struct buf *out,
		     struct atlas_err *err);

/*
 * Reads the connections (open and recently closed) and adds what each has
 * moved since the last read to traffic.json. Before every reload: the
 * reload resets sing-box's counters.
 */
int sb_traffic_sample(const struct driver_ctx *ctx, const struct atlas_state *st,
		      const struct sb_files *f, struct atlas_err *err);

/* "127.0.0.1:PORT" of the api / ssm-api services of st (new). */
char *sb_api_addr(const struct atlas_state *st);
char *sb_ssm_addr(const struct atlas_state *st);
/* The SSM path prefix of a managed inbound: "/TAG" (new). */
char *sb_ssm_prefix(const char *inbound);

/*
 * desired as the running sing-box sees it (*view, a shallow copy): the api
 * and ssm-api ports and the api secret of the config installed in f->conf,
 * which sing-box runs, rather than the desired ones. They differ when an
 * edit of the ports or secret waits to be applied, or in the apply before
 * its reload: the counters and connections are read where sing-box answers.
 * *hold keeps what view points to; free it after view. A missing or
 * unreadable config leaves desired's. The config is parsed again only when
 * the file changed.
 */
void sb_running_view(const struct atlas_state *desired, const struct sb_files *f,
		     struct atlas_state *view, char **hold);
/* Wipes and frees a secret (may be NULL). */
void free_secret(char *s);

/*
 * 0 when every port the inbounds of st listen on (and the api and ssm-api
 * ports) is free or held by pid (the running sing-box, 0: none); else -1
 * naming the port and who holds it.
 */
int sb_ports_check(const struct atlas_state *st, long pid, struct atlas_err *err);

#endif
