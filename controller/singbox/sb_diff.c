/*
 * sb_diff.c - the pure diff of the sing-box engine, actions in apply order:
 *
 *   the section gone            stop sing-box and remove Atlas's files
 *   disabled                    stop
 *   config.json                 start (not running), or reload when the
 *                               rendered file differs from the one on disk:
 *                               a reload drops every open connection of
 *                               every user, and the line says how many
 *   Shadowsocks users           added, rekeyed, removed live through the
 *                               SSM API (no reload); synced as a whole when
 *                               sing-box could not be asked
 *   connections to close        of users removed, disabled or expired, when
 *                               no reload cuts them anyway
 *
 * An incomplete observation plans no removal and no close. Nothing here
 * reads files, clocks or the environment: "today" is ctx->now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "renderers/singbox/sb_render.h"
#include "state/active.h"
#include "controller/singbox/sb.h"

static void act_free(void *p)
{
	struct sb_act *a = p;

	if (!a)
		return;
	free(a->inbound);
	free(a->user);
	if (a->key) {
		memset(a->key, 0, strlen(a->key));
		free(a->key);
	}
	free(a->conn);
	if (a->text) {
		memset(a->text, 0, strlen(a->text));
		free(a->text);
	}
	free(a);
}

static struct sb_act *act_new(enum sb_op op, const char *inbound, const char *user)
{
	struct sb_act *a = xcalloc(1, sizeof(*a));

	a->op = op;
	a->inbound = inbound ? xstrdup(inbound) : NULL;
	a->user = user ? xstrdup(user) : NULL;
	return a;
}

#define ADD(plan, kind, res, act, ...) plan_add(plan, "singbox", kind, res, act, act_free, __VA_ARGS__)

/* Why user u may not connect today, or NULL when it may. */
static const char *inactive(const struct sb_user *u, const char *today)
{
	if (u->disabled)
		return "disabled";
	if (u->suspended)
		return u->suspended;
	if (!sb_user_active(u, today))
		return "expired";
	return NULL;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SSM users through pointers, by name (struct sb_ssm_user starts with it). */
static int ssm_ptr_cmp(const void *a, const void *b)
{
	const struct sb_ssm_user *x = *(const struct sb_ssm_user *const *)a;
	const struct sb_ssm_user *y = *(const struct sb_ssm_user *const *)b;

	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static const struct sb_inbound *find_inbound(const struct sb_section *sb, const char *name)
{
	for (size_t i = 0; i < sb->ninbounds; i++)
		if (!strcmp(sb->inbounds[i].name, name))
			return &sb->inbounds[i];
	return NULL;
}

/* The open connections a reload or stop drops (their count). */
static int drops_of(const struct sb_obs *o)
{
	return o->adopted_render ? (int)(o->tcp_conns > 0 ? o->tcp_conns : 0) : (int)o->conns.n;
}

/* "N connections of M users" of the open connections (M: distinct user names). */
static void drops_text(const struct sb_obs *o, char *out, size_t len)
{
	size_t users = 0;

	if (o->adopted_render && o->tcp_conns >= 0) {
		snprintf(out, len,
			 "drops %ld TCP connection%s (counted from the kernel's sockets: the adopted "
			 "config has no api service)",
			 o->tcp_conns, o->tcp_conns == 1 ? "" : "s");
		return;
	}
	if (!o->conns_known) {
		snprintf(out, len, "drops every open connection (their number could not be read)");
		return;
	}
	if (o->conns.n) {
		/* distinct names: sorted, then counted (thousands of connections) */
		const char **names = xcalloc(o->conns.n, sizeof(*names));
		size_t n = 0;

		for (size_t i = 0; i < o->conns.n; i++)
			if (o->conns.v[i].user[0])
				names[n++] = o->conns.v[i].user;
		qsort(names, n, sizeof(*names), str_ptr_cmp);
		for (size_t i = 0; i < n; i++)
			users += !i || strcmp(names[i - 1], names[i]);
		free(names);
	}
	snprintf(out, len, "drops %zu connection%s of %zu user%s", o->conns.n,
		 o->conns.n == 1 ? "" : "s", users, users == 1 ? "" : "s");
}

static const struct sb_ssm_obs *find_ssm(const struct sb_obs *o, const char *inbound)
{
	for (size_t i = 0; i < o->nssm; i++)
		if (!strcmp(o->ssm[i].inbound, inbound))
			return &o->ssm[i];
	return NULL;
}

static void diff_ssm(const struct sb_inbound *in, const struct sb_obs *o, int restarting,
		     const char *today, struct plan *plan)
{
	const struct sb_ssm_obs *so = find_ssm(o, in->name);
	int key_bytes = sb_method_key_len(in->method);
	const struct sb_ssm_user **by_name;
	char res[256];

	snprintf(res, sizeof(res), "%s/users", in->name);
	(void)restarting; /* the ssm cache keeps the users across a reload */
	if (!so || !so->known) {
		size_t n = 0;

		for (size_t i = 0; i < in->nusers; i++)
			n += !inactive(&in->users[i], today);
		ADD(plan, ACT_UPDATE, res, act_new(SB_OP_SSM_SYNC, in->name, NULL),
		    "~ singbox/%s users: set %zu user%s through the ssm api (live)", in->name, n,
		    n == 1 ? "" : "s");
		return;
	}
	/* the observed users by name: one bisection for each desired user */
	by_name = xcalloc(so->users.n ? so->users.n : 1, sizeof(*by_name));
	for (size_t k = 0; k < so->users.n; k++)
		by_name[k] = &so->users.v[k];
	qsort(by_name, so->users.n, sizeof(*by_name), ssm_ptr_cmp);
	for (size_t i = 0; i < in->nusers; i++) {
		const struct sb_user *u = &in->users[i];
		const struct sb_ssm_user key = { .name = u->name }, *kp = &key, *const *hit;
		const struct sb_ssm_user *have;
		struct sb_act *a;

		if (inactive(u, today))
			continue;
		hit = bsearch(&kp, by_name, so->users.n, sizeof(*by_name), ssm_ptr_cmp);
		have = hit ? *hit : NULL;
		if (have && have->key && u->password && !strcmp(have->key, u->password))
			continue;
		a = act_new(have ? SB_OP_SSM_UPDATE : SB_OP_SSM_ADD, in->name, u->name);
		a->key = xstrdup(u->password ? u->password : "");
		a->key_bytes = key_bytes;
		snprintf(res, sizeof(res), "%s/%s", in->name, u->name);
		ADD(plan, have ? ACT_UPDATE : ACT_CREATE, res, a,
		    have ? "~ singbox/%s user %s: new key (live, no reload)"
			 : "+ singbox/%s user %s (live, no reload)",
		    in->name, u->name);
	}
	free(by_name);
	for (size_t k = 0; !o->incomplete && k < so->users.n; k++) {
		const struct sb_user *u = state_sb_user(in, so->users.v[k].name);
		const char *why = u ? inactive(u, today) : "not in the desired state";

		if (!why)
			continue;
		snprintf(res, sizeof(res), "%s/%s", in->name, so->users.v[k].name);
		ADD(plan, ACT_DELETE, res, act_new(SB_OP_SSM_DELETE, in->name, so->users.v[k].name),
		    "- singbox/%s user %s (%s; live, no reload)", in->name, so->users.v[k].name, why);
	}
}

static void diff_closes(const struct sb_section *sb, const struct sb_obs *o, const char *today,
			struct plan *plan)
{
	for (size_t i = 0; i < o->conns.n; i++) {
		const struct sb_conn *c = &o->conns.v[i];
		const struct sb_inbound *in;
		const struct sb_user *u;
		const char *why;
		struct sb_act *a;
		char res[256];

		if (!c->user[0] || !(in = find_inbound(sb, c->inbound)))
			continue;
		u = state_sb_user(in, c->user);
		why = u ? inactive(u, today) : "removed";
		if (!why)
			continue;
		a = act_new(SB_OP_CLOSE, in->name, c->user);
		a->conn = xstrdup(c->id);
		snprintf(res, sizeof(res), "%s/%s/%s", in->name, c->user, c->id);
		ADD(plan, ACT_KILL, res, a, "x singbox/%s/%s connection %s to %s (%s)", in->name,
		    c->user, c->id, c->destination, why)->drops = 1;
	}
}

/*
 * "; cuts vl1 (quota 2 MiB used (2.5 MiB since 1 Dec))" for each suspended
 * user of a reloaded inbound whose credentials the running config still has:
 * the reload is what cuts them, and the plan says so.
 */
static void suspended_cut(const struct sb_section *sb, const char *conf, struct buf *out)
{
	for (size_t i = 0; conf && i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];

		if (in->type == SB_SHADOWSOCKS)
			continue; /* cut live through the ssm api */
		for (size_t k = 0; k < in->nusers; k++) {
			const struct sb_user *u = &in->users[k];
			const char *cred = u->uuid ? u->uuid : u->password;

			if (u->suspended && !u->disabled && cred && *cred && strstr(conf, cred))
				buf_printf(out, "; cuts %s/%s (%s)", in->name, u->name, u->suspended);
		}
	}
}

int sb_diff(const struct driver_ctx *ctx, const struct atlas_state *desired, const void *obs,
	    struct plan *plan, struct atlas_err *err)
{
	const struct sb_obs *o = obs;
	const struct sb_section *sb = &desired->singbox;
	struct buf want = BUF_INIT;
	char today[MOMENT_LEN], drops[128];
	int restarting = 0, ret = -1;
	struct action *a;

	moment_text((long long)ctx->now, today, sizeof(today));
	drops_text(o, drops, sizeof(drops));
	if (!desired->has_singbox) {
		if (o->running || o->files_left) {
			a = ADD(plan, ACT_DELETE, "singbox", act_new(SB_OP_REMOVE, NULL, NULL),
				"- singbox: section removed: stop sing-box (%s), remove its files",
				drops);
			a->drops = drops_of(o);
		}
		return 0;
	}
	if (o->incomplete)
		plan_engine(plan, "singbox", ENGINE_INCOMPLETE, o->note);
	/* Disabled, or nothing to serve: no daemon. */
	if (!sb->enabled || !sb->ninbounds) {
		if (o->running) {
			a = ADD(plan, ACT_STOP, "singbox", act_new(SB_OP_STOP, NULL, NULL),
				"- singbox stop (%s): %s", sb->enabled ? "no inbounds" : "disabled",
				drops);
			a->drops = drops_of(o);
		}
		return 0;
	}
	if (sb_render_conf(ctx, desired, &want, err) < 0)
		goto out;
	if (!o->running) {
		struct sb_act *s = act_new(SB_OP_START, NULL, NULL);

		s->text = buf_detach(&want);
		ADD(plan, ACT_START, "singbox", s, "+ singbox start%s",
		    !o->conf ? "" : strcmp(o->conf, s->text) ? " (config.json changed)" : "");
		restarting = 1;
	} else if (o->adopted_render && !strcmp(o->adopted_render, buf_str(&want))) {
		/* the adopted process serves exactly the desired state: leave it alone */
		plan_engine(plan, "singbox", o->incomplete ? ENGINE_INCOMPLETE : ENGINE_OK,
			    "adopted: sing-box runs its own config as adopted; Atlas's config.json "
			    "(api and ssm services) comes with the first change that needs a reload");
		ret = 0;
		goto out;
	} else if (!o->conf || strcmp(o->conf, buf_str(&want))) {
		struct sb_act *s = act_new(SB_OP_RELOAD, NULL, NULL);

		s->text = buf_detach(&want);
		struct buf cut = BUF_INIT;

		suspended_cut(sb, o->conf, &cut);
		a = ADD(plan, ACT_RESTART, "singbox/config.json", s, "~ singbox reload: %s%s%s", drops,
			buf_str(&cut),
			o->adopted_render ? "; Atlas's config.json replaces the adopted one" : "");
		buf_release(&cut);
		a->drops = drops_of(o);
		restarting = 1;
	}
	for (size_t i = 0; i < sb->ninbounds; i++)
		if (sb->inbounds[i].type == SB_SHADOWSOCKS)
			diff_ssm(&sb->inbounds[i], o, restarting, today, plan);
	if (!restarting && !o->incomplete && o->conns_known && !o->adopted_render)
		diff_closes(sb, o, today, plan);
	ret = 0;
out:
	buf_release_secure(&want);
	return ret;
}

int sb_render_conf(const struct driver_ctx *ctx, const struct atlas_state *st, struct buf *out,
		   struct atlas_err *err)
{
	char today[MOMENT_LEN], cache[4096];
	struct sb_render_opts o = { 0 };

	moment_text((long long)ctx->now, today, sizeof(today));
	snprintf(cache, sizeof(cache), "%s/singbox/ssm-cache.json", ctx->datadir);
	o.today = today;
	o.ssm_cache_path = cache;
	/* v2ray_api is never relied on: per-user traffic comes from the api service */
	o.v2ray_api = 0;
	return render_sb_server(st, &o, out, err);
}
