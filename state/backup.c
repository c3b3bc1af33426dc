/*
 * backup.c - backup archives of a data directory and their restore
 * (format in backup.h).
 *
 * The whole archive is built and checked in memory: a panel's data
 * directory is a few MiB (the database, PEM files, configs), and checking
 * everything before writing anything is what makes a bad archive change
 * nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/strv.h"
#include "lib/version.h"
#include "state/backup.h"
#include "state/sqlite_setup.h"

#define MAGIC	      "ATLAS-BACKUP 1\n"
#define ARCHIVE_MAX   ((size_t)1 << 30)
#define MANIFEST_MAX  ((size_t)4 << 20)
#define MEMBER_MAX    ((size_t)512 << 20)
#define DB_MEMBER     "atlas.db"

extern const int atlas_nmigrations; /* build/gen/migrations.c */

struct member {
	char *path; /* relative to the data directory */
	unsigned mode;
	size_t off, size; /* in the archive */
	char sha[65];
};

struct archive {
	struct buf raw;
	json_t *manifest;
	struct member *m;
	size_t n;
};

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void now_utc(char *out, size_t len, int compact)
{
	struct timeval tv;
	struct tm tm;
	char base[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (compact) {
		strftime(base, sizeof(base), "%Y%m%dT%H%M%S", &tm);
		snprintf(out, len, "%s.%06ldZ", base, (long)tv.tv_usec);
	} else {
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}

static void archive_release(struct archive *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->m[i].path);
	free(a->m);
	json_decref(a->manifest);
	buf_release_secure(&a->raw);
	memset(a, 0, sizeof(*a));
}

/* A consistent copy of DATADIR/atlas.db (online backup into memory) and its user_version. */
static int snapshot_db(const char *datadir, struct buf *out, int *schema, struct atlas_err *err)
{
	char *path = xasprintf("%s/" DB_MEMBER, datadir);
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	sqlite3_stmt *st = NULL;
	unsigned char *bytes = NULL;
	sqlite3_int64 size = 0;
	int ret = -1;

	if (!file_exists(path)) {
		err_set(err, ERR_NOTFOUND, "no database \"%s\": nothing to back up", path);
		goto out;
	}
	sqlite_setup_once();
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_open(":memory:", &dst) != SQLITE_OK) {
		err_set(err, ERR_IO, "cannot open database \"%s\": %s", path,
			src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		err_set(err, ERR_IO, "database \"%s\": backup: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	/* One step over every page: one read transaction, one consistent copy. */
	sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK) {
		err_set(err, ERR_IO, "database \"%s\": backup: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	if (sqlite3_prepare_v2(dst, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		err_set(err, ERR_IO, "database \"%s\": %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	*schema = sqlite3_column_int(st, 0);
	bytes = sqlite3_serialize(dst, "main", &size, 0);
	if (!bytes || size <= 0) {
		err_set(err, ERR_IO, "database \"%s\": cannot serialize the copy", path);
		goto out;
	}
	/* Bytes 18-19 of the header say "WAL" (2) as in the source; the copy is one
	 * whole file without a -wal, so mark it a rollback-journal database (1):
	 * it then opens anywhere, in memory too, and store_open turns WAL on again. */
	if (size >= 100 && bytes[18] == 2 && bytes[19] == 2)
		bytes[18] = bytes[19] = 1;
	buf_add(out, bytes, (size_t)size);
	ret = 0;
out:
	sqlite3_free(bytes);
	sqlite3_finalize(st);
	sqlite3_close(dst);
	sqlite3_close(src);
	free(path);
	return ret;
}

/*
 * The names in dir but "." and ".." that keep(name, arg) accepts, sorted,
 * into out; -1 when dir cannot be read.
 */
static int dir_names(const char *dir, int (*keep)(const char *name, const char *arg),
		     const char *arg, struct strv *out)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && keep(de->d_name, arg))
			strv_push(out, de->d_name);
	closedir(d);
	strv_sort(out);
	return 0;
}

/*
 * Not in the archive: the live database files, runtime state (run/, the
 * server's lock), older backups (backups/, and a backup written anywhere
 * in the directory: the archive would hold itself).
 */
static int archived(const char *name, const char *rel)
{
	size_t l = strlen(name), sl = strlen(BACKUP_SUFFIX);

	if (l > sl && !strcmp(name + l - sl, BACKUP_SUFFIX))
		return 0;
	return *rel || (strncmp(name, DB_MEMBER, strlen(DB_MEMBER)) && strcmp(name, "run") &&
			strcmp(name, "backups") && strcmp(name, "serve.lock"));
}

/* Appends the relative paths of the regular files under datadir/rel, sorted. */
static int walk(const char *datadir, const char *rel, char ***paths, size_t *n,
		struct atlas_err *err)
{
	char *dir = *rel ? xasprintf("%s/%s", datadir, rel) : xstrdup(datadir);
	struct strv names = STRV_INIT;
	int ret = -1;

	if (dir_names(dir, archived, rel, &names) < 0) {
		err_set(err, ERR_IO, "cannot read \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		char *r = *rel ? xasprintf("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);
		char *full = xasprintf("%s/%s", datadir, r);
		struct stat st;

		if (lstat(full, &st) < 0) {
			err_set(err, ERR_IO, "cannot read \"%s\": %s", full, strerror(errno));
			free(r);
			free(full);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			int rc = walk(datadir, r, paths, n, err);

			free(r);
			free(full);
			if (rc < 0)
				goto out;
			continue;
		}
		free(full);
		if (S_ISREG(st.st_mode)) {
			*paths = xrealloc(*paths, (*n + 1) * sizeof(**paths));
			(*paths)[(*n)++] = r;
		} else {
			free(r); /* sockets, links: not data */
		}
	}
	ret = 0;
out:
	strv_clear(&names);
	free(dir);
	return ret;
}

static void add_member(json_t *list, struct buf *data, const char *path, unsigned mode,
		       const void *bytes, size_t len)
{
	char sha[65];

	sha256_hex(bytes, len, sha);
	json_array_append_new(list, json_pack("{s:s, s:i, s:I, s:s}", "path", path, "mode",
					      (int)mode, "size", (json_int_t)len, "sha256", sha));
	buf_add(data, bytes, len);
}

int backup_create(const char *datadir, const char *file, struct backup_info *info,
		  struct atlas_err *err)
{
	struct buf db = {0}, data = {0}, out = {0}, f = {0};
	json_t *man = NULL, *list = json_array();
	char **paths = NULL, created[32], sha[65], *mtext = NULL;
	size_t n = 0;
	int schema = 0, ret = -1;

	if (snapshot_db(datadir, &db, &schema, err) < 0)
		goto out;
	add_member(list, &data, DB_MEMBER, 0600, db.data, db.len);
	if (walk(datadir, "", &paths, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *full = xasprintf("%s/%s", datadir, paths[i]);
		struct stat st;
		int rc;

		buf_reset(&f);
		rc = stat(full, &st) < 0 ? -1 : file_read(full, MEMBER_MAX, &f, err);
		if (rc < 0 && !err->code)
			err_set(err, ERR_IO, "cannot read \"%s\": %s", full, strerror(errno));
		free(full);
		if (rc < 0)
			goto out;
		add_member(list, &data, paths[i], (unsigned)(st.st_mode & 0777), f.data, f.len);
	}
	now_utc(created, sizeof(created), 0);
	man = json_pack("{s:i, s:s, s:i, s:s, s:O}", "format", 1, "atlas_version", ATLAS_VERSION,
			"schema_version", schema, "created_at", created, "members", list);
	mtext = json_dumps(man, JSON_COMPACT | JSON_SORT_KEYS);
	buf_puts(&out, MAGIC);
	buf_printf(&out, "%zu\n", strlen(mtext));
	buf_puts(&out, mtext);
	buf_add(&out, data.data, data.len);
	sha256_hex(out.data, out.len, sha);
	buf_printf(&out, "sha256 %s\n", sha);
	if (file_write_atomic(file, out.data, out.len, 0600, err) < 0)
		goto out;
	if (info) {
		memset(info, 0, sizeof(*info));
		snprintf(info->atlas_version, sizeof(info->atlas_version), "%s", ATLAS_VERSION);
		snprintf(info->created_at, sizeof(info->created_at), "%s", created);
		info->schema_version = schema;
		info->members = n + 1;
		info->bytes = data.len;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(mtext);
	json_decref(man);
	json_decref(list);
	buf_release_secure(&f);
	buf_release_secure(&db);
	buf_release_secure(&data);
	buf_release_secure(&out);
	return ret;
}

/* A member path stays inside the data directory: relative, no "." or ".." part. */
static int path_safe(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/' || strlen(p) > 1024)
		return 0;
	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t len = (size_t)(e - s);

		if (!len || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		for (const char *c = s; c < e; c++)
			if ((unsigned char)*c < 0x20)
				return 0;
		s = *e ? e + 1 : e;
	}
	return p[strlen(p) - 1] != '/';
}

/* Reads and checks file into a; err names the file and the problem. */
static int archive_load(const char *file, struct archive *a, struct backup_info *info,
			struct atlas_err *err)
{
	json_error_t je;
	json_t *list, *v;
	size_t mlen, off, total, idx;
	char *end, sha[65];
	const char *p, *nl;
	int schema;

	memset(a, 0, sizeof(*a));
	if (file_read(file, ARCHIVE_MAX, &a->raw, err) < 0)
		return err_wrap(err, "backup \"%s\"", file);
	p = a->raw.data;
	total = a->raw.len;
	if (total < strlen(MAGIC) || memcmp(p, MAGIC, strlen(MAGIC)))
		return err_set(err, ERR_INVALID, "backup \"%s\": not an Atlas backup (no header)",
			       file);
	off = strlen(MAGIC);
	nl = memchr(p + off, '\n', total - off < 24 ? total - off : 24);
	if (!nl)
		return err_set(err, ERR_INVALID, "backup \"%s\": truncated in its header", file);
	errno = 0;
	mlen = strtoull(p + off, &end, 10);
	if (end != nl || errno || mlen == 0 || mlen > MANIFEST_MAX)
		return err_set(err, ERR_INVALID, "backup \"%s\": bad manifest length", file);
	off = (size_t)(nl - p) + 1;
	/* The trailer: "sha256 " + 64 hex + "\n" over everything before it. */
	if (total < off + mlen + 72 || memcmp(p + total - 72, "sha256 ", 7) || p[total - 1] != '\n')
		return err_set(err, ERR_INVALID,
			       "backup \"%s\": truncated (no checksum line at its end)", file);
	sha256_hex(p, total - 72, sha);
	if (memcmp(sha, p + total - 65, 64))
		return err_set(err, ERR_INVALID,
			       "backup \"%s\": checksum mismatch: the file was changed or cut "
			       "short after it was written",
			       file);
	a->manifest = json_loadb(p + off, mlen, JSON_REJECT_DUPLICATES, &je);
	if (!a->manifest || json_unpack(a->manifest, "{s:i, s:i, s:o}", "format", &(int){0},
					"schema_version", &schema, "members", &list) < 0 ||
	    !json_is_array(list) || !json_array_size(list))
		return err_set(err, ERR_INVALID, "backup \"%s\": malformed manifest", file);
	if (json_integer_value(json_object_get(a->manifest, "format")) != 1)
		return err_set(err, ERR_UNSUPPORTED, "backup \"%s\": format %lld is not known here",
			       file, (long long)json_integer_value(json_object_get(a->manifest, "format")));
	off += mlen;
	a->m = xcalloc(json_array_size(list), sizeof(*a->m));
	json_array_foreach(list, idx, v) {
		struct member *m = &a->m[a->n];
		const char *path, *hash;
		json_int_t size;
		int mode;

		if (json_unpack(v, "{s:s, s:i, s:I, s:s}", "path", &path, "mode", &mode, "size",
				&size, "sha256", &hash) < 0 ||
		    size < 0 || mode < 0 || mode > 0777 || strlen(hash) != 64)
			return err_set(err, ERR_INVALID, "backup \"%s\": malformed member %zu",
				       file, idx + 1);
		if (!path_safe(path))
			return err_set(err, ERR_INVALID,
				       "backup \"%s\": member path \"%s\" leaves the data directory",
				       file, path);
		for (size_t j = 0; j < a->n; j++)
			if (!strcmp(a->m[j].path, path))
				return err_set(err, ERR_INVALID,
					       "backup \"%s\": member \"%s\" twice", file, path);
		if ((uint64_t)size > total - 72 - off)
			return err_set(err, ERR_INVALID, "backup \"%s\": member \"%s\" is cut short",
				       file, path);
		m->path = xstrdup(path);
		m->mode = (unsigned)mode;
		m->off = off;
		m->size = (size_t)size;
		a->n++;
		sha256_hex(p + off, m->size, sha);
		if (memcmp(sha, hash, 64))
			return err_set(err, ERR_INVALID,
				       "backup \"%s\": member \"%s\" does not match its checksum", file,
				       path);
		off += m->size;
	}
	if (off != total - 72)
		return err_set(err, ERR_INVALID,
			       "backup \"%s\": %zu bytes between the members and the checksum", file,
			       total - 72 - off);
	if (strcmp(a->m[0].path, DB_MEMBER))
		return err_set(err, ERR_INVALID, "backup \"%s\": holds no database", file);
	if (info) {
		memset(info, 0, sizeof(*info));
		snprintf(info->atlas_version, sizeof(info->atlas_version), "%s",
			 json_string_value(json_object_get(a->manifest, "atlas_version"))
			     ? json_string_value(json_object_get(a->manifest, "atlas_version"))
			     : "?");
		snprintf(info->created_at, sizeof(info->created_at), "%s",
			 json_string_value(json_object_get(a->manifest, "created_at"))
			     ? json_string_value(json_object_get(a->manifest, "created_at"))
			     : "?");
		info->schema_version = schema;
		info->members = a->n;
		for (size_t i = 0; i < a->n; i++)
			info->bytes += a->m[i].size;
	}
	return 0;
}

/* PRAGMA integrity_check and the schema version of the archived database. */
static int check_db(const char *file, struct archive *a, int manifest_schema,
		    struct atlas_err *err)
{
	struct member *m = &a->m[0];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *res;
	int ret = -1, version;

	sqlite_setup_once();
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_deserialize(db, "main", (unsigned char *)a->raw.data + m->off,
				(sqlite3_int64)m->size, (sqlite3_int64)m->size,
				SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
		err_set(err, ERR_INVALID, "backup \"%s\": the database cannot be opened", file);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		err_set(err, ERR_INVALID, "backup \"%s\": database: %s", file, sqlite3_errmsg(db));
		goto out;
	}
	res = (const char *)sqlite3_column_text(st, 0);
	if (!res || strcmp(res, "ok")) {
		err_set(err, ERR_INVALID, "backup \"%s\": database fails its integrity check: %s",
			file, res ? res : "?");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		err_set(err, ERR_INVALID, "backup \"%s\": database: %s", file, sqlite3_errmsg(db));
		goto out;
	}
	version = sqlite3_column_int(st, 0);
	if (version != manifest_schema) {
		err_set(err, ERR_INVALID,
			"backup \"%s\": the manifest says schema %d, the database has %d", file,
			manifest_schema, version);
		goto out;
	}
	if (version > atlas_nmigrations) {
		err_set(err, ERR_UNSUPPORTED,
			"backup \"%s\" has schema version %d, newer than this atlas knows (%d): "
			"restore it with a newer atlas",
			file, version, atlas_nmigrations);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

int backup_verify(const char *file, struct backup_info *info, struct atlas_err *err)
{
	struct archive a;
	struct backup_info bi;
	int ret = -1;

	if (archive_load(file, &a, &bi, err) == 0 && check_db(file, &a, bi.schema_version, err) == 0)
		ret = 0;
	if (info && !ret)
		*info = bi;
	archive_release(&a);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int rm_rf(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 when dir exists and has an entry, 0 when empty or missing, -1 on error. */
static int dir_used(const char *dir, struct atlas_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int used = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, ERR_IO, "cannot read \"%s\": %s", dir, strerror(errno));
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			used = 1;
	closedir(d);
	return used;
}

/* Writes every member under dir (which exists). */
static int write_members(struct archive *a, const char *dir, struct atlas_err *err)
{
	for (size_t i = 0; i < a->n; i++) {
		char *path = xasprintf("%s/%s", dir, a->m[i].path);
		char *slash = strrchr(path, '/');
		int rc;

		*slash = '\0';
		rc = mkdir_p(path, 0700, err);
		*slash = '/';
		if (rc == 0)
			rc = file_write_atomic(path, a->raw.data + a->m[i].off, a->m[i].size,
					       a->m[i].mode, err);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Moves backups/ and run/ from one directory to the other (back: best effort). */
static int carry(const char *from, const char *to, int back, struct atlas_err *err)
{
	static const char *const keep[] = {"backups", "run"};

	for (size_t i = 0; i < 2; i++) {
		char *f = xasprintf("%s/%s", from, keep[i]), *t = xasprintf("%s/%s", to, keep[i]);
		int rc = file_exists(f) ? rename(f, t) : 0;

		if (rc < 0 && !back) {
			err_set(err, ERR_IO, "cannot move \"%s\": %s", f, strerror(errno));
			free(f);
			free(t);
			if (i)
				carry(to, from, 1, NULL);
			return -1;
		}
		free(f);
		free(t);
	}
	return 0;
}

int backup_restore(const char *file, const char *datadir, int force, char **saved,
		   struct backup_info *info, struct atlas_err *err)
{
	struct archive a;
	struct backup_info bi;
	char *stage = NULL, *old = NULL, *pre = NULL, *bdir = NULL;
	char stamp[40];
	mode_t um = umask(077);
	int used, ret = -1;

	*saved = NULL;
	if (archive_load(file, &a, &bi, err) < 0 || check_db(file, &a, bi.schema_version, err) < 0)
		goto out;
	used = dir_used(datadir, err);
	if (used < 0)
		goto out;
	if (used && !force) {
		err_set(err, ERR_CONFLICT,
			"data directory \"%s\" is not empty: restore into a new one, or add --force "
			"to replace it (it is backed up first)",
			datadir);
		goto out;
	}
	stage = xasprintf("%s.restore-XXXXXX", datadir);
	if (!mkdtemp(stage)) {
		err_set(err, ERR_IO, "cannot create \"%s\": %s", stage, strerror(errno));
		free(stage);
		stage = NULL;
		goto out;
	}
	if (write_members(&a, stage, err) < 0)
		goto out;
	now_utc(stamp, sizeof(stamp), 1);
	if (used) {
		/* The directory replaced is backed up first. That backup and the older
		 * ones move into the restored directory, and so does run/: it is the
		 * host's (pid files and sockets of the engines running now), not data. */
		bdir = xasprintf("%s/backups", datadir);
		pre = xasprintf("%s/pre-restore-%s" BACKUP_SUFFIX, bdir, stamp);
		if (mkdir_p(bdir, 0700, err) < 0 || backup_create(datadir, pre, NULL, err) < 0) {
			err_wrap(err, "cannot back up \"%s\" before replacing it", datadir);
			unlink(pre);
			goto out;
		}
		if (carry(datadir, stage, 0, err) < 0)
			goto out;
		old = xasprintf("%s.replaced-%s", datadir, stamp);
		if (rename(datadir, old) < 0) {
			err_set(err, ERR_IO, "cannot move \"%s\" aside: %s", datadir, strerror(errno));
			carry(stage, datadir, 1, NULL);
			free(old);
			old = NULL;
			goto out;
		}
	} else {
		rmdir(datadir); /* empty or missing */
	}
	if (rename(stage, datadir) < 0) {
		err_set(err, ERR_IO, "cannot move \"%s\" to \"%s\": %s", stage, datadir,
			strerror(errno));
		if (old && rename(old, datadir) == 0)
			carry(stage, datadir, 1, NULL);
		goto out;
	}
	free(stage);
	stage = NULL;
	if (old)
		rm_rf(old);
	if (pre) {
		*saved = xasprintf("%s/backups/pre-restore-%s" BACKUP_SUFFIX, datadir, stamp);
	}
	if (info)
		*info = bi;
	ret = 0;
out:
	if (stage)
		rm_rf(stage);
	umask(um);
	free(old);
	free(pre);
	free(bdir);
	archive_release(&a);
	return ret;
}

/* The backups backup_before_migration() writes: pre-migration-*.atlas-backup... */
static int auto_backup(const char *name, const char *unused)
{
	size_t l = strlen(name);

	(void)unused;
	return !strncmp(name, "pre-migration-", 14) && l >= strlen(BACKUP_SUFFIX) &&
	       !strcmp(name + l - strlen(BACKUP_SUFFIX), BACKUP_SUFFIX);
}

/* Removes all but the newest BACKUP_AUTO_KEEP of them from dir: the names sort by time. */
static void prune_auto_backups(const char *dir)
{
	struct strv names = STRV_INIT;

	dir_names(dir, auto_backup, NULL, &names);
	for (size_t i = 0; i + BACKUP_AUTO_KEEP < names.n; i++) {
		char *p = xasprintf("%s/%s", dir, names.v[i]);

		unlink(p);
		free(p);
	}
	strv_clear(&names);
}

int backup_before_migration(const char *datadir, int from_version, char **path,
			    struct atlas_err *err)
{
	char *dir = xasprintf("%s/backups", datadir), *file = NULL, stamp[40];
	int ret = -1;

	if (path)
		*path = NULL;
	if (mkdir_p(dir, 0700, err) < 0)
		goto out;
	now_utc(stamp, sizeof(stamp), 1);
	file = xasprintf("%s/pre-migration-%s-v%d" BACKUP_SUFFIX, dir, stamp, from_version);
	if (backup_create(datadir, file, NULL, err) < 0)
		goto out;
	prune_auto_backups(dir);
	if (path) {
		*path = file;
		file = NULL;
	}
	ret = 0;
out:
	free(file);
	free(dir);
	return ret;
}
