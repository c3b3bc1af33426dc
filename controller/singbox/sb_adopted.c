/*
 * sb_adopted.c - the adoption record as the driver reads it, and what it
 * needs from /proc (sb_adopt.h). It calls nothing of the driver, so both
 * the observer and the adopter may call it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "lib/fileio.h"
#include "lib/proc.h"
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
void sb_file_sha256(const char *path, char out[65])
{
	struct buf b = BUF_INIT;

	out[0] = 0;
	if (file_read(path, 64u << 20, &b, NULL) == 0)
		sha256_hex(b.data ? b.data : "", b.len, out);
	buf_release_secure(&b);
}

/* The start time of pid (clock ticks since boot, field 22 of /proc/PID/stat); 0 when gone. */
long long sb_proc_start_time(long pid)
{
	long long t = 0;

	return proc_stat(pid, NULL, &t) == 0 ? t : 0;
}

/* /proc/PID/cmdline as a NULL-terminated array (new; NULL when unreadable or empty). */
char **sb_proc_cmdline(long pid)
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

void sb_argv_free(char **v)
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
		    sb_proc_start_time(pid) != json_integer_value(json_object_get(rec, "start_time")))
			goto out;
		v = sb_proc_cmdline(pid);
		same = argv_same(v, argv);
		sb_argv_free(v);
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
	sb_file_sha256(f->conf, now);
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
