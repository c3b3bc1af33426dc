/*
 * pki.c - the PKI files: the easy-rsa style index, paths, loading and saving
 * keys and certificates, the CA, the tls-crypt key and the server CN.
 * Issuing and revoking live in pki_issue.c, the CRL in pki_crl.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "lib/fault.h"
#include "lib/fileio.h"
#include "controller/openvpn/pki.h"
#include "controller/openvpn/pki_priv.h"

#define INDEX_MAX (64u << 20)

/* ---- the index ---- */

void pki_index_add(struct pki_index *idx, char status, const char *expiry, const char *revdate,
		   const char *serial, const char *cn)
{
	struct pki_entry *e;

	if (idx->n == idx->cap) {
		idx->cap = idx->cap ? idx->cap * 2 : 64;
		idx->v = xrealloc(idx->v, idx->cap * sizeof(*idx->v));
	}
	e = &idx->v[idx->n++];
	memset(e, 0, sizeof(*e));
	e->status = status;
	snprintf(e->expiry, sizeof(e->expiry), "%s", expiry ? expiry : "");
	snprintf(e->revdate, sizeof(e->revdate), "%s", revdate ? revdate : "");
	snprintf(e->serial, sizeof(e->serial), "%s", serial ? serial : "");
	e->cn = xstrdup(cn);
}

void pki_index_release(struct pki_index *idx)
{
	for (size_t i = 0; i < idx->n; i++)
		free(idx->v[i].cn);
	free(idx->v);
	memset(idx, 0, sizeof(*idx));
}

/* Finds "CN=" in an easy-rsa subject ("/CN=alice" or "/C=US/CN=alice/O=x"). */
static int subject_cn(const char *subj, size_t len, char *out, size_t outlen)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if ((i == 0 || subj[i - 1] == '/') && !strncmp(subj + i, "CN=", 3)) {
			size_t s = i + 3, e = s;

			while (e < len && subj[e] != '/')
				e++;
			if (e == s || e - s >= outlen)
				return -1;
			memcpy(out, subj + s, e - s);
			out[e - s] = '\0';
			return 0;
		}
	return -1;
}

int pki_index_parse(const char *text, size_t len, struct pki_index *idx, struct atlas_err *err)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *f[6];
		size_t fl[6];
		int nf = 0;
		char cn[256];

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			p = nl ? nl + 1 : end;
			continue;
		}
		for (const char *q = p; q < le; q++)
			if ((unsigned char)*q < 0x20 ? *q != '\t' : *q == 0x7f)
				return err_set(err, ERR_INVALID,
					       "index.txt line %d has a control character", line);
		f[0] = p;
		for (const char *q = p; q <= le && nf < 6; q++)
			if (q == le || *q == '\t') {
				fl[nf] = (size_t)(q - f[nf]);
				nf++;
				if (nf < 6)
					f[nf] = q + 1;
			}
		if (nf != 6 || fl[0] != 1 || !strchr("VRE", f[0][0]) || fl[1] == 0 ||
		    fl[1] >= 24 || fl[3] == 0 || fl[3] >= 72 || fl[2] >= 48 ||
		    subject_cn(f[5], fl[5], cn, sizeof(cn)) < 0)
			return err_set(err, ERR_INVALID,
				       "index.txt line %d is not \"V|R|E expiry revdate serial file "
				       "/CN=name\"",
				       line);
		{
			char exp[24], rev[48], ser[72];

			memcpy(exp, f[1], fl[1]);
			exp[fl[1]] = '\0';
			memcpy(rev, f[2], fl[2]);
			rev[fl[2]] = '\0';
			for (size_t i = 0; i < fl[3]; i++) {
				char c = f[3][i];

				if (!strchr("0123456789abcdefABCDEF", c))
					return err_set(err, ERR_INVALID,
						       "index.txt line %d: serial \"%.*s\" is not hex",
						       line, (int)fl[3], f[3]);
				ser[i] = (char)(c >= 'a' && c <= 'f' ? c - 32 : c);
			}
			ser[fl[3]] = '\0';
			if (f[0][0] == 'R' && !fl[2])
				return err_set(err, ERR_INVALID,
					       "index.txt line %d: revoked entry without a date", line);
			pki_index_add(idx, f[0][0], exp, rev, ser, cn);
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int pki_index_read(const char *dir, struct pki_index *idx, struct atlas_err *err)
{
	char *path = xasprintf("%s/index.txt", dir);
	struct buf text = BUF_INIT;
	int ret = -1;

	if (file_read(path, INDEX_MAX, &text, err) < 0) {
		if (err && err->code == ERR_NOTFOUND)
			ret = 0;
		goto out;
	}
	ret = pki_index_parse(buf_str(&text), text.len, idx, err);
	if (ret < 0)
		err_wrap(err, "%s", path);
out:
	buf_release(&text);
	free(path);
	return ret;
}

void pki_index_format(const struct pki_index *idx, struct buf *out)
{
	for (size_t i = 0; i < idx->n; i++) {
		const struct pki_entry *e = &idx->v[i];

		buf_printf(out, "%c\t%s\t%s\t%s\tunknown\t/CN=%s\n", e->status, e->expiry,
			   e->revdate, e->serial, e->cn);
	}
}

int pki_index_write(const char *dir, const struct pki_index *idx, struct atlas_err *err)
{
	char *path = xasprintf("%s/index.txt", dir);
	struct buf out = BUF_INIT;
	int ret;

	pki_index_format(idx, &out);
	ret = file_write_atomic(path, buf_str(&out), out.len, 0644, err);
	buf_release(&out);
	free(path);
	return ret;
}

struct pki_entry *pki_index_valid(const struct pki_index *idx, const char *cn)
{
	for (size_t i = idx->n; i-- > 0;)
		if (idx->v[i].status == 'V' && !strcmp(idx->v[i].cn, cn))
			return &idx->v[i];
	return NULL;
}

/* ---- paths ---- */

char *pki_cert_path(const char *dir, const char *cn)
{
	return xasprintf("%s/issued/%s.crt", dir, cn);
}

char *pki_key_path(const char *dir, const char *cn)
{
	return xasprintf("%s/private/%s.key", dir, cn);
}

char *pki_server_cert_path(const char *dir)
{
	return xasprintf("%s/" PKI_SERVER_DIR "/server.crt", dir);
}

char *pki_server_key_path(const char *dir)
{
	return xasprintf("%s/" PKI_SERVER_DIR "/server.key", dir);
}

int pki_has_server(const char *dir)
{
	char *c = pki_server_cert_path(dir), *k = pki_server_key_path(dir);
	int ret = file_exists(c) && file_exists(k);

	free(c);
	free(k);
	return ret;
}

int pki_has_ca(const char *dir)
{
	char *c = xasprintf("%s/ca.crt", dir), *k = xasprintf("%s/ca.key", dir);
	int ret = file_exists(c) && file_exists(k);

	free(c);
	free(k);
	return ret;
}

/* ---- OpenSSL helpers ---- */

const char *pki_ssl_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, len, "unknown openssl error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static BIO *bio_file(const char *path, struct buf *text, struct atlas_err *err)
{
	if (file_read(path, 1 << 20, text, err) < 0)
		return NULL;
	return BIO_new_mem_buf(buf_str(text), (int)text->len);
}

X509 *pki_load_cert(const char *path, struct atlas_err *err)
{
	struct buf text = BUF_INIT;
	X509 *crt = NULL;
	BIO *b = bio_file(path, &text, err);
	char e[256];

	if (!b)
		goto out;
	/* PEM_read skips anything before "-----BEGIN": easy-rsa's text dump. */
	crt = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (!crt)
		err_set(err, ERR_INVALID, "\"%s\" is not a PEM certificate: %s", path,
			pki_ssl_error(e, sizeof(e)));
	BIO_free(b);
out:
	buf_release(&text);
	return crt;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

EVP_PKEY *pki_load_key(const char *path, int *encrypted, struct atlas_err *err)
{
	struct buf text = BUF_INIT;
	EVP_PKEY *key = NULL;
	BIO *b = bio_file(path, &text, err);
	int asked = 0;
	char e[256];

	if (encrypted)
		*encrypted = 0;
	if (!b)
		goto out;
	key = PEM_read_bio_PrivateKey(b, NULL, no_password, &asked);
	if (!key && (asked || strstr(buf_str(&text), "ENCRYPTED"))) {
		if (encrypted)
			*encrypted = 1;
		ERR_clear_error();
		err_set(err, ERR_UNSUPPORTED, "the key \"%s\" is encrypted", path);
	} else if (!key) {
		err_set(err, ERR_INVALID, "\"%s\" is not a PEM private key: %s", path,
			pki_ssl_error(e, sizeof(e)));
	}
	BIO_free(b);
out:
	buf_release_secure(&text);
	return key;
}

int pki_save_pem(const char *path, BIO *b, mode_t mode, struct atlas_err *err)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);
	int ret = file_write_atomic(path, data, (size_t)len, mode, err);

	OPENSSL_cleanse(data, (size_t)len);
	BIO_free(b);
	return ret;
}

int pki_save_cert(const char *path, X509 *crt, struct atlas_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(b, crt);
	return pki_save_pem(path, b, 0644, err);
}

int pki_save_key(const char *path, EVP_PKEY *key, struct atlas_err *err)
{
	BIO *b = BIO_new(BIO_s_secmem());

	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	return pki_save_pem(path, b, 0600, err);
}

EVP_PKEY *pki_new_key(struct atlas_err *err)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	char e[256];

	if (!k)
		err_set(err, ERR_INTERNAL, "cannot generate a P-256 key: %s",
			pki_ssl_error(e, sizeof(e)));
	return k;
}

static int set_random_serial(X509 *crt, struct atlas_err *err)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ret = -1;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "no randomness for a serial");
	raw[0] &= 0x7f;	/* positive as a DER INTEGER without a sign byte */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)))
		ret = 0;
	else
		err_set(err, ERR_INTERNAL, "cannot set a serial");
	BN_free(bn);
	return ret;
}

int pki_new_cert(const char *cn, EVP_PKEY **key, X509 **crt, struct atlas_err *err)
{
	int own = !*key;

	*crt = NULL;
	if (own)
		*key = pki_new_key(err);
	if (!*key)
		return -1;
	*crt = X509_new();
	if (!*crt) {
		if (own) {
			EVP_PKEY_free(*key);
			*key = NULL;
		}
		return err_set(err, ERR_NOMEM, "cannot allocate a certificate");
	}
	X509_set_version(*crt, 2);
	if (set_random_serial(*crt, err) < 0)
		goto fail;
	/* An hour back: a client whose clock runs a little late still accepts it. */
	X509_gmtime_adj(X509_getm_notBefore(*crt), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*crt), (long)PKI_CERT_DAYS * 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(*crt), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_pubkey(*crt, *key);
	return 0;
fail:
	X509_free(*crt);
	*crt = NULL;
	if (own) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return -1;
}

void pki_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	if (!hex)
		snprintf(buf, len, "00");
	else if (strlen(hex) % 2)
		snprintf(buf, len, "0%s", hex);
	else
		snprintf(buf, len, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

void pki_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int n = ASN1_STRING_length(t);

	snprintf(buf, len, "%.*s", n, (const char *)d);
}

int pki_add_ext(X509 *crt, X509 *issuer, int nid, const char *value, struct atlas_err *err)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char e[256];

	X509V3_set_ctx(&v3, issuer, crt, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext || !X509_add_ext(crt, ext, -1)) {
		X509_EXTENSION_free(ext);
		return err_set(err, ERR_INTERNAL, "cannot add extension %s \"%s\": %s",
			       OBJ_nid2sn(nid), value, pki_ssl_error(e, sizeof(e)));
	}
	X509_EXTENSION_free(ext);
	return 0;
}

int pki_load_ca(const char *dir, X509 **crt, EVP_PKEY **key, struct atlas_err *err)
{
	char *c = xasprintf("%s/ca.crt", dir), *k = xasprintf("%s/ca.key", dir);
	int ret = -1;

	*crt = NULL;
	if (key)
		*key = NULL;
	*crt = pki_load_cert(c, err);
	if (!*crt)
		goto out;
	if (key) {
		*key = pki_load_key(k, NULL, err);
		if (!*key) {
			X509_free(*crt);
			*crt = NULL;
			goto out;
		}
	}
	ret = 0;
out:
	free(c);
	free(k);
	return ret;
}

/* ---- the CA, the tls-crypt key, the server CN ---- */

int pki_make_dirs(const char *dir, struct atlas_err *err)
{
	static const char *const sub[] = { "issued", "private", "revoked" };

	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, sub[i]);
		int rc = mkdir_p(p, !strcmp(sub[i], "private") ? 0700 : 0755, err);

		free(p);
		if (rc < 0)
			return -1;
	}
	/* The daemon may run as nobody: it must reach crl.pem. */
	if (chmod(dir, 0755) < 0)
		return err_set(err, ERR_IO, "chmod \"%s\": %s", dir, strerror(errno));
	return 0;
}

/*
 * The CA is two files, and a kill (or a power loss) may fall between them.
 * The key is written first; a ca.key without ca.crt is that window, and the
 * certificate is made for the key found (nothing was ever signed with it
 * without the certificate, so no one trusts another one). A ca.crt without
 * ca.key is a lost key: no certificate could ever be issued again, so that
 * is an error telling what to restore, never a silent new CA.
 */
int pki_create_ca(const char *dir, const char *cn, struct atlas_err *err)
{
	char *cpath = xasprintf("%s/ca.crt", dir), *kpath = xasprintf("%s/ca.key", dir);
	int have_crt = file_exists(cpath), have_key = file_exists(kpath);
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	char e[256];
	int ret = -1;

	if (have_crt && have_key) {
		err_set(err, ERR_CONFLICT, "a CA exists already in \"%s\"", dir);
		goto out;
	}
	if (have_crt) {
		err_set(err, ERR_CONFLICT,
			"\"%s\" has no key: the CA's private key is lost; restore ca.key from a "
			"backup (a new CA would invalidate every client profile)",
			cpath);
		goto out;
	}
	if (pki_make_dirs(dir, err) < 0)
		goto out;
	if (have_key) {
		/* finish a creation killed between the two files */
		key = pki_load_key(kpath, NULL, err);
		if (!key) {
			err_wrap(err, "the CA key \"%s\" has no certificate and cannot be read",
				 kpath);
			goto out;
		}
		if (pki_new_cert(cn, &key, &crt, err) < 0)
			goto out;
	} else if (pki_new_cert(cn, &key, &crt, err) < 0) {
		goto out;
	}
	X509_set_issuer_name(crt, X509_get_subject_name(crt));
	if (pki_add_ext(crt, crt, NID_basic_constraints, "critical,CA:TRUE", err) < 0 ||
	    pki_add_ext(crt, crt, NID_key_usage, "critical,keyCertSign,cRLSign", err) < 0 ||
	    pki_add_ext(crt, crt, NID_subject_key_identifier, "hash", err) < 0 ||
	    pki_add_ext(crt, crt, NID_authority_key_identifier, "keyid:always", err) < 0)
		goto out;
	if (!X509_sign(crt, key, EVP_sha256())) {
		err_set(err, ERR_INTERNAL, "cannot sign the CA: %s", pki_ssl_error(e, sizeof(e)));
		goto out;
	}
	/* The key first: the window between the two files is the one finished above. */
	if (!have_key && pki_save_key(kpath, key, err) < 0)
		goto out;
	fault_point("pki-ca-key-written");
	if (pki_save_cert(cpath, crt, err) < 0)
		goto out;
	ret = 0;
out:
	X509_free(crt);
	EVP_PKEY_free(key);
	free(cpath);
	free(kpath);
	return ret;
}

int pki_write_tls_crypt(const char *dir, struct atlas_err *err)
{
	unsigned char raw[256];
	struct buf out = BUF_INIT;
	char *path = xasprintf("%s/tls-crypt.key", dir);
	int ret = -1;

	if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
		err_set(err, ERR_INTERNAL, "no randomness for the tls-crypt key");
		goto out;
	}
	buf_puts(&out, "#\n# 2048 bit OpenVPN static key\n#\n"
		       "-----BEGIN OpenVPN Static key V1-----\n");
	for (size_t i = 0; i < sizeof(raw); i++)
		buf_printf(&out, "%02x%s", raw[i], i % 16 == 15 ? "\n" : "");
	buf_puts(&out, "-----END OpenVPN Static key V1-----\n");
	ret = file_write_atomic(path, out.data, out.len, 0600, err);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	buf_release_secure(&out);
	free(path);
	return ret;
}

char *pki_server_cn(const char *dir)
{
	char *path = xasprintf("%s/server_cn", dir);
	struct buf b = BUF_INIT;
	char *ret;

	if (file_read(path, 256, &b, NULL) == 0) {
		b.len = strcspn(buf_str(&b), "\r\n");
		b.data[b.len] = '\0';
	}
	ret = b.len ? xstrdup(b.data) : xstrdup(PKI_SERVER_CN);
	buf_release(&b);
	free(path);
	return ret;
}

int pki_set_server_cn(const char *dir, const char *cn, struct atlas_err *err)
{
	char *path = xasprintf("%s/server_cn", dir), *text = xasprintf("%s\n", cn);
	int ret = file_write_atomic(path, text, strlen(text), 0644, err);

	free(text);
	free(path);
	return ret;
}

int pki_read_cert_pem(const char *path, struct buf *out, struct atlas_err *err)
{
	struct buf text = BUF_INIT;
	const char *b, *e;
	int ret = -1;

	if (file_read(path, 1 << 20, &text, err) < 0)
		goto out;
	b = strstr(buf_str(&text), "-----BEGIN CERTIFICATE-----");
	e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
	if (!e) {
		err_set(err, ERR_INVALID, "\"%s\" holds no PEM certificate", path);
		goto out;
	}
	e += strlen("-----END CERTIFICATE-----");
	buf_add(out, b, (size_t)(e - b));
	buf_putc(out, '\n');
	ret = 0;
out:
	buf_release(&text);
	return ret;
}
