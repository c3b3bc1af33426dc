/*
 * yaml_decode.c - YAML text to struct atlas_state, through a small node tree
 * built from libyaml's event stream (aliases are refused there, so a "billion
 * laughs" file cannot expand).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/buf.h"
#include "state/keys.h"
#include "state/model.h"
#include "state/schema.h"
#include "state/yaml.h"

#define MAX_DEPTH 32

enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ynode_type type;
	int line, col;
	int plain;		/* scalar written without quotes */
	char *value;		/* scalar text */
	struct ynode **kids;	/* seq: items; map: key, value, key, value ... */
	size_t nkids, capkids;
};

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static void ynode_add(struct ynode *parent, struct ynode *kid)
{
	/* Doubling: a list of 10,000 peers is not copied 10,000 times. */
	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 4;
		parent->kids = xrealloc(parent->kids, parent->capkids * sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

static struct ynode *ynode_new(enum ynode_type t, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = t;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

/* Builds the tree of the single document; NULL with a diag on error. */
static struct ynode *parse_tree(const char *text, size_t len, struct diags *d)
{
	struct ynode *stack[MAX_DEPTH + 1], *root = NULL;
	int depth = 0, done = 0, docs = 0;
	yaml_parser_t parser;
	yaml_event_t ev;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		struct ynode *n = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column
						       ? &parser.problem_mark
						       : &parser.context_mark;
			yaml_mark_t at;

			/* the reader (bad UTF-8) gives the byte offset only: its line and column */
			if (parser.error == YAML_READER_ERROR) {
				memset(&at, 0, sizeof(at));
				for (size_t i = 0; i < parser.problem_offset && i < len; i++) {
					if (text[i] == '\n') {
						at.line++;
						at.column = 0;
					} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
						at.column++;
					}
				}
				m = &at;
			}
			diags_add_at(d, (int)m->line + 1, (int)m->column + 1, NULL, "%s%s%s",
				     parser.problem ? parser.problem : "syntax error",
				     parser.context ? " " : "", parser.context ? parser.context : "");
			goto fail;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				diags_add_at(d, (int)ev.start_mark.line + 1,
					     (int)ev.start_mark.column + 1, NULL,
					     "only one YAML document is allowed");
				yaml_event_delete(&ev);
				goto fail;
			}
			break;
		case YAML_ALIAS_EVENT:
			diags_add_at(d, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				     NULL, "aliases (*name) are not supported");
			yaml_event_delete(&ev);
			goto fail;
		case YAML_SCALAR_EVENT:
			n = ynode_new(Y_SCALAR, &ev.start_mark);
			n->value = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			if (strlen(n->value) != ev.data.scalar.length) {
				diags_add_at(d, n->line, n->col, NULL, "NUL byte in a value");
				ynode_free(n);
				yaml_event_delete(&ev);
				goto fail;
			}
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= MAX_DEPTH) {
				diags_add_at(d, (int)ev.start_mark.line + 1,
					     (int)ev.start_mark.column + 1, NULL,
					     "nesting deeper than %d levels", MAX_DEPTH);
				yaml_event_delete(&ev);
				goto fail;
			}
			n = ynode_new(ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP,
				      &ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (n) {
			if (depth > 0)
				ynode_add(stack[depth - 1], n);
			else if (!root)
				root = n;
			else
				ynode_free(n);
			if (n->type != Y_SCALAR)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!root)
		diags_add_at(d, 1, 1, NULL, "the file is empty");
	return root;
fail:
	yaml_parser_delete(&parser);
	/* On failure the partial tree is owned by root or the stack bottom. */
	ynode_free(root ? root : (depth > 0 ? stack[0] : NULL));
	return NULL;
}

struct dctx {
	struct diags *d;
	struct posmap *pm;
	struct buf where;	/* "wireguard interface \"wg0\": peer \"bob\"" */
	struct atlas_state *st;	/* the state decoded */
};

static const char *where_prefix(struct dctx *c, struct buf *tmp)
{
	buf_reset(tmp);
	if (c->where.len)
		buf_printf(tmp, "%s: ", c->where.data);
	return buf_str(tmp);
}

static void derr(struct dctx *c, const struct ynode *n, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void derr(struct dctx *c, const struct ynode *n, const char *field, const char *fmt, ...)
{
	struct buf msg = BUF_INIT, tmp = BUF_INIT;
	char text[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	buf_printf(&msg, "%s%s%s%s", where_prefix(c, &tmp), field ? field : "", field ? ": " : "",
		   text);
	diags_add_at(c->d, n->line, n->col, field, "%s", msg.data);
	buf_release(&msg);
	buf_release(&tmp);
}

static int is_null(const struct ynode *n)
{
	return n->type == Y_SCALAR && n->plain &&
	       (!n->value[0] || !strcmp(n->value, "~") || !strcmp(n->value, "null"));
}

static const char *type_name(const struct ynode *n)
{
	return n->type == Y_SEQ ? "a list" : n->type == Y_MAP ? "a mapping" : "a scalar";
}

static int parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s || (!((*s >= '0' && *s <= '9') || *s == '-')))
		return -1;
	if (s[0] == '0' && s[1])
		return -1;	/* no octal surprises */
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static void decode_struct(struct dctx *c, const struct schema *s, const struct ynode *n, void *p);

/* Reports the required fields of s not marked in seen (NULL: none seen). */
static void missing_required(struct dctx *c, const struct schema *s, const struct ynode *n,
			     const unsigned char *seen)
{
	for (size_t i = 0; i < s->nfields; i++)
		if ((s->fields[i].flags & FF_REQUIRED) && !(seen && seen[i]))
			derr(c, n, NULL, "missing required key \"%s\"", s->fields[i].name);
}

static void decode_field(struct dctx *c, const struct field *f, const struct ynode *v, void *p)
{
	void *fp = FIELD_PTR(p, f);

	if (c->pm)
		posmap_add(c->pm, fp, v->line, v->col);
	if (is_null(v) && f->type != F_OBJ && f->type != F_SECTION) {
		if (f->flags & FF_REQUIRED)
			derr(c, v, f->name, "must not be empty");
		return;	/* absent: the default stays */
	}
	switch (f->type) {
	case F_STR:
	case F_KEY:
		if (v->type != Y_SCALAR) {
			derr(c, v, f->name, "must be a string, not %s", type_name(v));
			return;
		}
		if (f->type == F_STR) {
			*(char **)fp = xstrdup(v->value);
		} else if (strlen(v->value) >= KEY_B64) {
			derr(c, v, f->name, "\"%.60s\" is not a base64 key of 32 bytes", v->value);
		} else if (key_from_text(fp, v->value) < 0) {
			/* validation names it, with the text the state keeps */
			state_keep_bad_key(c->st, fp, v->value);
		}
		return;
	case F_INT:
	case F_I64: {
		long long x;

		if (v->type != Y_SCALAR || !v->plain || parse_ll(v->value, &x) < 0) {
			derr(c, v, f->name, "\"%.60s\" is not an integer",
			     v->type == Y_SCALAR ? v->value : type_name(v));
			return;
		}
		/*
		 * An optional field's default is allowed even outside the range:
		 * "mtu: 0" means the default MTU. A required one has no default.
		 */
		if (f->min < f->max && (x < f->min || x > f->max) &&
		    (x != f->def || (f->flags & FF_REQUIRED))) {
			derr(c, v, f->name, "%lld is out of range %lld..%lld", x, f->min, f->max);
			return;
		}
		/* Without a range (version), an int must still fit: 2^32 + 1 is not 1. */
		if (f->type == F_INT && (x < INT_MIN || x > INT_MAX)) {
			derr(c, v, f->name, "%lld is out of range", x);
			return;
		}
		if (f->type == F_INT)
			*(int *)fp = (int)x;
		else
			*(long long *)fp = x;
		return;
	}
	case F_BOOL:
		if (v->type == Y_SCALAR && v->plain && !strcmp(v->value, "true"))
			*(int *)fp = 1;
		else if (v->type == Y_SCALAR && v->plain && !strcmp(v->value, "false"))
			*(int *)fp = 0;
		else
			derr(c, v, f->name, "\"%.60s\" is not true or false",
			     v->type == Y_SCALAR ? v->value : type_name(v));
		return;
	case F_ENUM:
		if (v->type == Y_SCALAR) {
			for (int i = 0; f->enum_names[i]; i++)
				if (!strcmp(f->enum_names[i], v->value)) {
					*(int *)fp = i;
					return;
				}
		}
		{
			struct buf alts = BUF_INIT;

			for (int i = 0; f->enum_names[i]; i++)
				buf_printf(&alts, "%s%s", i ? ", " : "", f->enum_names[i]);
			derr(c, v, f->name, "\"%.60s\" is not one of %s",
			     v->type == Y_SCALAR ? v->value : type_name(v), alts.data);
			buf_release(&alts);
		}
		return;
	case F_STRV: {
		struct strv *sv = fp;

		if (v->type != Y_SEQ) {
			derr(c, v, f->name, "must be a list, not %s", type_name(v));
			return;
		}
		/* Sized once, so the item addresses recorded below stay valid. */
		sv->v = xcalloc(v->nkids + 1, sizeof(*sv->v));
		for (size_t i = 0; i < v->nkids; i++) {
			const struct ynode *it = v->kids[i];

			if (it->type != Y_SCALAR || is_null(it)) {
				derr(c, it, f->name, "list items must be strings");
				continue;
			}
			sv->v[sv->n] = xstrdup(it->value);
			if (c->pm)
				posmap_add(c->pm, &sv->v[sv->n], it->line, it->col);
			sv->n++;
		}
		return;
	}
	case F_OBJ:
	case F_SECTION: {
		size_t mark = c->where.len;

		if (f->type == F_SECTION)
			*(int *)((char *)p + f->aux_off) = 1;
		buf_printf(&c->where, "%s%s", c->where.len ? " " : "", f->name);
		/*
		 * "wireguard:" alone: managed, all defaults. A section with a
		 * required key ("openvpn:" needs network) is still incomplete.
		 */
		if (is_null(v))
			missing_required(c, f->sub, v, NULL);
		else
			decode_struct(c, f->sub, v, fp);
		c->where.len = mark;
		if (c->where.data)
			c->where.data[mark] = '\0';
		return;
	}
	case F_LIST: {
		size_t *cnt = (size_t *)((char *)p + f->aux_off);
		char *arr;

		if (v->type != Y_SEQ) {
			derr(c, v, f->name, "must be a list, not %s", type_name(v));
			return;
		}
		arr = v->nkids ? xcalloc(v->nkids, f->sub->size) : NULL;
		*(char **)fp = arr;
		for (size_t i = 0; i < v->nkids; i++) {
			const struct ynode *it = v->kids[i];
			void *elem = arr + i * f->sub->size;
			const char *name = NULL;
			size_t mark = c->where.len;

			schema_init(f->sub, elem);
			(*cnt)++;
			if (c->pm)
				posmap_add(c->pm, elem, it->line, it->col);
			if (it->type == Y_MAP)
				for (size_t k = 0; k + 1 < it->nkids; k += 2)
					if (it->kids[k]->type == Y_SCALAR &&
					    !strcmp(it->kids[k]->value, "name") &&
					    it->kids[k + 1]->type == Y_SCALAR)
						name = it->kids[k + 1]->value;
			if (name)
				buf_printf(&c->where, "%s%s \"%.64s\"", c->where.len ? ": " : "",
					   f->sub->name, name);
			else
				buf_printf(&c->where, "%s%s #%zu", c->where.len ? ": " : "",
					   f->sub->name, i + 1);
			decode_struct(c, f->sub, it, elem);
			c->where.len = mark;
			if (c->where.data)
				c->where.data[mark] = '\0';
		}
		return;
	}
	}
}

static void decode_struct(struct dctx *c, const struct schema *s, const struct ynode *n, void *p)
{
	unsigned char seen[32] = { 0 };

	if (n->type != Y_MAP) {
		derr(c, n, NULL, "%s must be a mapping, not %s", s->name, type_name(n));
		return;
	}
	for (size_t k = 0; k + 1 < n->nkids; k += 2) {
		const struct ynode *key = n->kids[k], *val = n->kids[k + 1];
		const struct field *f;

		if (key->type != Y_SCALAR) {
			derr(c, key, NULL, "keys must be strings");
			continue;
		}
		f = schema_field(s, key->value);
		if (!f) {
			derr(c, key, NULL, "unknown key \"%.60s\"", key->value);
			continue;
		}
		if (seen[f - s->fields]) {
			derr(c, key, NULL, "duplicate key \"%s\"", f->name);
			continue;
		}
		/* A flag, not a count: 256 duplicates must not wrap to "unseen". */
		seen[f - s->fields] = 1;
		decode_field(c, f, val, p);
	}
	missing_required(c, s, n, seen);
}

struct atlas_state *state_from_yaml(const char *text, size_t len, struct diags *d,
				    struct posmap *pm)
{
	size_t bad = 0;
	struct atlas_state *st = state_from_yaml_partial(text, len, d, pm, &bad);

	if (st && bad) {
		state_free(st);
		if (pm)
			posmap_clear(pm);
		return NULL;
	}
	return st;
}

struct atlas_state *state_from_yaml_partial(const char *text, size_t len, struct diags *d,
					    struct posmap *pm, size_t *bad)
{
	struct dctx c = { d, pm, BUF_INIT };
	struct atlas_state *st;
	struct ynode *root;
	size_t before = d->n;

	*bad = 0;
	if (len > YAML_MAX_SIZE) {
		diags_add_at(d, 1, 1, NULL, "the file is larger than %u bytes", YAML_MAX_SIZE);
		return NULL;
	}
	root = parse_tree(text, len, d);
	if (!root)
		return NULL;
	st = xmalloc(sizeof(*st));
	schema_init(&schema_root, st);
	c.st = st;
	/* "version" is required: the default of 1 only serves new states. */
	st->version = 0;
	decode_struct(&c, &schema_root, root, st);
	ynode_free(root);
	buf_release(&c.where);
	*bad = d->n - before;
	return st;
}
