/*
 * tls.c - the certificate and key `atlas serve` presents over HTTPS
 * (GnuTLS credentials handed to libmicrohttpd at each handshake).
 *
 * GnuTLS's retrieve callback has no user pointer, so the one tls in use is
 * a file-level pointer (one server per process). Reloading builds a new pair
 * beside the current one and switches a pointer under a mutex; old pairs
 * stay allocated until tls_free because a handshake running in another
 * thread may still hold them (a reload is rare: a certbot renewal).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "api/tls.h"
#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/log.h"

#define MAX_CHAIN 16
#define PEM_MAX	  (1024 * 1024)

struct pair {
	gnutls_pcert_st chain[MAX_CHAIN];
	unsigned nchain;
	gnutls_privkey_t key;
	char fingerprint[96];
	struct pair *older;
};

struct tls {
	char *cert_file, *key_file;
	char *want_cert, *want_key; /* tls_want: tried first at each reload, NULL: none */
	pthread_mutex_t mu;
	struct pair *cur; /* newest; ->older the ones replaced */
};

static struct tls *in_use;

static void pair_free(struct pair *p)
{
	while (p) {
		struct pair *o = p->older;

		for (unsigned i = 0; i < p->nchain; i++)
			gnutls_pcert_deinit(&p->chain[i]);
		if (p->key)
			gnutls_privkey_deinit(p->key);
		free(p);
		p = o;
	}
}

/* 0 when key signs what the leaf certificate's public key verifies. */
static int pair_matches(struct pair *p)
{
	static const unsigned char probe[] = "atlas tls key check";
	gnutls_datum_t data = {(unsigned char *)probe, sizeof(probe)}, sig = {NULL, 0};
	int pk = gnutls_pubkey_get_pk_algorithm(p->chain[0].pubkey, NULL);
	gnutls_sign_algorithm_t algo = gnutls_pk_to_sign((gnutls_pk_algorithm_t)pk, GNUTLS_DIG_SHA256);
	int ret;

	if (gnutls_privkey_sign_data(p->key, GNUTLS_DIG_SHA256, 0, &data, &sig) < 0)
		return -1;
	ret = gnutls_pubkey_verify_data2(p->chain[0].pubkey, algo, 0, &data, &sig) < 0 ? -1 : 0;
	gnutls_free(sig.data);
	return ret;
}

static struct pair *pair_load(const char *cert_file, const char *key_file, struct atlas_err *err)
{
	struct buf cb = {0}, kb = {0};
	struct pair *p = xcalloc(1, sizeof(*p));
	unsigned char fp[32];
	size_t fplen = sizeof(fp);
	gnutls_datum_t d;
	int rc;

	if (file_read(cert_file, PEM_MAX, &cb, err) < 0) {
		err_wrap(err, "TLS certificate \"%s\"", cert_file);
		goto fail;
	}
	if (file_read(key_file, PEM_MAX, &kb, err) < 0) {
		err_wrap(err, "TLS key \"%s\"", key_file);
		goto fail;
	}
	p->nchain = MAX_CHAIN;
	d.data = (unsigned char *)cb.data;
	d.size = (unsigned)cb.len;
	rc = gnutls_pcert_list_import_x509_raw(p->chain, &p->nchain, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || !p->nchain) {
		p->nchain = 0;
		err_set(err, ERR_INVALID, "TLS certificate \"%s\": %s", cert_file,
			rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
		goto fail;
	}
	d.data = (unsigned char *)kb.data;
	d.size = (unsigned)kb.len;
	if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		err_set(err, ERR_INVALID, "TLS key \"%s\": %s", key_file, gnutls_strerror(rc));
		goto fail;
	}
	if (pair_matches(p) < 0) {
		err_set(err, ERR_INVALID, "TLS key \"%s\" does not belong to the certificate \"%s\"",
			key_file, cert_file);
		goto fail;
	}
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &p->chain[0].cert, fp, &fplen) < 0 ||
	    fplen != sizeof(fp)) {
		err_set(err, ERR_INTERNAL, "TLS certificate \"%s\": no fingerprint", cert_file);
		goto fail;
	}
	for (size_t i = 0; i < fplen; i++)
		snprintf(p->fingerprint + 3 * i, 4, i + 1 < fplen ? "%02X:" : "%02X", fp[i]);
	buf_release_secure(&kb);
	buf_release(&cb);
	return p;
fail:
	buf_release_secure(&kb);
	buf_release(&cb);
	pair_free(p);
	return NULL;
}

struct tls *tls_new(const char *cert_file, const char *key_file, struct atlas_err *err)
{
	struct pair *p = pair_load(cert_file, key_file, err);
	struct tls *t;

	if (!p)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->cert_file = xstrdup(cert_file);
	t->key_file = xstrdup(key_file);
	pthread_mutex_init(&t->mu, NULL);
	t->cur = p;
	in_use = t;
	return t;
}

void tls_want(struct tls *t, const char *cert_file, const char *key_file)
{
	free(t->want_cert);
	free(t->want_key);
	t->want_cert = xstrdup(cert_file);
	t->want_key = xstrdup(key_file);
}

int tls_reload(struct tls *t, struct atlas_err *err)
{
	struct pair *p = NULL;

	if (t->want_cert && (p = pair_load(t->want_cert, t->want_key, err))) {
		/* the wanted pair loads now: from here on it is the one read again */
		free(t->cert_file);
		free(t->key_file);
		t->cert_file = t->want_cert;
		t->key_file = t->want_key;
		t->want_cert = t->want_key = NULL;
	} else if (t->want_cert) {
		log_warn("TLS: %s: still serving %s", err->msg, t->cert_file);
	}
	if (!p && !(p = pair_load(t->cert_file, t->key_file, err)))
		return -1;
	pthread_mutex_lock(&t->mu);
	p->older = t->cur;
	t->cur = p;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	if (in_use == t)
		in_use = NULL;
	pair_free(t->cur);
	pthread_mutex_destroy(&t->mu);
	free(t->cert_file);
	free(t->key_file);
	free(t->want_cert);
	free(t->want_key);
	free(t);
}

const char *tls_fingerprint(const struct tls *t)
{
	return t->cur->fingerprint;
}

static int retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct tls *t = in_use;

	(void)s;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!t)
		return -1;
	pthread_mutex_lock(&t->mu);
	*pcert = t->cur->chain;
	*pcert_length = t->cur->nchain;
	*privkey = t->cur->key;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void *tls_cert_callback(struct tls *t)
{
	(void)t;
	return (void *)(gnutls_certificate_retrieve_function2 *)retrieve;
}

int tls_listen_is_loopback(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char host[128];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = colon ? (size_t)(colon - listen) : strlen(listen);

	if (n >= sizeof(host))
		return 0;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
