/*
 * sb_observe.c - the sing-box driver's files, and reading the real state:
 * config.json on disk, whether sing-box runs (pid checked), its open
 * connections from the `api` service, the SSM users of each managed
 * Shadowsocks inbound.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/fileio.h"
#include "controller/singbox/sb.h"

#define API_TIMEOUT_MS 3000

void sb_files_init(struct sb_files *f, const struct driver_ctx *ctx, const char *binary,
		   const char *unit)
{
	memset(f, 0, sizeof(*f));
	f->dir = xasprintf("%s/singbox", ctx->datadir);
	f->conf = ctx->service_mode == SERVICE_SYSTEMD ? xstrdup("/etc/sing-box/config.json")
						       : xasprintf("%s/config.json", f->dir);
	f->check = xasprintf("%s/config.check.json", f->dir);
	f->cache = xasprintf("%s/ssm-cache.json", f->dir);
	f->traffic = xasprintf("%s/traffic.json", f->dir);
	f->log = xasprintf("%s/sing-box.log", f->dir);
	f->pidfile = xasprintf("%s/sing-box.pid", ctx->rundir);
	f->adopted = xasprintf("%s/adopted.json", f->dir);
	f->unit = xstrdup(unit && *unit ? unit : "sing-box");
	f->binary = binary && *binary ? binary : "sing-box";
	f->argv[0] = f->binary;
	f->argv[1] = "--disable-color";
	f->argv[2] = "run";
	f->argv[3] = "-c";
	f->argv[4] = f->conf;
	f->argv[5] = "-D";
	f->argv[6] = f->dir;
	f->argv[7] = NULL;
	f->svc.name = "sing-box";
	f->svc.unit = f->unit;
	f->svc.argv = f->argv;
	f->svc.pidfile = f->pidfile;
	f->svc.logfile = f->log;
}

void sb_files_adopt(struct sb_files *f)
{
	struct buf pidt = BUF_INIT, cmd = BUF_INIT;
	long pid = 0;
	char *path;

	if (file_read(f->pidfile, 64, &pidt, NULL) == 0)
		pid = strtol(buf_str(&pidt), NULL, 10);
	buf_release(&pidt);
	if (pid <= 1)
		return;
	path = xasprintf("/proc/%ld/cmdline", pid);
	if (file_read(path, 65536, &cmd, NULL) == 0 && cmd.len) {
		const char *a0 = cmd.data;
		size_t l0 = strlen(a0), off = l0 + 1;
		int same = 1;

		for (int i = 1; same && f->argv[i]; i++) {
			size_t l = strlen(f->argv[i]);

			same = off + l < cmd.len + 1 && !strcmp(cmd.data + off, f->argv[i]);
			off += l + 1;
		}
		if (same && off == cmd.len && strcmp(a0, f->binary)) {
			free(f->running_binary);
			f->running_binary = xstrdup(a0);
			f->argv[0] = f->running_binary;
		}
	}
	buf_release(&cmd);
	free(path);
}

void sb_files_select(struct sb_files *f, int service_mode)
{
	sb_files_adopted(f, service_mode);
	if (service_mode == SERVICE_DIRECT && !f->adopted_argv)
		sb_files_adopt(f);
}

void sb_files_release(struct sb_files *f)
{
	free(f->running_binary);
	free(f->adopted);
	for (size_t i = 0; f->adopted_argv && f->adopted_argv[i]; i++)
		free(f->adopted_argv[i]);
	free(f->adopted_argv);
	if (f->adopted_render) {
		memset(f->adopted_render, 0, strlen(f->adopted_render));
		free(f->adopted_render);
	}
	free(f->dir);
	free(f->conf);
	free(f->check);
	free(f->cache);
	free(f->traffic);
	free(f->log);
	free(f->pidfile);
	free(f->unit);
	memset(f, 0, sizeof(*f));
}

char *sb_api_addr(const struct atlas_state *st)
{
	return xasprintf("127.0.0.1:%d", st->singbox.api_port);
}

char *sb_ssm_addr(const struct atlas_state *st)
{
	return xasprintf("127.0.0.1:%d", st->singbox.ssm_port);
}

/* The services of the last config parsed, by file identity (every thread's). */
static struct {
	pthread_mutex_t mu;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	int known, api_port, ssm_port;
	char *secret;
} running_conf = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The api and ssm-api services of config text (ports 0 when absent). */
static void conf_services(const char *text, int *api_port, int *ssm_port, char **secret)
{
	json_t *root = json_loads(text, 0, NULL), *sv;
	size_t i;

	*api_port = *ssm_port = 0;
	*secret = NULL;
	json_array_foreach(json_object_get(root, "services"), i, sv) {
		const char *type = json_string_value(json_object_get(sv, "type"));
		int port = (int)json_integer_value(json_object_get(sv, "listen_port"));

		if (type && !strcmp(type, "api")) {
			const char *sec = json_string_value(json_object_get(sv, "secret"));

			*api_port = port;
			free(*secret);
			*secret = sec ? xstrdup(sec) : NULL;
		} else if (type && !strcmp(type, "ssm-api")) {
			*ssm_port = port;
		}
	}
	json_decref(root);
}

void sb_running_view(const struct atlas_state *desired, const struct sb_files *f,
		     struct atlas_state *view, char **hold)
{
	struct atlas_err e = { 0 };
	struct buf text = BUF_INIT;
	struct stat sb;

	*view = *desired;
	*hold = NULL;
	if (!desired->has_singbox || !f->conf || stat(f->conf, &sb) < 0)
		return;
	pthread_mutex_lock(&running_conf.mu);
	if (!running_conf.known || running_conf.dev != sb.st_dev || running_conf.ino != sb.st_ino ||
	    running_conf.size != sb.st_size || running_conf.mtim.tv_sec != sb.st_mtim.tv_sec ||
	    running_conf.mtim.tv_nsec != sb.st_mtim.tv_nsec) {
		running_conf.known = 0;
		if (file_read(f->conf, 64u << 20, &text, &e) == 0) {
			free_secret(running_conf.secret);
			conf_services(buf_str(&text), &running_conf.api_port, &running_conf.ssm_port,
				      &running_conf.secret);
			running_conf.dev = sb.st_dev;
			running_conf.ino = sb.st_ino;
			running_conf.size = sb.st_size;
			running_conf.mtim = sb.st_mtim;
			running_conf.known = 1;
		}
		buf_release_secure(&text);
	}
	if (running_conf.known && running_conf.api_port) {
		view->singbox.api_port = running_conf.api_port;
		*hold = running_conf.secret ? xstrdup(running_conf.secret) : NULL;
		view->singbox.api_secret = *hold;
	}
	if (running_conf.known && running_conf.ssm_port)
		view->singbox.ssm_port = running_conf.ssm_port;
	pthread_mutex_unlock(&running_conf.mu);
}

void free_secret(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

char *sb_ssm_prefix(const char *inbound)
{
	return xasprintf("/%s", inbound);
}

void sb_obs_free(void *p)
{
	struct sb_obs *o = p;

	if (!o)
		return;
	if (o->conf) {
		memset(o->conf, 0, strlen(o->conf));
		free(o->conf);
	}
	if (o->adopted_render) {
		memset(o->adopted_render, 0, strlen(o->adopted_render));
		free(o->adopted_render);
	}
	sb_conns_release(&o->conns);
	for (size_t i = 0; i < o->nssm; i++) {
		free(o->ssm[i].inbound);
		sb_ssm_users_release(&o->ssm[i].users);
	}
	free(o->ssm);
	free(o);
}

static void note(struct sb_obs *o, const char *what, const char *msg)
{
	size_t l = strlen(o->note);

	o->incomplete = 1;
	snprintf(o->note + l, sizeof(o->note) - l, "%s%s: %s", l ? "; " : "", what, msg);
}

int sb_leftovers(const struct driver_ctx *ctx)
{
	struct sb_files f;
	int ret;

	sb_files_init(&f, ctx, NULL, getenv("ATLAS_SB_UNIT"));
	ret = file_exists(f.dir) || file_exists(f.pidfile);
	sb_files_release(&f);
	return ret;
}

/* The pid of a running sing-box (0 when none or unknown); -1 when that cannot be told. */
static int running(const struct driver_ctx *ctx, const struct sb_files *f, long *pid,
		   struct atlas_err *err)
{
	pid_t p = 0;
	int rc = service_running(ctx->service_mode, &f->svc, &p, err);

	*pid = (long)p;
	return rc;
}

int sb_observe(const struct driver_ctx *ctx, const struct atlas_state *desired, void **obs,
	       struct atlas_err *err)
{
	struct sb_obs *o = xcalloc(1, sizeof(*o));
	struct atlas_err e = { 0 };
	struct buf conf = BUF_INIT;
	struct sb_files f;
	struct atlas_state view;
	char *api = NULL, *ssm = NULL, *hold = NULL;
	int rc;

	(void)err;
	sb_files_init(&f, ctx, desired->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
	sb_files_select(&f, ctx->service_mode);
	o->section = desired->has_singbox;
	o->files_left = file_exists(f.dir) || file_exists(f.pidfile);
	if (file_read(f.conf, 64u << 20, &conf, &e) == 0)
		o->conf = buf_detach(&conf);
	else if (e.code != ERR_NOTFOUND)
		note(o, f.conf, e.msg);
	buf_release_secure(&conf);
	rc = running(ctx, &f, &o->pid, &e);
	if (rc < 0)
		note(o, "service", e.msg);
	o->running = rc == 1;
	if (rc == 0)
		o->conns_known = 1; /* no daemon, no connections */
	o->tcp_conns = -1;
	if (o->running && f.adopted_render) {
		/* the hand-written config: no api, no ssm service to ask */
		o->adopted_render = xstrdup(f.adopted_render);
		o->tcp_conns = desired->has_singbox ? sb_tcp_conns(desired) : -1;
		*obs = o;
		sb_files_release(&f);
		return 0;
	}
	/* asked where the running sing-box answers: an edit of the ports moves them at the reload */
	sb_running_view(desired, &f, &view, &hold);
	if (o->running && desired->has_singbox) {
		api = sb_api_addr(&view);
		if (sb_api_connections(api, view.singbox.api_secret, 0, API_TIMEOUT_MS, &o->conns,
				       &e) == 0)
			o->conns_known = 1;
		else
			note(o, "connections", e.msg);
	}
	/* the SSM users of every Shadowsocks inbound */
	o->ssm = xcalloc(desired->has_singbox ? desired->singbox.ninbounds + 1 : 1,
			 sizeof(*o->ssm));
	for (size_t i = 0; desired->has_singbox && i < desired->singbox.ninbounds; i++) {
		const struct sb_inbound *in = &desired->singbox.inbounds[i];
		struct sb_ssm_obs *so;
		char *prefix;

		if (in->type != SB_SHADOWSOCKS)
			continue;
		so = &o->ssm[o->nssm++];
		so->inbound = xstrdup(in->name);
		if (!o->running)
			continue;
		if (!ssm)
			ssm = sb_ssm_addr(&view);
		prefix = sb_ssm_prefix(in->name);
		/* an inbound the running config does not serve yet answers 404 */
		if (sb_ssm_list(ssm, prefix, &so->users, &e) == 0)
			so->known = 1;
		free(prefix);
	}
	*obs = o;
	free(api);
	free(ssm);
	free_secret(hold);
	sb_files_release(&f);
	return 0;
}
