/*
 * proc.c - this process's resident memory, the host's available memory,
 * and another process's state and start time, from /proc (proc.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/proc.h"

long long proc_rss_bytes(void)
{
	long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	/* statm counts pages: size, then resident */
	if (fscanf(f, "%lld %lld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

long long proc_mem_available(void)
{
	char line[256];
	long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

int proc_stat_parse(const char *text, char *state, long long *start_time)
{
	const char *p = strrchr(text, ')');
	char *end;
	long long t;

	if (!p || p[1] != ' ' || !p[2] || p[2] == ' ')
		return -1;
	if (state)
		*state = p[2];
	if (!start_time)
		return 0;
	p += 2;
	/* p is at field 3; field 22 is 19 spaces on */
	for (int field = 3; field < 22; field++)
		if (!(p = strchr(p, ' ')) || !*++p)
			return -1;
	t = strtoll(p, &end, 10);
	if (end == p || t < 0)
		return -1;
	*start_time = t;
	return 0;
}

int proc_stat(long pid, char *state, long long *start_time)
{
	char path[64], text[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	return proc_stat_parse(text, state, start_time);
}

/*
 * The clean file pages of this process's read-only file mappings (code and
 * read-only data of the binary and its libraries, never written: no
 * anonymous copy in the mapping) are unmapped with MADV_DONTNEED; they stay
 * in the page cache, and whatever runs later faults its pages back in.
 * Returns the KiB that were resident in those mappings, -1 when smaps is
 * unreadable.
 */
long long proc_drop_file_pages(void)
{
	struct range { unsigned long lo, hi; } r[512];
	size_t n = 0;
	char line[512];
	unsigned long lo = 0, hi = 0;
	long long rss = 0, anon = 0, total = 0;
	int cand = 0, have = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	for (;;) {
		char *ok = fgets(line, sizeof(line), f);
		unsigned long a, b;
		char perms[8], path[8];
		long long kb;

		if (!ok || sscanf(line, "%lx-%lx %7s %*s %*s %*s %7s", &a, &b, perms, path) >= 3) {
			if (have && cand && anon == 0 && rss > 0 && n < sizeof(r) / sizeof(r[0])) {
				r[n].lo = lo;
				r[n++].hi = hi;
				total += rss;
			}
			if (!ok)
				break;
			/* a new mapping: its path, when it has one, starts with '/' */
			path[0] = '\0';
			sscanf(line, "%lx-%lx %7s %*s %*s %*s %7s", &a, &b, perms, path);
			lo = a;
			hi = b;
			cand = perms[1] != 'w' && path[0] == '/';
			rss = anon = 0;
			have = 1;
		} else if (sscanf(line, "Rss: %lld kB", &kb) == 1) {
			rss = kb;
		} else if (sscanf(line, "Anonymous: %lld kB", &kb) == 1) {
			anon = kb;
		}
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		madvise((void *)r[i].lo, r[i].hi - r[i].lo, MADV_DONTNEED);
	return total;
}
