/*
 * cmd_adopt_ovpn.c - `atlas adopt openvpn DIR`: a server laid out by one of
 * the openvpn-install scripts (DIR/server.conf + DIR/easy-rsa/pki, or
 * DIR/server/server.conf + DIR/server/easy-rsa/pki) or by hand.
 *
 * The PKI goes through pki_import_easyrsa() (same CA, same certificates,
 * the revoked ones in the index and the CRL, the tls-crypt key of
 * server.conf), then the state through state_commit(); a failed commit puts
 * the imported PKI aside, so nothing is half adopted. The server then needs
 * one restart under Atlas's own config; the plan says so and adopt applies
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/openvpn/ovpn.h"
#include "controller/openvpn/pki.h"
#include "lib/fileio.h"
#include "lib/ipaddr.h"
#include "lib/spawn.h"
#include "state/adopt_ovpn.h"
#include "state/validate.h"
#include "cli/cli.h"
#include "cli/cmd_adopt.h"
#include "state/schema.h"

static char *first_existing(const char *dir, const char *const *rel)
{
	for (int i = 0; rel[i]; i++) {
		char *p = xasprintf("%s/%s", dir, rel[i]);

		if (file_exists(p))
			return p;
		free(p);
	}
	return NULL;
}

/* path resolved against base (openvpn's working directory: the conf's folder). */
static char *resolve(const char *base, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", base, path);
}

static void rm_rf(const char *dir)
{
	const char *argv[] = { "rm", "-rf", "--", dir, NULL };
	struct spawn_result r;

	if (spawn_run(argv, NULL, &r, NULL) == 0)
		spawn_result_release(&r);
}

/* 1 when ip lies in the static range of Atlas's address plan of network. */
static int in_static_range(const char *network, const char *ip)
{
	struct ovpn_plan pl;
	struct ipaddr a;

	if (ovpn_address_plan(network, &pl) < 0 || ip_parse_addr(ip, &a) < 0)
		return 0;
	/* Compare as 32-bit numbers. */
	{
		unsigned long v = (unsigned long)a.a[0] << 24 | a.a[1] << 16 | a.a[2] << 8 | a.a[3];
		unsigned long f = (unsigned long)pl.static_first.a[0] << 24 |
				  pl.static_first.a[1] << 16 | pl.static_first.a[2] << 8 |
				  pl.static_first.a[3];
		unsigned long l = (unsigned long)pl.static_last.a[0] << 24 |
				  pl.static_last.a[1] << 16 | pl.static_last.a[2] << 8 |
				  pl.static_last.a[3];

		return a.family == pl.net.family && v >= f && v <= l;
	}
}

int adopt_openvpn_cmd(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas adopt openvpn DIR [--dry-run]\n\n"
		"Takes over the OpenVPN server of DIR (/etc/openvpn as openvpn-install leaves it):\n"
		"the easy-rsa PKI, server.conf, ipp.txt and CCD static addresses. Client .ovpn\n"
		"files keep working (same CA, tls-crypt key, port and proto); the server needs\n"
		"one restart under Atlas's config, which the plan announces.\n";
	static const char *const confs[] = { "server.conf", "server/server.conf", NULL };
	static const char *const pkis[] = { "easy-rsa/pki", "server/easy-rsa/pki", "pki", NULL };
	const char *dir = NULL;
	struct adopt_ovpn o = { 0 };
	struct atlas_err err = { 0 };
	struct strv names = STRV_INIT, ippn = STRV_INIT, ippa = STRV_INIT;
	struct adopt_run r = ADOPT_RUN_INIT;
	struct ovpn_files f;
	char *conf = NULL, *pki = NULL, *base = NULL, *tc = NULL, *tmp = NULL, *target = NULL;
	char summary[160];
	int dry = 0, ret = 1, parsed = 0, imported = 0;

	ret = adopt_args(argc, argv, usage, "openvpn", &dir, &dry);
	if (ret)
		return ret < 0;
	ret = 1;
	ovpn_files_init(&f, cli_datadir, "", getenv("ATLAS_OVPN_UNIT"));
	conf = first_existing(dir, confs);
	pki = first_existing(dir, pkis);
	if (!conf || !pki) {
		fprintf(stderr, "atlas adopt openvpn: %s has no %s: not an openvpn-install or easy-rsa "
				"layout (server.conf and easy-rsa/pki, or server/server.conf and "
				"server/easy-rsa/pki)\n",
			dir, !conf ? "server.conf" : "easy-rsa pki");
		goto out;
	}
	base = xstrndup(conf, (size_t)(strrchr(conf, '/') - conf));
	if (file_read(conf, 1u << 20, &r.text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (adopt_ovpn_parse(r.text.data ? r.text.data : "", r.text.len, &o, &r.errs,
			     &r.notes) < 0) {
		cli_print_diags(&r.errs, conf);
		goto out;
	}
	parsed = 1;
	if (o.tls_crypt)
		tc = resolve(base, o.tls_crypt);
	if (o.ipp) {
		char *p = resolve(base, o.ipp);
		struct buf t = BUF_INIT;

		if (file_read(p, 4u << 20, &t, &err) == 0 &&
		    adopt_ovpn_ipp(t.data ? t.data : "", t.len, &ippn, &ippa, &r.errs) < 0) {
			cli_print_diags(&r.errs, p);
			buf_release(&t);
			free(p);
			goto out;
		}
		buf_release(&t);
		free(p);
	}
	if (adopt_load(dry, &r.s, &r.old) < 0)
		goto out;
	if (r.old->has_openvpn) {
		fprintf(stderr, "atlas adopt openvpn: openvpn is already in the desired state\n");
		goto out;
	}
	/* The PKI: into DATADIR/pki, or for a dry run into a throwaway folder. */
	if (dry) {
		char templ[] = "/tmp/atlas-adopt-XXXXXX";

		if (!mkdtemp(templ)) {
			fprintf(stderr, "atlas: cannot create a temporary folder\n");
			goto out;
		}
		tmp = xstrdup(templ);
		target = xasprintf("%s/pki", tmp);
	} else {
		target = xstrdup(f.pki);
	}
	if (pki_import_easyrsa(pki, target, tc, &names, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	imported = !dry;
	r.next = state_dup(r.old);
	r.next->has_openvpn = 1;
	r.next->openvpn.enabled = 1;
	r.next->openvpn.port = o.port;
	r.next->openvpn.proto = o.proto;
	r.next->openvpn.network = xstrdup(o.network);
	strv_copy(&r.next->openvpn.dns, &o.dns);
	if (!o.redirect_gateway)
		strv_copy(&r.next->openvpn.routes, &o.routes);
	if (!o.redirect_gateway && !o.routes.n)
		diags_add_at(&r.notes, 0, 0, NULL,
			     "the server pushes neither redirect-gateway nor routes: Atlas pushes "
			     "redirect-gateway when there are no routes");
	r.next->openvpn.clients = xcalloc(names.n + 1, sizeof(*r.next->openvpn.clients));
	for (size_t i = 0; i < names.n; i++) {
		struct ovpn_client *c = &r.next->openvpn.clients[r.next->openvpn.nclients++];
		char *ip = NULL;

		schema_init(&schema_ovpn_client, c); /* the defaults, as an imported file gets */
		c->name = xstrdup(names.v[i]);
		c->note = xstrdup("adopted");
		for (size_t k = 0; k < ippn.n; k++)
			if (!strcmp(ippn.v[k], names.v[i]))
				ip = xstrdup(ippa.v[k]);
		if (o.ccd) {
			char *cdir = resolve(base, o.ccd), *p = xasprintf("%s/%s", cdir, names.v[i]);
			struct buf t = BUF_INIT;

			if (file_read(p, 1u << 16, &t, NULL) == 0) {
				char *cip = adopt_ovpn_ccd_ip(t.data ? t.data : "", t.len);

				if (cip) {
					free(ip);
					ip = cip;
				}
			}
			buf_release(&t);
			free(p);
			free(cdir);
		}
		if (ip && !in_static_range(o.network, ip)) {
			diags_add_at(&r.notes, 0, 0, NULL,
				     "client \"%s\": address %s is not kept: Atlas keeps fixed addresses "
				     "in the lower half of %s (the upper half is the dynamic pool)",
				     c->name, ip, o.network);
			free(ip);
			ip = NULL;
		}
		c->static_ip = ip;
	}
	if (!r.next->settings.host)
		diags_add_at(&r.notes, 0, 0, NULL,
			     "settings.host is not set: new client profiles need it for `remote`");
	snprintf(summary, sizeof(summary), "adopt openvpn %.100s (%zu clients)", dir, names.n);
	adopt_print_notes(&r.notes, conf);
	ret = adopt_finish(r.s, r.next, r.old, summary, dry, "openvpn");
	if (ret != 0 && imported) {
		char *moved = xasprintf("%s.failed-adopt.%ld", f.pki, (long)time(NULL));

		if (rename(f.pki, moved) == 0)
			fprintf(stderr, "atlas: the imported PKI was moved aside to \"%s\"\n", moved);
		free(moved);
	}
out:
	if (tmp)
		rm_rf(tmp);
	if (parsed)
		adopt_ovpn_release(&o);
	strv_clear(&names);
	strv_clear(&ippn);
	strv_clear(&ippa);
	adopt_run_release(&r);
	ovpn_files_release(&f);
	free(conf);
	free(pki);
	free(base);
	free(tc);
	free(tmp);
	free(target);
	return ret;
}
