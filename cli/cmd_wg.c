/*
 * cmd_wg.c - `atlas wg ...`: a peer's client config and QR code, and peer
 * edits (add, rm, disable, enable). Edits change the desired state only,
 * through state_commit(), like every other change; `atlas apply` (or the
 * daemon) then brings the interface in line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/wireguard/wg.h"
#include "renderers/wireguard/wg_render.h"
#include "state/commit.h"
#include "state/schema.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"

static const char usage[] =
	"usage: atlas wg config PEER [-i IF]      the client config (wg-quick format)\n"
	"       atlas wg qr PEER [-i IF]          the client config as a QR code (SVG)\n"
	"       atlas wg peer add NAME [-i IF] [--address A]... [--allowed-ips A]... "
	"[--keepalive N]\n"
	"       atlas wg peer rm NAME [-i IF]\n"
	"       atlas wg peer disable|enable NAME [-i IF]\n"
	"       atlas wg status                   live peers (JSON): handshake, traffic\n\n"
	"-i defaults to the only wireguard interface. Peer edits change the desired state;\n"
	"`atlas apply` applies them.\n";

struct wg_args {
	const char *peer;
	const char *iface;
	struct strv address, allowed;
	int keepalive;		/* -1: not given */
};

/* Parses what follows the verb; returns -1 after printing the problem. */
static int parse_args(int argc, char **argv, int edits, struct wg_args *a)
{
	memset(a, 0, sizeof(*a));
	a->keepalive = -1;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-i") && i + 1 < argc) {
			a->iface = argv[++i];
		} else if (edits && !strcmp(o, "--address") && i + 1 < argc) {
			strv_push(&a->address, argv[++i]);
		} else if (edits && !strcmp(o, "--allowed-ips") && i + 1 < argc) {
			strv_split(&a->allowed, argv[++i], ',');
		} else if (edits && !strcmp(o, "--keepalive") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || end == argv[i] || v < 0 || v > 65535) {
				fprintf(stderr, "atlas wg: --keepalive \"%s\" is not 0..65535\n", argv[i]);
				return -1;
			}
			a->keepalive = (int)v;
		} else if (o[0] != '-' && !a->peer) {
			a->peer = o;
		} else {
			fprintf(stderr, "atlas wg: unknown argument \"%s\"\n", o);
			return -1;
		}
	}
	if (!a->peer) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

static void args_release(struct wg_args *a)
{
	strv_clear(&a->address);
	strv_clear(&a->allowed);
}

/* The interface named by -i, or the only one. Prints the problem and returns NULL. */
static struct wg_iface *pick_iface(const struct atlas_state *st, const char *name)
{
	if (!st->has_wireguard || !st->wireguard.ninterfaces) {
		fputs("atlas wg: the desired state has no wireguard interface\n", stderr);
		return NULL;
	}
	if (name) {
		struct wg_iface *ifc = state_wg_iface(st, name);

		if (!ifc)
			fprintf(stderr, "atlas wg: no wireguard interface \"%s\"\n", name);
		return ifc;
	}
	if (st->wireguard.ninterfaces > 1) {
		fprintf(stderr, "atlas wg: %zu wireguard interfaces: choose one with -i IF\n",
			st->wireguard.ninterfaces);
		return NULL;
	}
	return &st->wireguard.interfaces[0];
}

/*
 * Loads the desired state into *st (ro: reading will do) and picks the
 * interface a->iface names, or the only one, and in it the peer a->peer
 * (*p, NULL when there is none). Prints the problem and returns NULL.
 */
static struct wg_iface *open_iface(struct store **s, struct atlas_state **st, int ro,
				   const struct wg_args *a, struct wg_peer **p)
{
	struct wg_iface *ifc;

	*st = cli_open_state(s, ro);
	ifc = *st ? pick_iface(*st, a->iface) : NULL;
	*p = ifc ? state_wg_peer(ifc, a->peer) : NULL;
	return ifc;
}

/* `wg config` and `wg qr`. */
static int show(int argc, char **argv, int qr)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st;
	struct buf out = BUF_INIT, svg = BUF_INIT;
	struct wg_iface *ifc;
	struct wg_peer *p;
	struct wg_args a;
	struct store *s;
	int ret = 1, byo = 0;

	if (parse_args(argc, argv, 0, &a) < 0)
		return 1;
	ifc = open_iface(&s, &st, 1, &a, &p);
	if (!ifc)
		goto out;
	if (!p) {
		fprintf(stderr, "atlas wg: interface \"%s\" has no peer \"%s\"\n", ifc->name, a.peer);
		goto out;
	}
	if (render_wg_client(&st->settings, ifc, p, &out, &byo, &err) < 0) {
		fprintf(stderr, "atlas wg: %s\n", err.msg);
		goto out;
	}
	if (byo && qr) {
		fprintf(stderr,
			"atlas wg: peer \"%s\" brings its own key: atlas has no private key to put in "
			"a QR code (use `atlas wg config %s` and add the key yourself)\n",
			p->name, p->name);
		goto out;
	}
	if (byo)
		fprintf(stderr, "atlas wg: peer \"%s\" brings its own key: put its private key in "
				"the PrivateKey line\n", p->name);
	if (p->disabled)
		fprintf(stderr, "atlas wg: note: peer \"%s\" is disabled\n", p->name);
	if (qr && render_qr_svg(out.data, &svg, &err) < 0) {
		fprintf(stderr, "atlas wg: %s\n", err.msg);
		goto out;
	}
	fputs(qr ? svg.data : out.data, stdout);
	ret = 0;
out:
	buf_release_secure(&out);
	buf_release_secure(&svg);
	cli_close_state(s, st);
	args_release(&a);
	return ret;
}

static int commit(struct store *s, struct atlas_state *st, const char *summary)
{
	int64_t gen;

	if (cli_commit_edit(s, st, "atlas", summary, &gen) < 0)
		return 1;
	printf("%s (generation %lld); `atlas apply` applies it\n", summary, (long long)gen);
	return 0;
}

/* `wg peer add|rm|disable|enable NAME`. */
static int peer_edit(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	int add = !strcmp(verb, "add"), rm = !strcmp(verb, "rm");
	int dis = !strcmp(verb, "disable"), en = !strcmp(verb, "enable");
	struct atlas_state *st = NULL;
	struct store *s = NULL;
	struct wg_iface *ifc;
	struct wg_peer *p;
	struct wg_args a;
	char summary[256];
	int ret = 1;

	if (!add && !rm && !dis && !en) {
		fputs(usage, stderr);
		return 1;
	}
	if (parse_args(argc - 2, argv + 2, add, &a) < 0)
		return 1;
	ifc = open_iface(&s, &st, 0, &a, &p);
	if (!ifc)
		goto out;
	if (add && p) {
		fprintf(stderr, "atlas wg: interface \"%s\" already has a peer \"%s\"\n", ifc->name,
			a.peer);
		goto out;
	}
	if (!add && !p) {
		fprintf(stderr, "atlas wg: interface \"%s\" has no peer \"%s\"\n", ifc->name, a.peer);
		goto out;
	}
	if (add) {
		ifc->peers = xrealloc(ifc->peers, (ifc->npeers + 1) * sizeof(*ifc->peers));
		p = &ifc->peers[ifc->npeers++];
		schema_init(&schema_wg_peer, p);
		p->name = xstrdup(a.peer);
		strv_copy(&p->address, &a.address);
		strv_copy(&p->allowed_ips, &a.allowed);
		if (a.keepalive >= 0)
			p->keepalive = a.keepalive;
	} else if (rm) {
		size_t k = (size_t)(p - ifc->peers);

		schema_release(&schema_wg_peer, p);
		memmove(p, p + 1, (ifc->npeers - k - 1) * sizeof(*p));
		ifc->npeers--;
	} else {
		p->disabled = dis;
	}
	snprintf(summary, sizeof(summary), "wireguard %s: peer %s %s", ifc->name, a.peer,
		 add ? "added" : rm ? "removed" : dis ? "disabled" : "enabled");
	ret = commit(s, st, summary);
out:
	cli_close_state(s, st);
	args_release(&a);
	return ret;
}

/* `wg status`: the driver's live status as JSON. */
static int status(void)
{
	struct atlas_state *st;
	struct driver_ctx ctx;
	struct store *s;
	json_t *j;

	st = cli_open_state(&s, 1);
	if (!st)
		return 1;
	controller_ctx_init(&ctx, cli_datadir, s, st);
	j = wg_driver.status(&ctx, st);
	wg_status_named(j, st, ctx.now); /* the peers with their names */
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(j);
	controller_ctx_release(&ctx);
	cli_close_state(s, st);
	return 0;
}

int cmd_wg(int argc, char **argv)
{
	int rc;

	if (cli_group_help(argc, argv, usage, &rc))
		return rc;
	if (!strcmp(argv[1], "config"))
		return show(argc - 2, argv + 2, 0);
	if (!strcmp(argv[1], "qr"))
		return show(argc - 2, argv + 2, 1);
	if (!strcmp(argv[1], "peer"))
		return peer_edit(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status") && argc == 2)
		return status();
	return cli_unknown_subcommand("wg", argv[1], usage);
}
