/*
 * wg.h - the WireGuard driver's insides: what observe() sees, the pure
 * diff, the actions apply() runs. Shared by wg_observe.c, wg_diff.c,
 * wg_apply.c and the unit tests; the rest of Atlas sees only `wg_driver`.
 *
 * Interfaces Atlas creates are recorded by their server config file,
 * DATADIR/wireguard/IF.conf: only those are ever deleted, never an
 * interface Atlas did not make.
 */
#ifndef ATLAS_WG_H
#define ATLAS_WG_H

#include <stdint.h>
#include <string.h>

#include "lib/strv.h"
#include "controller/driver.h"
#include "controller/nat.h"

#define WG_NAT_TABLE "atlas_wireguard"
#define WG_INSTALL_HINT "apt-get install wireguard-tools wireguard-go nftables"

/*
 * Limits of the programs the driver runs: their output and their time grow
 * with the number of peers (a dump of 10,000 peers is several MB).
 */
#define WG_DUMP_CAP		(256u << 20) /* bytes of `wg show IF dump` kept */
#define WG_DUMP_TIMEOUT_MS	60000	     /* the dump of an observation */
#define WG_STATUS_TIMEOUT_MS	30000	     /* the dump of a status tick: give up sooner */
#define WG_RUN_TIMEOUT_MS	120000	     /* an apply step: `wg addconf` of 1000 peers */
#define WG_GO_START_TIMEOUT_MS	30000	     /* wireguard-go creating its device */

struct wg_obs_peer {
	char public_key[KEY_B64];
	char preshared_key[KEY_B64];	/* secret; "" when none */
	struct strv allowed_ips;	/* sorted, as wg prints them */
	int keepalive;			/* 0: off */
	long long handshake;		/* epoch seconds, 0: never */
	unsigned long long rx, tx;
	char *endpoint;			/* NULL: none */
};

struct wg_obs_iface {
	char *name;
	int exists;		/* the link is there */
	int readable;		/* `wg show IF dump` worked */
	char *error;		/* why it is not readable */
	int up;
	int mtu;
	int listen_port;
	char public_key[KEY_B64];
	struct strv addresses;	/* "10.8.0.1/24", sorted; link-local ones left out */
	struct wg_obs_peer *peers;	/* sorted by public key */
	size_t npeers;
	int recorded;		/* DATADIR/wireguard/IF.conf exists: Atlas made it */
	struct buf conf;	/* secret: that file's bytes */
};

struct wg_obs {
	struct wg_obs_iface *ifaces;	/* desired ones and recorded ones, by name */
	size_t n;
	int forward4, forward6;		/* 1, 0, or -1 unreadable */
	char *egress4, *egress6;	/* default route interfaces, NULL: none */
	struct nat_obs nat;
	char *confdir;			/* DATADIR/wireguard */
};

enum wg_act_type {
	WG_CONF_WRITE,		/* (re)write DATADIR/wireguard/IF.conf */
	WG_IF_CREATE,		/* link, key, port, addresses, MTU, up */
	WG_IF_KEY,		/* private key */
	WG_IF_PORT,		/* listen port, only when it differs */
	WG_IF_ADDR_ADD,
	WG_IF_ADDR_DEL,
	WG_IF_MTU,
	WG_IF_UP,
	WG_IF_DELETE,		/* link down and gone, record removed */
	WG_CONF_FORGET,		/* record removed (no link left) */
	WG_PEER_REMOVE,
	WG_PEER_UPDATE,
	WG_PEER_CREATE,
	WG_FORWARD,		/* family in .port: 4 or 6 */
	WG_NAT_REPLACE,		/* .text: the nft script */
	WG_NAT_DELETE,
};

/* What changes in a WG_PEER_UPDATE. */
#define WG_SET_ALLOWED 1u
#define WG_SET_PSK 2u		/* set the desired PSK (from the desired state) */
#define WG_CLEAR_PSK 4u
#define WG_SET_KEEPALIVE 8u

/*
 * One planned step. It points into the desired state it was planned from
 * (the interface's name, the peer, its allowed IPs when already normal)
 * instead of copying them: 10,000 new peers are 10,000 small actions, not
 * 10,000 copies of a name, two keys and a list. That state must outlive the
 * action: controller_apply() frees each round's plan before the state, and
 * controller_plan() drops the data of the plan it returns (nothing applies
 * it). Secrets are never copied here: the PSK is read from the peer when
 * the action runs.
 */
struct wg_act {
	enum wg_act_type type;
	unsigned set;			/* create, update: WG_SET_* / WG_CLEAR_PSK */
	int port;			/* listen port / MTU / family */
	const char *iface;		/* in the state, or in name[]; NULL for NAT steps */
	const struct wg_peer *peer;	/* create, update: the desired peer */
	const struct strv *allowed;	/* create, update: the full desired list (normalised) */
	struct strv *own;		/* owned: that list when the peer's needed normalising */
	char *text;			/* owned: an address, the nft script, a removed peer's key */
	char name[];			/* an interface only observed (deleted, forgotten) */
};

/* The public key of a peer action (the desired peer's, or the removed one's). */
void wg_act_key(const struct wg_act *a, char out[KEY_B64]);
/* The PSK to set (secret: wipe out after use), "" when the action sets none. */
void wg_act_psk(const struct wg_act *a, char out[KEY_B64]);
/* The keepalive a create or update sets (0: off). */
int wg_act_keepalive(const struct wg_act *a);
void wg_act_free(void *a);

/*
 * strcmp() of two keys (the order peers are matched in), the first 8 bytes
 * compared as one word: a sort of 10,000 peers by key makes 140,000 of
 * these. Falls back to strcmp() when the words tie or hold a NUL.
 */
static inline int wg_key_cmp(const char *a, const char *b)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x != y && !((x - 0x0101010101010101u) & ~x & 0x8080808080808080u) &&
	    !((y - 0x0101010101010101u) & ~y & 0x8080808080808080u))
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
#else
		return x < y ? -1 : 1;
#endif
	return strcmp(a, b);
}

/* qsort() order of struct wg_obs_peer: by public key (here, not in
 * wg_observe.c: wg_uapi.c sorts too, and wg_observe.c calls it). */
static inline int wg_obs_peer_cmp(const void *a, const void *b)
{
	return wg_key_cmp(((const struct wg_obs_peer *)a)->public_key,
			  ((const struct wg_obs_peer *)b)->public_key);
}

/* The driver's callbacks (wg_observe.c, wg_diff.c, wg_apply.c). */
int wg_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
	       struct atlas_err *err);
void wg_obs_free(void *obs);
/*
 * 1 when the wireguard section is gone but Atlas left something behind: an
 * interface record DATADIR/wireguard/IF.conf or its NAT table
 * (RUNDIR/atlas_wireguard.nft). The controller then plans their removal:
 * every recorded interface deleted (wireguard-go exits with its device),
 * its record removed, the NAT table deleted.
 */
int wg_leftovers(const struct driver_ctx *ctx);
/* Live status: {"interfaces":[{name, up, listen_port, peer_lines}]} (new; driver.h). */
json_t *wg_status(const struct driver_ctx *ctx, const struct atlas_state *desired);
/*
 * Rewrites the text of `wg show IF dump` at its own start as the peer_lines
 * of the status: "KEY\tENDPOINT\tHANDSHAKE\tRX\tTX\n" a peer, the endpoint
 * "" when none, no secret and no allowed IPs. Returns their length (the rest
 * of text is to be wiped) and sets *listen_port; -1 on a malformed dump.
 * Pure.
 */
long wg_status_lines(char *text, int *listen_port);
/*
 * The status as `atlas wg status` prints it: each interface's peer_lines
 * replaced by "peers": [{"name" (the desired peer of that key, or null),
 * "public_key", "endpoint" (or null), "latest_handshake", "rx_bytes",
 * "tx_bytes", "connected" (a handshake live at now)}].
 */
void wg_status_named(json_t *status, const struct atlas_state *desired, time_t now);
/* Splits line on tabs (cut in place) into at most max fields; returns their number. */
size_t wg_split_tabs(char *line, char **f, size_t max);
int wg_diff(const struct driver_ctx *ctx, const struct atlas_state *desired, const void *obs,
	    struct plan *plan, struct atlas_err *err);
int wg_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
	     struct action *v, size_t n, json_t *results, struct atlas_err *err);

/*
 * Parses the text of `wg show IF dump` into ifc (listen port, public key,
 * peers sorted by key). Pure. text is cut up in place (no copy of 10,000
 * peers' worth of secrets); the caller wipes it. Returns -1 (ERR_INVALID) on
 * a malformed line.
 */
int wg_parse_dump(char *text, struct wg_obs_iface *ifc, struct atlas_err *err);
/*
 * Parses the reply of a UAPI get=1 (hex keys) into ifc like wg_parse_dump;
 * the interface's public key is derived from its private key. Pure but for
 * that derivation (OpenSSL). text is cut up in place. -1 on a malformed
 * reply or errno != 0.
 */
int wg_parse_uapi(char *text, struct wg_obs_iface *ifc, struct atlas_err *err);
/*
 * Sends get=1 to /var/run/wireguard/IF.sock and appends the whole reply to
 * out. ERR_NOTFOUND when there is no socket (kernel device, or none).
 */
int wg_uapi_get(const char *ifname, struct buf *out, struct atlas_err *err);
/*
 * Reads IF's device like wg_uapi_get() (a get=1 sent ahead, or a new one)
 * and parses the reply into ifc like wg_parse_uapi() as it arrives, 64 KiB
 * at a time: the whole reply (3 MB at 10,000 peers) is never held. *got is
 * 0 when the socket could not be read (ERR_NOTFOUND: there is none; ifc is
 * then as it was), 1 when a reply came; -1 then when it was malformed.
 */
int wg_uapi_observe(const char *ifname, struct wg_obs_iface *ifc, int *got,
		    struct atlas_err *err);
/*
 * Sends get=1 to IF's socket now and keeps the connection for the next
 * wg_uapi_get(IF), which reads the reply (asking again if that fails): the
 * device builds its reply while the caller does something else. Nothing
 * when there is no socket. wg_uapi_prefetch_drop() closes what was not read.
 */
void wg_uapi_prefetch(const char *ifname);
void wg_uapi_prefetch_drop(void);
/*
 * wg_uapi_prefetch() of every interface recorded under DATADIR/wireguard
 * (the ones Atlas made), unless ATLAS_WG_OBSERVE=dump: `atlas plan` calls
 * it before it loads the desired state.
 */
void wg_observe_prefetch(const char *datadir);
/*
 * Appends the UAPI lines of one peer to b (keys as hex: public_key,
 * preshared_key when psk is set, allowed_ip each, the keepalive when not
 * 0): the body of a set that adds it. -1 when a key is not one. Pure.
 */
int wg_uapi_peer_text(struct buf *b, const char *public_key, const char *psk,
		      const struct strv *allowed, int keepalive);
/*
 * Sends set=1 with body (lines of wg_uapi_peer_text) to IF's UAPI socket:
 * one change of the running device, no program run. ERR_NOTFOUND when
 * there is no socket (the kernel module), ERR_EXEC when the device refused.
 */
int wg_uapi_set(const char *ifname, const char *body, size_t len, struct atlas_err *err);
/* (Re)writes DATADIR/wireguard/IF.conf, the record of interface ifc (0600, atomic). */
int wg_write_record(const struct driver_ctx *ctx, const struct wg_iface *ifc,
		    struct atlas_err *err);
/*
 * The UAPI set body (without "set=1") that turns peer old into next on an
 * interface, either NULL (added, removed): old removed when it was on the
 * interface and next is not or has another key; next added when it belongs
 * there (a public key, active at now); the same key changed in place
 * (update_only: the session stays). Nothing for a peer on neither side.
 * Appends to b; -1 on a key that does not decode. Pure.
 */
struct wg_peer;
int wg_uapi_peer_change_text(struct buf *b, const struct wg_peer *old, const struct wg_peer *next,
			     time_t now);
/* Parses `ip -j addr show dev IF` output into ifc (up, mtu, addresses). Pure. */
int wg_parse_ip_addr(const char *json, struct wg_obs_iface *ifc, struct atlas_err *err);
void wg_obs_iface_release(struct wg_obs_iface *ifc);

/* The names of missing programs ("wg, nft"), new, or NULL when none. */
char *wg_missing_programs(void);

/* wg_hooks.c: the client config and its QR code for `atlas serve` (driver.h). */
int wg_client_config(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     const char *resource, const char *format, struct buf *out,
		     struct atlas_err *err);

extern const struct driver wg_driver;

#endif
