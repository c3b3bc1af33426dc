/*
 * ovpn_profile.c - a client's inline .ovpn from the desired state and the
 * PKI on disk: for `atlas ovpn config` and the HTTP API alike.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"
#include "renderers/openvpn/ovpn_render.h"
#include "controller/openvpn/ovpn.h"

/* 1 when the PKI holds a valid certificate of name with its files. */
static int has_cert(const char *pki, const char *name)
{
	struct pki_index idx = { 0 };
	char *c = pki_cert_path(pki, name), *k = pki_key_path(pki, name);
	int ok = pki_index_read(pki, &idx, NULL) == 0 && pki_index_valid(&idx, name) &&
		 file_exists(c) && file_exists(k);

	pki_index_release(&idx);
	free(c);
	free(k);
	return ok;
}

int ovpn_profile(const char *datadir, const struct atlas_state *st, const char *name,
		 struct buf *out, struct atlas_err *err)
{
	struct buf ca = BUF_INIT, cert = BUF_INIT, key = BUF_INIT, tc = BUF_INIT;
	struct ovpn_client_pki pki = { 0 };
	const struct ovpn_client *cl = state_ovpn_client(st, name);
	char *dir = xasprintf("%s/pki", datadir), *path = NULL, *server_cn = NULL;
	int ret = -1;

	if (!cl) {
		err_set(err, ERR_NOTFOUND, "openvpn client \"%s\" does not exist", name);
		goto out;
	}
	server_cn = pki_server_cn(dir);
	/* the server's files are elsewhere; refuse its name all the same */
	if (!strcmp(name, server_cn)) {
		err_set(err, ERR_CONFLICT,
			"\"%s\" is the name of the server certificate, not of a client", name);
		goto out;
	}
	if (!has_cert(dir, name)) {
		err_set(err, ERR_NOTFOUND,
			"openvpn client \"%s\" has no certificate yet: it is issued by the next apply",
			name);
		goto out;
	}
	path = xasprintf("%s/ca.crt", dir);
	if (pki_read_cert_pem(path, &ca, err) < 0)
		goto out;
	free(path);
	path = pki_cert_path(dir, name);
	if (pki_read_cert_pem(path, &cert, err) < 0)
		goto out;
	free(path);
	path = pki_key_path(dir, name);
	if (file_read(path, 65536, &key, err) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/tls-crypt.key", dir);
	if (file_read(path, 65536, &tc, err) < 0)
		goto out;
	pki.ca = buf_str(&ca);
	pki.cert = buf_str(&cert);
	pki.key = buf_str(&key);
	pki.tls_crypt = buf_str(&tc);
	pki.server_cn = server_cn;
	ret = render_ovpn_client(st, cl, &pki, out, err);
out:
	buf_release(&ca);
	buf_release(&cert);
	buf_release_secure(&key);
	buf_release_secure(&tc);
	free(path);
	free(server_cn);
	free(dir);
	return ret;
}
