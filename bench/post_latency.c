/*
 * post_latency.c - bench helper for bench/api.sh: the time from a POST of
 * a WireGuard peer to its public key on the wireguard-go interface (read
 * over the UAPI socket, polled every millisecond), without a process
 * spawn per POST or per poll.
 *   post_latency URL TOKEN IF N PREFIX serial: N POSTs one after the
 *     other, each waiting for its peer; prints "median p99 max" in ms.
 *   post_latency URL TOKEN IF N PREFIX burst: N POSTs back to back, then
 *     waits for the last one; prints "posts_ms total_ms" (first POST sent
 *     to every peer on the interface).
 * URL is the peer list (.../wireguard/interfaces/IF/peers).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct text {
	char *p;
	size_t n, cap;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t on_body(char *d, size_t sz, size_t nm, void *cls)
{
	struct text *t = cls;
	size_t n = sz * nm;

	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
	}
	memcpy(t->p + t->n, d, n);
	t->n += n;
	t->p[t->n] = '\0';
	return n;
}

/* The UAPI form of a base64 key: 64 lowercase hex digits. */
static int b64_to_hex(const char *b64, char hex[65])
{
	static const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[33];
	unsigned acc = 0;
	int bits = 0, k = 0;

	for (int i = 0; i < 43; i++) {
		const char *c = strchr(al, b64[i]);

		if (!c || !*c)
			return -1;
		acc = acc << 6 | (unsigned)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[k++] = (unsigned char)(acc >> bits);
		}
	}
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
	return 0;
}

/* 1 when the device lists public_key=hex. */
static int on_device(const char *sock, const char *hex)
{
	static struct text t;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), found = 0;
	char want[80];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	snprintf(want, sizeof(want), "public_key=%s\n", hex);
	t.n = 0;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, "get=1\n\n", 7) == 7) {
		char chunk[65536];
		ssize_t n;

		while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
			on_body(chunk, 1, (size_t)n, &t);
			if (t.n >= 2 && !strcmp(t.p + t.n - 2, "\n\n") && strstr(t.p, "errno="))
				break;
		}
		found = t.p && strstr(t.p, want) != NULL;
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/* POSTs peer name; fills hex with its key. Returns 0 on a 201. */
static int post(CURL *c, const char *name, char hex[65])
{
	struct text t = {0};
	char body[160];
	const char *k;
	long code = 0;

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	k = t.p ? strstr(t.p, "\"public_key\":\"") : NULL;
	if (code != 201 || !k || b64_to_hex(k + 14, hex) < 0) {
		fprintf(stderr, "post %s: %ld %s\n", name, code, t.p ? t.p : "");
		free(t.p);
		return -1;
	}
	free(t.p);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int wait_for(const char *sock, const char *hex, double t0)
{
	while (!on_device(sock, hex)) {
		if (now_ms() - t0 > 60000)
			return -1;
		usleep(1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct curl_slist *h = NULL;
	char sock[128], auth[1200], name[128], hex[65];
	double *lat, t0, tp;
	int n;
	CURL *c;

	if (argc != 7)
		return 2;
	n = atoi(argv[4]);
	snprintf(sock, sizeof(sock), "/var/run/wireguard/%s.sock", argv[3]);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argv[2]);
	c = curl_easy_init();
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lat = calloc((size_t)n, sizeof(*lat));
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		double ti = now_ms();

		snprintf(name, sizeof(name), "%s%d", argv[5], i);
		if (post(c, name, hex) < 0)
			return 1;
		if (getenv("POST_LATENCY_DEBUG"))
			fprintf(stderr, "%s: POST answered after %.1f ms\n", name, now_ms() - ti);
		if (!strcmp(argv[6], "serial")) {
			if (wait_for(sock, hex, ti) < 0)
				return fprintf(stderr, "%s never reached the interface\n", name), 1;
			lat[i] = now_ms() - ti;
		}
	}
	if (!strcmp(argv[6], "burst")) {
		tp = now_ms() - t0;
		if (wait_for(sock, hex, t0) < 0)
			return fprintf(stderr, "the last peer never reached the interface\n"), 1;
		printf("%.0f %.0f\n", tp, now_ms() - t0);
	} else {
		qsort(lat, (size_t)n, sizeof(*lat), cmp);
		printf("%.1f %.1f %.1f\n", lat[(n - 1) / 2], lat[(int)(n * 0.99 + 0.999) - 1],
		       lat[n - 1]);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return 0;
}
