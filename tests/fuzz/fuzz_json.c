/*
 * fuzz_json.c - libFuzzer target for the JSON bodies of the API
 * (state/json.c), as PATCH and create handlers use it.
 *
 * The first byte picks the resource (peer, interface, openvpn section,
 * client). Any input must either be refused with a message, or decode into
 * a struct whose encoding (jansson and the fast writer) decodes again to
 * the same encoding. Crashes, leaks and undefined behaviour are caught by
 * the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "state/json.h"
#include "state/model.h"
#include "state/schema.h"

static const struct schema *const kinds[] = { &schema_wg_peer, &schema_wg_iface,
					      &schema_ovpn_section, &schema_ovpn_client };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct schema *s;
	struct atlas_err err = { 0 };
	char field[128];
	json_t *in, *enc1 = NULL, *enc2 = NULL, *fast = NULL;
	struct buf text = BUF_INIT;
	void *a, *b;

	if (size < 1)
		return 0;
	s = kinds[data[0] % 4];
	in = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!in)
		return 0;
	a = calloc(1, s->size);
	b = calloc(1, s->size);
	schema_init(s, a);
	schema_init(s, b);
	if (json_decode_struct(s, in, a, &err, field, sizeof(field)) < 0) {
		if (!err.msg[0])
			abort();	/* refused without saying why */
		goto out;
	}
	enc1 = json_encode_struct(s, a, 0);
	{
		/* A required name still unset encodes as null, which input refuses. */
		json_t *again = json_deep_copy(enc1);
		int rc;

		for (size_t i = 0; i < s->nfields; i++)
			if ((s->fields[i].flags & FF_REQUIRED) &&
			    json_is_null(json_object_get(again, s->fields[i].name)))
				json_object_del(again, s->fields[i].name);
		rc = json_decode_struct(s, again, b, &err, field, sizeof(field));
		json_decref(again);
		if (rc < 0)
			abort();	/* our own output must decode */
	}
	enc2 = json_encode_struct(s, b, 0);
	if (!json_equal(enc1, enc2))
		abort();
	/* The fast writer says the same as jansson. */
	buf_putc(&text, '{');
	json_write_fields(s, a, &text);
	buf_putc(&text, '}');
	fast = json_loadb(text.data, text.len, 0, NULL);
	if (!fast)
		abort();
	json_object_del(enc1, "peers");
	if (!json_equal(fast, enc1))
		abort();
out:
	schema_release(s, a);
	schema_release(s, b);
	free(a);
	free(b);
	json_decref(in);
	json_decref(enc1);
	json_decref(enc2);
	json_decref(fast);
	buf_release(&text);
	return 0;
}
