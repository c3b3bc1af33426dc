/*
 * ovpn_client.c - the CCD file of a client and its inline .ovpn profile.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "state/validate.h"
#include "renderers/openvpn/ovpn_render.h"



void render_ovpn_ccd(const struct atlas_state *st, const struct ovpn_client *cl,
		     const char *today, struct buf *out)
{
	struct ovpn_plan plan;

	buf_printf(out, "# %s: rendered by Atlas, edits are overwritten\n", cl->name);
	if (cl->static_ip && ovpn_address_plan(st->openvpn.network, &plan) == 0) {
		char mask[16];

		ip4_mask(plan.net.prefix, mask, sizeof(mask));
		buf_printf(out, "ifconfig-push %s %s\n", cl->static_ip, mask);
	}
	if (!ovpn_client_active(cl, today))
		buf_puts(out, "disable\n");
}

static int block(struct buf *out, const char *tag, const char *pem, const char *client,
		 struct atlas_err *err)
{
	size_t n;

	if (!pem || !*pem)
		return err_set(err, ERR_NOTFOUND, "openvpn client \"%s\": no <%s> material", client,
			       tag);
	n = strlen(pem);
	buf_printf(out, "<%s>\n%s%s</%s>\n", tag, pem, pem[n - 1] == '\n' ? "" : "\n", tag);
	return 0;
}

int render_ovpn_client(const struct atlas_state *st, const struct ovpn_client *cl,
		       const struct ovpn_client_pki *pki, struct buf *out, struct atlas_err *err)
{
	const struct ovpn_section *ov = &st->openvpn;

	if (!st->settings.host || !*st->settings.host)
		return err_set(err, ERR_INVALID,
			       "settings.host is not set: clients need the address of this server");
	buf_printf(out, "# %s: OpenVPN profile made by Atlas\n", cl->name);
	buf_puts(out, "client\n"
		      "dev tun\n");
	buf_printf(out, "proto %s\n", ov->proto == OVPN_TCP ? "tcp-client" : "udp");
	buf_printf(out, "remote %s %d\n", st->settings.host, ov->port);
	buf_puts(out, "resolv-retry infinite\n"
		      "nobind\n"
		      "persist-key\n"
		      "persist-tun\n"
		      "remote-cert-tls server\n");
	buf_printf(out, "verify-x509-name %s name\n", pki->server_cn);
	buf_puts(out, "tls-version-min 1.2\n"
		      "data-ciphers " OVPN_DATA_CIPHERS "\n"
		      "verb 3\n");
	if (block(out, "ca", pki->ca, cl->name, err) < 0 ||
	    block(out, "cert", pki->cert, cl->name, err) < 0 ||
	    block(out, "key", pki->key, cl->name, err) < 0 ||
	    block(out, "tls-crypt", pki->tls_crypt, cl->name, err) < 0)
		return -1;
	return 0;
}
