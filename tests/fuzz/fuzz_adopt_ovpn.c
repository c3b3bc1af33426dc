/*
 * fuzz_adopt_ovpn.c - libFuzzer target for the openvpn-install adoption
 * parsers (state/adopt_ovpn.c): every input is read as server.conf, as
 * ipp.txt and as a CCD file. A refused server.conf or ipp.txt must come
 * with a diagnostic; every name and IP pair of ipp.txt is a pair.
 */
#include <stdint.h>
#include <stdlib.h>

#include "state/adopt_ovpn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct diags errs = { 0 }, notes = { 0 };
	struct adopt_ovpn o = { 0 };
	struct strv names = { 0 }, ips = { 0 };
	char *ip;

	if (adopt_ovpn_parse(text, size, &o, &errs, &notes) == 0)
		adopt_ovpn_release(&o);
	else if (errs.n == 0)
		abort();
	diags_clear(&errs);
	if (adopt_ovpn_ipp(text, size, &names, &ips, &errs) < 0 && errs.n == 0)
		abort();
	if (names.n != ips.n)
		abort();
	strv_clear(&names);
	strv_clear(&ips);
	ip = adopt_ovpn_ccd_ip(text, size);
	free(ip);
	diags_clear(&errs);
	diags_clear(&notes);
	return 0;
}
