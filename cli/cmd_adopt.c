/*
 * cmd_adopt.c - `atlas adopt ENGINE ...`: take over a setup that already
 * runs, so that the first plan is empty and the clients never notice.
 *
 * The parsers are pure (state/adopt_*.c); this file reads the files, asks
 * the live interface with wg show IF dump and ip -j addr show (spawn),
 * stores the result in one transaction as a generation with trigger
 * "adopt", and runs the takeover actions only: the record of the interface
 * in DATADIR/wireguard and Atlas's NAT table, neither of which touches a
 * session. Anything else the plan would do is printed and left to
 * `atlas apply`.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "controller/controller.h"
#include "controller/wireguard/wg.h"
#include "lib/fileio.h"
#include "lib/spawn.h"
#include "state/adopt_wg.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "cli/cli.h"
#include "cli/cmd_adopt.h"

#define ADOPT_FILE_MAX (16u << 20)

void adopt_print_notes(struct diags *notes, const char *file)
{
	struct buf out = BUF_INIT;

	if (!notes->n)
		return;
	diags_format(notes, file, &out);
	printf("not carried over / changed:\n%s", buf_str(&out));
	buf_release(&out);
}

int adopt_args(int argc, char **argv, const char *usage, const char *what, const char **arg,
	       int *dry)
{
	if (cli_wants_help(argc, argv, usage))
		return 1;
	*arg = NULL;
	*dry = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			*dry = 1;
		} else if (!*arg && argv[i][0] != '-') {
			*arg = argv[i];
		} else {
			fprintf(stderr, "atlas adopt %s: unknown argument \"%s\"\n", what, argv[i]);
			return -1;
		}
	}
	if (!*arg) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

/* Reads the live interface into live; 0 when it is up, 1 when there is none, -1 on error. */
static int read_live(const char *ifname, struct adopt_wg_live *live, struct atlas_err *err)
{
	const char *ip_argv[] = { "ip", "-j", "addr", "show", "dev", ifname, NULL };
	const char *wg_argv[] = { "wg", "show", ifname, "dump", NULL };
	struct spawn_opts big = { .out_cap = 64u << 20, .timeout_ms = 60000 };
	struct wg_obs_iface oi = { 0 };
	struct spawn_result res;
	char *tab;
	int ret = -1;

	if (spawn_run(ip_argv, NULL, &res, err) < 0)
		return -1;
	if (!res.exited || res.status != 0) {
		spawn_result_release(&res);
		return 1;
	}
	if (wg_parse_ip_addr(buf_str(&res.out), &oi, err) < 0) {
		spawn_result_release(&res);
		goto out;
	}
	spawn_result_release(&res);
	if (spawn_check(wg_argv, &big, &res, err) < 0) {
		spawn_result_release(&res);
		err_wrap(err, "interface %s is up but `wg show` cannot read it", ifname);
		goto out;
	}
	/* The first field of the dump is the private key: kept, then the text is wiped. */
	tab = res.out.data ? strchr(res.out.data, '\t') : NULL;
	if (tab && tab - res.out.data == KEY_B64 - 1)
		memcpy(live->private_key, res.out.data, KEY_B64 - 1);
	if (!res.out.data || wg_parse_dump(res.out.data, &oi, err) < 0) {
		buf_release_secure(&res.out);
		spawn_result_release(&res);
		goto out;
	}
	buf_release_secure(&res.out);
	spawn_result_release(&res);
	live->listen_port = oi.listen_port;
	live->mtu = oi.mtu;
	strv_copy(&live->addresses, &oi.addresses);
	live->peers = xcalloc(oi.npeers + 1, sizeof(*live->peers));
	for (size_t i = 0; i < oi.npeers; i++) {
		memcpy(live->peers[i].public_key, oi.peers[i].public_key, KEY_B64);
		memcpy(live->peers[i].preshared_key, oi.peers[i].preshared_key, KEY_B64);
		strv_copy(&live->peers[i].allowed_ips, &oi.peers[i].allowed_ips);
		live->peers[i].keepalive = oi.peers[i].keepalive;
	}
	live->npeers = oi.npeers;
	ret = 0;
out:
	wg_obs_iface_release(&oi);
	return ret;
}

static void live_release(struct adopt_wg_live *live)
{
	OPENSSL_cleanse(live->private_key, KEY_B64);
	strv_clear(&live->addresses);
	for (size_t i = 0; i < live->npeers; i++) {
		OPENSSL_cleanse(live->peers[i].preshared_key, KEY_B64);
		strv_clear(&live->peers[i].allowed_ips);
	}
	free(live->peers);
}

/* "wg0-client-alice" -> "alice", "wg0-alice" -> "alice", "alice" -> "alice". */
static void client_stem(const char *fname, const char *ifname, char *out, size_t len)
{
	size_t il = strlen(ifname), n = strlen(fname);

	if (n > 5 && !strcmp(fname + n - 5, ".conf"))
		n -= 5;
	if (n > il + 8 && !strncmp(fname, ifname, il) && !strncmp(fname + il, "-client-", 8)) {
		fname += il + 8;
		n -= il + 8;
	} else if (n > il + 1 && !strncmp(fname, ifname, il) && fname[il] == '-') {
		fname += il + 1;
		n -= il + 1;
	}
	snprintf(out, len, "%.*s", (int)n, fname);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every DIR/\*.conf as a client file and attaches it. -1 after printing errors. */
static int read_clients(const char *dir, struct adopt_wg *a, char **host, struct diags *notes)
{
	struct strv names = STRV_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = -1, bad = 0;

	if (!d) {
		fprintf(stderr, "atlas adopt: cannot open --clients directory %s\n", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && !strcmp(de->d_name + n - 5, ".conf") && de->d_name[0] != '.')
			strv_push(&names, de->d_name);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char *path = xasprintf("%s/%s", dir, names.v[i]), stem[128];
		struct adopt_wg_client c;
		struct atlas_err err = { 0 };
		struct diags errs = { 0 };
		struct buf text = BUF_INIT;

		if (file_read(path, ADOPT_FILE_MAX, &text, &err) < 0) {
			fprintf(stderr, "atlas: %s\n", err.msg);
			bad = 1;
		} else if (adopt_wg_client_parse(text.data ? text.data : "", text.len, &c, &errs) < 0) {
			cli_print_diags(&errs, path);
			bad = 1;
		} else {
			struct diags cn = { 0 };

			client_stem(names.v[i], a->ifc.name, stem, sizeof(stem));
			if (adopt_wg_attach_client(a, &c, stem, host, &cn, &err) < 0) {
				fprintf(stderr, "atlas: %s: %s\n", path, err.msg);
				bad = 1;
			}
			for (size_t k = 0; k < cn.n; k++)
				diags_add_at(notes, cn.v[k].line, cn.v[k].col, NULL, "%s", cn.v[k].msg);
			diags_clear(&cn);
			adopt_wg_client_release(&c);
		}
		diags_clear(&errs);
		buf_release_secure(&text);
		free(path);
	}
	ret = bad ? -1 : 0;
	strv_clear(&names);
	return ret;
}

/* 1 when every action of plan only takes over (records, NAT, forwarding): no session touched. */
static int takeover_only(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->v[i];

		if (a->drops)
			return 0;
		if (a->kind == ACT_WRITE && !strcmp(a->engine, "wireguard"))
			continue;
		if (!strcmp(a->resource, "nat") || !strcmp(a->resource, "forwarding"))
			continue;
		return 0;
	}
	return 1;
}

static void print_plan(const struct plan *p)
{
	struct buf out = BUF_INIT;

	plan_render_text(p, &out);
	fputs(buf_str(&out), stdout);
	buf_release(&out);
}

/*
 * p without engine's actions, that engine reported as note says instead
 * (q new): the plan of a dry run whose engine would be taken over as it
 * runs, which only a real takeover's record makes the driver see.
 */
static void plan_without(const struct plan *p, const char *engine, const char *note,
			 struct plan *q)
{
	plan_init(q);
	q->generation = p->generation;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].engine, engine))
			plan_add(q, p->v[i].engine, p->v[i].kind, p->v[i].resource, NULL, NULL, "%s",
				 p->v[i].text)
				->drops = p->v[i].drops;
	for (size_t i = 0; i < p->nengines; i++) {
		const struct engine_report *e = &p->engines[i];
		int it = !strcmp(e->engine, engine);

		plan_engine(q, e->engine, it ? ENGINE_OK : e->status, it ? note : e->note);
	}
	for (size_t i = 0; i < p->warnings.n; i++)
		plan_warn(q, "%s", p->warnings.v[i]);
}

void adopt_run_release(struct adopt_run *r)
{
	diags_clear(&r->errs);
	diags_clear(&r->notes);
	buf_release_secure(&r->text);
	state_free(r->old);
	state_free(r->next);
	store_close(r->s);
}

int adopt_load(int dry_run, struct store **s, struct atlas_state **old)
{
	struct atlas_err err = { 0 };

	/* A dry run creates nothing: without a store it starts from the empty state. */
	*s = dry_run ? cli_store_if_exists() : cli_store();
	if (*s)
		store_set_actor(*s, "adopt");
	if (!*s && dry_run) {
		*old = state_new();
		return 0;
	}
	if (!*s)
		return -1;
	if (store_load(*s, old, NULL, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/*
 * Stores next (or, with dry_run, prints it and its plan), then takes over.
 * next is completed here. Returns the exit status.
 */
int adopt_finish(struct store *s, struct atlas_state *next, const struct atlas_state *old,
			const char *summary, int dry_run, const char *restart_engine)
{
	return adopt_finish_hook(s, next, old, summary, dry_run, restart_engine, NULL, NULL);
}

int adopt_finish_hook(struct store *s, struct atlas_state *next, const struct atlas_state *old,
		      const char *summary, int dry_run, const char *restart_engine,
		      adopt_hook hook, void *arg)
{
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct driver_ctx ctx;
	struct plan plan;
	const char *restart_engine_taken = restart_engine;
	int64_t gen = 0;
	int ret = 1, taken = 0;

	if (dry_run) {
		struct buf yaml = BUF_INIT;

		if (state_check(next, old, NULL, &d, &err) < 0)
			goto invalid;
		state_to_yaml(next, 0, &yaml);
		printf("--- desired state after adoption (not stored)\n%s", buf_str(&yaml));
		buf_release(&yaml);
	} else if (state_commit(s, next, NULL, "adopt", summary, &d, &gen, &err) < 0) {
		goto invalid;
	}
	controller_ctx_init(&ctx, cli_datadir, s, next);
	if (hook && (taken = hook(arg, &ctx, next, dry_run)) == 1)
		restart_engine = NULL;
	if (controller_plan(&ctx, next, gen, &plan, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		controller_ctx_release(&ctx);
		goto out;
	}
	if (dry_run && taken == 1) {
		struct plan q;

		/* what the real adoption's plan shows: the taken-over engine left alone */
		plan_without(&plan, restart_engine_taken, "adopted: would run its own config "
			     "as adopted until a change needs a reload", &q);
		printf("--- plan after adoption\n");
		print_plan(&q);
		plan_release(&q);
		printf("dry run: nothing stored\n");
		ret = 0;
	} else if (dry_run) {
		printf("--- plan after adoption\n");
		print_plan(&plan);
		if (restart_engine && !strcmp(restart_engine, "openvpn"))
			printf("(dry run: the PKI is not imported, so the plan shows it created)\n");
		printf("dry run: nothing stored\n");
		ret = 0;
	} else if (restart_engine) {
		printf("adopted: generation %lld (%s)\n", (long long)gen, summary);
		printf("--- plan: %s restarts once under Atlas's config (stop the old server, then "
		       "`atlas apply`; connected clients reconnect by themselves)\n",
		       restart_engine);
		print_plan(&plan);
		ret = 0;
	} else if (!takeover_only(&plan)) {
		printf("adopted: generation %lld (%s)\n", (long long)gen, summary);
		printf("--- the plan is not only a takeover; nothing applied, review it and run "
		       "`atlas apply`\n");
		print_plan(&plan);
		ret = 0;
	} else {
		json_t *result = NULL;

		printf("adopted: generation %lld (%s)\n", (long long)gen, summary);
		if (plan.n && controller_apply(&ctx, next, gen, "adopt", &result, NULL, &err) < 0) {
			fprintf(stderr, "atlas: takeover failed: %s (the state is stored; run `atlas "
					"apply`)\n",
				err.msg);
		} else {
			json_t *a;
			size_t i;

			json_array_foreach(json_object_get(result, "actions"), i, a)
				printf("takeover: %s\n", json_string_value(json_object_get(a, "text")));
			printf("plan: empty\n");
			ret = 0;
		}
		json_decref(result);
	}
	plan_release(&plan);
	controller_ctx_release(&ctx);
	goto out;
invalid:
	if (d.n) {
		fprintf(stderr, "atlas adopt: the adopted state is not valid:\n");
		cli_print_diags(&d, NULL);
	} else {
		fprintf(stderr, "atlas: %s\n", err.msg);
	}
out:
	diags_clear(&d);
	return ret;
}

int adopt_wireguard_cmd(int argc, char **argv)
{
	static const char usage[] =
		"usage: atlas adopt wireguard [IFACE | FILE] [--clients DIR] [--dry-run]\n\n"
		"Takes over a wg-quick interface: FILE (default /etc/wireguard/IFACE.conf, IFACE\n"
		"default wg0) and, when it is up, the live interface. --clients DIR reads the\n"
		"clients' .conf files to recover their private keys. Stores one generation\n"
		"(trigger adopt); --dry-run prints the YAML and the plan and stores nothing.\n";
	const char *arg = "wg0", *clients = NULL;
	struct adopt_wg a = { 0 };
	struct adopt_wg_live live = { 0 };
	struct atlas_err err = { 0 };
	struct adopt_run r = ADOPT_RUN_INIT;
	char ifname[64], *file = NULL, *host = NULL, summary[128];
	int dry = 0, ret = 1, rc, parsed = 0;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			dry = 1;
		} else if (!strcmp(argv[i], "--clients") && i + 1 < argc) {
			clients = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "atlas adopt wireguard: unknown argument \"%s\"\n", argv[i]);
			return 1;
		} else {
			arg = argv[i];
		}
	}
	if (strchr(arg, '/') || strstr(arg, ".conf")) {
		const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
		size_t n = strlen(base);

		if (n > 5 && !strcmp(base + n - 5, ".conf"))
			n -= 5;
		snprintf(ifname, sizeof(ifname), "%.*s", (int)n, base);
		file = xstrdup(arg);
	} else {
		snprintf(ifname, sizeof(ifname), "%s", arg);
		file = xasprintf("/etc/wireguard/%s.conf", arg);
	}
	if (file_read(file, ADOPT_FILE_MAX, &r.text, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (adopt_wg_parse(r.text.data ? r.text.data : "", r.text.len, ifname, &a, &r.errs,
			   &r.notes) < 0) {
		cli_print_diags(&r.errs, file);
		goto out;
	}
	parsed = 1;
	rc = read_live(ifname, &live, &err);
	if (rc < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (rc == 0 && adopt_wg_merge_live(&a, &live, &r.errs, &r.notes) < 0) {
		cli_print_diags(&r.errs, file);
		goto out;
	}
	if (rc == 1 && !a.has_port) {
		fprintf(stderr, "%s: no ListenPort and interface %s is not up: Atlas needs the port "
				"the clients use\n",
			file, ifname);
		goto out;
	}
	if (clients && read_clients(clients, &a, &host, &r.notes) < 0)
		goto out;
	if (adopt_wg_check(&a, &r.errs) < 0) {
		cli_print_diags(&r.errs, file);
		goto out;
	}
	if (adopt_load(dry, &r.s, &r.old) < 0)
		goto out;
	if (r.old->has_wireguard && state_wg_iface(r.old, ifname)) {
		fprintf(stderr, "atlas adopt: wireguard interface \"%s\" is already in the desired "
				"state\n",
			ifname);
		goto out;
	}
	r.next = state_dup(r.old);
	if (!r.next->has_wireguard) {
		r.next->has_wireguard = 1;
		r.next->wireguard.enabled = 1;
	} else if (!r.next->wireguard.enabled) {
		diags_add_at(&r.notes, 0, 0, NULL,
			     "wireguard.enabled is false in the desired state: the interface is "
			     "adopted but Atlas will not run it until it is enabled");
	}
	if (!r.next->settings.host && host) {
		r.next->settings.host = xstrdup(host);
		diags_add_at(&r.notes, 0, 0, NULL,
			     "settings.host set to \"%s\", the Endpoint host of the client files", host);
	} else if (!r.next->settings.host) {
		diags_add_at(&r.notes, 0, 0, NULL,
			     "settings.host is not set: `atlas wg config` needs it for the Endpoint");
	}
	r.next->wireguard.interfaces = xrealloc(r.next->wireguard.interfaces,
						(r.next->wireguard.ninterfaces + 1) *
							sizeof(*r.next->wireguard.interfaces));
	r.next->wireguard.interfaces[r.next->wireguard.ninterfaces++] = a.ifc;
	snprintf(summary, sizeof(summary), "adopt wireguard %s (%zu peers)", ifname,
		 a.ifc.npeers);
	memset(&a.ifc, 0, sizeof(a.ifc));
	adopt_print_notes(&r.notes, file);
	ret = adopt_finish(r.s, r.next, r.old, summary, dry, NULL);
out:
	if (parsed)
		adopt_wg_release(&a);
	live_release(&live);
	adopt_run_release(&r);
	free(file);
	free(host);
	return ret;
}
