/*
 * pg_jobs: job rows, enqueue (with coalescing), claims and reads.
 *
 * "At most one READY job per (kind, key)" is a partial unique index that
 * never fires: every way to a READY row holds the key's advisory lock
 * first. A claim is three statements (candidates FOR UPDATE SKIP LOCKED,
 * key try-locks, the checked UPDATE) whose order is the proof that two
 * connections never hold live leases on one key (pg_int.h). How a job
 * leaves RUNNING is in store_settle (pg_jobs_settle: its primitives).
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* Claim rounds: a round whose candidates were all taken by someone else
 * in the meantime looks again, excluding them, at most this often. */
#define CLAIM_ROUNDS 3

int pg_read_job(const struct pg_q *q, int row, struct store_job *j,
                struct mlc_err *e)
{
    bool oom = false;
    int64_t attempts = pg_int(q, row, JOB_COL_ATTEMPTS);

    j->id = pg_int(q, row, JOB_COL_ID);
    j->kind = pg_dup(q, row, JOB_COL_KIND, &oom);
    j->key = pg_dup(q, row, JOB_COL_KEY, &oom);
    j->payload = pg_dup(q, row, JOB_COL_PAYLOAD, &oom);
    j->attempts = attempts > INT32_MAX ? INT32_MAX : (int)attempts;
    j->run_at = pg_int(q, row, JOB_COL_RUN_AT);
    j->owner = pg_dup(q, row, JOB_COL_OWNER, &oom);
    j->lease_until = pg_int(q, row, JOB_COL_LEASE_UNTIL);
    j->last_error = pg_dup(q, row, JOB_COL_LAST_ERROR, &oom);
    j->created_at = pg_int(q, row, JOB_COL_CREATED_AT);
    j->updated_at = pg_int(q, row, JOB_COL_UPDATED_AT);
    j->paused_on = pg_dup(q, row, JOB_COL_PAUSED_ON, &oom);
    j->hold_code = pg_dup(q, row, JOB_COL_HOLD_CODE, &oom);
    j->hold_amount = pg_int(q, row, JOB_COL_HOLD_AMOUNT);
    j->hold_currency = pg_dup(q, row, JOB_COL_HOLD_CURRENCY, &oom);
    j->dismissed_at = pg_int(q, row, JOB_COL_DISMISSED_AT);
    j->dismissed_by = pg_dup(q, row, JOB_COL_DISMISSED_BY, &oom);
    j->dismiss_note = pg_dup(q, row, JOB_COL_DISMISS_NOTE, &oom);
    if (oom) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_job_state_parse(pg_text(q, row, JOB_COL_STATE), &j->state) != MLC_OK) {
        store_job_clear(j);
        return mlc_err_set(e, MLC_EIO, "store: job has an unknown state");
    }
    return MLC_OK;
}

int pg_job_load(struct pg_store *s, int64_t id, bool locked,
                struct store_job *j, struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, locked ? PG_JOB_GET_LOCKED : PG_JOB_GET, "job get");
    pg_q_int(&q, id);
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK && q.rows > 0)
        rc = pg_read_job(&q, 0, j, e);
    else if (rc == MLC_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: job %lld not found",
                         (long long)id);
    pg_q_end(&q);
    return rc;
}

int pg_job_load_owned(struct pg_store *s, int64_t id, const char *owner,
                      struct store_job *j, struct mlc_err *e)
{
    int rc = pg_job_load(s, id, true, j, e);

    return rc != MLC_OK ? rc : store_settle_owned(j, id, owner, e);
}

int pg_key_lock(struct pg_store *s, const char *kind, const char *key,
                struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_KEY_LOCK, "job key lock");
    pg_q_int(&q, pg_key_lock_id(kind, key));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_job_settle(struct store *st, int64_t id, const struct store_settle *to,
                  struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_JOB_SETTLE, "job update");
    pg_q_int(&q, id);
    pg_q_text(&q, store_job_state_name(to->state));
    pg_q_int(&q, to->run_at);
    pg_q_int(&q, to->attempts);
    pg_q_text(&q, to->last_error);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

/*
 * Makes j READY again. A READY job of the same kind and key enqueued in the
 * meantime is folded into j (the earlier run_at wins); j survives because
 * it carries the attempts and the error. The key lock keeps a concurrent
 * enqueue from making a new twin between the fold and the update.
 */
int pg_job_requeue(struct store *st, const struct store_job *j,
                   struct store_settle *to, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct pg_q q;
    int rc = pg_key_lock(s, j->kind, j->key, e);

    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, PG_JOB_ABSORB_TWIN, "job merge");
    pg_q_text(&q, j->kind);
    pg_q_text(&q, j->key);
    pg_q_int(&q, j->id);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && i < q.rows; i++)
        if (pg_int(&q, i, 0) < to->run_at)
            to->run_at = pg_int(&q, i, 0);
    pg_q_end(&q);
    to->state = STORE_JOB_READY;
    return rc != MLC_OK ? rc : pg_job_settle(st, j->id, to, e);
}

/* ---- enqueue ----------------------------------------------------------- */

static int job_coalesce(struct pg_store *s, const char *kind, const char *key,
                        int64_t run_at, int64_t *id, bool *found,
                        struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_JOB_COALESCE, "job coalesce");
    pg_q_text(&q, kind);
    pg_q_text(&q, key);
    pg_q_int(&q, run_at);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    *found = rc == MLC_OK && q.rows > 0;
    if (*found)
        *id = pg_int(&q, 0, 0);
    pg_q_end(&q);
    return rc;
}

static int job_insert(struct pg_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, s, PG_JOB_INSERT, "job enqueue");
    pg_q_text(&q, kind);
    pg_q_text(&q, key);
    pg_q_text(&q, payload);
    pg_q_int(&q, run_at);
    pg_q_int(&q, pg_now(s));
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *id = q.rows > 0 ? pg_int(&q, 0, 0) : 0;
    pg_q_end(&q);
    return rc;
}

int pg_job_enqueue_tx(struct pg_store *s, const char *kind, const char *key,
                      const char *payload, int64_t run_at, int64_t *id,
                      bool *coalesced, struct mlc_err *e)
{
    int rc = pg_key_lock(s, kind, key, e);

    if (rc == MLC_OK)
        rc = job_coalesce(s, kind, key, run_at, id, coalesced, e);
    if (rc == MLC_OK && !*coalesced)
        rc = job_insert(s, kind, key, payload, run_at, id, e);
    return rc;
}

int pg_job_enqueue(struct store *st, const char *kind, const char *key,
                   const char *payload, int64_t run_at, int64_t *id,
                   bool *coalesced, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = pg_job_enqueue_tx(s, kind, key, payload, run_at, id, coalesced, e);
    return pg_tx_leave(s, rc, e);
}

/* ---- claims ------------------------------------------------------------ */

/* What one claim call carries from round to round. */
struct claim {
    const char       *owner;
    const char *const *kinds;
    int64_t           now, lease_until;
    int64_t          *tried;   /* candidate ids seen so far */
    size_t            n_tried, cap_tried;
};

/* One round's candidates, the first of each key kept. */
struct cand {
    int64_t id, lock;
};

static int claim_candidates(struct pg_store *s, struct claim *c, size_t want,
                            struct cand *v, size_t *n, size_t *rows,
                            struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    *n = 0;
    *rows = 0;
    pg_q_init(&q, s, PG_JOB_CANDIDATES, "job claim");
    pg_q_int(&q, c->now);
    if (c->kinds != NULL)
        pg_q_text_owned(&q, pg_text_array(c->kinds));
    else
        pg_q_text(&q, NULL);
    pg_q_text_owned(&q, pg_int_array(c->tried, c->n_tried));
    pg_q_int(&q, (int64_t)want);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && i < q.rows && (size_t)i < want; i++) {
        int64_t lock = pg_key_lock_id(pg_text(&q, i, 1), pg_text(&q, i, 2));
        bool dup = false;

        c->tried[c->n_tried++] = pg_int(&q, i, 0);
        (*rows)++;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = v[k].lock == lock;
        if (!dup)
            v[(*n)++] = (struct cand){ .id = pg_int(&q, i, 0), .lock = lock };
    }
    pg_q_end(&q);
    return rc;
}

/* Keeps the candidates whose key lock this transaction got. */
static int claim_lock_keys(struct pg_store *s, struct cand *v, size_t *n,
                           struct mlc_err *e)
{
    int64_t *locks = malloc((*n > 0 ? *n : 1) * sizeof(*locks));
    struct pg_q q;
    size_t kept = 0;
    int rc;

    if (locks == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    for (size_t i = 0; i < *n; i++)
        locks[i] = v[i].lock;
    pg_q_init(&q, s, PG_KEYS_TRY_LOCK, "job claim");
    pg_q_text_owned(&q, pg_int_array(locks, *n));
    free(locks);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && i < q.rows && (size_t)i < *n; i++)
        if (pg_int(&q, i, 0) == 1)
            v[kept++] = v[i];
    pg_q_end(&q);
    *n = kept;
    return rc;
}

static int claim_update(struct pg_store *s, struct claim *c,
                        const struct cand *v, size_t n, struct store_job *out,
                        size_t *got, struct mlc_err *e)
{
    int64_t *ids = malloc((n > 0 ? n : 1) * sizeof(*ids));
    struct pg_q q;
    int rc;

    if (ids == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = v[i].id;
    pg_q_init(&q, s, PG_JOB_CLAIM, "job claim");
    pg_q_int(&q, c->now);
    pg_q_text(&q, c->owner);
    pg_q_int(&q, c->lease_until);
    pg_q_text_owned(&q, pg_int_array(ids, n));
    free(ids);
    rc = pg_q_exec(&q, e);
    for (int i = 0; rc == MLC_OK && i < q.rows && (size_t)i < n; i++) {
        rc = pg_read_job(&q, i, &out[*got], e);
        if (rc == MLC_OK)
            (*got)++;
    }
    pg_q_end(&q);
    return rc;
}

/* One round: up to max - *got jobs into out. *again: some candidates
 * were not claimed (a twin of another, or taken by someone else
 * meantime), so another round may find others. */
static int claim_round(struct pg_store *s, struct claim *c, size_t max,
                       struct store_job *out, size_t *got, bool *again,
                       struct mlc_err *e)
{
    size_t want = max - *got, n = 0, rows = 0, before = *got;
    struct cand *v;
    int rc;

    *again = false;
    if (c->n_tried + want > c->cap_tried) {
        size_t cap = c->n_tried + want;
        int64_t *t = realloc(c->tried, cap * sizeof(*t));

        if (t == NULL)
            return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
        c->tried = t;
        c->cap_tried = cap;
    }
    if ((v = malloc(want * sizeof(*v))) == NULL)
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    rc = claim_candidates(s, c, want, v, &n, &rows, e);
    if (rc == MLC_OK && n > 0)
        rc = claim_lock_keys(s, v, &n, e);
    if (rc == MLC_OK && n > 0)
        rc = claim_update(s, c, v, n, out, got, e);
    *again = rc == MLC_OK && *got - before < rows;
    free(v);
    return rc;
}

static int claim_tx(struct pg_store *s, struct claim *c, size_t max,
                    struct store_job *out, size_t *got, struct mlc_err *e)
{
    bool again = true;
    int rc = MLC_OK;

    for (int r = 0; rc == MLC_OK && again && *got < max && r < CLAIM_ROUNDS; r++)
        rc = claim_round(s, c, max, out, got, &again, e);
    return rc;
}

int pg_job_claim_batch(struct store *st, const char *owner,
                       const char *const *kinds, int64_t lease_ms,
                       size_t max, struct store_job *out, size_t *n,
                       struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    struct claim c = { .owner = owner, .kinds = kinds, .now = pg_now(s) };
    int rc;

    *n = 0;
    c.lease_until = lease_ms > INT64_MAX - c.now ? INT64_MAX : c.now + lease_ms;
    rc = pg_tx_enter(s, e);
    if (rc == MLC_OK)
        rc = pg_tx_leave(s, claim_tx(s, &c, max, out, n, e), e);
    free(c.tried);
    if (rc != MLC_OK) {
        for (size_t i = 0; i < *n; i++)
            store_job_clear(&out[i]);
        *n = 0;
        return rc;
    }
    if (*n == 0)
        return mlc_err_set(e, MLC_ENOTFOUND, "store: no job to claim");
    return MLC_OK;
}

int pg_job_claim(struct store *st, const char *owner,
                 const char *const *kinds, int64_t lease_ms,
                 struct store_job *out, struct mlc_err *e)
{
    size_t n = 0;

    return pg_job_claim_batch(st, owner, kinds, lease_ms, 1, out, &n, e);
}

/* ---- lease renewal and reads ------------------------------------------- */

static int job_extend_tx(struct pg_store *s, int64_t id, const char *owner,
                         int64_t lease_ms, struct mlc_err *e)
{
    struct store_job j = {0};
    struct pg_q q;
    int64_t now = pg_now(s);
    int rc = pg_job_load_owned(s, id, owner, &j, e);

    store_job_clear(&j);
    if (rc != MLC_OK)
        return rc;
    pg_q_init(&q, s, PG_JOB_EXTEND, "job extend");
    pg_q_int(&q, id);
    pg_q_int(&q, lease_ms > INT64_MAX - now ? INT64_MAX : now + lease_ms);
    pg_q_int(&q, now);
    rc = pg_q_exec(&q, e);
    pg_q_end(&q);
    return rc;
}

int pg_job_extend(struct store *st, int64_t id, const char *owner,
                  int64_t lease_ms, struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    int rc = pg_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return pg_tx_leave(s, job_extend_tx(s, id, owner, lease_ms, e), e);
}

int pg_job_get(struct store *st, int64_t id, struct store_job *out,
               struct mlc_err *e)
{
    return pg_job_load(pg_of(st), id, false, out, e);
}

int pg_job_list(struct store *st, int state, size_t limit,
                int (*fn)(const struct store_job *j, void *ctx), void *ctx,
                struct mlc_err *e)
{
    struct pg_store *s = pg_of(st);
    enum pg_id id = state < 0 ? PG_JOB_LIST : PG_JOB_LIST_STATE;
    struct store_job j;
    struct pg_q q;
    bool stop = false;
    int rc;

    pg_q_init(&q, s, id, "job list");
    if (state >= 0)
        pg_q_text(&q, store_job_state_name((enum store_job_state)state));
    if (limit == 0 || limit > INT64_MAX)
        pg_q_text(&q, NULL);
    else
        pg_q_int(&q, (int64_t)limit);
    rc = pg_q_exec(&q, e);
    s->walking[id] = true;
    for (int i = 0; rc == MLC_OK && !stop && i < q.rows; i++) {
        memset(&j, 0, sizeof(j));
        rc = pg_read_job(&q, i, &j, e);
        if (rc == MLC_OK)
            stop = fn(&j, ctx) != 0;
        store_job_clear(&j);
    }
    s->walking[id] = false;
    pg_q_end(&q);
    return rc;
}

int pg_job_count(struct store *st, enum store_job_state state, int64_t *out,
                 struct mlc_err *e)
{
    struct pg_q q;
    int rc;

    pg_q_init(&q, pg_of(st), PG_JOB_COUNT, "job count");
    pg_q_text(&q, store_job_state_name(state));
    rc = pg_q_exec(&q, e);
    if (rc == MLC_OK)
        *out = q.rows > 0 ? pg_int(&q, 0, 0) : 0;
    pg_q_end(&q);
    return rc;
}
