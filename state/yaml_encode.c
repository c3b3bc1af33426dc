/*
 * yaml_encode.c - struct atlas_state to YAML with libyaml's emitter, which
 * quotes and escapes every scalar that needs it: no user text can change the
 * structure of the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "lib/buf.h"
#include "state/keys.h"
#include "state/model.h"
#include "state/schema.h"
#include "state/yaml.h"

struct enc {
	yaml_emitter_t em;
	int secrets;
};

static int write_cb(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, buffer, size);
	return 1;
}

static void emit(struct enc *e, yaml_event_t *ev)
{
	/* The emitter only fails on misuse (a bug here) or allocation failure. */
	if (!yaml_emitter_emit(&e->em, ev)) {
		fprintf(stderr, "atlas: yaml emitter: %s\n",
			e->em.problem ? e->em.problem : "unknown error");
		abort();
	}
}

/*
 * A string that a YAML 1.1/1.2 reader could take for a number, boolean or
 * null is quoted, so every tool reads it back as the same string.
 */
static int needs_quotes(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null",
					     "~", "y", "n", ".inf", "-.inf", ".nan", NULL };
	const char *p = s;
	char *end;

	if (!*s)
		return 1;
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return 1;
	/* Anything a reader would take for a number: 12, 1e3, 0x1f, 1_000, 1:20. */
	strtod(s, &end);
	if (!*end)
		return 1;
	if (*p == '-' || *p == '+')
		p++;
	if (*p >= '0' && *p <= '9' && strspn(p, "0123456789_:") == strlen(p))
		return 1;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b'))
		return 1;
	return 0;
}

static void scalar(struct enc *e, const char *s, int is_string)
{
	yaml_event_t ev;
	int quoted = is_string && (needs_quotes(s) || strchr(s, '\n'));

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), !quoted,
				     1, quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
						     : YAML_ANY_SCALAR_STYLE);
	emit(e, &ev);
}

static void map_start(struct enc *e)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	emit(e, &ev);
}

static void map_end(struct enc *e)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	emit(e, &ev);
}

static void seq_start(struct enc *e, int flow)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     flow ? YAML_FLOW_SEQUENCE_STYLE
						  : YAML_BLOCK_SEQUENCE_STYLE);
	emit(e, &ev);
}

static void seq_end(struct enc *e)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	emit(e, &ev);
}

static void encode_struct(struct enc *e, const struct schema *s, const void *p);

/* 1 when the field holds its default (and is then left out). */
static int is_default(const struct field *f, const void *p)
{
	const void *fp = FIELD_CPTR(p, f);

	switch (f->type) {
	case F_STR:
		/* an empty optional text (a note the form sent blank) is no text */
		return *(char *const *)fp == NULL ||
		       (!**(char *const *)fp && !(f->flags & FF_REQUIRED));
	case F_KEY:
		return !KEY_HAS((const struct wg_key *)fp);
	case F_INT:
	case F_BOOL:
	case F_ENUM:
		return *(const int *)fp == f->def;
	case F_I64:
		return *(const long long *)fp == f->def;
	case F_STRV:
		/* a required list is written even empty, so the export parses again */
		return ((const struct strv *)fp)->n == 0 && !(f->flags & FF_REQUIRED);
	case F_SECTION:
		return !*(const int *)((const char *)p + f->aux_off);
	case F_LIST:
		/* An empty list without FF_ALWAYS (subscriptions) is left out. */
		return *(const size_t *)((const char *)p + f->aux_off) == 0;
	case F_OBJ:
		return 0;
	}
	return 0;
}

static void encode_field(struct enc *e, const struct field *f, const void *p)
{
	const void *fp = FIELD_CPTR(p, f);
	char num[32];

	scalar(e, f->name, 0);
	switch (f->type) {
	case F_STR:
		scalar(e, *(char *const *)fp, 1);
		break;
	case F_KEY: {
		char text[KEY_B64];

		key_text(fp, text);
		scalar(e, text, 1);
		OPENSSL_cleanse(text, sizeof(text));
		break;
	}
	case F_INT:
		snprintf(num, sizeof(num), "%d", *(const int *)fp);
		scalar(e, num, 0);
		break;
	case F_I64:
		snprintf(num, sizeof(num), "%lld", *(const long long *)fp);
		scalar(e, num, 0);
		break;
	case F_BOOL:
		scalar(e, *(const int *)fp ? "true" : "false", 0);
		break;
	case F_ENUM:
		scalar(e, f->enum_names[*(const int *)fp], 0);
		break;
	case F_STRV: {
		const struct strv *sv = fp;

		seq_start(e, 1);
		for (size_t i = 0; i < sv->n; i++)
			scalar(e, sv->v[i], 1);
		seq_end(e);
		break;
	}
	case F_OBJ:
	case F_SECTION:
		encode_struct(e, f->sub, fp);
		break;
	case F_LIST: {
		const char *arr = *(char *const *)fp;
		size_t n = *(const size_t *)((const char *)p + f->aux_off);

		seq_start(e, n == 0);
		for (size_t i = 0; i < n; i++)
			encode_struct(e, f->sub, arr + i * f->sub->size);
		seq_end(e);
		break;
	}
	}
}

static void encode_struct(struct enc *e, const struct schema *s, const void *p)
{
	map_start(e);
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if ((f->flags & FF_SECRET) && !e->secrets)
			continue;
		if (!(f->flags & FF_ALWAYS) && is_default(f, p))
			continue;
		if (f->type == F_SECTION && is_default(f, p))
			continue;
		encode_field(e, f, p);
	}
	map_end(e);
}

void state_to_yaml(const struct atlas_state *st, int secrets, struct buf *out)
{
	struct atlas_state *sorted = state_dup(st);
	struct enc e = { .secrets = secrets };
	yaml_event_t ev;

	state_sort(sorted);
	yaml_emitter_initialize(&e.em);
	yaml_emitter_set_output(&e.em, write_cb, out);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_width(&e.em, -1);
	yaml_emitter_set_indent(&e.em, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&e, &ev);
	encode_struct(&e, &schema_root, sorted);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&e, &ev);
	yaml_emitter_delete(&e.em);
	state_free(sorted);
}
