/*
 * ovpn_render.h - pure renderers of the OpenVPN files: server.conf, the CCD file
 * of a client, and a client's inline .ovpn profile.
 *
 * Same input, same bytes: no files, clock, environment or randomness. What
 * they need from the disk (paths, PEM texts, the server CN) and the date of
 * today are parameters. Only modern OpenVPN 2.6 directives are written
 * (never comp-lzo, compress, ncp-ciphers, ns-cert-type, cipher).
 */
#ifndef ATLAS_RENDER_OVPN_H
#define ATLAS_RENDER_OVPN_H

#include "lib/buf.h"
#include "lib/err.h"
#include "state/active.h"
#include "state/model.h"

#define OVPN_DATA_CIPHERS "AES-256-GCM:CHACHA20-POLY1305"
/* The server's tun device: a fixed name the NAT rules can name. */
#define OVPN_DEV "atlas-ovpn"

/* Where the server's files are; every path must be free of blanks and quotes. */
struct ovpn_server_paths {
	const char *pki;	/* DATADIR/pki: ca.crt, server/, crl.pem, tls-crypt.key */
	const char *ccd;	/* client-config-dir */
	const char *status;	/* status file */
	const char *mgmt;	/* management unix socket */
};

/* The PEM texts a client profile embeds (borrowed). */
struct ovpn_client_pki {
	const char *ca;
	const char *cert;	/* PEM only, no text dump */
	const char *key;
	const char *tls_crypt;
	const char *server_cn;
};

/*
 * Appends server.conf for st->openvpn to out. Fails (ERR_INVALID) when the
 * network has no address plan or a path holds characters OpenVPN's config
 * parser would split or interpret.
 */
int render_ovpn_server(const struct atlas_state *st, const struct ovpn_server_paths *paths,
		       struct buf *out, struct atlas_err *err);

/*
 * Appends the CCD file of cl: `ifconfig-push IP MASK` for a static address,
 * `disable` when the client is disabled or expired on day today.
 */
void render_ovpn_ccd(const struct atlas_state *st, const struct ovpn_client *cl,
		     const char *today, struct buf *out);

/*
 * Appends cl's inline .ovpn. Fails when settings.host is not set or a PEM
 * text is missing.
 */
int render_ovpn_client(const struct atlas_state *st, const struct ovpn_client *cl,
		       const struct ovpn_client_pki *pki, struct buf *out, struct atlas_err *err);

#endif
