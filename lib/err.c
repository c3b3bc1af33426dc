/*
 * err.c - filling struct atlas_err.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

int err_set(struct atlas_err *err, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct atlas_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: messages are for people. */
	snprintf(err->msg, sizeof(err->msg), "%.500s: %.520s", prefix, old);
	return -1;
}

void err_clear(struct atlas_err *err)
{
	if (err) {
		err->code = ERR_NONE;
		err->msg[0] = '\0';
	}
}
