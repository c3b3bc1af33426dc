/*
 * wg_uapi_get.c - bench helper: reads a wireguard-go device over its UAPI
 * socket (get=1) ROUNDS times and prints the mean time and the peer count,
 * so bench/wg.sh can set reading the socket directly next to `wg show dump`.
 * usage: wg_uapi_get IF [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One get: returns the number of peers, or -1. */
static long get_once(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	long peers = -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, "get=1\n\n", 7) != 7)
		goto out;
	for (;;) {
		ssize_t n;

		if (len + 65536 > cap)
			buf = realloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (len >= 2 && !strcmp(buf + len - 2, "\n\n") && strstr(buf, "errno="))
			break;
	}
	peers = 0;
	for (char *p = buf; (p = strstr(p, "public_key=")); p++)
		peers++;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return peers;
}

int main(int argc, char **argv)
{
	char path[128];
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double t0, best = 1e18, sum = 0;
	long peers = -1;

	if (argc < 2)
		return 2;
	snprintf(path, sizeof(path), "/var/run/wireguard/%s.sock", argv[1]);
	for (int i = 0; i < rounds; i++) {
		t0 = now_ms();
		peers = get_once(path);
		t0 = now_ms() - t0;
		sum += t0;
		if (t0 < best)
			best = t0;
	}
	if (peers < 0)
		return 1;
	printf("%.1f %.1f %ld\n", best, sum / rounds, peers);
	return 0;
}
