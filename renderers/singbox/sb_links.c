/*
 * sb_links.c - share links, the subscription body and its URL.
 *
 * Formats: Xray-core's VLESS share-link standard (also used for trojan),
 * the v2rayN JSON for vmess, SIP002 for Shadowsocks (2022 methods: the
 * userinfo percent-encoded, not base64), the Hysteria 2 URI scheme and the
 * common tuic:// form. Every value is percent-encoded where it lands, so a
 * password cannot end the userinfo or add a parameter.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/base64.h"
#include "renderers/singbox/sb_json.h"
#include "renderers/singbox/sb_render.h"
#include "state/schema.h"

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static void pct(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

static void hostport(struct buf *out, const char *host, int port)
{
	if (strchr(host, ':'))
		buf_printf(out, "[%s]:%d", host, port);
	else
		buf_printf(out, "%s:%d", host, port);
}

/* "&key=value" with value percent-encoded. */
static void param(struct buf *out, const char *key, const char *value)
{
	buf_printf(out, "&%s=", key);
	pct(out, value);
}

static const char *net_name(const struct sb_inbound *in)
{
	return sb_transport_names[in->transport];
}

/* type=, host=, path= / serviceName= of the transport (Xray link keys). */
static void transport_params(struct buf *out, const struct atlas_state *st,
			     const struct sb_inbound *in)
{
	param(out, "type", net_name(in));
	if (in->transport == SB_TR_WS || in->transport == SB_TR_HTTPUPGRADE) {
		if (sb_sni(st, in))
			param(out, "host", sb_sni(st, in));
		param(out, "path", in->path ? in->path : "/");
	} else if (in->transport == SB_TR_GRPC) {
		param(out, "serviceName", in->path);
		param(out, "mode", "gun");
	}
}

/* security=, sni=, fp=, pbk=, sid=, alpn=, pcs= */
static void security_params(struct buf *out, const struct atlas_state *st,
			    const struct sb_inbound *in)
{
	int sec = sb_security(in);

	if (sec == SB_SEC_NONE) {
		param(out, "security", "none");
		return;
	}
	param(out, "security", sec == SB_SEC_REALITY ? "reality" : "tls");
	if (sb_sni(st, in))
		param(out, "sni", sb_sni(st, in));
	param(out, "fp", "chrome");
	if (sec == SB_SEC_REALITY) {
		param(out, "pbk", in->reality_public_key);
		param(out, "sid", in->reality_short_id);
		return;
	}
	if (in->certificate_sha256)
		param(out, "pcs", in->certificate_sha256);
}

/* The link without its "&" before the first parameter: "?a=1&b=2" */
static void query_start(struct buf *out, size_t mark)
{
	if (out->len > mark && out->data[mark] == '&')
		out->data[mark] = '?';
}

/*
 * "SCHEME://USER@HOST:PORT" (USER:SECRET when secret is given), each part
 * percent-encoded; returns where the query starts (query_start).
 */
static size_t link_start(struct buf *out, const char *scheme, const char *user,
			 const char *secret, const struct atlas_state *st, const struct sb_inbound *in)
{
	buf_printf(out, "%s://", scheme);
	pct(out, user);
	if (secret) {
		buf_putc(out, ':');
		pct(out, secret);
	}
	buf_putc(out, '@');
	hostport(out, st->settings.host, in->port);
	return out->len;
}

/* sni= and alpn=h3 of the QUIC types (hysteria2, tuic). */
static void quic_params(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in)
{
	if (sb_sni(st, in))
		param(out, "sni", sb_sni(st, in));
	param(out, "alpn", "h3");
}

static void link_vless(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		       const struct sb_user *u)
{
	size_t mark = link_start(out, "vless", u->uuid, NULL, st, in);

	param(out, "encryption", "none");
	if (sb_security(in) == SB_SEC_REALITY)
		param(out, "flow", "xtls-rprx-vision");
	security_params(out, st, in);
	transport_params(out, st, in);
	query_start(out, mark);
}

static void link_trojan(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
			const struct sb_user *u)
{
	size_t mark = link_start(out, "trojan", u->password, NULL, st, in);

	security_params(out, st, in);
	transport_params(out, st, in);
	query_start(out, mark);
}

/* v2rayN: vmess:// + base64 of {v ps add port id aid scy net type host path tls sni alpn fp}. */
static void link_vmess(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		       const struct sb_user *u)
{
	int tls = sb_security(in) == SB_SEC_TLS;
	const char *sni = tls && sb_sni(st, in) ? sb_sni(st, in) : "";
	char port[16];
	json_t *j;
	char *text;

	snprintf(port, sizeof(port), "%d", in->port);
	j = json_object();
	json_object_set_new(j, "v", json_string("2"));
	json_object_set_new(j, "ps", json_string(in->name));
	json_object_set_new(j, "add", json_string(st->settings.host));
	json_object_set_new(j, "port", json_string(port));
	json_object_set_new(j, "id", sb_json_str(u->uuid));
	json_object_set_new(j, "aid", json_string("0"));
	json_object_set_new(j, "scy", json_string("auto"));
	json_object_set_new(j, "net", json_string(net_name(in)));
	json_object_set_new(j, "type", json_string(in->transport == SB_TR_GRPC ? "gun" : "none"));
	json_object_set_new(j, "host",
			    json_string(in->transport == SB_TR_WS ||
						in->transport == SB_TR_HTTPUPGRADE
					    ? (sb_sni(st, in) ? sb_sni(st, in) : "")
					    : ""));
	json_object_set_new(j, "path",
			    json_string(in->transport == SB_TR_TCP ? ""
					: in->path		       ? in->path
								       : "/"));
	json_object_set_new(j, "tls", json_string(tls ? "tls" : ""));
	json_object_set_new(j, "sni", json_string(sni));
	json_object_set_new(j, "alpn", json_string(""));
	json_object_set_new(j, "fp", json_string(tls ? "chrome" : ""));
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	buf_puts(out, "vmess://");
	base64_encode(out, text, strlen(text));
	OPENSSL_cleanse(text, strlen(text));
	free(text);
}

static void link_ss(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		    const struct sb_user *u)
{
	struct buf ui = BUF_INIT;

	buf_printf(&ui, "%s:%s:%s", sb_method_names[in->method], in->server_key ? in->server_key : "",
		   u->password ? u->password : "");
	link_start(out, "ss", ui.data, NULL, st, in);
	buf_release_secure(&ui);
}

static void link_hy2(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		     const struct sb_user *u)
{
	size_t mark;

	link_start(out, "hysteria2", u->password, NULL, st, in);
	buf_putc(out, '/');
	mark = out->len;
	quic_params(out, st, in);
	if (in->certificate_sha256)
		param(out, "pinSHA256", in->certificate_sha256);
	query_start(out, mark);
}

static void link_tuic(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		      const struct sb_user *u)
{
	size_t mark = link_start(out, "tuic", u->uuid, u->password, st, in);

	quic_params(out, st, in);
	param(out, "congestion_control", "bbr");
	param(out, "udp_relay_mode", "native");
	query_start(out, mark);
}

typedef void link_fn(struct buf *out, const struct atlas_state *st, const struct sb_inbound *in,
		     const struct sb_user *u);

/* The link of each type (enum sb_type), all six. */
static link_fn *const link_of[SB_TUIC + 1] = {
	[SB_VLESS] = link_vless,    [SB_VMESS] = link_vmess,	 [SB_TROJAN] = link_trojan,
	[SB_SHADOWSOCKS] = link_ss, [SB_HYSTERIA2] = link_hy2, [SB_TUIC] = link_tuic,
};

int render_sb_link(const struct atlas_state *st, const struct sb_inbound *in,
		   const struct sb_user *u, struct buf *out, struct atlas_err *err)
{
	if (!st->settings.host || !*st->settings.host)
		return err_set(err, ERR_INVALID, "settings.host is not set: links need it");
	link_of[in->type](out, st, in, u);
	if (in->type == SB_VMESS)
		return 0; /* the name is inside (ps) */
	buf_putc(out, '#');
	pct(out, in->name);
	return 0;
}

int render_sb_links(const struct atlas_state *st, const char *user, struct buf *out,
		    struct atlas_err *err)
{
	const struct sb_section *sb = &st->singbox;
	const struct sb_inbound **order;
	size_t n = 0, found = 0;
	int ret = -1;

	order = xcalloc(sb->ninbounds + 1, sizeof(*order));
	for (size_t i = 0; st->has_singbox && i < sb->ninbounds; i++)
		order[n++] = &sb->inbounds[i];
	/* inbound name order, whatever order the state is in */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(order[j - 1]->name, order[j]->name) > 0; j--) {
			const struct sb_inbound *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		const struct sb_user *u = state_sb_user(order[i], user);

		if (!u)
			continue;
		if (render_sb_link(st, order[i], u, out, err) < 0)
			goto out;
		buf_putc(out, '\n');
		found++;
	}
	if (!found) {
		err_set(err, ERR_NOTFOUND, "no singbox inbound has a user \"%s\"", user);
		goto out;
	}
	ret = 0;
out:
	free(order);
	return ret;
}

int render_sb_subscription(const struct atlas_state *st, const char *user, struct buf *out,
			   struct atlas_err *err)
{
	struct buf links = BUF_INIT;
	int ret = render_sb_links(st, user, &links, err);

	if (ret == 0) {
		/* joined by newlines: no newline after the last one */
		if (links.len && links.data[links.len - 1] == '\n')
			links.data[--links.len] = '\0';
		base64_encode(out, links.data, links.len);
	}
	buf_release_secure(&links);
	return ret;
}

int render_sb_sub_url(const struct settings *set, const char *token, struct buf *out,
		      struct atlas_err *err)
{
	if (set->panel_url) {
		size_t n = strlen(set->panel_url);

		while (n && set->panel_url[n - 1] == '/')
			n--;
		buf_add(out, set->panel_url, n);
	} else if (set->host && *set->host) {
		buf_puts(out, "https://");
		buf_puts(out, strchr(set->host, ':') ? "[" : "");
		buf_puts(out, set->host);
		buf_puts(out, strchr(set->host, ':') ? "]" : "");
	} else {
		return err_set(err, ERR_INVALID,
			       "neither settings.panel_url nor settings.host is set: a subscription "
			       "URL needs one");
	}
	buf_puts(out, "/sub/");
	pct(out, token);
	return 0;
}
