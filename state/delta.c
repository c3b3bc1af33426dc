/*
 * delta.c - the reverse deltas of the store's history (delta.h). Pure.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "state/delta.h"

/*
 * History is kept compactly (issue 16.13): the newest generation holds its
 * whole YAML (in pieces since issue 18: store_text.c); every older one holds
 * only how it differs from the one after it, as a reverse delta:
 *
 *   #atlas-delta v1 prefix=P suffix=S sha256=H\n<middle>
 *
 * meaning "the first P bytes of the next generation, then <middle>, then
 * its last S bytes", H the SHA-256 of the result (checked on every read, so
 * a broken chain is an error, never a wrong state). An edit of one peer
 * costs its few changed lines instead of a copy of every key. Pruning drops
 * the oldest rows, which nothing depends on. A "#" line starts no YAML the
 * encoder writes, so old full rows and deltas cannot be confused.
 */
#define DELTA_MAGIC "#atlas-delta v1 "

static void sha_hex(const char *text, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)text, len, md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/*
 * The length of the common prefix of a and b (n bytes each), or of their
 * common suffix when back: block by block with memcmp (vectorised), then
 * byte by byte in the first block that differs. With 10,000 peers the texts
 * are 2.8 MB: a byte loop over both was a tenth of the commit of one peer.
 */
size_t history_common_len(const char *a, const char *b, size_t n, int back)
{
	enum { BLOCK = 4096 };
	size_t k = 0;

	while (n - k >= BLOCK && !memcmp(back ? a + n - k - BLOCK : a + k,
					 back ? b + n - k - BLOCK : b + k, BLOCK))
		k += BLOCK;
	while (k < n && (back ? a[n - 1 - k] == b[n - 1 - k] : a[k] == b[k]))
		k++;
	return k;
}

struct history_change history_change_of(const char *old, size_t olen, const char *next,
					size_t nlen)
{
	size_t m = olen < nlen ? olen : nlen, p = history_common_len(old, next, m, 0);

	/* the suffix, in what is left after the prefix in both: their last m - p bytes */
	return (struct history_change){ p, history_common_len(old + olen - (m - p),
							      next + nlen - (m - p), m - p, 1) };
}

/* The reverse delta that turns next into old (appended to out): c says where they differ. */
void history_delta_make(const char *old, size_t olen, const struct history_change *c,
			struct buf *out)
{
	size_t p = c->prefix, sfx = c->suffix;
	char sha[65];

	sha_hex(old, olen, sha);
	buf_printf(out, DELTA_MAGIC "prefix=%zu suffix=%zu sha256=%s\n", p, sfx, sha);
	buf_add(out, old + p, olen - p - sfx);
}

/* Replaces *cur (the next generation's text) by the text delta describes. */
int history_delta_apply(const char *delta, size_t dlen, struct buf *cur, int64_t gen,
		       struct atlas_err *err)
{
	const char *nl = memchr(delta, '\n', dlen);
	size_t p, sfx;
	char sha[65], want[65];
	struct buf out = BUF_INIT;

	if (!nl || sscanf(delta + strlen(DELTA_MAGIC), "prefix=%zu suffix=%zu sha256=%64s", &p,
			  &sfx, want) != 3 ||
	    p + sfx > cur->len)
		return err_set(err, ERR_INVALID, "generation %lld: unreadable history delta",
			       (long long)gen);
	buf_add(&out, cur->data, p);
	buf_add(&out, nl + 1, dlen - (size_t)(nl + 1 - delta));
	buf_add(&out, cur->data + cur->len - sfx, sfx);
	sha_hex(buf_str(&out), out.len, sha);
	if (strcmp(sha, want)) {
		buf_release_secure(&out);
		return err_set(err, ERR_INVALID,
			       "generation %lld: the history does not rebuild it (checksum differs)",
			       (long long)gen);
	}
	buf_release_secure(cur);
	*cur = out;
	return 0;
}

int history_is_delta(const char *text, size_t len)
{
	return len >= strlen(DELTA_MAGIC) && !memcmp(text, DELTA_MAGIC, strlen(DELTA_MAGIC));
}
