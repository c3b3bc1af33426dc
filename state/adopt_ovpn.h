/*
 * adopt_ovpn.h - reading an OpenVPN server as the openvpn-install scripts
 * (or a hand-made easy-rsa setup) leave it, for `atlas adopt openvpn`: its
 * server.conf, ipp.txt and CCD files. Pure: text in, values and messages
 * out; the PKI itself is taken over by pki_import_easyrsa().
 */
#ifndef ATLAS_ADOPT_OVPN_H
#define ATLAS_ADOPT_OVPN_H

#include "state/diag.h"
#include "state/model.h"

struct adopt_ovpn {
	int port;		/* 1194 when absent, as openvpn does */
	int proto;		/* enum ovpn_proto */
	char *network;		/* "10.8.0.0/24" from `server NET MASK` */
	struct strv dns, routes;
	int redirect_gateway;
	char *tls_crypt;	/* path as written, or NULL */
	char *ipp;		/* ifconfig-pool-persist FILE */
	char *ccd;		/* client-config-dir DIR */
};

/*
 * Parses server.conf. Errors (a malformed line, tls-auth, a missing
 * `server` line) go to errs with line:col; directives Atlas renders its own
 * way (cipher, compression, user/group, ...) to notes. -1 on errors.
 */
int adopt_ovpn_parse(const char *text, size_t len, struct adopt_ovpn *out, struct diags *errs,
		     struct diags *notes);
void adopt_ovpn_release(struct adopt_ovpn *o);

/*
 * Parses ipp.txt ("name,10.8.0.2[,ipv6]" lines) and appends name and IP
 * pairs to names and ips. Lines it cannot read are errors.
 */
int adopt_ovpn_ipp(const char *text, size_t len, struct strv *names, struct strv *ips,
		   struct diags *errs);

/* The address of the `ifconfig-push IP MASK` line of a CCD file (new), or NULL. */
char *adopt_ovpn_ccd_ip(const char *text, size_t len);

#endif
