/*
 * sb_apply.c - running the sing-box actions in plan order, and the driver
 * table entry.
 *
 * A new config.json is first written as config.check.json and passed
 * through `sing-box check`, then its ports are checked; only then does it
 * replace the old file (atomically) and sing-box start or reload (SIGHUP).
 * A config that fails either step is never installed and the running one
 * keeps serving. Before a reload the per-user traffic is read (a reload
 * resets sing-box's counters). Every step is idempotent.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/clock.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/spawn.h"
#include "state/active.h"
#include "controller/singbox/sb.h"
#include "controller/singbox/sb_ssm.h"

#define READY_TIMEOUT_MS 15000
#define API_TIMEOUT_MS 3000

struct apply_run {
	const struct driver_ctx *ctx;
	const struct atlas_state *st;
	struct sb_files f;
	char *api, *ssm;
};

/* Writes text as config.check.json and runs `sing-box check` on it. */
static int check_conf(struct apply_run *r, const char *text, struct atlas_err *err)
{
	const char *argv[] = { r->f.binary, "--disable-color", "check", "-c", r->f.check, NULL };
	struct spawn_opts o = { .timeout_ms = 60000 };
	struct spawn_result res;
	int ret = -1;

	if (mkdir_p(r->f.dir, 0700, err) < 0 || mkdir_p(r->ctx->rundir, 0755, err) < 0)
		return -1;
	if (file_write_atomic(r->f.check, text, strlen(text), 0600, err) < 0)
		return -1;
	if (spawn_run(argv, &o, &res, err) < 0) {
		err_wrap(err, "sing-box check");
		goto out;
	}
	if (!res.exited || res.status != 0) {
		const char *msg = buf_str(&res.errout);
		size_t n;

		if (!*msg)
			msg = buf_str(&res.out);
		n = strcspn(msg, "\n");
		err_set(err, ERR_INVALID, "sing-box check refused the new config (not installed): %.*s",
			(int)(n > 600 ? 600 : n), msg);
		goto out;
	}
	ret = 0;
out:
	spawn_result_release(&res);
	unlink(r->f.check);
	return ret;
}

static int install_conf(struct apply_run *r, const char *text, struct atlas_err *err)
{
	if (r->ctx->service_mode == SERVICE_SYSTEMD && mkdir_p("/etc/sing-box", 0700, err) < 0)
		return -1;
	return file_write_atomic(r->f.conf, text, strlen(text), 0600, err);
}

static long running_pid(struct apply_run *r)
{
	pid_t pid = 0;

	if (service_running(r->ctx->service_mode, &r->f.svc, &pid, NULL) != 1)
		return -1;
	if (!pid && r->ctx->service_mode == SERVICE_SYSTEMD) {
		const char *argv[] = { "systemctl", "show", "-p", "MainPID", "--value",
				       r->f.unit, NULL };
		struct spawn_result res;

		if (spawn_run(argv, NULL, &res, NULL) == 0 && res.exited && res.status == 0)
			pid = (pid_t)strtol(buf_str(&res.out), NULL, 10);
		spawn_result_release(&res);
	}
	return pid;
}

/*
 * Waits until the api service answers with a start time other than old (0:
 * any): the new instance runs. Fails early when sing-box is gone.
 */
static int wait_started(struct apply_run *r, int64_t old, const char *what,
			struct atlas_err *err)
{
	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 100) {
		int64_t at = 0;

		if (running_pid(r) < 0)
			break;
		if (sb_api_started_at(r->api, r->st->singbox.api_secret, 1000, &at, NULL) == 0 &&
		    at && at != old)
			return 0;
		clock_sleep_ms(100);
	}
	return err_set(err, ERR_EXEC, "sing-box %s%s",
		       running_pid(r) < 0 ? "exited" : "did not answer", what);
}

/*
 * Before sing-box starts: its SSM API rebuilds an inbound's whole user list
 * on every add (10,000 adds one by one took 85-100 s), but it loads its
 * cache file in one go when it starts. So each managed Shadowsocks
 * inbound's users in that file are set to its active users now, in
 * sing-box's own format (service/ssmapi/cache.go in 1.14: endpoints by
 * server path, users by name, the same key Atlas posts), keeping what else
 * the file holds (sing-box's counters, other endpoints); sing-box is not
 * running, so nobody else writes it. The SSM sync after the start finds
 * the users there and adds only what is missing. A sing-box that reads the
 * file otherwise logs it, removes it and starts with no users: the sync
 * then adds them one by one, as before.
 */
static void seed_ssm_cache(struct apply_run *r)
{
	struct atlas_err e = { 0 };
	struct buf old = BUF_INIT;
	json_t *root = NULL, *eps;
	char today[MOMENT_LEN], *text = NULL;
	size_t n = 0, ss = 0;

	if (!r->st->has_singbox)
		return;
	for (size_t i = 0; i < r->st->singbox.ninbounds; i++)
		ss += r->st->singbox.inbounds[i].type == SB_SHADOWSOCKS;
	if (!ss)
		return;
	/* what sing-box left (counters), or a new file; one it cannot have written is replaced */
	if (file_read(r->f.cache, 64u << 20, &old, NULL) == 0 && old.len)
		root = json_loadb(old.data, old.len, 0, NULL);
	buf_release_secure(&old);
	if (!json_is_object(root) ||
	    (json_object_get(root, "endpoints") &&
	     !json_is_object(json_object_get(root, "endpoints")))) {
		json_decref(root);
		root = json_object();
	}
	if (!(eps = json_object_get(root, "endpoints"))) {
		eps = json_object();
		json_object_set_new(root, "endpoints", eps);
	}
	moment_text((long long)r->ctx->now, today, sizeof(today));
	for (size_t i = 0; i < r->st->singbox.ninbounds; i++) {
		const struct sb_inbound *in = &r->st->singbox.inbounds[i];
		size_t kb = (size_t)sb_method_key_len(in->method);
		char *path;
		json_t *ep, *users;

		if (in->type != SB_SHADOWSOCKS)
			continue;
		path = sb_ssm_prefix(in->name);
		ep = json_object_get(eps, path);
		if (!json_is_object(ep)) {
			ep = json_object();
			json_object_set_new(eps, path, ep);
		}
		users = json_object();
		for (size_t k = 0; k < in->nusers; k++) {
			const struct sb_user *u = &in->users[k];

			/* the keys sing-box takes (a refused one would list a user it does not serve) */
			if (u->password && sb_user_active(u, today) &&
			    sb_ssm_key_check(u->password, kb, NULL) == 0) {
				json_object_set_new(users, u->name, json_string(u->password));
				n++;
			}
		}
		json_object_set_new(ep, "users", users);
		free(path);
	}
	text = json_dumps(root, JSON_COMPACT);
	if (text && file_write_atomic(r->f.cache, text, strlen(text), 0600, &e) == 0)
		log_info("singbox: %zu Shadowsocks users set in the SSM cache before the start", n);
	else
		log_warn("singbox: the SSM cache is not set (%s): users are added one by one",
			 text ? e.msg : "out of memory");
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	json_decref(root); /* its copies of the keys go unwiped, as every jansson tree of them */
}

static int op_start(struct apply_run *r, const struct sb_act *a, struct atlas_err *err)
{
	char line[400];

	/* the adopted process is gone: Atlas runs its own, with its own files */
	sb_adopted_forget(&r->f);
	if (r->f.adopted_argv || r->f.adopted_render) {
		sb_files_release(&r->f);
		sb_files_init(&r->f, r->ctx, r->st->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
		if (r->ctx->service_mode == SERVICE_DIRECT)
			sb_files_adopt(&r->f);
	}

	if (check_conf(r, a->text, err) < 0 || sb_ports_check(r->st, 0, err) < 0 ||
	    install_conf(r, a->text, err) < 0)
		return -1;
	seed_ssm_cache(r);
	if (service_start(r->ctx->service_mode, &r->f.svc, err) < 0)
		return -1;
	if (wait_started(r, 0, " after start", err) == 0)
		return 0;
	file_last_line_with(r->f.log, (const char *const[]){ "FATAL", "ERROR", NULL }, line,
			    sizeof(line));
	if (line[0])
		err_wrap(err, "%s", line);
	return -1;
}

static int op_reload(struct apply_run *r, const struct sb_act *a, struct atlas_err *err)
{
	struct atlas_err e = { 0 };
	int64_t old = 0;
	char line[400];
	long pid;

	if (check_conf(r, a->text, err) < 0)
		return -1;
	pid = running_pid(r);
	if (pid < 0)
		return op_start(r, a, err);
	if (sb_ports_check(r->st, pid, err) < 0)
		return -1;
	/* sing-box's counters start from zero again after the reload */
	if (sb_traffic_sample(r->ctx, r->st, &r->f, &e) < 0)
		log_warn("singbox: traffic before the reload: %s", e.msg);
	{
		/* the config it runs until the reload may have other ports and secret */
		struct atlas_state view;
		char *hold, *api;

		sb_running_view(r->st, &r->f, &view, &hold);
		api = sb_api_addr(&view);
		sb_api_started_at(api, view.singbox.api_secret, API_TIMEOUT_MS, &old, NULL);
		free(api);
		free_secret(hold);
	}
	if (install_conf(r, a->text, err) < 0)
		return -1;
	if (r->ctx->service_mode == SERVICE_SYSTEMD) {
		const char *argv[] = { "systemctl", "reload", r->f.unit, NULL };
		struct spawn_opts o = { .timeout_ms = 60000 };
		struct spawn_result res;
		int rc = spawn_check(argv, &o, &res, err);

		spawn_result_release(&res);
		if (rc < 0)
			return -1;
	} else if (pid <= 0 || kill((pid_t)pid, SIGHUP) < 0) {
		return err_set(err, ERR_EXEC, "sing-box reload: cannot signal pid %ld: %s", pid,
			       strerror(errno));
	}
	if (wait_started(r, old, " on reload", err) == 0)
		return 0;
	file_last_line_with(r->f.log, (const char *const[]){ "FATAL", "ERROR", NULL }, line,
			    sizeof(line));
	return err_set(err, ERR_EXEC, "sing-box %s%s%s",
		       running_pid(r) < 0 ? "exited on reload (the next reconcile starts it)"
					  : "did not reload",
		       line[0] ? ": " : "", line);
}

/* Removes every file of DATADIR/singbox and the folder. */
static int remove_files(struct apply_run *r, struct atlas_err *err)
{
	DIR *d = opendir(r->f.dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = xasprintf("%s/%s", r->f.dir, de->d_name);
			if (unlink(p) < 0 && errno != ENOENT)
				log_warn("singbox: cannot remove %s: %s", p, strerror(errno));
			free(p);
		}
		closedir(d);
	}
	if (rmdir(r->f.dir) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO, "rmdir \"%s\": %s", r->f.dir, strerror(errno));
	if (r->ctx->service_mode == SERVICE_SYSTEMD)
		unlink(r->f.conf);
	unlink(r->f.pidfile);
	return 0;
}

static const struct sb_inbound *inbound_of(const struct atlas_state *st, const char *name)
{
	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		if (!strcmp(st->singbox.inbounds[i].name, name))
			return &st->singbox.inbounds[i];
	return NULL;
}

/* Makes the SSM users of one inbound exactly its active users. */
static int ssm_user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sb_ssm_user *)a)->name, ((const struct sb_ssm_user *)b)->name);
}

static int ssm_sync(struct apply_run *r, const char *inbound, struct atlas_err *err)
{
	const struct sb_inbound *in = inbound_of(r->st, inbound);
	char *prefix = sb_ssm_prefix(inbound), today[MOMENT_LEN];
	struct sb_ssm_users have = { 0 };
	size_t kb;
	int ret = -1;

	if (!in) {
		err_set(err, ERR_NOTFOUND, "singbox inbound \"%s\" is gone", inbound);
		goto out;
	}
	kb = (size_t)sb_method_key_len(in->method);
	moment_text((long long)r->ctx->now, today, sizeof(today));
	if (sb_ssm_list(r->ssm, prefix, &have, err) < 0)
		goto out;
	/* both sides found by name through a bisection, not a scan per user */
	qsort(have.v, have.n, sizeof(*have.v), ssm_user_cmp);
	for (size_t i = 0; i < have.n; i++) {
		const struct sb_user *u = state_sb_user(in, have.v[i].name);

		if ((!u || !sb_user_active(u, today)) &&
		    sb_ssm_delete(r->ssm, prefix, have.v[i].name, err) < 0)
			goto out;
	}
	for (size_t k = 0; k < in->nusers; k++) {
		const struct sb_user *u = &in->users[k];
		const struct sb_ssm_user key = { .name = u->name }, *h;

		if (!sb_user_active(u, today))
			continue;
		h = bsearch(&key, have.v, have.n, sizeof(*have.v), ssm_user_cmp);
		if (h && h->key && u->password && !strcmp(h->key, u->password))
			continue;
		if ((h ? sb_ssm_update(r->ssm, prefix, u->name, u->password, kb, err)
		       : sb_ssm_add(r->ssm, prefix, u->name, u->password, kb, err)) < 0)
			goto out;
	}
	ret = 0;
out:
	sb_ssm_users_release(&have);
	free(prefix);
	return ret;
}

static int run_one(struct apply_run *r, const struct sb_act *a, struct atlas_err *err)
{
	char *prefix = NULL;
	int ret = -1;

	switch (a->op) {
	case SB_OP_START:
		return op_start(r, a, err);
	case SB_OP_RELOAD:
		return op_reload(r, a, err);
	case SB_OP_STOP:
		return service_stop(r->ctx->service_mode, &r->f.svc, err);
	case SB_OP_REMOVE:
		if (service_stop(r->ctx->service_mode, &r->f.svc, err) < 0)
			return -1;
		return remove_files(r, err);
	case SB_OP_SSM_SYNC:
		return ssm_sync(r, a->inbound, err);
	case SB_OP_SSM_ADD:
	case SB_OP_SSM_UPDATE:
	case SB_OP_SSM_DELETE:
		prefix = sb_ssm_prefix(a->inbound);
		if (a->op == SB_OP_SSM_ADD)
			ret = sb_ssm_add(r->ssm, prefix, a->user, a->key, (size_t)a->key_bytes, err);
		else if (a->op == SB_OP_SSM_UPDATE)
			ret = sb_ssm_update(r->ssm, prefix, a->user, a->key, (size_t)a->key_bytes,
					    err);
		else
			ret = sb_ssm_delete(r->ssm, prefix, a->user, err);
		free(prefix);
		return ret;
	case SB_OP_CLOSE:
		return sb_api_close(r->api, r->st->singbox.api_secret, a->conn, API_TIMEOUT_MS,
				    err);
	}
	return err_set(err, ERR_INTERNAL, "unknown singbox action");
}

/* Waits (up to 3 s) until the closed connections are no longer listed open. */
static void wait_closed(struct apply_run *r, struct action *v, size_t n)
{
	for (int waited = 0; waited < 3000; waited += 100) {
		struct sb_conns c = { 0 };
		int left = 0;

		if (sb_api_connections(r->api, r->st->singbox.api_secret, 0, API_TIMEOUT_MS, &c,
				       NULL) < 0)
			return;
		for (size_t i = 0; i < n; i++) {
			const struct sb_act *a = v[i].data;

			for (size_t k = 0; a->op == SB_OP_CLOSE && k < c.n; k++)
				left += !strcmp(c.v[k].id, a->conn);
		}
		sb_conns_release(&c);
		if (!left)
			return;
		clock_sleep_ms(100);
	}
}

int sb_apply(const struct driver_ctx *ctx, const struct atlas_state *desired, struct action *v,
	     size_t n, json_t *results, struct atlas_err *err)
{
	struct apply_run r = { .ctx = ctx, .st = desired };
	int failed = 0, closes = 0, sampled = 0;

	sb_files_init(&r.f, ctx, desired->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
	sb_files_select(&r.f, ctx->service_mode);
	r.api = sb_api_addr(desired);
	r.ssm = sb_ssm_addr(desired);
	for (size_t i = 0; i < n; i++) {
		const struct sb_act *a = v[i].data;
		struct atlas_err e = { 0 };
		int rc;

		/* SSM forgets a deleted user's counters: read them first */
		if (!sampled && (a->op == SB_OP_SSM_DELETE || a->op == SB_OP_SSM_SYNC ||
				 a->op == SB_OP_STOP || a->op == SB_OP_REMOVE)) {
			sampled = 1;
			if (sb_traffic_sample(ctx, desired, &r.f, &e) < 0)
				log_warn("singbox: traffic before \"%s\": %s", v[i].text, e.msg);
			err_clear(&e);
		}
		rc = run_one(&r, a, &e);

		closes += a->op == SB_OP_CLOSE && rc == 0;
		if (rc < 0) {
			if (!failed)
				*err = e;
			failed++;
			log_error("singbox: %s: %s", v[i].text, e.msg);
		}
		json_array_append_new(results, json_pack("{s:s, s:b, s:s?}", "text", v[i].text, "ok",
							 rc == 0, "error", rc == 0 ? NULL : e.msg));
		/* a failed start or reload leaves nothing for the live steps to act on */
		if (rc < 0 && (a->op == SB_OP_START || a->op == SB_OP_RELOAD))
			break;
	}
	if (closes)
		wait_closed(&r, v, n);
	free(r.api);
	free(r.ssm);
	sb_files_release(&r.f);
	return failed ? -1 : 0;
}

const struct driver sb_driver = {
	.name = "singbox",
	.observe = sb_observe,
	.diff = sb_diff,
	.apply = sb_apply,
	.obs_free = sb_obs_free,
	.status = sb_status_json,
	.client_config = sb_client_config,
	.leftovers = sb_leftovers,
};
