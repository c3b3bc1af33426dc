/*
 * cmd_doctor.c - `atlas doctor`: checks the host for what keeps a VPN from
 * working and says what to fix. Reads only: files under /proc and /sys,
 * the data directory, and the output of the engines' own version commands,
 * nft, iptables and modinfo. Exit status 1 when a check failed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/fileio.h"
#include "lib/spawn.h"

enum level { L_OK, L_INFO, L_WARN, L_FAIL };

struct doctor {
	int fails, warns;
	int uses_wg, uses_ovpn, uses_sb;
	const char *singbox;	/* settings.singbox_binary, or "sing-box" from PATH */
};

static void say(struct doctor *d, enum level lv, const char *check, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(struct doctor *d, enum level lv, const char *check, const char *fix,
		const char *fmt, ...)
{
	static const char *const tag[] = {"ok  ", "-   ", "WARN", "FAIL"};
	va_list ap;

	printf("%s %s: ", tag[lv], check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fix && lv >= L_WARN)
		printf("     fix: %s\n", fix);
	d->fails += lv == L_FAIL;
	d->warns += lv == L_WARN;
}

/* The first line of a small file, trimmed, into out; "" when unreadable. */
static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\r\n")] = '\0';
	fclose(f);
}

/* Runs argv; the first line of its stdout (or stderr) into out. -1 when not installed. */
static int first_line(const char *const argv[], char *out, size_t len, int *status)
{
	struct spawn_result r;
	const char *text;

	out[0] = '\0';
	if (!spawn_which(argv[0]) || spawn_run(argv, NULL, &r, NULL) < 0)
		return -1;
	text = r.out.len ? buf_str(&r.out) : buf_str(&r.errout);
	snprintf(out, len, "%.*s", (int)strcspn(text, "\r\n"), text);
	if (status)
		*status = r.exited ? r.status : -1;
	spawn_result_release(&r);
	return 0;
}

static void check_forwarding(struct doctor *d)
{
	char v4[16], v6[16];

	read_line("/proc/sys/net/ipv4/ip_forward", v4, sizeof(v4));
	read_line("/proc/sys/net/ipv6/conf/all/forwarding", v6, sizeof(v6));
	if (!strcmp(v4, "1"))
		say(d, L_OK, "ip forwarding", NULL, "net.ipv4.ip_forward = 1, ipv6 forwarding = %s",
		    *v6 ? v6 : "?");
	else
		say(d, L_WARN, "ip forwarding",
		    "`atlas apply` turns it on; to keep it after a reboot: "
		    "printf 'net.ipv4.ip_forward=1\\n' > /etc/sysctl.d/99-atlas.conf",
		    "net.ipv4.ip_forward = %s: VPN clients reach this server only, not beyond",
		    *v4 ? v4 : "?");
}

static void check_wireguard(struct doctor *d)
{
	const char *modinfo[] = {"modinfo", "-F", "filename", "wireguard", NULL};
	char line[256];
	int st = -1;

	if (file_exists("/sys/module/wireguard")) {
		say(d, L_OK, "wireguard", NULL, "kernel module loaded");
	} else if (first_line(modinfo, line, sizeof(line), &st) == 0 && st == 0 && *line) {
		say(d, L_OK, "wireguard", NULL, "kernel module available (%s)", line);
	} else if (spawn_which("wireguard-go")) {
		say(d, L_OK, "wireguard", NULL,
		    "no kernel module: wireguard-go (userspace, slower) will be used");
	} else {
		say(d, d->uses_wg ? L_FAIL : L_WARN, "wireguard",
		    "apt install wireguard-go, or boot a kernel with the wireguard module",
		    "neither the kernel module nor wireguard-go");
	}
}

static void check_engines(struct doctor *d)
{
	static const struct {
		const char *name, *arg, *pkg;
		int need; /* 1: wireguard, 2: openvpn, 3: either of them, 4: sing-box */
	} eng[] = {
	    {"wg", "--version", "wireguard-tools", 1},
	    {"wireguard-go", "--version", "wireguard-go", 0},
	    {"openvpn", "--version", "openvpn", 2},
	    {"nft", "--version", "nftables", 3},
	    {"sing-box", "version", "sing-box (docs/singbox.md)", 4},
	};
	char line[256], fix[128];

	for (size_t i = 0; i < sizeof(eng) / sizeof(eng[0]); i++) {
		/* sing-box: the binary the settings name, as the driver runs it */
		const char *argv[] = {eng[i].need == 4 ? d->singbox : eng[i].name, eng[i].arg, NULL};
		int needed = (eng[i].need == 1 && d->uses_wg) || (eng[i].need == 2 && d->uses_ovpn) ||
			     (eng[i].need == 3 && (d->uses_wg || d->uses_ovpn)) ||
			     (eng[i].need == 4 && d->uses_sb);

		snprintf(fix, sizeof(fix), "apt install %s", eng[i].pkg);
		if (first_line(argv, line, sizeof(line), NULL) < 0)
			say(d, needed ? L_FAIL : L_INFO, eng[i].name, fix, "not installed%s",
			    needed ? " but the desired state uses it" : "");
		else
			say(d, L_OK, eng[i].name, NULL, "%s", *line ? line : "installed");
	}
}

/* The pid and name of the process holding socket inode ino, or 0. */
static int socket_owner(unsigned long ino, char *comm, size_t len)
{
	char want[64], link[64];
	DIR *p = opendir("/proc");
	struct dirent *de;
	int found = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while (p && !found && (de = readdir(p))) {
		char path[300];
		DIR *fd;
		struct dirent *fe;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		if (!(fd = opendir(path)))
			continue;
		while (!found && (fe = readdir(fd))) {
			char fp[600];
			ssize_t n;

			snprintf(fp, sizeof(fp), "%s/%s", path, fe->d_name);
			n = readlink(fp, link, sizeof(link) - 1);
			if (n > 0) {
				link[n] = '\0';
				if (!strcmp(link, want))
					found = atoi(de->d_name);
			}
		}
		closedir(fd);
	}
	if (p)
		closedir(p);
	if (found) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/comm", found);
		read_line(path, comm, len);
	}
	return found;
}

/* 1 and the socket's inode when something has proto/port bound (TCP: listening). */
static int port_bound(int tcp, int port, unsigned long *ino)
{
	const char *files[2] = {tcp ? "/proc/net/tcp" : "/proc/net/udp",
				tcp ? "/proc/net/tcp6" : "/proc/net/udp6"};

	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		char line[512];

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char local[128];
			unsigned st, lport;
			unsigned long inode;

			if (sscanf(line, " %*d: %127s %*s %x %*s %*s %*s %*s %*s %lu", local, &st,
				   &inode) != 3)
				continue;
			if (sscanf(strchr(local, ':') ? strchr(local, ':') + 1 : "", "%x", &lport) != 1)
				continue;
			if ((int)lport == port && (!tcp || st == 0x0A)) {
				*ino = inode;
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

static void check_port(struct doctor *d, const char *what, int tcp, int port)
{
	static const char *const ours[] = {"atlas", "openvpn", "wireguard-go", "sing-box", NULL};
	char name[64], comm[64] = "";
	unsigned long ino = 0;
	int pid;

	snprintf(name, sizeof(name), "port %s/%d", tcp ? "tcp" : "udp", port);
	if (!port_bound(tcp, port, &ino)) {
		say(d, L_OK, name, NULL, "free for %s", what);
		return;
	}
	if (!ino) { /* a socket of the kernel: a WireGuard interface's */
		say(d, L_OK, name, NULL, "held by the kernel (a WireGuard interface) for %s", what);
		return;
	}
	pid = socket_owner(ino, comm, sizeof(comm));
	{
		/* the sing-box the settings name, as the kernel names it (15 characters) */
		const char *base = strrchr(d->singbox ? d->singbox : "sing-box", '/');

		size_t bl;

		base = base ? base + 1 : d->singbox ? d->singbox : "sing-box";
		bl = strlen(base) < 15 ? strlen(base) : 15;
		if (pid && strlen(comm) == bl && !strncmp(comm, base, bl)) {
			say(d, L_OK, name, NULL, "in use by %s (pid %d), an engine of Atlas: %s", comm,
			    pid, what);
			return;
		}
	}
	if (pid && !strcmp(comm, "atlas") && pid != store_serve_pid(cli_datadir)) {
		/* an atlas, but not this data directory's serve (its pid is in serve.lock) */
		say(d, L_FAIL, name, "stop that atlas, or serve this one on another --listen",
		    "%s needs it, but atlas (pid %d) of another data directory holds it", what, pid);
		return;
	}
	for (size_t i = 0; ours[i]; i++)
		if (pid && !strcmp(comm, ours[i])) {
			say(d, L_OK, name, NULL, "in use by %s (pid %d), an engine of Atlas: %s", comm,
			    pid, what);
			return;
		}
	say(d, L_FAIL, name, "stop that program, or give Atlas another port in the desired state",
	    "%s needs it, but %s%s%.0d%s holds it", what, pid ? comm : "another program",
	    pid ? " (pid " : "", pid, pid ? ")" : "");
}

static void check_ports(struct doctor *d, const struct atlas_state *st, const char *listen)
{
	const char *colon = strrchr(listen, ':');

	if (colon)
		check_port(d, "the panel", 1, atoi(colon + 1));
	for (size_t i = 0; st && st->has_wireguard && i < st->wireguard.ninterfaces; i++) {
		char what[160];

		snprintf(what, sizeof(what), "wireguard %s", st->wireguard.interfaces[i].name);
		check_port(d, what, 0, st->wireguard.interfaces[i].listen_port);
	}
	if (st && st->has_openvpn)
		check_port(d, "openvpn", st->openvpn.proto == OVPN_TCP, st->openvpn.port);
	if (st && st->has_singbox && st->singbox.enabled && st->singbox.ninbounds) {
		const struct sb_section *sb = &st->singbox;
		int ss = 0;

		for (size_t i = 0; i < sb->ninbounds; i++) {
			char what[160];

			snprintf(what, sizeof(what), "sing-box inbound %s", sb->inbounds[i].name);
			check_port(d, what, !sb_type_udp(sb->inbounds[i].type), sb->inbounds[i].port);
			ss |= sb->inbounds[i].type == SB_SHADOWSOCKS;
		}
		check_port(d, "sing-box's api service (127.0.0.1)", 1, sb->api_port);
		if (ss)
			check_port(d, "sing-box's ssm-api service (127.0.0.1)", 1, sb->ssm_port);
	}
}

/* nftables base chains on the forward hook that drop by default (not Atlas's). */
static void check_firewall(struct doctor *d)
{
	const char *nft[] = {"nft", "list", "chains", NULL};
	struct spawn_result r;
	char table[160] = "", chain[160] = "", ufw[256] = "";
	int found = 0;

	if (spawn_which("nft") && spawn_run(nft, NULL, &r, NULL) == 0) {
		char *save = NULL;

		for (char *l = strtok_r(r.out.data ? r.out.data : (char[]){0}, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char a[64], b[96];

			if (sscanf(l, " table %63s %95s", a, b) == 2)
				snprintf(table, sizeof(table), "%s %s", a, b);
			else if (sscanf(l, " chain %95s", b) == 1)
				snprintf(chain, sizeof(chain), "%s", b);
			else if (strstr(l, "hook forward") && strstr(l, "policy drop") &&
				 !strstr(table, "atlas_")) {
				say(d, L_FAIL, "firewall",
				    "accept the VPN networks in that chain (e.g. `nft add rule TABLE CHAIN "
				    "iifname \"wg0\" accept` and the reply direction), or `ufw route allow "
				    "in on wg0`; Docker's iptables FORWARD policy does this too",
				    "nftables chain \"%s %s\" drops forwarded packets by default: VPN "
				    "clients would reach nothing beyond this server",
				    table, chain);
				found = 1;
			}
		}
		spawn_result_release(&r);
	}
	{
		FILE *f = fopen("/etc/default/ufw", "re");
		char l[256];

		while (f && fgets(l, sizeof(l), f))
			if (!strncmp(l, "DEFAULT_FORWARD_POLICY=", 23))
				snprintf(ufw, sizeof(ufw), "%s", l + 23);
		if (f)
			fclose(f);
	}
	if (strstr(ufw, "DROP") && file_exists("/etc/ufw/ufw.conf")) {
		FILE *f = fopen("/etc/ufw/ufw.conf", "re");
		char l[128];
		int on = 0;

		while (f && fgets(l, sizeof(l), f))
			on |= !strncmp(l, "ENABLED=yes", 11);
		if (f)
			fclose(f);
		if (on) {
			say(d, L_FAIL, "firewall",
			    "DEFAULT_FORWARD_POLICY=\"ACCEPT\" in /etc/default/ufw, or `ufw route allow "
			    "in on wg0 out on eth0`, then `ufw reload`",
			    "ufw is enabled and drops forwarded packets (DEFAULT_FORWARD_POLICY=DROP)");
			found = 1;
		}
	}
	if (!found)
		say(d, L_OK, "firewall", NULL, "nothing drops forwarded packets by default");
}

static void check_clock(struct doctor *d)
{
	struct timex tx = {0};
	int rc = adjtimex(&tx);

	if (rc < 0)
		say(d, L_INFO, "clock", NULL, "cannot read the kernel's clock state: %s",
		    strerror(errno));
	else if (rc == TIME_ERROR || (tx.status & STA_UNSYNC))
		say(d, L_WARN, "clock",
		    "apt install systemd-timesyncd (or chrony) and check `timedatectl`",
		    "not synchronized with a time server: REALITY and TOTP codes need a clock "
		    "within seconds of the clients'");
	else
		say(d, L_OK, "clock", NULL, "synchronized (estimated error %ld us)", tx.esterror);
}

static void check_disk(struct doctor *d)
{
	struct statvfs vs;
	const char *dir = file_exists(cli_datadir) ? cli_datadir : ".";
	unsigned long long free_mib;

	if (statvfs(dir, &vs) < 0) {
		say(d, L_WARN, "disk", NULL, "cannot read the free space of \"%s\": %s", dir,
		    strerror(errno));
		return;
	}
	free_mib = (unsigned long long)vs.f_bavail * vs.f_frsize >> 20;
	if (free_mib < 64)
		say(d, L_FAIL, "disk", "free space (journalctl --vacuum-size=100M, apt clean)",
		    "%llu MiB free under \"%s\": saves and backups will fail", free_mib, dir);
	else if (free_mib < 512)
		say(d, L_WARN, "disk", "free space (journalctl --vacuum-size=100M, apt clean)",
		    "only %llu MiB free under \"%s\"", free_mib, dir);
	else
		say(d, L_OK, "disk", NULL, "%llu MiB free under \"%s\"", free_mib, dir);
}

/* Secret files: 0600 (nothing for group and others). */
static void check_secret(struct doctor *d, const char *path, int *bad)
{
	struct stat st;
	char fix[600];

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 077))
		return;
	snprintf(fix, sizeof(fix), "chmod 600 %s", path);
	say(d, L_FAIL, "data directory", fix, "\"%s\" is mode %04o: a secret others may read",
	    path, (unsigned)(st.st_mode & 07777));
	(*bad)++;
}

static void check_secrets_in(struct doctor *d, const char *sub, const char *suffix, int *bad)
{
	char *dir = xasprintf("%s/%s", cli_datadir, sub);
	DIR *dd = opendir(dir);
	struct dirent *de;

	while (dd && (de = readdir(dd))) {
		size_t l = strlen(de->d_name);

		if (l > strlen(suffix) && !strcmp(de->d_name + l - strlen(suffix), suffix)) {
			char *p = xasprintf("%s/%s", dir, de->d_name);

			check_secret(d, p, bad);
			free(p);
		}
	}
	if (dd)
		closedir(dd);
	free(dir);
}

static void check_datadir(struct doctor *d)
{
	static const char *const files[] = {"atlas.db", "jwt.key", "pki/ca.key",
					    "pki/tls-crypt.key", "tls/key.pem", NULL};
	struct stat st;
	char fix[600];
	int bad = 0;

	if (stat(cli_datadir, &st) < 0) {
		say(d, L_INFO, "data directory", NULL, "\"%s\" does not exist yet", cli_datadir);
		return;
	}
	if (st.st_mode & 077) {
		snprintf(fix, sizeof(fix), "chmod 700 %s", cli_datadir);
		say(d, L_FAIL, "data directory", fix, "\"%s\" is mode %04o: others may look inside",
		    cli_datadir, (unsigned)(st.st_mode & 07777));
		bad++;
	}
	if (st.st_uid != geteuid()) {
		snprintf(fix, sizeof(fix), "chown -R %u %s", (unsigned)geteuid(), cli_datadir);
		say(d, L_WARN, "data directory", fix, "\"%s\" belongs to uid %u, not to this user",
		    cli_datadir, (unsigned)st.st_uid);
		bad++;
	}
	for (size_t i = 0; files[i]; i++) {
		char *p = xasprintf("%s/%s", cli_datadir, files[i]);

		check_secret(d, p, &bad);
		free(p);
	}
	check_secrets_in(d, "pki/private", ".key", &bad);
	check_secrets_in(d, "wireguard", ".conf", &bad);
	if (!bad)
		say(d, L_OK, "data directory", NULL, "\"%s\" 0700, its secrets 0600", cli_datadir);
}

int cmd_doctor(int argc, char **argv)
{
	static const char usage[] =
	    "usage: atlas doctor [--listen ADDR:PORT]\n\n"
	    "Checks this host: IP forwarding, WireGuard (kernel module or wireguard-go), the\n"
	    "engines' versions, the ports of the panel (--listen, default 127.0.0.1:8080)\n"
	    "and of the desired state, a firewall that would drop forwarded VPN traffic,\n"
	    "clock sync, disk space, and the data directory's permissions. Each problem\n"
	    "comes with what to do. Exit status 1 when a check FAILs.\n";
	const char *listen = "127.0.0.1:8080";
	struct doctor d = {0};
	struct atlas_err err = {0};
	struct atlas_state *st = NULL;
	struct store *s;
	char *db;

	if (cli_wants_help(argc, argv, usage))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else {
			fprintf(stderr, "atlas doctor: unknown argument \"%s\"\n", argv[i]);
			return 1;
		}
	}
	/* read-only: a check changes nothing, a pending migration included */
	db = xasprintf("%s/atlas.db", cli_datadir);
	if (file_exists(db) && store_open_ro(cli_datadir, &s, &err) < 0) {
		say(&d, err.code == ERR_UNSUPPORTED && strstr(err.msg, "needs a migration") ? L_WARN
											: L_FAIL,
		    "database",
		    strstr(err.msg, "needs a migration")
			? "start the new atlas serve (systemctl restart atlas): it backs the data "
			  "directory up, then migrates"
			: NULL,
		    "%s", err.msg);
	} else if (file_exists(db)) {
		if (store_load(s, &st, NULL, NULL) < 0)
			st = NULL;
		store_close(s);
	}
	free(db);
	d.uses_wg = st && st->has_wireguard && st->wireguard.ninterfaces;
	d.uses_ovpn = st && st->has_openvpn;
	d.uses_sb = st && st->has_singbox && st->singbox.enabled && st->singbox.ninbounds;
	d.singbox = st && st->settings.singbox_binary ? st->settings.singbox_binary : "sing-box";
	check_forwarding(&d);
	check_wireguard(&d);
	check_engines(&d);
	check_ports(&d, st, listen);
	check_firewall(&d);
	check_clock(&d);
	check_disk(&d);
	check_datadir(&d);
	printf("%d failed, %d warnings\n", d.fails, d.warns);
	state_free(st);
	return d.fails ? 1 : 0;
}
