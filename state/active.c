/*
 * active.c - whether a user may be on its engine now: not disabled and not
 * past its expiry (a date, or a date and time with a zone), not suspended
 * (usage.h). Rules of the model, not rendering: the renderers and the diffs
 * of every engine ask the same question here.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "state/active.h"

void ovpn_today(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits of s as a number, or -1 when one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Reads s: *t the instant it names (a date: its midnight UTC), *timed 1
 * when it has a time. 0, or -1 when it is malformed.
 */
static int parse_instant(const char *s, long long *t, int *timed)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, h, mi, sec, oh, om, sign;
	size_t n = strlen(s);

	if (n < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	*t = days_from_civil(y, m, d) * 86400;
	*timed = n > 10;
	if (n == 10)
		return 0;
	if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -1;
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return -1;
	*t += h * 3600LL + mi * 60LL + sec;
	if (n == 20 && s[19] == 'Z')
		return 0;
	if (n != 25 || (s[19] != '+' && s[19] != '-') || s[22] != ':')
		return -1;
	sign = s[19] == '+' ? 1 : -1;
	oh = digits(s + 20, 2);
	om = digits(s + 23, 2);
	if (oh < 0 || oh > 23 || om < 0 || om > 59)
		return -1;
	/* 18:00+01:00 is 17:00 UTC */
	*t -= sign * (oh * 3600LL + om * 60LL);
	return 0;
}

int expiry_parse(const char *s, long long *end)
{
	int timed;

	if (parse_instant(s, end, &timed) < 0)
		return -1;
	if (!timed)
		*end += 86400;	/* valid through that whole day */
	return 0;
}

int expiry_passed(const char *expires, long long now)
{
	long long end;

	if (!expires)
		return 0;
	return expiry_parse(expires, &end) < 0 || now >= end;
}

void moment_text(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (tm.tm_year + 1900) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100);
}

int moment_parse(const char *s, long long *t)
{
	int timed;

	return parse_instant(s, t, &timed);
}

int wg_handshake_live(long long handshake, time_t now)
{
	return handshake > 0 && (long long)now - handshake < WG_CONNECTED_SECONDS;
}

int wg_peer_active(const struct wg_peer *p, time_t now)
{
	return !p->disabled && !p->suspended && !expiry_passed(p->expires, (long long)now);
}

/* 1 when expires has passed at today (a moment or a day; NULL or unreadable: no check). */
static int passed_at(const char *expires, const char *today)
{
	long long t;

	return expires && today && moment_parse(today, &t) == 0 && expiry_passed(expires, t);
}

int ovpn_client_active(const struct ovpn_client *cl, const char *today)
{
	return !cl->disabled && !cl->suspended && !passed_at(cl->expires, today);
}

int sb_user_active(const struct sb_user *u, const char *today)
{
	return !u->disabled && !u->suspended && !passed_at(u->expires, today);
}
