/*
 * heldops: what an operator does to held and failed items, shared by the
 * CLI (`mlc replay`, `mlc dismiss`) and the web console, so both run the
 * same checks and write the same audit rows. Only the actor differs:
 * "cli:<OS user>" or "console:<user>".
 *
 * Each operation is one store transaction: the job is read again inside it
 * (so a job that moved since the caller looked is refused, MLC_ESTATE),
 * changed, and its audit row added. Nothing is printed; errors go to e.
 */
#ifndef MLC_SYNC_HELDOPS_H
#define MLC_SYNC_HELDOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* Held or failed: the states an operator may replay or dismiss. */
bool heldops_open_state(enum store_job_state s);

/* Calls fn for every HELD job, then every FAILED one (oldest first in
 * each), dismissed ones included; fn returning non-zero stops the walk.
 * fn may read through st but must not write (store.h). */
int heldops_walk(struct store *st, int (*fn)(const struct store_job *j, void *ctx),
                 void *ctx, struct mlc_err *e);

/* Replays job id (back to READY, attempts reset) and audits it as actor
 * (action "replay"; note, when not NULL, in the detail). A dismissed job
 * is refused (MLC_ESTATE) unless undismiss, which takes the dismissal off
 * first and records the one it undid. *was: the job as it was (caller
 * clears with store_job_clear, also on failure). */
int heldops_replay(struct store *st, int64_t id, const char *actor, const char *note,
                   bool undismiss, struct store_job *was, struct mlc_err *e);

/* Dismisses job id (handled by hand: never posted) with note (required,
 * MLC_EINVAL when empty) and audits it as actor (action "dismiss"). *was:
 * as for heldops_replay. */
int heldops_dismiss(struct store *st, int64_t id, const char *actor, const char *note,
                    struct store_job *was, struct mlc_err *e);

#endif
