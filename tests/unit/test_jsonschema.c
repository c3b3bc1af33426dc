/*
 * test_jsonschema.c - schema/atlas.schema.json is what the field tables
 * generate (make golden rewrites it on purpose), and it is valid JSON that
 * names every top-level key of the YAML contract.
 */
#include <jansson.h>

#include "testutil.h"

#include "state/jsonschema.h"

static void test_jsonschema__in_sync(void **s)
{
	struct buf b = BUF_INIT;
	json_t *j, *props;

	(void)s;
	state_json_schema(&b);
	tu_golden("schema/atlas.schema.json", b.data);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	props = json_object_get(j, "properties");
	assert_non_null(json_object_get(props, "version"));
	assert_non_null(json_object_get(props, "settings"));
	assert_non_null(json_object_get(props, "wireguard"));
	assert_non_null(json_object_get(props, "openvpn"));
	assert_non_null(json_object_get(props, "singbox"));
	assert_true(json_is_false(json_object_get(j, "additionalProperties")));
	json_decref(j);
	buf_release(&b);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_jsonschema__in_sync))
