/*
 * pki.h - the OpenVPN PKI of Atlas, done with the OpenSSL 3 C API (no
 * easy-rsa, no `openssl` command).
 *
 * Layout under DIR (DATADIR/pki):
 *   ca.crt, ca.key (0600)          the CA: EC P-256, SHA-256
 *   issued/NAME.crt                one certificate per client
 *   private/NAME.key (0600)
 *   server/server.crt, server.key  the server's certificate and key (0700 folder):
 *                                  fixed names, so no client name can address them
 *   revoked/SERIAL.crt             certificates moved away when revoked
 *   index.txt                      easy-rsa format: V|R expiry revdate serial unknown /CN=x
 *   crl.pem (0644)                 CRL v2 with crlNumber and AKI
 *   crlnumber                      the last crlNumber, hex
 *   tls-crypt.key (0600)           OpenVPN Static key V1, 256 random bytes
 *   server_cn                      the CN of the server certificate
 *
 * Serials are random positive 128-bit numbers, written as uppercase hex.
 * Every write is atomic (file_write_atomic). Functions fail with a message
 * naming the file; nothing is half-written.
 */
#ifndef ATLAS_PKI_H
#define ATLAS_PKI_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"

#define PKI_SERVER_CN "atlas-server"
#define PKI_SERVER_DIR "server"
#define PKI_CERT_DAYS 3650
#define PKI_CRL_DAYS 180
/* The CRL is reissued when fewer days than this are left before nextUpdate. */
#define PKI_CRL_RENEW_DAYS 90

struct pki_entry {
	char status;		/* 'V' valid, 'R' revoked, 'E' expired */
	char expiry[24];	/* ASN.1 time text, YYMMDDHHMMSSZ */
	char revdate[48];	/* empty unless revoked; may carry ",reason" */
	char serial[72];	/* uppercase hex */
	char *cn;		/* owned */
};

struct pki_index {
	struct pki_entry *v;
	size_t n, cap;
};

/* Parses index.txt text. Lines it cannot read are an error naming the line. */
int pki_index_parse(const char *text, size_t len, struct pki_index *idx, struct atlas_err *err);
/* Reads DIR/index.txt; a missing file is an empty index. */
int pki_index_read(const char *dir, struct pki_index *idx, struct atlas_err *err);
void pki_index_format(const struct pki_index *idx, struct buf *out);
int pki_index_write(const char *dir, const struct pki_index *idx, struct atlas_err *err);
void pki_index_add(struct pki_index *idx, char status, const char *expiry, const char *revdate,
		   const char *serial, const char *cn);
void pki_index_release(struct pki_index *idx);
/* The last valid entry of cn, borrowed, or NULL. */
struct pki_entry *pki_index_valid(const struct pki_index *idx, const char *cn);

/* "DIR/issued/NAME.crt" etc.: new strings, caller frees. */
char *pki_cert_path(const char *dir, const char *cn);
char *pki_key_path(const char *dir, const char *cn);

/* "DIR/server/server.crt" and "DIR/server/server.key": new strings. */
char *pki_server_cert_path(const char *dir);
char *pki_server_key_path(const char *dir);
/* 1 when DIR/server holds both the server certificate and its key. */
int pki_has_server(const char *dir);
/* 1 when the server certificate still lies in issued/CN.crt, private/CN.key (before 0.x). */
int pki_server_legacy(const char *dir, const char *cn);
/*
 * Moves a server certificate of the old layout (issued/CN.crt and
 * private/CN.key, where a client of that name could reach them) to
 * DIR/server/: both files are hard-linked into DIR/server.new, which is
 * renamed to DIR/server, then the old names are removed. A kill at any point
 * leaves either the old layout or the new one (a leftover server.new is
 * discarded on the next run). A no-op when there is nothing to move.
 */
int pki_migrate_server(const char *dir, const char *cn, struct atlas_err *err);

/* Makes dir and its issued/, private/ and revoked/ folders when missing (0700 / 0755). */
int pki_make_dirs(const char *dir, struct atlas_err *err);

/* 1 when DIR has a CA (ca.crt and ca.key). */
int pki_has_ca(const char *dir);
/* Creates DIR, its subfolders and a new CA (overwrites nothing: fails if one exists). */
int pki_create_ca(const char *dir, const char *cn, struct atlas_err *err);
/* Writes a new tls-crypt key (0600). */
int pki_write_tls_crypt(const char *dir, struct atlas_err *err);
/* The server CN (DIR/server_cn), new string; PKI_SERVER_CN when absent. */
char *pki_server_cn(const char *dir);
int pki_set_server_cn(const char *dir, const char *cn, struct atlas_err *err);

/*
 * Issues a certificate for cn (server: serverAuth, else clientAuth) with a
 * new P-256 key: writes issued/CN.crt and private/CN.key (the server: both
 * into server.new/, then swapped with server/ in one rename, so the pair is
 * always whole), and adds a V entry
 * to idx (in memory: the caller writes the index with pki_index_write, once
 * for a batch). An older valid entry of cn (its files lost) is marked revoked
 * as superseded: the caller then rewrites the CRL.
 */
int pki_issue(const char *dir, struct pki_index *idx, const char *cn, int server,
	      struct atlas_err *err);

/*
 * Revokes every valid entry of cn in idx (in memory) at now, and moves its
 * certificate to revoked/SERIAL.crt and deletes its key. The caller writes
 * the index and then the CRL. Revoking a name without a valid entry is a
 * no-op.
 */
int pki_revoke(const char *dir, struct pki_index *idx, const char *cn, time_t now,
	       struct atlas_err *err);

/* Writes DIR/crl.pem (0644) listing every R entry of idx, signed by the CA. */
int pki_write_crl(const char *dir, const struct pki_index *idx, time_t now,
		  struct atlas_err *err);

struct pki_crl_info {
	int present;		/* the file exists */
	int valid;		/* parses and is signed by the CA */
	int matches;		/* lists exactly the R serials of the index */
	time_t next_update;
	long number;		/* crlNumber, -1 when absent */
	size_t nrevoked;
};

/* Inspects DIR/crl.pem against the CA and idx. Fails only when the CA cannot be read. */
int pki_crl_inspect(const char *dir, const struct pki_index *idx, struct pki_crl_info *out,
		    struct atlas_err *err);

/*
 * Reads a PEM certificate file that may start with a text dump (easy-rsa's
 * issued/NAME.crt) and appends only the PEM block to out.
 */
int pki_read_cert_pem(const char *path, struct buf *out, struct atlas_err *err);

/*
 * Imports an easy-rsa 3 PKI (src is the pki directory or a folder holding
 * pki/) into the Atlas PKI dir, which must not exist yet. tls_crypt (may be
 * NULL) is an existing OpenVPN static key to keep. The client names (every
 * valid certificate without serverAuth) are appended to clients. Everything is checked
 * before anything is written; on error dir does not exist afterwards.
 */
struct strv;
int pki_import_easyrsa(const char *src, const char *dir, const char *tls_crypt,
		       struct strv *clients, struct atlas_err *err);

#endif
