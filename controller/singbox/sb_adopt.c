/*
 * sb_adopt.c - taking over a running sing-box as it runs: finding it and
 * writing the record (sb_adopt.h); sb_adopted.c reads the record.
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

#include "lib/fileio.h"
#include "controller/singbox/sb.h"
#include "controller/singbox/sb_adopt.h"

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
		if (pid == self || !(v = sb_proc_cmdline(pid)))
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
		sb_argv_free(v);
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
	sb_file_sha256(real, hash);
	if (!hash[0] || sb_render_conf(ctx, st, &render, err) < 0) {
		if (!hash[0])
			err_set(err, ERR_IO, "cannot read %s", real);
		goto out;
	}
	rec = json_pack("{s:s, s:s, s:s}", "config", real, "config_sha256", hash, "render",
			buf_str(&render));
	if (pid) {
		char **v = sb_proc_cmdline(pid);
		json_t *a = json_array();

		for (size_t i = 0; v && v[i]; i++)
			json_array_append_new(a, json_string(v[i]));
		sb_argv_free(v);
		json_object_set_new(rec, "pid", json_integer(pid));
		json_object_set_new(rec, "start_time", json_integer(sb_proc_start_time(pid)));
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

