/*
 * tls.h - HTTPS for `atlas serve`: the certificate and key the server
 * presents, reloadable while it listens, and the self-signed pair made on
 * the first start of a panel that listens beyond loopback.
 *
 * libmicrohttpd does the TLS itself (GnuTLS). It asks tls_cert_callback()
 * for the certificate at every handshake, so a reload (SIGHUP, e.g. after
 * certbot renewed the pair) swaps the credentials for the next handshake
 * without closing the listening socket or any open connection.
 */
#ifndef ATLAS_TLS_H
#define ATLAS_TLS_H

#include <stddef.h>

#include "lib/err.h"

/* TLS 1.2 and 1.3 only (a GnuTLS priority string). */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"

struct tls;

/*
 * Loads the PEM certificate chain in cert_file and the PEM key in key_file
 * and checks they belong together. Returns a new tls, or NULL with err set
 * (naming the file). Only one tls may be in use by a server at a time.
 */
struct tls *tls_new(const char *cert_file, const char *key_file, struct atlas_err *err);
/*
 * Reads both files again. On success the next handshakes use the new pair;
 * on error the old pair stays in use and err says why. The previous pair is
 * kept (handshakes in flight may hold it) until tls_free.
 */
int tls_reload(struct tls *t, struct atlas_err *err);
/*
 * A pair to serve instead once it loads (the settings' pair that did not
 * load at start, served self-signed meanwhile): each tls_reload tries it
 * first, says why when it still does not load, then reloads the current.
 */
void tls_want(struct tls *t, const char *cert_file, const char *key_file);
/* Frees t and every pair it loaded. Accepts NULL. */
void tls_free(struct tls *t);
/* The SHA-256 fingerprint of the leaf certificate, "AB:CD:...:EF" (borrowed). */
const char *tls_fingerprint(const struct tls *t);
/* The certificate callback for MHD_OPTION_HTTPS_CERT_CALLBACK (a function pointer). */
void *tls_cert_callback(struct tls *t);

/*
 * 1 when the host of listen ("ADDR:PORT", "[V6]:PORT") is a loopback
 * address (127.0.0.0/8, ::1), 0 otherwise (0.0.0.0 and :: included).
 */
int tls_listen_is_loopback(const char *listen);

/*
 * Makes sure DATADIR/tls/cert.pem and key.pem exist: when either is
 * missing, creates a self-signed ECDSA P-256 certificate (both files 0600)
 * for the host of listen and "localhost". *created is 1 then. The paths are
 * new strings. Returns 0 or -1 with err set.
 */
int tls_self_signed(const char *datadir, const char *listen, char **cert_file, char **key_file,
		    int *created, struct atlas_err *err);

#endif
