/*
 * commit_list.c - one element's edit of a named list, found and written
 * into the stored YAML text (commit_list.h): shared by the commit of a
 * WireGuard peer (commit_peer.c) and of a sing-box user (commit_sb.c).
 *
 * The encoder's output for one element does not depend on its neighbours,
 * so an element's lines are those of a state holding that element alone.
 * When anything does not match what is expected, the caller encodes the
 * whole state instead.
 */
#include <stdlib.h>
#include <string.h>

#include "state/changes.h"
#include "state/commit_list.h"
#include "state/model.h"

/* The name an element starts with. */
static const char *name_of(const void *elem)
{
	return *(char *const *)elem;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(name_of(*(const void *const *)x), name_of(*(const void *const *)y));
}

int list_one_edit(const struct schema *sc, const void *a, size_t na, const void *b, size_t nb,
		  const void **eo, const void **en)
{
	const char *ap = a, *bb = b;
	const void **bp = xcalloc(nb + 1, sizeof(*bp));
	size_t i = 0, j = 0;
	int ret = -1;

	*eo = *en = NULL;
	for (size_t k = 0; k < nb; k++) {
		bp[k] = bb + k * sc->size;
		if (!name_of(bp[k]))
			goto out;
	}
	/* b in name order, b left as it is (its problems are told in its order) */
	state_sort_list(bp, nb, sizeof(*bp), by_name);
	while (i < na || j < nb) {
		const void *x = i < na ? ap + i * sc->size : NULL;
		int c;

		if (x && (!name_of(x) ||
			  (i + 1 < na && strcmp(name_of(x), name_of(ap + (i + 1) * sc->size)) >= 0)))
			goto out; /* a not sorted */
		if (j + 1 < nb && !strcmp(name_of(bp[j]), name_of(bp[j + 1])))
			goto out; /* a name twice */
		c = !x ? 1 : j == nb ? -1 : strcmp(name_of(x), name_of(bp[j]));
		if (c == 0 && state_tree_same(sc, x, bp[j], NULL)) {
			i++;
			j++;
			continue;
		}
		if ((c <= 0 && *eo) || (c >= 0 && *en))
			goto out; /* a second element differs */
		if (c <= 0)
			*eo = ap + i++ * sc->size;
		if (c >= 0)
			*en = bp[j++];
	}
	ret = *eo || *en;
out:
	if (ret < 0)
		*eo = *en = NULL;
	free(bp);
	return ret;
}

/* The end of the block of lines from p on that start with ind spaces or more, or with pfx. */
static const char *block_end(const char *p, const char *end, int ind, const char *pfx)
{
	size_t lp = strlen(pfx);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int k = 0;

		while (p + k < end && p[k] == ' ' && k < ind)
			k++;
		if (k < ind && ((size_t)(end - p) < lp || memcmp(p, pfx, lp)))
			break;
		p = nl ? nl + 1 : end;
	}
	return p;
}

/* The first line at a line start in [p, end) equal to line (with its newline), or NULL. */
static const char *find_line(const char *p, const char *end, const char *line, size_t len)
{
	while (p && p + len <= end) {
		const char *hit = memmem(p, (size_t)(end - p), line, len);

		if (!hit || hit == p || hit[-1] == '\n')
			return hit;
		p = hit + 1;
	}
	return NULL;
}

/* The length of the first line of b, its newline included (0: none). */
static size_t first_line(const struct buf *b)
{
	const char *nl = memchr(b->data, '\n', b->len);

	return nl ? (size_t)(nl + 1 - b->data) : 0;
}

const char *yaml_list_block(const char *y, const char *end, const char *sect, const char *item,
			    size_t ilen, const char *list, const char **from)
{
	const char *w = memmem(y, (size_t)(end - y), sect, strlen(sect)), *wend, *p;
	size_t ind = strspn(list, " ");
	char pfx[16];

	if (!w || ind + 3 > sizeof(pfx))
		return NULL;
	w += strlen(sect);
	wend = block_end(w, end, 1, "\x01");
	if (item) {
		const char *i = find_line(w, wend, item, ilen);

		if (!i)
			return NULL;
		w = i + ilen;
		wend = block_end(w, wend, (int)strspn(item, " ") + 2, "\x01");
	}
	if (!(p = find_line(w, wend, list, strlen(list))))
		return NULL;
	*from = p + strlen(list);
	memset(pfx, ' ', ind);
	memcpy(pfx + ind, "- ", 3);
	return block_end(*from, wend, (int)ind + 2, pfx);
}

int yaml_elem_lines(const struct buf *y, const char *sect, const char *items, const char *list,
		    struct buf *chunk, struct buf *itemline)
{
	const char *from, *to, *il = NULL;
	size_t ilen = 0;

	if (items) {
		const char *nl;

		if (!(il = strstr(buf_str(y), items)))
			return -1;
		il += strlen(items);
		if (!(nl = strchr(il, '\n')))
			return -1;
		ilen = (size_t)(nl + 1 - il);
		itemline->len = 0;
		buf_add(itemline, il, ilen);
	}
	to = yaml_list_block(y->data, y->data + y->len, sect, il, ilen, list, &from);
	if (!to || to <= from)
		return -1;
	buf_add(chunk, from, (size_t)(to - from));
	return 0;
}

/* [a, b), then ins (may be NULL), then [c, d) */
static void splice_add(struct buf *out, const char *a, const char *b, const struct buf *ins,
		       const char *c, const char *d)
{
	buf_add(out, a, (size_t)(b - a));
	if (ins)
		buf_add(out, ins->data, ins->len);
	buf_add(out, c, (size_t)(d - c));
}

int yaml_splice(const char *last, const char *end, const char *from, const char *to,
		const struct buf *oc, const struct buf *nc, const struct buf *succ, struct buf *out)
{
	const char *cut = NULL, *at = NULL;

	if (!oc && !nc) {
		buf_grow(out, (size_t)(end - last));
		buf_add(out, last, (size_t)(end - last));
		return 0;
	}
	if (oc) {
		cut = find_line(from, to, oc->data, first_line(oc));
		if (!first_line(oc) || !cut || (size_t)(to - cut) < oc->len ||
		    memcmp(cut, oc->data, oc->len))
			return -1;
	}
	if (nc) {
		at = to;
		if (succ) {
			at = find_line(from, to, succ->data, first_line(succ));
			if (!first_line(succ) || !at || (cut && at > cut && at < cut + oc->len))
				return -1;
		}
	}
	/*
	 * The text with the old lines cut out and the new ones put in at their
	 * place, in a buffer of that size: grown by doubling, 2.8 MB of text at
	 * 10,000 peers took a 5.6 MB block, whose wipe touched every page.
	 */
	buf_grow(out, (size_t)(end - last) - (cut ? oc->len : 0) + (at ? nc->len : 0));
	if (!cut) {
		splice_add(out, last, at, nc, at, end);
	} else if (!at) {
		splice_add(out, last, cut, NULL, cut + oc->len, end);
	} else if (at <= cut) {
		splice_add(out, last, at, nc, at, cut);
		buf_add(out, cut + oc->len, (size_t)(end - cut - oc->len));
	} else {
		splice_add(out, last, cut, NULL, cut + oc->len, at);
		splice_add(out, at, at, nc, at, end);
	}
	return 0;
}
