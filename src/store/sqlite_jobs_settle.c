/*
 * sqlite_jobs_settle: every way a job leaves RUNNING (done, hold, retry,
 * defer, pause, lease release) and the operator's ways back (replay, hold
 * of an idle job, resume of paused jobs).
 */
#include <stdlib.h>

#include "store/sqlite_int.h"

/* DONE or HELD: the lease-checked ways to finish without a retry. */
static int job_finish_tx(struct sq_store *s, int64_t id, const char *owner,
                         enum store_job_state state, const char *last_error,
                         struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    int rc = sq_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct sq_settle){ .state = state, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = last_error };
    rc = sq_job_settle(s, id, &to, e);
    store_job_clear(&j);
    return rc;
}

int sq_job_done(struct store *st, int64_t id, const char *owner,
                struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_DONE, NULL, e);
    return sq_tx_leave(s, rc, e);
}

int sq_job_hold(struct store *st, int64_t id, const char *owner,
                const char *reason, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_HELD, reason, e);
    return sq_tx_leave(s, rc, e);
}

static int64_t retry_delay(struct sq_store *s, int attempt)
{
    return store_backoff_ms(attempt, s->base.backoff_base_ms,
                            s->base.backoff_cap_ms, store_random_u32());
}

static int job_retry_tx(struct sq_store *s, int64_t id, const char *owner,
                        const char *error, int max_attempts, bool *failed,
                        struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    int rc = sq_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    *failed = j.attempts >= max_attempts;
    to = (struct sq_settle){ .state = STORE_JOB_FAILED, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = error };
    if (*failed) {
        rc = sq_job_settle(s, id, &to, e);
    } else {
        to.run_at = sq_now(s) + retry_delay(s, j.attempts);
        rc = sq_job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int sq_job_retry(struct store *st, int64_t id, const char *owner,
                 const char *error, int max_attempts, bool *failed,
                 struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_retry_tx(s, id, owner, error, max_attempts, failed, e);
    return sq_tx_leave(s, rc, e);
}

/* READY at run_at, the claim's attempt given back. */
static int job_defer_tx(struct sq_store *s, int64_t id, const char *owner, int64_t run_at,
                        const char *reason, struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    int rc = sq_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct sq_settle){ .run_at = run_at, .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = sq_job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    return rc;
}

int sq_job_defer(struct store *st, int64_t id, const char *owner, int64_t run_at,
                 const char *reason, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_defer_tx(s, id, owner, run_at, reason, e), e);
}

/* The ids of every RUNNING job, or of those whose owner starts with prefix
 * (*ids: caller frees). */
static int running_ids(struct sq_store *s, const char *prefix, int64_t **ids, size_t *n,
                       struct mlc_err *e)
{
    struct sq_q q;
    size_t cap = 0;
    int rc = sq_q_begin(&q, s, SQ_JOB_RUNNING_IDS, "job release", e);

    *ids = NULL;
    *n = 0;
    if (rc == MLC_OK)
        sq_q_text(&q, ":prefix", prefix);
    while (rc == MLC_OK && sq_q_step(&q) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap > 0 ? cap * 2 : 16;
            int64_t *nv = realloc(*ids, ncap * sizeof(*nv));

            if (nv == NULL) {
                rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
                break;
            }
            *ids = nv;
            cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q.stmt, 0);
    }
    return sq_q_end(&q, e) != MLC_OK ? MLC_EIO : rc;
}

static int job_release_tx(struct sq_store *s, const char *prefix, int64_t *released,
                          struct mlc_err *e)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = running_ids(s, prefix, &ids, &n, e);

    for (size_t i = 0; rc == MLC_OK && i < n; i++) {
        struct store_job j = {0};
        struct sq_settle to;

        if ((rc = sq_job_load(s, ids[i], &j, e)) != MLC_OK)
            break;
        to = (struct sq_settle){ .run_at = sq_now(s), .attempts = j.attempts,
                              .last_error = j.last_error };
        rc = sq_job_requeue(s, &j, &to, e);
        store_job_clear(&j);
    }
    if (rc == MLC_OK)
        *released = (int64_t)n;
    free(ids);
    return rc;
}

int sq_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_release_tx(s, NULL, n, e), e);
}

int sq_job_release_owner(struct store *st, const char *prefix, int64_t *n,
                         struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_release_tx(s, prefix, n, e), e);
}

static int job_replay_tx(struct sq_store *s, int64_t id, struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    int rc = sq_job_load(s, id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_HELD && j.state != STORE_JOB_FAILED) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s, only held "
                         "or failed jobs can be replayed", (long long)id,
                         store_job_state_name(j.state));
    } else {
        to = (struct sq_settle){ .run_at = sq_now(s), .attempts = 0,
                              .last_error = j.last_error };
        rc = sq_job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int sq_job_replay(struct store *st, int64_t id, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_replay_tx(s, id, e), e);
}

static int job_hold_idle_tx(struct sq_store *s, int64_t id, const char *reason,
                            struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    int rc = sq_job_load(s, id, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_READY &&
        (j.state != STORE_JOB_RUNNING || j.lease_until > sq_now(s))) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s%s, not idle", (long long)id,
                         store_job_state_name(j.state),
                         j.state == STORE_JOB_RUNNING ? " with a live lease" : "");
    } else {
        to = (struct sq_settle){ .state = STORE_JOB_HELD, .run_at = j.run_at,
                              .attempts = j.attempts, .last_error = reason };
        rc = sq_job_settle(s, id, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int sq_job_hold_idle(struct store *st, int64_t id, const char *reason,
                     struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_hold_idle_tx(s, id, reason, e), e);
}

/* ---- paused jobs --------------------------------------------------------- */

static int job_pause_tx(struct sq_store *s, int64_t id, const char *owner,
                        const char *system, const char *reason,
                        int64_t recheck_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_settle to;
    struct sq_q q;
    int rc = sq_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    /* The claim counted this attempt: a pause gives it back. */
    to = (struct sq_settle){ .run_at = sq_now(s) + recheck_ms,
                          .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = sq_job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    if (rc == MLC_OK)
        rc = sq_q_begin(&q, s, SQ_JOB_PAUSE_MARK, "job pause", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_text(&q, ":system", system);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_job_pause(struct store *st, int64_t id, const char *owner,
                 const char *system, const char *reason,
                 int64_t recheck_ms, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_pause_tx(s, id, owner, system, reason, recheck_ms, e);
    return sq_tx_leave(s, rc, e);
}

int sq_jobs_resume(struct store *st, const char *system, int64_t *n,
                   struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct sq_q q;
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = sq_q_begin(&q, s, SQ_JOBS_RESUME, "jobs resume", e);
    if (rc == MLC_OK) {
        sq_q_text(&q, ":system", system);
        sq_q_int(&q, ":now", sq_now(s));
        if (sq_q_step(&q) == SQLITE_DONE)
            *n = sq_q_changes(&q);
        rc = sq_q_end(&q, e);
    }
    return sq_tx_leave(s, rc, e);
}

int sq_jobs_paused_count(struct store *st, const char *system,
                         int64_t *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, sq_of(st), system != NULL ? SQ_JOBS_PAUSED
                                                   : SQ_JOBS_PAUSED_ALL,
                        "paused job count", e);

    if (rc != MLC_OK)
        return rc;
    if (system != NULL)
        sq_q_text(&q, ":system", system);
    *out = sq_q_step(&q) == SQLITE_ROW ? sqlite3_column_int64(q.stmt, 0) : 0;
    return sq_q_end(&q, e);
}
