/*
 * pki_crl.c - the certificate revocation list: written from the revoked
 * entries of the index (CRL v2, crlNumber, AKI, SHA-256, valid PKI_CRL_DAYS)
 * and inspected against the CA and the index, so the driver can tell a
 * missing, foreign, outdated or soon expiring CRL.
 *
 * OpenVPN re-reads crl.pem at every new connection when it changed; an
 * expired or unreadable CRL locks everyone out, hence 0644 and the early
 * reissue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/fileio.h"
#include "controller/openvpn/pki.h"
#include "controller/openvpn/pki_priv.h"

/* The crlNumber of the current CRL or DIR/crlnumber, whichever is larger; -1 when none. */
static long last_crl_number(const char *dir)
{
	char *path = xasprintf("%s/crlnumber", dir);
	struct pki_crl_info info;
	struct buf b = BUF_INIT;
	long n = -1;

	if (file_read(path, 64, &b, NULL) == 0)
		n = strtol(buf_str(&b), NULL, 16) - 1; /* openssl keeps the next number */
	if (pki_crl_inspect(dir, NULL, &info, NULL) == 0 && info.number > n)
		n = info.number;
	buf_release(&b);
	free(path);
	return n;
}

static int serial_from_hex(const char *hex, ASN1_INTEGER **out)
{
	BIGNUM *bn = NULL;
	int ok = BN_hex2bn(&bn, hex) > 0;

	*out = ok ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	return *out ? 0 : -1;
}

/* "YYMMDDHHMMSSZ[,reason]" to an ASN1_TIME. */
static ASN1_TIME *revdate_time(const char *revdate)
{
	char t[24];
	ASN1_TIME *at = ASN1_TIME_new();
	size_t n = strcspn(revdate, ",");

	snprintf(t, sizeof(t), "%.*s", (int)(n < sizeof(t) ? n : sizeof(t) - 1), revdate);
	if (!ASN1_TIME_set_string(at, t)) {
		ASN1_TIME_free(at);
		return NULL;
	}
	return at;
}

int pki_write_crl(const char *dir, const struct pki_index *idx, time_t now,
		  struct atlas_err *err)
{
	char *path = xasprintf("%s/crl.pem", dir), *npath = xasprintf("%s/crlnumber", dir);
	X509_CRL *crl = X509_CRL_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_TIME *tm = ASN1_TIME_new();
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	BIO *b;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char e[256], numtext[32];
	long number;
	int ret = -1;

	if (pki_load_ca(dir, &ca, &key, err) < 0)
		goto out;
	number = last_crl_number(dir) + 1;
	if (number < 1)
		number = 1;
	X509_CRL_set_version(crl, 1); /* v2 */
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_time_adj_ex(tm, 0, -3600, &now);
	X509_CRL_set1_lastUpdate(crl, tm);
	X509_time_adj_ex(tm, PKI_CRL_DAYS, 0, &now);
	X509_CRL_set1_nextUpdate(crl, tm);
	for (size_t i = 0; idx && i < idx->n; i++) {
		const struct pki_entry *en = &idx->v[i];
		X509_REVOKED *r;
		ASN1_INTEGER *serial;
		ASN1_TIME *when;

		if (en->status != 'R')
			continue;
		if (serial_from_hex(en->serial, &serial) < 0) {
			err_set(err, ERR_INVALID, "index: serial \"%s\" of \"%s\" is not hex",
				en->serial, en->cn);
			goto out;
		}
		when = revdate_time(en->revdate);
		if (!when) {
			ASN1_INTEGER_free(serial);
			err_set(err, ERR_INVALID, "index: revocation date \"%s\" of \"%s\" is invalid",
				en->revdate, en->cn);
			goto out;
		}
		r = X509_REVOKED_new();
		X509_REVOKED_set_serialNumber(r, serial);
		X509_REVOKED_set_revocationDate(r, when);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(serial);
		ASN1_TIME_free(when);
	}
	X509_CRL_sort(crl);
	ASN1_INTEGER_set(num, number);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	X509V3_set_ctx(&v3, ca, NULL, NULL, crl, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
	if (!ext || !X509_CRL_add_ext(crl, ext, -1)) {
		X509_EXTENSION_free(ext);
		err_set(err, ERR_INTERNAL, "cannot add the AKI to the CRL: %s",
			pki_ssl_error(e, sizeof(e)));
		goto out;
	}
	X509_EXTENSION_free(ext);
	if (!X509_CRL_sign(crl, key, EVP_sha256())) {
		err_set(err, ERR_INTERNAL, "cannot sign the CRL: %s", pki_ssl_error(e, sizeof(e)));
		goto out;
	}
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_CRL(b, crl);
	if (pki_save_pem(path, b, 0644, err) < 0)
		goto out;
	/* Like openssl ca: the file holds the next number. */
	snprintf(numtext, sizeof(numtext), "%02lX\n", number + 1);
	if (strlen(numtext) % 2 == 0) /* odd digit count + "\n": pad to even */
		snprintf(numtext, sizeof(numtext), "0%lX\n", number + 1);
	if (file_write_atomic(npath, numtext, strlen(numtext), 0644, err) < 0)
		goto out;
	ret = 0;
out:
	X509_CRL_free(crl);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tm);
	EVP_PKEY_free(key);
	X509_free(ca);
	free(path);
	free(npath);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A serial in hex compared as a number: leading zeros dropped. */
static char *serial_norm(const char *hex)
{
	while (hex[0] == '0' && hex[1])
		hex++;
	return xstrdup(hex);
}

/* 1 when the CRL lists exactly the R serials of idx. */
static int crl_matches(X509_CRL *crl, const struct pki_index *idx)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	size_t nr = rev ? (size_t)sk_X509_REVOKED_num(rev) : 0, ni = 0, k = 0;
	char **a, **b;
	int same = 1;

	for (size_t i = 0; i < idx->n; i++)
		ni += idx->v[i].status == 'R';
	if (ni != nr)
		return 0;
	a = xcalloc(nr + 1, sizeof(*a));
	b = xcalloc(ni + 1, sizeof(*b));
	for (size_t i = 0; i < nr; i++) {
		char hex[72];

		pki_serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, (int)i)),
			       hex, sizeof(hex));
		a[i] = serial_norm(hex);
	}
	for (size_t i = 0; i < idx->n; i++)
		if (idx->v[i].status == 'R')
			b[k++] = serial_norm(idx->v[i].serial);
	qsort(a, nr, sizeof(*a), cmp_str);
	qsort(b, ni, sizeof(*b), cmp_str);
	for (size_t i = 0; i < nr; i++)
		same &= !strcmp(a[i], b[i]);
	for (size_t i = 0; i < nr; i++) {
		free(a[i]);
		free(b[i]);
	}
	free(a);
	free(b);
	return same;
}

int pki_crl_inspect(const char *dir, const struct pki_index *idx, struct pki_crl_info *out,
		    struct atlas_err *err)
{
	char *path = xasprintf("%s/crl.pem", dir);
	struct buf text = BUF_INIT;
	X509_CRL *crl = NULL;
	EVP_PKEY *pub = NULL;
	X509 *ca = NULL;
	BIO *b = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->number = -1;
	if (pki_load_ca(dir, &ca, NULL, err) < 0)
		goto out;
	ret = 0;
	if (file_read(path, 64u << 20, &text, NULL) < 0)
		goto out;
	out->present = 1;
	b = BIO_new_mem_buf(buf_str(&text), (int)text.len);
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	pub = X509_get0_pubkey(ca);
	if (!crl || X509_CRL_verify(crl, pub) != 1 ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca))) {
		ERR_clear_error();
		goto out;
	}
	out->valid = 1;
	{
		const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
		struct tm tm;
		ASN1_INTEGER *num;

		if (nu && ASN1_TIME_to_tm(nu, &tm))
			out->next_update = timegm(&tm);
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		if (num)
			out->number = ASN1_INTEGER_get(num);
		ASN1_INTEGER_free(num);
	}
	if (X509_CRL_get_REVOKED(crl))
		out->nrevoked = (size_t)sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	out->matches = idx ? crl_matches(crl, idx) : 0;
out:
	BIO_free(b);
	X509_CRL_free(crl);
	X509_free(ca);
	buf_release(&text);
	free(path);
	return ret;
}
