/*
 * totp_store.h - the administrator's second factor (RFC 6238 TOTP), kept in
 * the admins row (schema/006_tokens.sql) with ten one-time recovery codes.
 *
 * Enrolment is two steps: begin stores a new secret as pending and returns
 * it (shown once, as an otpauth:// URI and its QR code); confirm checks a
 * first code against it, turns it on and returns the recovery codes (shown
 * once, stored hashed). A code is accepted for the current time step and
 * one step either side (clock drift), and only for a step newer than the
 * last accepted one: a code seen once cannot be replayed. Every function
 * takes the time as a parameter (tests give the RFC's instants).
 */
#ifndef ATLAS_TOTP_STORE_H
#define ATLAS_TOTP_STORE_H

#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "state/store.h"

#define TOTP_RECOVERY_CODES 10
#define TOTP_RECOVERY_LEN   20 /* "abcd-efgh-ijkl-mnop" and its NUL */
#define TOTP_ISSUER	    "Atlas"

struct totp_status {
	int enabled, pending;
	int recovery_left;
};

/*
 * Starts an enrolment of user: a new random 20-byte secret, its base32
 * appended to secret_b32. ERR_CONFLICT when TOTP is on already (disable
 * first), ERR_NOTFOUND for an unknown user.
 */
int totp_enroll_begin(struct store *s, const char *user, struct buf *secret_b32,
		      struct atlas_err *err);
/* The otpauth:// URI of user's secret (new string). Cannot fail. */
char *totp_uri(const char *user, const char *secret_b32);
/*
 * Confirms the pending enrolment with a code valid at now: TOTP is on from
 * then, and codes gets the ten recovery codes (the older ones are void).
 * ERR_INVALID for a wrong code, ERR_NOTFOUND when no enrolment is pending.
 */
int totp_enroll_confirm(struct store *s, const char *user, const char *code, int64_t now,
			char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN], struct atlas_err *err);
/* Turns TOTP off for user (and drops a pending enrolment and the recovery codes). */
int totp_disable(struct store *s, const char *user, struct atlas_err *err);
int totp_get_status(struct store *s, const char *user, struct totp_status *st,
		    struct atlas_err *err);
/*
 * Checks a second factor of user at now: a 6-digit code (not of a step
 * used before) or an unused recovery code, which is used up. 0 when it
 * holds; -1 with ERR_INVALID ("invalid code", or "code already used")
 * otherwise, another code on a store error.
 */
int totp_verify(struct store *s, const char *user, const char *code, int64_t now,
		struct atlas_err *err);

#endif
