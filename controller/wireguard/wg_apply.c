/*
 * wg_apply.c - running WireGuard actions, and the driver table entry.
 *
 * Secrets never reach a command line or a file other than the 0600 record:
 * private keys and preshared keys go to `wg` on its stdin. New peers are
 * added in batches of 1,000 in one change of the device each: a UAPI set on
 * wireguard-go's socket (no program run: one added peer costs one socket
 * exchange), else `wg addconf IF /dev/stdin` for the kernel module; and
 * removed peers in batches of `wg set IF peer K remove ...`. Changed peers
 * get `wg set IF peer K ...` with only what changed (batched as well, with
 * at most one PSK per run since it travels on stdin). None of these
 * touches another peer, and the listen port is sent only when it changes:
 * setting it rebinds the socket even when unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/fileio.h"
#include "lib/spawn.h"
#include "state/keys.h"
#include "renderers/wireguard/wg_render.h"
#include "controller/wireguard/wg.h"

#define CREATE_BATCH 1000
#define SET_BATCH 500

static int run(const char *const argv[], const char *in, size_t inlen, struct atlas_err *err)
{
	struct spawn_opts o = { .stdin_data = in, .stdin_len = inlen, .timeout_ms = WG_RUN_TIMEOUT_MS };
	struct spawn_result res;
	int ret = spawn_check(argv, &o, &res, err);

	spawn_result_release(&res);
	return ret;
}

static int set_key(const char *ifname, const struct wg_iface *ifc, int port,
		   struct atlas_err *err)
{
	char portbuf[16], key[KEY_B64 + 1];
	const char *argv[] = { "wg", "set", ifname, "private-key", "/dev/stdin",
			       port ? "listen-port" : NULL, portbuf, NULL };
	int ret;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	key_text(&ifc->private_key, key);
	strcat(key, "\n");
	ret = run(argv, key, strlen(key), err);
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

static int ip_cmd(const char *a1, const char *a2, const char *a3, const char *a4,
		  const char *a5, const char *a6, struct atlas_err *err)
{
	const char *argv[] = { "ip", a1, a2, a3, a4, a5, a6, NULL };

	return run(argv, NULL, 0, err);
}

static int create_iface(const struct driver_ctx *ctx, const struct wg_iface *ifc,
			struct atlas_err *err)
{
	const char *add[] = { "ip", "link", "add", "dev", ifc->name, "type", "wireguard", NULL };
	char unit[64];
	/*
	 * Under systemd, wireguard-go gets a scope unit of its own: left in
	 * atlas.service's cgroup it would die with every restart of Atlas, and
	 * every tunnel with it.
	 */
	const char *scoped[] = { "systemd-run", "--quiet", "--scope", "--collect", "--unit", unit,
				 "wireguard-go", ifc->name, NULL };
	const char *go[] = { "wireguard-go", ifc->name, NULL };
	static const char *const go_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C",
					      "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1",
					      NULL };
	struct spawn_opts o = { .env = go_env, .timeout_ms = WG_GO_START_TIMEOUT_MS };
	int systemd = ctx->service_mode == SERVICE_SYSTEMD && spawn_which("systemd-run");
	struct spawn_result res;
	char mtu[16];

	snprintf(unit, sizeof(unit), "atlas-wireguard-go-%s", ifc->name);
	/* The kernel module when it works, else userspace, as wg-quick does. */
	if (spawn_run(add, NULL, &res, err) < 0 || !res.exited || res.status != 0) {
		spawn_result_release(&res);
		if (spawn_check(systemd ? scoped : go, &o, &res, err) < 0) {
			spawn_result_release(&res);
			return err_wrap(err, "cannot create interface \"%s\"", ifc->name);
		}
	}
	spawn_result_release(&res);
	if (set_key(ifc->name, ifc, ifc->listen_port, err) < 0)
		return -1;
	for (size_t i = 0; i < ifc->address.n; i++)
		if (ip_cmd("address", "add", ifc->address.v[i], "dev", ifc->name, NULL, err) < 0)
			return -1;
	snprintf(mtu, sizeof(mtu), "%d", ifc->mtu);
	if (ifc->mtu && ip_cmd("link", "set", "dev", ifc->name, "mtu", mtu, err) < 0)
		return -1;
	return ip_cmd("link", "set", "dev", ifc->name, "up", NULL, err);
}

struct conf_sink {
	struct file_atomic f;
	struct atlas_err *err;
};

static int conf_put(void *cls, const char *data, size_t len)
{
	struct conf_sink *k = cls;

	return file_atomic_put(&k->f, data, len, k->err);
}

/* The record of ifc, written as it is rendered (1.3 MB at 10,000 peers, never held whole). */
static int write_conf(const struct driver_ctx *ctx, const struct wg_iface *ifc,
		      struct atlas_err *err)
{
	char *dir = xasprintf("%s/wireguard", ctx->datadir);
	char *path = xasprintf("%s/%s.conf", dir, ifc->name);
	struct conf_sink k = { .err = err };
	struct buf piece = BUF_INIT;
	int ret = -1;

	if (mkdir_p(dir, 0700, err) < 0 || file_atomic_open(&k.f, path, 0600, err) < 0)
		goto out;
	if (render_wg_server_to(ifc, ctx->now, &piece, conf_put, &k) < 0) {
		file_atomic_abort(&k.f);
		goto out;
	}
	ret = file_atomic_commit(&k.f, err);
out:
	buf_release_secure(&piece);
	free(path);
	free(dir);
	return ret;
}

int wg_write_record(const struct driver_ctx *ctx, const struct wg_iface *ifc,
		    struct atlas_err *err)
{
	return write_conf(ctx, ifc, err);
}

static int forget_conf(const struct driver_ctx *ctx, const char *ifname, struct atlas_err *err)
{
	char *path = xasprintf("%s/wireguard/%s.conf", ctx->datadir, ifname);
	int ret = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		ret = err_set(err, ERR_IO, "cannot remove %s: %s", path, strerror(errno));
	free(path);
	return ret;
}

/*
 * Changes v[0..n-1] (updates of one interface, at most one of which sets a
 * PSK: stdin carries one key) with one `wg set IF peer K ... peer K2 ...`,
 * each peer with only the fields that changed.
 */
static int peers_update(struct action *v, size_t n, struct atlas_err *err)
{
	const char **argv = xcalloc(3 + 8 * n + 1, sizeof(*argv));
	char **ips = xcalloc(n, sizeof(*ips)), (*ka)[16] = xcalloc(n, sizeof(*ka));
	char (*keys)[KEY_B64] = xcalloc(n, sizeof(*keys)), psk[KEY_B64 + 1] = "";
	size_t k = 0;
	int ret;

	argv[k++] = "wg";
	argv[k++] = "set";
	argv[k++] = ((const struct wg_act *)v[0].data)->iface;
	for (size_t i = 0; i < n; i++) {
		const struct wg_act *a = v[i].data;
		int keepalive = wg_act_keepalive(a);

		wg_act_key(a, keys[i]);
		argv[k++] = "peer";
		argv[k++] = keys[i];
		if (a->set & WG_SET_ALLOWED) {
			ips[i] = strv_join(a->allowed, ",");
			argv[k++] = "allowed-ips";
			argv[k++] = ips[i];
		}
		if (a->set & WG_SET_KEEPALIVE) {
			snprintf(ka[i], sizeof(ka[i]), "%d", keepalive);
			argv[k++] = "persistent-keepalive";
			argv[k++] = keepalive ? ka[i] : "off";
		}
		if (a->set & (WG_SET_PSK | WG_CLEAR_PSK)) {
			/* An empty key file clears the PSK; the key itself only on stdin. */
			argv[k++] = "preshared-key";
			argv[k++] = a->set & WG_SET_PSK ? "/dev/stdin" : "/dev/null";
			if (a->set & WG_SET_PSK) {
				wg_act_psk(a, psk);
				strcat(psk, "\n");
			}
		}
	}
	ret = run(argv, psk[0] ? psk : NULL, strlen(psk), err);
	OPENSSL_cleanse(psk, sizeof(psk));
	for (size_t i = 0; i < n; i++)
		free(ips[i]);
	free(ips);
	free(ka);
	free(keys);
	free(argv);
	return ret;
}

/*
 * Adds v[0..n-1] (creates of one interface) in one change of the device:
 * one UAPI set on wireguard-go's socket, else one `wg addconf`.
 */
static int peers_create(struct action *v, size_t n, struct atlas_err *err)
{
	const struct wg_act *first = v[0].data;
	const char *argv[] = { "wg", "addconf", first->iface, "/dev/stdin", NULL };
	struct buf conf = BUF_INIT;
	struct atlas_err e = { 0 };
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct wg_act *a = v[i].data;
		char key[KEY_B64], psk[KEY_B64];

		wg_act_key(a, key);
		wg_act_psk(a, psk);
		ret = wg_uapi_peer_text(&conf, key, psk, a->allowed, wg_act_keepalive(a));
		OPENSSL_cleanse(psk, sizeof(psk));
	}
	if (ret == 0 && (ret = wg_uapi_set(first->iface, conf.data, conf.len, &e)) < 0 &&
	    e.code != ERR_NOTFOUND) {
		/* The socket answered and refused: that is the error. */
		buf_release_secure(&conf);
		return err_set(err, e.code, "%s", e.msg);
	}
	buf_release_secure(&conf);
	if (ret == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct wg_act *a = v[i].data;
		char key[KEY_B64], psk[KEY_B64];

		wg_act_key(a, key);
		wg_act_psk(a, psk);
		buf_printf(&conf, "[Peer]\nPublicKey = %s\n", key);
		if (psk[0])
			buf_printf(&conf, "PresharedKey = %s\n", psk);
		OPENSSL_cleanse(psk, sizeof(psk));
		for (size_t k = 0; k < a->allowed->n; k++)
			buf_printf(&conf, "AllowedIPs = %s\n", a->allowed->v[k]);
		if (wg_act_keepalive(a))
			buf_printf(&conf, "PersistentKeepalive = %d\n", wg_act_keepalive(a));
	}
	ret = run(argv, conf.data, conf.len, err);
	buf_release_secure(&conf);
	return ret;
}

static int peers_remove(struct action *v, size_t n, struct atlas_err *err)
{
	const char **argv = xcalloc(3 + 3 * n + 1, sizeof(*argv));
	const struct wg_act *first = v[0].data;
	size_t k = 0;
	int ret;

	argv[k++] = "wg";
	argv[k++] = "set";
	argv[k++] = first->iface;
	for (size_t i = 0; i < n; i++) {
		argv[k++] = "peer";
		argv[k++] = ((const struct wg_act *)v[i].data)->text; /* the key removed */
		argv[k++] = "remove";
	}
	ret = run(argv, NULL, 0, err);
	free(argv);
	return ret;
}

static int apply_one(const struct driver_ctx *ctx, const struct atlas_state *desired,
		     const struct wg_act *a, struct atlas_err *err)
{
	const struct wg_iface *ifc = a->iface ? state_wg_iface(desired, a->iface) : NULL;
	char num[16];

	snprintf(num, sizeof(num), "%d", a->port);
	switch (a->type) {
	case WG_CONF_WRITE:
		return ifc ? write_conf(ctx, ifc, err) : err_set(err, ERR_INTERNAL, "no interface");
	case WG_IF_CREATE:
		return ifc ? create_iface(ctx, ifc, err)
			   : err_set(err, ERR_INTERNAL, "no interface");
	case WG_IF_KEY:
		return ifc ? set_key(a->iface, ifc, 0, err) : err_set(err, ERR_INTERNAL, "no interface");
	case WG_IF_PORT: {
		const char *argv[] = { "wg", "set", a->iface, "listen-port", num, NULL };

		return run(argv, NULL, 0, err);
	}
	case WG_IF_ADDR_ADD:
	case WG_IF_ADDR_DEL:
		return ip_cmd("address", a->type == WG_IF_ADDR_ADD ? "add" : "del", a->text, "dev",
			      a->iface, NULL, err);
	case WG_IF_MTU:
		return ip_cmd("link", "set", "dev", a->iface, "mtu", num, err);
	case WG_IF_UP:
		return ip_cmd("link", "set", "dev", a->iface, "up", NULL, err);
	case WG_IF_DELETE:
		if (ip_cmd("link", "del", "dev", a->iface, NULL, NULL, err) < 0)
			return -1;
		return forget_conf(ctx, a->iface, err);
	case WG_CONF_FORGET:
		return forget_conf(ctx, a->iface, err);
	case WG_FORWARD:
		return nat_run(NAT_FORWARD, a->port, WG_NAT_TABLE, ctx->rundir, NULL, err);
	case WG_NAT_REPLACE:
		return nat_run(NAT_REPLACE, 0, WG_NAT_TABLE, ctx->rundir, a->text, err);
	case WG_NAT_DELETE:
		return nat_run(NAT_DELETE, 0, WG_NAT_TABLE, ctx->rundir, NULL, err);
	case WG_PEER_CREATE:
	case WG_PEER_REMOVE:
	case WG_PEER_UPDATE:
		break;
	}
	return err_set(err, ERR_INTERNAL, "unexpected wireguard action %d", a->type);
}

/*
 * The record of a desired interface an action is about, written once per
 * batch before its first action: the plan does not list this step (it
 * follows from every change of the interface). 0 when written or not
 * needed.
 */
static int record_first(const struct driver_ctx *ctx, const struct atlas_state *desired,
			const struct wg_act *a, struct strv *done, struct atlas_err *err)
{
	const struct wg_iface *ifc;

	if (!a->iface || a->type == WG_IF_DELETE || a->type == WG_CONF_FORGET ||
	    a->type == WG_CONF_WRITE || strv_contains(done, a->iface))
		return 0;
	ifc = desired->has_wireguard && desired->wireguard.enabled
		      ? state_wg_iface(desired, a->iface)
		      : NULL;
	if (!ifc || ifc->disabled)
		return 0;
	strv_push(done, a->iface);
	return write_conf(ctx, ifc, err);
}

int wg_apply(const struct driver_ctx *ctx, const struct atlas_state *desired,
	     struct action *v, size_t n, json_t *results, struct atlas_err *err)
{
	struct strv recorded = STRV_INIT;
	int failed = 0;

	for (size_t i = 0; i < n;) {
		const struct wg_act *a = v[i].data;
		struct atlas_err e = { 0 };
		size_t k = i + 1;
		int rc;

		if (record_first(ctx, desired, a, &recorded, &e) < 0) {
			plan_result(results, v[i].text, 0, e.msg);
			if (!failed++)
				err_set(err, e.code, "%s", e.msg);
			i++;
			continue;
		}

		if (a->type == WG_PEER_CREATE || a->type == WG_PEER_REMOVE ||
		    a->type == WG_PEER_UPDATE) {
			size_t max = a->type == WG_PEER_CREATE ? CREATE_BATCH : SET_BATCH;
			int psks = a->type == WG_PEER_UPDATE && (a->set & WG_SET_PSK);

			while (k < n && k - i < max) {
				const struct wg_act *b = v[k].data;
				int psk = b->type == WG_PEER_UPDATE && (b->set & WG_SET_PSK);

				if (b->type != a->type || strcmp(b->iface, a->iface) || psks + psk > 1)
					break;
				psks += psk;
				k++;
			}
			rc = a->type == WG_PEER_CREATE	 ? peers_create(&v[i], k - i, &e)
			     : a->type == WG_PEER_REMOVE ? peers_remove(&v[i], k - i, &e)
							 : peers_update(&v[i], k - i, &e);
		} else {
			rc = apply_one(ctx, desired, a, &e);
		}
		for (size_t j = i; j < k; j++)
			plan_result(results, v[j].text, rc == 0, e.msg);
		if (rc < 0 && !failed++)
			err_set(err, e.code, "%s", e.msg);
		i = k;
	}
	strv_clear(&recorded);
	return failed ? -1 : 0;
}

const struct driver wg_driver = {
	.name = "wireguard",
	.observe = wg_observe,
	.diff = wg_diff,
	.apply = wg_apply,
	.obs_free = wg_obs_free,
	.status = wg_status,
	/*
	 * A `wg show dump` of 10,000 peers takes 25-35 ms of wireguard-go's
	 * lock, and the round around it much more: a fast set of one peer
	 * waited for the whole round under the engine lock.
	 */
	.status_alone = 1,
	.client_config = wg_client_config,
	.leftovers = wg_leftovers,
};
