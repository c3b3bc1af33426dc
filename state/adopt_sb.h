/*
 * adopt_sb.h - reading a hand-written sing-box config.json for
 * `atlas adopt singbox`: its inbounds of the six types Atlas runs (VLESS,
 * VMess, Trojan, Shadowsocks 2022, Hysteria2, TUIC) and their users, with
 * their UUIDs, passwords, REALITY private key and short id, and certificate
 * paths. Pure: text in, inbounds and messages out.
 */
#ifndef ATLAS_ADOPT_SB_H
#define ATLAS_ADOPT_SB_H

#include <stddef.h>

#include "state/diag.h"
#include "state/model.h"

/*
 * Parses config.json and appends its inbounds to sb (which owns them from
 * then on, also on failure). Malformed JSON (a truncated file, a duplicate
 * key) and anything that would stop an existing client from connecting
 * under Atlas's config (an unknown key, a legacy Shadowsocks method, a
 * REALITY user without the vision flow, an inline certificate, ...) go to
 * errs with line:col; parts Atlas does not manage (outbounds, route, dns,
 * other inbound types, options it renders its own way) to notes. -1 when
 * errs got anything.
 */
int adopt_sb_parse(const char *text, size_t len, struct sb_section *sb, struct diags *errs,
		   struct diags *notes);

#endif
