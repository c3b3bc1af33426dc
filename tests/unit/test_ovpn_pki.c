/*
 * test_ovpn_pki.c - the PKI made with the OpenSSL API, checked with the
 * OpenSSL API: the CA, server and client certificates (P-256, SHA-256,
 * positive 128-bit serials, key usages), the index, revocation, the CRL
 * (v2, crlNumber, AKI, the revoked serials, signed by the CA), the tls-crypt
 * key format, modes of the secret files, and encrypted keys refused.
 */
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testutil.h"
#include "controller/openvpn/pki.h"
#include "controller/openvpn/pki_priv.h"
#include "controller/openvpn/ovpn.h"
#include "state/yaml.h"

static int mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static X509 *load(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	X509 *x = pki_load_cert(p, NULL);

	assert_non_null(x);
	free(p);
	return x;
}

static void check_common(X509 *crt, X509 *ca)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(crt);
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	EVP_PKEY *pub = X509_get0_pubkey(crt);
	char curve[32];
	size_t len;

	assert_int_equal(X509_get_signature_nid(crt), NID_ecdsa_with_SHA256);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_utf8_string_param(pub, "group", curve, sizeof(curve), &len), 1);
	assert_string_equal(curve, "prime256v1");
	assert_false(BN_is_negative(bn));
	assert_true(BN_num_bits(bn) <= 128);
	assert_true(BN_num_bits(bn) > 64); /* random: far from a counter */
	BN_free(bn);
	assert_int_equal(X509_verify(crt, X509_get0_pubkey(ca)), 1);
}

/* A temporary directory and the PKI folder in it, for one test. */
struct pki_dirs {
	char *dir, *pki;
};

static int pki_setup(void **state)
{
	struct pki_dirs *pd = xcalloc(1, sizeof(*pd));

	pd->dir = tu_tmpdir();
	pd->pki = xasprintf("%s/pki", pd->dir);
	*state = pd;
	return 0;
}

static int pki_teardown(void **state)
{
	struct pki_dirs *pd = *state;

	tu_rmrf_free(pd->dir);
	free(pd->pki);
	free(pd);
	return 0;
}

/* A case with its own PKI directory. */
#define PKI_TEST(f) cmocka_unit_test_setup_teardown(f, pki_setup, pki_teardown)

static void test_ovpn_pki__ca_and_certificates(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *pki = pd->pki;
	char *p;
	struct pki_index idx = { 0 }, again = { 0 };
	struct atlas_err err = { 0 };
	X509 *ca, *srv, *cli;
	EVP_PKEY *key;

	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_int_equal(pki_create_ca(pki, "Test CA", &err), -1); /* never overwrites */
	ca = load(pki, "ca.crt");
	check_common(ca, ca);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_true(X509_get_key_usage(ca) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
	p = xasprintf("%s/ca.key", pki);
	assert_int_equal(mode_of(p), 0600);
	free(p);

	assert_int_equal(pki_issue(pki, &idx, "atlas-server", 1, &err), 0);
	assert_int_equal(pki_issue(pki, &idx, "alice", 0, &err), 0);
	assert_int_equal(pki_index_write(pki, &idx, &err), 0);
	srv = load(pki, "server/server.crt");
	cli = load(pki, "issued/alice.crt");
	check_common(srv, ca);
	check_common(cli, ca);
	assert_int_equal(X509_check_ca(srv), 0);
	assert_int_equal(X509_check_ca(cli), 0);
	assert_true(X509_get_key_usage(srv) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
	assert_true(X509_get_extended_key_usage(srv) == XKU_SSL_SERVER);
	assert_true(X509_get_key_usage(cli) == KU_DIGITAL_SIGNATURE);
	assert_true(X509_get_extended_key_usage(cli) == XKU_SSL_CLIENT);
	assert_non_null(X509_get0_authority_key_id(cli));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cli),
					       X509_get0_subject_key_id(ca)), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(srv),
					      X509_get0_serialNumber(cli)), 0);
	p = pki_key_path(pki, "alice");
	assert_int_equal(mode_of(p), 0600);
	key = pki_load_key(p, NULL, &err);
	assert_non_null(key);
	assert_int_equal(X509_check_private_key(cli, key), 1);
	EVP_PKEY_free(key);
	free(p);

	/* the index on disk, easy-rsa format */
	assert_int_equal(pki_index_read(pki, &again, &err), 0);
	assert_int_equal(again.n, 2);
	assert_int_equal(again.v[1].status, 'V');
	assert_string_equal(again.v[1].cn, "alice");
	{
		char hex[72];

		pki_serial_hex(X509_get0_serialNumber(cli), hex, sizeof(hex));
		assert_string_equal(again.v[1].serial, hex);
	}
	pki_index_release(&again);
	/* issuing alice again supersedes (revokes) her first certificate */
	assert_int_equal(pki_issue(pki, &idx, "alice", 0, &err), 0);
	assert_int_equal(idx.n, 3);
	assert_int_equal(idx.v[1].status, 'R');
	assert_non_null(strstr(idx.v[1].revdate, ",superseded"));
	assert_int_equal(idx.v[2].status, 'V');
	assert_ptr_equal(pki_index_valid(&idx, "alice"), &idx.v[2]);
	assert_int_equal(pki_write_crl(pki, &idx, time(NULL), &err), 0);
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	pki_index_release(&idx);
}

static X509_CRL *load_crl(const char *pki)
{
	char *p = xasprintf("%s/crl.pem", pki);
	FILE *f = fopen(p, "r");
	X509_CRL *crl;

	assert_non_null(f);
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(crl);
	assert_int_equal(mode_of(p), 0644);
	free(p);
	return crl;
}

static int exists_rel(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	int ret = file_exists(p);

	free(p);
	return ret;
}

static void rename_rel(const char *dir, const char *from, const char *to)
{
	char *a = xasprintf("%s/%s", dir, from), *b = xasprintf("%s/%s", dir, to);

	assert_int_equal(rename(a, b), 0);
	free(a);
	free(b);
}

/*
 * issue 16.1: the server's certificate and key live in server/ under fixed
 * names, so a client of the server's CN finds nothing of the server's, and
 * a profile for that name is refused.
 */
static void test_ovpn_pki__server_files_apart(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *dir = pd->dir, *pki = pd->pki;
	char *p;
	struct pki_index idx = { 0 };
	struct atlas_err err = { 0 };
	struct atlas_state *st;
	struct buf out = BUF_INIT;

	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_int_equal(pki_write_tls_crypt(pki, &err), 0);
	assert_int_equal(pki_issue(pki, &idx, "srv", 1, &err), 0);
	assert_int_equal(pki_set_server_cn(pki, "srv", &err), 0);
	assert_int_equal(pki_index_write(pki, &idx, &err), 0);
	assert_false(exists_rel(pki, "issued/srv.crt"));
	assert_false(exists_rel(pki, "private/srv.key"));
	assert_true(pki_has_server(pki));
	p = xasprintf("%s/server", pki);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = pki_server_key_path(pki);
	assert_int_equal(mode_of(p), 0600);
	free(p);
	{
		static const char y[] = "version: 1\nsettings: {host: vpn.example.com}\n"
					"openvpn:\n  network: 10.9.0.0/24\n  clients: [{name: srv}]\n";
		struct diags d = { 0 };

		st = state_from_yaml(y, strlen(y), &d, NULL);
		assert_non_null(st);
		diags_clear(&d);
	}
	assert_int_equal(ovpn_profile(dir, st, "srv", &out, &err), -1);
	assert_null(strstr(buf_str(&out), "PRIVATE KEY"));
	assert_non_null(strstr(err.msg, "the name of the server certificate"));
	state_free(st);
	buf_release(&out);
	pki_index_release(&idx);
}

/*
 * issue 16.1/16.3: a server certificate of the old layout moves to server/;
 * a kill at each step (leftover server.new, old names still linked) is
 * finished by the next run, and a reissue with a stale server.new works.
 */
static void test_ovpn_pki__server_migration(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *pki = pd->pki;
	char *p, *q;
	struct pki_index idx = { 0 };
	struct atlas_err err = { 0 };
	char before[72], after[72];
	X509 *x;

	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_int_equal(pki_issue(pki, &idx, "atlas-server", 1, &err), 0);
	x = load(pki, "server/server.crt");
	pki_serial_hex(X509_get0_serialNumber(x), before, sizeof(before));
	X509_free(x);
	/* the layout before: issued/atlas-server.crt, private/atlas-server.key */
	rename_rel(pki, "server/server.crt", "issued/atlas-server.crt");
	rename_rel(pki, "server/server.key", "private/atlas-server.key");
	p = xasprintf("%s/server", pki);
	assert_int_equal(rmdir(p), 0);
	free(p);
	assert_true(pki_server_legacy(pki, "atlas-server"));
	assert_false(pki_has_server(pki));
	/* killed in the middle of an earlier migration: server.new holds one link */
	p = xasprintf("%s/server.new", pki);
	assert_int_equal(mkdir(p, 0700), 0);
	q = xasprintf("%s/server.new/server.crt", pki);
	assert_int_equal(file_write_atomic(q, "partial", 7, 0600, &err), 0);
	free(q);
	free(p);
	assert_int_equal(pki_migrate_server(pki, "atlas-server", &err), 0);
	assert_true(pki_has_server(pki));
	assert_false(pki_server_legacy(pki, "atlas-server"));
	assert_false(exists_rel(pki, "issued/atlas-server.crt"));
	assert_false(exists_rel(pki, "private/atlas-server.key"));
	assert_false(exists_rel(pki, "server.new"));
	x = load(pki, "server/server.crt");
	pki_serial_hex(X509_get0_serialNumber(x), after, sizeof(after));
	X509_free(x);
	assert_string_equal(before, after);
	/* killed after the rename, before the old names went: they are dropped */
	p = xasprintf("%s/server/server.crt", pki);
	q = xasprintf("%s/issued/atlas-server.crt", pki);
	assert_int_equal(link(p, q), 0);
	free(p);
	free(q);
	assert_int_equal(pki_migrate_server(pki, "atlas-server", &err), 0);
	assert_false(exists_rel(pki, "issued/atlas-server.crt"));
	assert_true(pki_has_server(pki));
	/* a reissue over an existing server/ with a stale server.new: one whole pair */
	p = xasprintf("%s/server.new", pki);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	assert_int_equal(pki_issue(pki, &idx, "atlas-server", 1, &err), 0);
	assert_false(exists_rel(pki, "server.new"));
	x = load(pki, "server/server.crt");
	{
		char *kp = pki_server_key_path(pki);
		EVP_PKEY *k = pki_load_key(kp, NULL, &err);

		assert_non_null(k);
		assert_int_equal(X509_check_private_key(x, k), 1);
		EVP_PKEY_free(k);
		free(kp);
	}
	pki_serial_hex(X509_get0_serialNumber(x), after, sizeof(after));
	X509_free(x);
	assert_string_not_equal(before, after);
	pki_index_release(&idx);
}

/*
 * issue 16.3: a kill between ca.key and ca.crt left a key without its
 * certificate, and every later CA creation refused. The creation now
 * finishes with the key found; a certificate without its key is refused
 * with what to restore.
 */
static void test_ovpn_pki__ca_half_written(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *pki = pd->pki;
	char *kp = xasprintf("%s/ca.key", pki), *cp = xasprintf("%s/ca.crt", pki);
	struct atlas_err err = { 0 };
	EVP_PKEY *key, *back;
	X509 *ca;

	assert_int_equal(mkdir_p(pki, 0700, &err), 0);
	key = pki_new_key(&err);
	assert_non_null(key);
	assert_int_equal(pki_save_key(kp, key, &err), 0);
	assert_false(file_exists(cp));
	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_true(pki_has_ca(pki));
	ca = load(pki, "ca.crt");
	assert_int_equal(X509_check_private_key(ca, key), 1); /* the key found, kept */
	assert_int_equal(X509_check_ca(ca), 1);
	back = pki_load_key(kp, NULL, &err);
	assert_int_equal(EVP_PKEY_eq(back, key), 1);
	EVP_PKEY_free(back);
	X509_free(ca);
	EVP_PKEY_free(key);
	/* a certificate without its key: refused, nothing written */
	assert_int_equal(unlink(kp), 0);
	assert_int_equal(pki_create_ca(pki, "Test CA", &err), -1);
	assert_non_null(strstr(err.msg, "restore ca.key from a backup"));
	assert_false(file_exists(kp));
	free(kp);
	free(cp);
}

/*
 * issue 16.3: a kill after a client's certificate was written but before
 * the index was: the next issue enters that certificate as revoked, so the
 * CRL lists it even if it was handed out.
 */
static void test_ovpn_pki__orphan_certificate_revoked(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *pki = pd->pki;
	struct pki_index lost = { 0 }, idx = { 0 };
	struct atlas_err err = { 0 };
	char first[72];

	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_int_equal(pki_issue(pki, &lost, "alice", 0, &err), 0);
	snprintf(first, sizeof(first), "%s", lost.v[0].serial);
	/* the index with that entry was never written: issue again from disk's */
	assert_int_equal(pki_index_read(pki, &idx, &err), 0);
	assert_int_equal(idx.n, 0);
	assert_int_equal(pki_issue(pki, &idx, "alice", 0, &err), 0);
	assert_int_equal(idx.n, 2);
	assert_string_equal(idx.v[0].serial, first);
	assert_int_equal(idx.v[0].status, 'R');
	assert_int_equal(idx.v[1].status, 'V');
	assert_string_not_equal(idx.v[1].serial, first);
	pki_index_release(&lost);
	pki_index_release(&idx);
}

static void test_ovpn_pki__revoke_and_crl(void **state)
{
	const struct pki_dirs *pd = *state;
	const char *dir = pd->dir, *pki = pd->pki;
	struct pki_index idx = { 0 };
	struct pki_crl_info info;
	struct atlas_err err = { 0 };
	time_t now = time(NULL);
	X509 *ca, *bob;
	X509_CRL *crl;
	ASN1_INTEGER *num;
	AUTHORITY_KEYID *aki;
	X509_REVOKED *rev = NULL;
	char *p;

	assert_int_equal(pki_create_ca(pki, "Test CA", &err), 0);
	assert_int_equal(pki_issue(pki, &idx, "alice", 0, &err), 0);
	assert_int_equal(pki_issue(pki, &idx, "bob", 0, &err), 0);
	assert_int_equal(pki_index_write(pki, &idx, &err), 0);
	assert_int_equal(pki_write_crl(pki, &idx, now, &err), 0);
	assert_int_equal(pki_crl_inspect(pki, &idx, &info, &err), 0);
	assert_true(info.present && info.valid && info.matches);
	assert_int_equal(info.number, 1);
	assert_int_equal(info.nrevoked, 0);

	bob = load(pki, "issued/bob.crt");
	assert_int_equal(pki_revoke(pki, &idx, "bob", now, &err), 0);
	/* the index changed in memory: the CRL on disk no longer matches it */
	assert_int_equal(pki_crl_inspect(pki, &idx, &info, &err), 0);
	assert_false(info.matches);
	assert_int_equal(idx.v[1].status, 'R');
	assert_int_equal(strlen(idx.v[1].revdate), 13);
	p = pki_key_path(pki, "bob");
	assert_false(file_exists(p));
	free(p);
	p = pki_cert_path(pki, "bob");
	assert_false(file_exists(p));
	free(p);
	assert_int_equal(pki_write_crl(pki, &idx, now, &err), 0);

	ca = load(pki, "ca.crt");
	crl = load_crl(pki);
	assert_int_equal(X509_CRL_get_version(crl), 1); /* v2 */
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_CRL_get_signature_nid(crl), NID_ecdsa_with_SHA256);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_non_null(num);
	assert_int_equal(ASN1_INTEGER_get(num), 2);
	ASN1_INTEGER_free(num);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(ca)), 0);
	AUTHORITY_KEYID_free(aki);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(bob)), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	{
		int days, secs;

		assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_CRL_get0_nextUpdate(crl)), 1);
		assert_true(days >= PKI_CRL_DAYS - 1 && days <= PKI_CRL_DAYS);
	}
	assert_int_equal(pki_crl_inspect(pki, &idx, &info, &err), 0);
	assert_true(info.valid && info.matches);
	assert_int_equal(info.number, 2);
	assert_true(info.next_update > now + (PKI_CRL_DAYS - 1) * 86400L);

	/* a CRL from another CA is not valid for this one */
	{
		char *other = xasprintf("%s/other", dir), *src = xasprintf("%s/crl.pem", other),
		     *dst = xasprintf("%s/crl.pem", pki);
		struct pki_index none = { 0 };
		struct buf b = BUF_INIT;

		assert_int_equal(pki_create_ca(other, "Other CA", &err), 0);
		assert_int_equal(pki_write_crl(other, &none, now, &err), 0);
		assert_int_equal(file_read(src, 1 << 20, &b, &err), 0);
		assert_int_equal(file_write_atomic(dst, b.data, b.len, 0644, &err), 0);
		assert_int_equal(pki_crl_inspect(pki, &idx, &info, &err), 0);
		assert_true(info.present);
		assert_false(info.valid);
		buf_release(&b);
		free(other);
		free(src);
		free(dst);
	}
	X509_CRL_free(crl);
	X509_free(ca);
	X509_free(bob);
	pki_index_release(&idx);
}

static void test_ovpn_pki__tls_crypt_key(void **state)
{
	char *dir = tu_tmpdir(), *p = xasprintf("%s/tls-crypt.key", dir);
	struct atlas_err err = { 0 };
	char *text, *body, *line;
	int lines = 0;

	(void)state;
	assert_int_equal(pki_write_tls_crypt(dir, &err), 0);
	assert_int_equal(mode_of(p), 0600);
	text = tu_read(p);
	body = strstr(text, "-----BEGIN OpenVPN Static key V1-----\n");
	assert_non_null(body);
	body += strlen("-----BEGIN OpenVPN Static key V1-----\n");
	for (line = body; strncmp(line, "-----END", 8); line = strchr(line, '\n') + 1) {
		assert_int_equal(strcspn(line, "\n"), 32);
		assert_int_equal(strspn(line, "0123456789abcdef"), 32);
		lines++;
	}
	assert_int_equal(lines, 16);
	assert_string_equal(line, "-----END OpenVPN Static key V1-----\n");
	free(text);
	tu_rmrf_free(dir);
	free(p);
}

static void test_ovpn_pki__index_format(void **state)
{
	const char text[] = "V\t290228022926Z\t\t88B0996F41F2A72F09AFC3DA5B20F303\tunknown\t/CN=server\n"
			    "R\t290228022927Z\t261126022927Z,keyCompromise\tf700e14b\tunknown\t"
			    "/C=US/CN=erin/O=x\n";
	struct pki_index idx = { 0 };
	struct atlas_err err = { 0 };
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(pki_index_parse(text, strlen(text), &idx, &err), 0);
	assert_int_equal(idx.n, 2);
	assert_string_equal(idx.v[1].cn, "erin");
	assert_string_equal(idx.v[1].serial, "F700E14B");
	assert_string_equal(idx.v[1].revdate, "261126022927Z,keyCompromise");
	assert_null(pki_index_valid(&idx, "erin"));
	assert_non_null(pki_index_valid(&idx, "server"));
	pki_index_format(&idx, &out);
	assert_string_equal(out.data,
			    "V\t290228022926Z\t\t88B0996F41F2A72F09AFC3DA5B20F303\tunknown\t/CN=server\n"
			    "R\t290228022927Z\t261126022927Z,keyCompromise\tF700E14B\tunknown\t/CN=erin\n");
	buf_release(&out);
	pki_index_release(&idx);
	assert_int_equal(pki_index_parse("V\tx\n", 4, &idx, &err), -1);
	assert_non_null(strstr(err.msg, "line 1"));
	pki_index_release(&idx);
	assert_int_equal(pki_index_parse("X\ta\t\t01\tunknown\t/CN=a\n", 22, &idx, &err), -1);
	pki_index_release(&idx);
	/* found by fuzz_ovpn: a NUL inside the subject made a CN that did not round-trip */
	assert_int_equal(pki_index_parse("V\ta\t\t01\tunknown\t/CN=\0x\n", 22, &idx, &err), -1);
	assert_non_null(strstr(err.msg, "control character"));
	pki_index_release(&idx);
}

static void test_ovpn_pki__pem_and_encrypted_key(void **state)
{
	char *dir = tu_tmpdir(), *crt = xasprintf("%s/x.crt", dir), *key = xasprintf("%s/x.key", dir);
	struct atlas_err err = { 0 };
	static const char dump[] = "Certificate:\n    Data: ...\n"
				   "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	struct buf pem = BUF_INIT;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int enc = 0;
	FILE *f;

	(void)state;
	/* easy-rsa: a text dump before the PEM block */
	assert_int_equal(file_write_atomic(crt, dump, strlen(dump), 0644, &err), 0);
	assert_int_equal(pki_read_cert_pem(crt, &pem, &err), 0);
	assert_string_equal(pem.data, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	f = fopen(key, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(), NULL, 0, NULL, "secret"), 1);
	fclose(f);
	assert_null(pki_load_key(key, &enc, &err));
	assert_int_equal(enc, 1);
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "is encrypted"));
	EVP_PKEY_free(k);
	buf_release(&pem);
	tu_rmrf_free(dir);
	free(crt);
	free(key);
}

TU_MAIN(NULL, NULL,
	PKI_TEST(test_ovpn_pki__ca_and_certificates),
	PKI_TEST(test_ovpn_pki__server_files_apart),
	PKI_TEST(test_ovpn_pki__server_migration),
	PKI_TEST(test_ovpn_pki__ca_half_written),
	PKI_TEST(test_ovpn_pki__orphan_certificate_revoked),
	PKI_TEST(test_ovpn_pki__revoke_and_crl),
	cmocka_unit_test(test_ovpn_pki__tls_crypt_key),
	cmocka_unit_test(test_ovpn_pki__index_format),
	cmocka_unit_test(test_ovpn_pki__pem_and_encrypted_key))
