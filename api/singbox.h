/*
 * singbox.h - the sing-box handlers that are not resources (api_singbox.c)
 * and the subscription endpoint GET /sub/{token} (sub.c).
 */
#ifndef ATLAS_API_SINGBOX_H
#define ATLAS_API_SINGBOX_H

struct req;

/* /api/v1/singbox/users[/{name}/...]: people, a person across the inbounds they are in. */
void h_sb_persons(struct req *r);
void h_sb_person_links(struct req *r);
void h_sb_person_profile(struct req *r);
void h_sb_person_subscription(struct req *r);
void h_sb_person_subscription_qr(struct req *r);
void h_sb_person_rotate(struct req *r);

/*
 * GET /sub/{token}, no login: the person's links in base64 (or the sing-box
 * profile with ?format=singbox), with Subscription-Userinfo and
 * Profile-Update-Interval. An unknown token answers 404 and counts against
 * the client address: SUB_RL_MAX misses in SUB_RL_WINDOW seconds, then 429
 * with Retry-After until the window ends.
 */
#define SUB_RL_MAX	    10
#define SUB_RL_WINDOW	    60
#define SUB_UPDATE_HOURS    12
void h_sub(struct req *r);

#endif
