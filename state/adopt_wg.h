/*
 * adopt_wg.h - reading an existing wg-quick setup into the desired state
 * (`atlas adopt wireguard`): the server's IF.conf, optionally the live
 * interface and the clients' .conf files. Pure: text in, a wg_iface and
 * messages out. Running `wg show` and reading files is the CLI's job.
 *
 * The parser is strict: every malformed line (no "=", an unknown section or
 * key, a key that is not base64, a bad prefix or number, a truncated peer,
 * two peers of the same name or key) is an error at FILE:LINE:COL, all of
 * them at once. What is valid but not managed by Atlas (PostUp, Table,
 * FwMark, ...) is a note, one per line, saying what Atlas does instead.
 */
#ifndef ATLAS_ADOPT_WG_H
#define ATLAS_ADOPT_WG_H

#include "lib/err.h"
#include "state/diag.h"
#include "state/model.h"

/* The result of parsing a server file; release with adopt_wg_release(). */
struct adopt_wg {
	struct wg_iface ifc;	/* name set by the caller's ifname; keys and peers from the file */
	int *peer_line;		/* line of each peer's [Peer] header */
	int *name_from;		/* per peer: enum adopt_name_source */
	int *allowed_line;	/* per peer: line of an AllowedIPs refused (told there), or 0 */
	int has_port;		/* ListenPort was in the file */
	int port_line, addr_line, iface_line;
};

enum adopt_name_source { ADOPT_NAME_COMMENT, ADOPT_NAME_CLIENT_FILE, ADOPT_NAME_ADDRESS };

/*
 * Parses a wg-quick server file. ifname is the interface name (copied).
 * Errors go to errs, notes (keys kept out, names made up) to notes, both
 * with line and column. Returns 0, or -1 when errs got any error (out is
 * then released).
 */
int adopt_wg_parse(const char *text, size_t len, const char *ifname, struct adopt_wg *out,
		   struct diags *errs, struct diags *notes);
void adopt_wg_release(struct adopt_wg *a);

/* The live interface as `wg show IF dump` and `ip addr` saw it. */
struct adopt_wg_live_peer {
	char public_key[KEY_B64];
	char preshared_key[KEY_B64];	/* "" when none */
	struct strv allowed_ips;
	int keepalive;
};

struct adopt_wg_live {
	char private_key[KEY_B64];	/* secret */
	int listen_port;
	int mtu;
	struct strv addresses;		/* "10.8.0.1/24" */
	struct adopt_wg_live_peer *peers;
	size_t npeers;
};

/*
 * Makes the live values win where they differ from the file (a `wg set`
 * not saved), so that the first plan is empty: listen port, private key,
 * addresses, each peer's allowed IPs, PSK and keepalive; a live peer the
 * file lacks is added (named from its address). Each difference is a note.
 * -1 (errs) when a live value cannot be carried over.
 */
int adopt_wg_merge_live(struct adopt_wg *a, const struct adopt_wg_live *live,
			struct diags *errs, struct diags *notes);

/* A client's wg-quick file. */
struct adopt_wg_client {
	char private_key[KEY_B64];	/* secret */
	char server_key[KEY_B64];	/* [Peer] PublicKey */
	char preshared_key[KEY_B64];
	struct strv address, dns, allowed_ips;
	char *endpoint;			/* "host:port", or NULL */
	int keepalive;
};

/* Parses a client file (strict, like adopt_wg_parse). -1 on errors. */
int adopt_wg_client_parse(const char *text, size_t len, struct adopt_wg_client *out,
			  struct diags *errs);
void adopt_wg_client_release(struct adopt_wg_client *c);

/*
 * Attaches a client file to the peer whose public key its private key
 * derives: the peer gets the private key (QR codes and `atlas wg config`
 * work again), the client's AllowedIPs and, when the peer had no name from
 * a comment, stem as its name. Returns 1 when attached, 0 when the file
 * belongs to no peer of this interface (a note says so), -1 on error.
 * host (may be NULL) gets the endpoint host when *host is NULL (new).
 */
int adopt_wg_attach_client(struct adopt_wg *a, const struct adopt_wg_client *c,
			   const char *stem, char **host, struct diags *notes,
			   struct atlas_err *err);

/*
 * Checks what Atlas's validation would refuse, at the file's lines: a peer
 * address outside the interface networks (a site-to-site peer). -1 then.
 */
int adopt_wg_check(const struct adopt_wg *a, struct diags *errs);

/* Turns any text into a valid resource name ("Alice Smith" -> "alice-smith"); 0 when none
 * (wgquick.c). */
int adopt_name_clean(const char *in, char *out, size_t len);

/* All-zero base64 key: WireGuard's "no preshared key". */
#define ADOPT_WG_NO_PSK "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

#endif
