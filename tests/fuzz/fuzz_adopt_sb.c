/*
 * fuzz_adopt_sb.c - libFuzzer target for the sing-box config adoption
 * parser (state/adopt_sb.c). A refused config must come with a diagnostic;
 * the inbounds it appends are owned by the state and freed with it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "state/adopt_sb.h"
#include "state/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags errs = { 0 }, notes = { 0 };
	struct atlas_state *st = state_new();

	if (adopt_sb_parse((const char *)data, size, &st->singbox, &errs, &notes) < 0 &&
	    errs.n == 0)
		abort();
	state_free(st);
	diags_clear(&errs);
	diags_clear(&notes);
	return 0;
}
