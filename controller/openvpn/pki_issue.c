/*
 * pki_issue.c - issuing and revoking the server and client certificates.
 *
 * Key usages are what remote-cert-tls checks (docs/openvpn.md, Files):
 * server CA:FALSE, digitalSignature and keyEncipherment, EKU serverAuth;
 * client CA:FALSE, digitalSignature, EKU clientAuth. The index is changed in memory; the caller writes it once per
 * batch (1,000 certificates do not rewrite it 1,000 times).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "lib/fileio.h"
#include "controller/openvpn/pki.h"
#include "controller/openvpn/pki_priv.h"

/* The index keeps UTCTime, two-digit years, as openssl ca does. */
static void index_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int pki_issue(const char *dir, struct pki_index *idx, const char *cn, int server,
	      struct atlas_err *err)
{
	char *cpath = pki_cert_path(dir, cn), *kpath = pki_key_path(dir, cn);
	EVP_PKEY *key = NULL, *cakey = NULL;
	X509 *crt = NULL, *ca = NULL;
	char serial[72], expiry[24], e[256];
	int ret = -1;

	if (pki_load_ca(dir, &ca, &cakey, err) < 0)
		goto out;
	if (pki_new_cert(cn, &key, &crt, err) < 0)
		goto out;
	X509_set_issuer_name(crt, X509_get_subject_name(ca));
	if (pki_add_ext(crt, ca, NID_basic_constraints, "CA:FALSE", err) < 0 ||
	    pki_add_ext(crt, ca, NID_key_usage,
			server ? "critical,digitalSignature,keyEncipherment"
			       : "critical,digitalSignature",
			err) < 0 ||
	    pki_add_ext(crt, ca, NID_ext_key_usage, server ? "serverAuth" : "clientAuth", err) < 0 ||
	    pki_add_ext(crt, ca, NID_subject_key_identifier, "hash", err) < 0 ||
	    pki_add_ext(crt, ca, NID_authority_key_identifier, "keyid", err) < 0)
		goto out;
	if (!X509_sign(crt, cakey, EVP_sha256())) {
		err_set(err, ERR_INTERNAL, "cannot sign the certificate of \"%s\": %s", cn,
			pki_ssl_error(e, sizeof(e)));
		goto out;
	}
	if (pki_save_key(kpath, key, err) < 0 || pki_save_cert(cpath, crt, err) < 0)
		goto out;
	pki_serial_hex(X509_get0_serialNumber(crt), serial, sizeof(serial));
	pki_time_text(X509_get0_notAfter(crt), expiry, sizeof(expiry));
	/* an older certificate of the same name (its file lost) is superseded */
	for (size_t i = 0; i < idx->n; i++)
		if (idx->v[i].status == 'V' && !strcmp(idx->v[i].cn, cn)) {
			time_t now = time(NULL);

			idx->v[i].status = 'R';
			index_date(now, idx->v[i].revdate, sizeof(idx->v[i].revdate));
			strncat(idx->v[i].revdate, ",superseded",
				sizeof(idx->v[i].revdate) - strlen(idx->v[i].revdate) - 1);
		}
	pki_index_add(idx, 'V', expiry, "", serial, cn);
	ret = 0;
out:
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	free(cpath);
	free(kpath);
	return ret;
}

/* Moves issued/CN.crt to revoked/SERIAL.crt (when it is that serial's) and deletes the key. */
static int retire_files(const char *dir, const char *cn, const char *serial,
			struct atlas_err *err)
{
	char *cpath = pki_cert_path(dir, cn), *kpath = pki_key_path(dir, cn);
	char *dest = xasprintf("%s/revoked/%s.crt", dir, serial);
	char *rdir = xasprintf("%s/revoked", dir);
	int ret = -1;

	if (mkdir_p(rdir, 0755, err) < 0)
		goto out;
	if (file_exists(cpath)) {
		X509 *crt = pki_load_cert(cpath, NULL);
		char s[72] = "";

		if (crt)
			pki_serial_hex(X509_get0_serialNumber(crt), s, sizeof(s));
		X509_free(crt);
		/* A newer certificate of the same name stays where it is. */
		if (crt && strcmp(s, serial)) {
			ret = 0;
			goto out;
		}
		if (rename(cpath, dest) < 0) {
			err_set(err, ERR_IO, "rename \"%s\": %s", cpath, strerror(errno));
			goto out;
		}
	}
	if (unlink(kpath) < 0 && errno != ENOENT) {
		err_set(err, ERR_IO, "unlink \"%s\": %s", kpath, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(cpath);
	free(kpath);
	free(dest);
	free(rdir);
	return ret;
}

int pki_revoke(const char *dir, struct pki_index *idx, const char *cn, time_t now,
	       struct atlas_err *err)
{
	char date[24];

	index_date(now, date, sizeof(date));
	for (size_t i = 0; i < idx->n; i++) {
		struct pki_entry *e = &idx->v[i];

		if (e->status != 'V' || strcmp(e->cn, cn))
			continue;
		if (retire_files(dir, cn, e->serial, err) < 0)
			return -1;
		e->status = 'R';
		snprintf(e->revdate, sizeof(e->revdate), "%s", date);
	}
	return 0;
}
