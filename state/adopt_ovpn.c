/*
 * adopt_ovpn.c - the server.conf, ipp.txt and CCD readers of
 * `atlas adopt openvpn`. Pure.
 *
 * server.conf is one directive a line, arguments split on blanks, "#" and
 * ";" starting comments; inline <tag>...</tag> blocks are skipped (Atlas
 * writes its own). What matters for the clients' .ovpn files to keep
 * working is kept: port, proto, the CA (the PKI) and the tls-crypt key.
 * tls-auth is refused: Atlas renders tls-crypt, and a client file with
 * <tls-auth> would stop connecting.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/ipaddr.h"
#include "state/adopt_ovpn.h"

#define MAXARGS 8

struct dline {
	int no;
	int argc;
	char *argv[MAXARGS];
	int col[MAXARGS];
};

/* Splits one line in place; 0 args for a blank or comment line. */
static void split(char *s, struct dline *d)
{
	char *base = s;

	d->argc = 0;
	while (*s && d->argc < MAXARGS) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#' || *s == ';')
			break;
		if (*s == '"') {
			d->col[d->argc] = (int)(s - base) + 1;
			d->argv[d->argc++] = ++s;
			while (*s && *s != '"')
				s++;
		} else {
			d->col[d->argc] = (int)(s - base) + 1;
			d->argv[d->argc++] = s;
			while (*s && !isspace((unsigned char)*s))
				s++;
		}
		if (*s)
			*s++ = '\0';
	}
}

static int mask_prefix(const char *mask)
{
	struct ipaddr m;
	int n = 0;

	if (ip_parse_addr(mask, &m) < 0 || strchr(mask, ':'))
		return -1;
	for (int i = 0; i < 4; i++)
		for (int b = 7; b >= 0; b--) {
			if (m.a[i] >> b & 1) {
				if (n != i * 8 + 7 - b)
					return -1;	/* not contiguous */
				n++;
			}
		}
	return n;
}

/* "NET MASK" -> "NET/LEN" (new) or NULL. */
static char *net_mask(const char *net, const char *mask)
{
	struct ipaddr ip;
	int len = mask_prefix(mask);
	char buf[64];

	if (len < 0 || ip_parse_addr(net, &ip) < 0)
		return NULL;
	ip.prefix = len;
	ip_format(&ip, 1, buf, sizeof(buf));
	return xstrdup(buf);
}

/*
 * Directives Atlas renders its own equivalent of, or that only concern the
 * server's own files and logs: not carried over, and not worth a line.
 * Any other directive not handled below gets one.
 */
static const char *const silent[] = {
	"persist-key", "persist-tun", "verb", "status", "status-version", "log", "log-append",
	"topology", "dev", "dev-type", "dh", "ecdh-curve", "tls-server", "ca", "cert", "key",
	"crl-verify", "management", "management-client-user", "mute", "mode", "script-security",
	"ncp-disable", "push-reset", "ifconfig-pool", "remote-cert-tls", "verify-client-cert",
	"explicit-exit-notify", "multihome", NULL
};

/* Directives Atlas renders with a value of its own: a line when the server's differs. */
static const char *const own_value[][2] = {
	{ "keepalive", "10 60" },
	{ "tls-version-min", "1.2" },
	{ NULL, NULL },
};

static int one_of(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(word, *list))
			return 1;
	return 0;
}

int adopt_ovpn_parse(const char *text, size_t len, struct adopt_ovpn *o, struct diags *errs,
		     struct diags *notes)
{
	char *copy = xstrndup(text, len), *line, *next, *inblock = NULL;
	size_t before = errs->n;
	struct dline d;
	int no = 0, server_line = 0, block_line = 0, route_line = 1, route_col = 1;

	memset(o, 0, sizeof(*o));
	o->port = 1194;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		d.no = no;
		split(line, &d);
		if (!d.argc)
			continue;
		if (inblock) {
			size_t bl = strlen(inblock);

			if (d.argv[0][0] == '<' && d.argv[0][1] == '/' &&
			    !strncmp(d.argv[0] + 2, inblock, bl) && !strcmp(d.argv[0] + 2 + bl, ">"))
				inblock = NULL;
			continue;
		}
		if (d.argv[0][0] == '<') {
			size_t n = strlen(d.argv[0]);

			if (n < 3 || d.argv[0][n - 1] != '>') {
				diags_add_at(errs, no, d.col[0], NULL, "\"%s\" is not an inline <tag>",
					     d.argv[0]);
				continue;
			}
			d.argv[0][n - 1] = '\0';
			inblock = d.argv[0] + 1;
			block_line = no;
			if (!strcmp(inblock, "tls-auth"))
				diags_add_at(errs, no, d.col[0], NULL,
					     "an inline <tls-auth> key: Atlas renders tls-crypt, so client "
					     "files with <tls-auth> would stop connecting");
			else if (strcmp(inblock, "tls-crypt"))
				diags_add_at(notes, no, d.col[0], NULL,
					     "inline <%s> is not read: Atlas takes the PKI from easy-rsa",
					     inblock);
			else
				diags_add_at(errs, no, d.col[0], NULL,
					     "an inline <tls-crypt> key: put it in a file (tls-crypt FILE) "
					     "so that it can be taken over");
			continue;
		}
#define ARGS(n)                                                                            \
	if (d.argc < (n) + 1) {                                                            \
		diags_add_at(errs, no, d.col[0], NULL, "%s needs %d argument%s (truncated?)", \
			     d.argv[0], (n), (n) == 1 ? "" : "s");                          \
		continue;                                                                  \
	}
		if (!strcmp(d.argv[0], "port")) {
			char *end;
			long p;

			ARGS(1);
			p = strtol(d.argv[1], &end, 10);
			if (*end || p < 1 || p > 65535)
				diags_add_at(errs, no, d.col[1], NULL,
					     "port \"%s\" is not a number from 1 to 65535", d.argv[1]);
			else
				o->port = (int)p;
		} else if (!strcmp(d.argv[0], "proto")) {
			ARGS(1);
			if (!strncmp(d.argv[1], "udp", 3))
				o->proto = OVPN_UDP;
			else if (!strncmp(d.argv[1], "tcp", 3))
				o->proto = OVPN_TCP;
			else
				diags_add_at(errs, no, d.col[1], NULL, "proto \"%s\" is not udp or tcp",
					     d.argv[1]);
			if (strcmp(d.argv[1], "udp") && strcmp(d.argv[1], "tcp") &&
			    strcmp(d.argv[1], "tcp-server"))
				diags_add_at(notes, no, d.col[1], NULL,
					     "proto %s: Atlas listens with %s on both IPv4 and IPv6",
					     d.argv[1], o->proto == OVPN_TCP ? "tcp" : "udp");
		} else if (!strcmp(d.argv[0], "server")) {
			ARGS(2);
			free(o->network);
			o->network = net_mask(d.argv[1], d.argv[2]);
			server_line = no;
			if (!o->network)
				diags_add_at(errs, no, d.col[1], NULL,
					     "server \"%s %s\" is not an IPv4 network and netmask",
					     d.argv[1], d.argv[2]);
		} else if (!strcmp(d.argv[0], "server-ipv6")) {
			diags_add_at(notes, no, d.col[0], NULL,
				     "server-ipv6 is not carried over: Atlas gives OpenVPN clients IPv4 "
				     "tunnel addresses only");
		} else if (!strcmp(d.argv[0], "push")) {
			struct dline p;
			char *copyarg;

			ARGS(1);
			copyarg = xstrdup(d.argv[1]);
			split(copyarg, &p);
			if (p.argc >= 3 && !strcmp(p.argv[0], "dhcp-option") &&
			    !strcmp(p.argv[1], "DNS")) {
				strv_push(&o->dns, p.argv[2]);
			} else if (p.argc >= 3 && !strcmp(p.argv[0], "route")) {
				char *r = net_mask(p.argv[1], p.argv[2]);

				if (r && !o->routes.n) {
					route_line = no;
					route_col = d.col[0];
				}
				if (r)
					strv_push_owned(&o->routes, r);
				else
					diags_add_at(errs, no, d.col[1], NULL,
						     "push \"route %s %s\" is not a network and netmask",
						     p.argv[1], p.argv[2]);
			} else if (p.argc >= 1 && !strcmp(p.argv[0], "redirect-gateway")) {
				o->redirect_gateway = 1;
			} else if (p.argc >= 1 && !strcmp(p.argv[0], "block-outside-dns")) {
				diags_add_at(notes, no, d.col[0], NULL,
					     "push \"block-outside-dns\" is not carried over: Atlas pushes "
					     "DNS servers only");
			} else {
				diags_add_at(notes, no, d.col[0], NULL,
					     "push \"%s\" is not carried over: Atlas pushes DNS, routes or "
					     "redirect-gateway",
					     d.argv[1]);
			}
			free(copyarg);
		} else if (!strcmp(d.argv[0], "tls-crypt")) {
			ARGS(1);
			free(o->tls_crypt);
			o->tls_crypt = xstrdup(d.argv[1]);
		} else if (!strcmp(d.argv[0], "tls-auth")) {
			diags_add_at(errs, no, d.col[0], NULL,
				     "tls-auth is not supported: Atlas renders tls-crypt, so client "
				     "files with tls-auth would stop connecting (switch the server and "
				     "clients to tls-crypt first)");
		} else if (!strcmp(d.argv[0], "tls-crypt-v2")) {
			diags_add_at(errs, no, d.col[0], NULL,
				     "tls-crypt-v2 is not supported: Atlas renders tls-crypt");
		} else if (!strcmp(d.argv[0], "ifconfig-pool-persist")) {
			ARGS(1);
			free(o->ipp);
			o->ipp = xstrdup(d.argv[1]);
		} else if (!strcmp(d.argv[0], "client-config-dir")) {
			ARGS(1);
			free(o->ccd);
			o->ccd = xstrdup(d.argv[1]);
		} else {
			static const char *const ciphers[] = { "cipher", "data-ciphers",
								"data-ciphers-fallback",
								"ncp-ciphers", "auth", NULL };
			static const char *const compression[] = { "compress", "comp-lzo", NULL };
			static const char *const own_conf[] = { "user", "group", "duplicate-cn",
								"client-to-client", "local", NULL };
			static const char *const link[] = { "tun-mtu", "fragment", "mssfix", NULL };
			char args[256] = "";
			size_t k;

			for (int i = 1; i < d.argc; i++)
				snprintf(args + strlen(args), sizeof(args) - strlen(args), " %s",
					 d.argv[i]);
			for (k = 0; own_value[k][0] && strcmp(d.argv[0], own_value[k][0]); k++)
				;
			if (one_of(d.argv[0], silent))
				;
			else if (own_value[k][0] && strcmp(args[0] ? args + 1 : "", own_value[k][1]))
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s%s is not carried over: Atlas renders %s %s", d.argv[0],
					     args, d.argv[0], own_value[k][1]);
			else if (own_value[k][0])
				;
			else if (one_of(d.argv[0], ciphers))
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s%s%s is not carried over: Atlas renders its own (data "
					     "ciphers AES-256-GCM:CHACHA20-POLY1305, which 2.4+ clients "
					     "negotiate)",
					     d.argv[0], d.argc > 1 ? " " : "", d.argc > 1 ? d.argv[1] : "");
			else if (one_of(d.argv[0], compression))
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s is not carried over: Atlas renders no compression (VORACLE)",
					     d.argv[0]);
			else if (one_of(d.argv[0], own_conf))
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s%s%s is not carried over: Atlas renders its own server.conf "
					     "without it",
					     d.argv[0], d.argc > 1 ? " " : "", d.argc > 1 ? d.argv[1] : "");
			else if (one_of(d.argv[0], link))
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s%s is not carried over: Atlas renders OpenVPN's default; a "
					     "client file that sets %s too must drop it",
					     d.argv[0], args, d.argv[0]);
			else
				diags_add_at(notes, no, d.col[0], NULL,
					     "%s%s is not carried over: Atlas does not manage it", d.argv[0],
					     args);
		}
#undef ARGS
	}
	if (inblock)
		diags_add_at(errs, block_line, 1, NULL, "<%s> is never closed (truncated file?)", inblock);
	if (!server_line && errs->n == before)
		diags_add_at(errs, 1, 1, NULL,
			     "no \"server NETWORK NETMASK\" line: Atlas needs the tunnel network");
	if (!o->tls_crypt && errs->n == before)
		diags_add_at(notes, 1, 1, NULL,
			     "no tls-crypt key: Atlas renders tls-crypt with a new key, so existing "
			     "client files need a new profile");
	if (o->redirect_gateway && o->routes.n)
		diags_add_at(notes, route_line, route_col, NULL,
			     "both redirect-gateway and routes are pushed: Atlas keeps "
			     "redirect-gateway, which covers the routes (it pushes routes only "
			     "instead of redirect-gateway)");
	free(copy);
	if (errs->n > before) {
		adopt_ovpn_release(o);
		return -1;
	}
	return 0;
}

void adopt_ovpn_release(struct adopt_ovpn *o)
{
	if (!o)
		return;
	free(o->network);
	strv_clear(&o->dns);
	strv_clear(&o->routes);
	free(o->tls_crypt);
	free(o->ipp);
	free(o->ccd);
	memset(o, 0, sizeof(*o));
}

int adopt_ovpn_ipp(const char *text, size_t len, struct strv *names, struct strv *ips,
		   struct diags *errs)
{
	char *copy = xstrndup(text, len), *line, *next;
	size_t before = errs->n;
	int no = 0;

	for (line = copy; line; line = next) {
		char *c1, *c2;
		struct ipaddr ip;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		line[strcspn(line, "\r")] = '\0';
		if (!*line)
			continue;
		c1 = strchr(line, ',');
		if (!c1) {
			diags_add_at(errs, no, 1, NULL, "\"%.60s\" is not \"name,address\"", line);
			continue;
		}
		*c1++ = '\0';
		c2 = strchr(c1, ',');
		if (c2)
			*c2 = '\0';
		if (ip_parse_addr(c1, &ip) < 0) {
			diags_add_at(errs, no, (int)(c1 - line) + 1, NULL,
				     "\"%.60s\" is not an IPv4 address", c1);
			continue;
		}
		strv_push(names, line);
		strv_push(ips, c1);
	}
	free(copy);
	return errs->n > before ? -1 : 0;
}

char *adopt_ovpn_ccd_ip(const char *text, size_t len)
{
	char *copy = xstrndup(text, len), *line, *next, *ret = NULL;
	struct dline d;

	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		split(line, &d);
		if (d.argc >= 2 && !strcmp(d.argv[0], "ifconfig-push"))
			ret = xstrdup(d.argv[1]);
	}
	free(copy);
	return ret;
}
