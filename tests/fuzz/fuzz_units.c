/*
 * fuzz_units.c - libFuzzer target for the small value parsers: sizes
 * (bytes_parse; its formatted value parses again, never above and at most
 * a tenth of a unit below), dates (date_valid), addresses (ip_parse; its
 * formatted value parses again into the same address and prefix).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ipaddr.h"
#include "state/usage.h"
#include "state/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), text[128];
	long long n, m;
	struct ipaddr a, b;

	memcpy(s, data, size);
	s[size] = 0;
	if (bytes_parse(s, &n) == 0) {
		if (n < 1)
			abort();
		bytes_format(n, text, sizeof(text));
		if (bytes_parse(text, &m) < 0 || m > n || (double)m < (double)n * 0.9)
			abort();
	}
	(void)date_valid(s);
	if (ip_parse(s, &a) == 0) {
		ip_format(&a, 1, text, sizeof(text));
		if (ip_parse(text, &b) < 0 || !ip_addr_eq(&a, &b) || a.prefix != b.prefix)
			abort();
	}
	free(s);
	return 0;
}
