/*
 * validate_fields.c - the field checks every engine's rules share (names,
 * texts, dates, quotas, duplicate names), and the tests of a name, a date,
 * a host name that the rest of Atlas asks too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ipaddr.h"
#include "state/active.h"
#include "state/usage.h"
#include "state/validate.h"
#include "state/validate_int.h"

int name_valid(const char *s)
{
	size_t n;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-");
	return n == strlen(s) && n <= NAME_MAX_LEN;
}

int date_valid(const char *s)
{
	long long end;

	return strlen(s) == 10 && expiry_parse(s, &end) == 0;
}

int has_ctl(const char *s, int allow_newline)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !(allow_newline && (*s == '\n' || *s == '\t'))) ||
		    *s == 0x7f)
			return 1;
	return 0;
}

int hostname_valid(const char *s)
{
	struct ipaddr ip;
	size_t n = strlen(s);

	if (ip_parse_addr(s, &ip) == 0)
		return 1;
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/*
 * The letters of U+00C0..U+017F (Latin-1 and Latin Extended-A) without
 * their marks, in lowercase ("" for x and ÷): "ümlaut" suggests "umlaut",
 * not "mlaut". ui/core.js's slugName() gives the same for the same range.
 */
static const char *const latin[0x180 - 0xC0] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n",
	"o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
	"a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o",
	"o", "", "o", "u", "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c", "c",
	"c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e",
	"g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i",
	"i", "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l", "l",
	"l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o", "o", "o", "oe",
	"oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t", "t",
	"t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "w", "w", "y", "y",
	"y", "z", "z", "z", "z", "z", "z", "s",
};

/* One character of a suggestion into out (n so far): see name_suggest. */
static void suggest_put(char ch, char *out, size_t len, size_t *n, int *dash)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    (*n && (ch == '_' || ch == '.' || ch == '-'))) {
		if (*dash && *n && ch != '-' && *n + 1 < len && *n < NAME_MAX_LEN)
			out[(*n)++] = '-';
		*dash = 0;
		if (*n + 1 < len && *n < NAME_MAX_LEN)
			out[(*n)++] = ch;
	} else {
		*dash = 1; /* spaces and the rest: one dash between words */
	}
}

void name_suggest(const char *s, char *out, size_t len)
{
	size_t n = 0;
	int dash = 0;

	for (; s && *s && n + 1 < len && n < NAME_MAX_LEN; s++) {
		unsigned char b0 = (unsigned char)s[0], b1 = (unsigned char)s[1];
		unsigned cp = (unsigned)(b0 & 0x1F) << 6 | (b1 & 0x3F);

		if ((b0 & 0xE0) == 0xC0 && (b1 & 0xC0) == 0x80 && cp >= 0xC0 && cp < 0x180 &&
		    latin[cp - 0xC0][0]) {
			for (const char *t = latin[cp - 0xC0]; *t; t++)
				suggest_put(*t, out, len, &n, &dash);
			s++;
			continue;
		}
		suggest_put(*s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s, out, len, &n, &dash);
	}
	while (n && (out[n - 1] == '-' || out[n - 1] == '_' || out[n - 1] == '.'))
		n--;
	if (len)
		out[n] = '\0';
}

void check_name_max(struct vctx *c, char *const *name, const char *kind, int max)
{
	char tail[128], hint[NAME_MAX_LEN + 40] = "";
	size_t lw, lt;

	if (!*name) {
		V(c, name, "name", "%s has no name", kind);
		return;
	}
	if (name_valid(*name) && strlen(*name) <= (size_t)max) {
		if (strstr(*name, ".tmp."))
			V(c, name, "name",
			  "name \"%s\" is reserved: \".tmp.\" marks Atlas's temporary files", *name);
		return;
	}
	{
		char sug[NAME_MAX_LEN + 1];

		name_suggest(*name, sug, sizeof(sug));
		sug[strlen(sug) > (size_t)max ? (size_t)max : strlen(sug)] = '\0';
		if (sug[0])
			snprintf(hint, sizeof(hint), ", such as \"%s\"", sug);
	}
	/* who ends with KIND "NAME": say it once, as KIND name "NAME" */
	snprintf(tail, sizeof(tail), " \"%.80s\"", *name);
	lw = strlen(c->who);
	lt = strlen(tail);
	if (lw > lt && !strcmp(c->who + lw - lt, tail)) {
		diags_add(c->d, name, "name",
			  "%.*s name \"%.80s\" is invalid: use 1 to %d lowercase letters, digits, "
			  "_ . - starting with a letter or digit%s",
			  (int)(lw - lt), c->who, *name, max, hint);
		return;
	}
	V(c, name, "name",
	  "name \"%.80s\" is invalid: use 1 to %d lowercase letters, digits, _ . - starting with a "
	  "letter or digit%s",
	  *name, max, hint);
}

void check_name(struct vctx *c, char *const *name, const char *kind)
{
	check_name_max(c, name, kind, NAME_MAX_LEN);
}

/* Characters of UTF-8 text (the parsers let only valid UTF-8 through): its bytes but continuations. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void check_text(struct vctx *c, char *const *s, const char *field, int multiline, size_t max)
{
	if (!*s)
		return;
	if (has_ctl(*s, multiline))
		V(c, s, field, "%s contains control characters", field);
	else if (utf8_chars(*s) > max)
		V(c, s, field, "%s is longer than %zu characters", field, max);
}

void check_expiry(struct vctx *c, char *const *s, const char *field)
{
	long long end;

	if (*s && (has_ctl(*s, 0) || expiry_parse(*s, &end) < 0))
		V(c, s, field,
		  "%s \"%.40s\" is not a date (YYYY-MM-DD) nor a date and time with a zone "
		  "(YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DDTHH:MM:SS+01:00)",
		  field, *s);
}

void check_quota(struct vctx *c, char *const *q)
{
	long long b;

	if (!*q || (!has_ctl(*q, 0) && bytes_parse(*q, &b) == 0))
		return;
	if (!has_ctl(*q, 0) && *q[0] >= '0' && *q[0] <= '9' && strtod(*q, NULL) == 0)
		V(c, q, "quota",
		  "quota \"%.40s\" is zero: leave quota out for no limit, or set disabled: true to "
		  "cut the user off",
		  *q);
	else
		V(c, q, "quota",
		  "quota \"%.40s\" is not a size: write a number and a unit (B, KB, MB, GB, TB, "
		  "KiB, MiB, GiB, TiB), e.g. 500MiB, 20GiB, 1TB; a bare number is bytes",
		  *q);
}

struct name_ref {
	const char *name;
	char *const *where;
	size_t idx;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* Reports duplicate names in a list whose elements start with char *name. */
void check_dup_names(struct vctx *c, const void *arr, size_t n, size_t size, const char *kind)
{
	struct name_ref *refs = xcalloc(n + 1, sizeof(*refs));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char *const *ni = (char *const *)((const char *)arr + i * size);

		if (*ni)
			refs[k++] = (struct name_ref){ *ni, ni, i };
	}
	qsort(refs, k, sizeof(*refs), name_ref_cmp);
	for (size_t i = 1; i < k; i++)
		if (!strcmp(refs[i].name, refs[i - 1].name))
			V(c, refs[i].where, "name", "%s name \"%s\" is used twice", kind,
			  refs[i].name);
	free(refs);
}
