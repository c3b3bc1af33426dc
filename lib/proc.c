/*
 * proc.c - this process's resident memory, the host's available memory,
 * and another process's state and start time, from /proc (proc.h).
 */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/buf.h"
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

/* A mapping of smaps that is read-only, of a file, and holds no private page. */
struct clean_range {
	unsigned long lo, hi;
};

struct drop {
	struct clean_range *v;
	size_t n;
};

/*
 * The clean read-only file mappings of /proc/self/smaps into d (sorted, as
 * smaps is): no 'w', a path, no anonymous page resident and none swapped
 * out (a private copy is never thrown away). -1 when unreadable.
 */
static int clean_ranges(struct drop *d)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	unsigned long lo = 0, hi = 0;
	long long anon = 0, swap = 0;
	int cand = 0, have = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	for (;;) {
		ssize_t len = getline(&line, &cap, f);
		unsigned long a, b;
		char perms[8], path[2];
		long long kb;
		int fields = len > 0 ? sscanf(line, "%lx-%lx %7s %*s %*s %*s %1s", &a, &b, perms, path)
				     : 0;

		if (len <= 0 || fields >= 3) {
			if (have && cand && anon == 0 && swap == 0) {
				if (d->n == alloc) {
					alloc = alloc ? 2 * alloc : 256;
					d->v = xrealloc(d->v, alloc * sizeof(*d->v));
				}
				d->v[d->n].lo = lo;
				d->v[d->n++].hi = hi;
			}
			if (len <= 0)
				break;
			lo = a;
			hi = b;
			cand = perms[1] != 'w' && fields == 4 && path[0] == '/';
			anon = swap = 0;
			have = 1;
		} else if (sscanf(line, "Anonymous: %lld kB", &kb) == 1) {
			anon = kb;
		} else if (sscanf(line, "Swap: %lld kB", &kb) == 1) {
			swap = kb;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

/* 1 when the object's code is relocated in place (DT_TEXTREL): its text has private pages. */
static int text_relocated(const struct dl_phdr_info *info)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Dyn) *dyn;

		if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
			continue;
		for (dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		     dyn->d_tag != DT_NULL; dyn++)
			if (dyn->d_tag == DT_TEXTREL ||
			    (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_TEXTREL)))
				return 1;
	}
	return 0;
}

/*
 * One loaded object (the program, a library): its read-only segments'
 * pages that lie in clean mappings are unmapped. dl_iterate_phdr() holds
 * the loader's lock meanwhile: no object is unmapped under it (a dlclose,
 * or a dlopen that fails after mapping its library), so every range is
 * still that object's code or read-only data when it is advised, never
 * memory mapped at its address since.
 */
static int drop_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct drop *d = arg;
	unsigned long pg = (unsigned long)sysconf(_SC_PAGESIZE), lo[16], hi[16];
	int n = 0;

	(void)size;
	if (text_relocated(info))
		return 0;
	/* the segments first: the program headers are in the first of them */
	for (int i = 0; i < info->dlpi_phnum && n < 16; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || !ph->p_memsz)
			continue;
		lo[n] = (info->dlpi_addr + ph->p_vaddr) & ~(pg - 1);
		hi[n++] = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + pg - 1) & ~(pg - 1);
	}
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < d->n; k++) {
			unsigned long a = d->v[k].lo > lo[i] ? d->v[k].lo : lo[i];
			unsigned long b = d->v[k].hi < hi[i] ? d->v[k].hi : hi[i];

			if (a < b)
				madvise((void *)a, b - a, MADV_DONTNEED);
		}
	return 0;
}

/* RssFile of /proc/self/status in KiB, -1 when unreadable. */
static long long rss_file_kib(void)
{
	char line[128];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssFile: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long long proc_drop_file_pages(void)
{
	struct drop d = {0};
	long long before = rss_file_kib(), after;

	if (clean_ranges(&d) < 0)
		return -1;
	dl_iterate_phdr(drop_object, &d);
	free(d.v);
	after = rss_file_kib();
	return before >= 0 && after >= 0 && before > after ? before - after : 0;
}

static int loads_of(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1; /* the count is the same in every object's info: the first will do */
}

unsigned long long proc_loads(void)
{
	unsigned long long n = 0;

	dl_iterate_phdr(loads_of, &n);
	return n;
}

static unsigned long one_offs;

void proc_note_one_off(void)
{
	__atomic_add_fetch(&one_offs, 1, __ATOMIC_RELAXED);
}

unsigned long proc_one_offs(void)
{
	return __atomic_load_n(&one_offs, __ATOMIC_RELAXED);
}
