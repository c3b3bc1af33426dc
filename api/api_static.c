/*
 * api_static.c - the files of ui/, embedded in the binary by the Makefile
 * (build/gen/uifiles.c). A request path is only ever compared with the
 * table: it never reaches the file system, so "../" leads nowhere.
 */
#include <string.h>

#include "api.h"

struct ui_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};

extern const struct ui_file atlas_ui_files[];

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

int static_serve(struct req *r)
{
	const char *path = strcmp(r->url, "/") ? r->url : "/index.html";

	for (size_t i = 0; atlas_ui_files[i].path; i++) {
		const struct ui_file *f = &atlas_ui_files[i];

		if (strcmp(f->path, path))
			continue;
		reply_data(r, 200, content_type(path), f->data, f->len);
		/* HTML is revalidated so a new binary's panel shows at once. */
		r->cache = strstr(path, ".html") ? "no-cache" : "public, max-age=3600";
		return 1;
	}
	return 0;
}
