/*
 * pg_jobs_settle: what the settle rules (store_settle) need from
 * PostgreSQL to move a job out of RUNNING and back, and the paused jobs'
 * resume and count. A settle reads its job FOR UPDATE (pg_int.h).
 */
#include <stdlib.h>

#include "store/pg_int.h"

static int settle_load(struct store *st, int64_t id, struct store_job *j,
                       struct mlc_err *e)
{
    return pg_job_load(pg_of(st), id, true, j, e);
}

static int running_ids(struct store *st, const char *prefix, int64_t **ids,
                       size_t *n, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    *ids = NULL;
    *n = 0;
    pg_q_init(&q, pg_of(st), PG_JOB_RUNNING_IDS, "job release");
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

static int pause_mark(struct store *st, int64_t id, const char *system,
                      struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_JOB_PAUSE_MARK, "job pause");
    pg_q_int(&q, id);
    pg_q_text(&q, system);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

const struct store_settle_ops pg_settle_ops = {
    .load        = settle_load,
    .settle      = pg_job_settle,
    .requeue     = pg_job_requeue,
    .running_ids = running_ids,
    .pause_mark  = pause_mark,
};

/* ---- paused jobs --------------------------------------------------------- */

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

/* The gauges come back one tagged row each (PG_GAUGES). */
int pg_gauges_read(struct store *st, struct store_gauges *out, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_GAUGES, "gauges");
    pg_q_text(&q, STORE_WM_RECONCILE_DIFFERENCES);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && i < q.rows; i++) {
        int64_t tag = pg_int(&q, i, 0), n = pg_int(&q, i, 1), v = pg_int(&q, i, 2);

        if (tag >= 0 && tag < STORE_GAUGE_JOBS) {
            out->jobs[tag] = n;
            out->oldest_ms[tag] = v;
        } else if (tag == STORE_GAUGE_JOBS) {
            out->last_posted_ms = v;
        } else if (tag == STORE_GAUGE_JOBS + 1) {
            out->reconcile_differences = v;
        }
    }
    pg_q_end(&q);
    return rc;
}

/* ---- hold details and dismissals ------------------------------------------ */

int pg_job_hold_mark(struct store *st, int64_t id, const struct store_hold *h,
                     struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_JOB_HOLD_MARK, "job hold");
    pg_q_int(&q, id);
    pg_q_text(&q, h->code);
    pg_q_int(&q, h->currency != NULL ? h->amount : 0);
    pg_q_text(&q, h->currency);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_job_dismiss_mark(struct store *st, int64_t id, const char *by,
                        const char *note, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_JOB_DISMISS_MARK, "job dismiss");
    pg_q_int(&q, id);
    pg_q_int(&q, pg_now(s));
    pg_q_text(&q, by);
    pg_q_text(&q, note);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_dismissal_get(struct store *st, const char *key, struct store_dismissal *out,
                     struct mlc_err *e)
{
    struct pg_q q;
    bool oom = false;
    int rc;

    pg_q_init(&q, pg_of(st), PG_JOB_DISMISSAL, "dismissal");
    pg_q_text(&q, key);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows == 0)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: %s is not dismissed", key);
    if (rc == MLC_OK) {
        out->job_id = pg_int(&q, 0, DISMISSAL_COL_ID);
        out->at = pg_int(&q, 0, DISMISSAL_COL_AT);
        out->by = pg_dup(&q, 0, DISMISSAL_COL_BY, &oom);
        out->note = pg_dup(&q, 0, DISMISSAL_COL_NOTE, &oom);
        out->hold_code = pg_dup(&q, 0, DISMISSAL_COL_HOLD_CODE, &oom);
        if (oom)
            rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    pg_q_end(&q);
    if (rc != MLC_OK)
        store_dismissal_clear(out);
    return rc;
}
