/*
 * fuzz_wg_observe.c - libFuzzer target for what Atlas reads from WireGuard:
 * `wg show IF dump`, the UAPI get=1 reply, `ip -j addr show` (each parser
 * gets a copy of every input; the first two cut their text in place); and
 * the live status: a dump turned into peer lines (wg_status_lines), those
 * lines (or the input itself as lines) into the API's records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "controller/wireguard/wg.h"

static char *copy(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int (*const parse[])(char *, struct wg_obs_iface *, struct atlas_err *) = {
		wg_parse_dump, wg_parse_uapi
	};
	struct atlas_err err = { 0 };

	for (size_t i = 0; i < 3; i++) {
		struct wg_obs_iface ifc = { 0 };
		char *s = copy(data, size);

		if (i < 2)
			(void)parse[i](s, &ifc, &err);
		else
			(void)wg_parse_ip_addr(s, &ifc, &err);
		wg_obs_iface_release(&ifc);
		free(s);
	}
	for (int as_dump = 0; as_dump < 2; as_dump++) {
		char *s = copy(data, size);
		int port;
		long n = as_dump ? wg_status_lines(s, &port) : (long)size;
		json_t *wg = n < 0 ? NULL
				   : json_pack("{s:[{s:s, s:b, s:s%}]}", "interfaces", "name", "wg0",
					       "up", 1, "peer_lines", s, (size_t)n);

		live_wg_free(live_wg_from_json(wg)); /* NULL when not UTF-8 */
		json_decref(wg);
		free(s);
	}
	return 0;
}
