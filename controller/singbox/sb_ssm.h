/*
 * sb_ssm.h - a client of sing-box's SSM API (Shadowsocks server
 * management, REST, no auth, 127.0.0.1 only): the users of a managed
 * Shadowsocks inbound are added, rekeyed and removed live, without a reload.
 *
 * addr is "127.0.0.1:PORT"; prefix is the path the inbound is served under
 * ("" for "/", else "/TAG"). Traps handled here (measured): a POST refused
 * for a bad key still leaves a ghost user that breaks every later add, so
 * keys are checked before posting and any 400 is followed by a DELETE.
 */
#ifndef ATLAS_SB_SSM_H
#define ATLAS_SB_SSM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct sb_ssm_user {
	char *name;
	char *key;			/* uPSK, base64; NULL in stats (secret) */
	int64_t uplink, downlink;	/* bytes since the last clear */
	int64_t tcp_sessions, udp_sessions;
};

struct sb_ssm_users {
	struct sb_ssm_user *v;
	size_t n;
};

void sb_ssm_users_release(struct sb_ssm_users *u);

/*
 * 0 when key is the base64 of exactly key_bytes bytes (16 for
 * 2022-blake3-aes-128-gcm, 32 for -aes-256-gcm), else -1 with ERR_INVALID.
 * Pure.
 */
int sb_ssm_key_check(const char *key, size_t key_bytes, struct atlas_err *err);

/* GET /server/v1/users: the users with their keys (out initialised here). */
int sb_ssm_list(const char *addr, const char *prefix, struct sb_ssm_users *out,
		struct atlas_err *err);

/* GET /server/v1/stats (?clear=true when clear): per-user bytes, no keys. */
int sb_ssm_stats(const char *addr, const char *prefix, int clear, struct sb_ssm_users *out,
		 struct atlas_err *err);

/*
 * POST /server/v1/users after sb_ssm_key_check(). On a refusal the
 * half-added user is deleted again before returning -1.
 */
int sb_ssm_add(const char *addr, const char *prefix, const char *name, const char *key,
	       size_t key_bytes, struct atlas_err *err);

/* PUT /server/v1/users/NAME with a new key (checked first). */
int sb_ssm_update(const char *addr, const char *prefix, const char *name, const char *key,
		  size_t key_bytes, struct atlas_err *err);

/* DELETE /server/v1/users/NAME; a user already gone (404) is success. */
int sb_ssm_delete(const char *addr, const char *prefix, const char *name,
		  struct atlas_err *err);

#endif
