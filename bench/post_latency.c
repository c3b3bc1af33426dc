/*
 * post_latency.c - bench helper for bench/api.sh: the time from a POST of
 * a WireGuard peer to its public key on the wireguard-go interface (read
 * over the UAPI socket, an observation from outside Atlas), without a
 * process spawn per POST or per poll.
 *   post_latency URL TOKEN IF N PREFIX serial GAP: N POSTs one after the
 *     other, each waiting for its peer; prints "median p99 max" in ms.
 *   post_latency URL TOKEN IF N PREFIX burst GAP: N POSTs back to back,
 *     then waits for the last one; prints "posts_ms total_ms" (first POST
 *     sent to every peer on the interface).
 *   post_latency - - IF N - getcost: N UAPI gets of the whole device, one
 *     after the other; prints "median max" in ms.
 * GAP is how the peer is seen: "1" (a UAPI get every ms, the first
 * method), "get" (gets spaced by the last get's length, at least 1 ms), or
 * "probe KEY PORT" (the handshake probe below, every ms, KEY the
 * interface's public key, PORT its listen port on 127.0.0.1). Every poll is a
 * `get` of every peer (about 2 MB of text with 10,000 peers): polled every
 * millisecond it keeps wireguard-go busy on a core that Atlas needs, so the
 * figure measures the poll too; the "get" gap bounds the poll to half of a
 * core, and each figure is late by at most one gap and one get.
 * URL is the peer list (.../wireguard/interfaces/IF/peers).
 */
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
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

/*
 * The handshake probe: an independent observation of one peer that costs
 * wireguard-go one failed decryption per probe instead of a whole `get`.
 * The bench makes the peer's key pair itself (the POST sets public_key, a
 * bring-your-own-key peer) and sends the WireGuard handshake initiation of
 * that peer (Noise IKpsk2, the whitepaper's section 5.4.2) to the
 * interface's port: wireguard-go answers with a handshake response only
 * once the peer is on the interface, and drops it silently before.
 */
#define WG_INIT_LEN 148

static void blake2s(const void *a, size_t na, const void *b, size_t nb, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 32;

	EVP_DigestInit_ex(c, EVP_blake2s256(), NULL);
	EVP_DigestUpdate(c, a, na);
	if (nb)
		EVP_DigestUpdate(c, b, nb);
	EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

static void hmac(const unsigned char key[32], const void *d, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_blake2s256(), key, 32, d, n, out, &len);
}

/* KDF2 of the whitepaper: t1 into ck, t2 into k (when k is not NULL). */
static void kdf(unsigned char ck[32], const void *in, size_t n, unsigned char *k)
{
	unsigned char t0[32], t[33];

	hmac(ck, in, n, t0);
	t[0] = 1;
	hmac(t0, t, 1, t);
	memcpy(ck, t, 32);
	if (k) {
		t[32] = 2;
		hmac(t0, t, 33, k);
	}
}

/* ChaCha20-Poly1305 with counter 0 and additional data ad: n + 16 bytes out. */
static void aead(const unsigned char k[32], const void *in, int n, const unsigned char ad[32],
		 unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char nonce[12] = { 0 };
	int len;

	EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, k, nonce);
	EVP_EncryptUpdate(c, NULL, &len, ad, 32);
	EVP_EncryptUpdate(c, out, &len, in, n);
	EVP_EncryptFinal_ex(c, out + len, &len);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + n);
	EVP_CIPHER_CTX_free(c);
}

static void x25519(EVP_PKEY *mine, const unsigned char their[32], unsigned char out[32])
{
	EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, their, 32);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
	size_t n = 32;

	EVP_PKEY_derive_init(c);
	EVP_PKEY_derive_set_peer(c, pub);
	EVP_PKEY_derive(c, out, &n);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(pub);
}

/* Keyed BLAKE2s-128 (mac1). */
static void mac16(const unsigned char key[32], const void *d, size_t n, unsigned char out[16])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
	size_t sz = 16, len;
	OSSL_PARAM par[] = { OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &sz), OSSL_PARAM_END };

	EVP_MAC_init(c, key, 32, par);
	EVP_MAC_update(c, d, n);
	EVP_MAC_final(c, out, &len, 16);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
}

/*
 * The initiation of peer (key pair me) to the interface of public key srv,
 * sender index idx, into msg.
 */
static void wg_initiation(EVP_PKEY *me, const unsigned char srv[32], uint32_t idx,
			  unsigned char msg[WG_INIT_LEN])
{
	static const char cons[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
			  ident[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	unsigned char ck[32], h[32], k[32], dh[32], mpub[32], epub[32], ts[12], mk[32];
	EVP_PKEY *e = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t n = 32;
	struct timespec now;
	uint64_t sec;

	blake2s(cons, strlen(cons), NULL, 0, ck);
	blake2s(ck, 32, ident, strlen(ident), h);
	blake2s(h, 32, srv, 32, h);
	memset(msg, 0, WG_INIT_LEN);
	msg[0] = 1;
	memcpy(msg + 4, &idx, 4);
	EVP_PKEY_get_raw_public_key(e, epub, &n);
	memcpy(msg + 8, epub, 32);
	kdf(ck, epub, 32, NULL);
	blake2s(h, 32, epub, 32, h);
	x25519(e, srv, dh);
	kdf(ck, dh, 32, k);
	n = 32;
	EVP_PKEY_get_raw_public_key(me, mpub, &n);
	aead(k, mpub, 32, h, msg + 40);
	blake2s(h, 32, msg + 40, 48, h);
	x25519(me, srv, dh);
	kdf(ck, dh, 32, k);
	clock_gettime(CLOCK_REALTIME, &now);
	sec = 0x400000000000000aULL + (uint64_t)now.tv_sec; /* TAI64N, big-endian */
	for (int i = 0; i < 8; i++)
		ts[i] = (unsigned char)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		ts[8 + i] = (unsigned char)((uint32_t)now.tv_nsec >> (24 - 8 * i));
	aead(k, ts, 12, h, msg + 88);
	blake2s("mac1----", 8, srv, 32, mk);
	mac16(mk, msg, 116, msg + 116);
	EVP_PKEY_free(e);
}

/* Sends the initiation once; 1 when the handshake response came back within wait_ms. */
static int probe_once(int fd, const struct sockaddr_in *to, const unsigned char msg[WG_INIT_LEN],
		      uint32_t idx, int wait_ms)
{
	unsigned char r[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double end = now_ms() + wait_ms;

	if (sendto(fd, msg, WG_INIT_LEN, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		return 0;
	while (now_ms() < end && poll(&p, 1, (int)(end - now_ms()) + 1) > 0) {
		ssize_t n = recv(fd, r, sizeof(r), 0);

		/* type 2, the response to our sender index */
		if (n == 92 && r[0] == 2 && !memcmp(r + 8, &idx, 4))
			return 1;
	}
	return 0;
}

/* How the bench sees the peer on the interface. */
struct watch {
	int probe;  /* 1: the handshake probe; 0: UAPI gets */
	int by_get; /* gets spaced by a get's length (else 1 ms) */
	int fd;
	struct sockaddr_in to;
	unsigned char srv[32]; /* the interface's public key */
	EVP_PKEY *key;	       /* the probe's peer */
	unsigned char msg[WG_INIT_LEN];
	uint32_t idx;
	char pub[64]; /* the peer's public key (base64), for the POST */
};

/* A new peer key pair and its initiation, made before the POST is timed. */
static void watch_next(struct watch *w)
{
	unsigned char raw[32];
	size_t n = sizeof(raw);

	EVP_PKEY_free(w->key);
	w->key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_PKEY_get_raw_public_key(w->key, raw, &n);
	EVP_EncodeBlock((unsigned char *)w->pub, raw, 32);
	RAND_bytes((unsigned char *)&w->idx, sizeof(w->idx));
	wg_initiation(w->key, w->srv, w->idx, w->msg);
}

/* POSTs peer name (with w's key for the probe); fills hex with its key. 0 on a 201. */
static int post(CURL *c, const char *name, const struct watch *w, char hex[65])
{
	struct text t = {0};
	char body[256];
	const char *k;
	long code = 0;

	if (w->probe)
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"public_key\":\"%s\"}", name, w->pub);
	else
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

/* The pause after a poll that took took_ms: 1 ms, or the get's own length. */
static useconds_t poll_gap_us(int by_get, double took_ms)
{
	return by_get && took_ms > 1 ? (useconds_t)(took_ms * 1000) : 1000;
}

static int wait_for(const struct watch *w, const char *sock, const char *hex, double t0)
{
	for (;;) {
		double tg = now_ms();

		if (w->probe ? probe_once(w->fd, &w->to, w->msg, w->idx, 1) : on_device(sock, hex))
			return 0;
		if (now_ms() - t0 > 60000)
			return -1;
		if (!w->probe)
			usleep(poll_gap_us(w->by_get, now_ms() - tg));
	}
}

/* n whole gets: "median max" of their wall time in ms. */
static int get_cost(const char *sock, int n)
{
	double *t = calloc((size_t)n, sizeof(*t));

	for (int i = 0; i < n; i++) {
		double t0 = now_ms();

		on_device(sock, "-");
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.1f %.1f\n", t[(n - 1) / 2], t[n - 1]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct curl_slist *h = NULL;
	char sock[128], auth[1200], name[128], hex[65];
	double *lat, t0, tp;
	struct watch w = { .fd = -1 };
	int n;
	CURL *c;

	if (argc < 7)
		return 2;
	n = atoi(argv[4]);
	snprintf(sock, sizeof(sock), "/var/run/wireguard/%s.sock", argv[3]);
	if (!strcmp(argv[6], "getcost"))
		return n > 0 ? get_cost(sock, n) : 2;
	w.by_get = argc > 7 && !strcmp(argv[7], "get");
	w.probe = argc > 9 && !strcmp(argv[7], "probe");
	if (w.probe) {
		unsigned char raw[33];

		if (EVP_DecodeBlock(raw, (const unsigned char *)argv[8], 44) != 33)
			return fprintf(stderr, "post_latency: a bad interface key\n"), 2;
		memcpy(w.srv, raw, 32);
		w.to.sin_family = AF_INET;
		w.to.sin_port = htons((uint16_t)atoi(argv[9]));
		w.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
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
		double ti;

		snprintf(name, sizeof(name), "%s%d", argv[5], i);
		/* the control: no answer before the peer is POSTed, or the probe proves nothing */
		if (w.probe && (watch_next(&w), probe_once(w.fd, &w.to, w.msg, w.idx, 1)))
			return fprintf(stderr, "%s: a handshake answer before the POST\n", name), 1;
		ti = now_ms();
		if (post(c, name, &w, hex) < 0)
			return 1;
		if (getenv("POST_LATENCY_DEBUG"))
			fprintf(stderr, "%s: POST answered after %.1f ms\n", name, now_ms() - ti);
		if (!strcmp(argv[6], "serial")) {
			if (wait_for(&w, sock, hex, ti) < 0)
				return fprintf(stderr, "%s never reached the interface\n", name), 1;
			lat[i] = now_ms() - ti;
			if (getenv("POST_LATENCY_DEBUG"))
				fprintf(stderr, "%s: on the interface after %.1f ms\n", name, lat[i]);
		}
	}
	if (!strcmp(argv[6], "burst")) {
		tp = now_ms() - t0;
		if (wait_for(&w, sock, hex, t0) < 0)
			return fprintf(stderr, "the last peer never reached the interface\n"), 1;
		printf("%.0f %.0f\n", tp, now_ms() - t0);
	} else {
		qsort(lat, (size_t)n, sizeof(*lat), cmp);
		printf("%.1f %.1f %.1f\n", lat[(n - 1) / 2], lat[(int)(n * 0.99 + 0.999) - 1],
		       lat[n - 1]);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	EVP_PKEY_free(w.key);
	if (w.fd >= 0)
		close(w.fd);
	return 0;
}
