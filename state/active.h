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
 * 1 when p belongs on the live interface at time now: not disabled and not
 * expired (an expiry date is valid through that whole day, UTC). Pure.
 */
int wg_peer_active(const struct wg_peer *p, time_t now);

/*
 * 1 when cl may connect on day today ("YYYY-MM-DD"): not disabled and not
 * past its expiry date (the date itself is still valid).
 */
int ovpn_client_active(const struct ovpn_client *cl, const char *today);

/* 1 when sing-box user u may connect on day today ("YYYY-MM-DD"; NULL: no expiry check). */
int sb_user_active(const struct sb_user *u, const char *today);

#endif
