/*
 * plan.h - a plan is data: the list of actions that would bring the system
 * to the desired state, computed by each engine driver's pure diff().
 *
 * Each action has an engine, a kind, the resource it is about, a one-line
 * human text ("+ wireguard/wg0 peer alice (10.8.0.2/32)"), how many live
 * sessions it will drop, and driver-private data that apply() reads.
 */
#ifndef ATLAS_PLAN_H
#define ATLAS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/strv.h"

enum action_kind {
	ACT_CREATE,	/* "+" a resource appears */
	ACT_UPDATE,	/* "~" a resource changes in place */
	ACT_DELETE,	/* "-" a resource goes */
	ACT_RESTART,	/* "!" a daemon restarts: every session drops */
	ACT_START,	/* "+" a daemon or interface starts */
	ACT_STOP,	/* "-" a daemon or interface stops */
	ACT_KILL,	/* "x" one session is cut */
	ACT_WRITE,	/* "~" a file is (re)written */
	ACT_ISSUE,	/* "+" a certificate is issued */
	ACT_REVOKE,	/* "-" a certificate is revoked */
};

enum engine_status {
	ENGINE_UNMANAGED,	/* its section is absent from the desired state */
	ENGINE_OK,		/* observed completely */
	ENGINE_INCOMPLETE,	/* could not observe everything: the plan removes nothing */
	ENGINE_ERROR,		/* could not observe at all */
	ENGINE_NOT_IMPLEMENTED,	/* no driver yet */
};

struct action {
	const char *engine;	/* static: "wireguard", "openvpn", "singbox", "system" */
	const char *resource;	/* the plan's (its texts): "wg0/alice" */
	const char *text;	/* the plan's: the human line */
	void *data;		/* owned through data_free; driver-private */
	void (*data_free)(void *);
	enum action_kind kind;
	int drops;		/* sessions this action will drop */
};

/*
 * The texts of a plan's actions (resource and line) are packed one after the
 * other into blocks the plan owns, not one allocation each: a first apply of
 * 10,000 peers makes 20,000 of them. Blocks double from 1 KiB up to 256 KiB
 * (in atlas serve, whose mmap threshold is 256 KiB, from there each has a
 * mapping of its own, given back whole when freed).
 */
struct plan_block {
	struct plan_block *next;
	size_t used, cap;
	char s[];
};

struct engine_report {
	const char *engine;
	enum engine_status status;
	char *note;		/* owned: why incomplete / error / not implemented */
};

struct plan {
	struct action *v;
	size_t n, cap;
	struct engine_report engines[8];
	size_t nengines;
	int64_t generation;	/* the desired-state generation it was computed from */
	/* users about to be suspended ("wireguard/wg0 peer bob: 92 % of quota 2 GiB used") */
	struct strv warnings;
	struct plan_block *texts; /* the newest block first */
};

extern const char *const action_kind_names[];
extern const char *const engine_status_names[];

/* An empty plan; plan_release() frees its actions and notes (p reusable). */
void plan_init(struct plan *p);
void plan_release(struct plan *p);

/*
 * Appends an action; text is formatted from fmt. data (may be NULL) is owned
 * by the plan from here on and freed with data_free. Returns the action
 * (borrowed; valid until the next plan_add). Cannot fail.
 */
struct action *plan_add(struct plan *p, const char *engine, enum action_kind kind,
			const char *resource, void *data, void (*data_free)(void *),
			const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * Appends the outcome of one applied step to an apply's results (a JSON
 * array): {"text": text, "ok": ok, "error": msg}, "error" null when ok (msg
 * may be NULL, null too). The one shape every driver reports. Cannot fail.
 *
 * A step that went well is kept as its text alone (a JSON string, about
 * 130 bytes instead of 580 for the object: 1.3 MB, not 5.7, for the 10,000
 * steps of a first apply of 10,000 peers); plan_results_json() and
 * plan_results_dump() give the shape above.
 */
void plan_result(json_t *results, const char *text, int ok, const char *msg);
/* results in the shape plan_result documents: an array of objects (new). */
json_t *plan_results_json(json_t *results);
/*
 * The compact JSON text of plan_results_json(results) (new, free() it),
 * written one step at a time: no tree of every step is built.
 */
char *plan_results_dump(json_t *results);

/*
 * Gives a an other line (formatted from fmt), kept with the plan's texts; the
 * old line stays there, unused, until the plan is released.
 */
void plan_set_text(struct plan *p, struct action *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends a warning line (a note for the admin, no action). Cannot fail. */
void plan_warn(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Frees the driver data of every action (the plan stays readable: kinds,
 * resources, texts, drops): for a plan nobody applies, whose data may point
 * into a state freed before it.
 */
void plan_drop_data(struct plan *p);

/*
 * Frees the actions from index n on (a diff that failed half-way); their
 * texts stay in the plan's blocks until plan_release.
 */
void plan_truncate(struct plan *p, size_t n);

/* Records an engine's observation status (note may be NULL; copied). */
void plan_engine(struct plan *p, const char *engine, enum engine_status st, const char *note);

/* Number of actions of one engine. */
size_t plan_count(const struct plan *p, const char *engine);
/* 1 when any engine is incomplete or in error. */
int plan_has_problems(const struct plan *p);

/* "wireguard: 2 changes" blocks with one line per action. */
void plan_render_text(const struct plan *p, struct buf *out);
/* {"generation":..,"engines":[..],"actions":[{engine,kind,resource,text,drops}]} (new). */
json_t *plan_to_json(const struct plan *p);

#endif
