/*
 * fuzz_links.c - libFuzzer target for the share links (renderers/singbox/
 * sb_links.c), from any YAML state the importer accepts (seeds: the golden
 * sing-box states). For every user of every inbound the link must render,
 * hold only printable ASCII that a URL allows, one '#', whose fragment
 * percent-decodes back to the inbound's name (the round trip); a vmess://
 * payload (no fragment) must decode from base64 to a JSON object whose "ps"
 * is that name.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "renderers/singbox/sb_render.h"
#include "state/commit.h"
#include "state/yaml.h"

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s into out (at least strlen(s) + 1 bytes); -1 when malformed. */
static int pct_decode(const char *s, char *out)
{
	for (; *s; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		if (hexv(s[1]) < 0 || hexv(s[2]) < 0)
			return -1;
		*out++ = (char)(hexv(s[1]) * 16 + hexv(s[2]));
		s += 2;
	}
	*out = 0;
	return 0;
}

/* vmess://: base64 of a JSON object whose "ps" is the inbound's name. */
static void check_vmess(const struct sb_inbound *in, const char *link)
{
	const char *b = link + strlen("vmess://");
	size_t blen = strlen(b);
	unsigned char *raw = malloc(blen + 1);
	long n;
	json_t *j;

	if (strncmp(link, "vmess://", 8) || strchr(b, '#'))
		abort();
	n = base64_decode(b, blen, raw, blen + 1);
	if (n < 0)
		abort();
	j = json_loadb((const char *)raw, (size_t)n, 0, NULL);
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "ps")) ||
	    strcmp(json_string_value(json_object_get(j, "ps")), in->name))
		abort();
	json_decref(j);
	free(raw);
}

static void check_link(const struct sb_inbound *in, const char *link)
{
	const char *hash = strchr(link, '#');
	char *name;

	for (const char *p = link; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			abort();
	if (in->type == SB_VMESS) {
		check_vmess(in, link);
		return;
	}
	if (!hash || strchr(hash + 1, '#'))
		abort();
	name = malloc(strlen(hash));
	if (pct_decode(hash + 1, name) < 0 || strcmp(name, in->name))
		abort();
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct posmap pm = { 0 };
	struct atlas_state *st = state_from_yaml((const char *)data, size, &d, &pm);

	if (st && state_check(st, NULL, &pm, &d, NULL) == 0 && st->settings.host) {
		for (size_t i = 0; i < st->singbox.ninbounds; i++) {
			const struct sb_inbound *in = &st->singbox.inbounds[i];

			for (size_t k = 0; k < in->nusers; k++) {
				struct buf out = BUF_INIT;
				struct atlas_err err = { 0 };

				if (render_sb_link(st, in, &in->users[k], &out, &err) < 0)
					abort(); /* a valid state with a host always has links */
				check_link(in, buf_str(&out));
				buf_release(&out);
			}
		}
	}
	state_free(st);
	diags_clear(&d);
	posmap_clear(&pm);
	return 0;
}
