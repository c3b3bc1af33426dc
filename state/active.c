/*
 * active.c - whether a user may be on its engine now: not disabled and not
 * past its expiry date, not suspended (usage.h). Rules of the model, not rendering: the renderers and
 * the diffs of both engines ask the same question here.
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

int wg_handshake_live(long long handshake, time_t now)
{
	return handshake > 0 && (long long)now - handshake < WG_CONNECTED_SECONDS;
}

int wg_peer_active(const struct wg_peer *p, time_t now)
{
	char today[48];
	struct tm tm;

	if (p->disabled || p->suspended[0])
		return 0;
	if (!p->expires)
		return 1;
	gmtime_r(&now, &tm);
	snprintf(today, sizeof(today), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
	/* YYYY-MM-DD compares as text; the peer works through its expiry day. */
	return strcmp(p->expires, today) >= 0;
}

int ovpn_client_active(const struct ovpn_client *cl, const char *today)
{
	if (cl->disabled || cl->suspended[0])
		return 0;
	/* Same format on both sides: the text order is the date order. */
	if (cl->expires && today && strcmp(today, cl->expires) > 0)
		return 0;
	return 1;
}

int sb_user_active(const struct sb_user *u, const char *today)
{
	if (u->disabled || u->suspended[0])
		return 0;
	return !(u->expires && today && strcmp(today, u->expires) > 0);
}
