/*
 * sb_keys.c - sing-box secrets: X25519 through EVP, random bytes through
 * RAND_priv_bytes, certificates through the X509 API.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/ipaddr.h"
#include "state/sb_keys.h"

int sb_reality_key_valid(const char *s)
{
	unsigned char raw[33];
	int ok;

	ok = s && strlen(s) == 43 && base64url_decode(s, 43, raw, sizeof(raw)) == 32;
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

int sb_reality_public(const char *priv, char **pub, struct atlas_err *err)
{
	unsigned char raw[33], rpub[32];
	size_t plen = sizeof(rpub);
	struct buf b = BUF_INIT;
	EVP_PKEY *k = NULL;
	int ret = -1;

	if (!sb_reality_key_valid(priv))
		return err_set(err, ERR_INVALID, "not a base64url X25519 key");
	base64url_decode(priv, 43, raw, sizeof(raw));
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, 32);
	if (!k || EVP_PKEY_get_raw_public_key(k, rpub, &plen) != 1 || plen != 32) {
		err_set(err, ERR_INTERNAL, "cannot derive an X25519 public key");
		goto out;
	}
	base64url_encode(&b, rpub, 32);
	*pub = buf_detach(&b);
	ret = 0;
out:
	EVP_PKEY_free(k);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

int sb_reality_generate(char **priv, char **pub, struct atlas_err *err)
{
	unsigned char raw[32];
	struct buf b = BUF_INIT;

	if (RAND_priv_bytes(raw, sizeof(raw)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	raw[0] &= 248;
	raw[31] = (raw[31] & 127) | 64;
	base64url_encode(&b, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	*priv = buf_detach(&b);
	if (sb_reality_public(*priv, pub, err) < 0) {
		OPENSSL_cleanse(*priv, strlen(*priv));
		free(*priv);
		*priv = NULL;
		return -1;
	}
	return 0;
}

int sb_short_id_generate(char **out, struct atlas_err *err)
{
	unsigned char r[8];
	char hex[17];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	*out = xstrdup(hex);
	return 0;
}

int sb_short_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n <= 16 && n % 2 == 0 && strspn(s, "0123456789abcdef") == n;
}

int sb_ss_key_generate(int len, char **out, struct atlas_err *err)
{
	unsigned char raw[32];
	struct buf b = BUF_INIT;

	if (len < 1 || len > 32)
		return err_set(err, ERR_INTERNAL, "bad shadowsocks key length %d", len);
	if (RAND_priv_bytes(raw, (int)len) != 1)
		return err_set(err, ERR_INTERNAL, "the random generator failed");
	base64_encode(&b, raw, (size_t)len);
	OPENSSL_cleanse(raw, sizeof(raw));
	*out = buf_detach(&b);
	return 0;
}

int sb_ss_key_valid(const char *s, int len)
{
	unsigned char raw[33];
	int ok;

	ok = s && len > 0 && len <= 32 &&
	     base64_decode(s, strlen(s), raw, sizeof(raw)) == (long)len;
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

int sb_uuid_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0, k = 0; i < 36; i++) {
		if (k < 4 && i == dash[k]) {
			if (s[i] != '-')
				return 0;
			k++;
		} else if (!strchr("0123456789abcdefABCDEF", s[i])) {
			return 0;
		}
	}
	return 1;
}

static char *pem_of(int (*wr)(BIO *, void *), void *obj)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!bio)
		return NULL;
	if (wr(bio, obj) == 1) {
		n = BIO_get_mem_data(bio, &data);
		out = xstrndup(data, (size_t)n);
	}
	BIO_free(bio);
	return out;
}

static int write_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int write_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

int sb_self_signed(const char *host, char **cert, char **key, struct atlas_err *err)
{
	struct ipaddr ip;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *san = NULL;
	int ret = -1;

	*cert = *key = NULL;
	if (!host || !*host || strpbrk(host, ",\n\r") || strlen(host) > 253)
		return err_set(err, ERR_INVALID, "no host name for a self-signed certificate");
	k = EVP_EC_gen("P-256");
	x = X509_new();
	if (!k || !x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto fail;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, NULL);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)host, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	san = xasprintf("%s:%s", ip_parse_addr(host, &ip) == 0 ? "IP" : "DNS", host);
	if (add_ext(x, NID_subject_alt_name, san) < 0 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 || X509_sign(x, k, EVP_sha256()) <= 0)
		goto fail;
	*cert = pem_of(write_cert, x);
	*key = pem_of(write_key, k);
	if (!*cert || !*key)
		goto fail;
	ret = 0;
	goto out;
fail:
	err_set(err, ERR_INTERNAL, "cannot make a self-signed certificate for \"%s\"", host);
	free(*cert);
	if (*key)
		OPENSSL_cleanse(*key, strlen(*key));
	free(*key);
	*cert = *key = NULL;
out:
	free(san);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	return ret;
}

static X509 *parse_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return x;
}

int sb_cert_matches(const char *cert, const char *key, const char *host)
{
	struct ipaddr ip;
	X509 *x;
	BIO *bio;
	EVP_PKEY *k = NULL;
	int ok = 0;

	if (!cert || !key || !host)
		return 0;
	x = parse_cert(cert);
	bio = BIO_new_mem_buf(key, -1);
	if (bio)
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (x && k && X509_check_private_key(x, k) == 1) {
		if (ip_parse_addr(host, &ip) == 0)
			ok = X509_check_ip_asc(x, host, 0) == 1;
		else
			ok = X509_check_host(x, host, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
	}
	EVP_PKEY_free(k);
	BIO_free(bio);
	X509_free(x);
	return ok;
}

int sb_cert_sha256(const char *cert, char out[65], struct atlas_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	X509 *x = parse_cert(cert);

	if (!x || X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		X509_free(x);
		return err_set(err, ERR_INVALID, "not a PEM certificate");
	}
	X509_free(x);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
