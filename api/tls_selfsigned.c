/*
 * tls_selfsigned.c - the certificate a fresh panel on a public address
 * serves until the admin gives it a real one: ECDSA P-256, self-signed,
 * for the listen address and "localhost", valid 825 days, stored with its
 * key 0600 in DATADIR/tls/. The admin checks its fingerprint (printed at
 * every start) in the browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/tls.h"
#include "lib/buf.h"
#include "lib/fileio.h"

#define DAYS 825

/* The host part of "ADDR:PORT" / "[V6]:PORT" into host. */
static void listen_host(const char *listen, char *host, size_t len)
{
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : strlen(listen);

	if (n >= len)
		n = len - 1;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* PEM of a new pair into cert and key (appended). */
static int make_pair(const char *host, struct buf *cert, struct buf *key, struct atlas_err *err)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char san[300];
	struct in_addr a4;
	struct in6_addr a6;
	char *p;
	long n;
	int ret = -1;

	if (!pk || !x || !bc || !bk || RAND_bytes(serial, sizeof(serial)) != 1) {
		err_set(err, ERR_INTERNAL, "cannot create a TLS key (OpenSSL)");
		goto out;
	}
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	/* a wildcard (0.0.0.0, ::) is no address a browser goes to: localhost alone */
	if ((inet_pton(AF_INET, host, &a4) == 1 && a4.s_addr != INADDR_ANY) ||
	    (inet_pton(AF_INET6, host, &a6) == 1 && !IN6_IS_ADDR_UNSPECIFIED(&a6)))
		snprintf(san, sizeof(san), "IP:%s,DNS:localhost", host);
	else
		snprintf(san, sizeof(san), "DNS:localhost");
	name = X509_get_subject_name(x);
	if (!bn || !X509_set_version(x, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)DAYS * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"Atlas panel (self-signed)", -1, -1,
					0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pk) ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_subject_alt_name, san) < 0 || !X509_sign(x, pk, EVP_sha256()) ||
	    !PEM_write_bio_X509(bc, x) ||
	    !PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL)) {
		err_set(err, ERR_INTERNAL, "cannot create the self-signed TLS certificate (OpenSSL)");
		goto out;
	}
	n = BIO_get_mem_data(bc, &p);
	buf_add(cert, p, (size_t)n);
	n = BIO_get_mem_data(bk, &p);
	buf_add(key, p, (size_t)n);
	ret = 0;
out:
	BN_free(bn);
	BIO_free(bc);
	BIO_free_all(bk);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ret;
}

int tls_self_signed(const char *datadir, const char *listen, char **cert_file, char **key_file,
		    int *created, struct atlas_err *err)
{
	char *dir = xasprintf("%s/tls", datadir);
	char *c = xasprintf("%s/cert.pem", dir), *k = xasprintf("%s/key.pem", dir);
	struct buf cb = {0}, kb = {0};
	char host[128];
	int ret = -1;

	*created = 0;
	*cert_file = *key_file = NULL;
	if (file_exists(c) && file_exists(k))
		goto done;
	listen_host(listen, host, sizeof(host));
	if (mkdir_p(dir, 0700, err) < 0 || make_pair(host, &cb, &kb, err) < 0)
		goto out;
	/* The key first: a cert.pem never exists without its key. */
	if (file_write_atomic(k, kb.data, kb.len, 0600, err) < 0 ||
	    file_write_atomic(c, cb.data, cb.len, 0600, err) < 0)
		goto out;
	*created = 1;
done:
	*cert_file = c;
	*key_file = k;
	c = k = NULL;
	ret = 0;
out:
	buf_release_secure(&kb);
	buf_release(&cb);
	free(dir);
	free(c);
	free(k);
	return ret;
}
