/*
 * usage.c - the pure rules of accounting and quotas (usage.h): sizes with
 * units, period boundaries, folding counter readings into totals, and the
 * verdict that suspends a user.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "state/sb_people.h"
#include "state/usage.h"

int bytes_parse(const char *s, long long *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 },	       { "B", 1 },	      { "KB", 1e3 },	  { "MB", 1e6 },
		{ "GB", 1e9 },	       { "TB", 1e12 },	      { "KiB", 1024.0 },  { "MiB", 1048576.0 },
		{ "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 },
	};
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	/* decimal only: digits, then at most a point and digits (no 0x10, no 1e3) */
	{
		size_t k = strspn(s, "0123456789");
		char num[64];

		if (s[k] == '.') {
			if (!isdigit((unsigned char)s[k + 1]))
				return -1;
			k += 1 + strspn(s + k + 1, "0123456789");
		}
		if (k >= sizeof(num))
			return -1;
		memcpy(num, s, k);
		num[k] = '\0';
		errno = 0;
		v = strtod(num, NULL);
		if (errno)
			return -1;
		end = (char *)s + k;
	}
	if (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			double b = v * units[i].mult;

			/* whole bytes, at most 2^62 (the range SQLite and JSON keep) */
			if (!(b >= 1 && b <= 4611686018427387904.0) ||
			    (units[i].mult == 1 && b != (double)(long long)b))
				return -1;
			*out = (long long)b;	/* whole bytes: a fraction of one is dropped */
			return 0;
		}
	return -1;
}

void bytes_format(long long n, char *buf, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	while (u < 3 && v >= 1024.0) {
		v /= 1024.0;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lld B", n);
	else if ((long long)(v * 10) % 10 == 0)
		snprintf(buf, len, "%lld %s", (long long)v, names[u]);
	else	/* tenths rounded down: 19.99 GiB used is not yet "20 GiB" */
		snprintf(buf, len, "%lld.%lld %s", (long long)(v * 10) / 10,
			 (long long)(v * 10) % 10, names[u]);
}

/* 1 when quota n reads in powers of 1000: a whole number of one, the shorter of the two. */
static int quota_decimal(long long n)
{
	long long dec = 0, bin = 0, m = 1000, mb = 1024;

	for (int k = 0; k < 4 && n > 0; k++, m *= 1000, mb *= 1024) {
		if (n % m == 0)
			dec = n / m;
		if (n % mb == 0)
			bin = n / mb;
	}
	return dec && (!bin || dec <= bin);
}

/* bytes_format in powers of 1000: tenths rounded down ("4.9 MB" is not yet 5 MB). */
static void decimal_format(long long n, char *buf, size_t len)
{
	static const char *const names[] = { "KB", "MB", "GB", "TB" };
	long long m = 1;
	int u = -1;

	while (u < 3 && n / m >= 1000) {
		m *= 1000;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lld B", n);
	else if ((n / (m / 10)) % 10 == 0 || n / m >= 100)
		snprintf(buf, len, "%lld %s", n / m, names[u]);
	else
		snprintf(buf, len, "%lld.%lld %s", n / m, (n / (m / 10)) % 10, names[u]);
}

void quota_format(long long n, char *buf, size_t len)
{
	/* written in powers of 1000 when that is the shorter: 5 MB, 1 TB; else 2 MiB */
	if (quota_decimal(n))
		decimal_format(n, buf, len);
	else
		bytes_format(n, buf, len);
}

/* An amount used of quota q, in the quota's units (5 MB: "4.9 MB", not "4.7 MiB"). */
static void used_format(long long q, long long used, char *buf, size_t len)
{
	if (quota_decimal(q))
		decimal_format(used, buf, len);
	else
		bytes_format(used, buf, len);
}

long long usage_day(time_t t)
{
	long long s = (long long)t;

	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

time_t usage_period_start(time_t now, int period, int reset_day)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	switch (period) {
	case QUOTA_DAILY:
		return timegm(&tm);
	case QUOTA_WEEKLY:
		/* tm_wday 0 is Sunday: back to Monday */
		return timegm(&tm) - (time_t)((tm.tm_wday + 6) % 7) * 86400;
	case QUOTA_MONTHLY:
		if (reset_day < 1 || reset_day > 28)
			reset_day = 1;
		if (tm.tm_mday < reset_day) {
			tm.tm_mon--;
			if (tm.tm_mon < 0) {
				tm.tm_mon = 11;
				tm.tm_year--;
			}
		}
		tm.tm_mday = reset_day;
		return timegm(&tm);
	default:
		return 0;
	}
}

static long long progress(long long last, long long cur)
{
	/* A counter below the last reading started over: all of it is new. */
	return cur >= last ? cur - last : cur;
}

int usage_fold(struct usage_entry *e, int present, long long rx, long long tx, long long session,
	       long long period_start, long long *drx, long long *dtx)
{
	int changed = 0;

	*drx = *dtx = 0;
	if (period_start != e->period_start) {
		e->period_start = period_start;
		e->period_rx = e->period_tx = 0;
		changed = 1;
	}
	if (!present) {
		if (e->last_rx || e->last_tx || e->last_session) {
			e->last_rx = e->last_tx = e->last_session = 0;
			changed = 1;
		}
		return changed;
	}
	if (rx < 0 || tx < 0)
		return changed;
	if (session != e->last_session) {
		/* another session: its counters began at 0 */
		*drx = rx;
		*dtx = tx;
	} else {
		*drx = progress(e->last_rx, rx);
		*dtx = progress(e->last_tx, tx);
	}
	if (*drx || *dtx || rx != e->last_rx || tx != e->last_tx || session != e->last_session)
		changed = 1;
	e->last_rx = rx;
	e->last_tx = tx;
	e->last_session = session;
	e->rx_total += *drx;
	e->tx_total += *dtx;
	e->period_rx += *drx;
	e->period_tx += *dtx;
	return changed;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct usage_entry *x = a, *y = b;
	int c = strcmp(x->engine, y->engine);

	return c ? c : strcmp(x->user, y->user);
}

void usage_view_sort(struct usage_view *u)
{
	if (u->n > 1)
		qsort(u->v, u->n, sizeof(*u->v), entry_cmp);
}

const struct usage_entry *usage_find(const struct usage_view *u, const char *engine,
				     const char *user)
{
	struct usage_entry key;

	if (!u || !u->n)
		return NULL;
	key.engine = engine;
	key.user = (char *)user; /* only compared */
	return bsearch(&key, u->v, u->n, sizeof(*u->v), entry_cmp);
}

/* A block of a view's names. */
struct usage_names {
	struct usage_names *next;
	size_t used, cap;
	char text[];
};

#define USAGE_NAMES_BLOCK (256 * 1024)

char *usage_view_name(struct usage_view *u, const char *name)
{
	size_t len = strlen(name) + 1;
	struct usage_names *b = u->names;
	char *at;

	if (!b || b->cap - b->used < len) {
		size_t cap = len > USAGE_NAMES_BLOCK ? len : USAGE_NAMES_BLOCK;

		b = xmalloc(sizeof(*b) + cap);
		b->next = u->names;
		b->used = 0;
		b->cap = cap;
		u->names = b;
	}
	at = b->text + b->used;
	memcpy(at, name, len);
	b->used += len;
	return at;
}

const char *usage_view_engine(struct usage_view *u, const char *engine)
{
	static const char *const known[] = { "wireguard", "openvpn", "singbox" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(engine, known[i]))
			return known[i];
	return usage_view_name(u, engine);
}

void usage_view_release(struct usage_view *u)
{
	while (u->names) {
		struct usage_names *next = u->names->next;

		free(u->names);
		u->names = next;
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

static struct quota_cfg cfg(const char *quota, long long bytes, int period, int reset_day)
{
	struct quota_cfg q = { 0, period, reset_day };

	if (!quota || bytes_parse(quota, &q.quota) < 0)
		q.quota = quota ? 0 : bytes;
	return q;
}

struct quota_cfg quota_of_wg(const struct wg_peer *p)
{
	return cfg(p->quota, 0, p->quota_period, p->quota_reset_day);
}

struct quota_cfg quota_of_ovpn(const struct ovpn_client *c)
{
	return cfg(c->quota, 0, c->quota_period, c->quota_reset_day);
}

struct quota_cfg quota_of_sb_entry(const struct sb_user *u)
{
	struct quota_cfg none = { 0, QUOTA_MONTHLY, 1 };

	return u ? cfg(u->quota, u->quota_bytes, u->quota_period, u->quota_reset_day) : none;
}

struct quota_cfg quota_of_sb(const struct atlas_state *st, const char *person)
{
	for (size_t i = 0; i < st->singbox.ninbounds; i++) {
		const struct sb_user *u = state_sb_user(&st->singbox.inbounds[i], person);

		if (u && (u->quota || u->quota_bytes))
			return quota_of_sb_entry(u);
	}
	return quota_of_sb_entry(NULL);
}

long long usage_period_used(const struct quota_cfg *q, const struct usage_entry *e, time_t now)
{
	if (!e || e->period_start != (long long)usage_period_start(now, q->period, q->reset_day))
		return 0;
	return e->period_rx + e->period_tx;
}

static void since(const struct quota_cfg *q, time_t now, char *buf, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t start = usage_period_start(now, q->period, q->reset_day);
	struct tm tm;

	if (q->period == QUOTA_NEVER) {
		snprintf(buf, len, "in all");
		return;
	}
	gmtime_r(&start, &tm);
	snprintf(buf, len, "since %d %s", tm.tm_mday, mon[tm.tm_mon]);
}

int usage_verdict(const struct quota_cfg *q, const struct usage_entry *e, time_t now, char *why,
		  size_t len)
{
	long long used = usage_period_used(q, e, now);
	char a[32], b[32], c[32];

	why[0] = '\0';
	if (q->quota <= 0 || used < q->quota)
		return 0;
	quota_format(q->quota, a, sizeof(a));
	used_format(q->quota, used, b, sizeof(b));
	since(q, now, c, sizeof(c));
	snprintf(why, len, "quota %s used (%s %s)", a, b, c);
	return 1;
}

int usage_near(const struct quota_cfg *q, const struct usage_entry *e, time_t now, char *why,
	       size_t len)
{
	long long used = usage_period_used(q, e, now);
	char a[32];

	why[0] = '\0';
	if (q->quota <= 0 || used >= q->quota || used * 10 < q->quota * 9)
		return 0;
	quota_format(q->quota, a, sizeof(a));
	snprintf(why, len, "%lld %% of quota %s used", used * 100 / q->quota, a);
	return 1;
}

/*
 * The walk of usage_suspend() and usage_count_suspended(): with mark, each
 * user's suspended text is set (or cleared); without, st is only read.
 */
/* The verdict of q and e; with mark, *why becomes its text (NULL: not suspended). */
static int mark_verdict(const struct quota_cfg *q, const struct usage_entry *e, time_t now,
			int mark, char **why)
{
	char text[SUSPENDED_LEN];
	int over = usage_verdict(q, e, now, text, sizeof(text));

	if (mark) {
		free(*why);
		*why = over ? xstrdup(text) : NULL;
	}
	return over;
}

static size_t walk(struct atlas_state *st, const struct usage_view *u, time_t now, int mark)
{
	char user[2 * NAME_MAX_LEN + 2];
	struct sb_people people;
	size_t n = 0;

#define VERDICT(q, e, field) mark_verdict(q, e, now, mark, &(field))
	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		struct wg_iface *ifc = &st->wireguard.interfaces[i];

		for (size_t k = 0; k < ifc->npeers; k++) {
			struct wg_peer *p = &ifc->peers[k];
			struct quota_cfg q = quota_of_wg(p);

			if (!q.quota && !mark)
				continue;
			snprintf(user, sizeof(user), "%s/%s", ifc->name, p->name ? p->name : "");
			n += VERDICT(&q, usage_find(u, "wireguard", user), p->suspended);
		}
	}
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++) {
		struct ovpn_client *c = &st->openvpn.clients[i];
		struct quota_cfg q = quota_of_ovpn(c);

		if (!q.quota && !mark)
			continue;
		n += VERDICT(&q, c->name ? usage_find(u, "openvpn", c->name) : NULL, c->suspended);
	}
	/* a sing-box person is cut from every inbound: counted per user entry */
	sb_people_init(&people, st);
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++) {
		struct sb_inbound *in = &st->singbox.inbounds[i];

		for (size_t k = 0; k < in->nusers; k++) {
			struct sb_user *us = &in->users[k];
			const struct sb_person *who = sb_people_find(&people, us->name);
			struct quota_cfg q;

			if (!who)
				continue;
			q = quota_of_sb_entry(who->quota);
			if (!q.quota && !mark)
				continue;
			n += VERDICT(&q, usage_find(u, "singbox", us->name), us->suspended);
		}
	}
	sb_people_release(&people);
#undef VERDICT
	return n;
}

size_t usage_suspend(struct atlas_state *st, const struct usage_view *u, time_t now)
{
	return walk(st, u, now, 1);
}

size_t usage_count_suspended(const struct atlas_state *st, const struct usage_view *u, time_t now)
{
	/* only read: walk() writes nothing without mark */
	return walk((struct atlas_state *)st, u, now, 0);
}

int usage_any_quota(const struct atlas_state *st)
{
	for (size_t i = 0; st->has_wireguard && i < st->wireguard.ninterfaces; i++)
		for (size_t k = 0; k < st->wireguard.interfaces[i].npeers; k++)
			if (quota_of_wg(&st->wireguard.interfaces[i].peers[k]).quota)
				return 1;
	for (size_t i = 0; st->has_openvpn && i < st->openvpn.nclients; i++)
		if (quota_of_ovpn(&st->openvpn.clients[i]).quota)
			return 1;
	for (size_t i = 0; st->has_singbox && i < st->singbox.ninbounds; i++)
		for (size_t k = 0; k < st->singbox.inbounds[i].nusers; k++) {
			const struct sb_user *u = &st->singbox.inbounds[i].users[k];

			if (cfg(u->quota, u->quota_bytes, u->quota_period, u->quota_reset_day).quota)
				return 1;
		}
	return 0;
}
