/*
 * sqlite_ledger: one row per document sent to JDE (pending, unknown,
 * posted). A posted row is never changed or forgotten, and under a fence
 * (store_fence) every write checks the lease of its entity's job.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

static int read_ledger(sqlite3_stmt *stmt, struct store_ledger *l,
                       struct mlc_err *e)
{
    bool oom = false;

    l->key = sq_col_dup(stmt, LEDGER_COL_KEY, &oom);
    l->kind = sq_col_dup(stmt, LEDGER_COL_KIND, &oom);
    l->entity = sq_col_dup(stmt, LEDGER_COL_ENTITY, &oom);
    l->doc_type = sq_col_dup(stmt, LEDGER_COL_DOC_TYPE, &oom);
    l->doc_company = sq_col_dup(stmt, LEDGER_COL_DOC_COMPANY, &oom);
    l->doc_number = sqlite3_column_int64(stmt, LEDGER_COL_DOC_NUMBER);
    l->batch = sqlite3_column_int64(stmt, LEDGER_COL_BATCH);
    l->request = sq_col_dup(stmt, LEDGER_COL_REQUEST, &oom);
    l->created_at = sqlite3_column_int64(stmt, LEDGER_COL_CREATED_AT);
    l->updated_at = sqlite3_column_int64(stmt, LEDGER_COL_UPDATED_AT);
    if (oom) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_ENOMEM, "store: out of memory");
    }
    if (store_ledger_state_parse(sq_col_text(stmt, LEDGER_COL_STATE),
                                 &l->state) != MLC_OK) {
        store_ledger_clear(l);
        return mlc_err_set(e, MLC_EIO, "store: ledger row has an unknown "
                           "state");
    }
    return MLC_OK;
}

int sq_ledger_get(struct store *st, const char *key,
                  struct store_ledger *out, struct mlc_err *e)
{
    struct sq_q q;
    int end, rc = sq_q_begin(&q, sq_of(st), SQ_LEDGER_GET, "ledger get", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    if (sq_q_step(&q) == SQLITE_ROW)
        rc = read_ledger(q.stmt, out, e);
    else if (q.rc == SQLITE_OK)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found",
                         key);
    end = sq_q_end(&q, e);
    if (end != MLC_OK) {
        store_ledger_clear(out);
        return end;
    }
    return rc;
}

/* The fence of store_fence: MLC_OK when no fence is set, or a RUNNING
 * job whose key is entity is leased to the fence's owner. */
static int ledger_fenced(struct sq_store *s, const char *entity, struct mlc_err *e)
{
    const char *owner = s->base.fence_owner;
    struct sq_q q;
    int64_t live = 0;
    int rc;

    if (owner == NULL)
        return MLC_OK;
    if ((rc = sq_q_begin(&q, s, SQ_JOB_FENCE, "ledger fence", e)) != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", entity);
    sq_q_text(&q, ":owner", owner);
    if (sq_q_step(&q) == SQLITE_ROW)
        live = sqlite3_column_int64(q.stmt, 0);
    if ((rc = sq_q_end(&q, e)) != MLC_OK)
        return rc;
    if (live == 0)
        return mlc_err_set(e, MLC_ESTATE, "store: lease lost: the job of %s is no longer "
                           "held by %s; the ledger was not written", entity, owner);
    return MLC_OK;
}

/* The fence for an existing row: its entity's job (a missing row passes:
 * the write itself reports it). */
static int ledger_fenced_key(struct sq_store *s, const char *key, struct mlc_err *e)
{
    struct sq_q q;
    char *entity = NULL;
    int rc;

    if (s->base.fence_owner == NULL)
        return MLC_OK;
    if ((rc = sq_q_begin(&q, s, SQ_LEDGER_ENTITY, "ledger fence", e)) != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    if (sq_q_step(&q) == SQLITE_ROW && (entity = strdup(sq_col_text(q.stmt, 0))) == NULL)
        q.rc = SQLITE_NOMEM;
    rc = sq_q_end(&q, e);
    if (rc == MLC_OK && entity != NULL)
        rc = ledger_fenced(s, entity, e);
    free(entity);
    return rc;
}

static int ledger_insert(struct sq_store *s, const char *key,
                         const char *kind, const char *entity,
                         const char *request, struct mlc_err *e)
{
    struct sq_q q;
    bool inserted;
    int rc = sq_q_begin(&q, s, SQ_LEDGER_INSERT, "ledger begin", e);

    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    sq_q_text(&q, ":kind", kind);
    sq_q_text(&q, ":entity", entity);
    sq_q_text(&q, ":request", request);
    sq_q_int(&q, ":now", sq_now(s));
    inserted = sq_q_step(&q) == SQLITE_DONE && sq_q_changes(&q) > 0;
    rc = sq_q_end(&q, e);
    if (rc == MLC_OK && !inserted)
        rc = mlc_err_set(e, MLC_EEXIST, "store: ledger key %s already "
                         "exists", key);
    return rc;
}

int sq_ledger_begin(struct store *st, const char *key,
                    const char *kind, const char *entity,
                    const char *request, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_fenced(s, entity, e);
    if (rc == MLC_OK)
        rc = ledger_insert(s, key, kind, entity, request, e);
    return sq_tx_leave(s, rc, e);
}

/* MLC_OK when key exists and is not POSTED: a document number, once
 * known, is never overwritten or forgotten. */
static int ledger_check_open(struct sq_store *s, const char *key,
                             struct mlc_err *e)
{
    struct sq_q q;
    enum store_ledger_state state = STORE_LEDGER_PENDING;
    bool found = false;
    int rc = ledger_fenced_key(s, key, e);

    if (rc == MLC_OK)
        rc = sq_q_begin(&q, s, SQ_LEDGER_STATE, "ledger update", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    if (sq_q_step(&q) == SQLITE_ROW) {
        found = true;
        store_ledger_state_parse(sq_col_text(q.stmt, 0), &state);
    }
    rc = sq_q_end(&q, e);
    if (rc == MLC_OK && !found)
        rc = mlc_err_set(e, MLC_ENOTFOUND, "store: ledger key %s not found",
                         key);
    if (rc == MLC_OK && state == STORE_LEDGER_POSTED)
        rc = mlc_err_set(e, MLC_ESTATE, "store: ledger key %s is already "
                         "posted", key);
    return rc;
}

/* Runs one key-bound ledger statement after ledger_check_open. */
static int ledger_update(struct sq_store *s, enum sq_id id, const char *key,
                         struct mlc_err *e)
{
    struct sq_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc == MLC_OK)
        rc = sq_q_begin(&q, s, id, "ledger update", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    if (id == SQ_LEDGER_UNKNOWN)
        sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_ledger_mark_unknown(struct store *st, const char *key,
                           struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, ledger_update(s, SQ_LEDGER_UNKNOWN, key, e), e);
}

int sq_ledger_forget(struct store *st, const char *key,
                     struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    return sq_tx_leave(s, ledger_update(s, SQ_LEDGER_DELETE, key, e), e);
}

static int ledger_posted_tx(struct sq_store *s, const char *key,
                            const char *doc_type, const char *doc_company,
                            int64_t doc_number, int64_t batch,
                            struct mlc_err *e)
{
    struct sq_q q;
    int rc = ledger_check_open(s, key, e);

    if (rc == MLC_OK)
        rc = sq_q_begin(&q, s, SQ_LEDGER_POSTED, "ledger mark posted", e);
    if (rc != MLC_OK)
        return rc;
    sq_q_text(&q, ":key", key);
    sq_q_text(&q, ":doc_type", doc_type);
    sq_q_text(&q, ":doc_company", doc_company);
    sq_q_int(&q, ":doc_number", doc_number);
    sq_q_int(&q, ":batch", batch);
    sq_q_int(&q, ":now", sq_now(s));
    sq_q_step(&q);
    return sq_q_end(&q, e);
}

int sq_ledger_mark_posted(struct store *st, const char *key,
                          const char *doc_type,
                          const char *doc_company, int64_t doc_number,
                          int64_t batch, struct mlc_err *e)
{
    struct sq_store *s = sq_of(st);
    int rc = sq_tx_enter(s, e);

    if (rc != MLC_OK)
        return rc;
    rc = ledger_posted_tx(s, key, doc_type, doc_company, doc_number, batch,
                          e);
    return sq_tx_leave(s, rc, e);
}

int sq_ledger_list(struct store *st, const char *entity,
                   int (*fn)(const struct store_ledger *l, void *ctx),
                   void *ctx, struct mlc_err *e)
{
    struct store_ledger l;
    struct sq_q q;
    bool stop = false;
    enum sq_id id = entity != NULL ? SQ_LEDGER_LIST_ENTITY : SQ_LEDGER_LIST;
    int end, rc = sq_q_begin(&q, sq_of(st), id, "ledger list", e);

    if (rc != MLC_OK)
        return rc;
    if (entity != NULL)
        sq_q_text(&q, ":entity", entity);
    while (rc == MLC_OK && !stop && sq_q_step(&q) == SQLITE_ROW) {
        memset(&l, 0, sizeof(l));
        rc = read_ledger(q.stmt, &l, e);
        if (rc == MLC_OK)
            stop = fn(&l, ctx) != 0;
        store_ledger_clear(&l);
    }
    end = sq_q_end(&q, e);
    return rc != MLC_OK ? rc : end;
}
