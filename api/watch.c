/*
 * watch.c - GitOps: `atlas serve --watch FILE` imports FILE at start and
 * whenever it changes.
 *
 * inotify watches FILE's directory, not the file: git (and editors) replace
 * a file by writing a temporary one and renaming it over, which a watch on
 * the old inode would never see. Events for FILE's name are collected for
 * SETTLE_MS so one save is one import. An invalid file is reported (log,
 * /status atlas.watch.error, an SSE "watch" event) and the last good state
 * stays: nothing is stored.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "state/commit.h"
#include "state/yaml.h"
#include "api/api.h"

#define SETTLE_MS 100

struct watch {
	struct app *app;
	char *file, *dir, *base;
	int ifd, stopfd;
	pthread_t thread;
};

static void set_error(struct app *a, const char *msg)
{
	json_t *ev;

	pthread_mutex_lock(&a->live_mu);
	free(a->watch_error);
	a->watch_error = msg ? xstrdup(msg) : NULL;
	pthread_mutex_unlock(&a->live_mu);
	ev = json_pack("{s:s, s:s?}", "file", a->watch_file, "error", msg);
	events_publish(a->events, "watch", ev);
	json_decref(ev);
}

/* Imports the file once; reports the outcome. */
static void import(struct watch *w)
{
	struct atlas_err err = {0};
	struct buf text = BUF_INIT, msg = BUF_INIT;
	struct diags d = {0};
	int64_t gen = 0;
	int rc;

	rc = file_read(w->file, YAML_MAX_SIZE, &text, &err);
	if (rc == 0) {
		char *actor = xasprintf("watch:%s", w->file);

		pthread_mutex_lock(&w->app->store_mu);
		store_set_actor(w->app->store, actor);
		free(actor);
		rc = state_import_yaml(w->app->store, text.data ? text.data : "", text.len, "watch",
				       &d, &gen, &err);
		pthread_mutex_unlock(&w->app->store_mu);
	}
	if (rc < 0) {
		if (d.n)
			diags_format(&d, w->file, &msg);
		else
			buf_printf(&msg, "%s: %s", w->file, err.msg);
		if (msg.len && msg.data[msg.len - 1] == '\n')
			msg.data[--msg.len] = '\0';
		/* One log line per error: a journal shows each with its prefix. */
		for (char *line = msg.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			log_error("watch: %.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
		}
		log_error("watch: %s: keeping the last good state", w->file);
		set_error(w->app, buf_str(&msg));
	} else {
		log_info("watch: imported %s (generation %lld)", w->file, (long long)gen);
		set_error(w->app, NULL);
		app_state_changed(w->app, gen, "watch");
	}
	diags_clear(&d);
	buf_release_secure(&text);
	buf_release(&msg);
}

/* 1 when the inotify events in buf name our file. */
static int concerns_us(struct watch *w, const char *buf, ssize_t len)
{
	int hit = 0;

	for (const char *p = buf; p < buf + len;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;

		if (ev->len && !strcmp(ev->name, w->base))
			hit = 1;
		p += sizeof(*ev) + ev->len;
	}
	return hit;
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		struct pollfd pf[2] = {{w->ifd, POLLIN, 0}, {w->stopfd, POLLIN, 0}};
		int changed = 0, timeout = -1;

		/* Wait for our file's events, then let them settle for SETTLE_MS. */
		for (;;) {
			ssize_t n;

			if (poll(pf, 2, timeout) < 0) {
				if (errno == EINTR)
					continue;
				return NULL;
			}
			if (pf[1].revents)
				return NULL;
			if (!pf[0].revents)
				break; /* settled */
			n = read(w->ifd, buf, sizeof(buf));
			if (n > 0 && concerns_us(w, buf, n)) {
				changed = 1;
				timeout = SETTLE_MS;
			}
		}
		if (changed)
			import(w);
	}
}

struct watch *watch_start(struct app *a, const char *file, struct atlas_err *err)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	char *d = xstrdup(file), *b = xstrdup(file);

	w->app = a;
	w->file = xstrdup(file);
	w->dir = xstrdup(dirname(d));
	w->base = xstrdup(basename(b));
	free(d);
	free(b);
	w->stopfd = eventfd(0, EFD_CLOEXEC);
	w->ifd = inotify_init1(IN_CLOEXEC);
	if (w->ifd < 0 || w->stopfd < 0 ||
	    inotify_add_watch(w->ifd, w->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
		err_set(err, ERR_IO, "cannot watch directory \"%s\": %s", w->dir, strerror(errno));
		goto fail;
	}
	import(w);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		err_set(err, ERR_INTERNAL, "cannot start the watch thread");
		goto fail;
	}
	return w;
fail:
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	free(w->file);
	free(w->dir);
	free(w->base);
	free(w);
	return NULL;
}

void watch_stop(struct watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (write(w->stopfd, &one, sizeof(one)) < 0)
		log_warn("watch: cannot stop the thread: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	close(w->ifd);
	close(w->stopfd);
	free(w->file);
	free(w->dir);
	free(w->base);
	free(w);
}
