/*
 * err.h - the error type every fallible function fills.
 *
 * A function that can fail returns -1 (or NULL) and writes a code and a
 * lowercase message without a trailing full stop into a struct atlas_err the
 * caller owns. The edge (CLI command, HTTP handler, daemon log) decides how to
 * show it. err_set() returns -1 so a failure is one line:
 *
 *	return err_set(err, ERR_INVALID, "peer \"%s\": bad address", name);
 */
#ifndef ATLAS_ERR_H
#define ATLAS_ERR_H

enum err_code {
	ERR_NONE = 0,
	ERR_INVALID,	/* bad input from a user or a file */
	ERR_NOTFOUND,	/* a named resource does not exist */
	ERR_CONFLICT,	/* the name exists already, or the state is managed elsewhere */
	ERR_IO,		/* a file, socket or database operation failed */
	ERR_EXEC,	/* an external program is missing or failed */
	ERR_NOMEM,
	ERR_INTERNAL,
	ERR_UNSUPPORTED,
};

struct atlas_err {
	enum err_code code;
	char msg[1024];
};

/* Fills err (NULL is allowed and ignored) and returns -1. Cannot fail. */
int err_set(struct atlas_err *err, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message. Returns -1. */
int err_wrap(struct atlas_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets err to ERR_NONE with an empty message (NULL is allowed). */
void err_clear(struct atlas_err *err);

#endif
