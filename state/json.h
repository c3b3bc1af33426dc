/*
 * json.h - the desired state as JSON, for the HTTP API, driven by the field
 * tables of schema.c (so a field is declared once, as for YAML and SQLite).
 *
 * Encoding never emits FF_SECRET fields. Decoding applies the members of a
 * JSON object onto an existing struct: a member that is absent leaves its
 * field as it is, so a PATCH is "decode onto a copy of the stored resource"
 * and a create is "decode onto a fresh schema_init() struct". Unknown
 * members, wrong types, numbers out of range, unknown enum names, secret
 * fields and nested lists are refused with the field's name and value;
 * semantic rules (addresses, names, ports in use) stay in validate.c.
 */
#ifndef ATLAS_JSON_H
#define ATLAS_JSON_H

#include <jansson.h>

#include "lib/err.h"
#include "state/schema.h"

enum json_enc_flags {
	JSON_ENC_LISTS = 1 << 0, /* include F_LIST fields (else left out) */
};

/*
 * A new JSON object with every non-secret field of the struct at p, in table
 * order: absent strings and empty keys as null, string lists as arrays.
 * Cannot fail.
 */
json_t *json_encode_struct(const struct schema *s, const void *p, unsigned flags);

/*
 * The same object written straight as JSON text, without its braces:
 * "name":"alice","address":["10.0.0.2/32"],... appended to out (the fast
 * path of long lists: no jansson tree). F_LIST fields are left out.
 * Strings are escaped; they are valid UTF-8 (the YAML and JSON decoders
 * refuse anything else). Cannot fail.
 */
struct buf;
void json_write_fields(const struct schema *s, const void *p, struct buf *out);
/* Appends s as a JSON string literal (NULL: null). Cannot fail. */
void json_write_str(struct buf *out, const char *s);

/*
 * Applies the members of obj (borrowed) onto the struct at p (initialised).
 * Returns 0, or -1 with ERR_INVALID, a message naming the field and value,
 * and the field's name copied into field (may be NULL; fieldlen bytes).
 * On failure p may be partly changed: decode onto a copy.
 */
int json_decode_struct(const struct schema *s, json_t *obj, void *p, struct atlas_err *err,
		       char *field, size_t fieldlen);

#endif
