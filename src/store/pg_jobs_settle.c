/*
 * pg_jobs_settle: every way a job leaves RUNNING (done, hold, retry,
 * defer, pause, lease release) and the operator's ways back (replay, hold
 * of an idle job, resume of paused jobs).
 */
#include <stdlib.h>

#include "store/pg_int.h"

/* DONE or HELD: the lease-checked ways to finish without a retry. */
static int job_finish_tx(struct pg_store *s, int64_t id, const char *owner,
                         enum store_job_state state, const char *last_error,
                         struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    int rc = pg_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct pg_settle){ .state = state, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = last_error };
    rc = pg_job_settle(s, id, &to, e);
    store_job_clear(&j);
    return rc;
}

int pg_job_done(struct store *st, int64_t id, const char *owner,
                struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_DONE, NULL, e);
    return pg_tx_leave(s, rc, e);
}

int pg_job_hold(struct store *st, int64_t id, const char *owner,
                const char *reason, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_finish_tx(s, id, owner, STORE_JOB_HELD, reason, e);
    return pg_tx_leave(s, rc, e);
}

static int64_t retry_delay(struct pg_store *s, int attempt)
{
    return store_backoff_ms(attempt, s->base.backoff_base_ms,
                            s->base.backoff_cap_ms, store_random_u32());
}

static int job_retry_tx(struct pg_store *s, int64_t id, const char *owner,
                        const char *error, int max_attempts, bool *failed,
                        struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    int rc = pg_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    *failed = j.attempts >= max_attempts;
    to = (struct pg_settle){ .state = STORE_JOB_FAILED, .run_at = j.run_at,
                          .attempts = j.attempts, .last_error = error };
    if (*failed) {
        rc = pg_job_settle(s, id, &to, e);
    } else {
        to.run_at = pg_now(s) + retry_delay(s, j.attempts);
        rc = pg_job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int pg_job_retry(struct store *st, int64_t id, const char *owner,
                 const char *error, int max_attempts, bool *failed,
                 struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_retry_tx(s, id, owner, error, max_attempts, failed, e);
    return pg_tx_leave(s, rc, e);
}

/* READY at run_at, the claim's attempt given back. */
static int job_defer_tx(struct pg_store *s, int64_t id, const char *owner, int64_t run_at,
                        const char *reason, struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    int rc = pg_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    to = (struct pg_settle){ .run_at = run_at, .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = pg_job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    return rc;
}

int pg_job_defer(struct store *st, int64_t id, const char *owner, int64_t run_at,
                 const char *reason, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_defer_tx(s, id, owner, run_at, reason, e), e);
}

/* The ids of every RUNNING job, or of those whose owner starts with
 * prefix (*ids: caller frees). */
static int running_ids(struct pg_store *s, const char *prefix, int64_t **ids, size_t *n,
                       struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    *ids = NULL;
    *n = 0;
    pg_q_init(&q, s, PG_JOB_RUNNING_IDS, "job release");
    pg_q_text(&q, prefix);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0 &&
        (*ids = malloc((size_t)q.rows * sizeof(**ids))) == NULL)
        rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    for (int i = 0; rc == MLC_OK && i < q.rows; i++)
        (*ids)[(*n)++] = pg_int(&q, i, 0);
    pg_q_end(&q);
    return rc;
}

static int job_release_tx(struct pg_store *s, const char *prefix, int64_t *released,
                          struct mlc_err *e)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = running_ids(s, prefix, &ids, &n, e);

    for (size_t i = 0; rc == MLC_OK && i < n; i++) {
        struct store_job j = {0};
        struct pg_settle to;

        if ((rc = pg_job_load(s, ids[i], true, &j, e)) != MLC_OK)
            break;
        to = (struct pg_settle){ .run_at = pg_now(s), .attempts = j.attempts,
                              .last_error = j.last_error };
        rc = pg_job_requeue(s, &j, &to, e);
        store_job_clear(&j);
    }
    if (rc == MLC_OK)
        *released = (int64_t)n;
    free(ids);
    return rc;
}

int pg_job_release_leases(struct store *st, int64_t *n, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_release_tx(s, NULL, n, e), e);
}

int pg_job_release_owner(struct store *st, const char *prefix, int64_t *n,
                         struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_release_tx(s, prefix, n, e), e);
}

static int job_replay_tx(struct pg_store *s, int64_t id, struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    int rc = pg_job_load(s, id, true, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_HELD && j.state != STORE_JOB_FAILED) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s, only held "
                         "or failed jobs can be replayed", (long long)id,
                         store_job_state_name(j.state));
    } else {
        to = (struct pg_settle){ .run_at = pg_now(s), .attempts = 0,
                              .last_error = j.last_error };
        rc = pg_job_requeue(s, &j, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int pg_job_replay(struct store *st, int64_t id, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_replay_tx(s, id, e), e);
}

static int job_hold_idle_tx(struct pg_store *s, int64_t id, const char *reason,
                            struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    int rc = pg_job_load(s, id, true, &j, e);

    if (rc != MLC_OK)
        return rc;
    if (j.state != STORE_JOB_READY &&
        (j.state != STORE_JOB_RUNNING || j.lease_until > pg_now(s))) {
        rc = mlc_err_set(e, MLC_ESTATE, "store: job %lld is %s%s, not idle", (long long)id,
                         store_job_state_name(j.state),
                         j.state == STORE_JOB_RUNNING ? " with a live lease" : "");
    } else {
        to = (struct pg_settle){ .state = STORE_JOB_HELD, .run_at = j.run_at,
                              .attempts = j.attempts, .last_error = reason };
        rc = pg_job_settle(s, id, &to, e);
    }
    store_job_clear(&j);
    return rc;
}

int pg_job_hold_idle(struct store *st, int64_t id, const char *reason,
                     struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_hold_idle_tx(s, id, reason, e), e);
}

/* ---- paused jobs --------------------------------------------------------- */

static int job_pause_tx(struct pg_store *s, int64_t id, const char *owner,
                        const char *system, const char *reason,
                        int64_t recheck_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_settle to;
    struct pg_q q;
    int rc = pg_job_load_owned(s, id, owner, &j, e);

    if (rc != MLC_OK)
        return rc;
    /* The claim counted this attempt: a pause gives it back. */
    to = (struct pg_settle){ .run_at = pg_now(s) + recheck_ms,
                          .attempts = j.attempts > 0 ? j.attempts - 1 : 0,
                          .last_error = reason };
    rc = pg_job_requeue(s, &j, &to, e);
    store_job_clear(&j);
    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, PG_JOB_PAUSE_MARK, "job pause");
    pg_q_int(&q, id);
    pg_q_text(&q, system);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_job_pause(struct store *st, int64_t id, const char *owner,
                 const char *system, const char *reason,
                 int64_t recheck_ms, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = job_pause_tx(s, id, owner, system, reason, recheck_ms, e);
    return pg_tx_leave(s, rc, e);
}

int pg_jobs_resume(struct store *st, const char *system, int64_t *n,
                   struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct pg_q q;
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, PG_JOBS_RESUME, "jobs resume");
    pg_q_text(&q, system);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *n = strtoll(PQcmdTuples(q.res), NULL, 10);
    pg_q_end(&q);
    return pg_tx_leave(s, rc, e);
}

int pg_jobs_paused_count(struct store *st, const char *system,
                         int64_t *out, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), system != NULL ? PG_JOBS_PAUSED : PG_JOBS_PAUSED_ALL,
              "paused job count");
    if (system != NULL)
        pg_q_text(&q, system);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *out = q.rows > 0 ? pg_int(&q, 0, 0) : 0;
    pg_q_end(&q);
    return rc;
}
