/*
 * ovpn_server.c - server.conf of the OpenVPN server Atlas manages.
 *
 * Addresses follow ovpn_address_plan(): the server takes the first host,
 * static client addresses the lower half (handed out by CCD files), the
 * dynamic pool the upper half: `server NET MASK nopool` + `ifconfig-pool`.
 */
#include <string.h>
#include <sys/socket.h>

#include "state/validate.h"
#include "renderers/openvpn/ovpn_render.h"

/* OpenVPN's config parser splits on blanks and reads quotes, '#' and ';'. */
static int path_ok(const char *p)
{
	if (!p || !*p)
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("\"'\\#;", *p) || *p == 0x7f)
			return 0;
	return 1;
}

static void push_prefix(struct buf *out, const char *prefix)
{
	struct ipaddr ip, net;
	char a[64], m[16];

	if (ip_parse(prefix, &ip) < 0)
		return;
	ip_network(&ip, &net);
	ip_format(&net, 0, a, sizeof(a));
	if (net.family == AF_INET) {
		ip4_mask(net.prefix, m, sizeof(m));
		buf_printf(out, "push \"route %s %s\"\n", a, m);
	} else {
		buf_printf(out, "push \"route-ipv6 %s/%d\"\n", a, net.prefix);
	}
}

int render_ovpn_server(const struct atlas_state *st, const struct ovpn_server_paths *p,
		       struct buf *out, struct atlas_err *err)
{
	const struct ovpn_section *ov = &st->openvpn;
	const char *const paths[] = { p->pki, p->ccd, p->status, p->mgmt };
	struct ovpn_plan plan;
	char net[64], mask[16], first[64], last[64];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!path_ok(paths[i]))
			return err_set(err, ERR_INVALID,
				       "openvpn: path \"%s\" cannot be written in server.conf "
				       "(blanks, quotes, '#' or ';')",
				       paths[i] ? paths[i] : "");
	if (ovpn_address_plan(ov->network, &plan) < 0)
		return err_set(err, ERR_INVALID,
			       "openvpn: network \"%s\" is not an IPv4 prefix between /16 and /29",
			       ov->network ? ov->network : "");
	ip_format(&plan.net, 0, net, sizeof(net));
	ip4_mask(plan.net.prefix, mask, sizeof(mask));
	ip_format(&plan.pool_first, 0, first, sizeof(first));
	ip_format(&plan.pool_last, 0, last, sizeof(last));

	buf_puts(out, "# OpenVPN server rendered by Atlas: edits are overwritten.\n");
	buf_printf(out, "port %d\n", ov->port);
	buf_printf(out, "proto %s\n", ov->proto == OVPN_TCP ? "tcp-server" : "udp");
	/*
	 * UDP: answer from the address the client wrote to. Otherwise the kernel
	 * picks the source, the first address of the outgoing interface, and on a
	 * host with several (a floating IP, a second public address) the client
	 * rejects every reply. TCP answers on its connection anyway.
	 */
	if (ov->proto == OVPN_UDP)
		buf_puts(out, "multihome\n");
	/* a fixed name (one server per host): the NAT table names the tunnel */
	buf_puts(out, "dev " OVPN_DEV "\n"
		      "dev-type tun\n"
		      "topology subnet\n");
	/* nopool: the lower half is for static addresses given in CCD files. */
	buf_printf(out, "server %s %s nopool\n", net, mask);
	buf_printf(out, "ifconfig-pool %s %s %s\n", first, last, mask);
	buf_printf(out, "client-config-dir %s\n", p->ccd);
	buf_puts(out, "\n");
	buf_printf(out, "ca %s/ca.crt\n", p->pki);
	/* fixed names in their own folder: no client name can address them */
	buf_printf(out, "cert %s/server/server.crt\n", p->pki);
	buf_printf(out, "key %s/server/server.key\n", p->pki);
	buf_puts(out, "dh none\n");
	buf_printf(out, "tls-crypt %s/tls-crypt.key\n", p->pki);
	buf_printf(out, "crl-verify %s/crl.pem\n", p->pki);
	buf_puts(out, "tls-version-min 1.2\n");
	buf_puts(out, "data-ciphers " OVPN_DATA_CIPHERS "\n");
	buf_puts(out, "remote-cert-tls client\n");
	buf_puts(out, "\n");
	buf_puts(out, "keepalive 10 60\n"
		      "persist-key\n"
		      "persist-tun\n");
	if (ov->proto == OVPN_UDP)
		buf_puts(out, "explicit-exit-notify 1\n");
	buf_puts(out, "\n");
	/* dhcp-option DNS: understood by every client (2.6's `dns` is not). */
	for (size_t i = 0; i < ov->dns.n; i++)
		buf_printf(out, "push \"dhcp-option DNS %s\"\n", ov->dns.v[i]);
	if (ov->routes.n == 0)
		buf_puts(out, "push \"redirect-gateway def1 bypass-dhcp\"\n");
	for (size_t i = 0; i < ov->routes.n; i++)
		push_prefix(out, ov->routes.v[i]);
	buf_puts(out, "\n");
	buf_printf(out, "status %s 10\n", p->status);
	buf_puts(out, "status-version 3\n");
	buf_printf(out, "management %s unix\n", p->mgmt);
	/* The unix socket would otherwise be open to every local user. */
	buf_puts(out, "management-client-user root\n");
	buf_puts(out, "verb 3\n");
	return 0;
}
