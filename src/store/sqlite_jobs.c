/*
 * sqlite_jobs: job rows, enqueue (with coalescing), claims and reads.
 *
 * "At most one READY job per (kind, key)" is enforced by a partial unique
 * index; the claim is one UPDATE ... WHERE id = (SELECT ...) RETURNING
 * inside the write lock. How a job leaves RUNNING is in
 * store_settle (sqlite_jobs_settle: its primitives).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

/* Reads a row of STORE_JOB_COLUMNS into j (zeroed by the caller). */
static int read_job(sqlite3_stmt *stmt, struct store_job *j,
                    struct mlc_err *e)
{
    bool oom = false;

    j->id = sqlite3_column_int64(stmt, JOB_COL_ID);
    j->kind = sq_col_dup(stmt, JOB_COL_KIND, &oom);
    j->key = sq_col_dup(stmt, JOB_COL_KEY, &oom);
    j->payload = sq_col_dup(stmt, JOB_COL_PAYLOAD, &oom);
    j->attempts = sqlite3_column_int(stmt, JOB_COL_ATTEMPTS);
    j->run_at = sqlite3_column_int64(stmt, JOB_COL_RUN_AT);
    j->owner = sq_col_dup(stmt, JOB_COL_OWNER, &oom);
    j->lease_until = sqlite3_column_int64(stmt, JOB_COL_LEASE_UNTIL);
    j->last_error = sq_col_dup(stmt, JOB_COL_LAST_ERROR, &oom);
    j->created_at = sqlite3_column_int64(stmt, JOB_COL_CREATED_AT);
    j->updated_at = sqlite3_column_int64(stmt, JOB_COL_UPDATED_AT);
    j->paused_on = sq_col_dup(stmt, JOB_COL_PAUSED_ON, &oom);
    j->hold_code = sq_col_dup(stmt, JOB_COL_HOLD_CODE, &oom);
    j->hold_amount = sqlite3_column_int64(stmt, JOB_COL_HOLD_AMOUNT);
    j->hold_currency = sq_col_dup(stmt, JOB_COL_HOLD_CURRENCY, &oom);
    j->dismissed_at = sqlite3_column_int64(stmt, JOB_COL_DISMISSED_AT);
    j->dismissed_by = sq_col_dup(stmt, JOB_COL_DISMISSED_BY, &oom);
    j->dismiss_note = sq_col_dup(stmt, JOB_COL_DISMISS_NOTE, &oom);
    if (oom) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_job_state_parse(sq_col_text(stmt, JOB_COL_STATE),
                              &j->state) != MLC_OK) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_EIO, "store: job has an unknown state");
    }
    return MLC_OK;
}

int sq_job_load(struct sq_store *s, int64_t id, struct store_job *j,
                struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = sq_q_begin(&q, s, SQ_JOB_GET, "job get", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    if (sq_q_step(&q) == SQLITE_ROW)
        rc = read_job(q.stmt, j, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: job %lld not found",
                         (long long)id);
    end = sq_q_end(&q, e);
    if (end != MLC_OK) {
        store_job_clear(j);
        return end;
    }
    return rc;
}

/* Loads job id into j and checks that owner holds its lease. */
int sq_job_load_owned(struct sq_store *s, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e)
{
    int rc = sq_job_load(s, id, j, e);

    return rc != MLC_OK ? rc : store_settle_owned(j, id, owner, e);
}

/* The READY job of (kind, key): MLC_ENOTFOUND without touching e. */
static int job_find_ready(struct sq_store *s, const char *kind,
                          const char *key, int64_t *id, int64_t *run_at,
                          struct mlc_err *e)
{
    struct sq_q q;
    int found = 0;
    int rc = sq_q_begin(&q, s, SQ_JOB_FIND_READY, "job find", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":kind", kind);
    sq_q_text(&q, ":key", key);
    if (sq_q_step(&q) == SQLITE_ROW) {
        *id = sqlite3_column_int64(q.stmt, TWIN_COL_ID);
        *run_at = sqlite3_column_int64(q.stmt, TWIN_COL_RUN_AT);
        found = 1;
    }
    rc = sq_q_end(&q, e);
    return rc != MLC_OK ? rc : found ? MLC_OK : MLC_ENOTFOUND;
}

static int job_insert(struct sq_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_JOB_INSERT, "job enqueue", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":kind", kind);
    sq_q_text(&q, ":key", key);
    sq_q_text(&q, ":payload", payload);
    sq_q_int(&q, ":run_at", run_at);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    *id = sqlite3_last_insert_rowid(s->db);
    return sq_q_end(&q, e);
}

static int job_pull_run_at(struct sq_store *s, int64_t id, int64_t run_at,
                           struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_JOB_PULL_RUN_AT, "job coalesce", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_int(&q, ":run_at", run_at);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

static int job_delete(struct sq_store *s, int64_t id, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_JOB_DELETE, "job merge", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}


int sq_job_settle(struct store *st, int64_t id, const struct store_settle *to,
                  struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct sq_q q;
    int rc = sq_q_begin(&q, s, SQ_JOB_SETTLE, "job update", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_text(&q, ":state", store_job_state_name(to->state));
    sq_q_int(&q, ":run_at", to->run_at);
    sq_q_int(&q, ":attempts", to->attempts);
    sq_q_text(&q, ":last_error", to->last_error);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

/*
 * Makes j READY again. A READY job of the same kind and key enqueued in the
 * meantime is folded into j (same rule as enqueue coalescing: the earlier
 * run_at wins); j survives because it carries the attempts and the error.
 */
int sq_job_requeue(struct store *st, const struct store_job *j,
                   struct store_settle *to, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int64_t twin, twin_run_at;
    int rc = job_find_ready(s, j->kind, j->key, &twin, &twin_run_at, e);

    if (rc == MLC_OK) {
        if (twin_run_at < to->run_at)
            to->run_at = twin_run_at;
        rc = job_delete(s, twin, e);
    } else if (rc == MLC_ENOTFOUND) {
        rc = MLC_OK;
    }
    to->state = STORE_JOB_READY;
    return rc != MLC_OK ? rc : sq_job_settle(st, j->id, to, e);
}

/* ---- jobs: operations -------------------------------------------------- */

int sq_job_enqueue_tx(struct sq_store *s, const char *kind,
                      const char *key, const char *payload,
                      int64_t run_at, int64_t *id, bool *coalesced,
                      struct mlc_err *e)
{
    int64_t old_run_at;
    int rc = job_find_ready(s, kind, key, id, &old_run_at, e);

    *coalesced = rc == MLC_OK;
    if (rc == MLC_OK)
        return run_at < old_run_at ? job_pull_run_at(s, *id, run_at, e)
                                   : MLC_OK;
    if (rc != MLC_ENOTFOUND)
        return rc;
    return job_insert(s, kind, key, payload, run_at, id, e);
}

int sq_job_enqueue(struct store *st, const char *kind,
                   const char *key, const char *payload,
                   int64_t run_at, int64_t *id, bool *coalesced,
                   struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = sq_job_enqueue_tx(s, kind, key, payload, run_at, id, coalesced, e);
    return sq_tx_leave(s, rc, e);
}

/* kinds as a JSON array for json_each(); caller frees. NULL on OOM. */
static char *kinds_json(const char *const *kinds)
{
    size_t cap = 3, n = 0;
    char *out;

    for (size_t i = 0; kinds[i] != NULL; i++)
        cap += strlen(kinds[i]) * 6 + 3; /* worst case: all \u00XX */
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[n++] = '[';
    for (size_t i = 0; kinds[i] != NULL; i++) {
        if (i > 0)
            out[n++] = ',';
        out[n++] = '"';
        for (const unsigned char *c = (const unsigned char *)kinds[i]; *c;
             c++) {
            if (*c == '"' || *c == '\\')
                out[n++] = '\\';
            if (*c < 0x20)
                n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *c);
            else
                out[n++] = (char)*c;
        }
        out[n++] = '"';
    }
    out[n++] = ']';
    out[n] = '\0';
    return out;
}

static int job_claim_tx(struct sq_store *s, const char *owner,
                        const char *kinds, int64_t lease_ms,
                        struct store_job *out, struct mlc_err *e)
{
    struct sq_q q;
    int64_t now = sq_now(s);
    int end, rc = sq_q_begin(&q, s, SQ_JOB_CLAIM, "job claim", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":owner", owner);
    sq_q_int(&q, ":lease_until", now + lease_ms);
    sq_q_int(&q, ":now", now);
    sq_q_text(&q, ":kinds", kinds);
    if (sq_q_step(&q) == SQLITE_ROW)
        rc = read_job(q.stmt, out, e);
    else if (q.rc == SQLITE_OK)
        rc = MLC_ENOTFOUND;
    end = sq_q_end(&q, e);
    if (end != MLC_OK) {
        store_job_clear(out);
        return end;
    }
    if (rc == MLC_ENOTFOUND)
        mlc_err_set(e, rc, "store: no job to claim");
    return rc;
}

int sq_job_claim(struct store *st, const char *owner,
                 const char *const *kinds, int64_t lease_ms,
                 struct store_job *out, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    char *json = NULL;
    int rc;

    if (kinds != NULL && (json = kinds_json(kinds)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    rc = sq_tx_enter(s, e);
    if (rc == MLC_OK)
        rc = sq_tx_leave(s, job_claim_tx(s, owner, json, lease_ms, out, e), e);
    if (rc != MLC_OK)
        store_job_clear(out);
    free(json);
    return rc;
}

/* Claims one job after another inside one write transaction: each claim
 * sees the leases taken before it, so one kind and key is claimed once. */
int sq_job_claim_batch(struct store *st, const char *owner,
                       const char *const *kinds, int64_t lease_ms,
                       size_t max, struct store_job *out, size_t *n,
                       struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    char *json = NULL;
    int rc;

    *n = 0;
    if (kinds != NULL && (json = kinds_json(kinds)) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    rc = sq_tx_enter(s, e);
    if (rc == MLC_OK) {
        int crc = MLC_OK;

        while (*n < max &&
               (crc = job_claim_tx(s, owner, json, lease_ms, &out[*n], e)) == MLC_OK)
            (*n)++;
        if (crc == MLC_ENOTFOUND && *n > 0)
            crc = MLC_OK;
        rc = sq_tx_leave(s, crc, e);
    }
    if (rc != MLC_OK) {
        for (size_t i = 0; i < *n; i++)
            store_job_clear(&out[i]);
        *n = 0;
    }
    free(json);
    return rc;
}

static int job_extend_tx(struct sq_store *s, int64_t id, const char *owner,
                         int64_t lease_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct sq_q q;
    int64_t now = sq_now(s);
    int rc = sq_job_load_owned(s, id, owner, &j, e);

    store_job_clear(&j);
    if (rc == MLC_OK)
        rc = sq_q_begin(&q, s, SQ_JOB_EXTEND, "job extend", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_int(&q, ":id", id);
    sq_q_int(&q, ":lease_until", now + lease_ms);
    sq_q_int(&q, ":now", now);
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_job_extend(struct store *st, int64_t id, const char *owner,
                  int64_t lease_ms, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, job_extend_tx(s, id, owner, lease_ms, e), e);
}


int sq_job_get(struct store *st, int64_t id, struct store_job *out,
               struct mlc_err *e)
{
    return sq_job_load(sq_of(st), id, out, e);
}

int sq_job_list(struct store *st, int state, size_t limit,
                int (*fn)(const struct store_job *j, void *ctx),
                void *ctx, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    struct store_job j;
    struct sq_q q;
    bool stop = false;
    int end, rc = sq_q_begin(&q, s, state < 0 ? SQ_JOB_LIST : SQ_JOB_LIST_STATE,
                             "job list", e);

    if (rc != MLC_OK)
        return rc;
    if (state >= 0)
        sq_q_text(&q, ":state", store_job_state_name(state));
    sq_q_int(&q, ":limit", sq_limit(limit));
    while (rc == MLC_OK && !stop && sq_q_step(&q) == SQLITE_ROW) {
        memset(&j, 0, sizeof(j));
        rc = read_job(q.stmt, &j, e);
        if (rc == MLC_OK)
            stop = fn(&j, ctx) != 0;
        store_job_clear(&j);
    }
    end = sq_q_end(&q, e);
    return rc != MLC_OK ? rc : end;
}

int sq_job_count(struct store *st, enum store_job_state state,
                 int64_t *out, struct mlc_err *e)
{
    struct sq_q q;
    int rc = sq_q_begin(&q, sq_of(st), SQ_JOB_COUNT, "job count", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":state", store_job_state_name(state));
    *out = sq_q_step(&q) == SQLITE_ROW ? sqlite3_column_int64(q.stmt, 0) : 0;
    return sq_q_end(&q, e);
}
