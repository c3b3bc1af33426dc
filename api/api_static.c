/*
 * api_static.c - the files of ui/, embedded in the binary by the Makefile
 * (build/gen/uifiles.c), each as is and gzip -9 compressed. A request path
 * is only ever compared with the table: it never reaches the file system,
 * so "../" leads nowhere.
 *
 * A client whose Accept-Encoding takes gzip gets the compressed bytes with
 * Content-Encoding: gzip; every answer says Vary: Accept-Encoding. The
 * ETag (the start of the file's SHA-256, with "-gz" for the compressed
 * variant) lets a browser revalidate: If-None-Match that names it gets 304
 * and no body.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

struct ui_file {
	const char *path;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* gzip -9 -n of data */
	size_t gzlen;
	const char *etag; /* hex, without quotes */
};

extern const struct ui_file atlas_ui_files[];

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/*
 * 1 when the Accept-Encoding value (may be NULL) takes gzip: a "gzip" or
 * "*" coding whose q is not 0 ("gzip;q=0" refuses it).
 */
int static_accepts_gzip(const char *ae)
{
	const char *p = ae;

	while (p && *p) {
		const char *end = strchr(p, ','), *semi;
		size_t n;
		double q = 1;

		if (!end)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		n = (size_t)((semi ? semi : end) - p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (semi) {
			const char *qs = semi + 1;

			while (qs < end && isspace((unsigned char)*qs))
				qs++;
			if (qs + 2 <= end && (qs[0] == 'q' || qs[0] == 'Q') && qs[1] == '=')
				q = strtod(qs + 2, NULL);
		}
		if (((n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 1 && *p == '*')) && q > 0)
			return 1;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int static_serve(struct req *r)
{
	const char *path = strcmp(r->url, "/") ? r->url : "/index.html";

	for (size_t i = 0; atlas_ui_files[i].path; i++) {
		const struct ui_file *f = &atlas_ui_files[i];
		int gz;

		if (strcmp(f->path, path))
			continue;
		/* Compressed when the client takes it and it is really smaller. */
		gz = f->gzlen < f->len && static_accepts_gzip(req_header(r, "Accept-Encoding"));
		snprintf(r->etag, sizeof(r->etag), "\"%s%s\"", f->etag, gz ? "-gz" : "");
		r->vary = "Accept-Encoding";
		/* HTML is revalidated so a new binary's panel shows at once. */
		r->cache = strstr(path, ".html") ? "no-cache" : "public, max-age=3600";
		if (etag_matches(req_header(r, "If-None-Match"), r->etag)) {
			reply_data(r, 304, NULL, "", 0);
			return 1;
		}
		if (gz) {
			reply_data(r, 200, content_type(path), f->gz, f->gzlen);
			r->encoding = "gzip";
		} else {
			reply_data(r, 200, content_type(path), f->data, f->len);
		}
		return 1;
	}
	return 0;
}
