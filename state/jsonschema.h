/*
 * jsonschema.h - the JSON Schema (draft 2020-12) of the YAML file, generated
 * from the field tables so it cannot drift from what the decoder accepts.
 * schema/atlas.schema.json is this output, kept in sync by a test.
 */
#ifndef ATLAS_JSONSCHEMA_H
#define ATLAS_JSONSCHEMA_H

#include "lib/buf.h"

/* Appends the schema as indented JSON text with a final newline. Cannot fail. */
void state_json_schema(struct buf *out);

#endif
