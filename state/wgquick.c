/*
 * wgquick.c - the wg-quick file format as `atlas adopt wireguard` reads it
 * (adopt_wg.c): lines split into header, key = value and comment, values
 * checked (keys, numbers, prefixes) with their line and column, and the peer
 * names the comments of other tools give (adopt_wg.c's head lists them).
 * Pure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lib/ipaddr.h"
#include "state/adopt_wg.h"
#include "state/keys.h"
#include "state/validate.h"
#include "state/wgquick.h"

/*
 * Splits one line; returns -1 (and an error) when it is neither blank, a
 * header, nor key = value.
 */
int wgq_line_parse(struct wgq_line *l, struct diags *errs)
{
	char *s = l->text, *hash = strchr(s, '#'), *eq;
	size_t n;

	l->key = l->val = l->comment = NULL;
	if (hash) {
		l->comment = hash + 1;
		*hash = '\0';
	}
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '[')
		return 0;
	eq = strchr(s, '=');
	if (!eq) {
		diags_add_at(errs, l->no, (int)(s - l->text) + 1, NULL,
			     "\"%.60s\" is not \"Key = Value\" (truncated line?)", s);
		return -1;
	}
	l->key = s;
	l->keycol = (int)(s - l->text) + 1;
	l->keylen = (size_t)(eq - s);
	while (l->keylen && isspace((unsigned char)s[l->keylen - 1]))
		l->keylen--;
	for (eq++; *eq == ' ' || *eq == '\t'; eq++)
		;
	l->val = eq;
	l->valcol = (int)(eq - l->text) + 1;
	l->vallen = strlen(eq);
	if (!l->keylen) {
		diags_add_at(errs, l->no, l->keycol, NULL, "a line with no key before \"=\"");
		return -1;
	}
	return 0;
}

int wgq_key_is(const struct wgq_line *l, const char *name)
{
	return l->keylen == strlen(name) && !strncasecmp(l->key, name, l->keylen);
}

/* A header "[Name]": the name (NULL terminated in place), or NULL with an error. */
const char *wgq_header(struct wgq_line *l, struct diags *errs)
{
	char *s = l->text, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = strchr(s, ']');
	if (!end || end[1]) {
		diags_add_at(errs, l->no, (int)(s - l->text) + 1, NULL,
			     "section header \"%.40s\" is not closed by \"]\" (truncated line?)", s);
		return NULL;
	}
	*end = '\0';
	return s + 1;
}


void wgq_reader_init(struct wgq_reader *r, const char *text, size_t len)
{
	r->copy = xstrndup(text, len);
	r->pos = r->copy;
	r->no = 0;
}

void wgq_reader_release(struct wgq_reader *r)
{
	if (r->copy)
		OPENSSL_cleanse(r->copy, strlen(r->copy));
	free(r->copy);
	r->copy = NULL;
}

/* The next line, or 0 at the end. Strips "\r". */
int wgq_reader_next(struct wgq_reader *r, struct wgq_line *l)
{
	char *nl;
	size_t n;

	if (!r->pos || !*r->pos)
		return 0;
	l->text = r->pos;
	nl = strchr(r->pos, '\n');
	if (nl) {
		*nl = '\0';
		r->pos = nl + 1;
	} else {
		r->pos = NULL;
	}
	n = strlen(l->text);
	if (n && l->text[n - 1] == '\r')
		l->text[n - 1] = '\0';
	l->no = ++r->no;
	return 1;
}

/* ---- values ---- */

char *wgq_val_dup(const struct wgq_line *l)
{
	return xstrndup(l->val, l->vallen);
}

int wgq_val_key(const struct wgq_line *l, char out[KEY_B64], struct diags *errs)
{
	char *v = wgq_val_dup(l);
	int ok = key_valid(v);

	if (ok)
		snprintf(out, KEY_B64, "%s", v);
	else
		diags_add_at(errs, l->no, l->valcol, NULL,
			     "%.*s is not a base64 key of 32 bytes (44 characters ending in \"=\")",
			     (int)l->keylen, l->key);
	OPENSSL_cleanse(v, strlen(v));
	free(v);
	return ok ? 0 : -1;
}

int wgq_val_wgkey(const struct wgq_line *l, struct wg_key *out, struct diags *errs)
{
	char text[KEY_B64];
	int ret = wgq_val_key(l, text, errs);

	if (ret == 0)
		key_from_text(out, text);
	OPENSSL_cleanse(text, sizeof(text));
	return ret;
}

int wgq_val_int(const struct wgq_line *l, int min, int max, int *out, struct diags *errs)
{
	char *v = wgq_val_dup(l), *end;
	long n = strtol(v, &end, 10);
	int ret = 0;

	if (!*v || *end || n < min || n > max || !isdigit((unsigned char)v[0])) {
		diags_add_at(errs, l->no, l->valcol, NULL, "%.*s \"%s\" is not a number from %d to %d",
			     (int)l->keylen, l->key, v, min, max);
		ret = -1;
	} else {
		*out = (int)n;
	}
	free(v);
	return ret;
}

/* A comma-separated list of prefixes (bare addresses get their full length). */
int wgq_val_prefixes(const struct wgq_line *l, int net, struct strv *out, struct diags *errs)
{
	char *v = wgq_val_dup(l), *save = NULL, *tok;
	int ret = 0;

	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ipaddr ip;
		char buf[64];

		while (*tok == ' ' || *tok == '\t')
			tok++;
		for (size_t n = strlen(tok); n && isspace((unsigned char)tok[n - 1]);)
			tok[--n] = '\0';
		if (!*tok)
			continue;
		if (ip_parse(tok, &ip) < 0) {
			diags_add_at(errs, l->no, l->valcol + (int)(tok - v), NULL,
				     "%.*s: \"%s\" is not an IPv4 or IPv6 prefix", (int)l->keylen,
				     l->key, tok);
			ret = -1;
			continue;
		}
		if (net) {
			struct ipaddr n;

			ip_network(&ip, &n);
			n.prefix = ip.prefix;
			ip = n;
		}
		ip_format(&ip, 1, buf, sizeof(buf));
		if (!strv_contains(out, buf))
			strv_push(out, buf);
	}
	free(v);
	return ret;
}

/* ---- names ---- */

int adopt_name_clean(const char *in, char *out, size_t len)
{
	size_t k = 0;
	int dash = 0;

	if (len > NAME_MAX_LEN + 1)
		len = NAME_MAX_LEN + 1;
	for (; *in && k + 1 < len; in++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*in);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.') {
			if (dash && k)
				out[k++] = '-';
			dash = 0;
			if (k + 1 < len)
				out[k++] = (char)c;
		} else {
			dash = 1;	/* spaces, "-", anything else: one "-" */
		}
	}
	out[k] = '\0';
	while (k && (out[k - 1] == '.' || out[k - 1] == '-'))
		out[--k] = '\0';
	return name_valid(out);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * The name a comment gives (without its "#"s), strong = 1 for the keyed
 * forms, 0 for a plain comment. Copies it to out; 0 when the comment names
 * nothing.
 */
/* raw as written into out (control bytes as '?'), when out is not NULL. */
static void raw_copy(const char *raw, char *out, size_t len)
{
	size_t i = 0;

	if (!out || !len)
		return;
	for (; raw[i] && i + 1 < len; i++)
		out[i] = (unsigned char)raw[i] < 0x20 || raw[i] == 0x7f ? '?' : raw[i];
	out[i] = '\0';
}

int wgq_comment_name(const char *c, char *out, size_t len, int *strong, char *raw_out,
		     size_t raw_len)
{
	static const char *const keyed[] = { "name", "friendly_name", "client", "begin_peer",
					     "begin", "peer", NULL };
	char raw[128];
	size_t n;

	while (*c == '#')
		c++;
	c = skip_ws(c);
	for (int i = 0; keyed[i]; i++) {
		size_t kl = strlen(keyed[i]);
		const char *v = c + kl;

		if (strncasecmp(c, keyed[i], kl))
			continue;
		v = skip_ws(v);
		if (*v == '=' || *v == ':')
			v = skip_ws(v + 1);
		else if (v == c + kl)
			continue;	/* "clients of ...": a word that only starts like a key */
		/*
		 * "# Name = Alice Smith": the rest of the line; "### begin alice ###",
		 * "# Client: alice (uuid)": the first word.
		 */
		if (i < 2) {
			n = strcspn(v, "#");
			while (n && isspace((unsigned char)v[n - 1]))
				n--;
		} else {
			n = strcspn(v, " \t#(");
		}
		if (!n || n >= sizeof(raw))
			return 0;
		memcpy(raw, v, n);
		raw[n] = '\0';
		if (!strcasecmp(keyed[i], "peer") && !strcasecmp(raw, "end"))
			return 0;
		*strong = 1;
		raw_copy(raw, raw_out, raw_len);
		return adopt_name_clean(raw, out, len);
	}
	/* "### end alice ###", "# END_PEER alice": closes a block, names nothing. */
	if (!strncasecmp(c, "end", 3))
		return 0;
	n = strlen(c);
	while (n && (isspace((unsigned char)c[n - 1]) || c[n - 1] == '#'))
		n--;
	if (!n || n >= sizeof(raw) || n > NAME_MAX_LEN || strchr(c, '='))
		return 0;
	memcpy(raw, c, n);
	raw[n] = '\0';
	*strong = 0;
	raw_copy(raw, raw_out, raw_len);
	return adopt_name_clean(raw, out, len);
}

