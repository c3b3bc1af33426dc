/*
 * cmd_ovpn.c - `atlas ovpn ...`: a client's .ovpn profile, the connected
 * clients, importing an easy-rsa PKI, and client add/rm/disable/enable.
 * Changes go through state_commit() like every other edit; `atlas apply`
 * (or the daemon) then reconciles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controller.h"
#include "controller/openvpn/ovpn.h"
#include "lib/fileio.h"
#include "state/commit.h"
#include "cli/cli.h"
#include "state/schema.h"
#include "cli/commands.h"
#include "cli/cmd_store.h"

static const char usage[] =
	"usage: atlas ovpn config CLIENT          print CLIENT's inline .ovpn profile\n"
	"       atlas ovpn status                 the connected clients\n"
	"       atlas ovpn import-easyrsa DIR [--tls-crypt FILE]\n"
	"                                         import an easy-rsa 3 PKI and its clients\n"
	"       atlas ovpn client add NAME [--static-ip IP] [--note TEXT]\n"
	"       atlas ovpn client rm NAME\n"
	"       atlas ovpn client disable|enable NAME\n\n"
	"Client changes are stored as a new generation of the desired state; run\n"
	"`atlas apply` to bring the server along.\n";

static void files_for(struct ovpn_files *f)
{
	char *run = xasprintf("%s/run", cli_datadir);

	ovpn_files_init(f, cli_datadir, run, getenv("ATLAS_OVPN_UNIT"));
	free(run);
}

static int ovpn_config(const char *name)
{
	struct atlas_err err = { 0 };
	struct atlas_state *st = NULL;
	struct buf out = BUF_INIT;
	struct store *s;
	int ret = 1;

	st = cli_open_state(&s, 1);
	if (!st)
		return 1;
	if (ovpn_profile(cli_datadir, st, name, &out, &err) < 0) {
		/* a client that exists but has no certificate: say which command issues it */
		int pending = err.code == ERR_NOTFOUND && st && state_ovpn_client(st, name);

		fprintf(stderr, "atlas: %s%s\n", err.msg, pending ? " (run `atlas apply`)" : "");
		goto out;
	}
	fwrite(out.data, 1, out.len, stdout);
	ret = 0;
out:
	buf_release_secure(&out);
	cli_close_state(s, st);
	return ret;
}

static int ovpn_status_cmd(void)
{
	struct atlas_err err = { 0 };
	struct ovpn_status st = { 0 };
	struct ovpn_files f;
	int ret = 1;

	files_for(&f);
	if (ovpn_mgmt_status(f.mgmt, OVPN_MGMT_TIMEOUT_MS, &st, &err) < 0) {
		fprintf(stderr, "atlas: %s (is the openvpn server running? `atlas plan` tells)\n",
			err.msg);
		goto out;
	}
	printf("%-20s %-22s %-15s %12s %12s %-20s %s\n", "CLIENT", "REAL ADDRESS", "VIRTUAL",
	       "RX BYTES", "TX BYTES", "CONNECTED SINCE", "CLIENT ID");
	for (size_t i = 0; i < st.n; i++) {
		const struct ovpn_session *c = &st.v[i];
		time_t t = (time_t)c->since;
		struct tm tm;
		char since[32];

		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%SZ", &tm);
		printf("%-20s %-22s %-15s %12lld %12lld %-20s %lu\n", c->cn, c->real,
		       c->virt[0] ? c->virt : "-", c->rx, c->tx, since, c->cid);
	}
	ret = 0;
out:
	ovpn_status_release(&st);
	ovpn_files_release(&f);
	return ret;
}

/* Loads the desired state, lets edit() change it, commits it. */
static int edit_state(const char *summary, int (*edit)(struct atlas_state *, void *), void *arg)
{
	struct atlas_state *st;
	struct store *s;
	int64_t gen;
	int ret = 1;

	st = cli_open_state(&s, 0);
	if (!st)
		return 1;
	if (!st->has_openvpn) {
		fputs("atlas: openvpn is not managed: import a state with an openvpn section first\n",
		      stderr);
		goto out;
	}
	if (edit(st, arg) < 0 || cli_commit_edit(s, st, "atlas", summary, &gen) < 0)
		goto out;
	printf("%s: generation %lld (run `atlas apply` to apply it)\n", summary, (long long)gen);
	ret = 0;
out:
	cli_close_state(s, st);
	return ret;
}

struct client_edit {
	const char *verb, *name, *static_ip, *note;
	struct strv *names;	/* import: several names */
};

static int add_client(struct atlas_state *st, const char *name, const char *ip,
		      const char *note)
{
	struct ovpn_section *ov = &st->openvpn;
	struct ovpn_client *c;

	ov->clients = xrealloc(ov->clients, (ov->nclients + 1) * sizeof(*ov->clients));
	c = &ov->clients[ov->nclients++];
	schema_init(&schema_ovpn_client, c); /* the defaults, as an imported file gets */
	c->name = xstrdup(name);
	c->static_ip = ip ? xstrdup(ip) : NULL;
	c->note = note ? xstrdup(note) : NULL;
	return 0;
}

static int edit_client(struct atlas_state *st, void *arg)
{
	struct client_edit *ce = arg;
	struct ovpn_section *ov = &st->openvpn;
	struct ovpn_client *c = state_ovpn_client(st, ce->name);

	if (!strcmp(ce->verb, "add")) {
		if (c) {
			fprintf(stderr, "atlas: openvpn client \"%s\" exists already\n", ce->name);
			return -1;
		}
		return add_client(st, ce->name, ce->static_ip, ce->note);
	}
	if (!c) {
		fprintf(stderr, "atlas: openvpn client \"%s\" does not exist\n", ce->name);
		return -1;
	}
	if (!strcmp(ce->verb, "rm")) {
		size_t i = (size_t)(c - ov->clients);
		struct atlas_state *tmp;

		/* free the one client through a throwaway state (schema-driven release) */
		tmp = state_new();
		tmp->has_openvpn = 1;
		tmp->openvpn.clients = xmalloc(sizeof(*c));
		tmp->openvpn.clients[0] = *c;
		tmp->openvpn.nclients = 1;
		state_free(tmp);
		memmove(c, c + 1, (ov->nclients - i - 1) * sizeof(*c));
		ov->nclients--;
		return 0;
	}
	c->disabled = !strcmp(ce->verb, "disable");
	return 0;
}

static int ovpn_client_cmd(int argc, char **argv)
{
	struct client_edit ce = { 0 };
	char summary[160];

	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	ce.verb = argv[0];
	ce.name = argv[1];
	if (strcmp(ce.verb, "add") && strcmp(ce.verb, "rm") && strcmp(ce.verb, "disable") &&
	    strcmp(ce.verb, "enable")) {
		fprintf(stderr, "atlas ovpn client: unknown action \"%s\"\n", ce.verb);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(ce.verb, "add") && !strcmp(argv[i], "--static-ip") && i + 1 < argc) {
			ce.static_ip = argv[++i];
		} else if (!strcmp(ce.verb, "add") && !strcmp(argv[i], "--note") && i + 1 < argc) {
			ce.note = argv[++i];
		} else {
			fprintf(stderr, "atlas ovpn client %s: unknown argument \"%s\"\n", ce.verb,
				argv[i]);
			return 1;
		}
	}
	snprintf(summary, sizeof(summary), "ovpn client %s %.100s", ce.verb, ce.name);
	return edit_state(summary, edit_client, &ce);
}

static int add_imported(struct atlas_state *st, void *arg)
{
	struct client_edit *ce = arg;

	for (size_t i = 0; i < ce->names->n; i++)
		if (!state_ovpn_client(st, ce->names->v[i]))
			add_client(st, ce->names->v[i], NULL, "imported from easy-rsa");
	return 0;
}

static int ovpn_import(int argc, char **argv)
{
	struct atlas_err err = { 0 };
	struct strv names = STRV_INIT;
	struct client_edit ce = { .names = &names };
	struct ovpn_files f;
	const char *dir = NULL, *tc = NULL;
	char *moved = NULL;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tls-crypt") && i + 1 < argc)
			tc = argv[++i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else {
			fprintf(stderr, "atlas ovpn import-easyrsa: unknown argument \"%s\"\n",
				argv[i]);
			return 1;
		}
	}
	if (!dir) {
		fputs(usage, stderr);
		return 1;
	}
	files_for(&f);
	/* Checked before the PKI is written: a state that cannot take the clients. */
	{
		struct store *s = cli_store();
		struct atlas_state *st = NULL;
		int ok = s && store_load(s, &st, NULL, &err) == 0;

		if (ok && !st->has_openvpn) {
			err_set(&err, ERR_INVALID,
				"openvpn is not managed: import a state with an openvpn section "
				"(network) first");
			ok = 0;
		}
		cli_close_state(s, st);
		if (!ok) {
			if (err.msg[0])
				fprintf(stderr, "atlas: %s\n", err.msg);
			goto out;
		}
	}
	if (pki_import_easyrsa(dir, f.pki, tc, &names, &err) < 0) {
		fprintf(stderr, "atlas: %s\n", err.msg);
		goto out;
	}
	if (edit_state("ovpn import-easyrsa", add_imported, &ce) != 0) {
		/* all or nothing: put the imported PKI aside again */
		moved = xasprintf("%s.failed-import.%ld", f.pki, (long)time(NULL));
		if (rename(f.pki, moved) == 0)
			fprintf(stderr, "atlas: the imported PKI was moved aside to \"%s\"\n", moved);
		goto out;
	}
	printf("imported %zu client%s from %s\n", names.n, names.n == 1 ? "" : "s", dir);
	ret = 0;
out:
	free(moved);
	strv_clear(&names);
	ovpn_files_release(&f);
	return ret;
}

int cmd_ovpn(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "config") && argc == 3)
		return ovpn_config(argv[2]);
	if (!strcmp(argv[1], "status") && argc == 2)
		return ovpn_status_cmd();
	if (!strcmp(argv[1], "import-easyrsa"))
		return ovpn_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "client"))
		return ovpn_client_cmd(argc - 2, argv + 2);
	fputs(usage, stderr);
	return 1;
}
