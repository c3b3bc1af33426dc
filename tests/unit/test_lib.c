/*
 * test_lib.c - the shared primitives: base64, addresses, string vectors,
 * atomic writes, and the spawn helper (capture, cap, timeout, status, stdin).
 */
#include <dlfcn.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "testutil.h"

#include "lib/base64.h"
#include "lib/ipaddr.h"
#include "lib/proc.h"
#include "lib/strv.h"

static void test_lib__base64(void **s)
{
	struct buf b = BUF_INIT;
	unsigned char out[16];

	(void)s;
	base64_encode(&b, "foobar", 6);
	assert_string_equal(b.data, "Zm9vYmFy");
	buf_reset(&b);
	base64_encode(&b, "fo", 2);
	assert_string_equal(b.data, "Zm8=");
	buf_reset(&b);
	base64url_encode(&b, "\xfb\xff", 2);
	assert_string_equal(b.data, "-_8");
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(base64_decode("Zm8=", 4, out, sizeof(out)), 2);
	assert_int_equal(base64_decode("Zm9=", 4, out, sizeof(out)), -1);	/* non-canonical */
	assert_int_equal(base64_decode("Zm8", 3, out, sizeof(out)), -1);
	assert_int_equal(base64_decode("Zm$=", 4, out, sizeof(out)), -1);
	assert_int_equal(base64url_decode("-_8", 3, out, sizeof(out)), 2);
	buf_release(&b);
}

static void test_lib__ipaddr(void **s)
{
	struct ipaddr a, n, x;
	char t[64];

	(void)s;
	assert_int_equal(ip_parse("10.8.0.1/24", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.prefix, 24);
	ip_network(&a, &n);
	ip_format(&n, 1, t, sizeof(t));
	assert_string_equal(t, "10.8.0.0/24");
	assert_int_equal(ip_parse("10.8.0.77", &x), 0);
	assert_true(ip_in_net(&a, &x));
	assert_int_equal(ip_parse("10.8.1.77", &x), 0);
	assert_false(ip_in_net(&a, &x));
	assert_int_equal(ip_parse("fd00::1/64", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(ip_parse("fd00::ffff/128", &x), 0);
	assert_true(ip_in_net(&a, &x));
	assert_int_equal(ip_parse("10.0.0.1/33", &a), -1);
	assert_int_equal(ip_parse("10.0.0.1/", &a), -1);
	assert_int_equal(ip_parse("10.0.0.1/-1", &a), -1);
	assert_int_equal(ip_parse("10.0.0.1/08", &a), -1);
	assert_int_equal(ip_parse("300.0.0.1", &a), -1);
	assert_int_equal(ip_parse("host", &a), -1);
	ip_parse("10.0.0.255", &a);
	ip_add(&a, 2);
	ip_format(&a, 0, t, sizeof(t));
	assert_string_equal(t, "10.0.1.1");
	ip4_mask(24, t, sizeof(t));
	assert_string_equal(t, "255.255.255.0");
	ip_parse("10.0.0.0/24", &a);
	assert_int_equal(ip_size(&a), 256);
	ip_parse("10.0.0.0/25", &x);
	assert_true(ip_overlap(&a, &x));
}

static void test_lib__strv(void **s)
{
	struct strv v = STRV_INIT, w = STRV_INIT;
	char *j;

	(void)s;
	strv_split(&v, "b\n\na\nc", '\n');
	assert_int_equal(v.n, 3);
	strv_sort(&v);
	j = strv_join(&v, ",");
	assert_string_equal(j, "a,b,c");
	free(j);
	strv_copy(&w, &v);
	assert_true(strv_eq(&v, &w));
	assert_true(strv_contains(&w, "b"));
	strv_push(&w, "d");
	assert_false(strv_eq(&v, &w));
	strv_clear(&v);
	strv_clear(&w);
}

static void test_lib__atomic_write(void **s)
{
	char *dir = tu_tmpdir(), *p = xasprintf("%s/f", dir), *got;
	struct atlas_err err;
	struct stat st;

	(void)s;
	assert_int_equal(file_write_atomic(p, "one", 3, 0600, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_write_atomic(p, "two", 3, 0644, &err), 0);
	got = tu_read(p);
	assert_string_equal(got, "two");
	free(got);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* a failed write leaves the old file */
	free(p);
	p = xasprintf("%s/missing/f", dir);
	assert_int_equal(file_write_atomic(p, "x", 1, 0600, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create a temporary file"));
	free(p);
	p = xasprintf("%s/f", dir);
	{
		struct buf b = BUF_INIT;

		assert_int_equal(file_read(p, 2, &b, &err), -1);
		assert_non_null(strstr(err.msg, "larger than 2 bytes"));
		buf_release(&b);
	}
	tu_rmrf_free(dir);
	free(p);
}

/* The number of entries of dir (. and .. aside). */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/*
 * A write a piece at a time: path keeps its old bytes until the commit,
 * then holds every piece, with the mode asked for; an abort leaves the old
 * file and no temporary one.
 */
static void test_lib__atomic_write_in_pieces(void **s)
{
	char *dir = tu_tmpdir(), *p = xasprintf("%s/f", dir), *got;
	struct file_atomic f;
	struct atlas_err err;
	struct stat st;

	(void)s;
	assert_int_equal(file_write_atomic(p, "old", 3, 0644, &err), 0);
	assert_int_equal(file_atomic_open(&f, p, 0600, &err), 0);
	assert_int_equal(file_atomic_put(&f, "one ", 4, &err), 0);
	assert_int_equal(file_atomic_put(&f, "", 0, &err), 0);
	assert_int_equal(file_atomic_put(&f, "two", 3, &err), 0);
	got = tu_read(p);
	assert_string_equal(got, "old");	/* not yet */
	free(got);
	assert_int_equal(entries(dir), 2);	/* f and the temporary file */
	assert_int_equal(file_atomic_commit(&f, &err), 0);
	got = tu_read(p);
	assert_string_equal(got, "one two");
	free(got);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(entries(dir), 1);
	/* aborted: the old bytes, no temporary file; a second abort does nothing */
	assert_int_equal(file_atomic_open(&f, p, 0600, &err), 0);
	assert_int_equal(file_atomic_put(&f, "three", 5, &err), 0);
	file_atomic_abort(&f);
	file_atomic_abort(&f);
	got = tu_read(p);
	assert_string_equal(got, "one two");
	free(got);
	assert_int_equal(entries(dir), 1);
	free(p);
	p = xasprintf("%s/missing/f", dir);
	assert_int_equal(file_atomic_open(&f, p, 0600, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create a temporary file"));
	file_atomic_abort(&f);	/* released by the failed open: nothing to do */
	tu_rmrf_free(dir);
	free(p);
}

static void put(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct atlas_err err;

	if (file_write_atomic(p, "x", 1, 0600, &err) < 0)
		fail_msg("%s", err.msg);
	free(p);
}

static int there(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	int ret = file_exists(p);

	free(p);
	return ret;
}

/*
 * issue 16.4: temporary files of killed writers (some hold keys) are
 * removed; a live writer's, and files that only look alike, stay.
 */
static void test_lib__clean_stale(void **s)
{
	char *dir = tu_tmpdir(), *p, dead[96], live[96], own[96];
	struct atlas_err err;
	pid_t child;
	int st;

	(void)s;
	child = fork();
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &st, 0), child); /* a pid that no longer runs */
	snprintf(dead, sizeof(dead), "pki/private/bob.key.tmp.%ld.AbC123", (long)child);
	snprintf(live, sizeof(live), "wireguard/wg0.conf.tmp.%ld.Zz9Zz9", (long)getppid());
	snprintf(own, sizeof(own), "wireguard/wg1.conf.tmp.%ld.Qw3Rt5", (long)getpid());
	p = xasprintf("%s/pki/private", dir);
	assert_int_equal(mkdir_p(p, 0700, &err), 0);
	free(p);
	p = xasprintf("%s/pki/server.new", dir);
	assert_int_equal(mkdir_p(p, 0700, &err), 0);
	free(p);
	p = xasprintf("%s/wireguard", dir);
	assert_int_equal(mkdir_p(p, 0700, &err), 0);
	free(p);
	put(dir, dead);
	put(dir, live);
	put(dir, own);
	put(dir, "wireguard/wg2.conf.tmp.XyZ789"); /* an older version's, without pid */
	put(dir, "pki/server.new/server.key");
	put(dir, "pki/private/alice.key");
	put(dir, "pki/private/x.tmp.1.short");
	put(dir, "wireguard/wg0.conf");
	assert_int_equal(file_clean_stale(dir, 0), 3);
	assert_false(there(dir, dead));
	assert_false(there(dir, "wireguard/wg2.conf.tmp.XyZ789"));
	assert_false(there(dir, "pki/server.new"));
	assert_true(there(dir, live));
	assert_true(there(dir, own));
	assert_true(there(dir, "pki/private/alice.key"));
	assert_true(there(dir, "pki/private/x.tmp.1.short"));
	assert_true(there(dir, "wireguard/wg0.conf"));
	/* at start nothing of this process is in flight: its own go too */
	assert_int_equal(file_clean_stale(dir, 1), 1);
	assert_false(there(dir, own));
	assert_true(there(dir, live));
	tu_rmrf_free(dir);
}

static void test_lib__spawn(void **s)
{
	const char *echo[] = { "echo", "a;b", "$(id)", NULL };
	const char *fals[] = { "false", NULL };
	const char *slp[] = { "sleep", "5", NULL };
	const char *cat[] = { "cat", NULL };
	const char *yes[] = { "yes", NULL };
	const char *missing[] = { "atlas-no-such-program", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result r;
	struct atlas_err err;

	(void)s;
	/* arguments reach the program verbatim: no shell interprets them */
	assert_int_equal(spawn_check(echo, NULL, &r, &err), 0);
	assert_string_equal(r.out.data, "a;b $(id)\n");
	spawn_result_release(&r);
	assert_int_equal(spawn_check(fals, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "false exited with status 1"));
	spawn_result_release(&r);
	o.timeout_ms = 200;
	assert_int_equal(spawn_run(slp, &o, &r, &err), 0);
	assert_true(r.timed_out);
	assert_false(r.exited);
	spawn_result_release(&r);
	o.timeout_ms = 0;
	o.stdin_data = "secret\n";
	o.stdin_len = 7;
	assert_int_equal(spawn_check(cat, &o, &r, &err), 0);
	assert_string_equal(r.out.data, "secret\n");
	spawn_result_release(&r);
	memset(&o, 0, sizeof(o));
	o.out_cap = 1000;
	o.timeout_ms = 300;
	assert_int_equal(spawn_run(yes, &o, &r, &err), 0);
	assert_true(r.truncated);
	assert_int_equal(r.out.len, 1000);
	spawn_result_release(&r);
	assert_int_equal(spawn_run(missing, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "atlas-no-such-program is not installed"));
	assert_non_null(spawn_which("sh") ? "found" : NULL);
	assert_null(spawn_which("../bin/sh"));
}

/* Only digits after the slash: strtol would skip " ", "\t" or "\n" first. */
static void test_lib__ip_parse_prefix_digits_only(void **s)
{
	struct ipaddr a;

	(void)s;
	assert_int_equal(ip_parse("10.0.0.0/ 24", &a), -1);
	assert_int_equal(ip_parse("10.0.0.0/\t24", &a), -1);
	assert_int_equal(ip_parse("10.0.0.0/\n24", &a), -1);
	assert_int_equal(ip_parse("10.0.0.0/+24", &a), -1);
	assert_int_equal(ip_parse("fd00::/ 64", &a), -1);
	assert_int_equal(ip_parse("10.0.0.0/0", &a), 0);
	assert_int_equal(ip_parse("fd00::/64", &a), 0);
	assert_int_equal(a.prefix, 64);
}

/*
 * A program that exits without reading its stdin: the write gets EPIPE and
 * Atlas must live on (before, SIGPIPE killed the whole process).
 */
/* One spelling per prefix: what wg and ip print, host bits cleared for networks. */
static void test_lib__ip_normalize(void **s)
{
	char buf[64] = "untouched";

	(void)s;
	assert_int_equal(ip_normalize("10.8.0.5/24", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.8.0.0/24");
	assert_int_equal(ip_normalize("10.8.0.5/24", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.8.0.5/24");
	assert_int_equal(ip_normalize("10.8.0.5", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.8.0.5/32");
	assert_int_equal(ip_normalize("FD00:0::1/64", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd00::/64");
	assert_int_equal(ip_normalize("10.8.0.300/24", 1, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "fd00::/64");
}

/*
 * The fast path for a v4 network already in its normal form (ipaddr.c) and
 * the spellings next to it, which must take the full parse: same answers.
 */
static void test_lib__ip_normalize_v4_forms(void **s)
{
	static const struct {
		const char *in, *out;	/* out NULL: not an address */
	} cases[] = {
		{ "10.200.15.38/32", "10.200.15.38/32" }, { "0.0.0.0/0", "0.0.0.0/0" },
		{ "10.8.0.0/24", "10.8.0.0/24" },	  { "10.8.0.1/24", "10.8.0.0/24" },
		{ "255.255.255.255/32", "255.255.255.255/32" },
		{ "1.2.3.4/0", "0.0.0.0/0" },		  { "10.8.0.0/33", NULL },
		{ "10.8.0.256/32", NULL },		  { "10.8.0.1/032", NULL },
		{ "10.8.0.1/32 ", NULL },		  { "10.8.0/24", NULL },
		{ "10.8.0.1.1/32", NULL },		  { "1000.8.0.1/32", NULL },
		{ "10.8.0.1/", NULL },			  { "/32", NULL },
	};
	char buf[64];

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ip_normalize(cases[i].in, 1, buf, sizeof(buf));

		if (!cases[i].out) {
			if (rc != -1)
				fail_msg("%s: accepted as %s", cases[i].in, buf);
			continue;
		}
		if (rc != 0 || strcmp(buf, cases[i].out))
			fail_msg("%s: %d \"%s\", want \"%s\"", cases[i].in, rc, buf, cases[i].out);
	}
	/* Too small a buffer is no reason to write past it. */
	assert_int_equal(ip_normalize("10.200.15.38/32", 1, buf, 8), 0);
	assert_int_equal(strlen(buf), 7);
}

/*
 * buf_printf writes in one pass when the text fits the room left and
 * measures and grows when it does not: every length around the boundary
 * gives the same bytes as snprintf.
 */
static void test_lib__buf_printf_room(void **s)
{
	char want[300], field[200];

	(void)s;
	for (size_t pre = 0; pre < 70; pre += 23)
		for (size_t len = 0; len < sizeof(field); len++) {
			struct buf b = BUF_INIT;

			memset(field, 'x', len);
			field[len] = '\0';
			for (size_t k = 0; k < pre; k++)
				buf_putc(&b, (char)('a' + k % 26));
			snprintf(want, sizeof(want), "%.*s<%s>%d", (int)pre, b.len ? b.data : "",
				 field, (int)len);
			buf_printf(&b, "<%s>%d", field, (int)len);
			if (strcmp(buf_str(&b), want) || b.len != strlen(want) || b.len >= b.cap)
				fail_msg("pre %zu len %zu: \"%s\" (len %zu)", pre, len, buf_str(&b),
					 b.len);
			buf_release(&b);
		}
}

static void test_lib__spawn_stdin_not_read(void **s)
{
	const char *argv[] = { "true", NULL };
	size_t len = 4 << 20;
	char *big = xcalloc(1, len);
	struct spawn_opts o = { .stdin_data = big, .stdin_len = len };
	struct spawn_result r;
	struct atlas_err err;

	(void)s;
	assert_int_equal(spawn_run(argv, &o, &r, &err), 0);
	assert_true(r.exited);
	assert_int_equal(r.status, 0);
	spawn_result_release(&r);
	free(big);
}

/* A failing program's stderr line reaches JSON and terminals: printable only. */
static void test_lib__spawn_check_message_printable(void **s)
{
	const char *argv[] = { "perl", "-e", "print STDERR \"\\xff\\e[31mboom\\r\\nmore\"; exit 3",
			       NULL };
	struct spawn_result r;
	struct atlas_err err;

	(void)s;
	assert_int_equal(spawn_check(argv, NULL, &r, &err), -1);
	assert_string_equal(err.msg, "perl exited with status 3: ??[31mboom");
	spawn_result_release(&r);
}

/* Output closed but still running: the timeout must still end it. */
static void test_lib__spawn_timeout_after_output_closed(void **s)
{
	const char *argv[] = { "perl", "-e", "close STDOUT; close STDERR; sleep 5", NULL };
	struct spawn_opts o = { .timeout_ms = 300 };
	struct spawn_result r;
	struct atlas_err err;

	(void)s;
	assert_int_equal(spawn_run(argv, &o, &r, &err), 0);
	assert_true(r.timed_out);
	assert_false(r.exited);
	assert_int_equal(r.status, 9);
	spawn_result_release(&r);
}

/* More programs than the old fixed cache held (64): every path stays owned
 * by the cache (make asan: LeakSanitizer found the 65th on leaked). */
static void test_lib__spawn_which_many(void **s)
{
	DIR *d = opendir("/usr/bin");
	struct dirent *e;
	int n = 0;

	(void)s;
	assert_non_null(d);
	while ((e = readdir(d)) && n < 100) {
		const char *p = spawn_which(e->d_name);

		if (!p)
			continue;
		assert_ptr_equal(spawn_which(e->d_name), p);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 100);
}

/* /proc/PID/stat: fields counted from the command name's last ')', which may hold both. */
static void test_lib__proc_stat(void **s)
{
	const char *line = "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 "
			   "987654 1000 200 18446744073709551615\n";
	long long t = -5, now = 0;
	char st = '?', parent;
	pid_t pid;

	(void)s;
	assert_int_equal(proc_stat_parse(line, &st, &t), 0);
	assert_int_equal(st, 'S');
	assert_int_equal(t, 987654);
	assert_int_equal(proc_stat_parse("1 (x) Z 0", &st, NULL), 0);
	assert_int_equal(st, 'Z');
	/* too few fields for the start time, no command name, nothing after it */
	assert_int_equal(proc_stat_parse("1 (x) R 0 1 2", &st, &t), -1);
	assert_int_equal(t, 987654);
	assert_int_equal(proc_stat_parse("1 x R 0", &st, NULL), -1);
	assert_int_equal(proc_stat_parse("1 (x)", &st, NULL), -1);
	assert_int_equal(proc_stat_parse("", NULL, NULL), -1);

	/* this process runs and started after boot; a reaped child is gone */
	assert_int_equal(proc_stat(getpid(), &parent, &now), 0);
	assert_true(parent == 'R' || parent == 'S');
	assert_true(now > 0);
	pid = fork();
	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	while (proc_stat(pid, &st, NULL) == 0 && st != 'Z')
		usleep(1000);
	assert_int_equal(st, 'Z');
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(proc_stat(pid, &st, &t), -1);
}

/* The start, size and resident KiB of the mapping holding p, and its anonymous KiB. */
static void mapping_of(const void *p, unsigned long *lo, unsigned long *hi, long long *rss,
		       long long *anon)
{
	char line[512];
	unsigned long a = (unsigned long)p, l, h;
	long long kb;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	*rss = *anon = -1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &l, &h, perms) == 3) {
			in = a >= l && a < h;
			if (in) {
				*lo = l;
				*hi = h;
			}
		} else if (in && sscanf(line, "Rss: %lld kB", &kb) == 1) {
			*rss = kb;
		} else if (in && sscanf(line, "Anonymous: %lld kB", &kb) == 1) {
			*anon = kb;
		}
	}
	fclose(f);
}

/* The anonymous KiB of the read-only mappings of a library named like name (its relocated data). */
static long long relocated_kib(const char *name)
{
	char line[512];
	long long kb, total = 0;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long l, h;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &l, &h, perms) == 3)
			in = perms[1] != 'w' && strstr(line, name);
		else if (in && sscanf(line, "Anonymous: %lld kB", &kb) == 1)
			total += kb;
	}
	fclose(f);
	return total;
}

/*
 * A loaded library's code is unmapped and reads back the same bytes (and
 * runs); its relocated data, a private mapping that was written (also one
 * made read-only after the write, as the loader does), and a file mapping
 * that is no loaded object keep every page and byte.
 */
static void test_lib__proc_drop_file_pages(void **s)
{
	char path[] = "/tmp/atlas-test-drop.XXXXXX";
	size_t len = 64 * 4096;
	unsigned char *buf = malloc(len), *ro, *cow, *relro, *code, *copy;
	unsigned long lo, hi;
	long long rss, anon, relro_kib;
	volatile unsigned sum = 0;
	int fd = mkstemp(path);

	(void)s;
	/* libsqlite3's code mapping, every page faulted in */
	mapping_of((const void *)sqlite3_libversion, &lo, &hi, &rss, &anon);
	assert_int_equal(anon, 0);
	code = (unsigned char *)lo;
	copy = malloc(hi - lo);
	for (unsigned long k = 0; k < hi - lo; k++)
		copy[k] = code[k];
	mapping_of(code, &lo, &hi, &rss, &anon);
	assert_int_equal(rss, (long long)((hi - lo) / 1024));
	relro_kib = relocated_kib("libsqlite3");
	assert_true(relro_kib > 0);

	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	cow = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	relro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(ro != MAP_FAILED && cow != MAP_FAILED && relro != MAP_FAILED);
	for (size_t i = 0; i < len; i += 4096) {
		sum += ro[i];
		cow[i] = 0xAA;
		relro[i] = 0x55;
	}
	assert_int_equal(mprotect(relro, len, PROT_READ), 0);

	assert_true(proc_drop_file_pages() > 0);
	mapping_of(code, &lo, &hi, &rss, &anon);
	assert_true(rss < (long long)((hi - lo) / 1024) / 2); /* unmapped (but what ran since) */
	assert_memory_equal(code, copy, hi - lo);	     /* faulted back in, the same bytes */
	assert_string_equal(sqlite3_libversion(), SQLITE_VERSION);
	/* its relocated data kept: calls through its GOT still land (a drop of it would crash here) */
	assert_int_equal(relocated_kib("libsqlite3"), relro_kib);
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", NULL,
					      NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(db);
	}
	mapping_of(ro, &lo, &hi, &rss, &anon);
	assert_int_equal(rss, 256); /* no loaded object: left alone */
	mapping_of(cow, &lo, &hi, &rss, &anon);
	assert_int_equal(rss, 256);
	mapping_of(relro, &lo, &hi, &rss, &anon);
	assert_int_equal(rss, 256);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(cow[i], i % 4096 ? buf[i] : 0xAA);
		assert_int_equal(relro[i], i % 4096 ? buf[i] : 0x55);
	}
	munmap(ro, len);
	munmap(cow, len);
	munmap(relro, len);
	close(fd);
	unlink(path);
	free(buf);
	free(copy);
}

/* A library loaded at run time moves the loader's count; nothing else does. */
static void test_lib__proc_loads(void **s)
{
	unsigned long long n0 = proc_loads(), n1;
	void *h;

	(void)s;
	assert_true(n0 > 0);
	assert_int_equal(proc_loads(), n0);
	/* what atlas serve loads for sing-box; the test program is not linked with it */
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	n1 = proc_loads();
	assert_true(n1 > n0);
	assert_int_equal(proc_loads(), n1);
	dlclose(h);
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_lib__base64),
	cmocka_unit_test(test_lib__ipaddr),
	cmocka_unit_test(test_lib__strv),
	cmocka_unit_test(test_lib__atomic_write),
	cmocka_unit_test(test_lib__atomic_write_in_pieces),
	cmocka_unit_test(test_lib__clean_stale),
	cmocka_unit_test(test_lib__spawn),
	cmocka_unit_test(test_lib__ip_parse_prefix_digits_only),
	cmocka_unit_test(test_lib__ip_normalize),
	cmocka_unit_test(test_lib__ip_normalize_v4_forms),
	cmocka_unit_test(test_lib__buf_printf_room),
	cmocka_unit_test(test_lib__spawn_stdin_not_read),
	cmocka_unit_test(test_lib__spawn_check_message_printable),
	cmocka_unit_test(test_lib__spawn_timeout_after_output_closed),
	cmocka_unit_test(test_lib__spawn_which_many),
	cmocka_unit_test(test_lib__proc_stat),
	cmocka_unit_test(test_lib__proc_drop_file_pages),
	cmocka_unit_test(test_lib__proc_loads))
