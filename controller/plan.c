/*
 * plan.c - building, rendering and freeing plans.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/plan.h"

const char *const action_kind_names[] = { "create", "update", "delete", "restart", "start",
					  "stop", "kill", "write", "issue", "revoke" };
const char *const engine_status_names[] = { "unmanaged", "ok", "incomplete", "error",
					    "not implemented" };

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

#define PLAN_BLOCK_MIN 1024
#define PLAN_BLOCK_MAX (256 * 1024)
#define PLAN_BLOCK_OVERHEAD (sizeof(struct plan_block) + 2 * sizeof(size_t))

/* A copy of s (len bytes and a NUL) among p's texts. */
static const char *plan_text(struct plan *p, const char *s, size_t len)
{
	struct plan_block *b = p->texts;
	char *t;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = b ? b->cap * 2 : PLAN_BLOCK_MIN;

		if (cap > PLAN_BLOCK_MAX)
			cap = PLAN_BLOCK_MAX;
		if (cap < len + 1)
			cap = len + 1;
		/*
		 * Both headers inside the size (the block's and malloc's two
		 * words): a 256 KiB block is a mapping of 64 pages, not 65.
		 */
		if (cap > PLAN_BLOCK_OVERHEAD && cap - PLAN_BLOCK_OVERHEAD >= len + 1)
			cap -= PLAN_BLOCK_OVERHEAD;
		b = xmalloc(sizeof(*b) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = p->texts;
		p->texts = b;
	}
	t = b->s + b->used;
	memcpy(t, s, len);
	t[len] = '\0';
	b->used += len + 1;
	return t;
}

void plan_truncate(struct plan *p, size_t n)
{
	for (size_t i = n; i < p->n; i++) {
		if (p->v[i].data_free)
			p->v[i].data_free(p->v[i].data);
	}
	if (n < p->n)
		p->n = n;
}

void plan_drop_data(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].data_free)
			p->v[i].data_free(p->v[i].data);
		p->v[i].data = NULL;
		p->v[i].data_free = NULL;
	}
}

void plan_release(struct plan *p)
{
	plan_truncate(p, 0);
	free(p->v);
	while (p->texts) {
		struct plan_block *b = p->texts;

		p->texts = b->next;
		free(b);
	}
	for (size_t i = 0; i < p->nengines; i++)
		free(p->engines[i].note);
	strv_clear(&p->warnings);
	memset(p, 0, sizeof(*p));
}

void plan_warn(struct plan *p, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	strv_push(&p->warnings, text);
}

struct action *plan_add(struct plan *p, const char *engine, enum action_kind kind,
			const char *resource, void *data, void (*data_free)(void *),
			const char *fmt, ...)
{
	struct action *a;
	char text[1024];
	va_list ap;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a = &p->v[p->n++];
	memset(a, 0, sizeof(*a));
	a->engine = engine;
	a->kind = kind;
	if (!resource)
		resource = "";
	a->resource = plan_text(p, resource, strlen(resource));
	a->text = plan_text(p, text, strlen(text));
	a->data = data;
	a->data_free = data_free;
	return a;
}

void plan_set_text(struct plan *p, struct action *a, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a->text = plan_text(p, text, strlen(text));
}

void plan_engine(struct plan *p, const char *engine, enum engine_status st, const char *note)
{
	struct engine_report *e = NULL;

	for (size_t i = 0; i < p->nengines; i++)
		if (!strcmp(p->engines[i].engine, engine))
			e = &p->engines[i];
	if (!e) {
		if (p->nengines == sizeof(p->engines) / sizeof(p->engines[0]))
			return;
		e = &p->engines[p->nengines++];
		e->engine = engine;
		e->note = NULL;
	}
	e->status = st;
	free(e->note);
	e->note = note ? xstrdup(note) : NULL;
}

size_t plan_count(const struct plan *p, const char *engine)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].engine, engine))
			n++;
	return n;
}

int plan_has_problems(const struct plan *p)
{
	for (size_t i = 0; i < p->nengines; i++)
		if (p->engines[i].status == ENGINE_INCOMPLETE || p->engines[i].status == ENGINE_ERROR)
			return 1;
	return 0;
}

void plan_render_text(const struct plan *p, struct buf *out)
{
	for (size_t e = 0; e < p->nengines; e++) {
		const struct engine_report *er = &p->engines[e];
		size_t n = plan_count(p, er->engine);
		int drops = 0;

		for (size_t i = 0; i < p->n; i++)
			if (!strcmp(p->v[i].engine, er->engine))
				drops += p->v[i].drops;
		buf_printf(out, "%s: ", er->engine);
		if (er->status == ENGINE_UNMANAGED)
			buf_puts(out, "not managed");
		else if (er->status == ENGINE_NOT_IMPLEMENTED)
			buf_puts(out, "not implemented");
		else if (n == 0)
			buf_puts(out, "no changes");
		else
			buf_printf(out, "%zu change%s", n, n == 1 ? "" : "s");
		if (drops)
			buf_printf(out, ", drops %d session%s", drops, drops == 1 ? "" : "s");
		if (er->status == ENGINE_INCOMPLETE)
			buf_puts(out, " (incomplete observation: nothing will be removed)");
		if (er->status == ENGINE_ERROR)
			buf_puts(out, " (cannot observe)");
		if (er->note)
			buf_printf(out, ": %s", er->note);
		buf_putc(out, '\n');
		for (size_t i = 0; i < p->n; i++)
			if (!strcmp(p->v[i].engine, er->engine))
				buf_printf(out, "  %s\n", p->v[i].text);
	}
	/* Actions of engines that reported nothing (the "system" engine). */
	for (size_t i = 0; i < p->n; i++) {
		int known = 0;

		for (size_t e = 0; e < p->nengines; e++)
			known |= !strcmp(p->engines[e].engine, p->v[i].engine);
		if (!known)
			buf_printf(out, "  %s\n", p->v[i].text);
	}
	if (p->warnings.n)
		buf_puts(out, "warnings:\n");
	for (size_t i = 0; i < p->warnings.n; i++)
		buf_printf(out, "  ! %s\n", p->warnings.v[i]);
}

json_t *plan_to_json(const struct plan *p)
{
	json_t *root = json_object(), *engines = json_array(), *actions = json_array();

	for (size_t e = 0; e < p->nengines; e++) {
		const struct engine_report *er = &p->engines[e];

		json_array_append_new(engines,
				      json_pack("{s:s, s:s, s:s?, s:I}", "engine", er->engine,
						"status", engine_status_names[er->status], "note",
						er->note, "changes",
						(json_int_t)plan_count(p, er->engine)));
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->v[i];

		json_array_append_new(actions,
				      json_pack("{s:s, s:s, s:s, s:s, s:i}", "engine", a->engine,
						"kind", action_kind_names[a->kind], "resource",
						a->resource, "text", a->text, "drops", a->drops));
	}
	json_object_set_new(root, "generation", json_integer(p->generation));
	json_object_set_new(root, "changes", json_integer((json_int_t)p->n));
	json_object_set_new(root, "engines", engines);
	json_object_set_new(root, "actions", actions);
	{
		json_t *w = json_array();

		for (size_t i = 0; i < p->warnings.n; i++)
			json_array_append_new(w, json_string(p->warnings.v[i]));
		json_object_set_new(root, "warnings", w);
	}
	return root;
}

void plan_result(json_t *results, const char *text, int ok, const char *msg)
{
	if (ok)
		json_array_append_new(results, json_string(text));
	else
		json_array_append_new(results, json_pack("{s:s, s:b, s:s?}", "text", text, "ok",
							 0, "error", msg));
}

/* One step of results in the documented shape (new). */
static json_t *result_step(json_t *v)
{
	return json_is_string(v) ? json_pack("{s:O, s:b, s:n}", "text", v, "ok", 1, "error")
				 : json_incref(v);
}

json_t *plan_results_json(json_t *results)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(results, i, v)
		json_array_append_new(out, result_step(v));
	return out;
}

char *plan_results_dump(json_t *results)
{
	struct buf out = BUF_INIT;
	json_t *v;
	size_t i;

	buf_putc(&out, '[');
	json_array_foreach(results, i, v)
	{
		json_t *step = result_step(v);
		char *text = json_dumps(step, JSON_COMPACT);

		if (i)
			buf_putc(&out, ',');
		buf_puts(&out, text ? text : "null");
		free(text);
		json_decref(step);
	}
	buf_putc(&out, ']');
	return buf_detach(&out);
}
