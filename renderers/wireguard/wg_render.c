/*
 * wg_render.c - WireGuard client config, server config and QR code.
 *
 * The client config carries only the keys the official WireGuard apps
 * accept (they reject unknown keys): no comments in it but the one that
 * marks a bring-your-own-key peer. Names and addresses reaching these texts
 * are validated before they are stored (state/validate.c), so none can add
 * a line or a key.
 */
#include <stdio.h>
#include <string.h>

#include <qrencode.h>

#include "state/keys.h"
#include "renderers/wireguard/wg_render.h"


int render_wg_endpoint(const struct settings *set, int port, struct buf *out,
		       struct atlas_err *err)
{
	const char *h = set->host;

	if (!h || !*h)
		return err_set(err, ERR_INVALID,
			       "settings.host is not set: client configs need it for Endpoint");
	if (strchr(h, ':') && h[0] != '[')
		buf_printf(out, "[%s]:%d", h, port);
	else
		buf_printf(out, "%s:%d", h, port);
	return 0;
}

static void put_list(struct buf *out, const char *key, const struct strv *v)
{
	if (!v->n)
		return;
	buf_printf(out, "%s = ", key);
	for (size_t i = 0; i < v->n; i++)
		buf_printf(out, "%s%s", i ? ", " : "", v->v[i]);
	buf_putc(out, '\n');
}

/* "NAME = KEY" and a newline. */
static void put_key(struct buf *out, const char *name, const struct wg_key *k)
{
	buf_puts(out, name);
	key_put(out, k);
	buf_putc(out, '\n');
}

int render_wg_client(const struct settings *set, const struct wg_iface *ifc,
		     const struct wg_peer *p, struct buf *out, int *byo, struct atlas_err *err)
{
	if (byo)
		*byo = !KEY_HAS(&p->private_key);
	buf_puts(out, "[Interface]\n");
	if (KEY_HAS(&p->private_key)) {
		put_key(out, "PrivateKey = ", &p->private_key);
	} else {
		buf_puts(out, "# PrivateKey = (bring-your-own key: put the private key of public key ");
		key_put(out, &p->public_key);
		buf_puts(out, " here)\n");
	}
	put_list(out, "Address", &p->address);
	put_list(out, "DNS", &ifc->dns);
	if (ifc->mtu)
		buf_printf(out, "MTU = %d\n", ifc->mtu);
	buf_puts(out, "\n[Peer]\n");
	put_key(out, "PublicKey = ", &ifc->public_key);
	if (key_psk_on(&p->preshared_key))
		put_key(out, "PresharedKey = ", &p->preshared_key);
	put_list(out, "AllowedIPs", &p->allowed_ips);
	buf_puts(out, "Endpoint = ");
	if (render_wg_endpoint(set, ifc->listen_port, out, err) < 0)
		return -1;
	buf_putc(out, '\n');
	if (p->keepalive)
		buf_printf(out, "PersistentKeepalive = %d\n", p->keepalive);
	return 0;
}

int render_wg_server_to(const struct wg_iface *ifc, time_t now, struct buf *out,
			int (*put)(void *cls, const char *data, size_t len), void *cls)
{
	buf_printf(out,
		   "# wireguard interface %s, written by atlas: the reboot-safe copy of what atlas\n"
		   "# applies live (wg-quick up FILE). Edits are overwritten at the next apply.\n",
		   ifc->name);
	buf_puts(out, "[Interface]\n");
	put_key(out, "PrivateKey = ", &ifc->private_key);
	buf_printf(out, "ListenPort = %d\n", ifc->listen_port);
	put_list(out, "Address", &ifc->address);
	if (ifc->mtu)
		buf_printf(out, "MTU = %d\n", ifc->mtu);
	for (size_t i = 0; i < ifc->npeers; i++) {
		const struct wg_peer *p = &ifc->peers[i];

		if (put && out->len >= RENDER_PIECE) {
			if (put(cls, out->data, out->len) < 0)
				return -1;
			buf_reset(out);
		}
		if (!wg_peer_active(p, now) || !KEY_HAS(&p->public_key))
			continue;
		buf_printf(out, "\n# peer %s\n[Peer]\n", p->name);
		put_key(out, "PublicKey = ", &p->public_key);
		if (key_psk_on(&p->preshared_key))
			put_key(out, "PresharedKey = ", &p->preshared_key);
		put_list(out, "AllowedIPs", &p->address);
		if (p->keepalive)
			buf_printf(out, "PersistentKeepalive = %d\n", p->keepalive);
	}
	if (put && out->len) {
		if (put(cls, out->data, out->len) < 0)
			return -1;
		buf_reset(out);
	}
	return 0;
}

void render_wg_server(const struct wg_iface *ifc, time_t now, struct buf *out)
{
	render_wg_server_to(ifc, now, out, NULL, NULL);
}

int render_qr_svg(const char *text, struct buf *out, struct atlas_err *err)
{
	const int quiet = 4;
	QRcode *qr;
	int size;

	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return err_set(err, ERR_INVALID, "text of %zu bytes does not fit in a QR code",
			       strlen(text));
	size = qr->width + 2 * quiet;
	buf_printf(out,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		   "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">\n"
		   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
		   size, size, size * 8, size * 8, size, size);
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			int run = 0;

			/* One horizontal run of dark modules per path segment. */
			while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
				run++;
			if (run) {
				buf_printf(out, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run, run);
				x += run - 1;
			}
		}
	}
	buf_puts(out, "\"/>\n</svg>\n");
	QRcode_free(qr);
	return 0;
}
