/*
 * easyrsa_import.c - taking over an easy-rsa 3 PKI (what the usual OpenVPN
 * install scripts leave in /etc/openvpn/easy-rsa/pki), so existing clients
 * keep their certificates.
 *
 * Everything is read and checked first (the CA and its key, unencrypted and
 * matching; every valid certificate signed by that CA with the serial the
 * index says; the CRL signed by it), then written into a temporary folder
 * next to the Atlas PKI, which is renamed into place last: a failure leaves
 * nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/fileio.h"
#include "lib/strv.h"
#include "state/validate.h"
#include "controller/openvpn/pki.h"
#include "controller/openvpn/pki_priv.h"

struct imported {
	char *cn;
	X509 *crt;
	EVP_PKEY *key;	/* NULL for a certificate without its key */
	int server;
};

struct import {
	const char *src;
	struct pki_index idx;
	X509 *ca;
	EVP_PKEY *cakey;
	struct imported *v;
	size_t n;
	char *server_cn;
	struct buf crl, tls_crypt;
};

static void import_release(struct import *im)
{
	pki_index_release(&im->idx);
	X509_free(im->ca);
	EVP_PKEY_free(im->cakey);
	for (size_t i = 0; i < im->n; i++) {
		free(im->v[i].cn);
		X509_free(im->v[i].crt);
		EVP_PKEY_free(im->v[i].key);
	}
	free(im->v);
	free(im->server_cn);
	buf_release(&im->crl);
	buf_release_secure(&im->tls_crypt);
}

static int has_eku(X509 *crt, int nid)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(crt, NID_ext_key_usage, NULL, NULL);
	int found = 0;

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
		found |= OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

static int read_ca(struct import *im, struct atlas_err *err)
{
	char *c = xasprintf("%s/ca.crt", im->src), *k = xasprintf("%s/private/ca.key", im->src);
	int enc = 0, ret = -1;

	if (!file_exists(c) || !file_exists(k)) {
		err_set(err, ERR_INVALID,
			"\"%s\" is not an easy-rsa 3 PKI: ca.crt or private/ca.key is missing",
			im->src);
		goto out;
	}
	im->ca = pki_load_cert(c, err);
	if (!im->ca)
		goto out;
	if (X509_check_ca(im->ca) < 1) {
		err_set(err, ERR_INVALID, "\"%s\" is not a CA certificate", c);
		goto out;
	}
	im->cakey = pki_load_key(k, &enc, err);
	if (!im->cakey) {
		if (enc)
			err_set(err, ERR_UNSUPPORTED,
				"the CA key \"%s\" is encrypted: decrypt it first with "
				"`openssl pkey -in %s -out %s.plain` and put the plain key in its place",
				k, k, k);
		goto out;
	}
	if (X509_check_private_key(im->ca, im->cakey) != 1) {
		ERR_clear_error();
		err_set(err, ERR_INVALID, "the CA key \"%s\" does not belong to \"%s\"", k, c);
		goto out;
	}
	ret = 0;
out:
	free(c);
	free(k);
	return ret;
}

/* Reads one valid certificate of the index and checks it against the CA. */
static int read_entry(struct import *im, const struct pki_entry *e, struct atlas_err *err)
{
	char *c = xasprintf("%s/issued/%s.crt", im->src, e->cn);
	char *k = xasprintf("%s/private/%s.key", im->src, e->cn);
	struct imported it = { 0 };
	char serial[72];
	int enc = 0, ret = -1;

	/* the CN names files and goes into server.conf: keep it to [A-Za-z0-9_.-] */
	if (!e->cn[0] || e->cn[0] == '.' || e->cn[0] == '-' ||
	    strspn(e->cn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(e->cn)) {
		err_set(err, ERR_INVALID,
			"the certificate \"%s\" has a common name atlas cannot use as a file name: "
			"keep to A-Z a-z 0-9 _ . -",
			e->cn);
		goto out;
	}
	it.crt = pki_load_cert(c, err);
	if (!it.crt)
		goto out;
	pki_serial_hex(X509_get0_serialNumber(it.crt), serial, sizeof(serial));
	if (X509_verify(it.crt, X509_get0_pubkey(im->ca)) != 1) {
		ERR_clear_error();
		err_set(err, ERR_INVALID, "\"%s\" is not signed by the CA of \"%s\"", c, im->src);
		goto out;
	}
	if (strcasecmp(serial, e->serial) &&
	    strcasecmp(serial + strspn(serial, "0"), e->serial + strspn(e->serial, "0"))) {
		err_set(err, ERR_INVALID, "\"%s\" has serial %s but index.txt says %s", c, serial,
			e->serial);
		goto out;
	}
	it.server = has_eku(it.crt, NID_server_auth);
	if (file_exists(k)) {
		it.key = pki_load_key(k, &enc, err);
		if (!it.key) {
			if (enc)
				err_set(err, ERR_UNSUPPORTED,
					"the key of \"%s\" (%s) is encrypted: decrypt it first with "
					"`openssl pkey -in %s -out %s.plain`",
					e->cn, k, k, k);
			goto out;
		}
		if (X509_check_private_key(it.crt, it.key) != 1) {
			ERR_clear_error();
			err_set(err, ERR_INVALID, "\"%s\" does not belong to \"%s\"", k, c);
			goto out;
		}
	}
	if (!it.server && !name_valid(e->cn)) {
		err_set(err, ERR_INVALID,
			"client \"%s\" cannot keep its name in atlas: use 1 to 63 of a-z 0-9 _ . - "
			"starting with a letter or digit",
			e->cn);
		goto out;
	}
	it.cn = xstrdup(e->cn);
	im->v = xrealloc(im->v, (im->n + 1) * sizeof(*im->v));
	im->v[im->n++] = it;
	memset(&it, 0, sizeof(it));
	ret = 0;
out:
	X509_free(it.crt);
	EVP_PKEY_free(it.key);
	free(c);
	free(k);
	return ret;
}

static int read_all(struct import *im, const char *tls_crypt, struct atlas_err *err)
{
	char *crl = xasprintf("%s/crl.pem", im->src);
	int ret = -1;

	if (read_ca(im, err) < 0 || pki_index_read(im->src, &im->idx, err) < 0)
		goto out;
	{
		char *ip = xasprintf("%s/index.txt", im->src);
		int have = file_exists(ip);

		free(ip);
		if (!have) {
			err_set(err, ERR_INVALID, "\"%s\" is not an easy-rsa 3 PKI: no index.txt",
				im->src);
			goto out;
		}
	}
	for (size_t i = 0; i < im->idx.n; i++) {
		const struct pki_entry *e = &im->idx.v[i];

		if (e->status == 'V' && read_entry(im, e, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < im->n; i++)
		if (im->v[i].server && im->v[i].key && !im->server_cn)
			im->server_cn = xstrdup(im->v[i].cn);
	if (file_read(crl, 64u << 20, &im->crl, NULL) == 0) {
		BIO *b = BIO_new_mem_buf(buf_str(&im->crl), (int)im->crl.len);
		X509_CRL *c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		int ok = c && X509_CRL_verify(c, X509_get0_pubkey(im->ca)) == 1;

		X509_CRL_free(c);
		BIO_free(b);
		ERR_clear_error();
		if (!ok) {
			err_set(err, ERR_INVALID, "\"%s\" is not a CRL signed by the CA of \"%s\"",
				crl, im->src);
			goto out;
		}
	}
	if (tls_crypt) {
		if (file_read(tls_crypt, 65536, &im->tls_crypt, err) < 0)
			goto out;
		if (!strstr(buf_str(&im->tls_crypt), "-----BEGIN OpenVPN Static key V1-----")) {
			err_set(err, ERR_INVALID, "\"%s\" is not an OpenVPN static key", tls_crypt);
			goto out;
		}
	}
	ret = 0;
out:
	free(crl);
	return ret;
}

/* Writes b to DIR/NAME (atomically, with mode). */
static int write_in(const char *dir, const char *name, const struct buf *b, mode_t mode,
		    struct atlas_err *err)
{
	char *p = xasprintf("%s/%s", dir, name);
	int rc = file_write_atomic(p, b->data, b->len, mode, err);

	free(p);
	return rc;
}

static int write_all(struct import *im, const char *dir, time_t now, struct atlas_err *err)
{
	char *p;
	int rc;

	/* the CA goes in through the same folder layout pki_create_ca makes */
	if (mkdir_p(dir, 0755, err) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		static const char *const sub[] = { "issued", "private", "revoked", PKI_SERVER_DIR };

		p = xasprintf("%s/%s", dir, sub[i]);
		rc = mkdir_p(p, i == 1 || i == 3 ? 0700 : 0755, err);
		free(p);
		if (rc < 0)
			return -1;
	}
	p = xasprintf("%s/ca.key", dir);
	rc = pki_save_key(p, im->cakey, err);
	free(p);
	if (rc < 0)
		return -1;
	p = xasprintf("%s/ca.crt", dir);
	rc = pki_save_cert(p, im->ca, err);
	free(p);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < im->n; i++) {
		/* the server's pair goes to server/, where no client name reaches */
		int srv = im->server_cn && im->v[i].server && im->v[i].key &&
			  !strcmp(im->v[i].cn, im->server_cn);

		p = srv ? pki_server_cert_path(dir) : pki_cert_path(dir, im->v[i].cn);
		rc = pki_save_cert(p, im->v[i].crt, err);
		free(p);
		if (rc == 0 && im->v[i].key) {
			p = srv ? pki_server_key_path(dir) : pki_key_path(dir, im->v[i].cn);
			rc = pki_save_key(p, im->v[i].key, err);
			free(p);
		}
		if (rc < 0)
			return -1;
	}
	if (pki_index_write(dir, &im->idx, err) < 0)
		return -1;
	if (im->server_cn && pki_set_server_cn(dir, im->server_cn, err) < 0)
		return -1;
	if (im->tls_crypt.len && write_in(dir, "tls-crypt.key", &im->tls_crypt, 0600, err) < 0)
		return -1;
	/* keep the old CRL so its crlNumber carries on, then reissue ours */
	if (im->crl.len && write_in(dir, "crl.pem", &im->crl, 0644, err) < 0)
		return -1;
	return pki_write_crl(dir, &im->idx, now, err);
}

/* Removes a folder tree this import made (only known names inside). */
/* Removes the files of dir (not its subfolders). */
static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			char *f = xasprintf("%s/%s", dir, de->d_name);

			unlink(f);
			free(f);
		}
	closedir(d);
}

static void remove_tree(const char *dir)
{
	static const char *const sub[] = { "issued", "private", "revoked", PKI_SERVER_DIR, NULL };

	for (size_t i = 0; sub[i]; i++) {
		char *p = xasprintf("%s/%s", dir, sub[i]);

		empty_dir(p);
		rmdir(p);
		free(p);
	}
	empty_dir(dir);
	rmdir(dir);
}

int pki_import_easyrsa(const char *src, const char *dir, const char *tls_crypt,
		       struct strv *clients, struct atlas_err *err)
{
	struct import im = { 0 };
	char *inner = xasprintf("%s/pki", src), *tmp = NULL;
	int ret = -1;

	im.src = src;
	/* DIR may be the easy-rsa folder that holds pki/ */
	{
		char *ca = xasprintf("%s/ca.crt", src);

		if (!file_exists(ca) && file_exists(inner))
			im.src = inner;
		free(ca);
	}
	if (file_exists(dir)) {
		err_set(err, ERR_CONFLICT,
			"an atlas PKI exists already in \"%s\": import into a new data directory",
			dir);
		goto out;
	}
	if (read_all(&im, tls_crypt, err) < 0)
		goto out;
	tmp = xasprintf("%s.import.%ld", dir, (long)getpid());
	remove_tree(tmp);
	if (write_all(&im, tmp, time(NULL), err) < 0) {
		remove_tree(tmp);
		goto out;
	}
	if (rename(tmp, dir) < 0) {
		err_set(err, ERR_IO, "rename \"%s\": %s", tmp, strerror(errno));
		remove_tree(tmp);
		goto out;
	}
	for (size_t i = 0; i < im.n; i++)
		if (strcmp(im.v[i].cn, im.server_cn ? im.server_cn : "") && !im.v[i].server)
			strv_push(clients, im.v[i].cn);
	ret = 0;
out:
	import_release(&im);
	free(inner);
	free(tmp);
	return ret;
}
