/*
 * ovpn_mgmt.c - a small client of the OpenVPN management interface: a
 * parser of `status 3` replies (pure) and one-connection exchanges.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "controller/openvpn/ovpn_mgmt.h"

void ovpn_status_release(struct ovpn_status *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].cn);
		free(st->v[i].real);
		free(st->v[i].virt);
	}
	free(st->v);
	st->v = NULL;
	st->n = 0;
}

/* Splits a line (not NUL-terminated) on tabs into at most max fields. */
static size_t split_tabs(const char *s, size_t len, const char **f, size_t *fl, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len && n < max; i++)
		if (i == len || s[i] == '\t') {
			f[n] = s + start;
			fl[n] = i - start;
			n++;
			start = i + 1;
		}
	return n;
}

static long long num(const char *s, size_t len)
{
	char tmp[32];

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return strtoll(tmp, NULL, 10);
}

static int add_client(struct ovpn_status *st, const char *line, size_t len)
{
	const char *f[14];
	size_t fl[14], n = split_tabs(line, len, f, fl, 14);
	struct ovpn_session *s;

	/* CLIENT_LIST CN Real Virt Virt6 Recv Sent Since Since_t User CID PeerID Cipher */
	if (n < 11)
		return -1;
	st->v = xrealloc(st->v, (st->n + 1) * sizeof(*st->v));
	s = &st->v[st->n++];
	s->cn = xstrndup(f[1], fl[1]);
	s->real = xstrndup(f[2], fl[2]);
	s->virt = xstrndup(f[3], fl[3]);
	s->rx = num(f[5], fl[5]);
	s->tx = num(f[6], fl[6]);
	s->since = num(f[8], fl[8]);
	s->cid = (unsigned long)num(f[10], fl[10]);
	return 0;
}

int ovpn_status_parse(const char *text, size_t len, struct ovpn_status *st,
		      struct atlas_err *err)
{
	const char *p = text, *end = text + len;

	ovpn_status_release(st);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l;

		if (!nl)
			break; /* a partial line: wait for the rest */
		l = (size_t)(nl - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l && p[0] == '>') {
			/* asynchronous notification, wherever it lands */
		} else if (l == 3 && !memcmp(p, "END", 3)) {
			return 1;
		} else if (l >= 6 && !memcmp(p, "ERROR:", 6)) {
			err_set(err, ERR_EXEC, "openvpn management: %.*s", (int)(l > 200 ? 200 : l),
				p);
			ovpn_status_release(st);
			return -1;
		} else if (l > 12 && !memcmp(p, "CLIENT_LIST\t", 12)) {
			if (add_client(st, p, l) < 0) {
				err_set(err, ERR_EXEC, "openvpn management: malformed row \"%.*s\"",
					(int)(l > 200 ? 200 : l), p);
				ovpn_status_release(st);
				return -1;
			}
		}
		p = nl + 1;
	}
	return 0;
}

int ovpn_reply_parse(const char *text, size_t len, size_t skip, int *ok)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l;

		if (!nl)
			break;
		l = (size_t)(nl - p);
		if (l >= 8 && !memcmp(p, "SUCCESS:", 8)) {
			if (skip-- == 0)
				return *ok = 1, 1;
		} else if (l >= 6 && !memcmp(p, "ERROR:", 6)) {
			if (skip-- == 0)
				return *ok = 0, 1;
		}
		p = nl + 1;
	}
	return 0;
}

static int mgmt_connect(const char *sock, struct atlas_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return err_set(err, ERR_INVALID, "management socket path \"%s\" is too long", sock);
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, ERR_IO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_set(err, ERR_IO, "cannot connect to the openvpn management socket \"%s\": %s",
			sock, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s, struct atlas_err *err)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, ERR_IO, "openvpn management: send: %s", strerror(errno));
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more into in before the deadline. 0 ok, -1 timeout/EOF/error. */
static int read_more(int fd, struct buf *in, long long deadline, struct atlas_err *err)
{
	char chunk[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left = deadline - clock_mono_ms();
	ssize_t n;
	int rc;

	if (left <= 0)
		return err_set(err, ERR_IO,
			       "openvpn management: no reply in time (another management client "
			       "connected?)");
	rc = poll(&pfd, 1, (int)left);
	if (rc < 0 && errno == EINTR)
		return 0;
	if (rc <= 0)
		return err_set(err, ERR_IO,
			       "openvpn management: no reply in time (another management client "
			       "connected?)");
	n = recv(fd, chunk, sizeof(chunk), 0);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return err_set(err, ERR_IO, "openvpn management: connection closed");
	if (in->len + (size_t)n > (64u << 20))
		return err_set(err, ERR_IO, "openvpn management: reply too large");
	buf_add(in, chunk, (size_t)n);
	return 0;
}

int ovpn_mgmt_status(const char *sock, int timeout_ms, struct ovpn_status *st,
		     struct atlas_err *err)
{
	long long deadline = clock_mono_ms() + timeout_ms;
	struct buf in = BUF_INIT;
	int fd, ret = -1, rc;

	st->v = NULL;
	st->n = 0;
	fd = mgmt_connect(sock, err);
	if (fd < 0)
		return -1;
	if (send_all(fd, "status 3\n", err) < 0)
		goto out;
	while ((rc = ovpn_status_parse(buf_str(&in), in.len, st, err)) == 0)
		if (read_more(fd, &in, deadline, err) < 0)
			goto out;
	if (rc < 0)
		goto out;
	send_all(fd, "quit\n", NULL);
	ret = 0;
out:
	if (ret < 0)
		ovpn_status_release(st);
	buf_release(&in);
	close(fd);
	return ret;
}

int ovpn_mgmt_kill(const char *sock, const unsigned long *cids, size_t n, int timeout_ms,
		   size_t *failed, struct atlas_err *err)
{
	long long deadline = clock_mono_ms() + timeout_ms;
	struct buf in = BUF_INIT, cmd = BUF_INIT;
	size_t bad = 0;
	int fd, ret = -1;

	if (failed)
		*failed = 0;
	if (!n)
		return 0;
	fd = mgmt_connect(sock, err);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		buf_printf(&cmd, "client-kill %lu\n", cids[i]);
	if (send_all(fd, buf_str(&cmd), err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int ok = 0;

		while (!ovpn_reply_parse(buf_str(&in), in.len, i, &ok))
			if (read_more(fd, &in, deadline, err) < 0)
				goto out;
		bad += !ok;
	}
	send_all(fd, "quit\n", NULL);
	if (failed)
		*failed = bad;
	ret = 0;
out:
	buf_release(&in);
	buf_release(&cmd);
	close(fd);
	return ret;
}
