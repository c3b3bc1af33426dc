/*
 * pki_priv.h - helpers shared by the files of the PKI (pki.c, pki_issue.c,
 * pki_crl.c, easyrsa_import.c); not for other modules.
 */
#ifndef ATLAS_PKI_PRIV_H
#define ATLAS_PKI_PRIV_H

#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/err.h"

/* Loads DIR/ca.crt and DIR/ca.key (new references; the caller frees them). */
int pki_load_ca(const char *dir, X509 **crt, EVP_PKEY **key, struct atlas_err *err);
/* Loads one PEM certificate (a text dump before it is skipped). */
X509 *pki_load_cert(const char *path, struct atlas_err *err);
/*
 * Loads an unencrypted PEM private key. An encrypted key fails with
 * ERR_UNSUPPORTED (*encrypted set to 1 when encrypted is not NULL).
 */
EVP_PKEY *pki_load_key(const char *path, int *encrypted, struct atlas_err *err);
/* Writes the PEM text of memory BIO b to path (mode), wipes it and frees b. */
int pki_save_pem(const char *path, BIO *b, mode_t mode, struct atlas_err *err);
int pki_save_cert(const char *path, X509 *crt, struct atlas_err *err);
int pki_save_key(const char *path, EVP_PKEY *key, struct atlas_err *err);
/* A new EC P-256 key, or NULL. */
EVP_PKEY *pki_new_key(struct atlas_err *err);
/*
 * An unsigned certificate (new, freed by the caller) for *key, or for a new
 * P-256 key stored in *key when *key is NULL: version 3, a random positive
 * 128-bit serial, valid from an hour ago for PKI_CERT_DAYS, subject CN=cn.
 * Issuer and extensions are the caller's. Returns -1 on failure (nothing
 * allocated; a key passed in stays the caller's).
 */
int pki_new_cert(const char *cn, EVP_PKEY **key, X509 **crt, struct atlas_err *err);
/* Serial as uppercase hex (at least 2 digits, even length) into buf (72 bytes). */
void pki_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len);
/* An ASN1_TIME as the index text YYMMDDHHMMSSZ (or the generalized form). */
void pki_time_text(const ASN1_TIME *t, char *buf, size_t len);
/* Adds a v3 extension given in openssl config syntax; issuer may be crt itself. */
int pki_add_ext(X509 *crt, X509 *issuer, int nid, const char *value, struct atlas_err *err);
/* The error queue of OpenSSL as one line (static-free: writes into buf). */
const char *pki_ssl_error(char *buf, size_t len);

#endif
