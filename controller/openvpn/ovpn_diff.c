/*
 * ovpn_diff.c - the pure diff of the OpenVPN engine: desired state and
 * observation in, actions out, in apply order:
 *
 *   CA, tls-crypt key, server certificate  (a new PKI)
 *   certificates to issue                  (desired clients without one)
 *   certificates to revoke                 (valid in the index, not desired)
 *   the CRL                                (after a revocation, or missing,
 *                                           foreign, outdated, expiring)
 *   CCD files to write or remove
 *   server.conf: start, restart (only when it changed or the daemon must load
 *                a new CA / server / tls-crypt key; drops every session), or
 *                stop when openvpn is disabled
 *   sessions to kill                       (revoked, disabled or expired, or
 *                                           connected with an address their
 *                                           CCD no longer gives them)
 *   forwarding and the NAT table           (nat_plan(), as WireGuard; the
 *                                           table goes when openvpn is
 *                                           disabled or its section gone, if
 *                                           Atlas recorded loading it)
 *
 * An incomplete observation plans no revocation, removal or kill. Nothing
 * here reads files, clocks or the environment: "today" is ctx->now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "renderers/openvpn/ovpn_render.h"
#include "state/validate.h"
#include "controller/openvpn/ovpn.h"

static void act_free(void *p)
{
	struct ovpn_act *a = p;

	if (!a)
		return;
	free(a->name);
	free(a->text);
	free(a);
}

static struct ovpn_act *act_new(enum ovpn_op op, const char *name, char *text)
{
	struct ovpn_act *a = xcalloc(1, sizeof(*a));

	a->op = op;
	a->name = name ? xstrdup(name) : NULL;
	a->text = text;
	return a;
}

#define ADD(plan, kind, res, act, ...) \
	plan_add(plan, "openvpn", kind, res, act, act_free, __VA_ARGS__)

struct ovpn_server_paths ovpn_server_paths_of(const struct ovpn_files *f)
{
	struct ovpn_server_paths p = { f->pki, f->ccd, f->status, f->mgmt };

	return p;
}

static int cmp_client(const void *a, const void *b)
{
	return strcmp((*(const struct ovpn_client *const *)a)->name,
		      (*(const struct ovpn_client *const *)b)->name);
}

/* The desired clients sorted by name (borrowed pointers; free the array). */
static const struct ovpn_client **sorted_clients(const struct ovpn_section *ov)
{
	const struct ovpn_client **v = xcalloc(ov->nclients + 1, sizeof(*v));

	for (size_t i = 0; i < ov->nclients; i++)
		v[i] = &ov->clients[i];
	if (ov->nclients > 1)
		qsort(v, ov->nclients, sizeof(*v), cmp_client);
	return v;
}

static const struct ovpn_client *find_client(const struct ovpn_client **v, size_t n,
					     const char *name)
{
	struct ovpn_client key = { .name = (char *)name };
	const struct ovpn_client *kp = &key, *const *hit;

	hit = n ? bsearch(&kp, v, n, sizeof(*v), cmp_client) : NULL;
	return hit ? *hit : NULL;
}

static const struct ovpn_ccd_file *find_ccd(const struct ovpn_obs *o, const char *name)
{
	size_t lo = 0, hi = o->nccd;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(o->ccd[mid].name, name);

		if (!c)
			return &o->ccd[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * 1 when the server.conf on disk differs from want only in the cert and key
 * lines of the old layout (issued/CN.crt, private/CN.key) that the
 * migration to pki/server/ changes.
 */
static int legacy_paths_only(const struct ovpn_obs *o, const struct ovpn_files *f,
			     const char *want)
{
	char *now_lines, *old_lines;
	const char *at;
	struct buf old = BUF_INIT;
	int ret = 0;

	if (!o->server_legacy || !o->server_conf)
		return 0;
	now_lines = xasprintf("cert %s/server/server.crt\nkey %s/server/server.key\n", f->pki,
			      f->pki);
	old_lines = xasprintf("cert %s/issued/%s.crt\nkey %s/private/%s.key\n", f->pki,
			      o->server_cn, f->pki, o->server_cn);
	at = strstr(want, now_lines);
	if (at) {
		buf_add(&old, want, (size_t)(at - want));
		buf_puts(&old, old_lines);
		buf_puts(&old, at + strlen(now_lines));
		ret = !strcmp(buf_str(&old), o->server_conf);
	}
	buf_release(&old);
	free(now_lines);
	free(old_lines);
	return ret;
}

static void diff_pki(const struct driver_ctx *ctx, const struct atlas_state *st,
		     const struct ovpn_obs *o, const struct ovpn_client **cl, struct plan *plan)
{
	const struct ovpn_section *ov = &st->openvpn;
	int revoked = 0, superseded;

	if (!o->has_ca)
		ADD(plan, ACT_CREATE, "openvpn/pki/ca", act_new(OVPN_OP_CA, NULL, NULL),
		    "+ openvpn CA (EC P-256, SHA-256)");
	if (!o->has_tls_crypt)
		ADD(plan, ACT_CREATE, "openvpn/pki/tls-crypt", act_new(OVPN_OP_TLS_CRYPT, NULL, NULL),
		    "+ openvpn tls-crypt key");
	if (o->server_legacy)
		ADD(plan, ACT_UPDATE, "openvpn/pki/server",
		    act_new(OVPN_OP_MIGRATE_SERVER, o->server_cn, NULL),
		    "~ openvpn server certificate \"%s\" moves to pki/server/ (away from the "
		    "client certificates)",
		    o->server_cn);
	if (!o->server_cert)
		revoked += o->has_ca && ovpn_sorted_has(&o->valid, o->server_cn);
	if (!o->server_cert)
		ADD(plan, ACT_ISSUE, "openvpn/pki/server",
		    act_new(OVPN_OP_ISSUE_SERVER, o->server_cn, NULL),
		    "+ openvpn certificate \"%s\" (server)", o->server_cn);
	for (size_t i = 0; i < ov->nclients; i++) {
		if (o->has_ca && ovpn_sorted_has(&o->certs, cl[i]->name))
			continue;
		/* a valid entry whose file is gone: the new certificate supersedes it */
		superseded = o->has_ca && ovpn_sorted_has(&o->valid, cl[i]->name);
		revoked += superseded;
		ADD(plan, ACT_ISSUE, cl[i]->name, act_new(OVPN_OP_ISSUE, cl[i]->name, NULL),
		    "+ openvpn certificate \"%s\"%s", cl[i]->name,
		    superseded ? " (its lost certificate is revoked)" : "");
	}
	for (size_t i = 0; !o->incomplete && o->has_ca && i < o->valid.n; i++) {
		const char *cn = o->valid.v[i];

		if (!strcmp(cn, o->server_cn) || find_client(cl, ov->nclients, cn))
			continue;
		ADD(plan, ACT_REVOKE, cn, act_new(OVPN_OP_REVOKE, cn, NULL),
		    "- openvpn certificate \"%s\": revoked (not in the desired state)", cn);
		revoked++;
	}
	{
		const char *why = NULL;

		if (!o->has_ca || !o->crl.present)
			why = "missing";
		else if (!o->crl.valid)
			why = "not signed by this CA or unreadable";
		else if (revoked)
			why = "revocations";
		else if (!o->crl.matches)
			why = "does not list the revoked certificates of the index";
		else if (o->crl.next_update - ctx->now < (time_t)PKI_CRL_RENEW_DAYS * 86400)
			why = "expires in less than 90 days";
		if (why)
			ADD(plan, ACT_WRITE, "openvpn/pki/crl", act_new(OVPN_OP_CRL, NULL, NULL),
			    "~ openvpn crl.pem (%s)", why);
	}
}

static void diff_ccd(const struct atlas_state *st, const struct ovpn_obs *o,
		     const struct ovpn_client **cl, const char *today, struct plan *plan)
{
	const struct ovpn_section *ov = &st->openvpn;

	for (size_t i = 0; i < ov->nclients; i++) {
		const struct ovpn_ccd_file *have = find_ccd(o, cl[i]->name);
		struct buf want = BUF_INIT;
		char res[128];

		render_ovpn_ccd(st, cl[i], today, &want);
		if (have && !strcmp(have->text, buf_str(&want))) {
			buf_release(&want);
			continue;
		}
		snprintf(res, sizeof(res), "ccd/%s", cl[i]->name);
		ADD(plan, ACT_WRITE, res, act_new(OVPN_OP_CCD_WRITE, cl[i]->name, buf_detach(&want)),
		    "~ openvpn ccd/%s (%s%s%s%s%s%s)", cl[i]->name, have ? "changed" : "missing",
		    cl[i]->static_ip ? ", static " : "", cl[i]->static_ip ? cl[i]->static_ip : "",
		    ovpn_client_active(cl[i], today) ? "" : ", disabled",
		    cl[i]->suspended && !cl[i]->disabled ? ": " : "",
		    cl[i]->disabled || !cl[i]->suspended ? "" : cl[i]->suspended);
	}
	for (size_t i = 0; !o->incomplete && i < o->nccd; i++) {
		char res[128];

		if (find_client(cl, ov->nclients, o->ccd[i].name))
			continue;
		snprintf(res, sizeof(res), "ccd/%s", o->ccd[i].name);
		ADD(plan, ACT_DELETE, res, act_new(OVPN_OP_CCD_REMOVE, o->ccd[i].name, NULL),
		    "- openvpn ccd/%s", o->ccd[i].name);
	}
}

/* Why a connected session must go, or NULL. */
static const char *kill_reason(const struct ovpn_section *ov, const struct ovpn_plan *ap,
			       const struct ovpn_session *s, const struct ovpn_client *c,
			       const char *today)
{
	struct ipaddr virt;
	int have_virt = s->virt[0] && ip_parse_addr(s->virt, &virt) == 0;

	(void)ov;
	if (!c)
		return "revoked";
	if (c->disabled)
		return "disabled";
	if (c->suspended)
		return c->suspended;
	if (!ovpn_client_active(c, today))
		return "expired";
	if (c->static_ip && strcmp(c->static_ip, s->virt))
		return "static address changed";
	if (!c->static_ip && ap && have_virt && virt.family == AF_INET &&
	    memcmp(virt.a, ap->static_first.a, 4) >= 0 && memcmp(virt.a, ap->static_last.a, 4) <= 0)
		return "static address removed";
	return NULL;
}

/*
 * 1 when the server has read c's current CCD file for session s already: the
 * file on disk is what it should be and is older than the session. A client
 * refused by `disable` stays listed for a few seconds before it is told
 * AUTH_FAILED; killing it then would turn the refusal into a reconnect.
 */
static int ccd_settled(const struct atlas_state *st, const struct ovpn_obs *o,
		       const struct ovpn_client *c, const struct ovpn_session *s, const char *today)
{
	const struct ovpn_ccd_file *have = find_ccd(o, c->name);
	struct buf want = BUF_INIT;
	int same;

	if (!have || s->since <= have->mtime)
		return 0;
	render_ovpn_ccd(st, c, today, &want);
	same = !strcmp(have->text, buf_str(&want));
	buf_release(&want);
	return same;
}

static void diff_sessions(const struct atlas_state *st, const struct ovpn_obs *o,
			  const struct ovpn_client **cl, const char *today, struct plan *plan)
{
	const struct ovpn_section *ov = &st->openvpn;
	struct ovpn_plan ap;
	int have_plan = ovpn_address_plan(ov->network, &ap) == 0;

	for (size_t i = 0; i < o->sessions.n; i++) {
		const struct ovpn_session *s = &o->sessions.v[i];
		const struct ovpn_client *c;
		const char *why;
		struct ovpn_act *a;
		struct action *pa;
		char res[128];

		if (!strcmp(s->cn, "UNDEF") || !s->cn[0])
			continue;
		c = find_client(cl, ov->nclients, s->cn);
		why = kill_reason(ov, have_plan ? &ap : NULL, s, c, today);
		/* a partial observation may miss the client: never cut on a guess */
		if (!why || (!c && o->incomplete))
			continue;
		if (c && ccd_settled(st, o, c, s, today))
			continue;
		a = act_new(OVPN_OP_KILL, s->cn, NULL);
		a->cid = s->cid;
		snprintf(res, sizeof(res), "session/%s/%lu", s->cn, s->cid);
		pa = ADD(plan, ACT_KILL, res, a, "x openvpn session \"%s\" (client id %lu, %s): %s",
			 s->cn, s->cid, s->real, why);
		pa->drops = 1;
	}
}

/* The data of a NAT action planned by nat_plan(). */
static void *nat_act(enum nat_kind kind, int family, char *script)
{
	struct ovpn_act *a = act_new(OVPN_OP_NAT, NULL, script);

	a->nat = kind;
	a->family = family;
	return a;
}

/*
 * Forwarding and table inet atlas_openvpn: the network masqueraded while
 * openvpn is enabled, the table removed otherwise. A table that cannot be
 * read makes the plan incomplete, with why.
 */
static void diff_nat(const struct atlas_state *st, const struct ovpn_obs *o, struct plan *plan)
{
	const struct ovpn_section *ov = &st->openvpn;
	struct ovpn_plan ap;
	char pfx[64];
	struct nat_net net = { pfx, 0, OVPN_DEV };
	struct nat_want w = { .engine = "openvpn",
			      .table = OVPN_NAT_TABLE,
			      .nets = &net,
			      .egress = st->settings.egress_interface,
			      .recorded_only = 1,
			      .act_new = nat_act,
			      .act_free = act_free };
	struct nat_sys sys = { o->forward4, o->forward6, o->egress4, o->egress6 };
	struct buf notes = BUF_INIT;

	if (st->has_openvpn && ov->enabled && ovpn_address_plan(ov->network, &ap) == 0) {
		ip_format(&ap.net, 1, pfx, sizeof(pfx));
		w.n = 1;
	}
	buf_puts(&notes, o->note);
	if (o->nat_error)
		buf_printf(&notes, "%snat: %s", notes.len ? "; " : "", o->nat_error);
	if (nat_plan(plan, &w, &sys, &o->nat, &notes))
		plan_engine(plan, "openvpn", ENGINE_INCOMPLETE, notes.data);
	buf_release(&notes);
}

/*
 * The section is gone: tear down what Atlas set up for it. The daemon stops
 * (its tun device goes with it), then the rendered files go, then the NAT
 * table. The PKI stays: it is the clients' identity.
 */
static void diff_gone(const struct atlas_state *st, const struct ovpn_obs *o,
		      struct plan *plan)
{
	plan_engine(plan, "openvpn", o->service_unknown ? ENGINE_INCOMPLETE : ENGINE_UNMANAGED,
		    o->service_unknown ? o->note : "removing what Atlas set up for it");
	if (o->service_unknown) {
		/* whether it runs cannot be told: stop nothing, remove nothing it reads */
		diff_nat(st, o, plan);
		return;
	}
	if (o->running) {
		struct action *a = ADD(plan, ACT_STOP, "openvpn/server",
				       act_new(OVPN_OP_STOP, NULL, NULL),
				       "- openvpn server: stop, its section is gone (drops %zu "
				       "connected client%s)",
				       o->sessions.n, o->sessions.n == 1 ? "" : "s");

		a->drops = (int)o->sessions.n;
	}
	if (o->files)
		ADD(plan, ACT_DELETE, "openvpn/files", act_new(OVPN_OP_FORGET, NULL, NULL),
		    "- openvpn server.conf, ccd/ and status.log (the PKI is kept)");
	diff_nat(st, o, plan);
}

int ovpn_diff(const struct driver_ctx *ctx, const struct atlas_state *desired,
	      const void *obs, struct plan *plan, struct atlas_err *err)
{
	const struct ovpn_obs *o = obs;
	const struct ovpn_section *ov = &desired->openvpn;
	const struct ovpn_client **cl = sorted_clients(ov);
	struct ovpn_files f;
	struct buf conf = BUF_INIT;
	char today[MOMENT_LEN];
	int ret = -1, restart = 0;

	ovpn_files_init(&f, ctx->datadir, ctx->rundir, NULL);
	moment_text((long long)ctx->now, today, sizeof(today));
	if (!desired->has_openvpn) {
		diff_gone(desired, o, plan);
		ret = 0;
		goto out;
	}
	if (find_client(cl, ov->nclients, o->server_cn)) {
		err_set(err, ERR_CONFLICT,
			"openvpn client \"%s\" has the name of the server certificate: rename it",
			o->server_cn);
		goto out;
	}
	if (strlen(f.mgmt) >= 108) { /* sizeof(sun_path) */
		err_set(err, ERR_INVALID,
			"openvpn: the management socket path \"%s\" is longer than a unix socket "
			"allows: use a shorter data directory",
			f.mgmt);
		goto out;
	}
	struct ovpn_server_paths sp = ovpn_server_paths_of(&f);

	if (render_ovpn_server(desired, &sp, &conf, err) < 0)
		goto out;
	plan_engine(plan, "openvpn", o->incomplete ? ENGINE_INCOMPLETE : ENGINE_OK,
		    o->note[0] ? o->note : NULL);
	diff_pki(ctx, desired, o, cl, plan);
	diff_ccd(desired, o, cl, today, plan);
	if (o->service_unknown) {
		/* cannot tell whether it runs: neither start, restart, stop nor kill */
	} else if (ov->enabled) {
		int same = o->server_conf && !strcmp(o->server_conf, buf_str(&conf));
		/* a running daemon holds the CA, server key and tls-crypt key in memory */
		const char *reload = !o->has_ca ? "a new CA"
				     : !o->has_tls_crypt ? "a new tls-crypt key"
				     : !o->server_cert ? "a new server certificate" : NULL;

		if (o->running && !same && !reload && legacy_paths_only(o, &f, buf_str(&conf))) {
			/* the daemon holds the moved key in memory already: no restart */
			ADD(plan, ACT_WRITE, "openvpn/server.conf",
			    act_new(OVPN_OP_CONF_WRITE, NULL, buf_detach(&conf)),
			    "~ openvpn server.conf (the server certificate's new place; "
			    "read at the next restart)");
		} else if (!o->running) {
			ADD(plan, ACT_START, "openvpn/server",
			    act_new(OVPN_OP_START, NULL, buf_detach(&conf)),
			    "+ openvpn server: start%s", same ? "" : " (server.conf written)");
		} else if (!same || reload) {
			struct action *a;

			a = ADD(plan, ACT_RESTART, "openvpn/server",
				act_new(OVPN_OP_RESTART, NULL, buf_detach(&conf)),
				"! openvpn server: restart, %s%s (drops %zu connected client%s)",
				reload ? reload : "server.conf ",
				reload ? "" : o->server_conf ? "changed" : "missing", o->sessions.n,
				o->sessions.n == 1 ? "" : "s");
			a->drops = (int)o->sessions.n;
			restart = 1;
		}
	} else {
		if (!o->server_conf || strcmp(o->server_conf, buf_str(&conf)))
			ADD(plan, ACT_WRITE, "openvpn/server.conf",
			    act_new(OVPN_OP_CONF_WRITE, NULL, buf_detach(&conf)),
			    "~ openvpn server.conf");
		if (o->running) {
			struct action *a = ADD(plan, ACT_STOP, "openvpn/server",
					       act_new(OVPN_OP_STOP, NULL, NULL),
					       "- openvpn server: stop (openvpn is disabled)");

			a->drops = (int)o->sessions.n;
		}
	}
	if (ov->enabled && o->running && !o->service_unknown && !restart && o->sessions_known)
		diff_sessions(desired, o, cl, today, plan);
	diff_nat(desired, o, plan);
	ret = 0;
out:
	buf_release(&conf);
	ovpn_files_release(&f);
	free(cl);
	return ret;
}
