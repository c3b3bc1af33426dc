/*
 * validate_int.h - what the checks of state/validate.c and of the engine
 * kept apart (state/validate_sb.c) share: the context a problem is told in
 * and the field checks (state/validate_fields.c). Only for state/validate*.c.
 */
#ifndef ATLAS_VALIDATE_INT_H
#define ATLAS_VALIDATE_INT_H

#include <stdio.h>

#include "state/diag.h"
#include "state/model.h"

/* ---- checks shared by several resources ---- */

struct vctx {
	struct diags *d;
	char who[256];	/* "wireguard interface \"wg0\": peer \"bob\"" */
	const struct atlas_state *st;	/* the state checked (texts of bad keys), or NULL */
};

#define V(c, where, field, ...)                                                         \
	do {                                                                            \
		char m_[900];                                                           \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                                   \
		diags_add((c)->d, (where), (field), "%s%s%s", (c)->who, (c)->who[0] ? ": " : "", \
			  m_);                                                          \
	} while (0)

/* 1 when s has a control character (a newline allowed when allow_newline). */
int has_ctl(const char *s, int allow_newline);
int hostname_valid(const char *s);
/* Each reports its problems on c (see validate.c). */
void check_name(struct vctx *c, char *const *name, const char *kind);
/* The same with a length limit of its own (an interface name: 15, the kernel's). */
void check_name_max(struct vctx *c, char *const *name, const char *kind, int max);
void check_text(struct vctx *c, char *const *s, const char *field, int multiline, size_t max);
void check_expiry(struct vctx *c, char *const *s, const char *field);
void check_quota(struct vctx *c, char *const *q);
/* Duplicate names in a list whose elements start with char *name. */
void check_dup_names(struct vctx *c, const void *arr, size_t n, size_t size, const char *kind);

/* The sing-box section (validate_sb.c). */
void check_singbox(struct vctx *c, const struct atlas_state *st);

#endif
