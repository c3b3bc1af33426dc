/*
 * clock.h - the two clocks Atlas reads, in milliseconds.
 *
 * clock_mono_ms() is for deadlines and intervals (timeouts, debouncing,
 * backoff): it never jumps when the wall clock is set. clock_wall_ms() is
 * for what is recorded and shown (when a run started). Both cannot fail.
 */
#ifndef ATLAS_CLOCK_H
#define ATLAS_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean something. */
int64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void clock_sleep_ms(int ms);
/*
 * The absolute time ms milliseconds from now on clock id (CLOCK_MONOTONIC
 * or CLOCK_REALTIME), for pthread_cond_timedwait() on a condition variable
 * of that clock.
 */
struct timespec clock_deadline(clockid_t id, int64_t ms);
/* Initialises c so that its timed waits read CLOCK_MONOTONIC (pthread_cond_destroy it). */
void clock_cond_init(pthread_cond_t *c);

#endif
