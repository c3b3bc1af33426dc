/*
 * log.c - timestamped log lines on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "lib/log.h"

int log_verbosity = LOG_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[2048], ts[32];
	struct tm tm;
	time_t now;
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line: lines from threads do not interleave. */
	fprintf(stderr, "%s %s %s\n", ts, names[lvl], line);
}
