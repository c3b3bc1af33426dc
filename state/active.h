/*
 * active.h - is a user active at a given time (disabled, expires). Pure.
 */
#ifndef ATLAS_ACTIVE_H
#define ATLAS_ACTIVE_H

#include <stddef.h>
#include <time.h>

#include "state/model.h"

/* "YYYY-MM-DD" (UTC) of t into buf (11 bytes). Pure. */
void ovpn_today(long long t, char *buf, size_t len);

/*
 * Expiry (`expires`): a date "YYYY-MM-DD" (valid through that whole day,
 * UTC) or a date and time with a zone, RFC 3339 without fractions:
 * "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS+01:00" (valid until that
 * instant). Years from 1970, real calendar days (leap years), hours 00-23,
 * minutes and seconds 00-59, zone offsets -23:59..+23:59.
 *
 * expiry_parse: 0 with *end the first unix second at which the user is no
 * longer active (the next midnight UTC for a date); -1 when s is neither.
 */
int expiry_parse(const char *s, long long *end);
/* 1 when expires (NULL: never) has passed at now (also when it does not parse). */
int expiry_passed(const char *expires, long long now);

/*
 * The moment t as "YYYY-MM-DDTHH:MM:SSZ" (MOMENT_LEN bytes with the NUL):
 * what the diffs hand to the renderers as "today". moment_parse reads that
 * or a plain date (its midnight UTC) back into *t: 0, or -1.
 */
#define MOMENT_LEN 21
void moment_text(long long t, char *buf, size_t len);
int moment_parse(const char *s, long long *t);

/*
 * 1 when p belongs on the live interface at time now: not disabled and not
 * expired (an expiry date is valid through that whole day, UTC). Pure.
 */
int wg_peer_active(const struct wg_peer *p, time_t now);

/*
 * A WireGuard peer counts as connected (a live session, which a change of
 * the peer drops) while its latest handshake is younger than this:
 * WireGuard rekeys a live session every 120 s, plus a minute for a late one.
 */
#define WG_CONNECTED_SECONDS 180

/* 1 when a latest handshake (unix seconds, 0: never) means a live session at now. Pure. */
int wg_handshake_live(long long handshake, time_t now);

/*
 * 1 when cl may connect at today, a moment (moment_text) or a day
 * ("YYYY-MM-DD": its start): not disabled and not past its expiry (a date
 * is valid through that whole day).
 */
int ovpn_client_active(const struct ovpn_client *cl, const char *today);

/* The same for a sing-box user (today NULL: no expiry check). */
int sb_user_active(const struct sb_user *u, const char *today);

#endif
