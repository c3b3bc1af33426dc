/*
 * test_wg_uapi_get.c - a get=1 sent ahead (wg_uapi_prefetch): the next
 * wg_uapi_get() of that interface reads the reply of that connection
 * instead of asking again, asks again when that reply is lost, and
 * wg_uapi_prefetch_drop() closes what was not read. A socket of the
 * device's name under /var/run/wireguard answers each connection with its
 * number as the listen port.
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
			snprintf(reply, sizeof(reply), "listen_port=%d\nerrno=0\n\n", 1000 + n);
			/* the client may have closed already (a dropped prefetch) */
			if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0 && errno != EPIPE)
				break;
		}
		close(fd);
	}
	return NULL;
}

static void dev_start(struct dev *d, const char *ifname, int hang_up_first)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(d, 0, sizeof(*d));
	d->hang_up_first = hang_up_first;
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

TU_MAIN(NULL, remove_made,
	cmocka_unit_test(test_wg_uapi_get__prefetch))
