/*
 * schema.h - the description of every field of the desired state.
 *
 * One table per struct. The YAML decoder and encoder, the JSON codec of the
 * API, the SQLite store and the JSON Schema generator all walk these tables,
 * so a field is declared once.
 */
#ifndef ATLAS_SCHEMA_H
#define ATLAS_SCHEMA_H

#include <stddef.h>

enum field_type {
	F_STR,		/* char *, NULL when absent */
	F_INT,		/* int */
	F_I64,		/* long long */
	F_BOOL,		/* int 0/1 */
	F_ENUM,		/* int index into enum_names */
	F_STRV,		/* struct strv */
	F_KEY,		/* struct wg_key: raw key, base64 in text */
	F_OBJ,		/* embedded struct, always present */
	F_SECTION,	/* embedded struct with an int presence flag at has_off */
	F_LIST,		/* array of sub structs + size_t count at cnt_off */
};

enum field_flag {
	FF_REQUIRED = 1 << 0,
	FF_SECRET = 1 << 1,	/* exported only with --secrets; never in API output */
	FF_OUTPUT = 1 << 2,	/* computed (a public key): accepted on input, checked later */
	FF_ALWAYS = 1 << 3,	/* emitted even when equal to its default */
	FF_NUMTEXT = 1 << 4,	/* F_STR that also takes a whole number, as its text (a quota in bytes) */
};

struct schema;

struct field {
	const char *name;
	enum field_type type;
	size_t off;
	size_t aux_off;		/* F_LIST: count; F_SECTION: presence flag */
	const struct schema *sub;
	unsigned flags;
	long long def;		/* default of numbers and booleans */
	long long min, max;	/* range of numbers (when min < max) */
	const char *const *enum_names;	/* NULL-terminated */
	const char *desc;
};

struct schema {
	const char *name;	/* "peer", "interface": used in messages */
	const char *table;	/* SQLite table; NULL for the root */
	size_t size;
	const struct field *fields;
	size_t nfields;
	/* 0, or the offset of the struct's `suspended` text (model.h): copied and freed */
	size_t suspended_off;
};

extern const struct schema schema_root;
extern const struct schema schema_settings;
extern const struct schema schema_wg_section;
extern const struct schema schema_wg_iface;
extern const struct schema schema_wg_peer;
extern const struct schema schema_ovpn_section;
extern const struct schema schema_ovpn_client;
extern const struct schema schema_sb_section;
extern const struct schema schema_sb_inbound;
extern const struct schema schema_sb_user;
extern const struct schema schema_sb_subscription;

extern const char *const service_mode_names[];
extern const char *const ovpn_proto_names[];
extern const char *const sb_type_names[];
extern const char *const sb_security_names[];
extern const char *const sb_transport_names[];
extern const char *const sb_method_names[];
extern const char *const quota_period_names[];

const struct field *schema_field(const struct schema *s, const char *name);

/* Sets every field of the struct at p to its default (zero, NULL, def). */
void schema_init(const struct schema *s, void *p);
/* Frees what the struct at p owns (not p itself), wiping secrets. */
void schema_release(const struct schema *s, void *p);
/* Deep-copies src into dst (dst uninitialised). */
void schema_copy(const struct schema *s, void *dst, const void *src);

/*
 * The path of the value at where inside the struct at p of schema s, as the
 * API names fields ("singbox.inbounds[0].port", "address[2]"), written to
 * buf; 0, or -1 when where is not inside it. Where at the start of a list's
 * element gives the element ("inbounds[0].users[1]"): its first field (the
 * name) has the same address.
 */
int schema_value_path(const struct schema *s, const void *p, const void *where, char *buf,
		      size_t len);

/* Accessors into a struct by field. */
#define FIELD_PTR(p, f) ((void *)((char *)(p) + (f)->off))
#define FIELD_CPTR(p, f) ((const void *)((const char *)(p) + (f)->off))

#endif
