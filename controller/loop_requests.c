/*
 * loop_requests.c - the queue of requests the reconcile loop runs in order
 * (see loop_requests.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "controller/controller.h"
#include "controller/loop_requests.h"

void reqq_init(struct request_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

struct request *request_new(const char *engine, const char *actor, loop_done_cb done, void *cls,
			    struct atlas_err *err)
{
	struct request *rq;

	if (engine && !driver_named(NULL, engine)) {
		err_set(err, ERR_UNSUPPORTED, "this atlas has no driver for %s yet", engine);
		return NULL;
	}
	if (engine && !loop_can_restart(engine)) {
		err_set(err, ERR_UNSUPPORTED, "the %s driver cannot restart its daemon", engine);
		return NULL;
	}
	rq = xcalloc(1, sizeof(*rq));
	snprintf(rq->engine, sizeof(rq->engine), "%s", engine ? engine : "");
	snprintf(rq->actor, sizeof(rq->actor), "%s", actor ? actor : "");
	rq->done = done;
	rq->cls = cls;
	return rq;
}

void reqq_push(struct request_queue *q, struct request *rq)
{
	rq->next = NULL;
	*q->tail = rq;
	q->tail = &rq->next;
}

struct request *reqq_pop(struct request_queue *q)
{
	struct request *rq = q->head;

	if (rq) {
		q->head = rq->next;
		if (!q->head)
			q->tail = &q->head;
	}
	return rq;
}

struct request *reqq_take_all(struct request_queue *q)
{
	struct request *list = q->head;

	reqq_init(q);
	return list;
}

void request_answer(struct request *rq, json_t *result)
{
	json_t *full = loop_run_full(result);

	json_decref(result);
	rq->done(rq->cls, full);
	free(rq);
}

void request_refuse_all(struct request *list, const char *why)
{
	while (list) {
		struct request *next = list->next;

		list->done(list->cls, json_pack("{s:b, s:s}", "ok", 0, "error", why));
		free(list);
		list = next;
	}
}
