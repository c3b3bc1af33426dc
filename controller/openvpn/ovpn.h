/*
 * ovpn.h - the OpenVPN engine driver: what it observes, the actions
 * its pure diff plans, and the file layout it manages.
 *
 * Files: DATADIR/pki/ (pki.h), DATADIR/openvpn/server.conf, ccd/NAME,
 * status.log, openvpn.log; RUNDIR/ovpn.sock (management) and
 * RUNDIR/openvpn.pid (direct mode). Clients reach the internet through
 * forwarding and the nftables table inet atlas_openvpn (nat.h), masquerading
 * the network out of the egress interface; RUNDIR/atlas_openvpn.{nft,list}
 * record that Atlas loaded it. With the openvpn section gone from the
 * desired state the driver tears down what it set up (ovpn_leftovers()):
 * the daemon is stopped (its tun device goes with it), server.conf, ccd/,
 * status.log and the systemd include are removed, and the NAT table goes.
 * The PKI stays: it is the clients' identity, and a section added back
 * later finds the same CA and certificates.
 */
#ifndef ATLAS_OVPN_DRIVER_H
#define ATLAS_OVPN_DRIVER_H

#include "lib/strv.h"
#include "controller/driver.h"
#include "controller/nat.h"
#include "controller/openvpn/ovpn_mgmt.h"
#include "controller/openvpn/pki.h"
#include "controller/service.h"
#include "renderers/openvpn/ovpn_render.h"

extern const struct driver ovpn_driver;

#define OVPN_NAT_TABLE "atlas_openvpn"

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
	int server_legacy;	/* server files still in issued/, private/: to move */
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
	int forward4, forward6;		/* 1, 0, or -1 unreadable */
	char *egress4, *egress6;	/* default route interfaces, NULL: none */
	struct nat_obs nat;		/* table inet atlas_openvpn */
	char *nat_error;		/* why nft could not be run, or NULL */
	int files;		/* section gone: server.conf, ccd/ or status.log still there */
};

enum ovpn_op {
	OVPN_OP_CA, OVPN_OP_TLS_CRYPT, OVPN_OP_MIGRATE_SERVER, OVPN_OP_ISSUE_SERVER, OVPN_OP_ISSUE, OVPN_OP_REVOKE,
	OVPN_OP_CRL, OVPN_OP_CCD_WRITE, OVPN_OP_CCD_REMOVE, OVPN_OP_CONF_WRITE, OVPN_OP_START,
	OVPN_OP_RESTART, OVPN_OP_STOP, OVPN_OP_KILL, OVPN_OP_NAT,
	OVPN_OP_FORGET,		/* section gone: remove the rendered files, keep the PKI */
};

/* The data of each openvpn action. */
struct ovpn_act {
	enum ovpn_op op;
	char *name;		/* client / CN / file name */
	char *text;		/* content to write (CCD, server.conf) */
	unsigned long cid;	/* OVPN_OP_KILL */
	enum nat_kind nat;	/* OVPN_OP_NAT: what to do (text: the script) */
	int family;		/* OVPN_OP_NAT, NAT_FORWARD: 4 or 6 */
};

void ovpn_obs_free(void *obs);

/*
 * 1 when the openvpn section is gone but Atlas left something of its own
 * behind: its NAT table (RUNDIR/atlas_openvpn.nft), a server.conf or ccd/
 * it rendered, or the pid file of a daemon it started. The controller then
 * plans the teardown.
 */
int ovpn_leftovers(const struct driver_ctx *ctx);
/*
 * Observes the engine (only the daemon, its sessions, the rendered files,
 * forwarding and the NAT table when the desired state has no openvpn
 * section). A missing PKI or daemon is a fact, not a failure;
 * an unreadable index fails; an unreadable management socket or CCD folder
 * marks the observation incomplete.
 */
int ovpn_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
		 struct atlas_err *err);

/*
 * Pure: plans CA, certificates, revocations, CRL, CCD, server, kills,
 * forwarding and NAT, in that order; the teardown (stop, rendered files,
 * NAT table; never the PKI) when the desired state has no openvpn section.
 */
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

/* The paths render_ovpn_server() writes into server.conf, from f (borrowed). */
struct ovpn_server_paths ovpn_server_paths_of(const struct ovpn_files *f);

/* 1 when the sorted vector sv holds s (binary search). */
int ovpn_sorted_has(const struct strv *sv, const char *s);

#endif
