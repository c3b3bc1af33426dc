/*
 * fuzz_ovpn.c - libFuzzer target for the OpenVPN parsers that read what
 * other programs wrote: management replies (`status 3`, SUCCESS/ERROR) and
 * easy-rsa index.txt files.
 *
 * Properties: a status reply parsed whole gives the same result as parsed
 * growing byte by byte at its end (only complete lines count); a parsed index
 * formats into text that parses again into the same index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/openvpn/ovpn_mgmt.h"
#include "controller/openvpn/pki.h"

static void fuzz_status(const char *text, size_t len)
{
	struct ovpn_status a = { 0 }, b = { 0 };
	struct atlas_err err = { 0 };
	int ra = ovpn_status_parse(text, len, &a, &err), rb;
	int ok;

	/* one more byte never turns a complete reply into another one */
	if (len > 0) {
		rb = ovpn_status_parse(text, len - 1, &b, &err);
		if (rb == 1 && ra == 1 && a.n != b.n)
			abort();
	}
	(void)ovpn_reply_parse(text, len, 0, &ok);
	(void)ovpn_reply_parse(text, len, 3, &ok);
	ovpn_status_release(&a);
	ovpn_status_release(&b);
}

static void fuzz_index(const char *text, size_t len)
{
	struct pki_index a = { 0 }, b = { 0 };
	struct buf t1 = BUF_INIT, t2 = BUF_INIT;

	if (pki_index_parse(text, len, &a, NULL) == 0) {
		pki_index_format(&a, &t1);
		if (pki_index_parse(buf_str(&t1), t1.len, &b, NULL) < 0)
			abort();
		pki_index_format(&b, &t2);
		if (strcmp(buf_str(&t1), buf_str(&t2)))
			abort();
	}
	pki_index_release(&a);
	pki_index_release(&b);
	buf_release(&t1);
	buf_release(&t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_status((const char *)data, size);
	fuzz_index((const char *)data, size);
	return 0;
}
