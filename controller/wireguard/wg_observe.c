/*
 * wg_observe.c - reading WireGuard interfaces as they are: `ip -j addr show`
 * for the link, `wg show IF dump` for the device and its peers, the record
 * files in DATADIR/wireguard, the forwarding switches and the NAT table.
 *
 * The device is read over its UAPI socket when it has one (wireguard-go;
 * wg_uapi.c), else with `wg show IF dump` (the kernel module): bench/wg.sh
 * measures both. ATLAS_WG_OBSERVE=dump forces the second.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "lib/fileio.h"
#include "lib/ipaddr.h"
#include "lib/spawn.h"
#include "state/keys.h"
#include "controller/wireguard/wg.h"

/* Splits line on tabs into at most max fields; returns their number (wg.h). */
size_t wg_split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

int wg_parse_dump(char *text, struct wg_obs_iface *ifc, struct atlas_err *err)
{
	char *line, *next, *f[9];
	size_t nline = 0, cap = 0;
	int ret = -1;

	for (line = text; line && *line; line = next) {
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		nf = wg_split_tabs(line, f, 9);
		if (nline++ == 0) {
			/* private-key public-key listen-port fwmark */
			if (nf != 4 || strlen(f[1]) != KEY_B64 - 1) {
				err_set(err, ERR_INVALID, "wg show dump: bad interface line");
				goto out;
			}
			memcpy(ifc->public_key, f[1], KEY_B64);
			ifc->listen_port = atoi(f[2]);
			continue;
		}
		/* public-key psk endpoint allowed-ips handshake rx tx keepalive */
		if (nf != 8 || strlen(f[0]) != KEY_B64 - 1) {
			err_set(err, ERR_INVALID, "wg show dump: bad peer line %zu", nline);
			goto out;
		}
		if (ifc->npeers == cap) {
			cap = cap ? cap * 2 : 16;
			ifc->peers = xrealloc(ifc->peers, cap * sizeof(*ifc->peers));
		}
		{
			struct wg_obs_peer *p = &ifc->peers[ifc->npeers++];

			memset(p, 0, sizeof(*p));
			memcpy(p->public_key, f[0], KEY_B64);
			if (strcmp(f[1], "(none)") && strlen(f[1]) == KEY_B64 - 1)
				memcpy(p->preshared_key, f[1], KEY_B64);
			if (strcmp(f[2], "(none)"))
				p->endpoint = xstrdup(f[2]);
			if (strcmp(f[3], "(none)")) {
				struct strv raw = STRV_INIT;
				char norm[64];

				strv_split(&raw, f[3], ',');
				for (size_t k = 0; k < raw.n; k++)
					strv_push(&p->allowed_ips,
						  ip_normalize(raw.v[k], 1, norm, sizeof(norm))
							  ? raw.v[k]
							  : norm);
				strv_clear(&raw);
			}
			strv_sort(&p->allowed_ips);
			p->handshake = atoll(f[4]);
			p->rx = strtoull(f[5], NULL, 10);
			p->tx = strtoull(f[6], NULL, 10);
			p->keepalive = strcmp(f[7], "off") ? atoi(f[7]) : 0;
		}
	}
	if (nline == 0) {
		err_set(err, ERR_INVALID, "wg show dump: empty output");
		goto out;
	}
	if (ifc->npeers) /* qsort(NULL, 0, ...) is undefined */
		qsort(ifc->peers, ifc->npeers, sizeof(*ifc->peers), wg_obs_peer_cmp);
	ret = 0;
out:
	return ret;
}

int wg_parse_ip_addr(const char *text, struct wg_obs_iface *ifc, struct atlas_err *err)
{
	json_t *j = json_loads(text, 0, NULL), *link, *v;
	size_t i;
	int ret = -1;

	link = json_is_array(j) ? json_array_get(j, 0) : NULL;
	if (!json_is_object(link)) {
		err_set(err, ERR_INVALID, "ip -j addr show: unexpected output");
		goto out;
	}
	ifc->mtu = (int)json_integer_value(json_object_get(link, "mtu"));
	json_array_foreach(json_object_get(link, "flags"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), "UP"))
			ifc->up = 1;
	json_array_foreach(json_object_get(link, "addr_info"), i, v) {
		const char *local = json_string_value(json_object_get(v, "local"));
		const char *scope = json_string_value(json_object_get(v, "scope"));
		json_int_t plen = json_integer_value(json_object_get(v, "prefixlen"));
		char a[96];

		if (!local || (scope && !strcmp(scope, "link")))
			continue;
		snprintf(a, sizeof(a), "%s/%lld", local, (long long)plen);
		strv_push(&ifc->addresses, a);
	}
	strv_sort(&ifc->addresses);
	ret = 0;
out:
	json_decref(j);
	return ret;
}

void wg_obs_iface_release(struct wg_obs_iface *ifc)
{
	for (size_t i = 0; i < ifc->npeers; i++) {
		OPENSSL_cleanse(ifc->peers[i].preshared_key, KEY_B64);
		strv_clear(&ifc->peers[i].allowed_ips);
		free(ifc->peers[i].endpoint);
	}
	free(ifc->peers);
	free(ifc->name);
	free(ifc->error);
	strv_clear(&ifc->addresses);
	buf_release_secure(&ifc->conf);
	memset(ifc, 0, sizeof(*ifc));
}

char *wg_missing_programs(void)
{
	struct buf b = BUF_INIT;

	if (!spawn_which("ip"))
		buf_puts(&b, "ip (iproute2)");
	if (!spawn_which("wg"))
		buf_printf(&b, "%swg (wireguard-tools)", b.len ? ", " : "");
	/* Without the kernel module wireguard-go runs the interfaces. */
	if (!file_exists("/sys/module/wireguard") && !spawn_which("wireguard-go"))
		buf_printf(&b, "%swireguard-go (no wireguard kernel module)", b.len ? ", " : "");
	if (!spawn_which("nft"))
		buf_printf(&b, "%snft (nftables)", b.len ? ", " : "");
	return b.len ? buf_detach(&b) : NULL;
}

/* Reads one interface: link, device, record. */
static void observe_iface(const char *confdir, struct wg_obs_iface *ifc)
{
	const char *ip_argv[] = { "ip", "-j", "addr", "show", "dev", ifc->name, NULL };
	const char *wg_argv[] = { "wg", "show", ifc->name, "dump", NULL };
	struct spawn_opts big = { .out_cap = WG_DUMP_CAP, .timeout_ms = WG_DUMP_TIMEOUT_MS };
	struct spawn_result res;
	struct atlas_err e = { 0 };
	char *path = xasprintf("%s/%s.conf", confdir, ifc->name);
	const char *mode = getenv("ATLAS_WG_OBSERVE");	/* "dump": never the socket (bench) */

	if (file_read(path, 64u << 20, &ifc->conf, &e) == 0)
		ifc->recorded = 1;
	free(path);
	if (spawn_run(ip_argv, NULL, &res, &e) < 0) {
		ifc->error = xstrdup(e.msg);
		return;
	}
	if (res.exited && res.status == 0 && wg_parse_ip_addr(buf_str(&res.out), ifc, &e) == 0)
		ifc->exists = 1;
	spawn_result_release(&res);
	if (!ifc->exists)
		return;
	/* The UAPI socket when there is one (measured cheaper), else `wg show dump`. */
	if (!mode || strcmp(mode, "dump")) {
		int got;

		if (wg_uapi_observe(ifc->name, ifc, &got, &e) == 0)
			ifc->readable = 1;
		else if (got)
			ifc->error = xstrdup(e.msg);
		if (got)
			return;
	}
	if (spawn_run(wg_argv, &big, &res, &e) < 0) {
		ifc->error = xstrdup(e.msg);
		return;
	}
	while (res.errout.len && strchr(" \n", res.errout.data[res.errout.len - 1]))
		res.errout.data[--res.errout.len] = '\0';
	if (!res.exited || res.status != 0 || res.truncated)
		/* no UAPI socket and no kernel WireGuard: another kind of device has the name */
		ifc->error = xasprintf("wg show %s dump failed: %.200s%s", ifc->name,
				       res.truncated ? "output too large" : buf_str(&res.errout),
				       !res.truncated && strstr(buf_str(&res.errout), "Protocol not supported")
					       ? " (a network device of that name exists and is not "
						 "WireGuard: Atlas leaves it alone; name the interface "
						 "otherwise, or remove that device)"
					       : "");
	else if (!res.out.data || wg_parse_dump(res.out.data, ifc, &e) < 0)
		ifc->error = xstrdup(e.msg);
	else
		ifc->readable = 1;
	buf_release_secure(&res.out);
	spawn_result_release(&res);
}

/* 1 when name.conf under the record folder could be an interface's record. */
static int record_name(const char *file, char name[64])
{
	size_t l = strlen(file);

	/* Only names Atlas could have written: interface names. */
	if (l < 6 || l - 5 > 15 || strcmp(file + l - 5, ".conf") ||
	    strspn(file, "abcdefghijklmnopqrstuvwxyz0123456789_.-") < l - 5)
		return 0;
	memcpy(name, file, l - 5);
	name[l - 5] = '\0';
	return 1;
}

int wg_leftovers(const struct driver_ctx *ctx)
{
	char *confdir = xasprintf("%s/wireguard", ctx->datadir);
	char *nat = xasprintf("%s/%s.nft", ctx->rundir, WG_NAT_TABLE);
	DIR *d = opendir(confdir);
	int ret = file_exists(nat);

	if (d) {
		struct dirent *de;
		char name[64];

		while (!ret && (de = readdir(d)))
			ret = record_name(de->d_name, name);
		closedir(d);
	}
	free(confdir);
	free(nat);
	return ret;
}

void wg_observe_prefetch(const char *datadir)
{
	const char *mode = getenv("ATLAS_WG_OBSERVE");
	char *confdir = xasprintf("%s/wireguard", datadir);
	DIR *d = mode && !strcmp(mode, "dump") ? NULL : opendir(confdir);
	struct dirent *de;
	char name[64];

	while (d && (de = readdir(d)))
		if (record_name(de->d_name, name))
			wg_uapi_prefetch(name);
	if (d)
		closedir(d);
	free(confdir);
}

static int iface_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wg_obs_iface *)a)->name,
		      ((const struct wg_obs_iface *)b)->name);
}

static void add_name(struct wg_obs *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->ifaces[i].name, name))
			return;
	o->ifaces = xrealloc(o->ifaces, (o->n + 1) * sizeof(*o->ifaces));
	memset(&o->ifaces[o->n], 0, sizeof(*o->ifaces));
	o->ifaces[o->n++].name = xstrdup(name);
}

int wg_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obsp,
	       struct atlas_err *err)
{
	char *missing = wg_missing_programs();
	struct wg_obs *o;
	DIR *d;

	*obsp = NULL;
	if (missing) {
		err_set(err, ERR_EXEC, "missing programs: %s; install them with: %s", missing,
			WG_INSTALL_HINT);
		free(missing);
		return -1;
	}
	o = xcalloc(1, sizeof(*o));
	o->confdir = xasprintf("%s/wireguard", ctx->datadir);
	for (size_t i = 0; i < desired->wireguard.ninterfaces; i++)
		add_name(o, desired->wireguard.interfaces[i].name);
	d = opendir(o->confdir);
	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			char name[64];

			if (record_name(de->d_name, name))
				add_name(o, name);
		}
		closedir(d);
	}
	if (o->n)
		qsort(o->ifaces, o->n, sizeof(*o->ifaces), iface_cmp);
	/*
	 * The system side first: its program runs overlap with a device still
	 * building the reply to a get=1 sent ahead (wg_observe_prefetch).
	 */
	o->forward4 = nat_forwarding_read(4);
	o->forward6 = nat_forwarding_read(6);
	/* The default routes name the egress only when the settings do not (two program runs). */
	if (!desired->settings.egress_interface) {
		o->egress4 = nat_default_egress(4);
		o->egress6 = nat_default_egress(6);
	}
	if (nat_observe(WG_NAT_TABLE, ctx->rundir, &o->nat, err) < 0) {
		wg_obs_free(o);
		return -1;
	}
	for (size_t i = 0; i < o->n; i++)
		observe_iface(o->confdir, &o->ifaces[i]);
	*obsp = o;
	return 0;
}

void wg_obs_free(void *p)
{
	struct wg_obs *o = p;

	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++)
		wg_obs_iface_release(&o->ifaces[i]);
	free(o->ifaces);
	free(o->egress4);
	free(o->egress6);
	free(o->confdir);
	nat_obs_release(&o->nat);
	free(o);
}
