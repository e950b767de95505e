/*
 * sched: interval tasks run by the daemon's main thread.
 *
 * The scheduler owns no clock and no thread: the caller passes its monotonic
 * "now" (milliseconds) to sched_next_due, to know how long it may sleep, and
 * to sched_run_due, which runs the tasks that are due. Tests drive it with a
 * fake clock.
 *
 * Timing: a new task is due at once (first run at start). After a run that
 * started at tick time T, the task is next due at T + interval. A task that
 * ran longer than its interval, or ticks that came late, therefore cause one
 * run at the next tick, never a burst of catch-up runs. All tasks run in one
 * tick share the tick's time as their start.
 *
 * Not thread-safe: register tasks before the loop starts, from the thread
 * that ticks. Tasks must be short; real work belongs in jobs (enqueue one).
 */
#ifndef MLC_DAEMON_SCHED_H
#define MLC_DAEMON_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct sched;

/* A task; an error is logged with the task's name and does not stop it. */
typedef int (*sched_fn)(void *ctx, struct mlc_err *e);

/* *out: caller frees with sched_free. */
int sched_new(struct sched **out, struct mlc_err *e);
void sched_free(struct sched *s); /* NULL-safe */

/* Registers a task (name is copied). interval_ms must be > 0: callers skip
 * tasks whose configured interval is 0 (disabled). */
int sched_add(struct sched *s, const char *name, int64_t interval_ms,
              sched_fn fn, void *ctx, struct mlc_err *e);

size_t sched_count(const struct sched *s);

/* Gives the named task a new interval (a reload): it is next due at its
 * last start plus interval_ms (at once when that has passed; a task not
 * run yet stays due at once). MLC_ENOTFOUND when no task has that name,
 * MLC_EINVAL when interval_ms <= 0. */
int sched_set_interval(struct sched *s, const char *name, int64_t interval_ms);

/* Makes the named task due at the next tick, as if it had not run yet (a
 * process that has just taken over the singleton tasks). MLC_ENOTFOUND when
 * no task has that name. */
int sched_make_due(struct sched *s, const char *name);

/* Milliseconds from now until the next task is due: 0 when one is due now,
 * -1 when there are no tasks. */
int64_t sched_next_due(const struct sched *s, int64_t now);

/* Runs every task due at now, in registration order; returns how many ran. */
size_t sched_run_due(struct sched *s, int64_t now);

/* Runs of the named task so far (tests, metrics); 0 when unknown. */
uint64_t sched_runs(const struct sched *s, const char *name);

#endif
