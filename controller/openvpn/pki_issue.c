/*
 * pki_issue.c - issuing and revoking the server and client certificates.
 *
 * Key usages are what remote-cert-tls checks (docs/openvpn.md, Files):
 * server CA:FALSE, digitalSignature and keyEncipherment, EKU serverAuth;
 * client CA:FALSE, digitalSignature, EKU clientAuth. The index is changed in memory; the caller writes it once per
 * batch (1,000 certificates do not rewrite it 1,000 times).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "lib/fault.h"
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

/*
 * A certificate file left at cpath whose serial has no entry in idx (a kill
 * between writing it and writing the index) may have been handed out: it is
 * entered as revoked so the CRL lists it before the new one replaces it.
 */
static void enter_orphan(struct pki_index *idx, const char *cpath, const char *cn)
{
	X509 *old = file_exists(cpath) ? pki_load_cert(cpath, NULL) : NULL;
	char serial[72], expiry[24], date[48];

	if (!old)
		return;
	pki_serial_hex(X509_get0_serialNumber(old), serial, sizeof(serial));
	for (size_t i = 0; i < idx->n; i++)
		if (!strcmp(idx->v[i].serial, serial))
			goto out;
	pki_time_text(X509_get0_notAfter(old), expiry, sizeof(expiry));
	index_date(time(NULL), date, sizeof(date));
	strncat(date, ",superseded", sizeof(date) - strlen(date) - 1);
	pki_index_add(idx, 'R', expiry, date, serial, cn);
out:
	X509_free(old);
}

/* Removes DIR/server.new and the two files it may hold (nothing else is ever put there). */
static int drop_server_tmp(const char *tmp, struct atlas_err *err)
{
	static const char *const names[] = { "server.crt", "server.key" };

	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", tmp, names[i]);
		int rc = unlink(p);

		free(p);
		if (rc < 0 && errno != ENOENT && errno != ENOTDIR)
			return err_set(err, ERR_IO, "unlink in \"%s\": %s", tmp, strerror(errno));
	}
	if (rmdir(tmp) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO, "rmdir \"%s\": %s", tmp, strerror(errno));
	return 0;
}

/* Puts the complete folder tmp in place of DIR/server in one rename; the old one goes. */
static int publish_server(const char *dir, const char *tmp, struct atlas_err *err)
{
	char *final = xasprintf("%s/" PKI_SERVER_DIR, dir);
	int ret = -1;

	if (rename(tmp, final) == 0) {
		ret = 0;
	} else if (errno == ENOTEMPTY || errno == EEXIST) {
		/* swap the two folders atomically, then drop the old one (now at tmp) */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) < 0)
			err_set(err, ERR_IO, "rename \"%s\": %s", tmp, strerror(errno));
		else
			ret = drop_server_tmp(tmp, err);
	} else {
		err_set(err, ERR_IO, "rename \"%s\": %s", tmp, strerror(errno));
	}
	free(final);
	return ret;
}

int pki_issue(const char *dir, struct pki_index *idx, const char *cn, int server,
	      struct atlas_err *err)
{
	char *tmp = server ? xasprintf("%s/" PKI_SERVER_DIR ".new", dir) : NULL;
	char *cpath = server ? xasprintf("%s/server.crt", tmp) : pki_cert_path(dir, cn);
	char *kpath = server ? xasprintf("%s/server.key", tmp) : pki_key_path(dir, cn);
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
	if (server) {
		if (drop_server_tmp(tmp, err) < 0)
			goto out;
		if (mkdir(tmp, 0700) < 0) {
			err_set(err, ERR_IO, "mkdir \"%s\": %s", tmp, strerror(errno));
			goto out;
		}
	} else {
		/* a lost issued/ or private/ folder is made again, not an error forever */
		if (pki_make_dirs(dir, err) < 0)
			goto out;
		enter_orphan(idx, cpath, cn);
	}
	if (pki_save_key(kpath, key, err) < 0 || pki_save_cert(cpath, crt, err) < 0)
		goto out;
	fault_point(server ? "pki-server-staged" : "pki-cert-written");
	if (server && publish_server(dir, tmp, err) < 0)
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
	if (ret < 0 && server)
		drop_server_tmp(tmp, NULL);
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	free(cpath);
	free(kpath);
	free(tmp);
	return ret;
}

int pki_server_legacy(const char *dir, const char *cn)
{
	char *c = pki_cert_path(dir, cn), *k = pki_key_path(dir, cn);
	int ret = !pki_has_server(dir) && file_exists(c) && file_exists(k);

	free(c);
	free(k);
	return ret;
}

/* Links from to to (to must not exist). */
static int link_into(const char *from, const char *to, struct atlas_err *err)
{
	if (link(from, to) < 0)
		return err_set(err, ERR_IO, "link \"%s\" to \"%s\": %s", from, to,
			       strerror(errno));
	return 0;
}

/* Unlinks old when it is another name of the file cur. */
static int drop_same_file(const char *old, const char *cur, struct atlas_err *err)
{
	struct stat a, b;

	if (stat(old, &a) < 0 || stat(cur, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 0;
	if (unlink(old) < 0)
		return err_set(err, ERR_IO, "unlink \"%s\": %s", old, strerror(errno));
	return 0;
}

int pki_migrate_server(const char *dir, const char *cn, struct atlas_err *err)
{
	char *tmp = xasprintf("%s/" PKI_SERVER_DIR ".new", dir);
	char *c = pki_cert_path(dir, cn), *k = pki_key_path(dir, cn);
	char *tc = xasprintf("%s/server.crt", tmp), *tk = xasprintf("%s/server.key", tmp);
	int ret = -1;

	if (!pki_server_legacy(dir, cn)) {
		/* a kill after the rename: drop old names that are links to the new files */
		char *sc = pki_server_cert_path(dir), *sk = pki_server_key_path(dir);

		ret = drop_same_file(c, sc, err) < 0 || drop_same_file(k, sk, err) < 0 ? -1 : 0;
		free(sc);
		free(sk);
		goto out;
	}
	if (drop_server_tmp(tmp, err) < 0)
		goto out;
	if (mkdir(tmp, 0700) < 0) {
		err_set(err, ERR_IO, "mkdir \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	if (link_into(c, tc, err) < 0 || link_into(k, tk, err) < 0 ||
	    publish_server(dir, tmp, err) < 0)
		goto out;
	/* the new folder is whole: the old names are only second links now */
	if ((unlink(c) < 0 && errno != ENOENT) || (unlink(k) < 0 && errno != ENOENT)) {
		err_set(err, ERR_IO, "unlink \"%s\": %s", c, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		drop_server_tmp(tmp, NULL);
	free(tmp);
	free(c);
	free(k);
	free(tc);
	free(tk);
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
