/*
 * sb_render.h - sing-box artifacts, pure: the server config.json, the share
 * links of a user (one per inbound the user is in), the subscription body
 * and the sing-box client profile.
 *
 * Everything comes from the completed, validated state (keys, certificates
 * and pins were made by state_complete) and from the options below; nothing
 * here reads files, clocks, randomness or the environment, so the same input
 * gives the same bytes (golden tests under tests/unit/golden/singbox/).
 */
#ifndef ATLAS_SB_RENDER_H
#define ATLAS_SB_RENDER_H

#include "lib/buf.h"
#include "lib/err.h"
#include "state/model.h"

struct sb_render_opts {
	const char *today;		/* "YYYY-MM-DD" UTC: expired users are left out; NULL: none */
	const char *ssm_cache_path;	/* cache_path of the ssm-api service (Shadowsocks) */
	int v2ray_api;			/* 1: the binary has with_v2ray_api (stats per user) */
	const char *log_level;		/* NULL: "info" */
};

/*
 * The server config of st->singbox, appended to out as indented JSON with
 * a final newline:
 * - every inbound with at least one active user (Shadowsocks inbounds
 *   always), tagged with its name, `listen` always written ("::" default);
 * - users by their person's name; VLESS+REALITY users with flow
 *   xtls-rprx-vision; TUIC with alpn ["h3"];
 * - Shadowsocks inbounds `"managed": true` with their server key and no
 *   users, served by one ssm-api service on 127.0.0.1:ssm_port whose
 *   servers map "/NAME" to inbound NAME (users are added live: the SSM
 *   paths are /NAME/server/v1/...), with opts->ssm_cache_path;
 * - the `api` service on 127.0.0.1:api_port with api_secret;
 * - experimental.v2ray_api with stats for every active user only when
 *   opts->v2ray_api.
 * It holds private keys and passwords: write it 0600. Fails (ERR_INVALID)
 * when a Shadowsocks inbound exists without opts->ssm_cache_path.
 */
int render_sb_server(const struct atlas_state *st, const struct sb_render_opts *opts,
		     struct buf *out, struct atlas_err *err);

/*
 * The share link of user u of inbound in, appended to out (no newline):
 * vless:// (Xray-core's share-link standard), vmess:// (base64 of the
 * v2rayN JSON), trojan://, ss:// (SIP002, percent-encoded 2022 userinfo
 * METHOD:SERVERKEY:USERKEY), hysteria2://, tuic://. A self-signed
 * certificate's SHA-256 goes in pcs= (vless, trojan) or pinSHA256=
 * (hysteria2); no link tells a client to skip verification. The fragment
 * is the inbound's name. Fails (ERR_INVALID) without settings.host.
 */
int render_sb_link(const struct atlas_state *st, const struct sb_inbound *in,
		   const struct sb_user *u, struct buf *out, struct atlas_err *err);

/*
 * One link per inbound the user named user is in, in inbound name order,
 * each followed by a newline. Fails with ERR_NOTFOUND when no inbound has
 * that user, ERR_INVALID without settings.host.
 */
int render_sb_links(const struct atlas_state *st, const char *user, struct buf *out,
		    struct atlas_err *err);

/* The subscription body: base64 of the links joined by newlines. As render_sb_links. */
int render_sb_subscription(const struct atlas_state *st, const char *user, struct buf *out,
			   struct atlas_err *err);

/*
 * The sing-box client profile of user (JSON, indented, final newline): a
 * mixed inbound on 127.0.0.1:2080, one outbound per inbound the user is in,
 * tagged with the inbound's name, a selector "proxy" over them (the first
 * by default) and "direct"; route.final "proxy". A self-signed certificate
 * is carried inline (tls.certificate), REALITY outbounds use uTLS chrome.
 * Errors as render_sb_links.
 */
int render_sb_profile(const struct atlas_state *st, const char *user, struct buf *out,
		      struct atlas_err *err);

/*
 * The subscription URL of a token: settings.panel_url (else https://HOST)
 * + "/sub/" + token, appended to out. ERR_INVALID without either.
 */
int render_sb_sub_url(const struct settings *set, const char *token, struct buf *out,
		      struct atlas_err *err);

#endif
