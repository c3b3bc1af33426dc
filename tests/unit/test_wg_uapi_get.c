/*
 * test_wg_uapi_get.c - a get=1 sent ahead (wg_uapi_prefetch): the next
 * wg_uapi_get() of that interface reads the reply of that connection
 * instead of asking again, asks again when that reply is lost, and
 * wg_uapi_prefetch_drop() closes what was not read. A socket of the
 * device's name under /var/run/wireguard answers each connection with its
 * number as the listen port, or with a reply it is given. wg_uapi_observe()
 * parses a reply as it arrives into what wg_parse_uapi() makes of it whole.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

#include "controller/wireguard/wg.h"

struct dev {
	int lfd;
	char path[108];
	int conns;		/* connections accepted */
	int hang_up_first;	/* close the first connection without a reply */
	const char *reply;	/* the reply to send, else one with the connection's number */
	size_t cut_first;	/* the first connection gets only so many bytes of reply */
	pthread_t th;
};

/* The socket made last, removed by the group teardown even after a failure. */
static char made[108];

static int remove_made(void **ts)
{
	(void)ts;
	if (made[0])
		unlink(made);
	return 0;
}

static void *serve(void *p)
{
	struct dev *d = p;
	int fd;

	while ((fd = accept(d->lfd, NULL, NULL)) >= 0) {
		char req[16] = "", reply[64];
		int n = ++d->conns;

		if (read(fd, req, sizeof(req) - 1) > 0 && !(n == 1 && d->hang_up_first)) {
			const char *r = reply;
			size_t len;

			snprintf(reply, sizeof(reply), "listen_port=%d\nerrno=0\n\n", 1000 + n);
			if (d->reply)
				r = d->reply;
			len = n == 1 && d->cut_first ? d->cut_first : strlen(r);
			/* in small sends: lines cross the reader's pieces */
			for (size_t at = 0; at < len;) {
				size_t k = len - at < 999 ? len - at : 999;
				ssize_t w = send(fd, r + at, k, MSG_NOSIGNAL);

				/* the client may have closed (a dropped prefetch) */
				if (w <= 0)
					break;
				at += (size_t)w;
			}
		}
		close(fd);
	}
	return NULL;
}

static void dev_start_with(struct dev *d, const char *ifname, int hang_up_first,
			   const char *reply, size_t cut_first)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(d, 0, sizeof(*d));
	d->hang_up_first = hang_up_first;
	d->reply = reply;
	d->cut_first = cut_first;
	mkdir("/var/run/wireguard", 0755);
	snprintf(d->path, sizeof(d->path), "/var/run/wireguard/%s.sock", ifname);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->path);
	unlink(d->path);
	snprintf(made, sizeof(made), "%s", d->path);
	d->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(d->lfd, 4) < 0)
		fail_msg("cannot listen on %s (needs root): %s", d->path, strerror(errno));
	assert_int_equal(pthread_create(&d->th, NULL, serve, d), 0);
}

static void dev_start(struct dev *d, const char *ifname, int hang_up_first)
{
	dev_start_with(d, ifname, hang_up_first, NULL, 0);
}

static void dev_stop(struct dev *d)
{
	shutdown(d->lfd, SHUT_RDWR);
	pthread_join(d->th, NULL);
	close(d->lfd);
	unlink(d->path);
}

/* The listen port a wg_uapi_get() of ifname reads. */
static int get_port(const char *ifname)
{
	struct wg_obs_iface oi = { 0 };
	struct atlas_err err = { 0 };
	struct buf b = BUF_INIT;
	int port;

	if (wg_uapi_get(ifname, &b, &err) < 0 || wg_parse_uapi(b.data, &oi, &err) < 0)
		fail_msg("%s", err.msg);
	port = oi.listen_port;
	buf_release(&b);
	wg_obs_iface_release(&oi);
	return port;
}

static void test_wg_uapi_get__prefetch(void **ts)
{
	char ifname[16];
	struct dev d;

	(void)ts;
	snprintf(ifname, sizeof(ifname), "atpf%d", (int)getpid() % 100000);
	dev_start(&d, ifname, 0);
	wg_uapi_prefetch(ifname);
	wg_uapi_prefetch("atpf-none");	/* no such socket: nothing kept */
	assert_int_equal(get_port(ifname), 1001);	/* the connection made ahead */
	assert_int_equal(get_port(ifname), 1002);	/* then a new one each time */
	assert_int_equal(d.conns, 2);
	/* Dropped unread: the next get asks again. */
	wg_uapi_prefetch(ifname);
	wg_uapi_prefetch_drop();
	assert_int_equal(get_port(ifname), 1004);
	dev_stop(&d);
	/* A device that hangs up on the prefetched request: asked again. */
	dev_start(&d, ifname, 1);
	wg_uapi_prefetch(ifname);
	assert_int_equal(get_port(ifname), 1002);
	assert_int_equal(d.conns, 2);
	dev_stop(&d);
}

/* A reply of n peers with every kind of line, as wireguard-go writes it (new). */
static char *big_reply(size_t n)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "private_key="
		     "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
		     "listen_port=51820\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "public_key=%02zx%02zx", (i >> 8) & 255, i & 255);
		for (int k = 0; k < 30; k++)
			buf_puts(&b, "5a");
		/* every second peer without a PSK (all zero) */
		buf_puts(&b, "\npreshared_key=");
		for (int k = 0; k < 32; k++)
			buf_puts(&b, i % 2 ? "00" : "18");
		buf_putc(&b, '\n');
		buf_printf(&b, "protocol_version=1\nendpoint=192.0.2.%zu:51820\n"
			       "last_handshake_time_sec=%zu\nlast_handshake_time_nsec=0\n"
			       "tx_bytes=%zu\nrx_bytes=%zu\npersistent_keepalive_interval=%d\n"
			       "allowed_ip=10.9.%zu.%zu/32\nallowed_ip=fd00::%zx/128\n",
			   i % 250, 1767268000 + i, 3 * i, 5 * i, i % 2 ? 25 : 0, i / 250, i % 250,
			   i);
	}
	buf_puts(&b, "errno=0\n\n");
	return buf_detach(&b);
}

/* Two observations of a device are the same: device fields, every peer field. */
static void assert_same_obs(const struct wg_obs_iface *a, const struct wg_obs_iface *b)
{
	assert_int_equal(a->listen_port, b->listen_port);
	assert_string_equal(a->public_key, b->public_key);
	assert_int_equal(a->npeers, b->npeers);
	for (size_t i = 0; i < a->npeers; i++) {
		const struct wg_obs_peer *p = &a->peers[i], *q = &b->peers[i];

		assert_string_equal(p->public_key, q->public_key);
		assert_string_equal(p->preshared_key, q->preshared_key);
		assert_true(strv_eq(&p->allowed_ips, &q->allowed_ips));
		assert_int_equal(p->keepalive, q->keepalive);
		assert_int_equal(p->handshake, q->handshake);
		assert_int_equal(p->rx, q->rx);
		assert_int_equal(p->tx, q->tx);
		assert_string_equal(p->endpoint, q->endpoint);
	}
}

/*
 * wg_uapi_observe() parses the reply as it arrives: a reply of many
 * pieces gives what wg_parse_uapi() gives for the whole text; a prefetched
 * reply cut short is asked again and nothing of the lost part stays (no
 * peer twice); a malformed reply is an error of a reply that came.
 */
static void test_wg_uapi_get__observe_streamed(void **ts)
{
	struct wg_obs_iface whole = { 0 }, got = { 0 };
	struct atlas_err err = { 0 };
	char ifname[16], *reply = big_reply(3000), *copy = xstrdup(reply);
	struct dev d;
	int came;

	(void)ts;
	snprintf(ifname, sizeof(ifname), "atso%d", (int)getpid() % 100000);
	assert_true(strlen(reply) > 10 * 65536);
	assert_int_equal(wg_parse_uapi(copy, &whole, &err), 0);
	assert_int_equal(whole.npeers, 3000);
	dev_start_with(&d, ifname, 0, reply, 0);
	assert_int_equal(wg_uapi_observe(ifname, &got, &came, &err), 0);
	assert_int_equal(came, 1);
	assert_same_obs(&got, &whole);
	wg_obs_iface_release(&got);
	dev_stop(&d);
	/* the prefetched connection hangs up in the middle of a peer: asked again */
	dev_start_with(&d, ifname, 0, reply, strlen(reply) / 2 + 7);
	wg_uapi_prefetch(ifname);
	assert_int_equal(wg_uapi_observe(ifname, &got, &came, &err), 0);
	assert_int_equal(d.conns, 2);
	assert_same_obs(&got, &whole);
	wg_obs_iface_release(&got);
	dev_stop(&d);
	/* no prefetch, cut short: no reply, nothing kept */
	dev_start_with(&d, ifname, 0, reply, strlen(reply) / 2);
	assert_int_equal(wg_uapi_observe(ifname, &got, &came, &err), -1);
	assert_int_equal(came, 0);
	assert_non_null(strstr(err.msg, "cut short"));
	assert_int_equal(got.npeers, 0);
	assert_null(got.peers);
	dev_stop(&d);
	/* errno != 0: a reply came, and it is an error */
	dev_start_with(&d, ifname, 0, "errno=2\n\n", 0);
	assert_int_equal(wg_uapi_observe(ifname, &got, &came, &err), -1);
	assert_int_equal(came, 1);
	assert_non_null(strstr(err.msg, "errno 2"));
	wg_obs_iface_release(&got);
	dev_stop(&d);
	/* no socket */
	assert_int_equal(wg_uapi_observe("atso-none", &got, &came, &err), -1);
	assert_int_equal(came, 0);
	assert_int_equal(err.code, ERR_NOTFOUND);
	wg_obs_iface_release(&whole);
	free(copy);
	free(reply);
}

TU_MAIN(NULL, remove_made,
	cmocka_unit_test(test_wg_uapi_get__prefetch),
	cmocka_unit_test(test_wg_uapi_get__observe_streamed))
