/*
 * sb_json.h - helpers shared by the sing-box renderers (private to
 * renderers/singbox/).
 */
#ifndef ATLAS_SB_JSON_H
#define ATLAS_SB_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"
#include "state/model.h"

/* A JSON string of s, "" for NULL or text jansson refuses (new). Cannot fail. */
json_t *sb_json_str(const char *s);
/*
 * Sets a user's keys in o as server and client both write them: the uuid
 * (vless, vmess, tuic), the password (trojan, hysteria2, tuic) and the
 * vision flow of a vless REALITY user.
 */
void sb_json_user_keys(json_t *o, const struct sb_inbound *in, const struct sb_user *u);
/* Dumps j indented by 2 with a final newline, appended to out. Cannot fail. */
void sb_json_dump(const json_t *j, struct buf *out);
/* The transport object of an inbound (new), NULL for tcp. */
json_t *sb_json_transport(const struct sb_inbound *in);
/* "host:port" or "[v6]:port" into host and port (443 when none). */
void sb_hostport_split(const char *hp, char *host, size_t hostlen, int *port);
/* The name clients ask for: server_name, else settings.host (borrowed, may be NULL). */
const char *sb_sni(const struct atlas_state *st, const struct sb_inbound *in);

#endif
