/*
 * sb_adopt.c - taking over a running sing-box as it runs (sb_adopt.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "lib/fileio.h"
#include "controller/singbox/sb.h"
#include "controller/singbox/sb_adopt.h"

/* Hex SHA-256 of data into out (65 bytes). */
static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
		return;
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Hex SHA-256 of the file at path (out empty when it cannot be read). */
static void file_sha256(const char *path, char out[65])
{
	struct buf b = BUF_INIT;

	out[0] = 0;
	if (file_read(path, 64u << 20, &b, NULL) == 0)
		sha256_hex(b.data ? b.data : "", b.len, out);
	buf_release_secure(&b);
}

/* The start time of pid (clock ticks since boot, field 22 of /proc/PID/stat); 0 when gone. */
static long long start_time(long pid)
{
	char *path = xasprintf("/proc/%ld/stat", pid);
	struct buf b = BUF_INIT;
	long long t = 0;

	if (file_read(path, 4096, &b, NULL) == 0) {
		const char *p = strrchr(buf_str(&b), ')');
		int field = 2;

		/* fields after the command name, which may hold spaces */
		while (p && *p && field < 22) {
			p = strchr(p + 1, ' ');
			field++;
		}
		if (p)
			t = strtoll(p + 1, NULL, 10);
	}
	buf_release(&b);
	free(path);
	return t;
}

/* /proc/PID/cmdline as a NULL-terminated array (new; NULL when unreadable or empty). */
static char **cmdline(long pid)
{
	char *path = xasprintf("/proc/%ld/cmdline", pid);
	struct buf b = BUF_INIT;
	char **v = NULL;

	if (file_read(path, 65536, &b, NULL) == 0 && b.len && b.data[b.len - 1] == 0) {
		size_t n = 0, k = 0;

		for (size_t i = 0; i < b.len; i++)
			n += !b.data[i];
		v = xcalloc(n + 1, sizeof(*v));
		for (size_t i = 0; i < b.len; i += strlen(b.data + i) + 1)
			v[k++] = xstrdup(b.data + i);
	}
	buf_release(&b);
	free(path);
	return v;
}

static void argv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int argv_same(char **a, json_t *b)
{
	size_t n = 0;

	for (; a && a[n]; n++)
		if (!json_is_string(json_array_get(b, n)) ||
		    strcmp(a[n], json_string_value(json_array_get(b, n))))
			return 0;
	return a && n == json_array_size(b);
}

/* The config file a `sing-box run` command line names (borrowed), or NULL. */
static const char *run_config(char **v)
{
	const char *base, *conf = NULL;
	int run = 0;

	if (!v || !v[0])
		return NULL;
	base = strrchr(v[0], '/');
	base = base ? base + 1 : v[0];
	if (strncmp(base, "sing-box", 8))
		return NULL;
	for (size_t i = 1; v[i]; i++) {
		if (!strcmp(v[i], "run"))
			run = 1;
		else if ((!strcmp(v[i], "-c") || !strcmp(v[i], "--config")) && v[i + 1])
			conf = v[++i];
		else if (!strncmp(v[i], "--config=", 9))
			conf = v[i] + 9;
		else if (!strncmp(v[i], "-c=", 3))
			conf = v[i] + 3;
	}
	return run ? conf : NULL;
}

/* The pid of the one sing-box that runs real (a resolved path): 0 none, -1 more than one. */
static long find_process(const char *real)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	long found = 0, self = (long)getpid();

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char **v;
		const char *conf;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if (pid == self || !(v = cmdline(pid)))
			continue;
		conf = run_config(v);
		if (conf) {
			/* a relative path is relative to the process's directory */
			char *p = conf[0] == '/' ? xstrdup(conf)
						 : xasprintf("/proc/%ld/cwd/%s", pid, conf);
			char r[PATH_MAX];

			if (realpath(p, r) && !strcmp(r, real))
				found = found ? -1 : pid;
			free(p);
		}
		argv_free(v);
		if (found < 0)
			break;
	}
	closedir(d);
	return found;
}

int sb_adopt_running(const struct driver_ctx *ctx, const struct atlas_state *st, const char *file,
		     int dry_run, char *msg, size_t len, struct atlas_err *err)
{
	char real[PATH_MAX], hash[65], text[32];
	struct buf render = BUF_INIT;
	struct sb_files f;
	json_t *rec = NULL;
	char *dump = NULL;
	long pid = 0;
	int ret = -1;

	sb_files_init(&f, ctx, st->settings.singbox_binary, getenv("ATLAS_SB_UNIT"));
	if (!realpath(file, real)) {
		snprintf(msg, len, "%s: %s", file, strerror(errno));
		ret = 0;
		goto out;
	}
	if (ctx->service_mode == SERVICE_SYSTEMD) {
		if (strcmp(real, f.conf) || service_running(ctx->service_mode, &f.svc, NULL, NULL) != 1) {
			snprintf(msg, len, "the unit %s does not run %s", f.unit, real);
			ret = 0;
			goto out;
		}
	} else {
		pid = find_process(real);
		if (pid <= 0) {
			snprintf(msg, len, pid ? "more than one sing-box runs %s" :
						 "no running sing-box runs %s", real);
			ret = 0;
			goto out;
		}
	}
	file_sha256(real, hash);
	if (!hash[0] || sb_render_conf(ctx, st, &render, err) < 0) {
		if (!hash[0])
			err_set(err, ERR_IO, "cannot read %s", real);
		goto out;
	}
	rec = json_pack("{s:s, s:s, s:s}", "config", real, "config_sha256", hash, "render",
			buf_str(&render));
	if (pid) {
		char **v = cmdline(pid);
		json_t *a = json_array();

		for (size_t i = 0; v && v[i]; i++)
			json_array_append_new(a, json_string(v[i]));
		argv_free(v);
		json_object_set_new(rec, "pid", json_integer(pid));
		json_object_set_new(rec, "start_time", json_integer(start_time(pid)));
		json_object_set_new(rec, "argv", a);
	}
	if (pid)
		snprintf(msg, len,
			 "adopted the running sing-box: pid %ld, %s; it keeps running as it is (no "
			 "reload, no connection dropped) until a change needs a reload",
			 pid, real);
	else
		snprintf(msg, len,
			 "adopted the running unit %s (%s) as it is, until a change needs a reload",
			 f.unit, real);
	if (dry_run) {
		ret = 1;
		goto out;
	}
	dump = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	if (mkdir_p(f.dir, 0700, err) < 0 ||
	    file_write_atomic(f.adopted, dump, strlen(dump), 0600, err) < 0)
		goto out;
	snprintf(text, sizeof(text), "%ld\n", pid);
	if (pid && (mkdir_p(ctx->rundir, 0755, err) < 0 ||
		    file_write_atomic(f.pidfile, text, strlen(text), 0644, err) < 0))
		goto out;
	ret = 1;
out:
	if (dump) {
		memset(dump, 0, strlen(dump));
		free(dump);
	}
	json_decref(rec);
	buf_release_secure(&render);
	sb_files_release(&f);
	return ret;
}

void sb_files_adopted(struct sb_files *f, int service_mode)
{
	json_t *rec = json_load_file(f->adopted, 0, NULL);
	const char *conf = json_string_value(json_object_get(rec, "config"));
	const char *hash = json_string_value(json_object_get(rec, "config_sha256"));
	const char *render = json_string_value(json_object_get(rec, "render"));
	char now[65];

	if (!conf || !hash || !render)
		goto out;
	if (service_mode == SERVICE_SYSTEMD) {
		if (strcmp(conf, f->conf))
			goto out;
	} else {
		json_t *argv = json_object_get(rec, "argv");
		long pid = (long)json_integer_value(json_object_get(rec, "pid"));
		struct buf pidt = BUF_INIT;
		long written = 0;
		char **v;
		int same;

		if (file_read(f->pidfile, 64, &pidt, NULL) == 0)
			written = strtol(buf_str(&pidt), NULL, 10);
		buf_release(&pidt);
		/* the process of the record, still the same one, still Atlas's pid file */
		if (pid <= 1 || written != pid || !json_array_size(argv) ||
		    start_time(pid) != json_integer_value(json_object_get(rec, "start_time")))
			goto out;
		v = cmdline(pid);
		same = argv_same(v, argv);
		argv_free(v);
		if (!same)
			goto out;
		f->adopted_argv = xcalloc(json_array_size(argv) + 1, sizeof(*f->adopted_argv));
		for (size_t i = 0; i < json_array_size(argv); i++)
			f->adopted_argv[i] = xstrdup(json_string_value(json_array_get(argv, i)));
		f->svc.argv = (const char *const *)f->adopted_argv;
		free(f->conf);
		f->conf = xstrdup(conf);
		f->argv[4] = f->conf;
		f->adopted_pid = pid;
	}
	file_sha256(f->conf, now);
	if (!strcmp(now, hash))
		f->adopted_render = xstrdup(render);
out:
	json_decref(rec);
}

void sb_adopted_forget(const struct sb_files *f)
{
	unlink(f->adopted);
}

/* Established TCP connections of one /proc/net file on the listed ports; -1 unreadable. */
static long count_file(const char *path, const int *ports, size_t nports)
{
	struct buf b = BUF_INIT;
	long n = 0;
	char *line, *save = NULL;

	if (file_read(path, 64u << 20, &b, NULL) < 0) {
		buf_release(&b);
		return -1;
	}
	line = strtok_r(b.data ? b.data : (char *)"", "\n", &save);
	/* the first line is the header */
	while (line && (line = strtok_r(NULL, "\n", &save))) {
		char local[80], remote[80], st[8];
		const char *colon;
		unsigned port;

		if (sscanf(line, "%*s %79s %79s %7s", local, remote, st) != 3 || strcmp(st, "01"))
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &port) != 1)
			continue;
		for (size_t i = 0; i < nports; i++)
			if ((unsigned)ports[i] == port) {
				n++;
				break;
			}
	}
	buf_release(&b);
	return n;
}

long sb_tcp_conns(const struct atlas_state *st)
{
	int *ports = xcalloc(st->singbox.ninbounds + 1, sizeof(*ports));
	long a, b;

	for (size_t i = 0; i < st->singbox.ninbounds; i++)
		ports[i] = st->singbox.inbounds[i].port;
	a = count_file("/proc/net/tcp", ports, st->singbox.ninbounds);
	b = count_file("/proc/net/tcp6", ports, st->singbox.ninbounds);
	free(ports);
	if (a < 0 && b < 0)
		return -1;
	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}
