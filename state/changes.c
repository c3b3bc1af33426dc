/*
 * changes.c - the summary of what one desired state changes compared with
 * another, walked over the schema tables (changes.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strv.h"
#include "state/changes.h"
#include "state/keys.h"
#include "state/schema.h"

static const char *const runtime_settings[] = { "auto_apply", "resync", "history_keep",
						"service_mode", NULL };

int settings_is_runtime(const char *name)
{
	for (size_t i = 0; runtime_settings[i]; i++)
		if (!strcmp(runtime_settings[i], name))
			return 1;
	return 0;
}

void settings_keep_runtime(struct settings *dst, const struct settings *src)
{
	dst->auto_apply = src->auto_apply;
	dst->resync = src->resync;
	dst->history_keep = src->history_keep;
	dst->service_mode = src->service_mode;
}

static int is_scalar(const struct field *f)
{
	return f->type != F_OBJ && f->type != F_SECTION && f->type != F_LIST;
}

/* A value as the YAML shows it (new), or NULL when absent. Secrets: NULL. */
static char *value_text(const struct field *f, const void *p)
{
	const void *fp = FIELD_CPTR(p, f);

	if (f->flags & FF_SECRET)
		return NULL;
	switch (f->type) {
	case F_STR: {
		const char *s = *(char *const *)fp;

		return s && *s ? xstrdup(s) : NULL;
	}
	case F_KEY: {
		char text[KEY_B64];

		key_text(fp, text);
		return text[0] ? xstrdup(text) : NULL;
	}
	case F_INT:
		return xasprintf("%d", *(const int *)fp);
	case F_I64:
		return xasprintf("%lld", *(const long long *)fp);
	case F_BOOL:
		return xstrdup(*(const int *)fp ? "true" : "false");
	case F_ENUM: {
		int v = *(const int *)fp;

		return xstrdup(v >= 0 && f->enum_names ? f->enum_names[v] : "?");
	}
	case F_STRV:
		return ((const struct strv *)fp)->n ? strv_join(fp, ", ") : NULL;
	default:
		return NULL;
	}
}

static int field_equal(const struct field *f, const void *a, const void *b)
{
	const void *x = FIELD_CPTR(a, f), *y = FIELD_CPTR(b, f);

	switch (f->type) {
	case F_STR: {
		const char *s = *(char *const *)x, *t = *(char *const *)y;

		return !strcmp(s ? s : "", t ? t : "");
	}
	case F_KEY:
		return key_same(x, y);
	case F_INT:
	case F_BOOL:
	case F_ENUM:
		return *(const int *)x == *(const int *)y;
	case F_I64:
		return *(const long long *)x == *(const long long *)y;
	case F_STRV:
		return strv_eq(x, y);
	default:
		return 1;
	}
}

int state_item_same(const struct schema *s, const void *a, const void *b)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (is_scalar(&s->fields[i]) && !field_equal(&s->fields[i], a, b))
			return 0;
	return 1;
}

static int skipped(const void *const *skip, const void *x)
{
	for (; skip && *skip; skip++)
		if (*skip == x)
			return 1;
	return 0;
}

int state_tree_same(const struct schema *s, const void *a, const void *b,
		    const void *const *skip)
{
	if (!state_item_same(s, a, b))
		return 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		const char *x = FIELD_CPTR(a, f), *y = FIELD_CPTR(b, f);
		size_t n;

		if (f->type == F_SECTION) {
			int hx = *(const int *)((const char *)a + f->aux_off);

			if (hx != *(const int *)((const char *)b + f->aux_off) ||
			    (hx && !state_tree_same(f->sub, x, y, skip)))
				return 0;
		} else if (f->type == F_OBJ && !state_tree_same(f->sub, x, y, skip)) {
			return 0;
		} else if (f->type == F_LIST && !skipped(skip, x)) {
			n = *(const size_t *)((const char *)a + f->aux_off);
			if (n != *(const size_t *)((const char *)b + f->aux_off))
				return 0;
			x = *(char *const *)x;
			y = *(char *const *)y;
			for (size_t k = 0; k < n; k++)
				if (!state_tree_same(f->sub, x + k * f->sub->size, y + k * f->sub->size,
						     skip))
					return 0;
		}
	}
	return 1;
}

struct eng {
	json_t *items;
	int added, removed, changed;
};

static const char *elem_name(const struct schema *s, const void *elem)
{
	const struct field *nf = schema_field(s, "name");
	const char *n = nf ? *(char *const *)FIELD_CPTR(elem, nf) : NULL;

	return n ? n : "";
}

static char *path_of(const char *prefix, const char *name)
{
	return prefix && *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
}

static void item(struct eng *e, const char *op, const char *kind, const char *name,
		 json_t *fields)
{
	json_t *it = json_pack("{s:s, s:s, s:s}", "op", op, "kind", kind, "name", name);

	if (fields)
		json_object_set_new(it, "fields", fields);
	json_array_append_new(e->items, it);
	if (*op == '+')
		e->added++;
	else if (*op == '-')
		e->removed++;
	else
		e->changed++;
}

/* An element added or removed, with everything listed under it. */
static void all_items(struct eng *e, const char *op, const struct schema *s, const void *elem,
		      const char *prefix)
{
	char *path = path_of(prefix, elem_name(s, elem));

	item(e, op, s->name, path, NULL);
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if (f->type != F_LIST)
			continue;
		for (size_t k = 0; k < *(const size_t *)((const char *)elem + f->aux_off); k++)
			all_items(e, op, f->sub,
				  *(char *const *)FIELD_CPTR(elem, f) + k * f->sub->size, path);
	}
	free(path);
}

static const void *find_elem(const struct schema *s, const char *base, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(elem_name(s, base + i * s->size), name))
			return base + i * s->size;
	return NULL;
}

static void compare_elem(struct eng *e, const struct schema *s, const void *a, const void *b,
			 const char *prefix);

/* One list field f of the structs a and b (either may be NULL: empty). */
static void compare_list(struct eng *e, const struct field *f, const void *a, const void *b,
			 const char *prefix)
{
	const struct schema *s = f->sub;
	const char *va = a ? *(char *const *)FIELD_CPTR(a, f) : NULL;
	const char *vb = b ? *(char *const *)FIELD_CPTR(b, f) : NULL;
	size_t na = a ? *(const size_t *)((const char *)a + f->aux_off) : 0;
	size_t nb = b ? *(const size_t *)((const char *)b + f->aux_off) : 0;

	for (size_t i = 0; i < na; i++) {
		const void *x = va + i * s->size;

		if (!find_elem(s, vb, nb, elem_name(s, x)))
			all_items(e, "-", s, x, prefix);
	}
	for (size_t i = 0; i < nb; i++) {
		const void *y = vb + i * s->size, *x = find_elem(s, va, na, elem_name(s, y));

		if (!x)
			all_items(e, "+", s, y, prefix);
		else
			compare_elem(e, s, x, y, prefix);
	}
}

/* A named element on both sides: its own fields, then its lists. */
static void compare_elem(struct eng *e, const struct schema *s, const void *a, const void *b,
			 const char *prefix)
{
	char *path = path_of(prefix, elem_name(s, b));
	json_t *fields = json_array();

	for (size_t i = 0; i < s->nfields; i++)
		if (is_scalar(&s->fields[i]) && !field_equal(&s->fields[i], a, b))
			json_array_append_new(fields, json_string(s->fields[i].name));
	if (json_array_size(fields))
		item(e, "~", s->name, path, fields);
	else
		json_decref(fields);
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].type == F_LIST)
			compare_list(e, &s->fields[i], a, b, path);
	free(path);
}

static json_t *from_to(const char *name, const struct field *f, const void *a, const void *b)
{
	char *x = a ? value_text(f, a) : NULL, *y = b ? value_text(f, b) : NULL;
	json_t *j = json_pack("{s:s, s:s?, s:s?}", "name", name, "from", x, "to", y);

	free(x);
	free(y);
	return j;
}

/* One engine section (sa, sb: NULL when absent on that side). */
static json_t *compare_section(const struct field *sf, const void *sa, const void *sb)
{
	const struct schema *s = sf->sub;
	struct eng e = { json_array(), 0, 0, 0 };
	json_t *j;

	for (size_t i = 0; sa && sb && i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if (is_scalar(f) && !field_equal(f, sa, sb)) {
			json_t *it = from_to(f->name, f, sa, sb);

			json_object_set_new(it, "op", json_string("~"));
			json_object_set_new(it, "kind", json_string("setting"));
			json_array_append_new(e.items, it);
			e.changed++;
		}
	}
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].type == F_LIST)
			compare_list(&e, &s->fields[i], sa, sb, NULL);
	if (sa && sb && !json_array_size(e.items)) {
		json_decref(e.items);
		return NULL;
	}
	j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o}", "engine", sf->name, "section",
		      !sa ? "added" : !sb ? "removed" : "changed", "added", e.added, "removed",
		      e.removed, "changed", e.changed, "items", e.items);
	return j;
}

json_t *state_changes(const struct atlas_state *from, const struct atlas_state *to)
{
	json_t *settings = json_array(), *engines = json_array();
	size_t total = 0;

	for (size_t i = 0; i < schema_root.nfields; i++) {
		const struct field *rf = &schema_root.fields[i];

		if (rf->type == F_OBJ && rf->sub == &schema_settings) {
			const void *a = from ? FIELD_CPTR(from, rf) : NULL, *b = FIELD_CPTR(to, rf);

			for (size_t k = 0; k < schema_settings.nfields; k++) {
				const struct field *f = &schema_settings.fields[k];

				if (a && field_equal(f, a, b))
					continue;
				if (!a) {
					/* nothing before: only what differs from the defaults */
					struct settings def;

					schema_init(&schema_settings, &def);
					if (field_equal(f, &def, b))
						continue;
					json_array_append_new(settings, from_to(f->name, f, &def, b));
				} else {
					json_array_append_new(settings, from_to(f->name, f, a, b));
				}
				total++;
			}
		} else if (rf->type == F_SECTION) {
			int ha = from && *(const int *)((const char *)from + rf->aux_off);
			int hb = *(const int *)((const char *)to + rf->aux_off);
			json_t *e;

			if (!ha && !hb)
				continue;
			e = compare_section(rf, ha ? FIELD_CPTR(from, rf) : NULL,
					    hb ? FIELD_CPTR(to, rf) : NULL);
			if (!e)
				continue;
			total += json_array_size(json_object_get(e, "items"));
			if (!json_array_size(json_object_get(e, "items")))
				total++; /* an empty section added or removed is a change */
			json_array_append_new(engines, e);
		}
	}
	return json_pack("{s:I, s:o, s:o}", "total", (json_int_t)total, "settings", settings,
			 "engines", engines);
}

static const char *str_or(const json_t *j, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : dflt;
}

void state_changes_text(const json_t *changes, struct buf *out)
{
	const json_t *settings = json_object_get(changes, "settings");
	const json_t *engines = json_object_get(changes, "engines");
	size_t i;
	json_t *v;

	if (json_array_size(settings)) {
		size_t n = json_array_size(settings);

		buf_printf(out, "settings: %zu change%s\n", n, n == 1 ? "" : "s");
		json_array_foreach(settings, i, v)
			buf_printf(out, "  ~ %s: %s -> %s\n", str_or(v, "name", "?"),
				   str_or(v, "from", "(none)"), str_or(v, "to", "(none)"));
	}
	json_array_foreach(engines, i, v) {
		const char *sec = str_or(v, "section", "changed");
		long long counts[3] = { json_integer_value(json_object_get(v, "added")),
					json_integer_value(json_object_get(v, "removed")),
					json_integer_value(json_object_get(v, "changed")) };
		static const char *const words[3] = { "added", "removed", "changed" };
		const json_t *items = json_object_get(v, "items");
		int first = 1;
		size_t k;
		json_t *it;

		buf_printf(out, "%s:", str_or(v, "engine", "?"));
		if (strcmp(sec, "changed"))
			buf_printf(out, " section %s", sec), first = 0;
		for (int c = 0; c < 3; c++)
			if (counts[c]) {
				buf_printf(out, "%s %lld %s", first ? "" : ",", counts[c], words[c]);
				first = 0;
			}
		buf_puts(out, "\n");
		json_array_foreach(items, k, it) {
			const json_t *fields = json_object_get(it, "fields");

			if (!strcmp(str_or(it, "kind", ""), "setting")) {
				buf_printf(out, "  ~ %s: %s -> %s\n", str_or(it, "name", "?"),
					   str_or(it, "from", "(none)"), str_or(it, "to", "(none)"));
				continue;
			}
			buf_printf(out, "  %s %s %s", str_or(it, "op", "?"), str_or(it, "kind", "?"),
				   str_or(it, "name", "?"));
			if (json_array_size(fields)) {
				size_t f;
				json_t *fv;

				buf_puts(out, ":");
				json_array_foreach(fields, f, fv)
					buf_printf(out, "%s %s", f ? "," : "", json_string_value(fv));
			}
			buf_puts(out, "\n");
		}
	}
}
