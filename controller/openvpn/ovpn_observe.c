/*
 * ovpn_observe.c - reading the real state of the OpenVPN engine: the PKI
 * (index, files, CRL), server.conf and the CCD files on disk, whether the
 * daemon runs, its sessions from one management connection, and
 * forwarding and the NAT table.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fileio.h"
#include "controller/openvpn/ovpn.h"

void ovpn_files_init(struct ovpn_files *f, const char *datadir, const char *rundir,
		     const char *unit)
{
	memset(f, 0, sizeof(*f));
	f->pki = xasprintf("%s/pki", datadir);
	f->dir = xasprintf("%s/openvpn", datadir);
	f->conf = xasprintf("%s/server.conf", f->dir);
	f->ccd = xasprintf("%s/ccd", f->dir);
	f->status = xasprintf("%s/status.log", f->dir);
	f->log = xasprintf("%s/openvpn.log", f->dir);
	f->mgmt = xasprintf("%s/ovpn.sock", rundir);
	f->pidfile = xasprintf("%s/openvpn.pid", rundir);
	f->unit = xstrdup(unit && *unit ? unit : "openvpn-server@atlas");
	/* openvpn-server@NAME runs `openvpn --config NAME.conf` in /etc/openvpn/server. */
	if (!strncmp(f->unit, "openvpn-server@", 15) && f->unit[15] && !strchr(f->unit, '/'))
		f->unit_conf = xasprintf("/etc/openvpn/server/%s.conf", f->unit + 15);
	f->argv[0] = "openvpn";
	f->argv[1] = "--config";
	f->argv[2] = f->conf;
	f->argv[3] = NULL;
	f->svc.name = "openvpn";
	f->svc.unit = f->unit;
	f->svc.argv = f->argv;
	f->svc.pidfile = f->pidfile;
	f->svc.logfile = f->log;
}

void ovpn_files_release(struct ovpn_files *f)
{
	free(f->pki);
	free(f->dir);
	free(f->conf);
	free(f->ccd);
	free(f->status);
	free(f->log);
	free(f->mgmt);
	free(f->pidfile);
	free(f->unit);
	free(f->unit_conf);
	memset(f, 0, sizeof(*f));
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ovpn_sorted_has(const struct strv *sv, const char *s)
{
	return sv->n && bsearch(&s, sv->v, sv->n, sizeof(char *), cmp_strp) != NULL;
}

void ovpn_obs_free(void *p)
{
	struct ovpn_obs *o = p;

	if (!o)
		return;
	free(o->server_cn);
	strv_clear(&o->certs);
	strv_clear(&o->valid);
	free(o->server_conf);
	for (size_t i = 0; i < o->nccd; i++) {
		free(o->ccd[i].name);
		free(o->ccd[i].text);
	}
	free(o->ccd);
	ovpn_status_release(&o->sessions);
	free(o->egress4);
	free(o->egress6);
	nat_obs_release(&o->nat);
	free(o->nat_error);
	free(o);
}

static void note(struct ovpn_obs *o, const char *what, const char *msg)
{
	size_t l = strlen(o->note);

	o->incomplete = 1;
	snprintf(o->note + l, sizeof(o->note) - l, "%s%s: %s", l ? "; " : "", what, msg);
}

static void observe_pki(const struct ovpn_files *f, const struct pki_index *idx,
			struct ovpn_obs *o)
{
	char *tc = xasprintf("%s/tls-crypt.key", f->pki);

	o->has_ca = pki_has_ca(f->pki);
	o->has_tls_crypt = file_exists(tc);
	free(tc);
	for (size_t i = 0; i < idx->n; i++)
		if (idx->v[i].status == 'V')
			strv_push(&o->valid, idx->v[i].cn);
	strv_sort(&o->valid);
	/* drop duplicates: a name may have several valid entries */
	for (size_t i = 1, k = 1; i <= o->valid.n; i++) {
		if (i == o->valid.n) {
			o->valid.n = k;
			if (o->valid.v)
				o->valid.v[k] = NULL;
			break;
		}
		if (strcmp(o->valid.v[i], o->valid.v[k - 1]))
			o->valid.v[k++] = o->valid.v[i];
		else
			free(o->valid.v[i]);
	}
	for (size_t i = 0; i < o->valid.n; i++) {
		char *c = pki_cert_path(f->pki, o->valid.v[i]);

		/* an imported client may lack its key: its certificate still counts */
		if (file_exists(c))
			strv_push(&o->certs, o->valid.v[i]);
		free(c);
	}
	strv_sort(&o->certs);
	o->server_legacy = o->has_ca && pki_server_legacy(f->pki, o->server_cn);
	o->server_cert = o->has_ca && (pki_has_server(f->pki) || o->server_legacy);
}

static int by_ccd_name(const void *a, const void *b)
{
	return strcmp(((const struct ovpn_ccd_file *)a)->name,
		      ((const struct ovpn_ccd_file *)b)->name);
}

static void observe_ccd(const struct ovpn_files *f, struct ovpn_obs *o)
{
	DIR *d = opendir(f->ccd);
	struct dirent *de;
	size_t cap = 0;

	if (!d) {
		if (errno != ENOENT)
			note(o, "ccd", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		struct buf text = BUF_INIT;
		struct atlas_err e = { 0 };
		struct stat sb;
		char *path;

		/* dot files and the temporary files of atomic writes are not CCD files */
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		path = xasprintf("%s/%s", f->ccd, de->d_name);
		if (file_read(path, 65536, &text, &e) < 0) {
			note(o, path, e.msg);
		} else {
			if (o->nccd == cap) {
				cap = cap ? cap * 2 : 64;
				o->ccd = xrealloc(o->ccd, cap * sizeof(*o->ccd));
			}
			o->ccd[o->nccd].name = xstrdup(de->d_name);
			o->ccd[o->nccd].text = buf_detach(&text);
			o->ccd[o->nccd].mtime = stat(path, &sb) == 0 ? (long long)sb.st_mtime : 0;
			o->nccd++;
		}
		buf_release(&text);
		free(path);
	}
	closedir(d);
	if (o->nccd > 1)
		qsort(o->ccd, o->nccd, sizeof(*o->ccd), by_ccd_name);
}

static void observe_nat(const struct driver_ctx *ctx, struct ovpn_obs *o)
{
	struct atlas_err e = { 0 };

	o->forward4 = nat_forwarding_read(4);
	o->forward6 = nat_forwarding_read(6);
	o->egress4 = nat_default_egress(4);
	o->egress6 = nat_default_egress(6);
	/* nft missing: the table counts as unreadable; the rest of OpenVPN goes on */
	if (nat_observe(OVPN_NAT_TABLE, ctx->rundir, &o->nat, &e) < 0)
		o->nat_error = xstrdup(e.msg);
}

/* 1 when server.conf, ccd/ or status.log of a former section is still there. */
static int rendered_files(const struct ovpn_files *f)
{
	return file_exists(f->conf) || file_exists(f->ccd) || file_exists(f->status);
}

int ovpn_leftovers(const struct driver_ctx *ctx)
{
	char *path = xasprintf("%s/%s.nft", ctx->rundir, OVPN_NAT_TABLE);
	struct ovpn_files f;
	int ret = file_exists(path);

	ovpn_files_init(&f, ctx->datadir, ctx->rundir, NULL);
	ret = ret || rendered_files(&f) || file_exists(f.pidfile);
	ovpn_files_release(&f);
	free(path);
	return ret;
}

/* The daemon and its sessions (how many a stop or restart drops). */
static void observe_daemon(const struct driver_ctx *ctx, const struct ovpn_files *f,
			   struct ovpn_obs *o)
{
	struct atlas_err e = { 0 };
	pid_t pid = 0;
	int rc = service_running(ctx->service_mode, &f->svc, &pid, &e);

	if (rc < 0) {
		o->service_unknown = 1;
		note(o, "service", e.msg);
	} else if (rc == 0) {
		o->sessions_known = 1; /* no daemon, no sessions */
	} else {
		o->running = 1;
		o->pid = pid;
		if (ovpn_mgmt_status(f->mgmt, OVPN_MGMT_TIMEOUT_MS, &o->sessions, &e) == 0)
			o->sessions_known = 1;
		else
			note(o, "sessions", e.msg);
	}
}

int ovpn_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
		 struct atlas_err *err)
{
	struct ovpn_obs *o = xcalloc(1, sizeof(*o));
	struct pki_index idx = { 0 };
	struct ovpn_files f;
	struct buf conf = BUF_INIT;
	struct atlas_err e = { 0 };
	int ret = -1;

	ovpn_files_init(&f, ctx->datadir, ctx->rundir, getenv("ATLAS_OVPN_UNIT"));
	observe_nat(ctx, o);
	if (!desired->has_openvpn) {
		/* only what Atlas left behind matters: daemon, rendered files, NAT */
		observe_daemon(ctx, &f, o);
		o->files = rendered_files(&f);
		*obs = o;
		o = NULL;
		ret = 0;
		goto out;
	}
	if (pki_index_read(f.pki, &idx, err) < 0) {
		err_wrap(err, "openvpn: cannot read the PKI index");
		goto out;
	}
	o->server_cn = pki_server_cn(f.pki);
	observe_pki(&f, &idx, o);
	if (o->has_ca && pki_crl_inspect(f.pki, &idx, &o->crl, &e) < 0)
		note(o, "crl", e.msg);
	if (file_read(f.conf, 1 << 20, &conf, &e) == 0)
		o->server_conf = buf_detach(&conf);
	else if (e.code != ERR_NOTFOUND)
		note(o, f.conf, e.msg);
	observe_ccd(&f, o);
	observe_daemon(ctx, &f, o);
	*obs = o;
	o = NULL;
	ret = 0;
out:
	ovpn_obs_free(o);
	pki_index_release(&idx);
	buf_release(&conf);
	ovpn_files_release(&f);
	return ret;
}

json_t *ovpn_status_json(const struct driver_ctx *ctx, const struct atlas_state *desired)
{
	struct ovpn_status st = { 0 };
	struct atlas_err e = { 0 };
	struct ovpn_files f;
	json_t *root = json_object(), *arr = json_array();
	pid_t pid = 0;
	int rc;

	(void)desired;
	ovpn_files_init(&f, ctx->datadir, ctx->rundir, getenv("ATLAS_OVPN_UNIT"));
	rc = service_running(ctx->service_mode, &f.svc, &pid, &e);
	json_object_set_new(root, "running", json_boolean(rc == 1));
	if (pid)
		json_object_set_new(root, "pid", json_integer(pid));
	if (rc == 1 && ovpn_mgmt_status(f.mgmt, OVPN_MGMT_TIMEOUT_MS, &st, &e) < 0)
		json_object_set_new(root, "error", json_string(e.msg));
	for (size_t i = 0; i < st.n; i++)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", st.v[i].cn,
				       "real_address", st.v[i].real, "virtual_address", st.v[i].virt,
				       "bytes_received", (json_int_t)st.v[i].rx, "bytes_sent",
				       (json_int_t)st.v[i].tx, "connected_since",
				       (json_int_t)st.v[i].since, "client_id", (json_int_t)st.v[i].cid));
	json_object_set_new(root, "sessions", arr);
	ovpn_status_release(&st);
	ovpn_files_release(&f);
	return root;
}
