/*
 * wg_uapi.c - reading a userspace (wireguard-go) device over its UAPI
 * socket, /var/run/wireguard/IF.sock: `get=1`, then key=value lines ending
 * with errno=N and an empty line.
 *
 * Measured against `wg show IF dump` (bench/wg.sh, wireguard-go): the raw
 * read is 2-4x cheaper (1,000 peers: ~2-4 ms against ~8 ms for the program;
 * 10,000 peers: ~24 ms against ~47 ms). The longer hex reply is parsed by
 * table (hex digits, base64, line names by length), so it no longer eats
 * that gain, and `atlas plan` sends the get=1 before it loads the desired
 * state (wg_uapi_prefetch). The socket is the default for wireguard-go (no
 * program at each periodic resync); `wg show dump` stays for the kernel
 * module (no UAPI socket) and ATLAS_WG_OBSERVE=dump. Keys arrive as hex and
 * are turned into the base64 the rest of Atlas uses.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/ipaddr.h"
#include "state/active.h"
#include "state/keys.h"
#include "controller/wireguard/wg.h"

#define UAPI_DIR "/var/run/wireguard"
#define UAPI_MAX (256u << 20)

/* Hex digit values plus one; 0 for anything that is not a hex digit. */
static const unsigned char hex1[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,	['6'] = 7,
	['7'] = 8,  ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
	['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16,
};

/*
 * The len hex chars of hex (64 for a key) to base64 text in out, by table
 * (20,000 keys in a reply of 10,000 peers); -1 when not a hex key, 1 when
 * all zero.
 */
static int hex_key(const char *hex, size_t len, char out[KEY_B64])
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *h = (const unsigned char *)hex;
	unsigned char raw[KEY_LEN + 1] = { 0 }, any = 0, bad = 0;
	size_t o = 0;

	if (len != 2 * KEY_LEN)
		return -1;
	for (size_t i = 0; i < KEY_LEN; i++) {
		unsigned hi = hex1[h[2 * i]], lo = hex1[h[2 * i + 1]];

		bad |= !hi | !lo;
		raw[i] = (unsigned char)((hi - 1) << 4 | ((lo - 1) & 15));
		any |= raw[i];
	}
	if (bad)
		return -1;
	for (size_t i = 0; i < KEY_LEN; i += 3) {
		unsigned v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < KEY_LEN ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < KEY_LEN ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return any ? 0 : 1;
}

/* The name of a line of klen bytes is the literal name. */
#define IS(name) (klen == sizeof(name) - 1 && !memcmp(line, name, sizeof(name) - 1))

/* One key=value line of a peer (after its public_key). */
static void peer_line(struct wg_obs_peer *p, const char *line, size_t klen, const char *v,
		      size_t vlen)
{
	if (IS("allowed_ip")) {
		char norm[64];

		/* wireguard-go prints them masked: ip_normalize() copies those as they are */
		strv_push(&p->allowed_ips, ip_normalize(v, 1, norm, sizeof(norm)) ? v : norm);
	} else if (IS("preshared_key")) {
		if (hex_key(v, vlen, p->preshared_key) != 0)
			p->preshared_key[0] = '\0';	/* all zero: none */
	} else if (IS("rx_bytes")) {
		p->rx = strtoull(v, NULL, 10);
	} else if (IS("tx_bytes")) {
		p->tx = strtoull(v, NULL, 10);
	} else if (IS("last_handshake_time_sec")) {
		p->handshake = atoll(v);
	} else if (IS("persistent_keepalive_interval")) {
		p->keepalive = atoi(v);
	} else if (IS("endpoint")) {
		free(p->endpoint);
		p->endpoint = xstrdup(v);
	}
}

/* A get=1 reply parsed a line at a time (wg_parse_uapi, wg_uapi_observe). */
struct uapi_parse {
	struct wg_obs_iface *ifc;
	struct wg_obs_peer *p;	/* the peer the lines are about; NULL: the device's */
	size_t cap;
	int errno_seen;
	char priv[KEY_B64];	/* secret */
};

/* One key=value line of len bytes (no '\n'), cut up in place: 0, or -1 on a malformed one. */
static int uapi_line(struct uapi_parse *ps, char *line, size_t len, struct atlas_err *err)
{
	struct wg_obs_iface *ifc = ps->ifc;
	char *eq = memchr(line, '=', len), *v;
	size_t klen, vlen;

	if (!eq)
		return err_set(err, ERR_INVALID, "uapi: line without '=': \"%.40s\"", line);
	*eq = '\0';
	v = eq + 1;
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	if (IS("public_key")) {
		if (ifc->npeers == ps->cap) {
			ps->cap = ps->cap ? ps->cap * 2 : 16;
			ifc->peers = xrealloc(ifc->peers, ps->cap * sizeof(*ifc->peers));
		}
		ps->p = &ifc->peers[ifc->npeers++];
		memset(ps->p, 0, sizeof(*ps->p));
		if (hex_key(v, vlen, ps->p->public_key) < 0)
			return err_set(err, ERR_INVALID, "uapi: bad public_key");
	} else if (IS("errno")) {
		if (strcmp(v, "0"))
			return err_set(err, ERR_IO, "uapi: get failed with errno %s", v);
		ps->errno_seen = 1;
	} else if (ps->p) {
		peer_line(ps->p, line, klen, v, vlen);
	} else if (IS("private_key")) {
		/* Device keys come before the first peer. */
		if (hex_key(v, vlen, ps->priv) < 0)
			return err_set(err, ERR_INVALID, "uapi: bad private_key");
	} else if (IS("listen_port")) {
		ifc->listen_port = atoi(v);
	}
	return 0;
}

/* After the last line: the device's public key, the peers sorted. */
static int uapi_end(struct uapi_parse *ps, struct atlas_err *err)
{
	struct wg_obs_iface *ifc = ps->ifc;

	if (!ps->errno_seen)
		return err_set(err, ERR_INVALID, "uapi: reply without errno");
	if (ps->priv[0] && key_public(ps->priv, ifc->public_key, err) < 0)
		return -1;
	for (size_t i = 0; i < ifc->npeers; i++)
		strv_sort(&ifc->peers[i].allowed_ips);
	if (ifc->npeers) /* qsort(NULL, 0, ...) is undefined */
		qsort(ifc->peers, ifc->npeers, sizeof(*ifc->peers), wg_obs_peer_cmp);
	return 0;
}

int wg_parse_uapi(char *text, struct wg_obs_iface *ifc, struct atlas_err *err)
{
	struct uapi_parse ps = { .ifc = ifc };
	char *line, *next;
	int ret = -1;

	for (line = text; line && *line; line = next) {
		size_t len;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		len = next ? (size_t)(next - line - 1) : strlen(line);
		if (len && uapi_line(&ps, line, len, err) < 0)
			goto out;	/* an empty line ends the reply */
	}
	ret = uapi_end(&ps, err);
out:
	OPENSSL_cleanse(ps.priv, sizeof(ps.priv));
	return ret;
}

#undef IS

/*
 * Connects to /var/run/wireguard/IF.sock (path into sa) and sends req: the
 * socket, or -1 (ERR_NOTFOUND when there is none).
 */
static int uapi_send_v(const char *ifname, const struct iovec *iov, int niov,
		       struct sockaddr_un *sa, struct atlas_err *err)
{
	struct timeval tv = { .tv_sec = 30 };
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", UAPI_DIR, ifname);
	if (access(sa->sun_path, F_OK) < 0)
		return err_set(err, ERR_NOTFOUND, "no uapi socket %s", sa->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, ERR_IO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
		err_set(err, ERR_IO, "cannot connect to %s: %s", sa->sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	for (int i = 0; i < niov; i++)
		for (size_t done = 0; done < iov[i].iov_len;) {
			ssize_t n = send(fd, (const char *)iov[i].iov_base + done,
					 iov[i].iov_len - done, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				err_set(err, ERR_IO, "cannot write to %s: %s", sa->sun_path,
					strerror(errno));
				close(fd);
				return -1;
			}
			done += (size_t)n;
		}
	return fd;
}

static int uapi_send(const char *ifname, const char *req, size_t len, struct sockaddr_un *sa,
		     struct atlas_err *err)
{
	struct iovec one = { (void *)req, len };

	return uapi_send_v(ifname, &one, 1, sa, err);
}

/* Appends the whole reply on fd (up to its "errno=N" line and the empty line) to out. */
static int uapi_recv(int fd, const char *path, struct buf *out, struct atlas_err *err)
{
	for (;;) {
		ssize_t n;

		buf_grow(out, 65536);
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, ERR_IO, "cannot read %s: %s", path, strerror(errno));
		if (n == 0)	/* before the errno line: the device went away */
			return err_set(err, ERR_IO, "%s: reply cut short", path);
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > UAPI_MAX)
			return err_set(err, ERR_IO, "%s: reply too large", path);
		/* The reply ends with "errno=N\n\n". */
		if (out->len >= 2 && !memcmp(out->data + out->len - 2, "\n\n", 2)) {
			const char *last = out->data + out->len - 2;

			while (last > out->data && last[-1] != '\n')
				last--;
			if (!strncmp(last, "errno=", 6))
				return 0;
		}
	}
}

/*
 * Sends req to /var/run/wireguard/IF.sock and appends the whole reply (up to
 * its "errno=N" line and the empty line) to out.
 */
static int uapi_exchange_v(const char *ifname, const struct iovec *iov, int niov, struct buf *out,
			   struct atlas_err *err)
{
	struct sockaddr_un sa;
	int fd = uapi_send_v(ifname, iov, niov, &sa, err), ret;

	if (fd < 0)
		return -1;
	ret = uapi_recv(fd, sa.sun_path, out, err);
	close(fd);
	return ret;
}

static int uapi_exchange(const char *ifname, const char *req, size_t len, struct buf *out,
			 struct atlas_err *err)
{
	struct iovec one = { (void *)req, len };

	return uapi_exchange_v(ifname, &one, 1, out, err);
}

/*
 * get=1 requests sent ahead (wg_uapi_prefetch) whose replies are not read
 * yet: wireguard-go builds a reply of 10,000 peers (~40 ms) while the CLI
 * loads the desired state from SQLite.
 */
#define UAPI_PENDING 8
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char ifname[IFNAMSIZ];
	int fd;
} pending[UAPI_PENDING];
static size_t npending;

void wg_uapi_prefetch(const char *ifname)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(ifname) >= IFNAMSIZ)
		return;
	pthread_mutex_lock(&pending_mu);
	if (npending < UAPI_PENDING && (fd = uapi_send(ifname, "get=1\n\n", 7, &sa, NULL)) >= 0) {
		snprintf(pending[npending].ifname, IFNAMSIZ, "%s", ifname);
		pending[npending++].fd = fd;
	}
	pthread_mutex_unlock(&pending_mu);
}

void wg_uapi_prefetch_drop(void)
{
	pthread_mutex_lock(&pending_mu);
	while (npending)
		close(pending[--npending].fd);
	pthread_mutex_unlock(&pending_mu);
}

/* The socket of a get=1 sent ahead for ifname (taken out of the table), or -1. */
static int pending_take(const char *ifname)
{
	int fd = -1;

	pthread_mutex_lock(&pending_mu);
	for (size_t i = 0; i < npending && fd < 0; i++)
		if (!strcmp(pending[i].ifname, ifname)) {
			fd = pending[i].fd;
			pending[i] = pending[--npending];
		}
	pthread_mutex_unlock(&pending_mu);
	return fd;
}

int wg_uapi_get(const char *ifname, struct buf *out, struct atlas_err *err)
{
	int fd = pending_take(ifname);

	if (fd >= 0) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
		int ret;

		snprintf(path, sizeof(path), "%s/%s.sock", UAPI_DIR, ifname);
		ret = uapi_recv(fd, path, out, err);
		close(fd);
		if (ret == 0)
			return 0;
		/* the device may have gone and come back since: ask again */
		buf_release_secure(out);
	}
	return uapi_exchange(ifname, "get=1\n\n", 7, out, err);
}

/* What the streamed read holds of a reply at once: whole lines and one part line. */
#define UAPI_CHUNK (64u << 10)

/* The peers and device fields a failed streamed read parsed, gone: ifc as before it. */
static void uapi_parse_drop(struct uapi_parse *ps)
{
	struct wg_obs_iface *ifc = ps->ifc;

	for (size_t i = 0; i < ifc->npeers; i++) {
		OPENSSL_cleanse(ifc->peers[i].preshared_key, KEY_B64);
		strv_clear(&ifc->peers[i].allowed_ips);
		free(ifc->peers[i].endpoint);
	}
	free(ifc->peers);
	ifc->peers = NULL;
	ifc->npeers = 0;
	ifc->listen_port = 0;
	ifc->public_key[0] = '\0';
	OPENSSL_cleanse(ps->priv, sizeof(ps->priv));
	memset(ps, 0, sizeof(*ps));
	ps->ifc = ifc;
}

/*
 * Reads the reply on fd and parses it (uapi_line) as it arrives, up to the
 * empty line after "errno=N". 0; -1 with *bad 0 when the socket failed or
 * closed first, *bad 1 when a line was malformed.
 */
static int uapi_recv_parse(int fd, const char *path, struct uapi_parse *ps, int *bad,
			   struct atlas_err *err)
{
	char *chunk = xmalloc(UAPI_CHUNK + 1);
	size_t have = 0, total = 0;
	int ret = -1;

	*bad = 0;
	for (;;) {
		ssize_t n = read(fd, chunk + have, UAPI_CHUNK - have);
		char *line = chunk, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, ERR_IO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {	/* before the errno line: the device went away */
			err_set(err, ERR_IO, "%s: reply cut short", path);
			goto out;
		}
		have += (size_t)n;
		total += (size_t)n;
		if (total > UAPI_MAX) {
			err_set(err, ERR_IO, "%s: reply too large", path);
			goto out;
		}
		while ((nl = memchr(line, '\n', have - (size_t)(line - chunk)))) {
			*nl = '\0';
			if (nl == line && ps->errno_seen) {
				ret = 0;	/* "errno=N\n\n": the end */
				goto out;
			}
			if (nl > line && uapi_line(ps, line, (size_t)(nl - line), err) < 0) {
				*bad = 1;
				goto out;
			}
			line = nl + 1;
		}
		have -= (size_t)(line - chunk);
		memmove(chunk, line, have);
		if (have == UAPI_CHUNK) {
			*bad = 1;
			err_set(err, ERR_INVALID, "uapi: line longer than %u bytes", UAPI_CHUNK);
			goto out;
		}
	}
out:
	OPENSSL_cleanse(chunk, UAPI_CHUNK + 1);
	free(chunk);
	return ret;
}

int wg_uapi_observe(const char *ifname, struct wg_obs_iface *ifc, int *got,
		    struct atlas_err *err)
{
	struct uapi_parse ps = { .ifc = ifc };
	struct sockaddr_un sa;
	int fd = pending_take(ifname), bad = 0, ret = -1;

	*got = 0;
	if (fd >= 0) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", UAPI_DIR, ifname);
		ret = uapi_recv_parse(fd, sa.sun_path, &ps, &bad, err);
		close(fd);
		/* the device may have gone and come back since: ask again */
		if (ret < 0 && !bad)
			uapi_parse_drop(&ps);
	}
	if (ret < 0 && !bad) {
		if ((fd = uapi_send(ifname, "get=1\n\n", 7, &sa, err)) < 0)
			goto out;
		ret = uapi_recv_parse(fd, sa.sun_path, &ps, &bad, err);
		close(fd);
		if (ret < 0 && !bad) {
			uapi_parse_drop(&ps);
			goto out;
		}
	}
	*got = 1;
	if (ret == 0)
		ret = uapi_end(&ps, err);
out:
	OPENSSL_cleanse(ps.priv, sizeof(ps.priv));
	return ret;
}

/* 32 raw bytes as 64 lowercase hex digits in out[65]. */
static void raw_hex(const unsigned char raw[KEY_LEN], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < KEY_LEN; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[64] = '\0';
}

/* base64 key to 64 lowercase hex digits in out[65]; -1 when not a key. */
static int key_hex(const char *b64, char out[65])
{
	unsigned char raw[KEY_LEN];

	if (key_decode(b64, raw) < 0)
		return -1;
	raw_hex(raw, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int wg_uapi_peer_text(struct buf *b, const char *public_key, const char *psk,
		      const struct strv *allowed, int keepalive)
{
	char hex[65];

	if (key_hex(public_key, hex) < 0)
		return -1;
	buf_printf(b, "public_key=%s\n", hex);
	if (psk && *psk) {
		if (key_hex(psk, hex) < 0)
			return -1;
		buf_printf(b, "preshared_key=%s\n", hex);
		OPENSSL_cleanse(hex, sizeof(hex));
	}
	for (size_t k = 0; k < allowed->n; k++)
		buf_printf(b, "allowed_ip=%s\n", allowed->v[k]);
	if (keepalive)
		buf_printf(b, "persistent_keepalive_interval=%d\n", keepalive);
	return 0;
}

int wg_uapi_set(const char *ifname, const char *body, size_t len, struct atlas_err *err)
{
	/* in pieces: a copy of 10,000 peers' body would be 2 MB more at the start-up's peak */
	struct iovec req[3] = { { "set=1\n", 6 }, { (void *)body, len }, { "\n", 1 } };
	struct buf reply = BUF_INIT;
	int ret;

	ret = uapi_exchange_v(ifname, req, 3, &reply, err);
	if (ret == 0 && strncmp(buf_str(&reply), "errno=0\n", 8))
		ret = err_set(err, ERR_EXEC, "wireguard %s refused the change: %.60s", ifname,
			      buf_str(&reply));
	buf_release(&reply);
	return ret;
}

/* A peer of the desired state that belongs on the interface (public key, active). */
static int on_iface(const struct wg_peer *p, time_t now)
{
	return p && KEY_HAS(&p->public_key) && wg_peer_active(p, now);
}

int wg_uapi_peer_change_text(struct buf *b, const struct wg_peer *old, const struct wg_peer *next,
			     time_t now)
{
	int was = on_iface(old, now), is = on_iface(next, now);
	int same = was && is && key_same(&old->public_key, &next->public_key);
	struct strv allowed = STRV_INIT;
	char hex[65], ip[64], pub[KEY_B64], psk[KEY_B64];
	int ret = 0;

	if (was && !same) {
		raw_hex(old->public_key.b, hex);
		buf_printf(b, "public_key=%s\nremove=true\n", hex);
	}
	if (!is)
		return 0;
	for (size_t i = 0; i < next->address.n; i++)
		if (ip_normalize(next->address.v[i], 1, ip, sizeof(ip)) == 0)
			strv_push(&allowed, ip);
	if (!same) {
		key_text(&next->public_key, pub);
		key_text(&next->preshared_key, psk);
		ret = wg_uapi_peer_text(b, pub, key_psk_on(&next->preshared_key) ? psk : NULL,
					&allowed, next->keepalive);
		OPENSSL_cleanse(psk, sizeof(psk));
	} else {
		/* The same peer, changed in place: its session (handshake, endpoint) stays. */
		raw_hex(next->public_key.b, hex);
		buf_printf(b, "public_key=%s\nupdate_only=true\nreplace_allowed_ips=true\n", hex);
		for (size_t k = 0; k < allowed.n; k++)
			buf_printf(b, "allowed_ip=%s\n", allowed.v[k]);
		if (key_psk_on(&next->preshared_key))
			raw_hex(next->preshared_key.b, hex);
		else
			memset(hex, '0', 64);
		buf_printf(b, "preshared_key=%.64s\npersistent_keepalive_interval=%d\n", hex,
			   next->keepalive);
		OPENSSL_cleanse(hex, sizeof(hex));
	}
	strv_clear(&allowed);
	return ret;
}
