/*
 * json.c - encoding and decoding structs of the desired state as JSON, by
 * walking their field tables.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "state/json.h"
#include "state/keys.h"
#include "state/model.h"

json_t *json_encode_struct(const struct schema *s, const void *p, unsigned flags)
{
	json_t *o = json_object();

	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		const void *fp = FIELD_CPTR(p, f);
		json_t *v = NULL;

		if (f->flags & FF_SECRET)
			continue;
		switch (f->type) {
		case F_STR: {
			const char *str = *(char *const *)fp;

			v = str ? json_string(str) : json_null();
			/* json_string() refuses invalid UTF-8: stored text was checked. */
			if (!v)
				v = json_null();
			break;
		}
		case F_INT:
			v = json_integer(*(const int *)fp);
			break;
		case F_I64:
			v = json_integer(*(const long long *)fp);
			break;
		case F_BOOL:
			v = json_boolean(*(const int *)fp);
			break;
		case F_ENUM: {
			int e = *(const int *)fp;

			v = json_string(f->enum_names[e]);
			break;
		}
		case F_STRV: {
			const struct strv *sv = fp;

			v = json_array();
			for (size_t k = 0; k < sv->n; k++) {
				json_t *e = json_string(sv->v[k]);

				if (e)
					json_array_append_new(v, e);
			}
			break;
		}
		case F_KEY: {
			char text[KEY_B64];

			key_text(fp, text);
			v = text[0] ? json_string(text) : json_null();
			OPENSSL_cleanse(text, sizeof(text));
			break;
		}
		case F_OBJ:
			v = json_encode_struct(f->sub, fp, flags);
			break;
		case F_SECTION:
			if (!*(const int *)((const char *)p + f->aux_off))
				v = json_null();
			else
				v = json_encode_struct(f->sub, fp, flags);
			break;
		case F_LIST: {
			size_t n = *(const size_t *)((const char *)p + f->aux_off);
			const char *arr = *(char *const *)fp;

			if (!(flags & JSON_ENC_LISTS))
				continue;
			v = json_array();
			for (size_t k = 0; k < n; k++)
				json_array_append_new(
				    v, json_encode_struct(f->sub, arr + k * f->sub->size, flags));
			break;
		}
		}
		json_object_set_new(o, f->name, v);
	}
	return o;
}

void json_write_str(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	/* the characters with a two-character escape; the others below 0x20 and 0x7f: \u00XX */
	static const char *const short_escape[0x80] = {
		['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\t'] = "\\t", ['\r'] = "\\r",
	};
	const char *run;

	if (!s) {
		buf_puts(out, "null");
		return;
	}
	buf_putc(out, '"');
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(out, run, (size_t)(s - run));
		run = s + 1;
		if (c < 0x80 && short_escape[c]) {
			buf_puts(out, short_escape[c]);
		} else {
			char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};

			buf_puts(out, u);
		}
	}
	buf_add(out, run, (size_t)(s - run));
	buf_putc(out, '"');
}

void json_write_fields(const struct schema *s, const void *p, struct buf *out)
{
	int first = 1;

	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		const void *fp = FIELD_CPTR(p, f);

		if ((f->flags & FF_SECRET) || f->type == F_LIST || f->type == F_OBJ ||
		    f->type == F_SECTION)
			continue;
		if (!first)
			buf_putc(out, ',');
		first = 0;
		json_write_str(out, f->name);
		buf_putc(out, ':');
		switch (f->type) {
		case F_STR:
			json_write_str(out, *(char *const *)fp);
			break;
		case F_INT:
			buf_printf(out, "%d", *(const int *)fp);
			break;
		case F_I64:
			buf_printf(out, "%lld", *(const long long *)fp);
			break;
		case F_BOOL:
			buf_puts(out, *(const int *)fp ? "true" : "false");
			break;
		case F_ENUM:
			json_write_str(out, f->enum_names[*(const int *)fp]);
			break;
		case F_STRV: {
			const struct strv *sv = fp;

			buf_putc(out, '[');
			for (size_t k = 0; k < sv->n; k++) {
				if (k)
					buf_putc(out, ',');
				json_write_str(out, sv->v[k]);
			}
			buf_putc(out, ']');
			break;
		}
		case F_KEY: {
			char text[KEY_B64];

			key_text(fp, text);
			json_write_str(out, text[0] ? text : NULL);
			OPENSSL_cleanse(text, sizeof(text));
			break;
		}
		default:
			break;
		}
	}
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* A short printable rendering of a JSON value for messages (new). */
static char *value_text(const json_t *v)
{
	char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	char *out;

	if (!dump)
		return xstrdup("?");
	if (strlen(dump) > 80) {
		out = xasprintf("%.77s...", dump);
		free(dump);
		return out;
	}
	return dump;
}

static int bad(struct atlas_err *err, const char *path, const json_t *v, const char *what)
{
	char *t = value_text(v);

	err_set(err, ERR_INVALID, "%s: %s %s", path, t, what);
	free(t);
	return -1;
}

static int decode_field(const struct schema *s, const struct field *f, json_t *v, void *p,
			const char *path, struct atlas_err *err, char *field, size_t fieldlen);

static int decode_obj(const struct schema *s, json_t *obj, void *p, const char *prefix,
		      struct atlas_err *err, char *field, size_t fieldlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const struct field *f = schema_field(s, key);
		char *path = prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
		int rc = 0;

		if (field)
			snprintf(field, fieldlen, "%s", path);
		if (!f && !prefix && !strcmp(key, "status")) {
			/* the live status a GET adds: a body read and sent back keeps it */
			free(path);
			continue;
		}
		if (!f) {
			json_t *k = json_string(key);
			char *t = value_text(k ? k : json_null());

			json_decref(k);
			err_set(err, ERR_INVALID, "unknown field %s in %s", t, s->name);
			free(t);
			rc = -1;
		} else {
			rc = decode_field(s, f, v, p, path, err, field, fieldlen);
		}
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int decode_field(const struct schema *s, const struct field *f, json_t *v, void *p,
			const char *path, struct atlas_err *err, char *field, size_t fieldlen)
{
	void *fp = FIELD_PTR(p, f);

	(void)s;
	if (f->flags & FF_SECRET)
		return err_set(err, ERR_INVALID, "%s is a secret: it cannot be set through the API",
			       path);
	switch (f->type) {
	case F_STR: {
		char **sp = fp;

		if (json_is_null(v)) {
			if (f->flags & FF_REQUIRED)
				return bad(err, path, v, "is not allowed: the field is required");
			free(*sp);
			*sp = NULL;
			return 0;
		}
		if ((f->flags & FF_NUMTEXT) && json_is_integer(v)) {
			if (json_integer_value(v) < 0)
				return bad(err, path, v, "is negative");
			free(*sp);
			*sp = xasprintf("%lld", (long long)json_integer_value(v));
			return 0;
		}
		if (!json_is_string(v))
			return err_set(err, ERR_INVALID, "%s must be a string%s, not %s", path,
				       f->flags & FF_NUMTEXT ? " or a whole number" : "",
				       type_name(v));
		if (strlen(json_string_value(v)) != json_string_length(v))
			return err_set(err, ERR_INVALID, "%s contains a NUL character", path);
		free(*sp);
		*sp = xstrdup(json_string_value(v));
		return 0;
	}
	case F_INT:
	case F_I64: {
		long long lo = f->type == F_INT ? INT_MIN : LLONG_MIN;
		long long hi = f->type == F_INT ? INT_MAX : LLONG_MAX;
		long long n;

		if (!json_is_integer(v))
			return err_set(err, ERR_INVALID, "%s must be an integer, not %s", path,
				       type_name(v));
		n = json_integer_value(v);
		if (f->min < f->max) {
			lo = f->min;
			hi = f->max;
		}
		/* An optional field's default outside the range (0: off) is accepted, as in YAML. */
		if ((n < lo || n > hi) && (n != f->def || (f->flags & FF_REQUIRED))) {
			char what[128];

			snprintf(what, sizeof(what), "is out of range (%lld to %lld)", lo, hi);
			return bad(err, path, v, what);
		}
		if (f->type == F_INT)
			*(int *)fp = (int)n;
		else
			*(long long *)fp = n;
		return 0;
	}
	case F_BOOL:
		if (!json_is_boolean(v))
			return err_set(err, ERR_INVALID, "%s must be true or false, not %s", path,
				       type_name(v));
		*(int *)fp = json_is_true(v);
		return 0;
	case F_ENUM: {
		const char *str = json_string_value(v);
		struct buf names = BUF_INIT;

		for (int k = 0; str && f->enum_names[k]; k++)
			if (!strcmp(f->enum_names[k], str)) {
				*(int *)fp = k;
				return 0;
			}
		for (int k = 0; f->enum_names[k]; k++)
			buf_printf(&names, "%s%s", k ? ", " : "", f->enum_names[k]);
		buf_puts(&names, ")");
		{
			char *what = xasprintf("is not one of (%s", buf_str(&names));

			bad(err, path, v, what);
			free(what);
		}
		buf_release(&names);
		return -1;
	}
	case F_STRV: {
		struct strv tmp = STRV_INIT;
		size_t i;
		json_t *e;

		if (!json_is_array(v))
			return err_set(err, ERR_INVALID, "%s must be an array of strings, not %s",
				       path, type_name(v));
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e) ||
			    strlen(json_string_value(e)) != json_string_length(e)) {
				strv_clear(&tmp);
				return bad(err, path, e, "is not a string");
			}
			strv_push(&tmp, json_string_value(e));
		}
		strv_clear(fp);
		*(struct strv *)fp = tmp;
		return 0;
	}
	case F_KEY: {
		const char *str = json_string_value(v);

		if (json_is_null(v) || (str && !*str)) {
			key_wipe(fp);
			return 0;
		}
		if (!str)
			return err_set(err, ERR_INVALID, "%s must be a base64 key string, not %s",
				       path, type_name(v));
		if (!key_valid(str))
			return bad(err, path, v, "is not a base64 WireGuard key of 32 bytes");
		key_from_text(fp, str);
		return 0;
	}
	case F_OBJ:
	case F_SECTION:
		if (!json_is_object(v))
			return err_set(err, ERR_INVALID, "%s must be an object, not %s", path,
				       type_name(v));
		if (f->type == F_SECTION)
			*(int *)((char *)p + f->aux_off) = 1;
		return decode_obj(f->sub, v, fp, path, err, field, fieldlen);
	case F_LIST:
		return err_set(err, ERR_INVALID, "%s cannot be set here: use its own endpoint",
			       path);
	}
	return err_set(err, ERR_INTERNAL, "%s: unknown field type", path);
}

int json_decode_struct(const struct schema *s, json_t *obj, void *p, struct atlas_err *err,
		       char *field, size_t fieldlen)
{
	if (field && fieldlen)
		field[0] = '\0';
	if (!json_is_object(obj))
		return err_set(err, ERR_INVALID, "the body must be a JSON object, not %s",
			       type_name(obj));
	return decode_obj(s, obj, p, NULL, err, field, fieldlen);
}
