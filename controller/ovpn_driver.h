/*
 * ovpn_driver.h - the OpenVPN engine driver: what it observes, the actions
 * its pure diff plans, and the file layout it manages.
 *
 * Files: DATADIR/pki/ (pki.h), DATADIR/openvpn/server.conf, ccd/NAME,
 * status.log, openvpn.log; RUNDIR/ovpn.sock (management) and
 * RUNDIR/openvpn.pid (direct mode).
 */
#ifndef ATLAS_OVPN_DRIVER_H
#define ATLAS_OVPN_DRIVER_H

#include "../lib/strv.h"
#include "driver.h"
#include "ovpn_mgmt.h"
#include "pki.h"
#include "service.h"

extern const struct driver ovpn_driver;

struct ovpn_files {
	char *pki, *dir, *conf, *ccd, *status, *log, *mgmt, *pidfile;
	char *unit;		/* systemd unit: openvpn-server@atlas unless configured */
	char *unit_conf;	/* /etc/openvpn/server/NAME.conf for openvpn-server@NAME, or NULL */
	const char *argv[4];	/* openvpn --config CONF */
	struct service svc;
};

/* unit: NULL for openvpn-server@atlas. Pure (no environment read here). */
void ovpn_files_init(struct ovpn_files *f, const char *datadir, const char *rundir,
		     const char *unit);
void ovpn_files_release(struct ovpn_files *f);

struct ovpn_ccd_file {
	char *name;
	char *text;
	long long mtime;	/* unix seconds */
};

/* What observe() read. Lists are sorted by name. */
struct ovpn_obs {
	int incomplete;		/* something could not be read: nothing is removed */
	char note[512];
	int has_ca, has_tls_crypt, server_cert;
	char *server_cn;
	struct strv certs;	/* CNs with a valid index entry and issued/CN.crt */
	struct strv valid;	/* CNs with a valid index entry */
	struct pki_crl_info crl;
	char *server_conf;	/* the file on disk; NULL when missing */
	struct ovpn_ccd_file *ccd;
	size_t nccd;
	int running;
	int service_unknown;	/* whether it runs could not be told */
	long pid;
	int sessions_known;
	struct ovpn_status sessions;
};

enum ovpn_op {
	OVPN_OP_CA, OVPN_OP_TLS_CRYPT, OVPN_OP_ISSUE_SERVER, OVPN_OP_ISSUE, OVPN_OP_REVOKE,
	OVPN_OP_CRL, OVPN_OP_CCD_WRITE, OVPN_OP_CCD_REMOVE, OVPN_OP_CONF_WRITE, OVPN_OP_START,
	OVPN_OP_RESTART, OVPN_OP_STOP, OVPN_OP_KILL,
};

/* The data of each openvpn action. */
struct ovpn_act {
	enum ovpn_op op;
	char *name;		/* client / CN / file name */
	char *text;		/* content to write (CCD, server.conf) */
	unsigned long cid;	/* OVPN_OP_KILL */
};

void ovpn_obs_free(void *obs);

/*
 * Observes the engine. A missing PKI or daemon is a fact, not a failure;
 * an unreadable index fails; an unreadable management socket or CCD folder
 * marks the observation incomplete.
 */
int ovpn_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
		 struct atlas_err *err);

/* Pure: plans CA, certificates, revocations, CRL, CCD, server, kills, in that order. */
int ovpn_diff(const struct driver_ctx *ctx, const struct atlas_state *desired,
	      const void *obs, struct plan *plan, struct atlas_err *err);

int ovpn_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
	       struct action *v, size_t n, json_t *results, struct atlas_err *err);

/*
 * Live status for the API and metrics (new object): {running, pid,
 * sessions:[{name, real_address, virtual_address, bytes_received,
 * bytes_sent, connected_since, client_id}], error}.
 */
json_t *ovpn_status_json(const struct driver_ctx *ctx, const struct atlas_state *desired);

/*
 * Appends the inline .ovpn of client name (desired state + the PKI under
 * datadir) to out. ERR_NOTFOUND when the client does not exist or has no
 * certificate yet; out then holds nothing new. The text holds a private key.
 */
int ovpn_profile(const char *datadir, const struct atlas_state *st, const char *name,
		 struct buf *out, struct atlas_err *err);

/* ovpn_hooks.c: profiles and restarts for `atlas serve` (driver.h). */
int ovpn_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		       const char *resource, const char *format, struct buf *out,
		       struct atlas_err *err);
int ovpn_restart(const struct driver_ctx *ctx, const struct atlas_state *desired,
		 json_t *results, struct atlas_err *err);

/* Renders server.conf for desired with the paths of f (pure). */
int ovpn_render_server_for(const struct atlas_state *desired, const struct ovpn_files *f,
			   const char *server_cn, struct buf *out, struct atlas_err *err);

/* 1 when the sorted vector sv holds s (binary search). */
int ovpn_sorted_has(const struct strv *sv, const char *s);

#endif
