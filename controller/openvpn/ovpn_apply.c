/*
 * ovpn_apply.c - running the OpenVPN actions in plan order, and the driver
 * table entry.
 *
 * The PKI index is loaded once and written once per batch (before the CRL
 * and the server need it). Kills go last over one management connection,
 * after the CRL and CCD files are in place, so a cut client that reconnects
 * is refused. Every step is idempotent: a crash half-way is healed by the
 * next reconcile.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "controller/openvpn/ovpn.h"

#define READY_TIMEOUT_MS 15000
#define KILL_TIMEOUT_MS 10000

struct apply_run {
	const struct driver_ctx *ctx;
	struct ovpn_files f;
	struct pki_index idx;
	int idx_loaded, idx_dirty;
};

static int flush_index(struct apply_run *r, struct atlas_err *err)
{
	if (!r->idx_dirty)
		return 0;
	if (pki_index_write(r->f.pki, &r->idx, err) < 0)
		return -1;
	r->idx_dirty = 0;
	return 0;
}

/* Waits until the daemon answers on its management socket. */
static int wait_ready(struct apply_run *r, struct atlas_err *err)
{
	char line[300];
	const char *why = "no answer on its management socket";
	int waited;

	for (waited = 0; waited < READY_TIMEOUT_MS; waited += 100) {
		struct ovpn_status st = { 0 };
		int rc = service_running(r->ctx->service_mode, &r->f.svc, NULL, NULL);

		if (rc == 0 && r->ctx->service_mode == SERVICE_DIRECT) {
			why = "it exited";
			break;
		}
		if (rc == 1 && ovpn_mgmt_status(r->f.mgmt, OVPN_MGMT_PROBE_MS, &st, NULL) == 0) {
			ovpn_status_release(&st);
			return 0;
		}
		clock_sleep_ms(100);
	}
	file_last_line_with(r->f.log, (const char *const[]){ "rror", NULL }, line, sizeof(line));
	return err_set(err, ERR_EXEC, "openvpn did not come up (%s, after %d ms)%s%s", why, waited,
		       line[0] ? ": " : "", line);
}

/*
 * OpenVPN 2.6 tells a killed client to restart and drops its instance a few
 * seconds later ("Delayed exit in 5 seconds"): wait for that, so the check
 * after apply does not see the session again.
 */
static int wait_gone(struct apply_run *r, const unsigned long *cids, size_t n,
		     struct atlas_err *err)
{
	for (int waited = 0; waited < KILL_TIMEOUT_MS; waited += 200) {
		struct ovpn_status st = { 0 };
		int left = 0;

		if (ovpn_mgmt_status(r->f.mgmt, OVPN_MGMT_TIMEOUT_MS, &st, err) < 0)
			return -1;
		for (size_t i = 0; i < st.n; i++)
			for (size_t k = 0; k < n; k++)
				left += st.v[i].cid == cids[k];
		ovpn_status_release(&st);
		if (!left)
			return 0;
		clock_sleep_ms(200);
	}
	return err_set(err, ERR_EXEC, "openvpn: killed sessions are still listed after %d s",
		       KILL_TIMEOUT_MS / 1000);
}

static int write_conf(struct apply_run *r, const char *text, struct atlas_err *err)
{
	/* openvpn refuses to start without its client-config-dir, even empty */
	if (mkdir_p(r->f.dir, 0755, err) < 0 || mkdir_p(r->f.ccd, 0755, err) < 0 ||
	    mkdir_p(r->ctx->rundir, 0755, err) < 0)
		return -1;
	if (file_write_atomic(r->f.conf, text, strlen(text), 0644, err) < 0)
		return -1;
	if (r->ctx->service_mode == SERVICE_SYSTEMD && r->f.unit_conf) {
		/* the unit reads /etc/openvpn/server/NAME.conf: point it at ours */
		char *inc = xasprintf("config %s\n", r->f.conf);
		int rc = mkdir_p("/etc/openvpn/server", 0755, err);

		if (rc == 0)
			rc = file_write_atomic(r->f.unit_conf, inc, strlen(inc), 0644, err);
		free(inc);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int unlink_missing_ok(const char *path, struct atlas_err *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO, "unlink \"%s\": %s", path, strerror(errno));
	return 0;
}

/*
 * The section is gone and its daemon stopped: removes the files Atlas
 * rendered for it (ccd/ and its files, server.conf, status.log, the systemd
 * include when it is the one Atlas wrote). The PKI and openvpn.log stay.
 */
static int forget_files(struct apply_run *r, struct atlas_err *err)
{
	DIR *d = opendir(r->f.ccd);
	struct buf inc = BUF_INIT;
	char *want;

	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			char *path;
			int rc;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			path = xasprintf("%s/%s", r->f.ccd, de->d_name);
			rc = unlink_missing_ok(path, err);
			free(path);
			if (rc < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		if (rmdir(r->f.ccd) < 0 && errno != ENOENT)
			return err_set(err, ERR_IO, "rmdir \"%s\": %s", r->f.ccd, strerror(errno));
	} else if (errno != ENOENT) {
		return err_set(err, ERR_IO, "opendir \"%s\": %s", r->f.ccd, strerror(errno));
	}
	if (unlink_missing_ok(r->f.conf, err) < 0 || unlink_missing_ok(r->f.status, err) < 0)
		return -1;
	if (!r->f.unit_conf)
		return 0;
	/* only the one-line include write_conf() wrote: a file of the admin's stays */
	want = xasprintf("config %s\n", r->f.conf);
	if (file_read(r->f.unit_conf, 4096, &inc, NULL) == 0 && !strcmp(buf_str(&inc), want) &&
	    unlink_missing_ok(r->f.unit_conf, err) < 0) {
		free(want);
		buf_release(&inc);
		return -1;
	}
	free(want);
	buf_release(&inc);
	return 0;
}

static int run_one(struct apply_run *r, const struct ovpn_act *a, struct atlas_err *err)
{
	char *path = NULL;
	int ret = -1;

	switch (a->op) {
	case OVPN_OP_CA:
		if (pki_has_ca(r->f.pki))
			return 0;
		return pki_create_ca(r->f.pki, "Atlas OpenVPN CA", err);
	case OVPN_OP_TLS_CRYPT:
		return pki_write_tls_crypt(r->f.pki, err);
	case OVPN_OP_MIGRATE_SERVER:
		return pki_migrate_server(r->f.pki, a->name, err);
	case OVPN_OP_ISSUE_SERVER:
		if (pki_issue(r->f.pki, &r->idx, a->name, 1, err) < 0)
			return -1;
		r->idx_dirty = 1;
		return pki_set_server_cn(r->f.pki, a->name, err);
	case OVPN_OP_ISSUE:
		if (pki_issue(r->f.pki, &r->idx, a->name, 0, err) < 0)
			return -1;
		r->idx_dirty = 1;
		return 0;
	case OVPN_OP_REVOKE:
		if (pki_revoke(r->f.pki, &r->idx, a->name, r->ctx->now, err) < 0)
			return -1;
		r->idx_dirty = 1;
		return 0;
	case OVPN_OP_CRL:
		if (flush_index(r, err) < 0)
			return -1;
		return pki_write_crl(r->f.pki, &r->idx, r->ctx->now, err);
	case OVPN_OP_CCD_WRITE:
		if (mkdir_p(r->f.ccd, 0755, err) < 0)
			return -1;
		path = xasprintf("%s/%s", r->f.ccd, a->name);
		ret = file_write_atomic(path, a->text, strlen(a->text), 0644, err);
		break;
	case OVPN_OP_CCD_REMOVE:
		path = xasprintf("%s/%s", r->f.ccd, a->name);
		ret = unlink_missing_ok(path, err);
		break;
	case OVPN_OP_CONF_WRITE:
		return write_conf(r, a->text, err);
	case OVPN_OP_START:
	case OVPN_OP_RESTART:
		if (flush_index(r, err) < 0 || write_conf(r, a->text, err) < 0)
			return -1;
		if (a->op == OVPN_OP_START ? service_start(r->ctx->service_mode, &r->f.svc, err)
					   : service_restart(r->ctx->service_mode, &r->f.svc, err))
			return -1;
		return wait_ready(r, err);
	case OVPN_OP_STOP:
		return service_stop(r->ctx->service_mode, &r->f.svc, err);
	case OVPN_OP_KILL:
		return 0; /* batched by the caller */
	case OVPN_OP_NAT:
		return nat_run(a->nat, a->family, OVPN_NAT_TABLE, r->ctx->rundir, a->text, err);
	case OVPN_OP_FORGET:
		/* never with the daemon up: it reads server.conf and ccd/ */
		if (service_running(r->ctx->service_mode, &r->f.svc, NULL, err) != 0)
			return err_set(err, ERR_EXEC,
				       "openvpn still runs (or cannot be told): its files stay");
		return forget_files(r, err);
	}
	free(path);
	return ret;
}

int ovpn_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
	       struct action *v, size_t n, json_t *results, struct atlas_err *err)
{
	struct apply_run r = { .ctx = ctx };
	unsigned long *cids = xcalloc(n + 1, sizeof(*cids));
	size_t *kill_at = xcalloc(n + 1, sizeof(*kill_at)), nkill = 0;
	int failed = 0;

	ovpn_files_init(&r.f, ctx->datadir, ctx->rundir, getenv("ATLAS_OVPN_UNIT"));
	/* the section gone, only its NAT table left to remove: no PKI to read */
	if (desired->has_openvpn && pki_index_read(r.f.pki, &r.idx, err) < 0) {
		for (size_t i = 0; i < n; i++)
			plan_result(results, v[i].text, 0, err->msg);
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ovpn_act *a = v[i].data;
		struct atlas_err e = { 0 };
		int rc;

		if (a->op == OVPN_OP_KILL) {
			cids[nkill] = a->cid;
			kill_at[nkill++] = i;
			continue;
		}
		rc = run_one(&r, a, &e);

		if (rc < 0) {
			if (!failed)
				*err = e;
			failed++;
			log_error("openvpn: %s: %s", v[i].text, e.msg);
		}
		plan_result(results, v[i].text, rc == 0, e.msg);
	}
	{
		struct atlas_err e = { 0 };

		if (flush_index(&r, &e) < 0) {
			if (!failed)
				*err = e;
			failed++;
		}
	}
	if (nkill) {
		struct atlas_err e = { 0 };
		size_t gone = 0;
		int rc = ovpn_mgmt_kill(r.f.mgmt, cids, nkill, OVPN_MGMT_KILL_TIMEOUT_MS, &gone, &e);

		if (rc < 0 && !failed)
			*err = e;
		failed += rc < 0;
		if (rc == 0 && wait_gone(&r, cids, nkill, &e) < 0) {
			if (!failed)
				*err = e;
			failed++;
			rc = -1;
		}
		for (size_t k = 0; k < nkill; k++)
			plan_result(results, v[kill_at[k]].text, rc == 0, e.msg);
	}
out:
	pki_index_release(&r.idx);
	ovpn_files_release(&r.f);
	free(cids);
	free(kill_at);
	return failed ? -1 : 0;
}

const struct driver ovpn_driver = {
	.name = "openvpn",
	.observe = ovpn_observe,
	.diff = ovpn_diff,
	.apply = ovpn_apply,
	.obs_free = ovpn_obs_free,
	.status = ovpn_status_json,
	.restart = ovpn_restart,
	.client_config = ovpn_client_config,
	.leftovers = ovpn_leftovers,
};
