/*
 * pack.c - state_pack(): the desired state copied into one block.
 *
 * Two walks of the schema tables with the same code: the first only counts
 * (base NULL), the second copies. Structs and pointer arrays are aligned,
 * strings are not. A list or text equal to the same field's in the element
 * before is not copied again but shared (the block is read-only): every
 * peer's allowed_ips "0.0.0.0/0, ::/0" is one copy for 10,000 peers. Both
 * walks make the same choices, so they take the same offsets.
 */
#include <malloc.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "state/pack.h"
#include "state/schema.h"

/* The last value packed for a field: shared when the next element's is equal. */
struct pack_last {
	const struct field *f;
	const void *src;	/* char * or struct strv * */
	size_t off;		/* where its copy starts */
};

struct pack {
	char *base; /* NULL: counting */
	size_t off;
	struct pack_last last[64];
	size_t nlast;
};

/* The slot of field f (the first free one when new; NULL when full: nothing shared). */
static struct pack_last *last_of(struct pack *p, const struct field *f)
{
	for (size_t i = 0; i < p->nlast; i++)
		if (p->last[i].f == f)
			return &p->last[i];
	if (p->nlast == sizeof(p->last) / sizeof(p->last[0]))
		return NULL;
	p->last[p->nlast].f = f;
	p->last[p->nlast].src = NULL;
	return &p->last[p->nlast++];
}

/* n bytes at the next offset aligned to al; NULL while counting. */
static void *take(struct pack *p, size_t n, size_t al)
{
	void *r;

	p->off = (p->off + al - 1) & ~(al - 1);
	r = p->base ? p->base + p->off : NULL;
	p->off += n;
	return r;
}

static char *pack_str(struct pack *p, const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = take(p, n, 1);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* Copies the pointed-to parts of src's fields; dst (NULL while counting) holds a memcpy of src. */
static void pack_fields(struct pack *p, const struct schema *s, void *dst, const void *src)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		void *dp = dst ? FIELD_PTR(dst, f) : NULL;
		const void *sp = FIELD_CPTR(src, f);

		switch (f->type) {
		case F_STR: {
			const char *str = *(char *const *)sp;
			struct pack_last *l = str ? last_of(p, f) : NULL;
			char *v;

			if (l && l->src && !strcmp(l->src, str)) {
				v = p->base ? p->base + l->off : NULL;
			} else {
				size_t at = p->off;

				v = pack_str(p, str);
				if (l) {
					l->src = str;
					l->off = at;
				}
			}
			if (dp)
				*(char **)dp = v;
			break;
		}
		case F_STRV: {
			const struct strv *sv = sp;
			struct pack_last *l = sv->v ? last_of(p, f) : NULL;
			char **v;

			if (l && l->src && strv_eq(l->src, sv)) {
				if (dp)
					((struct strv *)dp)->v = (char **)(p->base + l->off);
				break;
			}
			v = sv->v ? take(p, (sv->n + 1) * sizeof(char *), alignof(char *)) : NULL;
			if (l) {
				l->src = sv;
				l->off = p->off - (sv->n + 1) * sizeof(char *);
			}
			for (size_t j = 0; sv->v && j < sv->n; j++) {
				char *x = pack_str(p, sv->v[j]);

				if (v)
					v[j] = x;
			}
			if (v)
				v[sv->n] = NULL;
			if (dp)
				((struct strv *)dp)->v = v;
			break;
		}
		case F_OBJ:
		case F_SECTION:
			pack_fields(p, f->sub, dp, sp);
			break;
		case F_LIST: {
			size_t n = *(const size_t *)((const char *)src + f->aux_off);
			const char *sarr = *(char *const *)sp;
			char *darr = n ? take(p, n * f->sub->size, alignof(max_align_t)) : NULL;

			if (darr)
				memcpy(darr, sarr, n * f->sub->size);
			for (size_t j = 0; j < n; j++)
				pack_fields(p, f->sub, darr ? darr + j * f->sub->size : NULL,
					    sarr + j * f->sub->size);
			if (dp)
				*(char **)dp = n ? darr : NULL;
			break;
		}
		default:
			break;
		}
	}
}

struct atlas_state *state_pack(const struct atlas_state *st)
{
	struct pack p = { NULL, 0 };
	struct atlas_state *c;

	take(&p, sizeof(*st), alignof(max_align_t));
	pack_fields(&p, &schema_root, NULL, st);
	p.base = xmalloc(p.off ? p.off : 1);
	p.off = 0;
	p.nlast = 0;
	c = take(&p, sizeof(*st), alignof(max_align_t));
	memcpy(c, st, sizeof(*st));
	c->bad_keys = (struct strv)STRV_INIT;	/* not in the schema; a stored state has none */
	pack_fields(&p, &schema_root, c, st);
	return c;
}

void state_pack_wipe(struct atlas_state *packed)
{
	/* the block's size: the pack is one malloc'd block, packed at its start */
	OPENSSL_cleanse(packed, malloc_usable_size(packed));
}

void state_pack_free(struct atlas_state *packed)
{
	if (!packed)
		return;
	state_pack_wipe(packed);
	free(packed);
}
