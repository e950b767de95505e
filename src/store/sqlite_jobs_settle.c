/*
 * sqlite_jobs_settle: what the settle rules (store_settle) need from
 * SQLite to move a job out of RUNNING and back, and the paused jobs'
 * resume and count.
 */
#include <stdlib.h>

#include "store/sqlite_int.h"

static int settle_load(struct store *st, int64_t id, struct store_job *j,
                       struct mlc_err *e)
{
    return sq_job_load(sq_of(st), id, j, e);
}

static int running_ids(struct store *st, const char *prefix, int64_t **ids,
                       size_t *n, struct mlc_err *e)
{
    struct sq_q q;
    size_t cap = 0;
    int rc = sq_q_begin(&q, sq_of(st), SQ_JOB_RUNNING_IDS, "job release", e);

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

static int pause_mark(struct store *st, int64_t id, const char *system,
                      struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, sq_of(st), SQ_JOB_PAUSE_MARK, "job pause", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_text(&q, ":system", system);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

const struct store_settle_ops sq_settle_ops = {
    .load        = settle_load,
    .settle      = sq_job_settle,
    .requeue     = sq_job_requeue,
    .running_ids = running_ids,
    .pause_mark  = pause_mark,
};

/* ---- paused jobs --------------------------------------------------------- */

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

/* The gauges come back one tagged row each (SQ_GAUGES). */
int sq_gauges_read(struct store *st, struct store_gauges *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, sq_of(st), SQ_GAUGES, "gauges", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":wm", STORE_WM_RECONCILE_DIFFERENCES);
    while (sq_q_step(&q) == SQLITE_ROW) {
        int64_t tag = sqlite3_column_int64(q.stmt, 0);
        int64_t n = sqlite3_column_int64(q.stmt, 1);
        int64_t v = sqlite3_column_int64(q.stmt, 2);

        if (tag >= 0 && tag < STORE_GAUGE_JOBS) {
            out->jobs[tag] = n;
            out->oldest_ms[tag] = v;
        } else if (tag == STORE_GAUGE_JOBS) {
            out->last_posted_ms = v;
        } else if (tag == STORE_GAUGE_JOBS + 1) {
            out->reconcile_differences = v;
        }
    }
    return sq_q_end(&q, e);
}

/* ---- hold details and dismissals ------------------------------------------ */

int sq_job_hold_mark(struct store *st, int64_t id, const struct store_hold *h,
                     struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, sq_of(st), SQ_JOB_HOLD_MARK, "job hold", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_text(&q, ":code", h->code);
    sq_q_int(&q, ":amount", h->currency != NULL ? h->amount : 0);
    sq_q_text(&q, ":currency", h->currency);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_job_dismiss_mark(struct store *st, int64_t id, const char *by,
                        const char *note, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_JOB_DISMISS_MARK, "job dismiss", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_text(&q, ":by", by);
    sq_q_text(&q, ":note", note);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_dismissal_get(struct store *st, const char *key, struct store_dismissal *out,
                     struct mlc_err *e)
{
    struct sq_q q;
    bool oom = false, found = false;
    int rc = sq_q_begin(&q, sq_of(st), SQ_JOB_DISMISSAL, "dismissal", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    if (sq_q_step(&q) == SQLITE_ROW) {
        found = true;
        out->job_id = sqlite3_column_int64(q.stmt, DISMISSAL_COL_ID);
        out->at = sqlite3_column_int64(q.stmt, DISMISSAL_COL_AT);
        out->by = sq_col_dup(q.stmt, DISMISSAL_COL_BY, &oom);
        out->note = sq_col_dup(q.stmt, DISMISSAL_COL_NOTE, &oom);
        out->hold_code = sq_col_dup(q.stmt, DISMISSAL_COL_HOLD_CODE, &oom);
    }
    rc = sq_q_end(&q, e);
    if (rc == MLC_OK && oom)
        rc = mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    if (rc == MLC_OK && !found)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: %s is not dismissed", key);
    if (rc != MLC_OK)
        store_dismissal_clear(out);
    return rc;
}
