/*
 * jsonschema.c - field tables to JSON Schema.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "state/jsonschema.h"
#include "state/model.h"
#include "state/schema.h"

static json_t *object_schema(const struct schema *s);

static json_t *field_schema(const struct field *f)
{
	json_t *j = json_object();

	switch (f->type) {
	case F_STR:
		json_object_set_new(j, "type", json_string("string"));
		if (!strcmp(f->name, "name"))
			json_object_set_new(j, "pattern", json_string("^[a-z0-9][a-z0-9_.-]{0,62}$"));
		if (!strcmp(f->name, "expires"))
			/* the shape expiry_parse() accepts (it also checks the calendar) */
			json_object_set_new(j, "pattern",
					    json_string("^[0-9]{4}-[0-9]{2}-[0-9]{2}"
							"(T[0-9]{2}:[0-9]{2}:[0-9]{2}"
							"(Z|[+-][0-9]{2}:[0-9]{2}))?$"));
		if (!strcmp(f->name, "quota"))
			/* the shape bytes_parse() accepts (it also checks the range) */
			json_object_set_new(
			    j, "pattern",
			    json_string("^[0-9]+(\\.[0-9]+)? ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$"));
		if (f->flags & FF_NUMTEXT) /* or a whole number (of bytes) */
			json_object_set_new(j, "type", json_pack("[ss]", "string", "integer"));
		break;
	case F_KEY:
		json_object_set_new(j, "type", json_string("string"));
		json_object_set_new(j, "pattern", json_string("^[A-Za-z0-9+/]{43}=$"));
		break;
	case F_INT:
	case F_I64:
		json_object_set_new(j, "type", json_string("integer"));
		if (f->min < f->max && (f->def < f->min || f->def > f->max) &&
		    !(f->flags & FF_REQUIRED)) {
			/* A default outside the range ("mtu: 0") is allowed too. */
			json_object_set_new(j, "anyOf",
					    json_pack("[{s:I}, {s:I, s:I}]", "const", (json_int_t)f->def,
						      "minimum", (json_int_t)f->min, "maximum",
						      (json_int_t)f->max));
		} else if (f->min < f->max) {
			json_object_set_new(j, "minimum", json_integer(f->min));
			json_object_set_new(j, "maximum", json_integer(f->max));
		}
		json_object_set_new(j, "default", json_integer(f->def));
		break;
	case F_BOOL:
		json_object_set_new(j, "type", json_string("boolean"));
		json_object_set_new(j, "default", json_boolean(f->def));
		break;
	case F_ENUM: {
		json_t *e = json_array();

		for (int i = 0; f->enum_names[i]; i++)
			json_array_append_new(e, json_string(f->enum_names[i]));
		json_object_set_new(j, "type", json_string("string"));
		json_object_set_new(j, "enum", e);
		if (!(f->flags & FF_REQUIRED))
			json_object_set_new(j, "default", json_string(f->enum_names[f->def]));
		break;
	}
	case F_STRV:
		json_object_set_new(j, "type", json_string("array"));
		json_object_set_new(j, "items", json_pack("{s:s}", "type", "string"));
		break;
	case F_OBJ:
	case F_SECTION:
		json_decref(j);
		j = object_schema(f->sub);
		/* "wireguard:" alone is a section with defaults; not so one with a
		 * required key ("openvpn:" needs network). */
		if (f->type == F_SECTION && !json_object_get(j, "required"))
			json_object_set_new(j, "type", json_pack("[s,s]", "object", "null"));
		break;
	case F_LIST:
		json_object_set_new(j, "type", json_string("array"));
		json_object_set_new(j, "items", object_schema(f->sub));
		break;
	}
	if (f->desc)
		json_object_set_new(j, "description", json_string(f->desc));
	if (f->flags & FF_SECRET)
		json_object_set_new(j, "writeOnly", json_true());
	return j;
}

static json_t *object_schema(const struct schema *s)
{
	json_t *j = json_object(), *props = json_object(), *req = json_array();

	json_object_set_new(j, "type", json_string("object"));
	json_object_set_new(j, "additionalProperties", json_false());
	for (size_t i = 0; i < s->nfields; i++) {
		json_object_set_new(props, s->fields[i].name, field_schema(&s->fields[i]));
		if (s->fields[i].flags & FF_REQUIRED)
			json_array_append_new(req, json_string(s->fields[i].name));
	}
	json_object_set_new(j, "properties", props);
	if (json_array_size(req))
		json_object_set_new(j, "required", req);
	else
		json_decref(req);
	return j;
}

void state_json_schema(struct buf *out)
{
	json_t *root = object_schema(&schema_root);
	char *text;

	json_object_set_new(root, "$schema",
			    json_string("https://json-schema.org/draft/2020-12/schema"));
	json_object_set_new(root, "title", json_string("Atlas desired state, version 1"));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	buf_puts(out, text);
	buf_putc(out, '\n');
	free(text);
	json_decref(root);
}
