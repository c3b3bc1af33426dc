/*
 * loop_requests.h - the reconcile loop's queue of requests (POST /apply, a
 * daemon restart): made here, run in order by the loop thread, each
 * answered exactly once, by its run or, when atlas stops first, by a
 * refusal. The queue has no lock of its own: the loop's mutex guards it.
 */
#ifndef ATLAS_LOOP_REQUESTS_H
#define ATLAS_LOOP_REQUESTS_H

#include <jansson.h>

#include "lib/err.h"
#include "state/store.h"
#include "controller/loop.h"

struct request {
	char engine[32]; /* "" : apply */
	char actor[STORE_ACTOR_MAX]; /* who asked; "": the generation's actor */
	loop_done_cb done;
	void *cls;
	struct request *next;
};

struct request_queue {
	struct request *head, **tail;
};

void reqq_init(struct request_queue *q);
/*
 * A request to apply (engine NULL) or to restart engine's daemon, answered
 * by done(cls, result); NULL with err when no driver of that name can.
 */
struct request *request_new(const char *engine, const char *actor, loop_done_cb done, void *cls,
			    struct atlas_err *err);
void reqq_push(struct request_queue *q, struct request *rq);
/* The oldest request, taken off the queue; NULL: none. */
struct request *reqq_pop(struct request_queue *q);
/* Every request, taken off the queue (a list through next); NULL: none. */
struct request *reqq_take_all(struct request_queue *q);
/* Answers rq with its run's result (taken; its actions expanded) and frees it. */
void request_answer(struct request *rq, json_t *result);
/* Answers each request of list with {"ok":false,"error":why} and frees them. */
void request_refuse_all(struct request *list, const char *why);

#endif
