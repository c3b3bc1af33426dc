/*
 * proc.c - this process's resident memory, the host's available memory,
 * and another process's state and start time, from /proc (proc.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
