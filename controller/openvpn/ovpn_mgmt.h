/*
 * ovpn_mgmt.h - the OpenVPN management interface over its unix socket:
 * `status 3` (the connected clients) and `client-kill CID`.
 *
 * OpenVPN serves one management client at a time, so each call opens one
 * connection, does its work and closes it. Lines end in "\r\n"; a line that
 * starts with '>' is asynchronous and may arrive in the middle of a reply.
 */
#ifndef ATLAS_OVPN_MGMT_H
#define ATLAS_OVPN_MGMT_H

#include <stddef.h>

#include "lib/err.h"

/* How long one status exchange on the management socket may take. */
#define OVPN_MGMT_TIMEOUT_MS 3000
/* A probe while the daemon starts: it answers at once or is not ready yet. */
#define OVPN_MGMT_PROBE_MS 1000
/* Cutting sessions: one kill command per session, then their answers. */
#define OVPN_MGMT_KILL_TIMEOUT_MS 5000

struct ovpn_session {
	char *cn;		/* owned */
	char *real;		/* "IP:PORT", owned */
	char *virt;		/* tunnel IPv4, owned; "" when none yet */
	long long rx, tx;	/* bytes received from / sent to the client */
	long long since;	/* connected since, unix seconds */
	unsigned long cid;	/* the client id for client-kill */
};

struct ovpn_status {
	struct ovpn_session *v;
	size_t n;
};

void ovpn_status_release(struct ovpn_status *st);

/*
 * Parses what the server sent so far in reply to `status 3` (the greeting
 * and asynchronous '>' lines are skipped wherever they are). Returns 1 when
 * the reply is complete (its END line was read; st filled), 0 when more is
 * needed, -1 on an ERROR: reply or a malformed CLIENT_LIST row. Pure.
 */
int ovpn_status_parse(const char *text, size_t len, struct ovpn_status *st,
		      struct atlas_err *err);

/*
 * Finds the reply to a one-line command (SUCCESS:/ERROR:) in text after
 * skipping the first `skip` replies. Returns 1 with *ok set when found, 0
 * when more is needed. Pure.
 */
int ovpn_reply_parse(const char *text, size_t len, size_t skip, int *ok);

/* Connects to sock, sends `status 3`, reads the clients. */
int ovpn_mgmt_status(const char *sock, int timeout_ms, struct ovpn_status *st,
		     struct atlas_err *err);

/*
 * Sends `client-kill CID` for each of cids over one connection. A client
 * that is gone already (ERROR reply) counts as killed. failed (may be NULL)
 * gets the number of ERROR replies.
 */
int ovpn_mgmt_kill(const char *sock, const unsigned long *cids, size_t n, int timeout_ms,
		   size_t *failed, struct atlas_err *err);

#endif
