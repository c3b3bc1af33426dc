/*
 * sb_ports.c - are the ports of a new sing-box config free? `sing-box
 * check` does not look, and a reload onto a taken port closes the old
 * instance and makes the process exit 1: Atlas looks before it reloads.
 *
 * A port counts as taken when /proc/net/{tcp,tcp6} lists a listening
 * socket on it (or /proc/net/{udp,udp6} a bound one, for the QUIC
 * protocols and Shadowsocks' UDP) whose inode is not one of the running
 * sing-box's own sockets (/proc/PID/fd).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "controller/singbox/sb.h"

struct inodes {
	unsigned long *v;
	size_t n, cap;
};

static void inodes_add(struct inodes *s, unsigned long ino)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = ino;
}

static int inodes_has(const struct inodes *s, unsigned long ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return 1;
	return 0;
}

/* The socket inodes of process pid. */
static void pid_sockets(long pid, struct inodes *out)
{
	char dir[64], path[384], link[64];
	struct dirent *de;
	DIR *d;

	if (pid <= 0)
		return;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		ssize_t n;
		unsigned long ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1)
			inodes_add(out, ino);
	}
	closedir(d);
}

/*
 * The inode of a socket on port in /proc/net/NAME (listening for tcp), 0
 * when there is none that is not in mine.
 */
static unsigned long holder(const char *name, int port, const struct inodes *mine)
{
	char path[64], line[512];
	unsigned long found = 0;
	int tcp = !strncmp(name, "tcp", 3);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/%s", name);
	if (!(f = fopen(path, "re")))
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char local[80], rem[80];
		unsigned st, p;
		unsigned long ino;
		char *colon;

		if (sscanf(line, " %*s %79s %79s %x %*s %*s %*s %*s %*s %lu", local, rem, &st,
			   &ino) != 4)
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &p) != 1 || (int)p != port)
			continue;
		if (tcp && st != 0x0A)
			continue;
		/* a connected udp socket is no listener */
		if (!tcp && (!(colon = strrchr(rem, ':')) || strcmp(colon + 1, "0000")))
			continue;
		if (!inodes_has(mine, ino))
			found = ino ? ino : 1;
	}
	fclose(f);
	return found;
}

static int check_one(int port, int udp, const struct inodes *mine, const char *what,
		     struct atlas_err *err)
{
	const char *v4 = udp ? "udp" : "tcp", *v6 = udp ? "udp6" : "tcp6";

	if (port <= 0)
		return 0;
	if (holder(v4, port, mine) || holder(v6, port, mine))
		return err_set(err, ERR_CONFLICT,
			       "%s: port %d/%s is taken by another process: nothing reloaded", what,
			       port, udp ? "udp" : "tcp");
	return 0;
}

int sb_ports_check(const struct atlas_state *st, long pid, struct atlas_err *err)
{
	const struct sb_section *sb = &st->singbox;
	struct inodes mine = { 0 };
	char what[128];
	int ret = -1;

	pid_sockets(pid, &mine);
	for (size_t i = 0; i < sb->ninbounds; i++) {
		const struct sb_inbound *in = &sb->inbounds[i];
		int udp = sb_type_udp(in->type);

		snprintf(what, sizeof(what), "singbox inbound \"%s\"", in->name);
		if (check_one(in->port, udp, &mine, what, err) < 0)
			goto out;
		/* Shadowsocks listens on both */
		if (in->type == SB_SHADOWSOCKS && check_one(in->port, 1, &mine, what, err) < 0)
			goto out;
	}
	if (check_one(sb->api_port, 0, &mine, "singbox api service", err) < 0 ||
	    check_one(sb->ssm_port, 0, &mine, "singbox ssm-api service", err) < 0)
		goto out;
	ret = 0;
out:
	free(mine.v);
	return ret;
}
