/*
 * wg_render.h - WireGuard text artifacts, pure: the client config a user
 * imports into an official app, the server interface config Atlas keeps as
 * the reboot-safe copy of an interface, and the client config as a QR code.
 *
 * Nothing here reads files, clocks or the environment: "now" is a
 * parameter, so the same state gives the same bytes (golden tests).
 */
#ifndef ATLAS_WG_RENDER_H
#define ATLAS_WG_RENDER_H

#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "state/active.h"
#include "state/model.h"

/*
 * "host:port", with an IPv6 host in brackets, into out (appended). Fails
 * with ERR_INVALID when settings.host is not set. Pure.
 */
int render_wg_endpoint(const struct settings *set, int port, struct buf *out,
		       struct atlas_err *err);

/*
 * The wg-quick client config of peer p of interface ifc, appended to out.
 * Only keys the official apps accept: [Interface] PrivateKey Address DNS MTU,
 * [Peer] PublicKey PresharedKey AllowedIPs Endpoint PersistentKeepalive.
 * A bring-your-own-key peer (no private key known) gets a config whose
 * PrivateKey line is a comment telling the owner to put in their own key,
 * and *byo (may be NULL) is set to 1. Fails (ERR_INVALID) without
 * settings.host; out may then hold part of the text. Pure.
 */
int render_wg_client(const struct settings *set, const struct wg_iface *ifc,
		     const struct wg_peer *p, struct buf *out, int *byo, struct atlas_err *err);

/*
 * The server config of ifc in wg-quick style ([Interface] PrivateKey
 * ListenPort Address MTU, one [Peer] per peer active at now), appended to
 * out. It holds the private key: write it 0600. Cannot fail. Pure.
 */
void render_wg_server(const struct wg_iface *ifc, time_t now, struct buf *out);

/* What render_wg_server_to() builds before it hands the text over. */
#define RENDER_PIECE (64u << 10)

/*
 * The same text as render_wg_server(), a piece at a time: built in out and
 * handed to put(cls, data, len) whenever out holds RENDER_PIECE bytes, and
 * at the end; out is emptied after each piece (its room stays, so the text
 * of 10,000 peers, 1.3 MB, is never held whole). Returns 0, or -1 as soon
 * as put returns -1 (out then holds the piece put refused). Pure but for
 * what put does; out holds the private key at times: the caller wipes it.
 */
int render_wg_server_to(const struct wg_iface *ifc, time_t now, struct buf *out,
			int (*put)(void *cls, const char *data, size_t len), void *cls);

/*
 * text as a QR code (error correction level M, 8-bit mode) in SVG, one
 * path, a 4-module quiet zone, appended to out. Fails (ERR_INVALID) when the
 * text is too long for a QR code.
 */
int render_qr_svg(const char *text, struct buf *out, struct atlas_err *err);

#endif
