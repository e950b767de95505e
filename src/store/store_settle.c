/*
 * store_settle: how a job leaves RUNNING and how the operator brings it
 * back, the same for every backend (store_settle.h). The decisions are the
 * settle_* functions; the *_tx functions load the job, decide and write
 * through the backend's primitives, each inside one transaction (in_tx).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"
#include "store/store_settle.h"

static const struct store_settle_ops *so(struct store *st)
{
    return st->ops->settle;
}

int store_settle_owned(struct store_job *j, int64_t id, const char *owner,
                       struct mlc_err *e)
{
    int rc;

    if (j->state == STORE_JOB_RUNNING && j->owner != NULL &&
        strcmp(j->owner, owner) == 0)
        return MLC_OK;
    rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is not held by %s "
                     "(state %s, owner %s)", (long long)id, owner,
                     store_job_state_name(j->state),
                     j->owner != NULL ? j->owner : "none");
    store_job_clear(j);
    return rc;
}

static int load_owned(struct store *st, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e)
{
    int rc = so(st)->load(st, id, j, e);

    return rc != MLC_OK ? rc : store_settle_owned(j, id, owner, e);
}

/* ---- the decisions ------------------------------------------------------ */

/* Stays where it is with a new state and error (done, hold). */
static struct store_settle settle_finish(const struct store_job *j,
                                         enum store_job_state state,
                                         const char *why)
{
    return (struct store_settle){ .state = state, .run_at = j->run_at,
                                  .attempts = j->attempts, .last_error = why };
}

/* READY at run_at, the claim's attempt given back (defer, pause). */
static struct store_settle settle_give_back(const struct store_job *j,
                                            int64_t run_at, const char *why)
{
    return (struct store_settle){ .run_at = run_at,
                                  .attempts = j->attempts > 0 ? j->attempts - 1 : 0,
                                  .last_error = why };
}

/* READY now, attempts and error kept (a lease released). */
static struct store_settle settle_release(const struct store_job *j,
                                          int64_t now)
{
    return (struct store_settle){ .run_at = now, .attempts = j->attempts,
                                  .last_error = j->last_error };
}

/* READY now with every attempt back, the last error kept (replay). */
static struct store_settle settle_replay(const struct store_job *j,
                                         int64_t now)
{
    return (struct store_settle){ .run_at = now, .attempts = 0,
                                  .last_error = j->last_error };
}

/* FAILED once max_attempts are spent, else READY after a backoff. */
static struct store_settle settle_retry(struct store *st,
                                        const struct store_job *j,
                                        const char *error, int max_attempts,
                                        bool *failed)
{
    struct store_settle to = settle_finish(j, STORE_JOB_FAILED, error);

    *failed = j->attempts >= max_attempts;
    if (!*failed)
        to.run_at = store_now_ms(st) +
                    store_backoff_ms(j->attempts, st->backoff_base_ms,
                                     st->backoff_cap_ms, store_random_u32());
    return to;
}

static int replay_check(const struct store_job *j, int64_t id,
                        struct mlc_err *e)
{
    if (j->dismissed_at > 0) /* handled by hand: undismiss first */
        return mlc_err_set(e, MLC_ESTATE, "store: job %lld is dismissed "
                           "(by %s): undismiss it first", (long long)id,
                           j->dismissed_by != NULL ? j->dismissed_by : "?");
    if (j->state == STORE_JOB_HELD || j->state == STORE_JOB_FAILED)
        return MLC_OK;
    return mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s, only held "
                       "or failed jobs can be replayed", (long long)id,
                       store_job_state_name(j->state));
}

/* Idle: READY, or RUNNING on a lease that ran out. */
static int idle_check(struct store *st, const struct store_job *j, int64_t id,
                      struct mlc_err *e)
{
    if (j->state == STORE_JOB_READY ||
        (j->state == STORE_JOB_RUNNING && j->lease_until <= store_now_ms(st)))
        return MLC_OK;
    return mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s%s, not idle",
                       (long long)id, store_job_state_name(j->state),
                       j->state == STORE_JOB_RUNNING ? " with a live lease" : "");
}

/* ---- one transaction per call ------------------------------------------ */

/* The arguments of one store_settle_* call (which fields: see each *_tx). */
struct call {
    int64_t               id;
    const char           *owner, *why, *system, *prefix;
    enum store_job_state  state;
    int64_t               run_at;     /* a pause: ms after now */
    int                   max_attempts;
    bool                 *failed;
    int64_t              *n;
};

/* fn in its own transaction (or savepoint): committed when it returns
 * MLC_OK, else rolled back; returns fn's status or the commit's failure. */
static int in_tx(struct store *st,
                 int (*fn)(struct store *st, const struct call *c,
                           struct mlc_err *e),
                 const struct call *c, struct mlc_err *e)
{
    int rc = st->ops->tx_begin(st, e);

    if (rc != MLC_OK)
        return rc;
    if ((rc = fn(st, c, e)) == MLC_OK)
        return st->ops->tx_commit(st, e);
    st->ops->tx_rollback(st);
    return rc;
}

/* ---- leaving RUNNING ---------------------------------------------------- */

/* DONE or HELD (c->state): the lease-checked ways to finish without a
 * retry. */
static int finish_tx(struct store *st, const struct call *c,
                     struct mlc_err *e)
{
    struct store_job j = {0};
    struct store_settle to;
    int rc = load_owned(st, c->id, c->owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = settle_finish(&j, c->state, c->why);
    rc = so(st)->settle(st, c->id, &to, e);
    store_job_clear(&j);
    return rc;
}

int store_settle_done(struct store *st, int64_t id, const char *owner,
                      struct mlc_err *e)
{
    return in_tx(st, finish_tx, &(struct call){ .id = id, .owner = owner,
                                                .state = STORE_JOB_DONE }, e);
}

int store_settle_hold(struct store *st, int64_t id, const char *owner,
                      const char *reason, struct mlc_err *e)
{
    return in_tx(st, finish_tx, &(struct call){ .id = id, .owner = owner,
                                                .state = STORE_JOB_HELD,
                                                .why = reason }, e);
}

static int retry_tx(struct store *st, const struct call *c,
                    struct mlc_err *e)
{
    struct store_job j = {0};
    struct store_settle to;
    int rc = load_owned(st, c->id, c->owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = settle_retry(st, &j, c->why, c->max_attempts, c->failed);
    if (*c->failed)
        rc = so(st)->settle(st, c->id, &to, e);
    else
        rc = so(st)->requeue(st, &j, &to, e);
    store_job_clear(&j);
    return rc;
}

int store_settle_retry(struct store *st, int64_t id, const char *owner,
                       const char *error, int max_attempts, bool *failed,
                       struct mlc_err *e)
{
    return in_tx(st, retry_tx, &(struct call){ .id = id, .owner = owner,
                                               .why = error,
                                               .max_attempts = max_attempts,
                                               .failed = failed }, e);
}

/* Back to READY with the claim's attempt given back: at c->run_at for a
 * defer; for a pause (c->system set) c->run_at ms after now, and the job
 * marked paused on c->system. */
static int give_back_tx(struct store *st, const struct call *c,
                        struct mlc_err *e)
{
    struct store_job j = {0};
    struct store_settle to;
    int64_t run_at = c->run_at;
    int rc = load_owned(st, c->id, c->owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (c->system != NULL)
        run_at += store_now_ms(st);
    to = settle_give_back(&j, run_at, c->why);
    rc = so(st)->requeue(st, &j, &to, e);
    store_job_clear(&j);
    if (rc == MLC_OK && c->system != NULL)
        rc = so(st)->pause_mark(st, c->id, c->system, e);
    return rc;
}

int store_settle_defer(struct store *st, int64_t id, const char *owner,
                       int64_t run_at, const char *reason, struct mlc_err *e)
{
    return in_tx(st, give_back_tx, &(struct call){ .id = id, .owner = owner,
                                                   .run_at = run_at,
                                                   .why = reason }, e);
}

int store_settle_pause(struct store *st, int64_t id, const char *owner,
                       const char *system, const char *reason,
                       int64_t recheck_ms, struct mlc_err *e)
{
    return in_tx(st, give_back_tx, &(struct call){ .id = id, .owner = owner,
                                                   .run_at = recheck_ms,
                                                   .why = reason,
                                                   .system = system }, e);
}

/* ---- leases released ---------------------------------------------------- */

/* Every RUNNING job (c->prefix NULL) or those of owners starting with
 * c->prefix: READY now; *c->n: how many. */
static int release_tx(struct store *st, const struct call *c,
                      struct mlc_err *e)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = so(st)->running_ids(st, c->prefix, &ids, &n, e);

    for (size_t i = 0; rc == MLC_OK && i < n; i++) {
        struct store_job j = {0};
        struct store_settle to;

        if ((rc = so(st)->load(st, ids[i], &j, e)) != MLC_OK)
            break;
        to = settle_release(&j, store_now_ms(st));
        rc = so(st)->requeue(st, &j, &to, e);
        store_job_clear(&j);
    }
    if (rc == MLC_OK)
        *c->n = (int64_t)n;
    free(ids);
    return rc;
}

int store_settle_release_leases(struct store *st, int64_t *n,
                                struct mlc_err *e)
{
    return in_tx(st, release_tx, &(struct call){ .n = n }, e);
}

int store_settle_release_owner(struct store *st, const char *prefix,
                               int64_t *n, struct mlc_err *e)
{
    return in_tx(st, release_tx, &(struct call){ .prefix = prefix, .n = n },
                 e);
}

/* ---- the operator's ways back ------------------------------------------- */

static int replay_tx(struct store *st, const struct call *c,
                     struct mlc_err *e)
{
    struct store_job j = {0};
    struct store_settle to;
    int rc = so(st)->load(st, c->id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if ((rc = replay_check(&j, c->id, e)) == MLC_OK) {
        to = settle_replay(&j, store_now_ms(st));
        rc = so(st)->requeue(st, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int store_settle_replay(struct store *st, int64_t id, struct mlc_err *e)
{
    return in_tx(st, replay_tx, &(struct call){ .id = id }, e);
}

static int hold_idle_tx(struct store *st, const struct call *c,
                        struct mlc_err *e)
{
    struct store_job j = {0};
    struct store_settle to;
    int rc = so(st)->load(st, c->id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if ((rc = idle_check(st, &j, c->id, e)) == MLC_OK) {
        to = settle_finish(&j, STORE_JOB_HELD, c->why);
        rc = so(st)->settle(st, c->id, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int store_settle_hold_idle(struct store *st, int64_t id, const char *reason,
                           struct mlc_err *e)
{
    return in_tx(st, hold_idle_tx, &(struct call){ .id = id, .why = reason },
                 e);
}
