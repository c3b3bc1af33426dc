/*
 * model.h - the desired state: plain structs, one per resource kind.
 *
 * Every resource has a unique, human `name` that is its identity in YAML, the
 * API and plans. A string field that is NULL and a number that equals its
 * default are "absent". Keys are 32 raw bytes with a flag (struct wg_key),
 * base64 text only where they are read or written (state/keys.h). Which fields exist, their YAML/JSON names,
 * defaults and flags are described once, in schema.c: the YAML and JSON
 * codecs, the SQLite store and the JSON Schema are all driven by that table.
 */
#ifndef ATLAS_MODEL_H
#define ATLAS_MODEL_H

#include <stddef.h>

#include "lib/strv.h"

#define KEY_LEN 32
#define KEY_B64 45		/* 44 chars + NUL */
#define NAME_MAX_LEN 63

/* struct wg_key.set */
enum key_set { KEY_NONE, KEY_SET, KEY_BAD };

/*
 * A WireGuard key (X25519 or preshared): raw bytes, a third of the room of
 * its text. KEY_BAD only between the YAML decoder and validation: text that
 * is not a key, kept by the state for the message (state_bad_key()).
 */
struct wg_key {
	unsigned char b[KEY_LEN];
	unsigned char set;	/* enum key_set */
};

enum service_mode { SERVICE_AUTO, SERVICE_SYSTEMD, SERVICE_DIRECT };
enum ovpn_proto { OVPN_UDP, OVPN_TCP };
enum sb_type { SB_VLESS, SB_VMESS, SB_TROJAN, SB_SHADOWSOCKS, SB_HYSTERIA2, SB_TUIC };
/* SB_SEC_AUTO: the type's default (sb_security()). */
enum sb_security { SB_SEC_AUTO, SB_SEC_NONE, SB_SEC_TLS, SB_SEC_REALITY };
enum sb_transport { SB_TR_TCP, SB_TR_WS, SB_TR_GRPC, SB_TR_HTTPUPGRADE };
enum sb_method { SB_SS_AES128, SB_SS_AES256 };
enum quota_period { QUOTA_MONTHLY, QUOTA_WEEKLY, QUOTA_DAILY, QUOTA_NEVER };

/*
 * Why a user is suspended ("quota 20 GiB used (20.1 GiB since 1 Dec)"): the
 * `suspended` string of a user, NULL when it is not, set only on a working
 * copy of the desired state by usage_suspend(). Not in the schema's fields,
 * so never stored, exported nor sent; copied and freed with its struct
 * (struct schema.suspended_off). SUSPENDED_LEN bounds its text.
 */
#define SUSPENDED_LEN 112

/* settings.resync when the state does not say: seconds between two drift checks. */
#define SETTINGS_RESYNC_DEFAULT 30

struct settings {
	char *host;		/* the address clients connect to */
	int service_mode;	/* enum service_mode */
	char *egress_interface;	/* NULL: the interface of the default route */
	int resync;		/* seconds between drift checks in `atlas serve` */
	int history_keep;	/* generations kept */
	int auto_apply;		/* 0: `atlas serve` applies only on request or SIGHUP */
	char *singbox_binary;	/* NULL: `sing-box` on PATH */
	char *panel_url;	/* base URL of the panel for subscription links; NULL: https://host */
	char *tls_cert;		/* PEM chain `atlas serve` serves; NULL: none given here */
	char *tls_key;		/* its private key (PEM); set together with tls_cert */
};

struct wg_peer {
	char *name;
	struct strv address;	/* the peer's tunnel addresses (prefixes) */
	struct strv allowed_ips;/* AllowedIPs of the client config */
	int keepalive;		/* 0: off */
	int disabled;
	char *expires;		/* YYYY-MM-DD or NULL */
	char *note;
	char *quota;		/* "20GiB"; NULL: unlimited */
	int quota_period;	/* enum quota_period */
	int quota_reset_day;	/* 1-28, monthly */
	char *suspended;	/* working copy only: why it is off (usage.h); NULL: not */
	struct wg_key public_key;
	struct wg_key private_key;	/* secret; none for a bring-your-own-key peer */
	struct wg_key preshared_key;	/* secret; none: none */
};

struct wg_iface {
	char *name;
	int listen_port;
	struct strv address;	/* the server's addresses; they define the networks */
	struct strv dns;
	int mtu;		/* 0: default */
	int disabled;
	struct wg_key public_key;
	struct wg_key private_key;	/* secret */
	struct wg_peer *peers;
	size_t npeers;
};

struct wg_section {
	int enabled;
	struct wg_iface *interfaces;
	size_t ninterfaces;
};

struct ovpn_client {
	char *name;
	char *static_ip;
	int disabled;
	char *expires;
	char *note;
	char *quota;		/* "20GiB"; NULL: unlimited */
	int quota_period;	/* enum quota_period */
	int quota_reset_day;	/* 1-28, monthly */
	char *suspended;	/* working copy only: why it is off (usage.h); NULL: not */
};

struct ovpn_section {
	int enabled;
	int port;
	int proto;		/* enum ovpn_proto */
	char *network;		/* IPv4 prefix, e.g. 10.9.0.0/24 */
	struct strv dns;
	struct strv routes;	/* prefixes pushed to clients; empty: redirect-gateway */
	struct ovpn_client *clients;
	size_t nclients;
};

struct sb_user {
	char *name;		/* a person: the same name in several inbounds is one user */
	int disabled;
	char *expires;
	char *note;
	char *uuid;		/* secret: vless, vmess, tuic */
	char *password;		/* secret: trojan, hysteria2, tuic; shadowsocks: base64 key */
	long long quota_bytes;	/* 0: unlimited; quota, when set, wins */
	char *quota;		/* "20GiB"; NULL: unlimited */
	int quota_period;	/* enum quota_period */
	int quota_reset_day;	/* 1-28, monthly */
	char *suspended;	/* working copy only: why it is off (usage.h); NULL: not */
};

struct sb_inbound {
	char *name;		/* the sing-box tag */
	int type;		/* enum sb_type */
	int port;
	char *listen;		/* NULL: "::" */
	int security;		/* enum sb_security */
	char *server_name;	/* TLS SNI / REALITY server name */
	char *reality_handshake;/* host:port; NULL: server_name:443 */
	char *tls_certificate;	/* path; NULL with tls: the self-signed certificate */
	char *tls_key;
	int transport;		/* enum sb_transport */
	char *path;		/* ws/httpupgrade path, grpc service name */
	int method;		/* enum sb_method (shadowsocks) */
	struct sb_user *users;
	size_t nusers;
	/* generated and kept (state_complete) */
	char *reality_private_key;	/* secret; X25519, base64url without padding */
	char *reality_public_key;	/* derived */
	char *reality_short_id;		/* hex, kept */
	char *server_key;		/* secret; shadowsocks server key (base64) */
	char *self_signed_certificate;	/* secret (bulky); PEM, for tls without tls_certificate */
	char *self_signed_key;		/* secret; PEM */
	char *certificate_sha256;	/* derived: hex SHA-256 of the self-signed DER (pins) */
};

/* The per-person subscription token (users are people across inbounds). */
struct sb_subscription {
	char *name;		/* a user name of some inbound */
	char *token;		/* secret; URL-safe */
};

struct sb_section {
	int enabled;
	int api_port;		/* the `api` service, 127.0.0.1 */
	int ssm_port;		/* the ssm-api service, 127.0.0.1 */
	int v2ray_api_port;	/* experimental.v2ray_api, when the binary has it */
	char *api_secret;	/* secret; bearer token of the `api` service */
	struct sb_inbound *inbounds;
	size_t ninbounds;
	struct sb_subscription *subscriptions;	/* secret as a whole */
	size_t nsubscriptions;
};

struct atlas_state {
	int version;
	struct settings settings;
	int has_wireguard;	/* an absent section: that engine is not managed */
	struct wg_section wireguard;
	int has_openvpn;
	struct ovpn_section openvpn;
	int has_singbox;
	struct sb_section singbox;
	/* not in the schema: the text of each KEY_BAD key, for validation's messages */
	struct strv bad_keys;
};

/* A new state with every default set and no section. Cannot fail. */
struct atlas_state *state_new(void);
/* Frees st and everything it owns, wiping keys. Accepts NULL. */
void state_free(struct atlas_state *st);
/* A deep copy (new). Cannot fail. */
struct atlas_state *state_dup(const struct atlas_state *st);
/* Marks k KEY_BAD, its text kept by st (the YAML decoder). Cannot fail. */
void state_keep_bad_key(struct atlas_state *st, struct wg_key *k, const char *text);
/* The text of a KEY_BAD key of st (borrowed), or "?". */
const char *state_bad_key(const struct atlas_state *st, const struct wg_key *k);

/*
 * The element named name of the n elements of size bytes at v, sorted by
 * name (each starts with its name: schema.c; struct sb_person too), found
 * by bisection; NULL when absent (or when v is not in that order).
 */
void *state_bisect_named(const void *v, size_t n, size_t size, const char *name);

/*
 * Lookups by name; borrowed pointers or NULL. Peers and sing-box users are
 * found by bisection first (a stored state is sorted), then by a search.
 */
struct wg_iface *state_wg_iface(const struct atlas_state *st, const char *name);
struct wg_peer *state_wg_peer(const struct wg_iface *ifc, const char *name);
struct ovpn_client *state_ovpn_client(const struct atlas_state *st, const char *name);
struct sb_inbound *state_sb_inbound(const struct atlas_state *st, const char *name);
struct sb_user *state_sb_user(const struct sb_inbound *in, const char *name);
struct sb_subscription *state_sb_subscription(const struct atlas_state *st, const char *name);

/* The subscription whose token is token (constant-time compare), or NULL. */
struct sb_subscription *state_sb_subscription_by_token(const struct atlas_state *st,
						       const char *token);

/* The effective security of an inbound (SB_SEC_AUTO resolved by type). */
int sb_security(const struct sb_inbound *in);
/* 1 when the protocol runs over UDP (QUIC): hysteria2, tuic. */
int sb_type_udp(int type);
/* Bytes of a Shadowsocks 2022 key for method (16 or 32). */
int sb_method_key_len(int method);

/* Sorts every list by name (export order). */
void state_sort(struct atlas_state *st);
/*
 * Sorts the n elements of size bytes at base by cmp: in one pass when they
 * are in order already, or in order but for the last, which goes after
 * the elements equal to it (an added peer: at 10,000 peers qsort cost two
 * sorts of 10,000 elements an edit); qsort otherwise. Cannot fail.
 */
void state_sort_list(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
