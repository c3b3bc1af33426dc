/*
 * fuzz_adopt_wg.c - libFuzzer target for the wg-quick adoption parsers
 * (state/adopt_wg.c): every input is read as a server file and as a client
 * file. A server file that parses goes through adopt_wg_check; errors must
 * come with a diagnostic. Crashes, leaks and undefined behaviour are caught
 * by the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>

#include "state/adopt_wg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags errs = { 0 }, notes = { 0 }, check = { 0 };
	struct adopt_wg a = { 0 };
	struct adopt_wg_client c = { 0 };

	if (adopt_wg_parse((const char *)data, size, "wg0", &a, &errs, &notes) == 0) {
		(void)adopt_wg_check(&a, &check);
		adopt_wg_release(&a);
	} else if (errs.n == 0) {
		abort(); /* refused without saying why */
	}
	diags_clear(&errs);
	if (adopt_wg_client_parse((const char *)data, size, &c, &errs) == 0)
		adopt_wg_client_release(&c);
	else if (errs.n == 0)
		abort();
	diags_clear(&errs);
	diags_clear(&notes);
	diags_clear(&check);
	return 0;
}
