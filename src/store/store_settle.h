/*
 * store_settle: the backend-neutral rules of every way a job leaves
 * RUNNING (done, hold, retry, defer, pause, lease release) and of the
 * operator's ways back (replay, hold of an idle job). Internal to
 * src/store/.
 *
 * The rules decide a job's next state, attempts, run_at and error, and
 * run each decision in one transaction through the backend's ops
 * (tx_begin, tx_commit, tx_rollback) and the few primitives below; the
 * backend keeps only its SQL and its binding. A backend's ops table gets
 * the rules' entries with STORE_SETTLE_OPS(&its struct store_settle_ops).
 */
#ifndef MLC_STORE_STORE_SETTLE_H
#define MLC_STORE_STORE_SETTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* Where a job goes when it leaves RUNNING (or HELD/FAILED on replay). */
struct store_settle {
    enum store_job_state state;
    int64_t              run_at;
    int                  attempts;
    const char          *last_error; /* borrowed */
};

/* What a backend lends the rules; each runs inside the rules' transaction. */
struct store_settle_ops {
    /* Job id into j (zeroed; cleared again on failure, else the caller
     * clears it), locked for the rest of the transaction where the
     * backend locks rows. */
    int (*load)(struct store *st, int64_t id, struct store_job *j,
                struct mlc_err *e);
    /* Writes to into job id. */
    int (*settle)(struct store *st, int64_t id, const struct store_settle *to,
                  struct mlc_err *e);
    /* READY again at to->run_at, a READY twin of (kind, key) folded in
     * (to->run_at may move earlier, to->state becomes READY). */
    int (*requeue)(struct store *st, const struct store_job *j,
                   struct store_settle *to, struct mlc_err *e);
    /* The ids of every RUNNING job (prefix NULL), or of those whose owner
     * starts with prefix; *ids: caller frees. */
    int (*running_ids)(struct store *st, const char *prefix, int64_t **ids,
                       size_t *n, struct mlc_err *e);
    /* Marks job id as paused on system. */
    int (*pause_mark)(struct store *st, int64_t id, const char *system,
                      struct mlc_err *e);
};

/* The struct store_ops entries the rules fill, for a backend's ops table;
 * prims: its struct store_settle_ops. */
#define STORE_SETTLE_OPS(prims)                           \
    .job_done           = store_settle_done,             \
    .job_retry          = store_settle_retry,            \
    .job_hold           = store_settle_hold,             \
    .job_defer          = store_settle_defer,            \
    .job_release_leases = store_settle_release_leases,   \
    .job_release_owner  = store_settle_release_owner,    \
    .job_replay         = store_settle_replay,           \
    .job_hold_idle      = store_settle_hold_idle,        \
    .job_pause          = store_settle_pause,            \
    .settle             = (prims)

/* MLC_OK when owner holds j's lease (RUNNING, same owner); else MLC_ESTATE
 * and j cleared. id names the job in the message. */
int store_settle_owned(struct store_job *j, int64_t id, const char *owner,
                       struct mlc_err *e);

/* The struct store_ops entries of the same names (store_impl.h). */
int store_settle_done(struct store *st, int64_t id, const char *owner,
                      struct mlc_err *e);
int store_settle_hold(struct store *st, int64_t id, const char *owner,
                      const char *reason, struct mlc_err *e);
int store_settle_retry(struct store *st, int64_t id, const char *owner,
                       const char *error, int max_attempts, bool *failed,
                       struct mlc_err *e);
int store_settle_defer(struct store *st, int64_t id, const char *owner,
                       int64_t run_at, const char *reason, struct mlc_err *e);
int store_settle_release_leases(struct store *st, int64_t *n,
                                struct mlc_err *e);
int store_settle_release_owner(struct store *st, const char *prefix,
                               int64_t *n, struct mlc_err *e);
int store_settle_replay(struct store *st, int64_t id, struct mlc_err *e);
int store_settle_hold_idle(struct store *st, int64_t id, const char *reason,
                           struct mlc_err *e);
int store_settle_pause(struct store *st, int64_t id, const char *owner,
                       const char *system, const char *reason,
                       int64_t recheck_ms, struct mlc_err *e);

#endif
