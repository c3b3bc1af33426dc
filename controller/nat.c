/*
 * nat.c - forwarding switches and the per-engine nftables NAT table: the
 * plan every engine shares, and the programs and files behind it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/fileio.h"
#include "lib/spawn.h"
#include "controller/nat.h"

/* The listing part of a rendered script: after its first two lines. */
static const char *table_part(const char *rendered)
{
	const char *p = strchr(rendered, '\n');

	p = p ? strchr(p + 1, '\n') : NULL;
	return p ? p + 1 : rendered;
}

int nat_in_sync(const char *rendered, const struct nat_obs *obs)
{
	if (!obs->readable || !obs->exists)
		return 0;
	if (!strcmp(buf_str(&obs->listing), table_part(rendered)))
		return 1;
	/* nft printed it its own way last time: the recorded copies say it is ours. */
	return obs->rec_listing.len && !strcmp(buf_str(&obs->rec_rendered), rendered) &&
	       !strcmp(buf_str(&obs->rec_listing), buf_str(&obs->listing));
}

int nat_plan(struct plan *plan, const struct nat_want *w, const struct nat_sys *sys,
	     const struct nat_obs *obs, struct buf *notes)
{
	const char *egress = w->egress ? w->egress : sys->egress4 ? sys->egress4 : sys->egress6;
	struct atlas_err e = { 0 };
	int v4 = 0, v6 = 0, incomplete = 0;

	for (size_t i = 0; i < w->n; i++) {
		v4 |= !w->nets[i].v6;
		v6 |= w->nets[i].v6;
	}
	for (int fam = 4; fam <= 6; fam += 2) {
		int cur = fam == 4 ? sys->forward4 : sys->forward6;

		if ((fam == 4 ? v4 : v6) && cur != 1)
			plan_add(plan, w->engine, ACT_UPDATE, "forwarding",
				 w->act_new(NAT_FORWARD, fam, NULL), w->act_free, "~ system %s %s -> 1",
				 fam == 4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding",
				 cur < 0 ? "(unreadable)" : "0");
	}
	if (w->n) {
		struct buf script = BUF_INIT;

		if (nat_render(w->table, w->nets, w->n, egress, &script, &e) < 0) {
			buf_printf(notes, "%snat: %s", notes->len ? "; " : "", e.msg);
			incomplete = 1;
		} else if (!nat_in_sync(buf_str(&script), obs)) {
			plan_add(plan, w->engine, obs->exists ? ACT_UPDATE : ACT_CREATE, "nat",
				 w->act_new(NAT_REPLACE, 0, buf_detach(&script)), w->act_free,
				 "%c nftables table inet %s: masquerade %zu network%s out of %s%s",
				 obs->exists ? '~' : '+', w->table, w->n, w->n == 1 ? "" : "s",
				 egress ? egress : "any interface but the tunnel",
				 egress && !w->egress ? " (default route)" : "");
		}
		buf_release(&script);
	} else if (obs->exists && (!w->recorded_only || obs->rec_rendered.len)) {
		plan_add(plan, w->engine, ACT_DELETE, "nat", w->act_new(NAT_DELETE, 0, NULL),
			 w->act_free, "- nftables table inet %s", w->table);
	}
	if (!obs->readable) {
		buf_printf(notes, "%snftables table inet %s could not be read", notes->len ? "; " : "",
			   w->table);
		incomplete = 1;
	}
	return incomplete;
}

int nat_run(enum nat_kind kind, int family, const char *table, const char *statedir,
	    const char *script, struct atlas_err *err)
{
	switch (kind) {
	case NAT_FORWARD:
		return nat_forwarding_enable(family, err);
	case NAT_REPLACE:
		return nat_apply(table, statedir, script, err);
	case NAT_DELETE:
		return nat_remove(table, statedir, err);
	}
	return err_set(err, ERR_INTERNAL, "unexpected nat action %d", (int)kind);
}

/* Runs `nft list table inet TABLE` into out; *exists tells whether it is there. */
static int nft_list(const char *table, struct buf *out, int *exists, struct atlas_err *err)
{
	const char *argv[] = { "nft", "list", "table", "inet", table, NULL };
	struct spawn_result res;
	int ret = -1;

	*exists = 0;
	if (spawn_run(argv, NULL, &res, err) < 0)
		return -1;
	if (res.exited && res.status == 0) {
		buf_add(out, res.out.data, res.out.len);
		*exists = 1;
		ret = 0;
	} else if (strstr(buf_str(&res.errout), "No such file or directory")) {
		ret = 0;
	} else {
		err_set(err, ERR_EXEC, "nft list table inet %s failed: %.200s", table,
			buf_str(&res.errout));
	}
	spawn_result_release(&res);
	return ret;
}

int nat_observe(const char *table, const char *statedir, struct nat_obs *obs,
		struct atlas_err *err)
{
	struct atlas_err e2;
	char *path;

	memset(obs, 0, sizeof(*obs));
	if (!spawn_which("nft"))
		return err_set(err, ERR_EXEC, "nft is not installed");
	obs->readable = nft_list(table, &obs->listing, &obs->exists, &e2) == 0;
	path = xasprintf("%s/%s.nft", statedir, table);
	file_read(path, 1 << 20, &obs->rec_rendered, &e2);
	free(path);
	path = xasprintf("%s/%s.list", statedir, table);
	file_read(path, 1 << 20, &obs->rec_listing, &e2);
	free(path);
	return 0;
}

void nat_obs_release(struct nat_obs *obs)
{
	buf_release(&obs->listing);
	buf_release(&obs->rec_rendered);
	buf_release(&obs->rec_listing);
}

int nat_apply(const char *table, const char *statedir, const char *rendered,
	      struct atlas_err *err)
{
	const char *argv[] = { "nft", "-f", "/dev/stdin", NULL };
	struct spawn_opts o = { .stdin_data = rendered, .stdin_len = strlen(rendered) };
	struct spawn_result res;
	struct buf listing = BUF_INIT;
	char *path = NULL;
	int ret = -1, exists;

	if (spawn_check(argv, &o, &res, err) < 0)
		goto out;
	if (nft_list(table, &listing, &exists, err) < 0)
		goto out;
	if (mkdir_p(statedir, 0700, err) < 0)
		goto out;
	path = xasprintf("%s/%s.nft", statedir, table);
	if (file_write_atomic(path, rendered, strlen(rendered), 0600, err) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/%s.list", statedir, table);
	if (file_write_atomic(path, listing.data ? listing.data : "", listing.len, 0600, err) < 0)
		goto out;
	ret = 0;
out:
	spawn_result_release(&res);
	buf_release(&listing);
	free(path);
	return ret;
}

int nat_remove(const char *table, const char *statedir, struct atlas_err *err)
{
	const char *argv[] = { "nft", "delete", "table", "inet", table, NULL };
	struct spawn_result res;
	struct buf listing = BUF_INIT;
	char *path;
	int exists, ret = -1;

	if (nft_list(table, &listing, &exists, err) < 0)
		goto out;
	if (exists && spawn_check(argv, NULL, &res, err) < 0) {
		spawn_result_release(&res);
		goto out;
	}
	if (exists)
		spawn_result_release(&res);
	path = xasprintf("%s/%s.nft", statedir, table);
	unlink(path);
	free(path);
	path = xasprintf("%s/%s.list", statedir, table);
	unlink(path);
	free(path);
	ret = 0;
out:
	buf_release(&listing);
	return ret;
}

char *nat_default_egress(int family)
{
	const char *argv[] = { "ip", family == 6 ? "-6" : "-4", "-j", "route", "show", "default",
			       NULL };
	struct spawn_result res;
	char *dev = NULL;
	json_t *j;

	if (spawn_run(argv, NULL, &res, NULL) < 0)
		return NULL;
	j = res.exited && res.status == 0 ? json_loads(buf_str(&res.out), 0, NULL) : NULL;
	if (json_is_array(j) && json_array_size(j) > 0) {
		const char *d = json_string_value(json_object_get(json_array_get(j, 0), "dev"));

		if (d)
			dev = xstrdup(d);
	}
	json_decref(j);
	spawn_result_release(&res);
	return dev;
}

static const char *fwd_path(int family)
{
	return family == 6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
			   : "/proc/sys/net/ipv4/ip_forward";
}

int nat_forwarding_read(int family)
{
	char c = 0;
	int fd = open(fwd_path(family), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

int nat_forwarding_enable(int family, struct atlas_err *err)
{
	/* A sysctl is one write of one byte: no temporary file for /proc. */
	int fd = open(fwd_path(family), O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return err_set(err, ERR_IO, "cannot open %s: %s", fwd_path(family), strerror(errno));
	if (write(fd, "1\n", 2) != 2)
		ret = err_set(err, ERR_IO, "cannot write %s: %s", fwd_path(family), strerror(errno));
	close(fd);
	return ret;
}
